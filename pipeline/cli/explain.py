"""``cleanwire explain FILE``: what each stage does to one document."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import click

from pipeline.cli.color import use_color
from pipeline.cli.io_options import check_writable_file, write_error
from pipeline.cli.options import build_config, config_options, field_options
from pipeline.core.batching import make_safe
from pipeline.core.config import Config
from pipeline.core.errors import InputError
from pipeline.core.record import Doc
from pipeline.core.terminal import json_safe
from pipeline.io.formats.compression import STDIN, release_pipes
from pipeline.io.readers import DOCUMENT_KINDS, Source, kind_of, read_document_file
from pipeline.reporting.diffs import render_diff, render_diff_html
from pipeline.reporting.explain import explain_document, render_explanation


@click.command("explain")
@click.argument("file", type=click.Path(dir_okay=False, allow_dash=True))
@config_options
@click.option(
    "--format",
    "fmt",
    type=click.Choice(["auto", "html", "text"]),
    default="auto",
    help="Treat FILE as HTML or text (default: by extension / content).",
)
@click.option("--url", help="URL of the document (helps extraction and site rules).")
@click.option(
    "--site-rules",
    type=click.Path(dir_okay=False),
    help="Learned per-site rules (from `cleanwire learn-sites`), as `run --site-rules`; they apply "
    "to the host of --url.",
)
@click.option(
    "--id",
    "record_id",
    metavar="ID",
    help="Explain the record with this id of a JSONL/CSV/TSV/Parquet/WARC/tar FILE ('-': JSONL on "
    "stdin, as `run -` reads it): the input's own id, or the one the output, rejects and dropped "
    "files give it (made from FILE as `run` was given it).",
)
@field_options
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
@click.option(
    "--color/--no-color",
    default=None,
    help="Colour the output (default: on a terminal, unless NO_COLOR is set).",
)
@click.option(
    "--dedup-index",
    type=click.Path(exists=True, file_okay=False),
    help="Say whether the document copies a record of this dedup index (`run --dedup-index`); read only.",
)
def explain_cmd(
    file: str,
    config_file: str | None,
    rule_files: tuple[str, ...],
    stages: str | None,
    model: str | None,
    model_threshold: float | None,
    fmt: str,
    url: str | None,
    site_rules: str | None,
    record_id: str | None,
    text_field: str | None,
    html_field: str | None,
    url_field: str | None,
    id_field: str | None,
    as_json: bool,
    as_diff: bool,
    html_out: str | None,
    color: bool | None,
    dedup_index: str | None,
) -> None:
    """Show what each stage does to one document FILE ('-' for stdin), or to one record of a
    JSONL/CSV/Parquet/WARC/tar FILE with --id (an id from the output, rejects or dropped files).

    --diff shows the document with every removed span struck through (``[-...-]`` when not on a
    terminal), labelled with the rule that removed it; --html writes the same as a page.
    """
    if file != STDIN and not Path(file).exists():  # as `run` says it (exit 3), not a usage error
        raise InputError(f"input not found: {file}", hint="check the path")
    cfg = build_config(
        config_file,
        rule_files,
        {
            "stages": stages,
            "model": model,
            "model_threshold": model_threshold,
            "dedup_index": dedup_index,
            "text_field": text_field,
            "html_field": html_field,
            "url_field": url_field,
            "id_field": id_field,
        },
    )
    if site_rules:
        cfg = cfg.with_overrides({"boilerplate.site_rules_file": site_rules})
    if html_out:
        check_writable_file(html_out)  # before the document is read and explained, not after
    if record_id is not None:
        doc = _read_record(file, record_id, cfg)
        read_as, url = doc.format, url or doc.url
    else:
        doc, read_as = _read_document(file, fmt, cfg)
        if file == STDIN and fmt == "auto" and _is_json_object(doc.raw):
            click.echo(
                "note: stdin holds a JSON object, explained as text; --id ID reads stdin as JSONL", err=True
            )
    if fmt == "auto" and read_as == "html":
        fmt = "html"
    steps = explain_document(doc.raw, fmt=fmt, url=url, config=cfg, source=doc.source, doc_id=doc.id)
    color = use_color(sys.stdout) if color is None else color
    if html_out:
        try:
            Path(html_out).write_text(render_diff_html(steps, title=file), encoding="utf-8")
        except OSError as exc:
            raise write_error(html_out, exc) from exc
        click.echo(f"wrote {html_out}", err=True)
    if as_json:
        click.echo(json_safe(json.dumps([s.to_dict() for s in steps], indent=2, ensure_ascii=False)))
    elif as_diff:
        click.echo(render_diff(steps, color=color), color=color)  # --color through a pipe too
    else:
        click.echo(render_explanation(steps, color=color), color=color)


def _read_document(file: str, fmt: str, cfg: Config) -> tuple[Doc, str]:
    """One document FILE read as ``run`` reads an ``.html``/``.txt`` file (decompressed, HTML
    charset from its ``<meta>``, decoded; its ``source`` and ``id`` as ``run`` gives them), and
    whether it was read as ``html`` or ``text``; a file that cannot be read or decoded, or that
    holds records of a container format (``--format`` auto), is an :class:`InputError`."""
    path = Path(file)
    if fmt != "auto":
        read_as = fmt
    elif file == STDIN:
        read_as = "text"  # sniffing would consume stdin
    else:
        try:
            read_as = _document_kind(file, kind_of(path, cfg.reader))
        except InputError:
            release_pipes([path])  # a pipe its sniff kept open for a read that does not come
            raise
    (doc,) = read_document_file(path, read_as, cfg.reader)
    if not doc.ok:
        detail = " ".join((doc.detail or "").split())
        raise InputError(f"{file}: cannot be read ({doc.reason}): {detail}")  # escaped where printed
    return doc, read_as


def _read_record(file: str, record_id: str, cfg: Config) -> Doc:
    """The record ``record_id`` of FILE, read as ``run`` reads it (its reader, the field
    options); one that is missing, or that ``run`` rejects while reading, is an :class:`InputError`."""
    source = Source([file], cfg.reader)
    n = 0
    try:
        for shard in source.shards():
            for doc in shard.docs(cfg.reader):
                n += 1
                if doc.id != record_id:
                    continue
                if not doc.ok:
                    detail = " ".join((doc.detail or "").split())
                    raise InputError(f"{file}: record {record_id!r} cannot be read ({doc.reason}): {detail}")
                make_safe(doc)  # as run's batch boundary does (safe_batch): the reader leaves it
                return doc
    finally:
        source.close()
    raise InputError(
        f"{file}: no record with id {record_id!r} among its {n} record(s)",
        hint="give an id of the input (--id-field), or the id of the output, rejects or dropped files "
        "with FILE spelled as `run` was given it (an id cleanwire made comes from that name)",
    )


def _is_json_object(text: str) -> bool:
    if not text.lstrip().startswith("{"):
        return False
    try:
        return isinstance(json.loads(text), dict)
    except ValueError:
        return False


def _document_kind(file: str, kind: str | None) -> str:
    """``html`` or ``text`` for a document FILE; a container (JSONL, CSV, Parquet, WARC, tar),
    whose many records read as one text would explain nothing that ``run`` does, is an
    :class:`InputError`."""
    if kind in DOCUMENT_KINDS:
        return str(kind)
    raise InputError(
        f"{file}: a {kind} file holds records, not one document",
        hint="pick one of its records with --id ID (an id from the output, rejects or dropped files), "
        "or pass --format html|text to read the whole file as one document",
    )
