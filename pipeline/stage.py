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
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import ClassVar

import pyarrow as pa

from pipeline.record import Doc, docs_from_batch, docs_to_batch


class RejectRecord(Exception):
    """Raised inside :meth:`DocStage.process` to reject the current record with a reason."""

    def __init__(self, reason: str, detail: str | None = None) -> None:
        super().__init__(reason)
        self.reason = reason
        self.detail = detail


class DropRecord(RejectRecord):
    """Raised inside :meth:`DocStage.process` to drop the record on purpose (a filter said no)."""


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

    def to_dict(self) -> dict[str, object]:
        return {
            "n_in": self.n_in,
            "n_ok": self.n_ok,
            "rejected": dict(sorted(self.rejected.items())),
            "dropped": dict(sorted(self.dropped.items())),
            "seconds": round(self.seconds, 3),
        }


class Stage(ABC):
    """A transform over work batches. ``name`` is what configs, rejects and the manifest call it."""

    name: ClassVar[str]
    #: False for stages with state across records (dedup): the runner keeps them in one process.
    parallel_safe: ClassVar[bool] = True

    def __init__(self) -> None:
        self.stats = StageStats()

    def process_batch(self, batch: pa.RecordBatch | pa.Table) -> pa.RecordBatch:
        """Arrow in, Arrow out (same rows, same order): the interface for Ray Data and Airflow."""
        docs = docs_from_batch(batch)
        self.process_docs(docs)
        return docs_to_batch(docs)

    def __call__(self, batch: pa.RecordBatch | pa.Table) -> pa.RecordBatch:
        return self.process_batch(batch)

    @abstractmethod
    def process_docs(self, docs: Sequence[Doc]) -> None:
        """Transform the docs in place; records that are not ``ok`` must be left untouched."""

    def __repr__(self) -> str:
        return f"{type(self).__name__}()"


class DocStage(Stage):
    """A stage that transforms one document at a time, independently of the others."""

    def process_docs(self, docs: Sequence[Doc]) -> None:
        stats = self.stats
        t0 = time.perf_counter()
        for doc in docs:
            if not doc.ok:
                continue
            stats.n_in += 1
            try:
                self.process(doc)
            except DropRecord as sig:
                doc.drop(self.name, sig.reason, sig.detail)
            except RejectRecord as sig:
                doc.reject(self.name, sig.reason, sig.detail)
            except Exception as exc:  # noqa: BLE001 - one record's failure is data: rejected with the cause
                doc.reject(self.name, "stage_error", f"{type(exc).__name__}: {exc}"[:500])
            if doc.ok:
                stats.n_ok += 1
            elif doc.status.value == "rejected":
                stats.rejected[doc.reason or "?"] += 1
            else:
                stats.dropped[doc.reason or "?"] += 1
        stats.seconds += time.perf_counter() - t0

    @abstractmethod
    def process(self, doc: Doc) -> None:
        """Transform one ``ok`` document in place, or raise :class:`RejectRecord`/:class:`DropRecord`."""
