"""skip_pandas_probe: cleanwire's own processes convert to Arrow without importing pandas.

Each case runs in a fresh interpreter: whether pandas has been imported is a fact of the whole
process, and this test process may have imported it already.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from tests import fresh
from tests.conftest import FIXTURES

pytest.importorskip("pandas")  # without pandas there is no import to avoid

PROBE = """
import json, sys
import pyarrow as pa
from pipeline.core.pandas_probe import skip_pandas_probe
from pipeline.core.record import Doc, docs_to_batch
ran = skip_pandas_probe()
batch = docs_to_batch([Doc(id="a", source="s", raw="Some text.")])  # what workers and readers do
after_batch = "pandas" in sys.modules
frame = pa.table({"n": pa.array([1, 2], pa.int64())}).to_pandas()  # asked for pandas: it comes
print(json.dumps({"ran": ran, "after_batch": after_batch, "rows": len(frame), "again": skip_pandas_probe()}))
"""


def _last_json(args: list[str]) -> dict[str, object]:
    out = subprocess.run([sys.executable, "-c", *args], capture_output=True, text=True, check=True)
    return dict(json.loads(out.stdout.strip().splitlines()[-1]))


def test_the_probe_records_no_pandas_and_explicit_use_still_works() -> None:
    got = _last_json([PROBE])
    assert got == {"ran": True, "after_batch": False, "rows": 2, "again": False}


def test_the_run_command_never_imports_pandas(tmp_path: Path) -> None:
    # a mixed dump (HTML, text, JSONL, CSV, ...) cleaned in the command's own process
    args = ["run", str(FIXTURES / "dump"), "-o", str(tmp_path / "out"), "--no-progress"]
    got = fresh.command(args, report="{'pandas': 'pandas' in sys.modules}")
    assert got == {"code": 0, "pandas": False}
    assert list((tmp_path / "out").glob("part-*.parquet"))


def test_the_forkserver_preload_never_imports_pandas() -> None:
    # what every pool worker forks from: the stages imported and warmed up, records converted
    preload = (
        "import json, sys, pipeline.execution.preload; print(json.dumps({'pandas': 'pandas' in sys.modules}))"
    )
    got = _last_json([preload])
    assert got == {"pandas": False}
