"""``cleanwire stats``: what a run kept, removed and rejected, computed from its output directory.

Everything here streams: the kept records are read batch by batch through :mod:`pyarrow.dataset`
(so both the flat ``part-*.parquet`` layout and hive partitions such as ``lang=en/part-*.parquet``
work), only the columns needed are read (never ``text``), and every accumulator is bounded by the
number of distinct keys (rules, categories, languages, sites, reasons), not by the number of
records. Lengths are kept as a histogram of values rounded to three significant digits, so length
quantiles are exact below 1,000 characters and within 0.5 % above.

The numbers are computed from the data files themselves; ``manifest.json``, when present, only
supplies the stage order and a cross-check of the totals.
"""

from __future__ import annotations

import bisect
import heapq
import math
from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.compute as pc

from pipeline.core.config import Config
from pipeline.io.output_reader import OutputReader

READ_STAGE = "read"
UNKNOWN_SITE = "(unknown)"
#: Columns of the kept records that the statistics need (``text`` is never read).
KEPT_COLUMNS = ("id", "url", "sitename", "lang", "removed", "encoding_fixes", "n_chars_raw", "n_chars_text")
SITE_COMPACT_ROWS = 500_000  # pending per-site rows before they are re-grouped
EXAMPLES_PER_REASON = 3
_HOST_RE = r"^[A-Za-z][A-Za-z0-9+.\-]*://(?:[^@/?#]*@)?(?:www\d?\.)?(?P<host>[^/:?#]+)"


