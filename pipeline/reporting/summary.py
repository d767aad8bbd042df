"""The one-screen summary printed at the end of ``cleanwire run``."""

from __future__ import annotations

from typing import TYPE_CHECKING

from pipeline.core.terminal import printable
from pipeline.io.layout import OutputLayout

if TYPE_CHECKING:
    from pipeline.execution.runner import RunReport


def _pct(n: int, total: int) -> str:
    return f"{100 * n / total:5.1f}%" if total else "    -"


PARQUET_FILES = OutputLayout.describe()
SIDE_FILES = OutputLayout.describe(parts=False)


def output_line(output: str | None, *, to_stdout: bool) -> str:
    """Where the run's results went: Parquet under ``output``, or records on stdout (with the
    side files under ``output`` when given, else nowhere: see :mod:`pipeline.io.sinks.jsonl`)."""
    if not to_stdout:
        return f"{output}/ ({PARQUET_FILES})"
    if output:
        return f"records on stdout; {output}/ ({SIDE_FILES})"
    return "records on stdout (rejects, dropped records and the manifest are not kept: add -o DIR)"


def _headline(report: RunReport) -> str:
    """The first line: records, time and rate; on a resumed run, what this run cleaned and what
    the finished shards it skipped held (their records are in the counts below too)."""
    n_in, done, skipped = report.tally.n_in, report.n_processed, report.shards_skipped
    rate = f" ({report.docs_per_s:.1f} docs/s)" if done else ""
    if not skipped:
        return f"cleanwire: {n_in} records in {report.seconds:.1f}s{rate}"
    if not done:
        return f"cleanwire: {n_in} records, all in {skipped} finished shard(s) skipped: nothing left to do"
    return (
        f"cleanwire: {n_in} records: {done} cleaned now in {report.seconds:.1f}s{rate}, "
        f"{n_in - done} in {skipped} finished shard(s) skipped"
    )


def render_summary(report: RunReport, output: str) -> str:
    """The summary; ``output`` is the last line's text (:func:`output_line`)."""
    t = report.tally
    lines = [
        _headline(report),
        f"  kept      {t.n_kept:>8}  {_pct(t.n_kept, t.n_in)}",
        f"  dropped   {t.n_dropped:>8}  {_pct(t.n_dropped, t.n_in)}",
        f"  rejected  {t.n_rejected:>8}  {_pct(t.n_rejected, t.n_in)}",
    ]
    for title, counter in (("rejected by stage/reason", t.rejected), ("dropped by stage/reason", t.dropped)):
        if counter:
            lines.append(f"  {title}:")
            lines += [f"    {k:<32} {v:>8}" for k, v in counter.most_common(8)]
    if t.langs:
        top = ", ".join(f"{lang} {n}" for lang, n in t.langs.most_common(8))
        more = len(t.langs) - 8
        lines.append(f"  languages: {top}" + (f" (+{more} more)" if more > 0 else ""))
    removed = sum(t.removed_by_category.values())
    if t.n_kept:
        lines.append(
            f"  chars: {t.chars_raw:,} raw -> {t.chars_text:,} clean; boilerplate removed {removed:,}"
        )
        if t.removed_by_category:
            lines.append(
                "  removed by category: "
                + ", ".join(f"{c} {n:,}" for c, n in t.removed_by_category.most_common(6))
            )
    if t.flags:
        lines.append("  flags: " + ", ".join(f"{k} {v}" for k, v in sorted(t.flags.items())))
    if report.skipped_files:
        first = printable(report.skipped_files[0])
        lines.append(
            f"  not read: {len(report.skipped_files)} file(s) in the input directories whose extension "
            f"names no format, e.g. {first} (manifest: skipped_files; name a file to have it sniffed)"
        )
    if report.saved_page_files:
        lines.append(
            f"  not read: {len(report.saved_page_files)} file(s) in the resource folders of saved web pages "
            f"(page_files/ beside page.html: iframes, ads, embeds), e.g. {printable(report.saved_page_files[0])} "
            "(manifest: saved_page_files)"
        )
    lines += [f"  warning: {printable(w)}" for w in report.warnings]
    lines.append(f"  output: {output}")
    return "\n".join(lines)
