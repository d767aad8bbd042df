"""Stage base classes. The base owns the loop, the timing, the counters and the error handling,
so a concrete stage writes one small method, :meth:`DocStage.process`, over one :class:`Doc`.

A stage plugs unchanged into the local runner, Ray Data (``map_batches(stage.process_batch,
batch_format="pyarrow")``) or an Airflow task, because its batch interface is Arrow in, Arrow out,
with the same number of rows (records that fail are marked, never removed).
"""

from __future__ import annotations

import time
from abc import ABC, abstractmethod
from collections import Counter
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from functools import partial
from pathlib import Path
from typing import Any, ClassVar, Generic, TypeVar

import pyarrow as pa

from pipeline.core.record import Doc, Status, docs_from_batch, docs_to_batch
from pipeline.core.schema import WORK_SCHEMA


class RejectRecord(Exception):
    """Raised inside :meth:`DocStage.process` to reject the current record with a reason."""

    def __init__(self, reason: str, detail: str | None = None) -> None:
        super().__init__(reason)
        self.reason = reason
        self.detail = detail


class DropRecord(RejectRecord):
    """Raised inside :meth:`DocStage.process` to drop the record on purpose (a filter said no)."""


#: How one record ended in a stage that did not keep it: (status, reason, detail).
Verdict = tuple[Status, str, str | None]

Item = TypeVar("Item")
Answer = TypeVar("Answer")

#: Told the index (in the list :meth:`Stage.process_docs` got) of the record a stage starts on:
#: how a pool worker's heartbeat follows a stage that takes a whole batch.
OnRecord = Callable[[int], None]

#: The reason of a record rejected because its stage raised something other than a verdict.
STAGE_ERROR = "stage_error"


def error_detail(exc: BaseException) -> str:
    """The ``detail`` of a :data:`STAGE_ERROR` reject: the exception's type and message."""
    return f"{type(exc).__name__}: {exc}"[:500]


def outcome(step: Callable[[], None]) -> Verdict | None:
    """Run one record's ``step``: None when it raised nothing, else how the record ends.

    :class:`DropRecord` drops it, :class:`RejectRecord` rejects it, and any other exception
    rejects it as ``stage_error`` with the cause: one record's failure is data, not a crash.
    """
    try:
        step()
    except DropRecord as sig:
        return Status.DROPPED, sig.reason, sig.detail
    except RejectRecord as sig:
        return Status.REJECTED, sig.reason, sig.detail
    except Exception as exc:  # noqa: BLE001 - one record's failure is data: rejected with the cause
        return Status.REJECTED, STAGE_ERROR, error_detail(exc)
    return None


@dataclass
class StageStats:
    """Counters for one stage. Mergeable, so worker stats add up in the coordinator."""

    n_in: int = 0
    n_ok: int = 0
    rejected: Counter[str] = field(default_factory=Counter)
    dropped: Counter[str] = field(default_factory=Counter)
    seconds: float = 0.0

    def merge(self, other: StageStats) -> None:
        self.n_in += other.n_in
        self.n_ok += other.n_ok
        self.rejected.update(other.rejected)
        self.dropped.update(other.dropped)
        self.seconds += other.seconds

    def count(self, status: Status, reason: str | None = None) -> None:
        """One record seen, ending ``status`` (with ``reason`` when not ok)."""
        self.n_in += 1
        if status is Status.OK:
            self.n_ok += 1
        elif status is Status.REJECTED:
            self.rejected[reason or "?"] += 1
        else:
            self.dropped[reason or "?"] += 1

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> StageStats:
        """The inverse of :meth:`to_dict` (a shard's marker, an Airflow XCom)."""
        return cls(
            n_in=int(data.get("n_in", 0)),
            n_ok=int(data.get("n_ok", 0)),
            rejected=Counter(data.get("rejected", {})),
            dropped=Counter(data.get("dropped", {})),
            seconds=float(data.get("seconds", 0.0)),
        )

    def to_dict(self) -> dict[str, object]:
        return {
            "n_in": self.n_in,
            "n_ok": self.n_ok,
            "rejected": dict(sorted(self.rejected.items())),
            "dropped": dict(sorted(self.dropped.items())),
            "seconds": round(self.seconds, 3),
        }


