"""The ``cleanwire`` command line (also ``python -m pipeline``).

Errors map to exit codes through the :mod:`pipeline.core.errors` hierarchy: 0 ok, 1 other error,
2 configuration/usage, 3 input, 4 output, 5 worker processes cannot run, 130 interrupted.
"""

from __future__ import annotations

import dataclasses
import gc
import importlib
import json
import sys
from pathlib import Path
from typing import Any

import click

from pipeline.core.config import COMPRESSIONS, Compression, Config, parse_size
from pipeline.core.errors import CleanwireError, ConfigError, InputError, OutputError

#: Commands implemented in their own modules, one line each (so that work on one command never
#: touches another's code). They are imported when used or listed, not on every start: ``eval``
#: alone imports ~0.4 s of modules that ``cleanwire run`` never needs.
LAZY_COMMANDS: dict[str, tuple[str, str]] = {
    "eval": ("pipeline.cli.eval", "eval_cmd"),
    "stats": ("pipeline.cli.stats", "stats_cmd"),
    "report": ("pipeline.cli.report", "report_cmd"),
    "learn-sites": ("pipeline.cli.sites", "learn_sites_cmd"),
}


class CleanwireGroup(click.Group):
    """Loads :data:`LAZY_COMMANDS` on demand; turns :class:`CleanwireError` into a message on
    stderr and its exit code."""

    def list_commands(self, ctx: click.Context) -> list[str]:
        return sorted({*super().list_commands(ctx), *LAZY_COMMANDS})

    def get_command(self, ctx: click.Context, cmd_name: str) -> click.Command | None:
        command = super().get_command(ctx, cmd_name)
        if command is None and cmd_name in LAZY_COMMANDS:
            module, attr = LAZY_COMMANDS[cmd_name]
            try:
                command = getattr(importlib.import_module(module), attr)
            except ModuleNotFoundError as exc:
                if exc.name != module:
                    raise
                return None  # a command module left out of this install: not offered
            self.add_command(command, cmd_name)
        return command

    def invoke(self, ctx: click.Context) -> Any:
        try:
            return super().invoke(ctx)
        except CleanwireError as exc:
            click.secho(f"error: {exc}", fg="red", err=True)
            ctx.exit(exc.exit_code)


