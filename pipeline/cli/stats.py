"""``cleanwire stats OUT/``: the statistics of a finished run as terminal tables or JSON."""

from __future__ import annotations

import json
import sys
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import click

from pipeline.cli.color import use_color
from pipeline.core.terminal import printable
from pipeline.io.output_reader import OutputReader
from pipeline.reporting.left_stats import sorted_reasons
from pipeline.reporting.stats import RunStats, compute_stats, top_counts

Style = Callable[[str], str]


def _pct(n: float, total: float) -> str:
    return f"{100 * n / total:5.1f}%" if total else "    -"


def _cell(value: Any) -> str:
    """A number with thousands separators (a float with one decimal, as the mean), else text."""
    if isinstance(value, bool) or not isinstance(value, int | float):
        return str(value)
    return f"{value:,.1f}" if isinstance(value, float) else f"{value:,}"


def _table(title: str, header: Sequence[str], rows: Sequence[Sequence[Any]], bold: Style) -> list[str]:
    """A left-aligned first column, right-aligned numeric columns."""
    if not rows:
        return []
    cells = [[_cell(c) for c in row] for row in rows]
    widths = [max(len(header[i]), *(len(r[i]) for r in cells)) for i in range(len(header))]
    widths[0] = min(widths[0], 48)

    def fmt(row: Sequence[str]) -> str:
        first = row[0] if len(row[0]) <= widths[0] else row[0][: widths[0] - 1] + "…"
        rest = [c.rjust(w) for c, w in zip(row[1:], widths[1:], strict=True)]
        return "  " + "  ".join([first.ljust(widths[0]), *rest])

    return ["", bold(title), bold(fmt(list(header))), *(fmt(r) for r in cells)]


def render_stats(stats: RunStats, *, top: int = 10, color: bool = False) -> str:
    """The statistics as terminal tables (bold headers and yellow warnings when ``color``)."""

    def bold(s: str) -> str:
        return click.style(s, bold=True) if color else s

    lines = _overview(stats, color=color, bold=bold)
    lines += _record_tables(stats, top, bold)
    lines += _removal_tables(stats, top, bold)
    lines += _duplicate_tables(stats, top, bold)
    return "\n".join(lines)


def _overview(stats: RunStats, *, color: bool, bold: Style) -> list[str]:
    k, n_in = stats.kept, stats.n_in
    lines = [
        bold(f"cleanwire stats: {stats.out_dir}"),
        f"  records {n_in:,}: kept {stats.n_kept:,} ({_pct(stats.n_kept, n_in).strip()}), "
        f"rejected {stats.n_rejected:,} ({_pct(stats.n_rejected, n_in).strip()}), "
        f"dropped {stats.n_dropped:,} ({_pct(stats.n_dropped, n_in).strip()})",
        f"  chars of kept records: raw {k.chars_raw:,}, before removal {k.chars_text + k.chars_removed:,}, "
        f"clean {k.chars_text:,}; removed {k.chars_removed:,} in {k.docs_with_removals:,} records",
    ]
    for problem in stats.manifest_mismatch():
        lines.append(click.style(f"  warning: {problem}", fg="yellow") if color else f"  warning: {problem}")
    return lines


def _record_tables(stats: RunStats, top: int, bold: Style) -> list[str]:
    """Where the records went: the stage funnel, the reasons, languages and lengths."""
    k, n_in = stats.kept, stats.n_in
    lines = _table(
        "Records through each stage",
        ["stage", "entered", "rejected", "dropped", "passed"],
        [[r.stage, r.entered, r.rejected, r.dropped, r.passed] for r in stats.funnel()],
        bold,
    )
    lines += _table(
        "Rejected and dropped by reason",
        ["stage/reason", "status", "records", "share"],
        [[rs.key, rs.status, rs.count, _pct(rs.count, n_in)] for rs in sorted_reasons(stats.left)],
        bold,
    )
    lines += _table(
        "Languages (kept)",
        ["lang", "records", "share"],
        [[lang, n, _pct(n, stats.n_kept)] for lang, n in k.langs.most_common(top)],
        bold,
    )
    lines += _table(
        "Lengths of kept records (chars)",
        ["measure", "n", "mean", "p10", "p50", "p90", "max"],
        [
            [name, *dist.summary().values()]
            for name, dist in (("raw", k.len_raw), ("before removal", k.len_before), ("clean", k.len_text))
        ],
        bold,
    )
    return lines


