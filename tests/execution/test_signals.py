"""SIGINT and SIGTERM at any moment of ``cleanwire run`` - its imports, its config, the start of
its workers, not only the run itself - end it with exit 130 and the message, never click's
``Aborted!`` (exit 1), a ``KeyboardInterrupt`` traceback or a silent death by SIGTERM (issue 22,
case 12). Real subprocesses, real signals."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import threading
import time
import weakref
from collections.abc import Iterable, Iterator, Sequence
from pathlib import Path

import pyarrow as pa
import pytest

from pipeline.core import signals
from pipeline.core.stage import Stage
from pipeline.execution.chain import Result
from tests.conftest import FIXTURES, REPO


def _as_from_a_terminal() -> None:
    """In the child, before it runs Python: SIGINT and SIGTERM at their defaults, as a shell
    starts a command in the foreground. A suite started as a background job or under ``nohup``
    hands SIGINT down ignored, and Python (and so cleanwire) keeps an inherited ignore."""
    for sig in signals.STOP_SIGNALS:
        signal.signal(sig, signal.SIG_DFL)


@pytest.fixture(autouse=True)
def _sigint_as_from_a_terminal() -> Iterator[None]:
    """This process's SIGINT as Python sets it up when it is not inherited ignored (the
    in-process tests send it to themselves)."""
    before = signal.getsignal(signal.SIGINT)
    if before is signal.SIG_IGN:
        signal.signal(signal.SIGINT, signal.default_int_handler)
    yield
    signal.signal(signal.SIGINT, before)


def start(*args: str, new_session: bool = False) -> subprocess.Popen[bytes]:
    return subprocess.Popen(
        [sys.executable, "-m", "pipeline", "run", *args, "--no-progress"],
        cwd=REPO,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        start_new_session=new_session,
        preexec_fn=_as_from_a_terminal,
    )


def finish(proc: subprocess.Popen[bytes]) -> tuple[int, str]:
    out, err = proc.communicate(timeout=120)
    return proc.returncode, (out + err).decode("utf-8", "replace")


def catches_sigterm(pid: int) -> bool:
    """Whether process ``pid`` has a handler for SIGTERM (``SigCgt`` in ``/proc``): Python
    installs none of its own, so this is cleanwire's first line having run."""
    with open(f"/proc/{pid}/status", encoding="ascii") as fh:
        for line in fh:
            if line.startswith("SigCgt:"):
                return bool(int(line.split()[1], 16) >> (signal.SIGTERM - 1) & 1)
    return False


def wait_for_handlers(proc: subprocess.Popen[bytes]) -> None:
    """Until ``proc`` runs cleanwire's code. Before that the interpreter is still starting (its
    ``site`` imports, ~40-100 ms): what a signal does then is Python's, not cleanwire's."""
    deadline = time.monotonic() + 30
    while not catches_sigterm(proc.pid):
        assert proc.poll() is None and time.monotonic() < deadline, finish(proc)[1]
        time.sleep(0.002)


def assert_stopped(code: int, output: str, sig: signal.Signals) -> None:
    assert code == 130, output
    assert f"stopped by {sig.name}" in output and "rerun the same command" in output, output
    assert "Traceback" not in output and "KeyboardInterrupt" not in output, output
    assert "Aborted" not in output, output


needs_proc = pytest.mark.skipif(not Path("/proc/self/status").exists(), reason="reads /proc")


@pytest.fixture()
def long_dump(tmp_path: Path) -> Path:
    """A dump whose run lasts seconds, not the fixture dump's 0.3 s: a signal sent at a fixed delay
    must find the run still going, on a fast machine too (CI once saw the run end before it)."""
    texts = [p.read_text(encoding="utf-8") for p in sorted((FIXTURES / "dump" / "site").glob("*.txt"))]
    path = tmp_path / "dump" / "many.jsonl"
    path.parent.mkdir()
    with path.open("w", encoding="utf-8") as fh:
        for i in range(3000):
            fh.write(json.dumps({"id": f"r{i}", "text": f"{texts[i % len(texts)]}\n\nItem {i}."}) + "\n")
    return path.parent


