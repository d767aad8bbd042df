"""Shared fixtures. Paths to shared data resolve relative to the repository, and tests that need
them skip cleanly when they are absent."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parent.parent
FIXTURES = REPO / "fixtures"
SHARED = REPO.parent / "shared"
SEED = SHARED / "seeds" / "000_54a506a86ad83a73.txt"
EVAL = SHARED / "eval"


@pytest.fixture(scope="session")
def seed_text() -> str:
    if not SEED.exists():
        pytest.skip("the product owner's seed (../shared/seeds) is not present")
    return SEED.read_text(encoding="utf-8")


@pytest.fixture(scope="session")
def eval_dir() -> Path:
    if not EVAL.is_dir():
        pytest.skip("../shared/eval is not present")
    return EVAL


@pytest.fixture()
def demo_dump() -> Path:
    return FIXTURES / "dump"


@pytest.fixture(scope="module")
def local_ray() -> Iterator[None]:
    """A local Ray of 2 CPUs for the tests of one module, shut down after them. PYTHONPATH: Ray
    workers unpickle the test-only stages of tests/hostile.py."""
    ray = pytest.importorskip("ray", reason="needs the ray extra: pip install 'cleanwire[ray]'")
    ray.init(
        num_cpus=2,
        include_dashboard=False,
        log_to_driver=False,
        logging_level="warning",
        runtime_env={"env_vars": {"PYTHONPATH": str(REPO)}},
    )
    yield
    ray.shutdown()
