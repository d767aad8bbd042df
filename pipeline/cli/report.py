"""``cleanwire report OUT/ -o report.html``: a self-contained HTML report with plots."""

from __future__ import annotations

import click

from pipeline.cli.stats import warn_if_unfinished
from pipeline.reporting.report import ReportOptions, write_report


@click.command("report")
@click.argument("out_dir", type=click.Path())  # checked by OutputReader.check: exit 3
@click.option(
    "-o",
    "--output",
    default="report.html",
    show_default=True,
    type=click.Path(dir_okay=False),
    help="HTML file to write.",
)
@click.option("--samples", type=click.IntRange(0), default=5, show_default=True, help="Sample diffs to show.")
@click.option("--top", type=click.IntRange(1), default=15, show_default=True, help="Rows per ranked chart.")
def report_cmd(out_dir: str, output: str, samples: int, top: int) -> None:
    """Write one self-contained HTML page about the run in OUT_DIR.

    Plots (inline SVG, no network needed to view): records through each stage, removed
    characters by category, rule and site, languages, text lengths before/after, sample diffs
    of the records with the most removals, rejects by reason with examples.
    """
    path = write_report(out_dir, output, ReportOptions(samples=samples, top=top))
    warn_if_unfinished(out_dir)
    click.echo(f"wrote {path}")