@click.group(cls=CleanwireGroup, context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(package_name="cleanwire")
def cli() -> None:
    """cleanwire: clean scraped news and web text into language-tagged Parquet.

    \b
    Quick start:
      cleanwire run dump/ -o out/        clean a dump (dirs, .jsonl, .jsonl.gz)
      cleanwire explain page.html        what each stage does to one document
      cleanwire rules                    list the boilerplate rules
    """


def config_options(fn: Any) -> Any:
    """Options shared by commands that build a pipeline."""
    opts = [
        click.option("--config", "config_file", type=click.Path(dir_okay=False), help="TOML config file."),
        click.option(
            "--rules",
            "rule_files",
            multiple=True,
            type=click.Path(dir_okay=False),
            help="Extra boilerplate rule pack (TOML); repeatable.",
        ),
        click.option(
            "--stages", help="Comma-separated stage order, e.g. extract,encoding,boilerplate,language."
        ),
    ]
    for opt in reversed(opts):
        fn = opt(fn)
    return fn


def build_config(
    config_file: str | None,
    *,
    rule_files: tuple[str, ...] = (),
    stages: str | None = None,
    reader: dict[str, Any] | None = None,
    run: dict[str, Any] | None = None,
    dedup: bool | None = None,
    min_chars: int | None = None,
) -> Config:
    """The config file (or defaults) with CLI overrides applied; validated."""
    cfg = Config.from_toml(config_file) if config_file else Config()
    if rule_files:
        cfg = dataclasses.replace(
            cfg,
            boilerplate=dataclasses.replace(
                cfg.boilerplate, rule_files=cfg.boilerplate.rule_files + rule_files
            ),
        )
    if stages is not None:
        cfg = dataclasses.replace(cfg, stages=tuple(s.strip() for s in stages.split(",") if s.strip()))
    if reader:
        cfg = dataclasses.replace(cfg, reader=dataclasses.replace(cfg.reader, **reader))
    if run:
        cfg = dataclasses.replace(cfg, run=dataclasses.replace(cfg.run, **run))
    if dedup is not None:
        cfg = dataclasses.replace(cfg, dedup=dataclasses.replace(cfg.dedup, enabled=dedup))
    if min_chars is not None:
        cfg = dataclasses.replace(cfg, filter=dataclasses.replace(cfg.filter, min_chars=min_chars))
    cfg.validate()
    from stages.boilerplate.rulepack import load_rules

    load_rules(cfg.boilerplate.packs, cfg.boilerplate.rule_files, cfg.boilerplate.disabled_rules)
    return cfg


@cli.command()
@click.argument("inputs", nargs=-1, required=True, type=click.Path(allow_dash=True))
@click.option(
    "-o",
    "--output",
    type=click.Path(file_okay=False),
    help="Output directory (required, except with --format jsonl: then rejects and manifest go there).",
)
@config_options
@click.option("-w", "--workers", type=int, help="Worker processes (default: number of cores).")
@click.option("--batch-size", type=int, help="Records per batch sent to a worker.")
@click.option(
    "--max-worker-memory",
    metavar="SIZE",
    help="Kill a worker whose resident memory exceeds SIZE (e.g. 4GB) and reject the record it was "
    "on as memory_limit (default: 80% of RAM over the workers, at least 1GiB; 0 = no limit).",
)
@click.option("--text-field", help="Field holding plain text in JSONL/CSV/Parquet records (default: text).")
@click.option("--html-field", help="Field holding HTML in JSONL/CSV/Parquet records (default: html).")
@click.option("--url-field", help="Field holding the URL (default: url).")
@click.option("--id-field", help="Field holding the record id (default: id).")
@click.option(
    "--keep-field",
    "keep_fields",
    multiple=True,
    help="Input column (or WARC header) copied into the output's `extra` map; repeatable.",
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
    "--dedup/--no-dedup", default=None, help="Drop exact duplicates of the cleaned text (default: on)."
)
@click.option("--min-chars", type=int, help="Drop records whose cleaned text is shorter.")
@click.option("--progress/--no-progress", default=None, help="Progress bar (default: on a terminal).")
@click.option("--overwrite", is_flag=True, help="Replace an existing output directory.")
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
def run(
    inputs: tuple[str, ...],
    output: str | None,
    config_file: str | None,
    rule_files: tuple[str, ...],
    stages: str | None,
    workers: int | None,
    batch_size: int | None,
    max_worker_memory: str | None,
    text_field: str | None,
    html_field: str | None,
    url_field: str | None,
    id_field: str | None,
    keep_fields: tuple[str, ...],
    out_format: str,
    partition_by: str | None,
    part_size: str | None,
    row_group_size: str | None,
    compression: Compression | None,
    dedup: bool | None,
    min_chars: int | None,
    progress: bool | None,
    overwrite: bool,
    site_rules: str | None,
    learn_sites: bool,
    engine: str,
    as_json: bool,
) -> None:
    """Clean INPUTS into Parquet under OUTPUT (or JSON lines on stdout with --format jsonl).

    INPUTS: directories, files or globs of .html/.htm/.txt, .jsonl, .csv/.tsv, .parquet,
    .warc/.arc, each maybe .gz/.zst/.bz2; '-' reads JSONL from stdin.
    Writes part-*.parquet (the cleaned records), rejects.parquet, dropped.parquet and
    manifest.json (last). Rerunning into the same directory skips finished shards.
    """
    if engine == "local":
        from pipeline.execution import forkserver

        forkserver.start()  # before the imports below: the workers' parent imports alongside them
    from pipeline.api import Pipeline
    from pipeline.cli.io_options import (
        OutputOptions,
        apply_output_options,
        make_sink,
        refuse_stdin_resume,
        silence_stdout,
    )
    from pipeline.io.readers import Source
    from pipeline.reporting.summary import output_line, render_summary

    reader = {
        k: v
        for k, v in {
            "text_field": text_field,
            "html_field": html_field,
            "url_field": url_field,
            "id_field": id_field,
            "keep_fields": keep_fields,
        }.items()
        if v
    }
    run_opts = {k: v for k, v in {"workers": workers, "batch_size": batch_size}.items() if v is not None}
    if max_worker_memory is not None:
        run_opts["max_worker_memory"] = parse_size(max_worker_memory)
    if progress is not None:
        run_opts["progress"] = progress
    cfg = build_config(
        config_file,
        rule_files=rule_files,
        stages=stages,
        reader=reader,
        run=run_opts,
        dedup=dedup,
        min_chars=min_chars,
    )
    if site_rules or learn_sites:
        from pipeline.cli.sites import apply_site_rules

        cfg = apply_site_rules(cfg, inputs, output or "cleanwire", site_rules, learn_sites)
    out_opts = OutputOptions(out_format, partition_by, part_size, row_group_size, compression)
    cfg = apply_output_options(cfg, out_opts)
    source = Source(inputs, cfg.reader)
    sink = make_sink(out_opts, output, cfg, overwrite=overwrite)
    refuse_stdin_resume(inputs, sink)
    ray_engine = None
    if engine == "ray":
        from pipeline.execution.ray import RayEngine

        ray_engine = RayEngine(num_cpus=workers or None, timeout_s=cfg.extract.timeout_s)
    try:
        report = Pipeline.from_config(cfg).run(source, sink, engine=ray_engine)
    except BrokenPipeError:  # `... --format jsonl | head`: the reader has all it wants
        silence_stdout()
        return
    finally:
        sink.close()
    if out_opts.to_stdout:
        report.manifest_path = report.manifest_path if output else None
    if as_json:
        click.echo(
            json.dumps(
                {
                    "counts": report.tally.to_dict(),
                    "seconds": round(report.seconds, 3),
                    "manifest": report.manifest_path,
                },
                indent=2,
            ),
            err=out_opts.to_stdout,  # with --format jsonl, stdout carries only the records
        )
    else:
        where = output_line(output, to_stdout=out_opts.to_stdout)
        click.echo(render_summary(report, where), err=out_opts.to_stdout)


@cli.command()
@click.argument("file", type=click.Path(exists=True, dir_okay=False, allow_dash=True))
@config_options
@click.option(
    "--format",
    "fmt",
    type=click.Choice(["auto", "html", "text"]),
    default="auto",
    help="Treat FILE as HTML or text (default: by extension / content).",
)
@click.option("--url", help="URL of the document (helps extraction and site rules).")
@click.option("--json", "as_json", is_flag=True, help="Print the explanation as JSON.")
@click.option(
    "--diff", "as_diff", is_flag=True, help="Show the text with removed spans struck through / marked."
)
@click.option(
    "--html",
    "html_out",
    type=click.Path(dir_okay=False),
    help="Also write the diff as a self-contained HTML page to this file.",
)
@click.option("--color/--no-color", default=None, help="Colour the output (default: on a terminal).")
def explain(
    file: str,
    config_file: str | None,
    rule_files: tuple[str, ...],
    stages: str | None,
    fmt: str,
    url: str | None,
    as_json: bool,
    as_diff: bool,
    html_out: str | None,
    color: bool | None,
) -> None:
    """Show what each stage does to one document FILE ('-' for stdin).

    --diff shows the document with every removed span struck through (``[-...-]`` when not on a
    terminal), labelled with the rule that removed it; --html writes the same as a page.
    """
    from pipeline.reporting.explain import explain_document, render_diff, render_diff_html, render_explanation

    cfg = build_config(config_file, rule_files=rule_files, stages=stages)
    raw, read_as = _read_document(file, fmt, cfg)
    if fmt == "auto" and read_as == "html":
        fmt = "html"
    steps = explain_document(raw, fmt=fmt, url=url, config=cfg)
    color = sys.stdout.isatty() if color is None else color
    if html_out:
        try:
            Path(html_out).write_text(render_diff_html(steps, title=file), encoding="utf-8")
        except OSError as exc:
            raise OutputError(f"cannot write {html_out}: {exc.strerror}") from exc
        click.echo(f"wrote {html_out}", err=True)
    if as_json:
        click.echo(json.dumps([s.to_dict() for s in steps], indent=2, ensure_ascii=False))
    elif as_diff:
        click.echo(render_diff(steps, color=color))
    else:
        click.echo(render_explanation(steps, color=color))


def _read_document(file: str, fmt: str, cfg: Config) -> tuple[str, str]:
    """The text of one document FILE read as ``run`` reads an ``.html``/``.txt`` file
    (decompressed, HTML charset from its ``<meta>``, decoded), and whether it was read as
    ``html`` or ``text``; a file that cannot be read or decoded is an :class:`InputError`."""
    from pipeline.io.formats.compression import STDIN
    from pipeline.io.readers import DOCUMENT_KINDS, kind_of, read_document_file

    path = Path(file)
    if fmt != "auto":
        read_as = fmt
    elif file == STDIN:
        read_as = "text"  # sniffing would consume stdin
    else:
        kind = kind_of(path, cfg.reader)
        read_as = kind if kind in DOCUMENT_KINDS else "text"
    (doc,) = read_document_file(path, read_as, cfg.reader)
    if not doc.ok:
        detail = " ".join((doc.detail or "").split())
        raise InputError(f"{file}: cannot be read ({doc.reason}): {detail}")
    return doc.raw, read_as


@cli.command()
@config_options
@click.option(
    "--check", is_flag=True, help="Run every rule's examples and counterexamples; exit 2 on a failure."
)
@click.option("--json", "as_json", is_flag=True, help="List as JSON.")
def rules(
    config_file: str | None, rule_files: tuple[str, ...], stages: str | None, check: bool, as_json: bool
) -> None:
    """List the boilerplate rules in force (built-in packs plus --rules files)."""
    from stages.boilerplate.rulecheck import check_rules
    from stages.boilerplate.rulepack import load_rules

    cfg = build_config(config_file, rule_files=rule_files, stages=stages)
    loaded = load_rules(cfg.boilerplate.packs, cfg.boilerplate.rule_files, cfg.boilerplate.disabled_rules)
    if check:
        failures = check_rules(loaded)
        for f in failures:
            click.secho(f"FAIL {f}", fg="red", err=True)
        click.echo(f"{len(loaded)} rules, {len(failures)} failing example(s)")
        if failures:
            raise ConfigError(f"{len(failures)} rule example(s) fail")
        return
    if as_json:
        click.echo(
            json.dumps(
                [
                    {
                        "id": r.id,
                        "category": r.category,
                        "kind": r.kind,
                        "pack": r.pack,
                        "langs": list(r.langs),
                        "pattern": r.pattern.pattern,
                        "description": r.description,
                    }
                    for r in loaded
                ],
                indent=2,
                ensure_ascii=False,
            )
        )
        return
    width = max((len(r.id) for r in loaded), default=10)
    for r in loaded:
        langs = ",".join(r.langs) or "*"
        click.echo(f"{r.id:<{width}}  {r.category:<16} {r.kind:<8} {langs:<12} {r.description}")
    click.echo(f"\n{len(loaded)} rules from packs {', '.join(sorted({r.pack for r in loaded}))}")


def main() -> None:
    """The ``cleanwire`` command. On the way out the objects still alive are frozen
    (:func:`gc.freeze`): the interpreter's exit then skips its last scans of every object
    (the libraries' tables and caches), 0.3-0.4 s of each run. Memory is the OS's to free."""
    try:
        cli(prog_name="cleanwire")
    finally:
        gc.freeze()
