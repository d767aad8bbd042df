"""``cleanwire report OUT/ -o report.html``: one self-contained HTML page about a finished run.

The page holds inline-SVG plots (see :mod:`pipeline.reporting.htmlplots`; no scripts, no network): records
through each stage, removed characters by category, rule and site, languages, text lengths before
and after, sample diffs of the records with the most removed characters, and the rejected and
dropped records by reason with examples. The numbers come from :func:`pipeline.reporting.stats.compute_stats`
(one streaming pass); the sample texts from a second pass that reads only the sampled ids.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

import pyarrow.compute as pc

from pipeline.core.errors import OutputError
from pipeline.core.fsutil import atomic_path
from pipeline.core.record import Removal
from pipeline.io.output_reader import OutputReader
from pipeline.reporting.diffs import place_removals, segments_html
from pipeline.reporting.htmlplots import (
    DROPPED_COLOR,
    KEPT_COLOR,
    PALETTE,
    REJECTED_COLOR,
    Bar,
    Series,
    StackedRow,
    esc,
    hbar_chart,
    histogram_chart,
    page,
    stacked_hbar_chart,
    table_html,
)
from pipeline.reporting.left_stats import sorted_reasons
from pipeline.reporting.lengths import log_edges
from pipeline.reporting.stats import RunStats, compute_stats, top_counts

REPORT_CSS = """
.kpis{display:flex;flex-wrap:wrap;gap:.8rem;margin:.8rem 0}
.kpi{border:1px solid #e3e3e3;border-radius:6px;padding:.5rem .9rem;min-width:8rem}
.kpi b{display:block;font-size:1.3rem}
details{margin:.4rem 0} summary{cursor:pointer}
nav a{margin-right:.8rem}
"""


OPEN_REASONS = 6  # reasons whose examples are shown unfolded


@dataclass(frozen=True)
class ReportOptions:
    samples: int = 5  # records with the most removals shown as diffs
    top: int = 15  # rows in ranked charts


@dataclass(frozen=True)
class SampleDoc:
    id: str
    url: str | None
    source: str
    text: str
    removed: list[Removal]

    @property
    def chars_removed(self) -> int:
        return sum(r.end - r.start for r in self.removed)


def load_samples(out_dir: Path, ids: Sequence[str]) -> list[SampleDoc]:
    """The kept records with these ids (in the given order), read in one filtered pass."""
    if not ids:
        return []
    found: dict[str, SampleDoc] = {}
    columns = ("id", "url", "source", "text", "removed")
    for batch in OutputReader(out_dir).iter_kept(columns, filter=pc.field("id").isin(list(ids))):
        for row in batch.to_pylist():
            found.setdefault(
                row["id"],
                SampleDoc(
                    id=row["id"],
                    url=row.get("url"),
                    source=row.get("source") or "",
                    text=row.get("text") or "",
                    removed=[Removal(**r) for r in row.get("removed") or []],
                ),
            )
    return [found[i] for i in ids if i in found]


def _pct(n: float, total: float) -> str:
    return f"{100 * n / total:.1f}%" if total else "-"


def _overview(stats: RunStats) -> str:
    k = stats.kept
    kpis = [
        ("records in", f"{stats.n_in:,}"),
        ("kept", f"{stats.n_kept:,} ({_pct(stats.n_kept, stats.n_in)})"),
        ("rejected", f"{stats.n_rejected:,} ({_pct(stats.n_rejected, stats.n_in)})"),
        ("dropped", f"{stats.n_dropped:,} ({_pct(stats.n_dropped, stats.n_in)})"),
        ("chars removed", f"{k.chars_removed:,} ({_pct(k.chars_removed, k.chars_removed + k.chars_text)})"),
        ("records with removals", f"{k.docs_with_removals:,}"),
        ("records with encoding fixes", f"{k.docs_with_encoding_fixes:,}"),
    ]
    boxes = "".join(f'<div class="kpi">{esc(label)}<b>{esc(value)}</b></div>' for label, value in kpis)
    warnings = "".join(f'<p class="muted">warning: {esc(w)}</p>' for w in stats.manifest_mismatch())
    return f'<div class="kpis">{boxes}</div>{warnings}'


def _run_info(out_dir: Path) -> str:
    manifest = OutputReader(out_dir).manifest() or {}
    items = [("output", str(out_dir))]
    for key in ("config_hash", "started"):
        if key in manifest:
            items.append((key, str(manifest[key])))
    versions = manifest.get("versions")
    if isinstance(versions, dict):
        items.append(("versions", ", ".join(f"{k} {v}" for k, v in sorted(versions.items()))))
    items.append(("report written", datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC")))
    return '<p class="muted">' + "<br>".join(f"{esc(k)}: {esc(v)}" for k, v in items) + "</p>"


def _funnel(stats: RunStats) -> str:
    funnel = stats.funnel()
    rows = [StackedRow(r.stage, (r.passed, r.rejected, r.dropped)) for r in funnel]
    legend = [("passed", KEPT_COLOR), ("rejected", REJECTED_COLOR), ("dropped", DROPPED_COLOR)]
    chart = stacked_hbar_chart("funnel", "Records through each stage", rows, legend, centered=True)
    table = table_html(
        ["stage", "entered", "rejected", "dropped", "passed"],
        [[r.stage, r.entered, r.rejected, r.dropped, r.passed] for r in funnel],
        [False, True, True, True, True],
    )
    return chart + f"<details><summary>table</summary>{table}</details>"


def _removed(stats: RunStats, top: int) -> str:
    k = stats.kept
    total = k.chars_removed

    def bars(items: Sequence[tuple[str, int]]) -> list[Bar]:
        return [Bar(name, chars, _pct(chars, total)) for name, chars in items]

    cats = bars([(c, sc.chars) for c, sc in top_counts(k.categories, top)])
    rules = bars([(r, sc.chars) for r, sc in top_counts(k.rules, top)])
    by_chars = sorted(
        ((s, st) for s, st in k.sites.items() if st.chars_removed),
        key=lambda kv: (-kv[1].chars_removed, kv[0]),
    )[:top]
    sites = [Bar(s, st.chars_removed, f"{_pct(st.removed_share, 1)} of its text") for s, st in by_chars]
    share_rows = [
        [s, st.docs, st.docs_with_removals, st.chars_removed, _pct(st.removed_share, 1)]
        for s, st in stats.top_sites(top)
    ]
    return (
        hbar_chart("removed-by-category", "Removed characters by category", cats, color=PALETTE[3])
        + hbar_chart("removed-by-rule", "Removed characters by rule", rules, color=PALETTE[4])
        + hbar_chart("removed-by-site", "Removed characters by site", sites, color=PALETTE[1])
        + "<h3>Sites by removed share</h3>"
        + (
            table_html(
                ["site", "records", "with removals", "chars removed", "removed share"],
                share_rows,
                [False, True, True, True, True],
            )
            if share_rows
            else '<p class="muted">no site had text removed.</p>'
        )
    )


def _languages(stats: RunStats, top: int) -> str:
    langs = stats.kept.langs
    bars = [Bar(lang, n, _pct(n, stats.n_kept)) for lang, n in langs.most_common(top)]
    rest = sum(langs.values()) - sum(int(b.value) for b in bars)
    if rest:
        bars.append(Bar(f"{len(langs) - len(bars)} others", rest, _pct(rest, stats.n_kept)))
    return hbar_chart("languages", "Languages of kept records", bars, color=PALETTE[2])


def _lengths(stats: RunStats) -> str:
    k = stats.kept
    edges = log_edges(max(k.len_raw.max, k.len_before.max, 1))
    series = [
        Series("raw input", tuple(k.len_raw.histogram(edges)), PALETTE[5]),
        Series("text before removal", tuple(k.len_before.histogram(edges)), PALETTE[1]),
        Series("clean text", tuple(k.len_text.histogram(edges)), PALETTE[0]),
    ]
    first = min((i for i in range(len(edges) - 1) if any(s.counts[i] for s in series)), default=0)
    trimmed = [Series(s.name, s.counts[first:], s.color) for s in series]
    chart = histogram_chart("lengths", "Length of kept records, before and after", edges[first:], trimmed)
    summary = table_html(
        ["measure", "records", "mean", "p10", "p50", "p90", "max"],
        [
            [name, *dist.summary().values()]
            for name, dist in (
                ("raw input", k.len_raw),
                ("before removal", k.len_before),
                ("clean", k.len_text),
            )
        ],
        [False, True, True, True, True, True, True],
    )
    note = '<p class="muted">raw input is the record as read (HTML for HTML records); quantiles are exact below 1,000 chars, within 0.5% above.</p>'
    return chart + summary + note


def _samples(samples: Sequence[SampleDoc]) -> str:
    if not samples:
        return '<p class="muted">no kept record had anything removed.</p>'
    out = [
        '<p class="muted">The records with the most removed characters. Removed spans are struck through '
        "and placed where their recorded offsets fall in the clean text (snapped to a line start).</p>"
    ]
    for doc in samples:
        head = esc(doc.url or doc.source)
        rules = ", ".join(sorted({r.rule for r in doc.removed}))
        out.append(
            f'<details class="sample" open><summary><b>{esc(doc.id)}</b> - {head}: '
            f"{doc.chars_removed:,} chars removed ({esc(rules)})</summary>"
            f'<pre class="doc" data-id="{esc(doc.id)}">{segments_html(place_removals(doc.text, doc.removed))}</pre>'
            "</details>"
        )
    return "".join(out)


def _rejects(stats: RunStats) -> str:
    reasons = sorted_reasons(stats.left)
    if not reasons:
        return '<p class="muted">no record was rejected or dropped.</p>'
    bars = [Bar(f"{rs.key} ({rs.status})", rs.count, _pct(rs.count, stats.n_in)) for rs in reasons]
    out = [hbar_chart("rejects", "Rejected and dropped records by reason", bars, color=REJECTED_COLOR)]
    for i, rs in enumerate(reasons):
        rows = [[e.id, e.source, e.detail or "", (e.raw_prefix or "")[:200]] for e in rs.examples]
        out.append(
            f"<details{' open' if i < OPEN_REASONS else ''}><summary>{esc(rs.status)} <b>{esc(rs.key)}</b>: "
            f"{rs.count:,} record(s), e.g.</summary>"
            + table_html(["id", "source", "detail", "raw prefix"], rows, [False] * 4)
            + "</details>"
        )
    return "".join(out)


def _duplicates(stats: RunStats, top: int) -> str:
    dups = stats.duplicates
    if not dups.clusters:
        return '<p class="muted">no record was dropped as a copy of another.</p>'
    pairs = [Bar(f"{a} -> {b}", n, f"{n:,} stories") for a, b, n in dups.site_pairs(top)]
    rows = [
        [c.head, c.head_site, c.size, c.exact, c.copies - c.exact, c.n_sites, f"{c.min_similarity:.3f}"]
        for c in dups.largest(top)
    ]
    return (
        f'<p class="muted">{dups.n_dropped:,} record(s) dropped as copies of {len(dups.clusters):,} kept '
        "record(s): exact copies (same text) and near-duplicates (shingle Jaccard similarity at or above "
        "near_dedup.threshold). A cluster is a kept record and its dropped copies.</p>"
        "<h3>Largest clusters</h3>"
        + table_html(
            ["kept record", "site", "records", "exact", "near", "sites", "min similarity"],
            rows,
            [False, False, True, True, True, True, True],
        )
        + hbar_chart(
            "site-pairs",
            "Sites sharing the most stories (kept on -> copy dropped on)",
            pairs,
            color=PALETTE[6],
        )
    )


SECTIONS = (
    ("funnel", "Records through each stage"),
    ("removed", "What was removed, and where"),
    ("languages", "Languages"),
    ("lengths", "Text length before and after"),
    ("samples", "Sample diffs: records with the most removals"),
    ("rejects", "Rejected and dropped records"),
    ("duplicates", "Duplicates: clusters and sites"),
)


def build_report(out_dir: str | Path, options: ReportOptions | None = None) -> str:
    """The HTML page for a run's output directory."""
    opts = options or ReportOptions()
    path = Path(out_dir)
    stats = compute_stats(path, keep_top=opts.samples)
    samples = load_samples(path, stats.kept.top_removal_ids())
    content = {
        "funnel": _funnel(stats),
        "removed": _removed(stats, opts.top),
        "languages": _languages(stats, opts.top),
        "lengths": _lengths(stats),
        "samples": _samples(samples),
        "rejects": _rejects(stats),
        "duplicates": _duplicates(stats, opts.top),
    }
    nav = "<nav>" + "".join(f'<a href="#{key}">{esc(title)}</a>' for key, title in SECTIONS) + "</nav>"
    body = [f"<h1>cleanwire run report</h1>{_run_info(path)}{_overview(stats)}{nav}"]
    for key, title in SECTIONS:
        body.append(f'<section id="{key}"><h2>{esc(title)}</h2>{content[key]}</section>')
    return page(f"cleanwire report: {path.name or path}", "\n".join(body), css=REPORT_CSS)


def write_report(out_dir: str | Path, target: str | Path, options: ReportOptions | None = None) -> Path:
    """Build the report and write it (to a temporary name first, then renamed)."""
    html = build_report(out_dir, options)
    dest = Path(target)
    try:
        with atomic_path(dest) as tmp:
            tmp.write_text(html, encoding="utf-8")
    except OSError as exc:
        raise OutputError(f"cannot write {dest}: {exc.strerror}") from exc
    return dest
