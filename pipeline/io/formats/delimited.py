"""CSV and TSV inputs: charset and dialect sniffed (``,`` ``;`` tab ``|``, quoting, BOM), rows streamed;
see :mod:`.tabular` for what the readers share.

A file is decoded in the charset sniffed from its first 64 KiB; bytes further on that it cannot
read are kept as lone surrogates (:data:`UNREAD`), and a mapped value holding some is handed
over as its bytes (:class:`~pipeline.io.formats.records.Utf8Repaired`: decoded as bytes are, the
record flagged ``invalid_utf8_repaired``), as the Parquet reader does. No record is held past
``reader.max_record_bytes`` characters (:class:`_Lines`): a longer one is skipped and rejected
``too_large``, keeping its own id when its first line holds it."""

from __future__ import annotations

import codecs
import csv
import io
import re
from collections.abc import Iterator
from itertools import islice
from pathlib import Path
from typing import IO

from pipeline.core.config import ReaderConfig
from pipeline.core.errors import CleanwireError
from pipeline.core.record import Doc, safe_str
from pipeline.io.formats.compression import (
    InputDataError,
    open_input,
    sniff_head,
)
from pipeline.io.formats.decoding import Undecodable, decode
from pipeline.io.formats.records import (
    Origin,
    Utf8Repaired,
    doc_from_row,
    given_id,
    guarded,
    rejected,
)
from pipeline.io.formats.tabular import (
    DELIMITERS,
    broken_off,
    label,
)


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
        return "utf-8"  # binary garbage: its rows' values are decoded as bytes are (or rejected)


#: The codec error handler a CSV file is read with: like ``surrogateescape``, a byte the codec
#: cannot read becomes the lone surrogate U+DC00 + byte (never in decoded text), and back, but
#: for bytes under 0x80 too (a broken UTF-16 pair), which ``surrogateescape`` refuses.
UNREAD = "cleanwire-unread"


def _unread(exc: UnicodeError) -> tuple[str | bytes, int]:
    if isinstance(exc, UnicodeDecodeError):
        return "".join(chr(0xDC00 + b) for b in exc.object[exc.start : exc.end]), exc.end
    if isinstance(exc, UnicodeEncodeError):
        chars = exc.object[exc.start : exc.end]
        if all("\udc00" <= c <= "\udcff" for c in chars):
            return bytes(ord(c) - 0xDC00 for c in chars), exc.end
    raise exc


codecs.register_error(UNREAD, _unread)


def raise_csv_limit(max_record_bytes: int) -> None:
    """The csv module refuses fields over 128 KiB by default; allow up to the record cap."""
    if csv.field_size_limit() < max_record_bytes:
        csv.field_size_limit(max_record_bytes)


#: How much of a CSV/TSV file (decompressed) its charset and delimiter are judged on.
_SNIFF_BYTES = 1 << 16
_SNIFF_ROWS = 50


def sniff_delimiter(sample: str, preferred: str, *, complete: bool) -> str:
    """The delimiter of a CSV/TSV file, judged on its first rows (``sample``, decoded; ``complete``
    when it is the whole file): among :data:`DELIMITERS`, the one that splits the header into the
    most rows of the header's width, the header into at least two fields; ``preferred`` (the
    extension's: ``,`` or tab) wins a tie, and when none splits the header (one column)."""
    best, best_score = preferred, (-1.0, 0)
    for delimiter in dict.fromkeys((preferred, *DELIMITERS)):
        # newline="": a line may end in \r alone (old Mac exports), as the reader's stream reads it
        lines = io.StringIO(sample, newline="")
        rows = [r for r in islice(csv.reader(lines, delimiter=delimiter), _SNIFF_ROWS + 1) if r]
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
        # Bytes the codec cannot read (past the sample) stay visible, as lone surrogates.
        self.text = io.TextIOWrapper(fh, encoding=encoding, errors=UNREAD, newline="")
        self.encoding = "utf-8" if encoding == "utf-8-sig" else encoding
        if config.csv_delimiter:
            self.delimiter = config.csv_delimiter
        else:
            sample = head.decode(encoding, errors="replace")
            self.delimiter = sniff_delimiter(sample, preferred, complete=len(head) < _SNIFF_BYTES)


#: How many characters of a record too large to read are read at a time while it is skipped.
_SKIP_CHARS = 1 << 20


class RecordTooLarge(InputDataError):
    """A CSV record (or header) of more than ``reader.max_record_bytes`` characters; its lines
    have been read past (:class:`_Lines`)."""

    reason = "too_large"

    def __init__(self, size: int, cap: int) -> None:
        super().__init__(f"{size} characters > reader.max_record_bytes={cap}")


