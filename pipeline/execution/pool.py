"""The supervised pool: :class:`ProcessEngine` runs the stages in worker processes
(``--workers N``, also for N=1) and keeps a bad record from costing more than itself.

Each worker (:mod:`pipeline.execution.worker`) holds its own copy of the stages (sent once, at
start), receives whole Arrow batches and sends back Arrow batches without the raw input, which
the supervisor still holds and puts back (:func:`~pipeline.execution.jobs.with_raw`). Workers
fork from a forkserver that has imported the stages' libraries and warmed them up
(:mod:`pipeline.execution.preload`), started before the pool needs it
(:mod:`pipeline.execution.forkserver`) so that its work overlaps the caller's imports and first
reads.

A worker takes no batch before it has started: it says so (:data:`~pipeline.execution.worker.READY`)
once it has unpickled the stages and warmed them up. Its start (from the request to that word,
the forkserver's first imports included) has a deadline, ``start_timeout_s``
(``run.worker_start_timeout_s``): a worker, or a forkserver, that stalls there stops the run with
a :class:`~pipeline.core.errors.WorkerError` (exit 5) instead of hanging it. Workers start as
batches need them, never more than the machine's usable cores (:func:`worker_count`).

While it works a worker publishes a heartbeat (:mod:`pipeline.execution.heartbeat`: record
index, stage index, start time) in shared memory. The supervisor kills a worker whose current
record has run longer than the timeout, or notices one that died (segfault, out-of-memory kill,
``os._exit``); either way *that record* is rejected (``timeout`` / ``worker_crash``, with the
stage it was in), a replacement worker is started and the rest of the batch is resubmitted. A
worker over its memory limit (:mod:`pipeline.execution.resources`) is killed the same way
(``memory_limit``). A bad record costs one record, never the run. Results come back in input
order, so output does not depend on the number of workers.
"""

from __future__ import annotations

import contextlib
import multiprocessing as mp
import pickle
import signal
import threading
import time
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from multiprocessing.connection import Connection, wait
from multiprocessing.process import BaseProcess
from typing import Any

import pyarrow as pa

from pipeline.core.config import RANGES
from pipeline.core.errors import WorkerError
from pipeline.core.stage import Stage
from pipeline.execution import forkserver
from pipeline.execution.chain import Result
from pipeline.execution.heartbeat import STARTING, Heartbeat
from pipeline.execution.jobs import InFlight, Job
from pipeline.execution.resources import auto_memory_limit, resident_bytes, worker_count
from pipeline.execution.worker import READY, send_job, worker_main

TIMEOUT = "timeout"
WORKER_CRASH = "worker_crash"
MEMORY_LIMIT = "memory_limit"
#: How often a busy worker's resident memory is read when there is a limit (seconds).
MEMORY_POLL_S = 0.5
#: Tries a job gets again after its worker died outside any record.
MAX_BLIND_RETRIES = 2
#: How long a worker may take to start (from the request to its word that it is ready: the
#: forkserver's imports, unpickling the stages, the warm-up), unless the caller says otherwise.
START_TIMEOUT_S = 60.0
#: Consecutive worker deaths outside any record after which the pool gives up (a broken setup).
MAX_BLIND_STREAK = 5

#: What the heartbeat said: ``(record, stage, start)``.
Snapshot = tuple[int, int, float]


@dataclass
class _Worker:
    process: BaseProcess
    conn: Connection
    beat: Heartbeat
    #: When it was asked for (``time.monotonic()``): its start's deadline counts from here.
    spawned: float
    #: Whether it said it has started (:data:`READY`): only then does it get a batch.
    ready: bool = False
    job: Job | None = None


def _describe_exit(code: int | None) -> str:
    if code is None:
        return "worker still running"
    if code < 0:
        try:
            name = signal.Signals(-code).name
        except ValueError:
            name = f"signal {-code}"
        hint = " (killed: out of memory?)" if -code == signal.SIGKILL else ""
        return f"worker died with {name}{hint}"
    return f"worker exited with code {code}"


