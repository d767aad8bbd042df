"""Engines run the parallel-safe stages over a stream of batches, in order.

* :class:`SerialEngine`: in this process, no isolation (tests, one-document calls, debugging).
* :class:`ProcessEngine`: a *supervised* pool of worker processes (``--workers N``, also for N=1).
  Each worker holds its own copy of the stages (sent once, at start), receives whole Arrow
  batches and sends back Arrow batches without the raw input, which the supervisor still holds
  and puts back (:func:`with_raw`).
  Workers fork from a forkserver that has imported the stages' libraries and warmed them up
  (:mod:`pipeline.execution.preload`), started before the pool needs it (:mod:`pipeline.execution.forkserver`) so
  that its work overlaps the caller's imports and first reads.
  While it works it publishes a heartbeat (record index, stage index, start time) in shared
  memory. The supervisor kills a worker whose current record has run longer than the timeout, or
  notices one that died (segfault, out-of-memory kill, ``os._exit``); either way *that record* is
  rejected (``timeout`` / ``worker_crash``, with the stage it was in), a replacement worker is
  started and the rest of the batch is resubmitted. A worker over its memory limit is killed the
  same way (``memory_limit``). A bad record costs one record, never the run.
  Results come back in input order, so output does not depend on the number of workers.

Stages run stage-major inside a batch (every record goes through a stage before any goes on to
the next one, see :func:`run_docs`); a heartbeat names one record and one stage exactly.
"""

from __future__ import annotations

import contextlib
import multiprocessing as mp
import os
import pickle
import signal
import time
from collections import deque
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from multiprocessing.connection import Connection, wait
from multiprocessing.process import BaseProcess
from typing import Any, Protocol

import pyarrow as pa
import pyarrow.compute as pc

from pipeline.core.batching import safe_batch
from pipeline.core.config import Config
from pipeline.core.errors import WorkerError
from pipeline.core.record import Doc, Status, docs_from_batch
from pipeline.core.stage import Stage, StageStats
from pipeline.execution import forkserver
from pipeline.execution.chain import Result, run_docs, run_stages
from pipeline.execution.heartbeat import WARMING_UP, Heartbeat
from pipeline.execution.memory import auto_memory_limit, resident_bytes

TIMEOUT = "timeout"
WORKER_CRASH = "worker_crash"
MEMORY_LIMIT = "memory_limit"
#: How often a busy worker's resident memory is read when there is a limit (seconds).
MEMORY_POLL_S = 0.5
#: Stage name used when a worker dies outside any record (twice in a row on the same batch).
ENGINE_STAGE = "engine"
MAX_BLIND_RETRIES = 2
#: A worker warming up (:data:`~pipeline.execution.heartbeat.WARMING_UP`) gets this on top of the
#: per-record timeout (a stage that hangs even on the warm-up documents is a broken setup).
STARTUP_GRACE_S = 60.0
#: Consecutive worker deaths outside any record after which the pool gives up (a broken setup).
MAX_BLIND_STREAK = 5


class Engine(Protocol):
    def map(self, stages: Sequence[Stage], batches: Iterable[pa.RecordBatch]) -> Iterator[Result]:
        """Yield each batch after ``stages``, in input order, with the stats of that batch."""
        ...

    def close(self) -> None: ...


class SerialEngine:
    """Runs in the calling process: no timeouts, no crash isolation."""

    def map(self, stages: Sequence[Stage], batches: Iterable[pa.RecordBatch]) -> Iterator[Result]:
        for batch in batches:
            yield run_stages(stages, batch)

    def close(self) -> None:
        pass


# --- the supervised pool -----------------------------------------------------------------------


_WARM_UP_DOCS = (
    (
        "html",
        "<html><head><title>Warm up</title></head><body><article><p>The council met on "
        "Monday to discuss the harbour.</p><p>It will meet again next week.</p></article></body></html>",
    ),
    ("text", "Warm up\n\nThe council met on Monday to discuss the harbour. It will meet again next week."),
)


def warm_up(stages: Sequence[Stage]) -> None:
    """Run two small documents through the stages once and convert them to Arrow, so lazy
    imports (pyarrow's of pandas, if installed, ~0.25 s), compiled patterns and language profiles
    load before the per-record timeout starts counting."""
    docs = [
        Doc(id=f"warm-up-{i}", source="<warm-up>", raw=raw, format=fmt)
        for i, (fmt, raw) in enumerate(_WARM_UP_DOCS)
    ]
    run_docs(stages, docs)
    safe_batch(docs)
    for stage in stages:
        stage.stats = StageStats()


