"""The supervised pool's limits on its own processes (issue 22): a worker's start has a deadline
(case 7), a pool never starts more workers than the machine has cores or its input has batches
(case 11), and a worker memory limit no worker can meet is refused before the run (case 14)."""

from __future__ import annotations

import contextlib
import json
import os
import signal
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner

from pipeline.cli import cli
from pipeline.core.config import MIN_WORKER_MEMORY
from pipeline.core.errors import ConfigError, WorkerError
from pipeline.execution import forkserver
from pipeline.execution.inputsize import COMPRESSED_FACTOR, SMALL_INPUT_BYTES, SMALL_INPUT_FILES, small_input
from pipeline.execution.pool import ProcessEngine
from pipeline.execution.resources import resident_bytes, usable_cores, worker_count
from pipeline.io.layout import OutputLayout
from stages.extract.extractor import Extract
from tests import fresh
from tests.execution.test_engines import batches, real_stages
from tests.hostile import StallsOnArrival, StallsWarmingUp, article


def parquet_bytes(out: Path) -> dict[str, bytes]:
    return {p.relative_to(out).as_posix(): p.read_bytes() for p in sorted(out.rglob("*.parquet"))}


def run_cli(*args: str) -> tuple[int, str]:
    result = CliRunner().invoke(cli, list(args))
    return result.exit_code, result.output


@pytest.fixture()
def engine() -> Iterator[ProcessEngine]:
    eng = ProcessEngine(1, timeout_s=60.0, start_timeout_s=2.0)
    yield eng
    eng.close()


@pytest.mark.parametrize(
    ("stage", "where"),
    [(StallsOnArrival(), "unpickling the stages"), (StallsWarmingUp(), "warming the stages up")],
    ids=["unpickling", "warm-up"],
)
def test_a_worker_that_stalls_while_it_starts_stops_the_run_at_the_deadline(
    engine: ProcessEngine, stage: Extract, where: str
) -> None:
    t0 = time.monotonic()
    with pytest.raises(WorkerError, match="did not start within 2s") as info:
        list(engine.map([stage], batches(2)))
    assert time.monotonic() - t0 < 30  # (it used to wait forever)
    assert info.value.exit_code == 5
    assert where in info.value.message and "run.worker_start_timeout_s" in info.value.message
    assert not any(w.process.is_alive() for w in engine._pool)


def test_a_stalled_forkserver_stops_the_run_at_the_deadline_and_the_next_pool_starts_a_new_one(
    engine: ProcessEngine,
) -> None:
    from multiprocessing import forkserver as mp_forkserver

    forkserver.start()
    pid = mp_forkserver._forkserver._forkserver_pid  # type: ignore[attr-defined]
    os.kill(pid, signal.SIGSTOP)
    try:
        with pytest.raises(WorkerError, match="forkserver, did not fork it"):
            list(engine.map(real_stages(), batches(1)))
    finally:
        with contextlib.suppress(OSError):
            os.kill(pid, signal.SIGCONT)
    fresh = ProcessEngine(1, timeout_s=60.0)
    try:
        assert sum(b.num_rows for b, _ in fresh.map(real_stages(), batches(2))) == 8
        assert mp_forkserver._forkserver._forkserver_pid != pid  # type: ignore[attr-defined]
    finally:
        fresh.close()


def test_a_start_deadline_no_worker_can_meet_exits_5_with_a_message(tmp_path: Path) -> None:
    (tmp_path / "a.txt").write_text(article("a"), encoding="utf-8")
    config = tmp_path / "c.toml"
    config.write_text("[run]\nworker_start_timeout_s = 0.001\n", encoding="utf-8")
    out = tmp_path / "out"
    code, output = run_cli(
        "run", str(tmp_path / "a.txt"), "-o", str(out), "--workers", "1", "--config", str(config)
    )
    assert code == 5, output
    assert "did not start within 0.001s (run.worker_start_timeout_s)" in output
    assert "Traceback" not in output


@pytest.fixture()
def spawns(monkeypatch: pytest.MonkeyPatch) -> list[int]:
    """One entry per worker process the pool starts."""
    started: list[int] = []
    spawn = ProcessEngine._spawn

    def counting(self: ProcessEngine) -> Any:
        started.append(1)
        return spawn(self)

    monkeypatch.setattr(ProcessEngine, "_spawn", counting)
    return started


def test_a_pool_never_starts_more_workers_than_cores_or_queued_batches() -> None:
    engine = ProcessEngine(1000, timeout_s=60.0)
    try:
        assert engine.workers == usable_cores()
        assert engine.note is not None and "1000 workers asked for" in engine.note
        assert sum(b.num_rows for b, _ in engine.map(real_stages(), batches(1))) == 4
        assert len(engine._pool) == 1  # one batch: one worker, whatever the cores
    finally:
        engine.close()
    assert worker_count(0) == (usable_cores(), None)
    assert worker_count(1) == (1, None)