class ProcessEngine:
    """A supervised pool of ``workers`` processes with a per-record wall-clock ``timeout_s``.

    With a ``memory_limit`` (bytes; None = :func:`~pipeline.execution.resources.auto_memory_limit`,
    0 = none), a worker whose resident memory exceeds it is killed like one that hangs: the
    record it was on is rejected (``memory_limit``), before the kernel's out-of-memory killer
    picks a process itself. The limit is checked every :data:`MEMORY_POLL_S` seconds, on Linux
    (``/proc``).

    At most ``2 * workers`` batches are in flight (queued, running or waiting to be yielded in
    order), so memory stays flat however long the input is. ``workers`` is capped at the usable
    cores (:func:`worker_count`; :attr:`note` then says so), and a worker starts only when a
    batch is waiting for it: a 12-record input starts one.
    """

    def __init__(
        self,
        workers: int = 0,
        *,
        timeout_s: float = 30.0,
        memory_limit: int | None = None,
        start_timeout_s: float = START_TIMEOUT_S,
        start_method: str = "forkserver",
    ) -> None:
        self.workers, self.note = worker_count(workers)
        self.timeout_s = timeout_s
        self.start_timeout_s = start_timeout_s
        self.memory_limit = auto_memory_limit(self.workers) if memory_limit is None else memory_limit
        if self.memory_limit:
            RANGES["run.max_worker_memory"].check("memory_limit", self.memory_limit)
        # With a forkserver, workers (replacements too) fork from a process that has imported and
        # warmed up the default stages: they start in milliseconds. Starting it now (if
        # ``cleanwire run`` has not already) lets its imports run while this process reads.
        self._ctx: Any = (
            forkserver.context() if start_method == "forkserver" else mp.get_context(start_method)
        )
        self._start_method = start_method
        if start_method == "forkserver":
            forkserver.start()
        self._pool: list[_Worker] = []
        self._stages: Sequence[Stage] | None = None
        self._blob = b""
        self.restarts = 0
        self._blind_streak = 0

    # the batches

    def map(self, stages: Sequence[Stage], batches: Iterable[pa.RecordBatch]) -> Iterator[Result]:
        flight = InFlight(iter(batches), 2 * self.workers)
        started = False
        while True:
            flight.read_ahead()
            if not started:  # after the first reads: they overlapped with the forkserver's imports
                self._ensure(stages)
                started = True
            self._grow(flight)
            self._hand_out(flight)
            result = flight.next_result()
            if result is not None:
                yield result
                continue  # read and hand out the next batch before waiting on the workers
            if flight.done:
                return
            if any(w.job is not None or not w.ready for w in self._pool):
                self._supervise(flight)

    def _hand_out(self, flight: InFlight) -> None:
        """Give each idle worker the next queued job; a job with nothing left to compute is
        finished on the way."""
        queue = flight.queue
        while queue and not queue[0].todo:
            flight.finish_empty(queue.popleft())
        for w in self._pool:
            if w.ready and w.job is None and queue:
                job = queue.popleft()
                if not job.todo:
                    flight.finish_empty(job)
                    continue
                w.job = job
                with contextlib.suppress(OSError):  # a dead worker is seen by _supervise
                    send_job(w.conn, job.seq, job.payload())

    # worker lifecycle

    def _spawn(self) -> _Worker:
        spawned = time.monotonic()
        parent, child = self._ctx.Pipe()
        cells = self._ctx.RawArray("d", Heartbeat().cells)
        proc = self._ctx.Process(
            target=worker_main, args=(child, self._blob, cells), name="cleanwire-worker", daemon=True
        )
        self._start(proc)
        child.close()
        return _Worker(proc, parent, Heartbeat(cells), spawned)

    def _start(self, proc: BaseProcess) -> None:
        """``proc.start()``, within :attr:`start_timeout_s`. Starting a worker waits on its parent:
        the forkserver forks it only once its own imports are done, and the stages are written
        into a pipe the child must read. A forkserver that stalls would hang the run there, so
        the start runs in a thread; past the deadline the forkserver is killed (the thread then
        fails and ends) and the run stops."""
        failed: list[BaseException] = []

        def start() -> None:
            try:
                proc.start()
            except BaseException as exc:  # noqa: BLE001 - handed to the caller's thread
                failed.append(exc)

        thread = threading.Thread(target=start, name="cleanwire-start-worker", daemon=True)
        thread.start()
        thread.join(self.start_timeout_s)
        if thread.is_alive():
            if self._start_method == "forkserver":
                forkserver.kill()
            thread.join(5.0)
            raise self._stalled("its parent, the forkserver, did not fork it")
        if failed:
            raise failed[0]

    def _stalled(self, what: str) -> WorkerError:
        return WorkerError(
            f"a worker process did not start within {self.start_timeout_s:g}s "
            f"(run.worker_start_timeout_s): {what}",
            hint="a stage that blocks while it is unpickled or warmed up, a stopped process or a "
            "hung file system? on a slow or overloaded machine, raise run.worker_start_timeout_s",
        )

    def _ensure(self, stages: Sequence[Stage]) -> None:
        old = self._stages or []
        if len(old) != len(stages) or not all(a is b for a, b in zip(old, stages, strict=True)) or not old:
            self.close()
            self._stages = list(stages)
            try:
                self._blob = pickle.dumps(list(stages))
            except (pickle.PicklingError, TypeError, AttributeError) as exc:
                raise WorkerError(
                    f"the stages cannot be sent to worker processes: {exc}",
                    hint="custom stages must be picklable (module-level classes, no lambdas)",
                ) from exc
        for w in list(self._pool):
            if w.job is not None or not w.process.is_alive():  # left over from an aborted map()
                self._kill(w)
                self._pool.remove(w)

    def _grow(self, flight: InFlight) -> None:
        """Start workers for the queued jobs that no worker (idle or still starting) will take,
        up to :attr:`workers`."""
        free = sum(1 for w in self._pool if w.job is None)
        for _ in range(min(len(flight.queue) - free, self.workers - len(self._pool))):
            self._pool.append(self._spawn())

    @staticmethod
    def _kill(w: _Worker) -> None:
        if w.process.is_alive():
            w.process.kill()
        w.process.join()
        w.conn.close()
        w.job = None

    def _replace(self, w: _Worker) -> None:
        self._kill(w)
        self._pool[self._pool.index(w)] = self._spawn()
        self.restarts += 1

    def close(self) -> None:
        for w in self._pool:
            if w.job is None and w.process.is_alive():
                with contextlib.suppress(OSError):
                    w.conn.send(None)
        deadline = time.monotonic() + 5.0
        for w in self._pool:
            if w.job is None:
                w.process.join(max(0.0, deadline - time.monotonic()))
            self._kill(w)
        self._pool = []

    # supervision

    def _supervise(self, flight: InFlight) -> None:
        """Wait for a result, a death or a timeout; then settle each busy worker (:meth:`_check`).

        A result is stored as the worker sent it: it becomes an Arrow batch only when it is
        yielded, after the worker has been given its next batch (building the batch of a dozen
        175 KB pages takes tens of milliseconds, which the worker would otherwise spend idle).
        """
        watched = [w for w in self._pool if w.job is not None or not w.ready]
        handles: list[Any] = [w.conn for w in watched] + [w.process.sentinel for w in watched]
        wait(handles, timeout=self._wait_s(watched))
        for w in watched:
            if w.ready:
                self._check(w, flight)
            else:
                self._check_start(w)

    def _wait_s(self, watched: list[_Worker]) -> float:
        """How long to wait for news: until the first busy worker's record runs out of time or
        the first starting worker's start does, at most :data:`MEMORY_POLL_S` with a memory
        limit (else 1 s), at least 10 ms."""
        now = time.monotonic()
        wait_s = MEMORY_POLL_S if self.memory_limit else 1.0
        for w in watched:
            if not w.ready:
                wait_s = min(wait_s, max(0.0, w.spawned + self.start_timeout_s - now))
                continue
            snap = w.beat.read()
            if snap is not None:
                wait_s = min(wait_s, max(0.0, snap[2] + self.timeout_s - now))
        return max(wait_s, 0.01)

    def _check_start(self, w: _Worker) -> None:
        """Settle starting worker ``w``: ready if it said so; replaced if it died (a broken set-up
        stops the run after :data:`MAX_BLIND_STREAK` such deaths, see :meth:`_blame`); the run
        stops if it is past its start's deadline."""
        if w.conn.poll():
            with contextlib.suppress(EOFError, OSError):  # it died saying so: seen below
                w.ready = w.conn.recv() == READY
            if w.ready:
                return
        if not w.process.is_alive():
            w.process.join()
            self._count_blind(_describe_exit(w.process.exitcode))
            self._replace(w)
            return
        if time.monotonic() - w.spawned > self.start_timeout_s:
            where = "unpickling the stages" if int(w.beat.cells[1]) == STARTING else "warming the stages up"
            self._kill(w)
            raise self._stalled(f"it stalled {where}; it was killed")

    def _check(self, w: _Worker, flight: InFlight) -> None:
        """Settle busy worker ``w``: store its result if it sent one; else deal with its death,
        its record over time, or its memory over the limit."""
        if self._collect(w, flight):
            return
        if not w.process.is_alive():
            w.process.join()
            self._lost(w, WORKER_CRASH, _describe_exit(w.process.exitcode), w.beat.read(), flight)
            return
        snap = w.beat.read()
        if snap is not None and time.monotonic() - snap[2] > self.timeout_s:
            detail = f"no result after {self.timeout_s:g}s (run.record_timeout_s); worker killed"
            self._kill_for(w, snap, TIMEOUT, detail, flight)
            return
        pid = w.process.pid
        rss = resident_bytes(pid) if self.memory_limit and pid is not None else None
        if rss is not None and rss > self.memory_limit:
            detail = (
                f"worker used {rss >> 20} MiB > {self.memory_limit >> 20} MiB "
                "(run.max_worker_memory); worker killed"
            )
            self._kill_for(w, snap, MEMORY_LIMIT, detail, flight)

    def _collect(self, w: _Worker, flight: InFlight) -> bool:
        """Store the result ``w`` sent, if any (False when it sent none or died sending it: the
        death is handled as a crash)."""
        if not w.conn.poll():
            return False
        try:
            job_id, result = w.conn.recv()
        except (EOFError, OSError):
            return False
        job = w.job
        assert job is not None and job.seq == job_id
        flight.finish(job, result)
        w.job = None
        self._blind_streak = 0
        return True

    def _kill_for(
        self, w: _Worker, snap: Snapshot | None, reason: str, detail: str, flight: InFlight
    ) -> None:
        """Kill ``w`` and reject the record of ``snap`` for ``reason`` - if the worker was still
        on it when it died (else nobody is blamed: see :meth:`_blame`)."""
        w.process.kill()
        w.process.join()
        after = w.beat.read()
        culprit = snap if snap is not None and after is not None and after[:2] == snap[:2] else None
        self._lost(w, reason, detail, culprit, flight)

    def _lost(self, w: _Worker, reason: str, detail: str, culprit: Snapshot | None, flight: InFlight) -> None:
        """``w`` is dead: reject ``culprit``'s record (:meth:`_fail_record`), start a replacement
        and put the rest of its job first in the queue."""
        job = w.job
        self._fail_record(w, reason, detail, culprit)
        self._replace(w)
        if job is not None:
            flight.queue.appendleft(job)

    def _fail_record(self, w: _Worker, reason: str, detail: str, snapshot: Snapshot | None) -> None:
        """The worker ``w`` is gone: reject the records it is blamed for (:meth:`_blame`); the
        rest of its job is requeued by the caller."""
        job = w.job
        assert job is not None and self._stages is not None
        blamed = self._blame(job, w.beat.started(), detail, snapshot)
        if blamed is None:
            return
        culprits, stage_index = blamed
        for index in culprits:
            job.fail(index, self._stages, stage_index, reason, detail)

    def _blame(
        self, job: Job, started: bool, detail: str, snapshot: Snapshot | None
    ) -> tuple[list[int], int] | None:
        """Which records of ``job`` a worker's death rejects, and the index of the stage they
        were in (-1: none); None when it rejects none (yet).

        The record the heartbeat names, if the worker was inside one. A worker that died before
        it got through its start (unpickling the stages, warm-up) blames no record: the set-up
        is broken, and after :data:`MAX_BLIND_STREAK` such deaths in a row the run stops. One
        that died outside any record later gives its job :data:`MAX_BLIND_RETRIES` more tries,
        then the job's records still to compute are all rejected."""
        if snapshot is not None and started:
            self._blind_streak = 0
            return [job.todo[snapshot[0]]], snapshot[1]
        self._count_blind(detail)
        if not started:
            return None
        job.blind_retries += 1
        if job.blind_retries <= MAX_BLIND_RETRIES:
            return None
        return list(job.todo), -1

    def _count_blind(self, detail: str) -> None:
        """One more worker death outside any record; after :data:`MAX_BLIND_STREAK` in a row
        the set-up is broken and the run stops."""
        self._blind_streak += 1
        if self._blind_streak >= MAX_BLIND_STREAK:
            raise WorkerError(
                f"worker processes keep dying before they process any record ({detail})",
                hint="check that the stages can be imported and built in a fresh process "
                '(a script that runs a pipeline must do so under `if __name__ == "__main__":`); '
                "run with --workers 1 and look at its stderr",
            )