def signal_while_running(proc: subprocess.Popen[bytes], sig: signal.Signals) -> None:
    assert proc.poll() is None, "the run ended before the signal: " + finish(proc)[1]
    proc.send_signal(sig)


@needs_proc
@pytest.mark.parametrize("sig", [signal.SIGINT, signal.SIGTERM], ids=["SIGINT", "SIGTERM"])
@pytest.mark.parametrize("delay", [0.05, 0.2, 0.5])
def test_a_signal_in_the_first_half_second_exits_130_with_the_message(
    tmp_path: Path, long_dump: Path, sig: signal.Signals, delay: float
) -> None:
    proc = start(str(long_dump), "-o", str(tmp_path / "out"))
    time.sleep(delay)
    wait_for_handlers(proc)
    signal_while_running(proc, sig)
    assert_stopped(*finish(proc), sig)


@pytest.fixture()
def blocking_config(tmp_path: Path) -> Iterator[Path]:
    """A config "file" that is a named pipe: reading it blocks until it is written to."""
    fifo = tmp_path / "config.toml"
    os.mkfifo(fifo)
    yield fifo


def hold_reader(fifo: Path, proc: subprocess.Popen[bytes]) -> int:
    """Wait until ``proc`` has opened ``fifo`` to read it; keep it blocked in the read (a writer
    that writes nothing). Returns the writer's descriptor."""
    deadline = time.monotonic() + 30
    while True:
        try:
            return os.open(fifo, os.O_WRONLY | os.O_NONBLOCK)  # ENXIO until a reader opened it
        except OSError:
            assert proc.poll() is None and time.monotonic() < deadline, finish(proc)[1]
            time.sleep(0.005)


@pytest.mark.skipif(not hasattr(os, "mkfifo"), reason="needs named pipes")
@pytest.mark.parametrize("sig", [signal.SIGINT, signal.SIGTERM], ids=["SIGINT", "SIGTERM"])
def test_a_signal_while_the_command_reads_its_config_exits_130_with_the_message(
    tmp_path: Path, blocking_config: Path, sig: signal.Signals
) -> None:
    """A fixed moment before the run starts: the command has imported everything and is reading
    its config file (until now: ``Aborted!`` exit 1 for SIGINT, a silent death for SIGTERM)."""
    proc = start(str(FIXTURES / "dump"), "-o", str(tmp_path / "out"), "--config", str(blocking_config))
    writer = hold_reader(blocking_config, proc)
    try:
        time.sleep(0.05)
        proc.send_signal(sig)
        assert_stopped(*finish(proc), sig)
    finally:
        os.close(writer)
    assert not (tmp_path / "out").exists()


def children(pid: int) -> list[str]:
    with open(f"/proc/{pid}/task/{pid}/children", encoding="ascii") as fh:
        return fh.read().split()


@needs_proc
@pytest.mark.parametrize("delay", [0.05, 0.3])
def test_ctrl_c_to_the_whole_process_group_prints_no_traceback(
    tmp_path: Path, long_dump: Path, delay: float
) -> None:
    """Ctrl-C on a terminal reaches every process of the group: the workers' forkserver too,
    which is still starting and importing the stages' libraries for a second after it appears."""
    proc = start(str(long_dump), "-o", str(tmp_path / "out"), "--workers", "2", new_session=True)
    deadline = time.monotonic() + 60
    while not children(proc.pid):  # the forkserver (and multiprocessing's resource tracker)
        assert proc.poll() is None and time.monotonic() < deadline, finish(proc)[1]
        time.sleep(0.002)
    time.sleep(delay)
    assert proc.poll() is None, "the run ended before the signal: " + finish(proc)[1]
    os.killpg(proc.pid, signal.SIGINT)
    assert_stopped(*finish(proc), signal.SIGINT)