class _Lines:
    """The lines of a CSV text stream for :func:`csv.reader`, holding no more than ``cap``
    characters of a record: a record that grows past them raises :class:`RecordTooLarge` once
    it is read past (to the end of its line, and on while a quoted field is open: an odd number
    of quotes so far), and reading goes on with the next record. :meth:`start` begins a record;
    ``first`` is its first line (or as much of it as was read)."""

    def __init__(self, text: IO[str], cap: int) -> None:
        self.text = text
        self.cap = cap
        self.start()

    def start(self) -> None:
        self.first = ""
        self.size = 0
        self.quotes = 0

    def __iter__(self) -> _Lines:
        return self

    def __next__(self) -> str:
        line = self.text.readline(self.cap + 1 - self.size)
        if not line:
            raise StopIteration
        if not self.size:
            self.first = line
        self.size += len(line)
        self.quotes += line.count('"')
        if self.size > self.cap:
            while self.quotes % 2 or not line.endswith(("\n", "\r")):
                line = self.text.readline(_SKIP_CHARS)
                if not line:
                    break
                self.size += len(line)
                self.quotes += line.count('"')
            raise RecordTooLarge(self.size, self.cap)
        return line


def _header(reader: Iterator[list[str]]) -> list[str] | None:
    """The header row: the first that is not blank (as :class:`csv.DictReader` finds it); names
    with bytes the charset cannot read get U+FFFD for them."""
    header = next((row for row in reader if row), None)
    return None if header is None else [safe_str(name) for name in header]


def csv_header(path: Path, preferred: str, config: ReaderConfig) -> tuple[list[str], str]:
    """The column names of a CSV file and its delimiter (for checking the field mapping before a
    run); ``[]`` when it cannot be read."""
    raise_csv_limit(config.max_record_bytes)
    try:
        opened = _CsvText(path, config, preferred)
        with opened.text:
            lines = _Lines(opened.text, config.max_record_bytes)
            return _header(csv.reader(lines, delimiter=opened.delimiter)) or [], opened.delimiter
    except Exception:  # noqa: BLE001 - unreadable here: the reader rejects what it cannot read
        return [], preferred


def read_delimited(
    path: Path, config: ReaderConfig, preferred: str, name: str | None = None
) -> Iterator[Doc]:
    """CSV (or TSV) with a header row, its delimiter sniffed (:func:`sniff_delimiter`) unless
    ``reader.csv_delimiter`` names it. Blank lines are skipped; ragged or malformed rows become
    ``bad_row`` rejects, rows over ``reader.max_record_bytes`` characters ``too_large`` ones."""
    raise_csv_limit(config.max_record_bytes)
    name = name or label(path)
    rowno = 0
    try:
        opened = _CsvText(path, config, preferred)
        with opened.text:
            lines = _Lines(opened.text, config.max_record_bytes)
            reader = csv.reader(lines, delimiter=opened.delimiter, strict=True)
            header = _header(reader)
            if header is None:
                return
            while True:
                lines.start()
                try:
                    row = next(reader)
                except StopIteration:
                    break
                except RecordTooLarge as exc:
                    rowno += 1
                    origin = Origin(name, rowno)
                    row_id = given_id(_whole_fields(lines.first, header, opened.delimiter), config)
                    yield rejected(origin, "too_large", str(exc), lines.first, id=row_id)
                    continue
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
        yield broken_off(name, rowno, exc)


def _whole_fields(line: str, header: list[str], delimiter: str) -> dict[str, str]:
    """The fields, by column, that the first line of a record too large to read holds whole
    (all but the last it starts)."""
    try:
        fields = next(csv.reader(io.StringIO(line, newline=""), delimiter=delimiter), [])
    except csv.Error:
        return {}
    return dict(zip(header, fields[:-1], strict=False))


#: A byte the file's charset could not read, as :data:`UNREAD` keeps it.
_UNREAD_BYTE = re.compile("[\udc00-\udcff]")


def _csv_row(row: list[str], header: list[str], origin: Origin, config: ReaderConfig, encoding: str) -> Doc:
    if len(row) != len(header):
        return rejected(origin, "bad_row", f"{len(row)} fields, header has {len(header)}", "\x1f".join(row))
    values: dict[str, str | bytes] = dict(zip(header, row, strict=True))
    mapped = (config.text_field, config.html_field, config.url_field, config.id_field, *config.keep_fields)
    for key in mapped:
        value = values.get(key)
        if isinstance(value, str) and _UNREAD_BYTE.search(value):
            # its bytes again (a UTF-16 encoder gives none back: a reader_error reject)
            values[key] = Utf8Repaired(value.encode(encoding, UNREAD))
    return doc_from_row(values, origin, config, text_encoding=encoding)


def read_csv(path: Path, config: ReaderConfig, name: str | None = None) -> Iterator[Doc]:
    return read_delimited(path, config, ",", name)


def read_tsv(path: Path, config: ReaderConfig, name: str | None = None) -> Iterator[Doc]:
    return read_delimited(path, config, "\t", name)
