"""The supervised pool's book-keeping of batches: one :class:`Job` per input batch (what is left
to compute of it, the records settled without a worker, how its result is put back together in
input order) and the :class:`InFlight` window of jobs one ``map`` call has read and not yet
yielded. No processes here: :mod:`pipeline.execution.pool` runs the workers.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field

import pyarrow as pa
import pyarrow.compute as pc

from pipeline.core.batching import safe_batch
from pipeline.core.record import Doc, Status, docs_from_batch
from pipeline.core.stage import Stage, StageStats
from pipeline.execution.chain import Result

#: Stage name used when a worker dies outside any record (twice in a row on the same batch).
ENGINE_STAGE = "engine"


def with_raw(out: pa.RecordBatch, inputs: pa.RecordBatch) -> pa.RecordBatch:
    """``out`` with the ``raw`` column (and ``n_chars_raw``) of ``inputs``, the same records in
    the same order: workers send their documents back without the raw input."""
    raw = inputs.column("raw")
    put = {"raw": raw, "n_chars_raw": pc.utf8_length(raw).cast(pa.int64())}
    columns = [put.get(name, out.column(name)) for name in out.schema.names]
    return pa.RecordBatch.from_arrays(columns, schema=out.schema)


#: What a worker sends back for a job: the records it computed (without their raw input), in
#: the order of the job's ``todo``, and per-stage stats; ``None`` when it computed none.
Done = tuple[pa.RecordBatch | None, dict[str, StageStats]]


@dataclass
class Job:
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

    def fail(self, index: int, stages: Sequence[Stage], stage_index: int, reason: str, detail: str) -> None:
        """Settle record ``index`` without a worker: rejected for ``reason`` by
        ``stages[stage_index]`` (by :data:`ENGINE_STAGE` when ``stage_index`` is -1), the stages
        before it counting it ok. A record already rejected or dropped keeps its verdict."""
        doc = docs_from_batch(self.batch.slice(index, 1))[0]
        doc.raw = ""  # as a worker does: assemble() puts the input back (with_raw)
        self.failed[index] = doc
        self.todo.remove(index)
        if not doc.ok:
            return  # rejected or dropped before the pool (at read): that verdict stands
        name = stages[stage_index].name if stage_index >= 0 else ENGINE_STAGE
        doc.reject(name, reason, detail)
        for earlier in stages[: max(stage_index, 0)]:
            self.stats.setdefault(earlier.name, StageStats()).count(Status.OK)
        self.stats.setdefault(name, StageStats()).count(Status.REJECTED, reason)

    def assemble(self, done: Done) -> Result:
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


@dataclass
class InFlight:
    """The jobs of one ``map`` call between reading and yielding: ``queue`` waits for a worker,
    ``ready`` holds what workers sent back until its turn comes. At most ``limit`` jobs are in
    flight, so memory stays flat however long the input is."""

    source: Iterator[pa.RecordBatch]
    limit: int
    queue: deque[Job] = field(default_factory=deque)
    ready: dict[int, tuple[Job, Done]] = field(default_factory=dict)
    next_seq: int = 0
    next_out: int = 0
    exhausted: bool = False

    def read_ahead(self) -> None:
        """Queue input batches until ``limit`` jobs are in flight or the input ends."""
        while not self.exhausted and self.next_seq - self.next_out < self.limit:
            batch = next(self.source, None)
            if batch is None:
                self.exhausted = True
                break
            self.queue.append(Job(self.next_seq, batch, list(range(batch.num_rows))))
            self.next_seq += 1

    def finish(self, job: Job, done: Done) -> None:
        self.ready[job.seq] = (job, done)

    def finish_empty(self, job: Job) -> None:
        """Every record of ``job`` failed: it is finished without a worker."""
        self.finish(job, (None, {}))

    def next_result(self) -> Result | None:
        """The next batch in input order, if its job is finished (assembled only now: after the
        workers have been handed their next batches)."""
        if self.next_out not in self.ready:
            return None
        job, done = self.ready.pop(self.next_out)
        self.next_out += 1
        return job.assemble(done)

    @property
    def done(self) -> bool:
        """Whether every input batch has been read and yielded."""
        return self.exhausted and self.next_out == self.next_seq
