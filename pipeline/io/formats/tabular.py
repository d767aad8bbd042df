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
from dataclasses import dataclass, field
from functools import partial
from itertools import islice
from pathlib import Path
from typing import IO, Any

import pyarrow as pa
import pyarrow.parquet as pq

from pipeline.core.config import ReaderConfig
from pipeline.core.errors import CleanwireError, InputError
from pipeline.core.pathnames import display_path
from pipeline.core.record import Doc, looks_like_html
from pipeline.io.formats.compression import (
    STDIN,
    InputDataError,
    open_input,
    sniff_compression,
    sniff_head,
)
from pipeline.io.formats.decoding import Undecodable, decode
from pipeline.io.formats.records import (
    Origin,
    Utf8Repaired,
    doc_from_row,
    exception_text,
    given_id,
    guarded,
    rejected,
)

STDIN_LABEL = "<stdin>"
PARQUET_BATCH_ROWS = 256
_SNIFF_BYTES = 1 << 16


def label(path: Path) -> str:
    """How a path is named in ``source`` and ids (``<stdin>`` for ``-``)."""
    return STDIN_LABEL if str(path) == STDIN else str(path)


def _broken_off(name: str, where: int | str, exc: BaseException) -> Doc:
    """The reject that ends an input which breaks off at ``where``: the reason of an
    :class:`InputDataError`, ``unreadable`` for an I/O error, ``reader_error`` for anything else."""
    if isinstance(exc, InputDataError):
        reason = exc.reason
    elif isinstance(exc, OSError):
        reason = "unreadable"
    else:
        reason = "reader_error"
    return rejected(Origin(name, f"{where}+"), reason, f"{type(exc).__name__}: {exception_text(exc)}")


# --- the field mapping, checked on the first records ------------------------------------------

#: How many records of an input the mapping check reads, at most, and how many bytes (at least
#: one record is read whatever its size).
MAPPING_SAMPLE_RECORDS = 100
MAPPING_SAMPLE_BYTES = 8 << 20
#: Field names that usually hold a document's body, for the hint of a mapping error.
_BODY_NAMES = ("text", "content", "body", "article", "html", "page", "document", "markup", "raw")


@dataclass
class FieldSurvey:
    """What the first records of an input hold: how many there were, whether one has the text or
    HTML field, and the fields seen (name -> characters of string values, for a suggestion)."""

    records: int = 0
    mapped: bool = False
    fields: dict[str, int] = field(default_factory=dict)
    html_fields: set[str] = field(default_factory=set)

    def add(self, row: dict[str, Any], config: ReaderConfig) -> None:
        self.records += 1
        if config.text_field in row or config.html_field in row:
            self.mapped = True
        for key, value in list(row.items())[:200]:
            size = len(value) if isinstance(value, str) else 0
            self.fields[key] = self.fields.get(key, 0) + size
            if size and key not in self.html_fields and looks_like_html(value):
                self.html_fields.add(key)

    @property
    def failed(self) -> bool:
        """Records with fields were read, none of them the text or HTML field (empty objects
        are bad records, not a mapping mistake)."""
        return bool(self.fields) and not self.mapped


def mapping_error(
    where: str, names: list[str], config: ReaderConfig, survey: FieldSurvey | None = None
) -> InputError:
    """The error of an input none of whose first records (or columns) has the text or HTML field:
    the fields it has, and the option to map one of them."""
    fields = (config.text_field, config.html_field)
    if survey is None:
        what, kind = f"no column {fields[0]!r} or {fields[1]!r}", "columns"
    else:
        first = "the only record" if survey.records == 1 else f"the first {survey.records} records"
        what, kind = f"no field {fields[0]!r} or {fields[1]!r} in {first}", "fields seen"
    shown = ", ".join(repr(n) for n in names[:20]) + (
        f" and {len(names) - 20} more" if len(names) > 20 else ""
    )
    guess = _guess_body([n for n in names if n not in (config.id_field, config.url_field)], survey)
    option = "--html-field" if survey is not None and guess in survey.html_fields else "--text-field"
    hint = (
        f"map the field with {option} {guess}" if guess else "map the fields with --text-field / --html-field"
    )
    return InputError(
        f"{where}: {what} ({kind}: {shown or 'none'})",
        hint=hint + " (the config keys reader.text_field / reader.html_field)",
    )


