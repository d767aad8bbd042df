"""``cleanwire run INPUTS... -o OUT/``: clean a dump into Parquet (or JSON lines on stdout)."""

from __future__ import annotations

import json
import sys
from typing import TYPE_CHECKING, Any

import click

from pipeline.cli.options import config_options, field_options
from pipeline.core.config import COMPRESSIONS, Config
from pipeline.core.terminal import printable
from pipeline.execution import forkserver
from pipeline.execution.inputsize import small_input

if TYPE_CHECKING:
    from pipeline.execution.runner import RunReport

# Only light modules above: ``run_cmd`` starts the worker pool's forkserver before it imports
# numpy, pyarrow and the stages (~0.25 s), so that the forkserver's own imports and warm-up
# overlap them instead of following them.


@click.command("run")
@click.argument("inputs", nargs=-1, required=True, type=click.Path(allow_dash=True))
@click.option(
    "-o",
    "--output",
    type=click.Path(file_okay=False),
    help="Output directory (required, except with --format jsonl: then rejects and manifest go there).",
)
@config_options
@click.option(
    "-w",
    "--workers",
    type=int,
    help="Worker processes, at most one per core (default: one per core; an input under 1 MiB "
    "runs in this process instead).",
)
@click.option(
    "--timeout",
    "timeout_s",
    type=float,
    help="Per-record wall-clock limit in seconds; a record over it is rejected as timeout (default: 30).",
)
@click.option("--batch-size", type=int, help="Records per batch sent to a worker (default: 64).")
@click.option(
    "--max-worker-memory",
    metavar="SIZE",
    help="Kill a worker whose resident memory exceeds SIZE (e.g. 4GB) and reject the record it was "
    "on as memory_limit (default: 80% of RAM over the workers, at least 1GiB; 0 = no limit; "
    "otherwise at least 256MiB: a worker holds ~150MiB before its first record).",
)
@field_options
@click.option(
    "--date-field",
    help="Field holding the record's date; a value that parses as a date wins over the dates found "
    "in the page or text, one that does not is ignored (default: date; '' = none).",
)
@click.option(
    "--keep-field",
    "keep_fields",
    multiple=True,
    help="Input column (or WARC header) copied into the output's `extra` map; repeatable.",
)
@click.option(
    "--csv-delimiter",
    metavar="CHAR",
    help="Delimiter of CSV/TSV inputs: one character, or tab, comma, semicolon, pipe, space "
    "(default: sniffed per file among , ; tab |).",
)
@click.option(
    "--format",
    "out_format",
    type=click.Choice(["parquet", "jsonl"]),
    default="parquet",
    show_default=True,
    help="parquet: part files under -o. jsonl: cleaned records as JSON lines on stdout.",
)
@click.option("--partition-by", help="Hive partitions of the Parquet output: lang, date, month (comma list).")
@click.option("--part-size", help="Start a new part file at this size, e.g. 256MB (default 256MiB).")
@click.option("--row-group-size", help="Row group size in memory, e.g. 64MB (default 64MiB).")
@click.option(
    "--compression",
    type=click.Choice(COMPRESSIONS),
    help="Parquet compression (default: zstd).",
)
@click.option(
    "--dedup/--no-dedup",
    default=None,
    help="Drop duplicates: exact copies of the cleaned text and near-duplicates (default: on).",
)
@click.option(
    "--near-dedup/--no-near-dedup",
    default=None,
    help="Also drop near-duplicates (syndicated copies, updates of a story): MinHash + LSH with a "
    "Jaccard check, settings in [near_dedup] (default: on; off: exact copies only).",
)
@click.option(
    "--dedup-index",
    type=click.Path(file_okay=False),
    help="Keep the kept records' exact and near-duplicate keys in this directory between runs, so "
    "a later run (tomorrow's dump) drops copies of them; updated atomically at the end of a run.",
)
@click.option(
    "--min-chars",
    type=int,
    help="Drop records whose cleaned text is shorter (default: 1; empty text is rejected).",
)
@click.option(
    "--progress/--no-progress",
    default=None,
    help="Progress bar on stderr (default: when stderr is a terminal).",
)
@click.option(
    "--overwrite",
    is_flag=True,
    help="Start over: remove what cleanwire wrote in OUTPUT (nothing else) first. Without it, a rerun "
    "resumes, and a directory made with other settings or inputs is refused (exit 4).",
)
@click.option(
    "--site-rules",
    type=click.Path(dir_okay=False),
    help="Learned per-site rules (from `cleanwire learn-sites`); with --learn-sites, where to write them.",
)
@click.option(
    "--learn-sites",
    is_flag=True,
    help="First pass: learn per-site repeated lines from INPUTS, then clean with them.",
)
@click.option(
    "--engine",
    type=click.Choice(["local", "ray"]),
    default="local",
    show_default=True,
    help="local: supervised process pool. ray: Ray Data (pip install 'cleanwire[ray]'; RAY_ADDRESS for a cluster).",
)
@click.option("--json", "as_json", is_flag=True, help="Print the summary as JSON.")
def run_cmd(inputs: tuple[str, ...], output: str | None, **options: Any) -> None:
    """Clean INPUTS into Parquet under OUTPUT (or JSON lines on stdout with --format jsonl).

    INPUTS: directories, files or globs of .html/.htm/.txt, .jsonl, .csv/.tsv, .parquet,
    .warc/.arc, .tar (members read as a directory's files), each maybe .gz/.zst/.bz2; '-' reads
    JSONL from stdin.
    Writes part-*.parquet (the cleaned records: the only Parquet files under OUTPUT) and, under
    OUTPUT/_cleanwire/, rejects.jsonl.gz, dropped.jsonl.gz and manifest.json (last).
    Rerunning into the same directory skips finished shards.

    \b
    Examples:
      cleanwire run dump/ -o out/                    a directory, walked recursively
      cleanwire run 'crawl/*.warc.gz' feed.jsonl -o out/
      zcat feed.jsonl.gz | cleanwire run - -o out/    JSONL on stdin
      cleanwire run dump/ --format jsonl | head      records as JSON lines on stdout
      cleanwire stats out/                           what was kept, dropped, rejected

    \b
    Exit codes: 0 done (rejected records included), 1 other error, 2 bad
    option or config, 3 input missing or unmapped, 4 output refused or not
    writable, 5 workers cannot run, 130 stopped (Ctrl-C, SIGTERM: rerun to
    resume).
    """
    engine_name: str = options["engine"]
    small = engine_name == "local" and not options["workers"] and small_input(inputs)
    if engine_name == "local" and not small:
        forkserver.start()  # the workers' parent imports and warms up while this one reads the config
    from pipeline.cli.io_options import check_output_options
    from pipeline.cli.options import build_config
    from pipeline.cli.sites import apply_site_rules
    from pipeline.core.pandas_probe import skip_pandas_probe

    skip_pandas_probe()
    to_stdout = options["out_format"] == "jsonl"
    cfg = build_config(options["config_file"], options["rule_files"], options)
    check_output_options(cfg, to_stdout=to_stdout)
    replaced = None
    if options["site_rules"] or options["learn_sites"]:
        cfg, replaced = apply_site_rules(
            cfg, inputs, output or "cleanwire", options["site_rules"], options["learn_sites"]
        )
    try:
        report = _run(inputs, output, cfg, options, small=small, to_stdout=to_stdout)
    except BaseException:
        if replaced is not None:  # refused or failed: the site-rules file is put back as it was
            replaced.restore()
        raise
    if report is None:
        return
    if to_stdout and not output:
        report.manifest_path = None
    _print_summary(report, output, to_stdout=to_stdout, as_json=options["as_json"])