def _removal_tables(stats: RunStats, top: int, bold: Style) -> list[str]:
    """What was removed: by category, by rule, by site."""
    k = stats.kept
    lines: list[str] = []
    for title, table in (("Removed by category", k.categories), ("Top removing rules", k.rules)):
        lines += _table(
            title,
            ["name", "chars", "spans", "records", "share of removed"],
            [
                [name, sc.chars, sc.spans, sc.docs, _pct(sc.chars, k.chars_removed)]
                for name, sc in top_counts(table, top)
            ],
            bold,
        )
    lines += _table(
        f"Top sites by removed share ({stats.n_sites:,} site(s) with a URL or sitename)",
        ["site", "records", "with removals", "chars removed", "removed share"],
        [
            [site, st.docs, st.docs_with_removals, st.chars_removed, _pct(st.removed_share, 1)]
            for site, st in stats.top_sites(top)
        ],
        bold,
    )
    return lines


def _duplicate_tables(stats: RunStats, top: int, bold: Style) -> list[str]:
    """The largest clusters of copies, and which sites share the most stories."""
    dups = stats.duplicates
    if not dups.clusters:
        return []
    lines = _table(
        f"Largest duplicate clusters ({len(dups.clusters):,} kept record(s) with {dups.n_dropped:,} dropped cop(ies))",
        ["kept record", "site", "records", "exact", "near", "sites", "min similarity"],
        [
            [c.head, c.head_site, c.size, c.exact, c.copies - c.exact, c.n_sites, f"{c.min_similarity:.3f}"]
            for c in dups.largest(top)
        ],
        bold,
    )
    lines += _table(
        "Sites sharing the most stories (kept on -> copy dropped on)",
        ["kept on", "copied on", "stories"],
        [[a, b, n] for a, b, n in dups.site_pairs(top)],
        bold,
    )
    return lines


def finished_shards_if_unfinished(out_dir: str) -> int | None:
    """How many shards a run still going or stopped (no manifest yet) in ``out_dir`` finished;
    None for a finished run."""
    reader = OutputReader(Path(out_dir))
    return len(reader.finished_shards()) if reader.in_progress() else None


def warn_if_unfinished(out_dir: str) -> None:
    """Say on stderr that the numbers of a run still going or stopped are partial."""
    n = finished_shards_if_unfinished(out_dir)
    if n is not None:
        click.echo(
            printable(
                f"note: {out_dir} holds no manifest yet (a run still going, or stopped before its "
                f"end): these numbers cover its {n} finished shard(s) only; rerun its `cleanwire run` "
                "command to finish it"
            ),
            err=True,
        )


@click.command("stats")
@click.argument("out_dir", type=click.Path())  # checked by OutputReader.check: exit 3
@click.option("--json", "as_json", is_flag=True, help="Print the statistics as JSON.")
@click.option("--top", type=click.IntRange(1), default=10, show_default=True, help="Rows per ranked table.")
def stats_cmd(out_dir: str, as_json: bool, top: int) -> None:
    """Counts of the run in OUT_DIR: stages, reasons, languages, lengths, rules, sites.

    Reads part-*.parquet (flat or hive-partitioned) and _cleanwire/rejects.jsonl.gz and
    dropped.jsonl.gz in a streaming pass; _cleanwire/manifest.json gives the stage order and a
    cross-check of the totals. Of a run still going or stopped (no manifest yet), only its
    finished shards are counted, and a note on stderr (with --json: "finished": false) says so.
    """

    stats = compute_stats(out_dir)
    if as_json:
        unfinished = finished_shards_if_unfinished(out_dir)
        data = stats.to_dict(top=top) | {
            "finished": unfinished is None,
            "finished_shards": unfinished,  # of a run still going or stopped; null when finished
        }
        click.echo(json.dumps(data, indent=2, ensure_ascii=False))
    else:
        warn_if_unfinished(out_dir)
        click.echo(render_stats(stats, top=top, color=use_color(sys.stdout)))