def _guess_body(names: list[str], survey: FieldSurvey | None) -> str | None:
    """The field most likely to hold the document: the longest strings, else a body-like name."""
    if survey is not None:
        sizes = {n: c for n, c in survey.fields.items() if c > 0 and n in names}
        if sizes:
            return max(sizes, key=lambda n: (sizes[n], -names.index(n) if n in names else 0))
    for hint in _BODY_NAMES:
        for name in names:
            if hint in str(name).lower():
                return str(name)
    return None


# --- JSONL ---------------------------------------------------------------------------------------


def _jsonl_line(line: bytes, origin: Origin, config: ReaderConfig) -> tuple[Doc, dict[str, Any] | None]:
    """A line to a Doc, and the JSON object it held (None when it held none).

    JSON text is UTF-8 (RFC 8259 section 8.1): other bytes are a broken line, not a charset. An
    integer of more than 4,300 digits (Python's conversion limit) or nesting deeper than Python's
    recursion limit make the line ``invalid_json``."""
    try:
        text = line.decode("utf-8-sig").rstrip("\r\n")
    except UnicodeDecodeError as exc:
        return rejected(origin, "invalid_utf8", str(exc), line.rstrip(b"\r\n")), None
    try:
        obj = json.loads(text)
    except RecursionError:
        return rejected(origin, "invalid_json", "nested too deeply to read", text), None
    except ValueError as exc:  # JSONDecodeError, and the int conversion limit
        return rejected(origin, "invalid_json", str(exc), text), None
    if not isinstance(obj, dict):
        kind = type(obj).__name__
        return rejected(origin, "wrong_type", f"expected a JSON object, got {kind}", text), None
    build = partial(doc_from_row, obj, origin, config, text_encoding="utf-8", raw=text)
    return guarded(origin, build), obj


def _lines(fh: IO[bytes], config: ReaderConfig) -> Iterator[tuple[int, bytes, int]]:
    """``(line number, line, length)`` of the non-blank lines; a line over the record cap comes
    cut to the cap + 1 byte with its full length, and is not held whole."""
    lineno = 0
    while True:
        line = fh.readline(config.max_record_bytes + 1)
        if not line:
            return
        lineno += 1
        if len(line) > config.max_record_bytes and not line.endswith(b"\n"):
            yield lineno, line, len(line) + _skip_line(fh)
        elif line.strip():
            yield lineno, line, len(line)


def read_jsonl(path: Path, config: ReaderConfig, name: str | None = None) -> Iterator[Doc]:
    """One JSON object per line; blank lines are skipped, bad lines become rejects.

    stdin cannot be checked before the run: its first records are held back until one has the
    text or HTML field, and when none of the first :data:`MAPPING_SAMPLE_RECORDS` has, reading
    stops with the error a file gets before the run (:func:`check_jsonl_mapping`)."""
    name = name or label(path)
    survey = FieldSurvey() if str(path) == STDIN else None
    held: list[Doc] = []
    lineno = 0
    try:
        with open_input(path, config.max_decompressed_bytes) as fh:
            for lineno, line, size in _lines(fh, config):
                origin = Origin(name, lineno)
                if size > config.max_record_bytes:
                    doc = rejected(origin, "too_large", f"line of {size} bytes", line)
                    obj = None
                else:
                    doc, obj = _jsonl_line(line, origin, config)
                if survey is None:
                    yield doc
                    continue
                if obj is not None:
                    survey.add(obj, config)
                held.append(doc)
                if survey.mapped or survey.records >= MAPPING_SAMPLE_RECORDS:
                    if survey.failed:
                        raise mapping_error(name, list(survey.fields), config, survey)
                    yield from held
                    held.clear()
                    survey = None
    except CleanwireError:
        raise
    except Exception as exc:  # noqa: BLE001 - I/O, a damaged stream, or a surprise: the rest is one reject
        yield from held
        yield _broken_off(name, lineno, exc)
        return
    if survey is not None and survey.failed:
        raise mapping_error(name, list(survey.fields), config, survey)
    yield from held


