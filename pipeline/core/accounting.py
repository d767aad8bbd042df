"""Counting records: a mergeable :class:`Tally` computed from work batches.

Every record that enters is counted once, in exactly one of kept / dropped / rejected, so
``n_in == n_kept + n_dropped + n_rejected`` is an identity the runner checks, not a hope.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from typing import Any

import pyarrow as pa
import pyarrow.compute as pc

from pipeline.core.record import Status


def rows_where(batch: pa.RecordBatch, mask: pa.BooleanArray) -> pa.RecordBatch | None:
    """The rows of ``batch`` where ``mask`` is true; ``batch`` itself when it is true everywhere
    (no copy), None when nowhere."""
    n = pc.sum(mask).as_py() or 0
    if n == 0:
        return None
    return batch if n == batch.num_rows else batch.filter(mask)


@dataclass
class Tally:
    n_in: int = 0
    n_kept: int = 0
    n_dropped: int = 0
    n_rejected: int = 0
    rejected: Counter[str] = field(default_factory=Counter)  # "stage/reason" -> n
    dropped: Counter[str] = field(default_factory=Counter)
    langs: Counter[str] = field(default_factory=Counter)
    removed_by_category: Counter[str] = field(default_factory=Counter)  # chars removed
    flags: Counter[str] = field(default_factory=Counter)
    chars_raw: int = 0
    chars_text: int = 0

    @property
    def balanced(self) -> bool:
        return self.n_in == self.n_kept + self.n_dropped + self.n_rejected

    def add_batch(self, batch: pa.RecordBatch) -> None:
        """Count a batch that has been through every stage."""
        self.n_in += batch.num_rows
        status = batch.column("status").to_pylist()
        stages = batch.column("stage").to_pylist()
        reasons = batch.column("reason").to_pylist()
        for st, sg, rs in zip(status, stages, reasons, strict=True):
            if st == "ok":
                self.n_kept += 1
            elif st == "dropped":
                self.n_dropped += 1
                self.dropped[f"{sg}/{rs}"] += 1
            else:
                self.n_rejected += 1
                self.rejected[f"{sg}/{rs}"] += 1
        needed = ("lang", "n_chars_raw", "n_chars_text", "removed", "flags")
        ok = rows_where(batch.select(needed), pc.equal(batch.column("status"), Status.OK.scalar()))
        if ok is not None:
            self.langs.update(ok.column("lang").to_pylist())
            self.chars_raw += int(pc.sum(ok.column("n_chars_raw")).as_py() or 0)
            self.chars_text += int(pc.sum(ok.column("n_chars_text")).as_py() or 0)
            # the removals' fields, not whole removals as dicts: their snippets are never read here
            removals = ok.column("removed").flatten()
            sizes = pc.subtract(removals.field("end"), removals.field("start"))
            for category, size in zip(removals.field("category").to_pylist(), sizes.to_pylist(), strict=True):
                self.removed_by_category[category] += size
            self.flags.update(ok.column("flags").flatten().to_pylist())

    def merge(self, other: Tally) -> None:
        self.n_in += other.n_in
        self.n_kept += other.n_kept
        self.n_dropped += other.n_dropped
        self.n_rejected += other.n_rejected
        for name in ("rejected", "dropped", "langs", "removed_by_category", "flags"):
            getattr(self, name).update(getattr(other, name))
        self.chars_raw += other.chars_raw
        self.chars_text += other.chars_text

    def to_dict(self) -> dict[str, Any]:
        return {
            "n_in": self.n_in,
            "n_kept": self.n_kept,
            "n_dropped": self.n_dropped,
            "n_rejected": self.n_rejected,
            "rejected": dict(sorted(self.rejected.items())),
            "dropped": dict(sorted(self.dropped.items())),
            "langs": dict(self.langs.most_common()),
            "removed_chars_by_category": dict(self.removed_by_category.most_common()),
            "flags": dict(sorted(self.flags.items())),
            "chars_raw": self.chars_raw,
            "chars_text": self.chars_text,
        }

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Tally:
        return cls(
            n_in=data["n_in"],
            n_kept=data["n_kept"],
            n_dropped=data["n_dropped"],
            n_rejected=data["n_rejected"],
            rejected=Counter(data.get("rejected", {})),
            dropped=Counter(data.get("dropped", {})),
            langs=Counter(data.get("langs", {})),
            removed_by_category=Counter(data.get("removed_chars_by_category", {})),
            flags=Counter(data.get("flags", {})),
            chars_raw=data.get("chars_raw", 0),
            chars_text=data.get("chars_text", 0),
        )