def test_workers_1000_on_12_records_is_capped_with_a_note(
    demo_dump: Path, tmp_path: Path, spawns: list[int]
) -> None:
    code, output = run_cli("run", str(demo_dump), "-o", str(tmp_path / "out"), "--workers", "1000")
    assert code == 0, output
    assert f"note: 1000 workers asked for, {usable_cores()} usable core(s)" in output
    assert 1 <= len(spawns) <= usable_cores()
    assert json.loads(OutputLayout(tmp_path / "out").manifest.read_text())["counts"]["n_in"] == 12


def test_a_small_input_runs_in_process_unless_workers_are_asked_for(
    demo_dump: Path, tmp_path: Path, spawns: list[int]
) -> None:
    assert small_input([str(demo_dump)])
    code, auto = run_cli("run", str(demo_dump), "-o", str(tmp_path / "auto"))
    assert code == 0, auto
    assert spawns == []  # no worker process for 12 records (17 KB)
    code, pooled = run_cli("run", str(demo_dump), "-o", str(tmp_path / "pooled"), "--workers", "1")
    assert code == 0, pooled
    assert spawns == [1]
    auto_parts, pooled_parts = (parquet_bytes(tmp_path / name) for name in ("auto", "pooled"))
    assert auto_parts and auto_parts == pooled_parts  # the same bytes, in this process or a worker


def test_what_counts_as_a_small_input(tmp_path: Path) -> None:
    (tmp_path / "a.txt").write_bytes(b"x" * 1000)
    assert small_input([str(tmp_path)])
    assert small_input([str(tmp_path / "*.txt")])
    assert not small_input(["-"])  # stdin: unknown size
    assert not small_input([str(tmp_path / "missing")])
    (tmp_path / "big.jsonl").write_bytes(b"x" * (SMALL_INPUT_BYTES + 1))
    assert not small_input([str(tmp_path)])
    many = tmp_path / "many"
    many.mkdir()
    for i in range(SMALL_INPUT_FILES + 1):
        (many / f"{i}.txt").write_bytes(b"x")
    assert not small_input([str(many)])
    (tmp_path / "c.jsonl.gz").write_bytes(b"x" * (SMALL_INPUT_BYTES // COMPRESSED_FACTOR + 1))
    assert not small_input([str(tmp_path / "c.jsonl.gz")])


#: Spies on the forkserver's start: which of the heavy libraries the command had imported by then.
_SPY_ON_START = """
from pipeline.execution import forkserver
seen = []
start = forkserver.start
def spy():
    seen.append(sorted(m for m in ("numpy", "pyarrow", "lxml", "stages") if m in sys.modules))
    start()
forkserver.start = spy
"""


def test_the_run_command_starts_the_forkserver_before_it_imports_the_heavy_libraries(
    demo_dump: Path, tmp_path: Path
) -> None:
    # the forkserver's ~1 s of imports and warm-up overlap the command's own (numpy, pyarrow,
    # the stages: ~0.25 s) only when it starts first
    args = ["run", str(demo_dump), "-o", str(tmp_path / "out"), "--workers", "1", "--no-progress"]
    got = fresh.command(args, before=_SPY_ON_START, report="{'first_start': seen[0] if seen else None}")
    assert got == {"code": 0, "first_start": []}
    assert json.loads(OutputLayout(tmp_path / "out").manifest.read_text())["counts"]["n_in"] == 12


@pytest.mark.parametrize("limit", ["1", "100MB"])
def test_a_worker_memory_limit_no_worker_can_meet_is_refused_before_anything_is_written(
    demo_dump: Path, tmp_path: Path, limit: str
) -> None:
    out = tmp_path / "out"
    code, output = run_cli(
        "run", str(demo_dump), "-o", str(out), "--workers", "1", "--max-worker-memory", limit
    )
    assert code == 2, output
    assert "run.max_worker_memory must be in [256 MiB, 1 PiB] or 0" in output
    assert not out.exists()
    with pytest.raises(ConfigError, match="memory_limit must be in \\[256 MiB, 1 PiB\\] or 0"):
        ProcessEngine(1, memory_limit=1)


def test_the_smallest_worker_memory_limit_leaves_room_for_a_started_worker() -> None:
    """The documented minimum is above what a worker holds once it has started (measured)."""
    engine = ProcessEngine(1, timeout_s=60.0, memory_limit=0)
    try:
        assert sum(b.num_rows for b, _ in engine.map(real_stages(), batches(2))) == 8
        pid = engine._pool[0].process.pid
        assert pid is not None
        rss = resident_bytes(pid)
    finally:
        engine.close()
    if rss is None:
        pytest.skip("no /proc here")
    assert rss < MIN_WORKER_MEMORY * 0.8, rss >> 20