def check_jsonl_mapping(path: Path, config: ReaderConfig, name: str | None = None) -> None:
    """Fail fast when none of the first records of a JSONL file has the text or HTML field (a
    mapping mistake: every record would be rejected ``missing_field``); reads at most
    :data:`MAPPING_SAMPLE_RECORDS` records and about :data:`MAPPING_SAMPLE_BYTES` bytes."""
    survey = FieldSurvey()
    read = 0
    try:
        with open_input(path, config.max_decompressed_bytes) as fh:
            for _, line, size in _lines(fh, config):
                read += size
                if size <= config.max_record_bytes:
                    try:
                        obj = json.loads(line.decode("utf-8-sig"))
                    except (ValueError, RecursionError):
                        obj = None
                    if isinstance(obj, dict):
                        survey.add(obj, config)
                if survey.mapped or survey.records >= MAPPING_SAMPLE_RECORDS:
                    break
                if read >= MAPPING_SAMPLE_BYTES and survey.records:
                    break
    except Exception:  # noqa: BLE001 - unreadable here: the reader rejects what it cannot read
        return
    if survey.failed:
        raise mapping_error(name or display_path(path), list(survey.fields), config, survey)


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


#: The delimiters a CSV/TSV file is sniffed for (``reader.csv_delimiter`` names any other).
DELIMITERS = (",", ";", "\t", "|")
_SNIFF_ROWS = 50


def sniff_delimiter(sample: str, preferred: str, *, complete: bool) -> str:
    """The delimiter of a CSV/TSV file, judged on its first rows (``sample``, decoded; ``complete``
    when it is the whole file): among :data:`DELIMITERS`, the one that splits the header into the
    most rows of the header's width, the header into at least two fields; ``preferred`` (the
    extension's: ``,`` or tab) wins a tie, and when none splits the header (one column)."""
    best, best_score = preferred, (-1.0, 0)
    for delimiter in dict.fromkeys((preferred, *DELIMITERS)):
        rows = [r for r in islice(csv.reader(io.StringIO(sample), delimiter=delimiter), _SNIFF_ROWS + 1) if r]
        if not complete and len(rows) > 1:
            rows = rows[:-1]  # the sample may end inside the last row
        if not rows or len(rows[0]) < 2:
            continue
        width = len(rows[0])
        body = rows[1:]
        score = (sum(len(r) == width for r in body) / len(body) if body else 1.0, width)
        if score > best_score:
            best, best_score = delimiter, score
    return best


class _CsvText:
    """A CSV/TSV input opened for reading: its text stream, codec and delimiter."""

    def __init__(self, path: Path, config: ReaderConfig, preferred: str) -> None:
        raw = open_input(path, config.max_decompressed_bytes)
        try:
            head, fh = sniff_head(raw, _SNIFF_BYTES)
        except BaseException:
            raw.close()
            raise
        encoding = sniff_text_encoding(head)
        self.text = io.TextIOWrapper(fh, encoding=encoding, errors="replace", newline="")
        self.encoding = "utf-8" if encoding == "utf-8-sig" else encoding
        if config.csv_delimiter:
            self.delimiter = config.csv_delimiter
        else:
            sample = head.decode(encoding, errors="replace")
            self.delimiter = sniff_delimiter(sample, preferred, complete=len(head) < _SNIFF_BYTES)


