"""``cleanwire stats``: what a run kept, removed and rejected, computed from its output directory.

One streaming pass (:func:`compute_stats`) reads the kept records through
:class:`~pipeline.io.output_reader.OutputReader`, only the columns needed (never ``text``), into
:class:`~pipeline.reporting.kept_stats.KeptStats`, and the rejected and dropped records into
:class:`~pipeline.reporting.left_stats.LeftStats`; :class:`RunStats` puts them together (the
funnel through the stages, the totals, the ranked tables). Lengths: :mod:`pipeline.reporting.lengths`.

The numbers are computed from the data files themselves; the manifest, when present, only
supplies the stage order and a cross-check of the totals.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.compute as pc

from pipeline.core.config import Config
from pipeline.io.output_reader import OutputReader
from pipeline.reporting.duplicates import DuplicateStats
from pipeline.reporting.kept_stats import UNKNOWN_SITE, KeptStats, SiteStats, SpanCount
from pipeline.reporting.left_stats import LeftStats, sorted_reasons

READ_STAGE = "read"
#: Columns of the kept records that the statistics need (``text`` is never read).
KEPT_COLUMNS = ("id", "url", "sitename", "lang", "removed", "encoding_fixes", "n_chars_raw", "n_chars_text")


@dataclass
class StageRow:
    """One step of the funnel: how many records entered a stage and how many it took out."""

    stage: str
    entered: int
    rejected: int
    dropped: int

    @property
    def passed(self) -> int:
        return self.entered - self.rejected - self.dropped

    def to_dict(self) -> dict[str, int | str]:
        return {
            "stage": self.stage,
            "entered": self.entered,
            "rejected": self.rejected,
            "dropped": self.dropped,
            "passed": self.passed,
        }


@dataclass
class RunStats:
    out_dir: str
    kept: KeptStats
    left: LeftStats
    stage_order: list[str]
    manifest_counts: dict[str, Any] | None = None
    duplicates: DuplicateStats = field(default_factory=DuplicateStats)

    @property
    def n_kept(self) -> int:
        return self.kept.n

    @property
    def n_rejected(self) -> int:
        return self.left.total("rejected")

    @property
    def n_dropped(self) -> int:
        return self.left.total("dropped")

    @property
    def n_in(self) -> int:
        return self.n_kept + self.n_rejected + self.n_dropped

    def funnel(self) -> list[StageRow]:
        """Records through each stage, in pipeline order (the reader first)."""
        rejected, dropped = self.left.by_stage("rejected"), self.left.by_stage("dropped")
        extra = sorted((set(rejected) | set(dropped)) - set(self.stage_order) - {READ_STAGE})
        rows: list[StageRow] = []
        entered = self.n_in
        for stage in [READ_STAGE, *self.stage_order, *extra]:
            row = StageRow(stage, entered, rejected[stage], dropped[stage])
            rows.append(row)
            entered = row.passed
        return rows

    def manifest_mismatch(self) -> list[str]:
        """Totals that disagree with the manifest (e.g. a run still in progress)."""
        if not self.manifest_counts:
            return []
        ours = {"n_in": self.n_in, "n_kept": self.n_kept, "n_rejected": self.n_rejected}
        ours["n_dropped"] = self.n_dropped
        return [
            f"{k}: files say {v}, manifest says {self.manifest_counts.get(k)}"
            for k, v in ours.items()
            if self.manifest_counts.get(k) is not None and self.manifest_counts.get(k) != v
        ]

    def top_sites(self, n: int = 10, min_docs: int = 1) -> list[tuple[str, SiteStats]]:
        """Sites with removals and at least ``min_docs`` kept records, by removed share."""
        eligible = [
            (s, st)
            for s, st in self.kept.sites.items()
            if st.docs >= min_docs and st.chars_removed and s != UNKNOWN_SITE
        ]
        eligible.sort(key=lambda kv: (-kv[1].removed_share, -kv[1].chars_removed, kv[0]))
        return eligible[:n]

    @property
    def n_sites(self) -> int:
        return len(self.kept.sites) - (UNKNOWN_SITE in self.kept.sites)

    def to_dict(self, top: int = 20) -> dict[str, Any]:
        k = self.kept
        return {
            "out_dir": self.out_dir,
            "counts": {
                "n_in": self.n_in,
                "n_kept": self.n_kept,
                "n_rejected": self.n_rejected,
                "n_dropped": self.n_dropped,
            },
            "manifest_mismatch": self.manifest_mismatch(),
            "stages": [r.to_dict() for r in self.funnel()],
            "reasons": [rs.to_dict() for rs in sorted_reasons(self.left)],
            "languages": dict(k.langs.most_common()),
            "chars": {
                "raw": k.chars_raw,
                "before_removal": k.chars_text + k.chars_removed,
                "text": k.chars_text,
                "removed": k.chars_removed,
            },
            "docs_with_removals": k.docs_with_removals,
            "docs_with_encoding_fixes": k.docs_with_encoding_fixes,
            "lengths": {
                "raw": k.len_raw.summary(),
                "before_removal": k.len_before.summary(),
                "text": k.len_text.summary(),
            },
            "rules": {r: sc.to_dict() for r, sc in top_counts(k.rules, top)},
            "categories": {c: sc.to_dict() for c, sc in top_counts(k.categories, top)},
            "sites": {s: st.to_dict() for s, st in self.top_sites(top)},
            "n_sites": self.n_sites,
            "duplicates": self.duplicates.to_dict(top),
        }


def top_counts(table: dict[str, SpanCount], n: int) -> list[tuple[str, SpanCount]]:
    return sorted(table.items(), key=lambda kv: (-kv[1].chars, -kv[1].spans, kv[0]))[:n]


def _with_missing(batch: pa.RecordBatch, columns: Iterable[str]) -> pa.RecordBatch:
    """Add null columns for optional fields a dataset lacks (e.g. ``sitename``)."""
    for name in columns:
        if name not in batch.schema.names:
            batch = batch.append_column(name, pa.nulls(batch.num_rows, pa.string()))
    return batch


def stage_order(manifest: dict[str, Any] | None) -> list[str]:
    """The stages the run ran, in order: the manifest's ``stages_run`` (a Python pipeline's own
    chain, custom stages included), else its config's ``stages`` (a manifest from before
    ``stages_run``), else the default chain."""
    for stages in ((manifest or {}).get("stages_run"), (manifest or {}).get("config", {}).get("stages")):
        if isinstance(stages, list) and all(isinstance(s, str) for s in stages):
            return list(stages)
    return list(Config().stages)


def compute_stats(out_dir: str | Path, *, keep_top: int = 0) -> RunStats:
    """Stream over a run's output directory and return its statistics.

    ``keep_top`` remembers the ids of that many records with the most removed characters.
    """
    path = Path(out_dir)
    reader = OutputReader(path)
    reader.check()
    manifest = reader.manifest()
    kept = KeptStats(keep_top=keep_top)
    for batch in reader.iter_kept(KEPT_COLUMNS):
        kept.add_batch(_with_missing(batch, ("url", "sitename")))
    kept.finish()
    left = LeftStats()
    duplicates = DuplicateStats()
    for kind, status in (("rejects", "rejected"), ("dropped", "dropped")):
        for batch in reader.iter_left(kind):
            left.add_batch(batch, status)
            if status == "dropped":
                duplicates.add_batch(batch)
    heads = duplicates.heads()
    if heads:  # the kept copies' sites: a second pass over three columns of just those records
        found = reader.iter_kept(("id", "url", "sitename"), filter=pc.field("id").isin(heads))
        duplicates.add_head_sites(_with_missing(b, ("url", "sitename")) for b in found)
    counts = (manifest or {}).get("counts")
    return RunStats(
        str(path),
        kept,
        left,
        stage_order(manifest),
        counts if isinstance(counts, dict) else None,
        duplicates,
    )