def _worker_main(conn: Connection, stages_blob: bytes, cells: Any) -> None:
    """A worker: unpickle the stages once, then run batches until told to stop."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # the supervisor decides when workers stop
    signal.signal(signal.SIGTERM, signal.SIG_DFL)
    stages: Sequence[Stage] = pickle.loads(stages_blob)
    beat = Heartbeat(cells)
    beat.beat(WARMING_UP, 0)
    warm_up(stages)
    beat.ready()
    while True:
        try:
            msg = conn.recv()
        except (EOFError, OSError):
            return
        if msg is None:
            return
        job_id, batch = msg
        docs = docs_from_batch(batch)
        stats = run_docs(stages, docs, beat)
        # The raw inputs stay behind (stages never change them, and the supervisor holds the
        # batch): a 175 KB page is not sent back. The worker builds the Arrow batch, so that
        # conversion scales with the workers instead of loading the supervisor.
        for doc in docs:
            doc.raw = ""
        conn.send((job_id, (safe_batch(docs), stats)))


def with_raw(out: pa.RecordBatch, inputs: pa.RecordBatch) -> pa.RecordBatch:
    """``out`` with the ``raw`` column (and ``n_chars_raw``) of ``inputs``, the same records in
    the same order: workers send their documents back without the raw input."""
    raw = inputs.column("raw")
    put = {"raw": raw, "n_chars_raw": pc.utf8_length(raw).cast(pa.int64())}
    columns = [put.get(name, out.column(name)) for name in out.schema.names]
    return pa.RecordBatch.from_arrays(columns, schema=out.schema)


#: What a worker sends back for a job: the records it computed (without their raw input), in
#: the order of the job's ``todo``, and per-stage stats; ``None`` when it computed none.
_Done = tuple[pa.RecordBatch | None, dict[str, StageStats]]


@dataclass
class _Job:
    """One input batch and what is left to compute of it."""

    seq: int
    batch: pa.RecordBatch
    todo: list[int]  # indices (into ``batch``) still to compute
    failed: dict[int, Doc] = field(default_factory=dict)  # index -> doc settled without a worker
    stats: dict[str, StageStats] = field(default_factory=dict)
    blind_retries: int = 0

    def payload(self) -> pa.RecordBatch:
        if len(self.todo) == self.batch.num_rows:
            return self.batch
        return self.batch.take(pa.array(self.todo, pa.int64()))

    def assemble(self, done: _Done) -> Result:
        """The batch's result: the rows the worker computed and the failed records as rejected,
        in input order, with their raw input put back."""
        computed, stats = done
        for name, st in self.stats.items():
            stats.setdefault(name, StageStats()).merge(st)
        if not self.failed and computed is not None:
            return with_raw(computed, self.batch), stats
        failed = sorted(self.failed)
        parts = [safe_batch([self.failed[i] for i in failed])]
        if computed is not None:
            parts.insert(0, computed)
        where = (self.todo if computed is not None else []) + failed  # input index of each row
        order = sorted(range(len(where)), key=where.__getitem__)
        rows = pa.Table.from_batches(parts).take(pa.array(order, pa.int64()))
        merged = pa.RecordBatch.from_arrays([c.combine_chunks() for c in rows.columns], schema=rows.schema)
        return with_raw(merged, self.batch), stats


#: A job and what its worker sent back, not yet assembled.
_Finished = tuple[_Job, _Done]


@dataclass
class _Worker:
    process: BaseProcess
    conn: Connection
    beat: Heartbeat
    job: _Job | None = None


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

    With a ``memory_limit`` (bytes; None = :func:`auto_memory_limit`, 0 = none), a worker whose
    resident memory exceeds it is killed like one that hangs: the record it was on is rejected
    (``memory_limit``), before the kernel's out-of-memory killer picks a process itself. The
    limit is checked every :data:`MEMORY_POLL_S` seconds, on Linux (``/proc``).

    At most ``2 * workers`` batches are in flight (queued, running or waiting to be yielded in
    order), so memory stays flat however long the input is.
    """

    def __init__(
        self,
        workers: int = 0,
        *,
        timeout_s: float = 30.0,
        memory_limit: int | None = None,
        start_method: str = "forkserver",
    ) -> None:
        self.workers = workers or os.cpu_count() or 1
        self.timeout_s = timeout_s
        self.memory_limit = auto_memory_limit(self.workers) if memory_limit is None else memory_limit
        # With a forkserver, workers (replacements too) fork from a process that has imported and
        # warmed up the default stages: they start in milliseconds. Starting it now (if
        # ``cleanwire run`` has not already) lets its imports run while this process reads.
        self._ctx: Any = (
            forkserver.context() if start_method == "forkserver" else mp.get_context(start_method)
        )
        if start_method == "forkserver":
            forkserver.start()
        self._pool: list[_Worker] = []
        self._stages: Sequence[Stage] | None = None
        self._blob = b""
        self.restarts = 0
        self._blind_streak = 0

    # worker lifecycle

    def _spawn(self) -> _Worker:
        parent, child = self._ctx.Pipe()
        cells = self._ctx.RawArray("d", Heartbeat().cells)
        proc = self._ctx.Process(
            target=_worker_main, args=(child, self._blob, cells), name="cleanwire-worker", daemon=True
        )
        proc.start()
        child.close()
        return _Worker(proc, parent, Heartbeat(cells))

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
        for i, w in enumerate(self._pool):
            if w.job is not None or not w.process.is_alive():  # left over from an aborted map()
                self._kill(w)
                self._pool[i] = self._spawn()
        while len(self._pool) < self.workers:
            self._pool.append(self._spawn())

    @staticmethod
    def _kill(w: _Worker) -> None:
        if w.process.is_alive():
            w.process.kill()
        w.process.join()
        w.conn.close()
        w.job = None

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

    def _fail_record(
        self, w: _Worker, reason: str, detail: str, snapshot: tuple[int, int, float] | None
    ) -> None:
        """The worker ``w`` is gone: reject the record it was on and requeue the rest of its job.

        A worker that died before it got through its start (unpickling the stages, warm-up)
        blames no record: the set-up is broken, and after :data:`MAX_BLIND_STREAK` such deaths
        in a row the run stops. One that died outside any record later gives its job
        :data:`MAX_BLIND_RETRIES` more tries, then the job's records still ok are rejected."""
        job = w.job
        assert job is not None and self._stages is not None
        started = w.beat.started()
        if snapshot is None or not started:
            self._blind_streak += 1
            if self._blind_streak >= MAX_BLIND_STREAK:
                raise WorkerError(
                    f"worker processes keep dying before they process any record ({detail})",
                    hint="check that the stages can be imported and built in a fresh process "
                    '(a script that runs a pipeline must do so under `if __name__ == "__main__":`); '
                    "run with --workers 1 and look at its stderr",
                )
            if not started:
                return
            job.blind_retries += 1
            if job.blind_retries <= MAX_BLIND_RETRIES:
                return
            culprits = list(job.todo)
            stage_index = -1
        else:
            self._blind_streak = 0
            culprits = [job.todo[snapshot[0]]]
            stage_index = snapshot[1]
        for index in culprits:
            doc = docs_from_batch(job.batch.slice(index, 1))[0]
            doc.raw = ""  # as a worker does: assemble() puts the input back (with_raw)
            job.failed[index] = doc
            job.todo.remove(index)
            if not doc.ok:
                continue  # rejected or dropped before the pool (at read): that verdict stands
            name = self._stages[stage_index].name if stage_index >= 0 else ENGINE_STAGE
            doc.reject(name, reason, detail)
            for earlier in self._stages[: max(stage_index, 0)]:
                job.stats.setdefault(earlier.name, StageStats()).count(Status.OK)
            job.stats.setdefault(name, StageStats()).count(Status.REJECTED, reason)

    def _limit(self, snap: tuple[int, int, float]) -> float:
        return self.timeout_s + (STARTUP_GRACE_S if snap[0] == WARMING_UP else 0.0)

    def _replace(self, w: _Worker) -> None:
        self._kill(w)
        self._pool[self._pool.index(w)] = self._spawn()
        self.restarts += 1

    def _supervise(self, ready: dict[int, _Finished], queue: deque[_Job]) -> None:
        """Wait for a result, a death or a timeout; update ``ready`` and ``queue``.

        A result is stored as the worker sent it: it becomes an Arrow batch only when it is
        yielded, after the worker has been given its next batch (building the batch of a dozen
        175 KB pages takes tens of milliseconds, which the worker would otherwise spend idle).
        """
        busy = [w for w in self._pool if w.job is not None]
        now = time.monotonic()
        wait_s = MEMORY_POLL_S if self.memory_limit else 1.0
        for w in busy:
            snap = w.beat.read()
            if snap is not None:
                wait_s = min(wait_s, max(0.0, snap[2] + self._limit(snap) - now))
        handles: list[Any] = [w.conn for w in busy] + [w.process.sentinel for w in busy]
        wait(handles, timeout=max(wait_s, 0.01))
        for w in busy:
            if w.conn.poll():
                try:
                    job_id, result = w.conn.recv()
                except (EOFError, OSError):
                    pass  # died while sending: handled as a crash below
                else:
                    job = w.job
                    assert job is not None and job.seq == job_id
                    ready[job.seq] = (job, result)
                    w.job = None
                    self._blind_streak = 0
                    continue
            if not w.process.is_alive():
                w.process.join()
                self._lost(w, WORKER_CRASH, _describe_exit(w.process.exitcode), w.beat.read(), queue)
                continue
            snap = w.beat.read()
            if snap is not None and time.monotonic() - snap[2] > self._limit(snap):
                detail = f"no result after {self.timeout_s:g}s (extract.timeout_s); worker killed"
                self._kill_for(w, snap, TIMEOUT, detail, queue)
                continue
            pid = w.process.pid
            rss = resident_bytes(pid) if self.memory_limit and pid is not None else None
            if rss is not None and rss > self.memory_limit:
                detail = (
                    f"worker used {rss >> 20} MiB > {self.memory_limit >> 20} MiB "
                    "(run.max_worker_memory); worker killed"
                )
                self._kill_for(w, snap, MEMORY_LIMIT, detail, queue)

    def _kill_for(
        self, w: _Worker, snap: tuple[int, int, float] | None, reason: str, detail: str, queue: deque[_Job]
    ) -> None:
        """Kill ``w`` and reject the record of ``snap`` for ``reason`` - if the worker was still
        on it when it died (else nobody is blamed: see :meth:`_fail_record`)."""
        w.process.kill()
        w.process.join()
        after = w.beat.read()
        culprit = snap if snap is not None and after is not None and after[:2] == snap[:2] else None
        self._lost(w, reason, detail, culprit, queue)

    def _lost(
        self, w: _Worker, reason: str, detail: str, culprit: tuple[int, int, float] | None, queue: deque[_Job]
    ) -> None:
        """``w`` is dead: reject ``culprit``'s record (:meth:`_fail_record`), start a replacement
        and put the rest of its job first in the queue."""
        job = w.job
        self._fail_record(w, reason, detail, culprit)
        self._replace(w)
        if job is not None:
            queue.appendleft(job)

    def _finish_empty(self, job: _Job, ready: dict[int, _Finished]) -> None:
        """Every record of ``job`` failed: it is finished without a worker."""
        ready[job.seq] = (job, (None, {}))

    def map(self, stages: Sequence[Stage], batches: Iterable[pa.RecordBatch]) -> Iterator[Result]:
        source = iter(batches)
        queue: deque[_Job] = deque()
        ready: dict[int, _Finished] = {}
        next_seq = next_out = 0
        exhausted = started = False
        while True:
            while not exhausted and next_seq - next_out < 2 * self.workers:
                batch = next(source, None)
                if batch is None:
                    exhausted = True
                    break
                queue.append(_Job(next_seq, batch, list(range(batch.num_rows))))
                next_seq += 1
            if not started:  # after the first reads: they overlapped with the forkserver's imports
                self._ensure(stages)
                started = True
            while queue and not queue[0].todo:
                self._finish_empty(queue.popleft(), ready)
            for w in self._pool:
                if w.job is None and queue:
                    job = queue.popleft()
                    if not job.todo:
                        self._finish_empty(job, ready)
                        continue
                    w.job = job
                    with contextlib.suppress(OSError):  # a dead worker is seen by _supervise
                        w.conn.send((job.seq, job.payload()))
            if next_out in ready:
                job, done = ready.pop(next_out)
                next_out += 1
                yield job.assemble(done)
                continue  # read and hand out the next batch before waiting on the workers
            if exhausted and next_out == next_seq:
                return
            if any(w.job is not None for w in self._pool):
                self._supervise(ready, queue)


def make_engine(workers: int, *, timeout_s: float = 30.0, memory_limit: int | None = None) -> Engine:
    """The supervised pool with ``workers`` processes (0 = one per core); ``memory_limit`` as
    :class:`ProcessEngine` takes it."""
    return ProcessEngine(workers or os.cpu_count() or 1, timeout_s=timeout_s, memory_limit=memory_limit)


def engine_for(config: Config, *, workers: int | None = None) -> Engine:
    """The supervised pool as ``config`` sets it up (workers unless given, record timeout, memory
    limit)."""
    return make_engine(
        config.run.workers if workers is None else workers,
        timeout_s=config.extract.timeout_s,
        memory_limit=config.run.max_worker_memory,
    )
