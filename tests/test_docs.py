"""The README's opening example and the package docstring run as written; its config example loads."""

from __future__ import annotations

import doctest
import json
import re
import tomllib
from pathlib import Path

import pytest
from click.testing import CliRunner

import pipeline
from pipeline.cli import cli
from pipeline.core.config import Config
from pipeline.io.layout import OutputLayout
from tests.conftest import REPO


def test_readme_opening_example_runs() -> None:
    readme = (REPO / "README.md").read_text(encoding="utf-8")
    block = re.search(r"```python\n(>>> .*?)```", readme, re.S)
    assert block is not None
    parser = doctest.DocTestParser()
    test = parser.get_doctest(block.group(1), {}, "README", "README.md", 0)
    result = doctest.DocTestRunner().run(test)
    assert result.attempted >= 2 and result.failed == 0


def test_package_docstring_example_runs() -> None:
    result = doctest.testmod(pipeline)
    assert result.attempted >= 2 and result.failed == 0


def test_readme_config_example_is_a_valid_config() -> None:
    readme = (REPO / "README.md").read_text(encoding="utf-8")
    section = readme[readme.index("## Configuration") :]
    block = re.search(r"```toml\n(.*?)```", section, re.S)
    assert block is not None
    cfg = Config.from_dict(tomllib.loads(block.group(1)))
    assert cfg.extract.fast and cfg.language.backend == "langdetect" and cfg.run.batch_chars == 2_000_000


def test_readme_puts_install_and_reading_the_output_right_after_the_quick_start() -> None:
    readme = (REPO / "README.md").read_text(encoding="utf-8")
    heads = [line for line in readme.splitlines() if line.startswith("## ")]
    assert heads[:4] == ["## Quick start", "## Install", "## Read the output", "## Using it"]
    install = readme[readme.index("## Install") : readme.index("## Read the output")]
    for line in ("pip install .", "pip install '.[ray]'", "pip install '.[airflow]'"):
        assert line in install
    bench = (REPO / "bench" / "README.md").read_text(encoding="utf-8")
    for history in ("## Latest measured", "## What made cleanwire faster"):
        assert history in bench and history not in readme


def test_readme_read_the_output_lines_run_on_an_output(tmp_path: Path) -> None:
    """Each reader line of "Read the output" (Spark aside: it needs a session) gets the kept
    records of a real output; the rejects line reads the rejects."""
    duckdb = pytest.importorskip("duckdb")
    pandas = pytest.importorskip("pandas")
    polars = pytest.importorskip("polars")
    import pyarrow.dataset
    import pyarrow.parquet

    out = tmp_path / "out"
    res = CliRunner().invoke(cli, ["run", str(REPO / "fixtures" / "dump"), "-o", str(out), "-w", "1"])
    assert res.exit_code == 0, res.output
    manifest = json.loads(OutputLayout(out).manifest.read_text())
    readme = (REPO / "README.md").read_text(encoding="utf-8")
    section = readme[readme.index("## Read the output") : readme.index("## Using it")]
    block = re.search(r"```python\n(.*?)```", section, re.S)
    assert block is not None
    names = {"pandas": pandas, "pyarrow": pyarrow, "duckdb": duckdb, "polars": polars}
    lines = [line.split("  #")[0].strip() for line in block.group(1).splitlines() if line.strip()]
    assert [line.split(".")[0] for line in lines] == ["pandas", "pyarrow", "duckdb", "polars", "spark"]
    for line in lines[:-1]:
        got = eval(line.replace("out/", f"{out}/"), names)
        n = got.fetchall() if line.startswith("duckdb") else None
        rows = sum(c for _, c in n) if n is not None else len(got)
        assert rows == manifest["counts"]["n_kept"], line
    rejects = pandas.read_json(OutputLayout(out).left("rejects"), lines=True, dtype=False)
    assert "pandas.read_json(path, lines=True, dtype=False)" in section
    assert len(rejects) == manifest["counts"]["n_rejected"]
