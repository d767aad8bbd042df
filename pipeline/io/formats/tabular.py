"""Tabular inputs, streamed: JSONL (also stdin), CSV/TSV and Parquet.

Each reader yields one :class:`~pipeline.core.record.Doc` per row, mapped by the configured field
names (:func:`~pipeline.io.formats.records.doc_from_row`). Bad rows become rejects and reading goes
on; an input that breaks off (truncated or damaged compression, decompression limit) ends with a
reject that says where, and every row read before it is kept.
"""

from __future__ import annotations

import codecs
import csv
import io
import json
import shutil
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import IO, Any

import pyarrow as pa
import pyarrow.parquet as pq

from pipeline.core.config import ReaderConfig
from pipeline.core.errors import InputError
from pipeline.core.record import Doc
from pipeline.io.formats.compression import (
    STDIN,
    InputDataError,
    open_input,
    sniff_compression,
    sniff_head,
)
from pipeline.io.formats.decoding import Undecodable, decode
from pipeline.io.formats.records import Origin, doc_from_row, rejected

STDIN_LABEL = "<stdin>"
PARQUET_BATCH_ROWS = 256
_SNIFF_BYTES = 1 << 16


def label(path: Path) -> str:
    """How a path is named in ``source`` and ids (``<stdin>`` for ``-``)."""
    return STDIN_LABEL if str(path) == STDIN else str(path)


def _broken_off(path: Path, where: int | str, exc: BaseException) -> Doc:
    reason = exc.reason if isinstance(exc, InputDataError) else "unreadable"
    return rejected(Origin(label(path), f"{where}+"), reason, f"{type(exc).__name__}: {exc}")


# --- JSONL ---------------------------------------------------------------------------------------


def _jsonl_line(line: bytes, origin: Origin, config: ReaderConfig) -> Doc:
    """JSON text is UTF-8 (RFC 8259 section 8.1): other bytes are a broken line, not a charset."""
    try:
        text = line.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        return rejected(origin, "invalid_utf8", str(exc), line)
    try:
        obj = json.loads(text)
    except json.JSONDecodeError as exc:
        return rejected(origin, "invalid_json", str(exc), text)
    if not isinstance(obj, dict):
        return rejected(origin, "wrong_type", f"expected a JSON object, got {type(obj).__name__}", text)
    return doc_from_row(obj, origin, config, text_encoding="utf-8")


def read_jsonl(path: Path, config: ReaderConfig) -> Iterator[Doc]:
    """One JSON object per line; blank lines are skipped, bad lines become rejects."""
    name = label(path)
    lineno = 0
    try:
        with open_input(path, config.max_decompressed_bytes) as fh:
            while True:
                line = fh.readline(config.max_record_bytes + 1)
                if not line:
                    break
                lineno += 1
                if len(line) > config.max_record_bytes and not line.endswith(b"\n"):
                    rest = _skip_line(fh)
                    yield rejected(
                        Origin(name, lineno), "too_large", f"line of {len(line) + rest} bytes", line
                    )
                    continue
                if line.strip():
                    yield _jsonl_line(line, Origin(name, lineno), config)
    except (OSError, InputDataError) as exc:
        yield _broken_off(path, lineno, exc)


def _skip_line(fh: IO[bytes]) -> int:
    """Consume the rest of an over-long line without holding it; return its length."""
    n = 0
    while chunk := fh.readline(_SNIFF_BYTES):
        n += len(chunk)
        if chunk.endswith(b"\n"):
            break
    return n


# --- CSV / TSV -----------------------------------------------------------------------------------


def sniff_text_encoding(head: bytes) -> str:
    """The codec for a whole text stream judged from its first bytes (BOM, UTF-8, detection)."""
    if head.startswith(codecs.BOM_UTF8):
        return "utf-8-sig"
    if head.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        return "utf-16"
    try:
        codecs.getincrementaldecoder("utf-8")().decode(head, final=False)
        return "utf-8"
    except UnicodeDecodeError:
        pass
    try:
        return decode(head).encoding
    except Undecodable:
        return "utf-8"  # binary garbage: read with replacement characters, rows will be rejected


def raise_csv_limit(max_record_bytes: int) -> None:
    """The csv module refuses fields over 128 KiB by default; allow up to the record cap."""
    if csv.field_size_limit() < max_record_bytes:
        csv.field_size_limit(max_record_bytes)


def _open_csv(path: Path, config: ReaderConfig) -> tuple[io.TextIOWrapper, str]:
    raw = open_input(path, config.max_decompressed_bytes)
    try:
        head, fh = sniff_head(raw, _SNIFF_BYTES)
    except BaseException:
        raw.close()
        raise
    encoding = sniff_text_encoding(head)
    text = io.TextIOWrapper(fh, encoding=encoding, errors="replace", newline="")
    return text, "utf-8" if encoding == "utf-8-sig" else encoding


def csv_header(path: Path, delimiter: str, config: ReaderConfig) -> list[str]:
    """The column names of a CSV file (for checking the field mapping before a run)."""
    raise_csv_limit(config.max_record_bytes)
    try:
        text, _ = _open_csv(path, config)
        with text:
            return next(csv.reader(text, delimiter=delimiter), [])
    except (OSError, InputDataError, csv.Error):
        return []