@dataclass(frozen=True)
class RunContext:
    """What the runner tells a stateful stage about the run it takes part in (:meth:`Stage.open_run`)."""

    #: A directory of the output's resume state the stage may keep its own state in, so that a
    #: resumed run finds it again; None: no such place (the stage uses a temporary directory).
    state_dir: Path | None = None
    #: The run's shards, in the order they are run.
    shards: tuple[str, ...] = ()
    #: The shards an earlier run finished, which this run skips (:meth:`Stage.shard_skipped`).
    finished: frozenset[str] = frozenset()
    #: A name for the run (its output directory), for logs and indexes.
    label: str = ""


class Stage(ABC):
    """A transform over work batches. ``name`` is what configs, rejects and the manifest call it.

    A stage with state across records (``parallel_safe = False``) may also take part in the
    run's life: the runner calls :meth:`open_run` before the first shard, :meth:`shard_done`
    when a shard's records have all been through it (before the shard is marked finished),
    :meth:`shard_skipped` where a shard an earlier run finished comes in the order instead,
    :meth:`finish_run` once every shard is done (before the manifest) and :meth:`close_run`
    at the end, whether the run completed or not. A stage used on its own (a batch, a document)
    gets none of these calls and must work without them."""

    name: ClassVar[str]
    #: False for stages with state across records (dedup): the runner keeps them in one process.
    parallel_safe: ClassVar[bool] = True
    #: For a parallel-safe stage that does per-record work ahead for a stateful one (in the
    #: workers), the name of that stage: without it in the chain, this one is useless.
    prepares_for: ClassVar[str | None] = None

    def __init__(self) -> None:
        self.stats = StageStats()

    def process_batch(self, batch: pa.RecordBatch | pa.Table) -> pa.RecordBatch | pa.Table:
        """Arrow in, Arrow out (same rows, same order, a table for a table): the interface for
        Ray Data's ``map_batches(stage, batch_format="pyarrow")`` and Airflow.

        Input: ``id``, ``source`` and ``raw`` are required, as non-null strings. Every other
        column of :data:`~pipeline.core.schema.WORK_SCHEMA` is optional: a missing one, or a null,
        takes its default (``format``, ``"text"`` or ``"html"``, is ``"text"``; ``url`` and
        ``encoding`` are null; ``status`` is ``ok``; ``text`` is empty, so a stage that reads it,
        such as dedup or the length filter, needs ``extract`` to have run first). The processed
        columns (``text``, ``lang``, ``removed``, ...) are read only when ``status`` is present.
        Columns outside the work schema are not carried over (to keep one, put it in ``extra``,
        a string-to-string map). Output: always a full work-schema batch. A batch that does not
        fit raises :class:`ValueError` naming the column and the problem
        (:func:`~pipeline.core.record.check_input`)."""
        docs = docs_from_batch(batch)
        self.process_docs(docs)
        return same_kind(docs_to_batch(docs), batch)

    def __call__(self, batch: pa.RecordBatch | pa.Table) -> pa.RecordBatch | pa.Table:
        return self.process_batch(batch)

    @abstractmethod
    def process_docs(self, docs: Sequence[Doc]) -> None:
        """Transform the docs in place; records that are not ``ok`` must be left untouched."""

    def open_run(self, context: RunContext) -> None:  # noqa: B027 - optional hook
        """A run starts (see the class doc); by default nothing to do."""

    def shard_done(self, shard: str) -> None:  # noqa: B027 - optional hook
        """Every record of ``shard`` went through the stage; it is marked finished next."""

    def shard_skipped(self, shard: str, kept: Callable[[Sequence[str]], pa.Table]) -> None:  # noqa: B027 - optional hook
        """``shard``, which an earlier run finished, is skipped here (in the run's order);
        ``kept(columns)`` reads those columns of the records it kept, in the order they were
        written (by partition, when the output is partitioned)."""

    def finish_run(self) -> None:  # noqa: B027 - optional hook
        """Every shard is done; the run's manifest is written next."""

    def close_run(self, completed: bool) -> None:  # noqa: B027 - optional hook
        """The run is over: ``completed`` when its manifest was written, else it failed or stopped."""

    def __repr__(self) -> str:
        return f"{type(self).__name__}()"