def csv_header(path: Path, preferred: str, config: ReaderConfig) -> tuple[list[str], str]:
    """The column names of a CSV file and its delimiter (for checking the field mapping before a
    run); ``[]`` when it cannot be read."""
    raise_csv_limit(config.max_record_bytes)
    try:
        opened = _CsvText(path, config, preferred)
        with opened.text:
            return next(csv.reader(opened.text, delimiter=opened.delimiter), []), opened.delimiter
    except Exception:  # noqa: BLE001 - unreadable here: the reader rejects what it cannot read
        return [], preferred


def read_delimited(
    path: Path, config: ReaderConfig, preferred: str, name: str | None = None
) -> Iterator[Doc]:
    """CSV (or TSV) with a header row, its delimiter sniffed (:func:`sniff_delimiter`) unless
    ``reader.csv_delimiter`` names it. Ragged or malformed rows become ``bad_row`` rejects."""
    raise_csv_limit(config.max_record_bytes)
    name = name or label(path)
    rowno = 0
    try:
        opened = _CsvText(path, config, preferred)
        with opened.text:
            reader = csv.reader(opened.text, delimiter=opened.delimiter, strict=True)
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
                origin = Origin(name, rowno)
                yield guarded(origin, _csv_row, row, header, origin, config, opened.encoding)
    except CleanwireError:
        raise
    except Exception as exc:  # noqa: BLE001 - I/O, a damaged stream, or a surprise: the rest is one reject
        yield _broken_off(name, rowno, exc)


def _csv_row(row: list[str], header: list[str], origin: Origin, config: ReaderConfig, encoding: str) -> Doc:
    if len(row) != len(header):
        return rejected(origin, "bad_row", f"{len(row)} fields, header has {len(header)}", "\x1f".join(row))
    if sum(len(v) for v in row) > config.max_record_bytes:
        row_id = given_id(dict(zip(header, row, strict=True)), config)
        return rejected(
            origin, "too_large", f"> reader.max_record_bytes={config.max_record_bytes}", id=row_id
        )
    return doc_from_row(dict(zip(header, row, strict=True)), origin, config, text_encoding=encoding)


def read_csv(path: Path, config: ReaderConfig, name: str | None = None) -> Iterator[Doc]:
    return read_delimited(path, config, ",", name)


def read_tsv(path: Path, config: ReaderConfig, name: str | None = None) -> Iterator[Doc]:
    return read_delimited(path, config, "\t", name)


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
        return [str(name) for name in pq.read_schema(path).names]
    except Exception:  # noqa: BLE001 - unreadable here: the reader rejects what it cannot read
        return []


def read_parquet(path: Path, config: ReaderConfig, name: str | None = None) -> Iterator[Doc]:
    """Rows of a Parquet file, streamed in batches (any row-group size); only mapped columns. A
    string value that is not valid UTF-8 (a writer that does not check) is repaired, not fatal:
    see :class:`~pipeline.io.formats.records.Utf8Repaired`; a value Python cannot hold (a
    timestamp out of range) rejects its row as ``bad_value``."""
    name = name or label(path)
    row = 0
    try:
        with tempfile.TemporaryFile() as spool:
            pf = _parquet_file(path, config, spool)
            wanted = {config.text_field, config.html_field, config.url_field, config.id_field}
            wanted |= set(config.keep_fields)
            columns = [c for c in pf.schema_arrow.names if c in wanted]
            for batch in pf.iter_batches(batch_size=PARQUET_BATCH_ROWS, columns=columns):
                for values in _batch_rows(batch):
                    origin = Origin(name, row)
                    if isinstance(values, _BadValue):
                        yield rejected(origin, "bad_value", str(values), id=values.row_id(config))
                    else:
                        yield guarded(origin, _parquet_row, values, origin, config)
                    row += 1
    except CleanwireError:
        raise
    except Exception as exc:  # noqa: BLE001 - I/O, a damaged file, or a surprise: the rest is one reject
        yield _broken_off(name, row, exc)