def test_the_handlers_respect_an_inherited_ignore_and_come_back_after_a_block() -> None:
    assert threading.current_thread() is threading.main_thread()
    before = {sig: signal.getsignal(sig) for sig in signals.STOP_SIGNALS}
    try:
        signal.signal(signal.SIGTERM, signal.SIG_IGN)  # as `nohup` or a background job leaves it
        with signals.stop_on_signals():
            assert signal.getsignal(signal.SIGTERM) is signal.SIG_IGN
            assert signal.getsignal(signal.SIGINT) is not before[signal.SIGINT]
            with pytest.raises(signals.Stop) as stopped:
                os.kill(os.getpid(), signal.SIGINT)
                time.sleep(1)
            assert stopped.value.name == "SIGINT"
        assert signal.getsignal(signal.SIGINT) is before[signal.SIGINT]
    finally:
        for sig, handler in before.items():
            signal.signal(sig, handler)


class _Box:
    """An object whose weakref callback is where a signal's Stop lands (as when an import frees
    its module lock): Python cannot propagate an exception from there."""


def _lose_a_stop(signum: int) -> None:
    def callback(_: object) -> None:
        raise signals.Stop(signum)

    box = _Box()
    ref = weakref.ref(box, callback)
    del box  # the callback runs now; its exception goes to sys.unraisablehook
    assert ref() is None


def test_a_stop_python_swallows_is_kept_and_raised_again(capsys: pytest.CaptureFixture[str]) -> None:
    before = {sig: signal.getsignal(sig) for sig in signals.STOP_SIGNALS}
    try:
        # raised by the block's own check on its way out
        with pytest.raises(signals.Stop) as stopped, signals.stop_on_signals():
            _lose_a_stop(signal.SIGTERM)
            assert "Exception ignored" not in capsys.readouterr().err  # not printed, kept
        assert stopped.value.name == "SIGTERM"
        signals.check()  # raised once: nothing is left
    finally:
        for sig, handler in before.items():
            signal.signal(sig, handler)


def test_other_unraisable_exceptions_still_reach_the_previous_hook() -> None:
    seen: list[BaseException | None] = []
    previous = sys.unraisablehook
    sys.unraisablehook = lambda u: seen.append(u.exc_value)
    before = {sig: signal.getsignal(sig) for sig in signals.STOP_SIGNALS}
    try:
        signals.install()

        def callback(_: object) -> None:
            raise ValueError("not a stop")

        box = _Box()
        ref = weakref.ref(box, callback)
        del box
        assert ref() is None and [type(e) for e in seen] == [ValueError]
    finally:
        sys.unraisablehook = previous
        for sig, handler in before.items():
            signal.signal(sig, handler)


def test_a_run_stops_at_its_next_batch_when_a_stop_was_swallowed(tmp_path: Path) -> None:
    """The runner checks between batches: a run whose signal Python swallowed (here while its
    first batch was read) still ends with Interrupted, exit 130."""
    from pipeline.api import Pipeline
    from pipeline.core.config import Config
    from pipeline.core.errors import Interrupted
    from pipeline.execution.engines import SerialEngine
    from pipeline.io.readers import Source
    from pipeline.io.sinks import ParquetSink

    class LosingEngine(SerialEngine):
        def map(self, stages: Sequence[Stage], batches: Iterable[pa.RecordBatch]) -> Iterator[Result]:
            _lose_a_stop(signal.SIGINT)  # as if while the first batch was read
            return super().map(stages, batches)

    cfg = Config()
    pipe = Pipeline.from_config(cfg)
    source = Source([FIXTURES / "dump"], cfg.reader)
    engine = LosingEngine()
    with pytest.raises(Interrupted, match="stopped by SIGINT") as stopped:
        pipe.run(source, ParquetSink(tmp_path / "out", cfg), engine=engine)
    assert stopped.value.exit_code == 130