def quantize_length(n: int) -> int:
    """``n`` rounded to three significant digits (exact below 1,000)."""
    if n < 1000:
        return max(n, 0)
    unit: int = 10 ** (len(str(n)) - 3)
    return ((n + unit // 2) // unit) * unit


def quantize_array(values: pa.Array) -> pa.Array:
    """:func:`quantize_length` over an int64 array, with integer kernels only."""
    values = pc.max_element_wise(values, 0)
    unit: pa.Array | pa.Scalar = pa.scalar(1, pa.int64())
    for digits in range(4, 20):  # up to 19 digits, all of int64
        unit = pc.if_else(
            pc.greater_equal(values, 10 ** (digits - 1)), pa.scalar(10 ** (digits - 3), pa.int64()), unit
        )
    return pc.multiply(pc.divide(pc.add(values, pc.divide(unit, 2)), unit), unit)


@dataclass
class LengthDist:
    """A mergeable length distribution: a counter of quantized lengths."""

    counts: Counter[int] = field(default_factory=Counter)
    total: int = 0
    max: int = 0
    min: int | None = None

    def add(self, values: Iterable[int]) -> None:
        for v in values:
            self.counts[quantize_length(v)] += 1
            self.total += v
            self.max = max(self.max, v)
            self.min = v if self.min is None else min(self.min, v)

    def add_array(self, values: pa.Array) -> None:
        """Like :meth:`add` for an Arrow integer array (vectorised; loops over distinct lengths only)."""
        if not len(values):
            return
        values = values.cast(pa.int64())
        self.total += _sum(values)
        lo, hi = int(pc.min(values).as_py() or 0), int(pc.max(values).as_py() or 0)
        self.max = max(self.max, hi)
        self.min = lo if self.min is None else min(self.min, lo)
        for vc in pc.value_counts(quantize_array(values)).to_pylist():
            self.counts[int(vc["values"])] += int(vc["counts"])

    @property
    def n(self) -> int:
        return sum(self.counts.values())

    @property
    def mean(self) -> float:
        return self.total / self.n if self.n else 0.0

    def quantile(self, q: float) -> int:
        """The smallest (quantized) length with at least ``q`` of the records at or below it,
        clamped to the exact minimum and maximum."""
        n = self.n
        if not n:
            return 0
        rank = max(1, math.ceil(q * n))
        seen = 0
        for value in sorted(self.counts):
            seen += self.counts[value]
            if seen >= rank:
                return min(max(value, self.min or 0), self.max)
        return self.max

    def histogram(self, edges: list[int]) -> list[int]:
        """Counts per bin ``[edges[i], edges[i+1])``; values past the last edge go in the last bin."""
        bins = [0] * (len(edges) - 1)
        for value, count in self.counts.items():
            i = min(max(bisect.bisect_right(edges, value) - 1, 0), len(bins) - 1)
            bins[i] += count
        return bins

    def summary(self) -> dict[str, float | int]:
        return {
            "n": self.n,
            "mean": round(self.mean, 1),
            "p10": self.quantile(0.1),
            "p50": self.quantile(0.5),
            "p90": self.quantile(0.9),
            "max": self.max,
        }


def log_edges(hi: int, per_decade: int = 4) -> list[int]:
    """Bin edges 0, 1, then ``per_decade`` log-spaced steps per decade up past ``hi``."""
    edges = [0, 1]
    k = 1
    while edges[-1] <= hi:
        nxt = round(10 ** (k / per_decade))
        if nxt > edges[-1]:
            edges.append(nxt)
        k += 1
    return edges


@dataclass
class SpanCount:
    """Removals attributed to one rule or category."""

    spans: int = 0
    chars: int = 0
    docs: int = 0

    def to_dict(self) -> dict[str, int]:
        return {"spans": self.spans, "chars": self.chars, "docs": self.docs}


@dataclass
class SiteStats:
    docs: int = 0
    docs_with_removals: int = 0
    chars_removed: int = 0
    chars_text: int = 0

    @property
    def removed_share(self) -> float:
        """Removed characters over the characters that entered removal (kept + removed)."""
        before = self.chars_removed + self.chars_text
        return self.chars_removed / before if before else 0.0

    def to_dict(self) -> dict[str, float | int]:
        return {
            "docs": self.docs,
            "docs_with_removals": self.docs_with_removals,
            "chars_removed": self.chars_removed,
            "chars_text": self.chars_text,
            "removed_share": round(self.removed_share, 4),
        }


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


def _site_column(batch: pa.RecordBatch) -> list[str]:
    """The host of the URL (without ``www.``), else the sitename, else ``(unknown)``."""
    urls = batch.column("url")
    if urls.null_count == len(urls):
        hosts = pa.nulls(len(urls), pa.string())
    else:
        hosts = pc.utf8_lower(pc.struct_field(pc.extract_regex(urls, _HOST_RE), "host"))
    names = batch.column("sitename") if "sitename" in batch.schema.names else pa.nulls(len(urls), pa.string())
    return [str(s) for s in pc.coalesce(hosts, names, pa.scalar(UNKNOWN_SITE)).to_pylist()]


@dataclass
class KeptStats:
    """Accumulates the kept records (``part-*.parquet``) batch by batch."""

    n: int = 0
    chars_raw: int = 0
    chars_text: int = 0
    chars_removed: int = 0
    docs_with_removals: int = 0
    docs_with_encoding_fixes: int = 0
    langs: Counter[str] = field(default_factory=Counter)
    rules: dict[str, SpanCount] = field(default_factory=dict)
    categories: dict[str, SpanCount] = field(default_factory=dict)
    sites: dict[str, SiteStats] = field(default_factory=dict)
    len_raw: LengthDist = field(default_factory=LengthDist)
    len_before: LengthDist = field(default_factory=LengthDist)
    len_text: LengthDist = field(default_factory=LengthDist)
    #: How many records with the most removed characters to remember (for sample diffs).
    keep_top: int = 0
    top_docs: list[tuple[int, str]] = field(default_factory=list)  # min-heap of (chars removed, id)
    _site_parts: list[pa.Table] = field(default_factory=list, repr=False)

    def add_batch(self, batch: pa.RecordBatch) -> None:
        """Count one batch with vectorised Arrow kernels; Python loops only over distinct keys."""
        rows = batch.num_rows
        if not rows:
            return
        self.n += rows
        raw = pc.fill_null(batch.column("n_chars_raw").cast(pa.int64()), 0)
        text = pc.fill_null(batch.column("n_chars_text").cast(pa.int64()), 0)
        per_doc = self._add_removals(batch.column("removed"))
        self.chars_raw += _sum(raw)
        self.chars_text += _sum(text)
        self.chars_removed += _sum(per_doc)
        self.docs_with_removals += _sum(pc.greater(per_doc, 0))
        self.docs_with_encoding_fixes += _sum(
            pc.greater(pc.list_value_length(batch.column("encoding_fixes")), 0)
        )
        self.langs.update(_value_counts(batch.column("lang")))
        self.len_raw.add_array(raw)
        self.len_text.add_array(text)
        self.len_before.add_array(pc.add(text, per_doc))
        if self.keep_top:
            self._track_top(batch.column("id"), per_doc)
        self._add_sites(batch, per_doc, text)

    def _add_sites(self, batch: pa.RecordBatch, per_doc: pa.Array, text: pa.Array) -> None:
        """Per-site sums stay in Arrow (re-grouped when they pile up) until :meth:`finish`."""
        has = pc.greater(per_doc, 0).cast(pa.int64())
        ones = pa.array([1] * batch.num_rows, pa.int64())
        table = pa.table(
            {"site": _site_column(batch), "docs": ones, "removed": per_doc, "has": has, "text": text}
        )
        self._site_parts.append(_sum_by_site(table))
        if sum(t.num_rows for t in self._site_parts) > SITE_COMPACT_ROWS:
            self._site_parts = [_sum_by_site(pa.concat_tables(self._site_parts))]

    def finish(self) -> None:
        """Fold the pending per-site sums into :attr:`sites`."""
        if not self._site_parts:
            return
        for row in _sum_by_site(pa.concat_tables(self._site_parts)).to_pylist():
            st = self.sites.setdefault(str(row["site"]), SiteStats())
            st.docs += int(row["docs"])
            st.chars_removed += int(row["removed"])
            st.docs_with_removals += int(row["has"])
            st.chars_text += int(row["text"])
        self._site_parts = []

    def _track_top(self, ids: pa.Array, per_doc: pa.Array) -> None:
        table = pa.table({"id": ids.cast(pa.string()), "removed": per_doc})
        table = table.filter(pc.greater(table.column("removed"), 0))
        if not table.num_rows:
            return
        order = [("removed", "descending"), ("id", "descending")]  # the same ties as the heap
        best = pc.select_k_unstable(table, self.keep_top, sort_keys=order)
        for row in table.take(best).to_pylist():
            item = (int(row["removed"]), str(row["id"]))
            if len(self.top_docs) < self.keep_top:
                heapq.heappush(self.top_docs, item)
            elif item > self.top_docs[0]:
                heapq.heapreplace(self.top_docs, item)

    def top_removal_ids(self) -> list[str]:
        """Ids of the records with the most removed characters, most first."""
        return [doc_id for _, doc_id in sorted(self.top_docs, reverse=True)]

    def _add_removals(self, removed: pa.Array) -> pa.Array:
        """Count spans per rule and category; return the removed characters of each record."""
        if isinstance(removed, pa.ChunkedArray):
            removed = removed.combine_chunks()
        flat = pc.list_flatten(removed)
        lengths = pc.max_element_wise(
            pc.subtract(
                pc.struct_field(flat, "end").cast(pa.int64()), pc.struct_field(flat, "start").cast(pa.int64())
            ),
            0,
        )
        # per-record sums from the prefix sums of the span lengths at the list offsets
        prefix = (
            pa.concat_arrays([pa.array([0], pa.int64()), pc.cumulative_sum(lengths)])
            if len(flat)
            else pa.array([0], pa.int64())
        )
        offsets = pc.subtract(removed.offsets, removed.offsets[0]).cast(pa.int64())
        ends = pc.take(prefix, offsets.slice(1))
        starts = pc.take(prefix, offsets.slice(0, len(offsets) - 1))
        per_doc = pc.subtract(ends, starts)
        if len(flat):
            spans = pa.table(
                {
                    "rule": pc.struct_field(flat, "rule"),
                    "category": pc.struct_field(flat, "category"),
                    "n": lengths,
                    "doc": pc.list_parent_indices(removed),
                }
            )
            for key, target in (("rule", self.rules), ("category", self.categories)):
                grouped = spans.group_by(key).aggregate(
                    [("n", "count"), ("n", "sum"), ("doc", "count_distinct")]
                )
                for row in grouped.to_pylist():
                    sc = target.setdefault(str(row[key]), SpanCount())
                    sc.spans += int(row["n_count"])
                    sc.chars += int(row["n_sum"] or 0)
                    sc.docs += int(row["doc_count_distinct"])
        return per_doc


def _sum_by_site(table: pa.Table) -> pa.Table:
    cols = ("docs", "removed", "has", "text")
    grouped = table.group_by("site").aggregate([(c, "sum") for c in cols])
    return pa.table({"site": grouped.column("site"), **{c: grouped.column(f"{c}_sum") for c in cols}})


def _sum(values: pa.Array) -> int:
    return int(pc.sum(values.cast(pa.int64())).as_py() or 0)


def _value_counts(values: pa.Array) -> dict[str, int]:
    return {str(vc["values"]): int(vc["counts"]) for vc in pc.value_counts(values).to_pylist()}


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
                "stage": pc.fill_null(batch.column("stage"), "?"),
                "reason": pc.fill_null(batch.column("reason"), "?"),
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
                    pc.equal(table.column("stage"), stage), pc.equal(table.column("reason"), reason)
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


@dataclass
class RunStats:
    out_dir: str
    kept: KeptStats
    left: LeftStats
    stage_order: list[str]
    manifest_counts: dict[str, Any] | None = None

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
        """Totals that disagree with ``manifest.json`` (e.g. a run still in progress)."""
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
        }


def top_counts(table: dict[str, SpanCount], n: int) -> list[tuple[str, SpanCount]]:
    return sorted(table.items(), key=lambda kv: (-kv[1].chars, -kv[1].spans, kv[0]))[:n]


def sorted_reasons(left: LeftStats) -> list[ReasonStats]:
    return sorted(left.reasons.values(), key=lambda rs: (-rs.count, rs.status, rs.key))


def _with_missing(batch: pa.RecordBatch, columns: Iterable[str]) -> pa.RecordBatch:
    """Add null columns for optional fields a dataset lacks (e.g. ``sitename``)."""
    for name in columns:
        if name not in batch.schema.names:
            batch = batch.append_column(name, pa.nulls(batch.num_rows, pa.string()))
    return batch


def stage_order(manifest: dict[str, Any] | None) -> list[str]:
    stages = (manifest or {}).get("config", {}).get("stages")
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
    for kind, status in (("rejects", "rejected"), ("dropped", "dropped")):
        for batch in reader.iter_left(kind):
            left.add_batch(batch, status)
    counts = (manifest or {}).get("counts")
    return RunStats(
        str(path), kept, left, stage_order(manifest), counts if isinstance(counts, dict) else None
    )