class DocStage(Stage):
    """A stage that transforms one document at a time, independently of the others.

    Its :meth:`process_docs` settles each record's failure itself (one record's exception rejects
    that record) and reports the record it starts on to ``on_record``, so a pool worker's chain
    hands it a whole batch in one call; a subclass whose own :meth:`process_docs` does not do
    both sets :attr:`settles_records` to False and is called one record at a time.
    """

    settles_records: ClassVar[bool] = True

    def process_docs(self, docs: Sequence[Doc], on_record: OnRecord | None = None) -> None:
        stats = self.stats
        t0 = time.perf_counter()
        for i, doc in enumerate(docs):
            if not doc.ok:
                continue
            if on_record is not None:
                on_record(i)
            self.settle(doc, partial(self.process, doc))
            stats.count(doc.status, doc.reason)  # also when process() marked the doc itself
        stats.seconds += time.perf_counter() - t0

    def settle(self, doc: Doc, step: Callable[[], None]) -> None:
        """Run one record's ``step``; mark ``doc`` with its verdict if it did not keep it."""
        verdict = outcome(step)
        if verdict is not None:
            status, reason, detail = verdict
            (doc.drop if status is Status.DROPPED else doc.reject)(self.name, reason, detail)

    @abstractmethod
    def process(self, doc: Doc) -> None:
        """Transform one ``ok`` document in place, or raise :class:`RejectRecord`/:class:`DropRecord`."""


class BatchedDocStage(DocStage, Generic[Item, Answer]):
    """A :class:`DocStage` whose middle step costs less for many records at once (numpy's fixed
    cost paid once a batch). A subclass writes three small methods:

    * :meth:`prepare` (per record): what the batch step needs of it, or None when the record is
      done already (it may raise :class:`RejectRecord`/:class:`DropRecord`);
    * :meth:`answer_all` (per batch): one answer per prepared item, each the answer that item gets
      alone;
    * :meth:`finish` (per record): apply the record's answer.

    The base owns the loop, the heartbeat, the verdicts and the counters. Should the batch step
    raise, each item is answered alone, so a bad record is that record's reject, not the batch's.
    """

    @abstractmethod
    def prepare(self, doc: Doc) -> Item | None:
        """What :meth:`answer_all` needs of ``doc``; None when ``doc`` needs no answer."""

    @abstractmethod
    def answer_all(self, items: Sequence[Item]) -> Sequence[Answer]:
        """One answer per item, in order."""

    @abstractmethod
    def finish(self, doc: Doc, item: Item, answer: Answer) -> None:
        """Apply ``answer`` to ``doc``."""

    def process(self, doc: Doc) -> None:
        item = self.prepare(doc)
        if item is not None:
            self.finish(doc, item, self.answer_all([item])[0])

    #: Records prepared and answered together, at most: bounds the batch step's memory whatever
    #: the batch (an Airflow partition or a Ray block can hand a stage thousands of records).
    answer_chunk: ClassVar[int] = 256

    def process_docs(self, docs: Sequence[Doc], on_record: OnRecord | None = None) -> None:
        stats, t0 = self.stats, time.perf_counter()
        beat = on_record or _no_beat
        live = [i for i, doc in enumerate(docs) if doc.ok]
        for lo in range(0, len(live), self.answer_chunk):
            self._process_chunk(docs, live[lo : lo + self.answer_chunk], beat)
        for i in live:
            stats.count(docs[i].status, docs[i].reason)
        stats.seconds += time.perf_counter() - t0

    def _process_chunk(self, docs: Sequence[Doc], chunk: Sequence[int], beat: OnRecord) -> None:
        """Prepare, answer and finish the records ``docs[i]`` for ``i`` in ``chunk``."""
        items: dict[int, Item] = {}

        def prepare(i: int) -> None:
            item = self.prepare(docs[i])
            if item is not None:
                items[i] = item

        for i in chunk:
            beat(i)
            self.settle(docs[i], partial(prepare, i))
        keys = [i for i in items if docs[i].ok]
        try:
            answers: Sequence[Answer] | None = self.answer_all([items[i] for i in keys])
        except Exception:  # noqa: BLE001 - a batch that fails is answered record by record
            answers = None
        for j, i in enumerate(keys):
            beat(i)
            self.settle(docs[i], partial(self._finish, docs[i], items[i], answers[j] if answers else None))

    def _finish(self, doc: Doc, item: Item, answer: Answer | None) -> None:
        self.finish(doc, item, self.answer_all([item])[0] if answer is None else answer)


def _no_beat(index: int) -> None:
    """No heartbeat to tell (the stage runs outside a pool worker's chain)."""


