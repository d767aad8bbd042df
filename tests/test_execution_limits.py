"""The supervised pool's limits on its own processes (issue 22): a worker's start has a deadline
(case 7), a pool never starts more workers than the machine has cores or its input has batches
(case 11), and a worker memory limit no worker can meet is refused before the run (case 14)."""

from __future__ import annotations

import contextlib
import os
import signal
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from click.testing import CliRunner

from pipeline.cli import cli
from pipeline.core.errors import WorkerError
from pipeline.execution import forkserver
from pipeline.execution.pool import ProcessEngine
from stages.extract.extractor import Extract
from tests.hostile import StallsOnArrival, StallsWarmingUp, article
from tests.test_engines import batches, real_stages


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