def read_delimited(path: Path, config: ReaderConfig, delimiter: str) -> Iterator[Doc]:
    """CSV (or TSV) with a header row. Ragged or malformed rows become ``bad_row`` rejects."""
    raise_csv_limit(config.max_record_bytes)
    name = label(path)
    rowno = 0
    try:
        text, encoding = _open_csv(path, config)
        with text:
            reader = csv.reader(text, delimiter=delimiter, strict=True)
            header = next(reader, None)
            if header is None:
                return
            while True:
                try:
                    row = next(reader)
                except StopIteration:
                    break
                except csv.Error as exc:
                    rowno += 1
                    yield rejected(Origin(name, rowno), "bad_row", f"line {reader.line_num}: {exc}")
                    continue
                if not row:
                    continue
                rowno += 1
                yield _csv_row(row, header, Origin(name, rowno), config, encoding)
    except (OSError, InputDataError) as exc:
        yield _broken_off(path, rowno, exc)


def _csv_row(row: list[str], header: list[str], origin: Origin, config: ReaderConfig, encoding: str) -> Doc:
    if len(row) != len(header):
        return rejected(origin, "bad_row", f"{len(row)} fields, header has {len(header)}", "\x1f".join(row))
    if sum(len(v) for v in row) > config.max_record_bytes:
        return rejected(origin, "too_large", f"> reader.max_record_bytes={config.max_record_bytes}")
    return doc_from_row(dict(zip(header, row, strict=True)), origin, config, text_encoding=encoding)


def read_csv(path: Path, config: ReaderConfig) -> Iterator[Doc]:
    return read_delimited(path, config, ",")


def read_tsv(path: Path, config: ReaderConfig) -> Iterator[Doc]:
    return read_delimited(path, config, "\t")


# --- Parquet -------------------------------------------------------------------------------------


def _parquet_file(path: Path, config: ReaderConfig, spool: IO[bytes]) -> pq.ParquetFile:
    """Open a Parquet file; a compressed one is first decompressed (bounded) into ``spool``."""
    with open(path, "rb") as fh:
        compressed = sniff_compression(fh.read(4)) is not None
    if not compressed:
        return pq.ParquetFile(path)
    with open_input(path, config.max_decompressed_bytes) as src:
        shutil.copyfileobj(src, spool, 1 << 20)
    spool.seek(0)
    return pq.ParquetFile(spool)


def parquet_columns(path: Path, config: ReaderConfig) -> list[str]:
    """The column names of a Parquet file (footer only; [] when unreadable or compressed)."""
    try:
        return list(pq.read_schema(path).names)
    except (OSError, pa.ArrowException):
        return []


def read_parquet(path: Path, config: ReaderConfig) -> Iterator[Doc]:
    """Rows of a Parquet file, streamed in batches (any row-group size); only mapped columns."""
    name = label(path)
    row = 0
    try:
        with tempfile.TemporaryFile() as spool:
            pf = _parquet_file(path, config, spool)
            wanted = {config.text_field, config.html_field, config.url_field, config.id_field}
            wanted |= set(config.keep_fields)
            columns = [c for c in pf.schema_arrow.names if c in wanted]
            for batch in pf.iter_batches(batch_size=PARQUET_BATCH_ROWS, columns=columns):
                for values in batch.to_pylist():
                    yield _parquet_row(values, Origin(name, row), config)
                    row += 1
    except (OSError, InputDataError, pa.ArrowException) as exc:
        yield _broken_off(path, row, exc)


def _parquet_row(values: dict[str, Any], origin: Origin, config: ReaderConfig) -> Doc:
    size = sum(len(v) for v in values.values() if isinstance(v, str | bytes))
    if size > config.max_record_bytes:
        return rejected(origin, "too_large", f"> reader.max_record_bytes={config.max_record_bytes}")
    return doc_from_row(values, origin, config)


def check_fields(columns: list[str], path: Path, config: ReaderConfig) -> None:
    """Fail fast when a table has neither the text nor the HTML column (a mapping mistake), or
    names a mapped column (text, HTML, URL, id, a kept field) more than once: which of them to
    read would be a guess (a row keeps only the last). A repeated unmapped column is not read."""
    if columns and config.text_field not in columns and config.html_field not in columns:
        raise InputError(
            f"{path}: no column {config.text_field!r} or {config.html_field!r} (columns: {columns[:12]})",
            hint="map the columns with --text-field / --html-field",
        )
    mapped = {config.text_field, config.html_field, config.url_field, config.id_field, *config.keep_fields}
    repeated = [c for c in dict.fromkeys(columns) if c in mapped and columns.count(c) > 1]
    if repeated:
        names = ", ".join(f"column {c!r} appears {columns.count(c)} times" for c in repeated)
        raise InputError(
            f"{path}: {names}; which one to read is ambiguous",
            hint="rename the repeated columns, or map another one with --text-field / --html-field / ...",
        )