def _run(
    inputs: tuple[str, ...],
    output: str | None,
    cfg: Config,
    options: dict[str, Any],
    *,
    small: bool,
    to_stdout: bool,
) -> RunReport | None:
    """The run itself; None when stdout's reader went away (``--format jsonl | head``)."""
    from pipeline.api import Pipeline
    from pipeline.cli.io_options import make_sink, refuse_stdin_resume, silence_stdout
    from pipeline.execution.engines import Engine, local_engine
    from pipeline.execution.ray import RayEngine
    from pipeline.io.readers import Source

    source = Source(inputs, cfg.reader)
    sink = make_sink(output, cfg, to_stdout=to_stdout, overwrite=options["overwrite"])
    refuse_stdin_resume(inputs, sink)
    if "-" in inputs and sys.stdin.isatty():  # else a terminal waits for input without a word
        click.echo("cleanwire: reading JSON lines from the terminal (stdin); end with Ctrl-D", err=True)
    engine: Engine
    if options["engine"] == "ray":
        engine = RayEngine.from_config(cfg, num_cpus=options["workers"] or None)
    else:
        engine = local_engine(cfg, small=small)
        note = getattr(engine, "note", None)
        if note:
            click.echo(f"note: {note}", err=True)
    try:
        return Pipeline.from_config(cfg).run(source, sink, engine=engine)
    except BrokenPipeError:  # `... --format jsonl | head`: the reader has all it wants
        silence_stdout()
        return None
    finally:
        sink.close()


def _print_summary(report: RunReport, output: str | None, *, to_stdout: bool, as_json: bool) -> None:
    """The end-of-run summary on stdout (on stderr when stdout carries the records)."""
    from pipeline.reporting.summary import output_line, render_summary

    if as_json:
        summary = {
            "counts": report.tally.to_dict(),
            "seconds": round(report.seconds, 3),
            "records_processed": report.n_processed,  # this run's; the others' shards were skipped
            "docs_per_s": round(report.docs_per_s, 2),
            "shards_done": report.shards_done,
            "shards_skipped": report.shards_skipped,
            "manifest": report.manifest_path,
            "warnings": report.warnings,
        }
        click.echo(json.dumps(summary, indent=2), err=to_stdout)
        for warning in report.warnings:
            click.echo(f"warning: {printable(warning)}", err=True)
    else:
        click.echo(render_summary(report, output_line(output, to_stdout=to_stdout)), err=to_stdout)
