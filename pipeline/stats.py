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
import json
import math
from collections import Counter
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.dataset as ds
import pyarrow.parquet as pq

from pipeline.errors import InputError

PART_GLOB = "part-*.parquet"
REJECTS_FILE = "rejects.parquet"
DROPPED_FILE = "dropped.parquet"
MANIFEST_FILE = "manifest.json"
READ_STAGE = "read"
UNKNOWN_SITE = "(unknown)"
#: Columns of the kept records that the statistics need (``text`` is never read).
KEPT_COLUMNS = ("id", "url", "sitename", "lang", "removed", "encoding_fixes", "n_chars_raw", "n_chars_text")
BATCH_ROWS = 8192
EXAMPLES_PER_REASON = 3
_HOST_RE = r"^[A-Za-z][A-Za-z0-9+.\-]*://(?:[^@/?#]*@)?(?:www\d?\.)?(?P<host>[^/:?#]+)"


def quantize_length(n: int) -> int:
    """``n`` rounded to three significant digits (exact below 1,000)."""
    if n < 1000:
        return max(n, 0)
    unit: int = 10 ** (len(str(n)) - 3)
    return ((n + unit // 2) // unit) * unit


@dataclass
class LengthDist:
    """A mergeable length distribution: a counter of quantized lengths."""

    counts: Counter[int] = field(default_factory=Counter)
    total: int = 0
    max: int = 0

    def add(self, values: Iterable[int]) -> None:
        for v in values:
            self.counts[quantize_length(v)] += 1
            self.total += v
            self.max = max(self.max, v)

    @property
    def n(self) -> int:
        return sum(self.counts.values())

    @property
    def mean(self) -> float:
        return self.total / self.n if self.n else 0.0

    def quantile(self, q: float) -> int:
        """The smallest (quantized) length with at least ``q`` of the records at or below it."""
        n = self.n
        if not n:
            return 0
        rank = max(1, math.ceil(q * n))
        seen = 0
        for value in sorted(self.counts):
            seen += self.counts[value]
            if seen >= rank:
                return value
        return max(self.counts)

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

    def add_batch(self, batch: pa.RecordBatch) -> None:
        rows = batch.num_rows
        if not rows:
            return
        self.n += rows
        raw = [int(v or 0) for v in batch.column("n_chars_raw").to_pylist()]
        text = [int(v or 0) for v in batch.column("n_chars_text").to_pylist()]
        per_doc = self._add_removals(batch.column("removed"), rows)
        self.chars_raw += sum(raw)
        self.chars_text += sum(text)
        self.chars_removed += sum(per_doc)
        self.docs_with_removals += sum(1 for r in per_doc if r)
        fixes = pc.list_value_length(batch.column("encoding_fixes"))
        self.docs_with_encoding_fixes += int(pc.sum(pc.greater(fixes, 0)).as_py() or 0)
        self.langs.update(str(v) for v in batch.column("lang").to_pylist())
        self.len_raw.add(raw)
        self.len_text.add(text)
        self.len_before.add(t + r for t, r in zip(text, per_doc, strict=True))
        if self.keep_top:
            self._track_top(batch.column("id").to_pylist(), per_doc)
        for site, removed, n_text in zip(_site_column(batch), per_doc, text, strict=True):
            st = self.sites.setdefault(site, SiteStats())
            st.docs += 1
            st.docs_with_removals += 1 if removed else 0
            st.chars_removed += removed
            st.chars_text += n_text

    def _track_top(self, ids: list[Any], per_doc: list[int]) -> None:
        for doc_id, removed in zip(ids, per_doc, strict=True):
            if not removed:
                continue
            item = (removed, str(doc_id))
            if len(self.top_docs) < self.keep_top:
                heapq.heappush(self.top_docs, item)
            elif item > self.top_docs[0]:
                heapq.heapreplace(self.top_docs, item)

    def top_removal_ids(self) -> list[str]:
        """Ids of the records with the most removed characters, most first."""
        return [doc_id for _, doc_id in sorted(self.top_docs, reverse=True)]

    def _add_removals(self, removed: pa.Array | pa.ChunkedArray, rows: int) -> list[int]:
        """Count spans per rule and category; return the removed characters of each record."""
        per_doc = [0] * rows
        flat = pc.list_flatten(removed)
        if not len(flat):
            return per_doc
        parents = pc.list_parent_indices(removed).to_pylist()
        starts = pc.struct_field(flat, "start").to_pylist()
        ends = pc.struct_field(flat, "end").to_pylist()
        rules = pc.struct_field(flat, "rule").to_pylist()
        cats = pc.struct_field(flat, "category").to_pylist()
        seen: set[tuple[str, str, int]] = set()
        for parent, start, end, rule, cat in zip(parents, starts, ends, rules, cats, strict=True):
            n = max(int(end) - int(start), 0)
            per_doc[parent] += n
            for kind, key, table in (("r", rule, self.rules), ("c", cat, self.categories)):
                sc = table.setdefault(str(key), SpanCount())
                sc.spans += 1
                sc.chars += n
                if (kind, str(key), parent) not in seen:
                    seen.add((kind, str(key), parent))
                    sc.docs += 1
        return per_doc


@dataclass
class LeftStats:
    """Accumulates rejects or dropped records, with a few examples per reason."""

    reasons: dict[tuple[str, str, str], ReasonStats] = field(default_factory=dict)

    def add_batch(self, batch: pa.RecordBatch, status: str) -> None:
        cols = {name: batch.column(name).to_pylist() for name in batch.schema.names}
        for i in range(batch.num_rows):
            stage, reason = str(cols["stage"][i] or "?"), str(cols["reason"][i] or "?")
            rs = self.reasons.setdefault((status, stage, reason), ReasonStats(status, stage, reason))
            rs.count += 1
            if len(rs.examples) < EXAMPLES_PER_REASON:
                rs.examples.append(
                    RejectExample(
                        id=str(cols["id"][i]),
                        source=str(cols["source"][i]),
                        detail=cols.get("detail", [None] * batch.num_rows)[i],
                        raw_prefix=cols.get("raw_prefix", [None] * batch.num_rows)[i],
                    )
                )

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


# --- reading an output directory -------------------------------------------------------------


def part_files(out_dir: Path) -> list[Path]:
    """``part-*.parquet`` anywhere below ``out_dir``, skipping ``_state`` and hidden directories."""
    files = []
    for path in sorted(out_dir.rglob(PART_GLOB)):
        rel = path.relative_to(out_dir).parts
        if any(p.startswith(("_", ".")) for p in rel):
            continue
        files.append(path)
    return files


def kept_dataset(out_dir: Path) -> ds.Dataset | None:
    files = part_files(out_dir)
    if not files:
        return None
    return ds.dataset(
        [str(f) for f in files], format="parquet", partitioning="hive", partition_base_dir=str(out_dir)
    )


def iter_kept(
    out_dir: Path, columns: Iterable[str], filter: pc.Expression | None = None
) -> Iterator[pa.RecordBatch]:
    dataset = kept_dataset(out_dir)
    if dataset is None:
        return
    names = set(dataset.schema.names)
    cols = [c for c in columns if c in names]
    yield from dataset.to_batches(columns=cols, filter=filter, batch_size=BATCH_ROWS)


def _with_missing(batch: pa.RecordBatch, columns: Iterable[str]) -> pa.RecordBatch:
    """Add null columns for optional fields a dataset lacks (e.g. ``sitename``)."""
    for name in columns:
        if name not in batch.schema.names:
            batch = batch.append_column(name, pa.nulls(batch.num_rows, pa.string()))
    return batch


def iter_left(out_dir: Path, name: str) -> Iterator[pa.RecordBatch]:
    path = out_dir / name
    if path.exists():
        yield from pq.ParquetFile(path).iter_batches(batch_size=BATCH_ROWS)


def read_manifest(out_dir: Path) -> dict[str, Any] | None:
    path = out_dir / MANIFEST_FILE
    if not path.exists():
        return None
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        raise InputError(f"cannot read {path}: {exc}") from exc
    return data if isinstance(data, dict) else None


def stage_order(manifest: dict[str, Any] | None) -> list[str]:
    stages = (manifest or {}).get("config", {}).get("stages")
    if isinstance(stages, list) and all(isinstance(s, str) for s in stages):
        return list(stages)
    from pipeline.config import Config

    return list(Config().stages)


def check_out_dir(out_dir: Path) -> None:
    if not out_dir.is_dir():
        raise InputError(f"{out_dir} is not a directory", hint="pass the -o directory of `cleanwire run`")
    if not part_files(out_dir) and not (out_dir / REJECTS_FILE).exists():
        raise InputError(
            f"{out_dir} holds no cleanwire output (no part-*.parquet, no rejects.parquet)",
            hint="pass the -o directory of `cleanwire run`",
        )


def compute_stats(out_dir: str | Path, *, keep_top: int = 0) -> RunStats:
    """Stream over a run's output directory and return its statistics.

    ``keep_top`` remembers the ids of that many records with the most removed characters.
    """
    path = Path(out_dir)
    check_out_dir(path)
    manifest = read_manifest(path)
    kept = KeptStats(keep_top=keep_top)
    for batch in iter_kept(path, KEPT_COLUMNS):
        kept.add_batch(_with_missing(batch, ("url", "sitename")))
    left = LeftStats()
    for name, status in ((REJECTS_FILE, "rejected"), (DROPPED_FILE, "dropped")):
        for batch in iter_left(path, name):
            left.add_batch(batch, status)
    counts = (manifest or {}).get("counts")
    return RunStats(
        str(path), kept, left, stage_order(manifest), counts if isinstance(counts, dict) else None
    )