class _BadValue:
    """A row holding a value that cannot be read (named in ``str()``), with the values that can."""

    def __init__(self, column: str, exc: BaseException, values: dict[str, Any]) -> None:
        self.column, self.exc, self.values = column, exc, values

    def row_id(self, config: ReaderConfig) -> str | None:
        return None if config.id_field == self.column else given_id(self.values, config)

    def __str__(self) -> str:
        return f"column {self.column!r}: {type(self.exc).__name__}: {str(self.exc)[:300]}"


def _batch_rows(batch: pa.RecordBatch) -> list[dict[str, Any] | _BadValue]:
    """The rows of a batch as dicts: Arrow's own conversion, or, when it fails on some value
    (invalid UTF-8, a date out of Python's range), value by value."""
    try:
        return list(batch.to_pylist())
    except Exception:  # noqa: BLE001 - the slow path finds the value and keeps the rest
        return [_row_by_value(batch, i) for i in range(batch.num_rows)]


_AS_BYTES = {
    pa.string(): pa.binary(),
    pa.large_string(): pa.large_binary(),
    pa.string_view(): pa.binary_view(),
}


def _row_by_value(batch: pa.RecordBatch, i: int) -> dict[str, Any] | _BadValue:
    row: dict[str, Any] = {}
    for column_name, column in zip(batch.schema.names, batch.columns, strict=True):
        try:
            row[column_name] = _value(column, i)
        except Exception as exc:  # noqa: BLE001 - named in the reject
            return _BadValue(column_name, exc, row)
    return row


def _value(column: pa.Array, i: int) -> Any:
    """One value of a column; a string that is not UTF-8 as :class:`Utf8Repaired` bytes."""
    if pa.types.is_dictionary(column.type):
        index = column.indices[i].as_py()
        return None if index is None else _value(column.dictionary, index)
    as_bytes = _AS_BYTES.get(column.type)
    if as_bytes is None:
        return column[i].as_py()
    data = column.view(as_bytes)[i].as_py()
    if data is None:
        return None
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError:
        return Utf8Repaired(data)


def _parquet_row(values: dict[str, Any], origin: Origin, config: ReaderConfig) -> Doc:
    size = sum(len(v) for v in values.values() if isinstance(v, str | bytes))
    if size > config.max_record_bytes:
        return rejected(
            origin,
            "too_large",
            f"> reader.max_record_bytes={config.max_record_bytes}",
            id=given_id(values, config),
        )
    return doc_from_row(values, origin, config)


def check_fields(
    columns: list[str], where: str, config: ReaderConfig, *, delimiter: str | None = None
) -> None:
    """Fail fast when a table (named ``where``) has neither the text nor the HTML column (a
    mapping mistake), or names a mapped column (text, HTML, URL, id, a kept field) more than once:
    which of them to read would be a guess (a row keeps only the last). A repeated unmapped
    column is not read. ``delimiter``: the one a CSV file was read with (for the hint)."""
    if columns and config.text_field not in columns and config.html_field not in columns:
        error = mapping_error(where, columns, config)
        others = [d for d in DELIMITERS if d != delimiter and len(columns) == 1 and d in columns[0]]
        if others:
            shown = "tab" if others[0] == "\t" else others[0]
            error.hint = (
                f"the columns may be separated by {shown!r}: --csv-delimiter {shown!r}; or {error.hint}"
            )
        raise error
    mapped = {config.text_field, config.html_field, config.url_field, config.id_field, *config.keep_fields}
    repeated = [c for c in dict.fromkeys(columns) if c in mapped and columns.count(c) > 1]
    if repeated:
        names = ", ".join(f"column {c!r} appears {columns.count(c)} times" for c in repeated)
        raise InputError(
            f"{where}: {names}; which one to read is ambiguous",
            hint="rename the repeated columns, or map another one with --text-field / --html-field / ...",
        )
