# Two commands on a fresh clone: `make demo` and `make test`.
PYTHON ?= python3.11
VENV   ?= .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed

.PHONY: demo test lint typecheck bench clean

$(BIN)/python:
	@command -v $(PYTHON) >/dev/null 2>&1 || { echo "need $(PYTHON) on PATH (or run: make PYTHON=python3 ...)"; exit 2; }
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip

# `make demo` needs the package alone; the test tools (pandas, Polars and PySpark among them, for
# the readers of an output directory: ~0.8 GB) come with the first target that needs them.
$(STAMP): $(BIN)/python pyproject.toml
	$(BIN)/python -m pip install --quiet -e .
	@touch $(STAMP)

TESTS := $(VENV)/.installed-test
$(TESTS): $(STAMP) pyproject.toml
	$(BIN)/python -m pip install --quiet -e '.[test]'
	@touch $(TESTS)

# The airflow and ray extras (Airflow 3, Ray Data) resolve together with the core into the same
# venv; only the tests need them (~600 MB, ~3 min cold), so `make demo` does not install them.
EXTRAS := $(VENV)/.installed-extras
$(EXTRAS): $(TESTS)
	$(BIN)/python -m pip install --quiet -e '.[test,airflow,ray]'
	@touch $(EXTRAS)

# pip compiles the bytecode of what it installs, but an editable install leaves our own sources
# to the interpreter, and where PYTHONDONTWRITEBYTECODE is set every command (and every worker
# pool's forkserver) compiled ~100 modules again: ~0.2 s each. Only changed files are compiled.
# (`python -m bench` compiles them itself before it times anything: bench.compile_sources.)
BYTECODE = $(BIN)/python -m compileall -q -j 0 pipeline stages

demo: $(STAMP)
	@$(BYTECODE)
	rm -rf out/demo
	$(BIN)/cleanwire run fixtures/dump -o out/demo

lint: $(TESTS)
	$(BIN)/ruff check pipeline stages tests bench examples
	$(BIN)/ruff format --check pipeline stages tests bench examples

typecheck: $(TESTS)
	$(BIN)/mypy

# Extras first, so mypy checks tests and examples against the same installed packages every time.
test: $(EXTRAS) lint typecheck
	@$(BYTECODE)
	$(BIN)/python -m pytest -q

bench: $(STAMP)
	$(BIN)/python -m bench --quick

clean:
	rm -rf $(VENV) out .pytest_cache .mypy_cache .ruff_cache
