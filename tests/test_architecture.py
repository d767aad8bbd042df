"""The code's layout, checked: no import cycles, and every import goes down the layers.

Every ``import`` of a project module counts, wherever it stands (at the top of a module, inside
a function, under ``if TYPE_CHECKING:``), so no import can hide a cycle or a layer inversion.
"""

from __future__ import annotations

import ast
from collections.abc import Iterator
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
PACKAGES = ("pipeline", "stages")

#: Layers, lowest first, and what each may import besides itself.
ALLOWED: dict[str, set[str]] = {
    "core": set(),
    "stages": {"core"},
    "io": {"core"},
    "execution": {"core", "io", "stages"},
    "api": {"core", "io", "stages", "execution"},
    "reporting": {"core", "io", "stages", "execution", "api"},
    "evaluation": {"core", "io", "stages", "execution", "api", "root"},
    # fits the boilerplate model: runs the stages before boilerplate, scores with the evaluation metrics
    "training": {"core", "io", "stages", "execution", "api", "evaluation", "root"},
    "integrations": {"core", "io", "stages", "execution", "api"},
    "cli": {"core", "io", "stages", "execution", "api", "reporting", "evaluation", "training", "root"},
    # the package's own __init__/__main__ and the documented alias pipeline.airflow
    "root": {"core", "api", "cli", "integrations"},
}


def layer(module: str) -> str:
    parts = module.split(".")
    if parts[0] == "stages":
        return "stages"
    if len(parts) == 1 or parts[1] in ("__main__", "airflow"):
        return "root"
    return "api" if parts[1] == "api" else parts[1]


def modules() -> dict[str, Path]:
    found: dict[str, Path] = {}
    for package in PACKAGES:
        for path in (ROOT / package).rglob("*.py"):
            parts = path.relative_to(ROOT).with_suffix("").parts
            name = ".".join(parts[:-1] if parts[-1] == "__init__" else parts)
            found[name] = path
    return found


MODULES = modules()


def _resolve(name: str) -> str | None:
    """The project module ``name`` refers to (a name inside a module refers to that module)."""
    while name and name not in MODULES:
        name = name.rpartition(".")[0]
    return name or None


def imports_of(module: str) -> Iterator[tuple[str, int]]:
    """``(imported project module, line)`` for every import statement of ``module``."""
    path = MODULES[module]
    is_package = path.name == "__init__.py"
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            targets = [a.name for a in node.names]
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                here = module.split(".") if is_package else module.split(".")[:-1]
                base = ".".join(here[: len(here) - node.level + 1] + ([base] if base else []))
            targets = [f"{base}.{a.name}" for a in node.names]
        else:
            continue
        for target in targets:
            resolved = _resolve(target)
            if resolved is not None and resolved != module:
                yield resolved, node.lineno


GRAPH = {m: sorted({t for t, _ in imports_of(m)}) for m in MODULES}


def test_the_project_modules_were_found() -> None:
    assert {"pipeline.core.config", "pipeline.api", "stages.registry", "pipeline.cli.run"} <= set(MODULES)


def test_no_import_cycles() -> None:
    # A package's __init__ re-exporting its own modules is how packages work, not a cycle.
    def edges(m: str) -> list[str]:
        return [t for t in GRAPH[m] if not (MODULES[t].name == "__init__.py" and m.startswith(t + "."))]

    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    cycles: list[list[str]] = []

    def visit(v: str) -> None:  # Tarjan's strongly connected components
        index[v] = low[v] = len(index)
        stack.append(v)
        on_stack.add(v)
        for w in edges(v):
            if w not in index:
                visit(w)
                low[v] = min(low[v], low[w])
            elif w in on_stack:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            component = []
            while True:
                w = stack.pop()
                on_stack.discard(w)
                component.append(w)
                if w == v:
                    break
            if len(component) > 1:
                cycles.append(sorted(component))

    for m in sorted(GRAPH):
        if m not in index:
            visit(m)
    assert cycles == []


@pytest.mark.parametrize("module", sorted(MODULES))
def test_imports_go_down_the_layers(module: str) -> None:
    own = layer(module)
    wrong = [
        f"{module}:{line} imports {target} ({layer(target)})"
        for target, line in imports_of(module)
        if layer(target) != own and layer(target) not in ALLOWED[own]
    ]
    assert wrong == []


#: The modules that may import project modules inside functions, and why: the Airflow adapters
#: load the stages in the task rather than when a DAG file imports them; ``cleanwire run`` starts
#: the worker pool's forkserver before numpy, pyarrow and the stages load (its imports then overlap
#: the command's), so the command and the config loader it calls first import them when called.
DEFERRED_IMPORTS = ("pipeline.integrations.airflow", "pipeline.cli.run", "pipeline.cli.options")


def test_only_a_few_modules_import_project_modules_inside_functions() -> None:
    """Imports inside functions are how cycles get hidden; the exceptions are
    :data:`DEFERRED_IMPORTS`, each for its start-up."""
    inside: list[str] = []
    for module, path in MODULES.items():
        tree = ast.parse(path.read_text(encoding="utf-8"))
        for fn in ast.walk(tree):
            if not isinstance(fn, ast.FunctionDef | ast.AsyncFunctionDef):
                continue
            for node in ast.walk(fn):
                if isinstance(node, ast.Import | ast.ImportFrom):
                    names = (
                        [node.module or ""]
                        if isinstance(node, ast.ImportFrom)
                        else [a.name for a in node.names]
                    )
                    if any(n.split(".")[0] in PACKAGES for n in names):
                        inside.append(f"{module}:{node.lineno}")
    assert all(entry.split(":")[0] in DEFERRED_IMPORTS for entry in inside), inside


def test_every_subpackage_says_what_lives_there_and_what_it_may_import() -> None:
    for name, path in MODULES.items():
        if path.name == "__init__.py" and name.count(".") == 1:
            doc = ast.get_docstring(ast.parse(path.read_text(encoding="utf-8"))) or ""
            assert "import" in doc, f"{name}/__init__.py: say what it may import"
