"""The records that left the stream (rejected or dropped), counted by stage and reason with a few
examples of each."""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from typing import Any

import pyarrow as pa
import pyarrow.compute as pc

from pipeline.core.schema import string_scalar

EXAMPLES_PER_REASON = 3


@dataclass(frozen=True)
class RejectExample:
    id: str
    source: str
    detail: str | None
    raw_prefix: str | None


@dataclass
class ReasonStats:
    """Records that left the stream for one ``status``/``stage``/``reason``."""

    status: str  # rejected | dropped
    stage: str
    reason: str
    count: int = 0
    examples: list[RejectExample] = field(default_factory=list)

    @property
    def key(self) -> str:
        return f"{self.stage}/{self.reason}"

    def to_dict(self) -> dict[str, Any]:
        return {
            "status": self.status,
            "stage": self.stage,
            "reason": self.reason,
            "count": self.count,
            "examples": [vars(e) for e in self.examples],
        }


def _example(row: dict[str, Any]) -> RejectExample:
    return RejectExample(
        id=str(row.get("id")),
        source=str(row.get("source")),
        detail=row.get("detail"),
        raw_prefix=row.get("raw_prefix"),
    )


@dataclass
class LeftStats:
    """Accumulates rejects or dropped records, with a few examples per reason."""

    reasons: dict[tuple[str, str, str], ReasonStats] = field(default_factory=dict)

    def add_batch(self, batch: pa.RecordBatch, status: str) -> None:
        """Count by stage and reason (vectorised); take examples only for reasons short of them."""
        table = pa.table(
            {
                "stage": pc.fill_null(batch.column("stage"), string_scalar("?")),
                "reason": pc.fill_null(batch.column("reason"), string_scalar("?")),
                "row": pa.array(range(batch.num_rows), pa.int64()),
            }
        )
        grouped = table.group_by(["stage", "reason"]).aggregate([("row", "count")])
        for group in grouped.to_pylist():
            stage, reason = str(group["stage"]), str(group["reason"])
            rs = self.reasons.setdefault((status, stage, reason), ReasonStats(status, stage, reason))
            rs.count += int(group["row_count"])
            missing = EXAMPLES_PER_REASON - len(rs.examples)
            if missing > 0:
                mask = pc.and_(
                    pc.equal(table.column("stage"), string_scalar(stage)),
                    pc.equal(table.column("reason"), string_scalar(reason)),
                )
                rows = batch.filter(mask).slice(0, missing).to_pylist()
                rs.examples += [_example(row) for row in rows]

    def by_stage(self, status: str) -> Counter[str]:
        out: Counter[str] = Counter()
        for (st, stage, _), rs in self.reasons.items():
            if st == status:
                out[stage] += rs.count
        return out

    def total(self, status: str) -> int:
        return sum(rs.count for (st, _, _), rs in self.reasons.items() if st == status)


def sorted_reasons(left: LeftStats) -> list[ReasonStats]:
    return sorted(left.reasons.values(), key=lambda rs: (-rs.count, rs.status, rs.key))
