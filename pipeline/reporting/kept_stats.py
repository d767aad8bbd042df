"""What the kept records hold, counted batch by batch with Arrow kernels: characters before and
after, removals by rule and category, languages, lengths, and per-site sums. Every accumulator is
bounded by the number of distinct keys (rules, categories, languages, sites), not of records."""

from __future__ import annotations

import heapq
from collections import Counter
from dataclasses import dataclass, field

import pyarrow as pa
import pyarrow.compute as pc

from pipeline.reporting.lengths import LengthDist

UNKNOWN_SITE = "(unknown)"
SITE_COMPACT_ROWS = 500_000  # pending per-site rows before they are re-grouped
_HOST_RE = r"^[A-Za-z][A-Za-z0-9+.\-]*://(?:[^@/?#]*@)?(?:www\d?\.)?(?P<host>[^/:?#]+)"


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


def site_column(batch: pa.RecordBatch) -> list[str]:
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
            {"site": site_column(batch), "docs": ones, "removed": per_doc, "has": has, "text": text}
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