class VerdictStage(DocStage):
    """A stage that only keeps, drops or rejects records, judging them on a few fields.

    It declares the fields it reads (``reads``, columns of the work schema and attributes of
    :class:`Doc`) and writes :meth:`judge` over a mapping of them. On Docs it runs like any
    :class:`DocStage`; on an Arrow batch it reads just those columns and rewrites just the status
    columns, without turning the batch into Docs and back - which is most of the cost of the stages
    the coordinator runs on every batch (dedup, the length filter).
    """

    reads: ClassVar[tuple[str, ...]]

    @abstractmethod
    def judge(self, fields: Mapping[str, Any]) -> None:
        """Return to keep the record; raise :class:`DropRecord` or :class:`RejectRecord` otherwise."""

    def process(self, doc: Doc) -> None:
        self.judge({name: getattr(doc, name) for name in self.reads})

    def process_batch(self, batch: pa.RecordBatch | pa.Table) -> pa.RecordBatch | pa.Table:
        if not isinstance(batch, pa.RecordBatch) or batch.schema.names != WORK_SCHEMA.names:
            return super().process_batch(batch)  # not a work batch: read (and checked) as Docs
        stats, t0 = self.stats, time.perf_counter()
        columns = [batch.column(name).to_pylist() for name in self.reads]
        verdicts: dict[int, Verdict] = {}
        for i, status in enumerate(batch.column("status").to_pylist()):
            if status != Status.OK:
                continue
            fields = {name: column[i] for name, column in zip(self.reads, columns, strict=True)}
            verdict = outcome(partial(self.judge, fields))
            if verdict is None:
                stats.count(Status.OK)
            else:
                verdicts[i] = verdict
                stats.count(verdict[0], verdict[1])
        stats.seconds += time.perf_counter() - t0
        return with_verdicts(batch, self.name, verdicts) if verdicts else batch


def split_parallel(stages: Sequence[Stage]) -> tuple[list[Stage], list[Stage]]:
    """``stages`` as the leading ones that may run in worker processes (until the first one that
    is not :attr:`~Stage.parallel_safe`) and the rest, which run in order in one process."""
    n = next((i for i, stage in enumerate(stages) if not stage.parallel_safe), len(stages))
    return list(stages[:n]), list(stages[n:])


def stats_from_batch(stages: Sequence[Stage], batch: pa.RecordBatch | pa.Table) -> dict[str, StageStats]:
    """Per-stage counts of a processed batch, recovered from its status columns.

    A record rejected or dropped by stage *k* was ``ok`` when it entered stages 1..k and is
    counted by *k*; a record still ``ok`` passed them all; records that were never ``ok``
    (rejected by the reader) entered none. These are exactly the counters the stages keep, so
    the manifest's per-stage counts match the local engine's. (Seconds are not recoverable.)
    """
    index = {stage.name: k for k, stage in enumerate(stages)}
    stats = {stage.name: StageStats() for stage in stages}
    columns = (batch.column(n).to_pylist() for n in ("status", "stage", "reason"))
    for status, stage_name, reason in zip(*columns, strict=True):
        last = len(stages) if status == Status.OK else index.get(stage_name, -1)
        if last < 0:
            continue
        for stage in stages[:last]:
            stats[stage.name].count(Status.OK)
        if last < len(stages):
            stats[stages[last].name].count(Status(status), reason)
    return stats


def same_kind(out: pa.RecordBatch, like: pa.RecordBatch | pa.Table) -> pa.RecordBatch | pa.Table:
    """``out`` as a table when ``like`` is one (Ray Data takes tables, not record batches)."""
    return pa.Table.from_batches([out]) if isinstance(like, pa.Table) else out


def with_verdicts(batch: pa.RecordBatch, stage: str, verdicts: Mapping[int, Verdict]) -> pa.RecordBatch:
    """``batch`` with the rows in ``verdicts`` marked (status, reason, detail) by ``stage``."""
    marked = {name: batch.column(name).to_pylist() for name in ("status", "stage", "reason", "detail")}
    for i, (status, reason, detail) in verdicts.items():
        marked["status"][i], marked["stage"][i] = status.value, stage
        marked["reason"][i], marked["detail"][i] = reason, detail
    arrays = [
        pa.array(marked[name], type=column.type) if name in marked else column
        for name, column in zip(batch.schema.names, batch.columns, strict=True)
    ]
    return pa.RecordBatch.from_arrays(arrays, schema=batch.schema)
