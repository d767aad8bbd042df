"""CSV and TSV inputs: charset and dialect sniffed (``,`` ``;`` tab ``|``, quoting, BOM), rows streamed;
see :mod:`.tabular` for what the readers share.

Whether a file quotes its fields is judged on the same sample (:func:`sniff_quoting`): a TSV export
that writes news text as it is (``"We will rebuild," the mayor said``) is read with its quotes as
plain text, a line a row. In a file that does quote, a quoted field that never closes (it runs into
a stray quote, the end of the file, a row of the wrong width, or is still open at
``reader.max_record_bytes``) over lines that all read as rows costs only the row that opened it: a ``bad_row`` reject naming
its lines, and reading goes on at the line after the one it opened on (the lines it swallowed are
read again, as rows).

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
from collections import deque
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


_QUOTE = '"'
#: A line of a sample with where its text ends (before its line break) and where the next begins.
_LINE = re.compile(r"[^\r\n]*(\r\n|\r|\n|$)")


def sniff_quoting(sample: str, delimiter: str, *, complete: bool) -> bool:
    """Whether a CSV/TSV file quotes its fields, judged on its first rows (``sample``, decoded;
    ``complete`` when it is the whole file): a field that starts with a quote and ends with one
    right before a delimiter or a line break (``""`` an escaped quote inside) is evidence that it
    does; a field that starts with one that closes elsewhere (``"Yes," she said``) or never, or a
    quote inside a field that does not start with one, that it does not (a TSV export writing text
    as it is). The file quotes unless the sample holds more of the second than of the first: one
    damaged row does not turn a quoting CSV into a plain one, and a sample without quotes keeps
    the default."""
    lines = [(m.start(), m.start(1)) for m in _LINE.finditer(sample) if m.start() < len(sample)]
    if not complete and len(lines) > 1:
        lines.pop()  # the sample may end inside the last line
    limit = len(sample) if complete else lines[-1][1] if lines else 0
    closed = broken = 0
    i = 0  # the line read: where it starts and where its text ends
    while i < len(lines):
        pos, end = lines[i]
        while True:  # its fields
            if sample.startswith(_QUOTE, pos):
                k = _closing_quote(sample, pos + 1, limit)
                if k < 0 and not complete:
                    # open to the end of the sample: what follows is inside it (a quoted page or
                    # article longer than the sample), no evidence either way
                    return broken <= closed
                after = sample[k + 1 : k + 2] if k >= 0 else None
                if after not in (delimiter, "\r", "\n", ""):
                    broken += 1
                    break  # read on at the line after the one it opened on
                closed += 1
                while i + 1 < len(lines) and lines[i + 1][0] <= k:
                    i += 1  # it closed on a later line
                end = lines[i][1]
                if after != delimiter:
                    break
                pos = k + 2
                continue
            cut = sample.find(delimiter, pos, end)
            broken += _QUOTE in sample[pos : end if cut < 0 else cut]  # a quote inside a field
            if cut < 0:
                break
            pos = cut + 1
        i += 1
    return broken <= closed


def _closing_quote(sample: str, start: int, limit: int) -> int:
    """Where the quoted field whose text begins at ``start`` closes (``""`` is a quote in it), -1
    when it does not before ``limit``."""
    while (k := sample.find(_QUOTE, start, limit)) >= 0 and sample.startswith(_QUOTE, k + 1):
        if k + 1 >= limit:
            return -1
        start = k + 2
    return k


class _CsvText:
    """A CSV/TSV input opened for reading: its text stream, codec, delimiter and whether it quotes
    its fields (:func:`sniff_quoting`)."""

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
        sample = head.decode(encoding, errors="replace")
        complete = len(head) < _SNIFF_BYTES
        if config.csv_delimiter:
            self.delimiter = config.csv_delimiter
        else:
            self.delimiter = sniff_delimiter(sample, preferred, complete=complete)
        self.quoted = sniff_quoting(sample, self.delimiter, complete=complete)

    def reader(self, lines: _Lines) -> Iterator[list[str]]:
        """The rows of ``lines``: quoted fields read as such (strictly) when the file quotes them,
        else a quote is text like any other (``csv.QUOTE_NONE``)."""
        if self.quoted:
            return csv.reader(lines, delimiter=self.delimiter, strict=True)
        return csv.reader(lines, delimiter=self.delimiter, quoting=csv.QUOTE_NONE, strict=True)


#: How many characters of a record too large to read are read at a time while it is skipped.
_SKIP_CHARS = 1 << 20

#: How many of the lines a quoted field swallowed are looked at to tell rows from a field's lines.
_LOOK_AT_LINES = 20


class RecordTooLarge(InputDataError):
    """A CSV record (or header) of more than ``reader.max_record_bytes`` characters; its lines
    have been read past (:class:`_Lines`)."""

    reason = "too_large"

    def __init__(self, size: int, cap: int) -> None:
        super().__init__(f"{size} characters > reader.max_record_bytes={cap}")


class QuoteNeverClosed(InputDataError):
    """A quoted field still open at ``reader.max_record_bytes`` over lines that read as rows
    (:meth:`_Lines.swallowed_rows`); its lines are held to be read again (:meth:`_Lines.replay`).
    A long field that does close before the cap (a page of 5 MB) is read whole, whatever its lines
    look like."""

    reason = "bad_row"


class _Lines:
    """The lines of a CSV text stream for :func:`csv.reader`, holding no more than ``cap``
    characters of a record: a record that grows past them raises :class:`RecordTooLarge` once
    it is read past (to the end of its line, and on while a quoted field is open: an odd number
    of quotes so far; with ``quoted`` false a quote is text and a record is a line), and reading
    goes on with the next record. A quoted field still open at the cap over lines that read as
    rows raises :class:`QuoteNeverClosed`. :meth:`start` begins a record; ``first`` is its first line (or as
    much of it as was read), ``lines`` its lines and their numbers in the file; :meth:`replay`
    gives all but the first again, for the rows they hold."""

    def __init__(self, text: IO[str], cap: int, *, quoted: bool = True) -> None:
        self.text = text
        self.cap = cap
        self.quoted = quoted
        self.pending: deque[tuple[int, str]] = deque()  # lines to read again, and their numbers
        self.lineno = 0  # the lines read from the stream
        self.width = 0  # the header's, once read
        self.delimiter = ","
        self.start()

    def start(self) -> None:
        self.first = ""
        self.size = 0
        self.quotes = 0
        self.lines: list[tuple[int, str]] = []

    def swallowed_rows(self) -> bool:
        """Whether the lines of this record after its first look like rows of their own (each of
        the first of them, read alone, of the header's width of two or more columns, with no quote
        left open): then a quote opened on the first that was text (or never closed) swallowed
        them, rather than a quoted field that holds line breaks (whose lines seldom all have the
        width: a file of one column never tells)."""
        # the lines after the first; of a record whose quote closed, not the line that closes it
        after = self.lines[1:-1] if self.quotes % 2 == 0 else self.lines[1:]
        looked = [line for _, line in after[:_LOOK_AT_LINES] if line.strip("\r\n")]
        if not looked or self.width < 2:
            return False  # one column: any line of a long field reads as a row
        for line in looked:
            if line.count(_QUOTE) % 2:
                return False  # a quote left open on a line of its own: not a row
            try:
                if len(next(csv.reader([line], delimiter=self.delimiter), [])) != self.width:
                    return False  # a line of a long field (every row of the file has the width)
            except csv.Error:  # a field over the csv module's limit
                return False
        return True

    def _whole_last_line(self) -> None:
        """The last line of this record read to its end (the cap cut it where it fell)."""
        number, line = self.lines[-1]
        while not line.endswith(("\n", "\r")) and (more := self._read(_SKIP_CHARS)[1]):
            line += more
        self.lines[-1] = (number, line)

    def replay(self) -> None:
        """Read the lines of this record after its first again, as records of their own."""
        self.pending.extendleft(reversed(self.lines[1:]))
        self.lines = self.lines[:1]

    @property
    def span(self) -> str:
        """The lines this record was read from: ``line 4`` or ``lines 4-9``."""
        if not self.lines:
            return f"line {self.lineno}"
        first, last = self.lines[0][0], self.lines[-1][0]
        return f"line {first}" if first == last else f"lines {first}-{last}"

    def _read(self, limit: int) -> tuple[int, str]:
        if self.pending:
            number, line = self.pending.popleft()
            if len(line) > limit:
                self.pending.appendleft((number, line[limit:]))
                line = line[:limit]
            return number, line
        line = self.text.readline(limit)
        number = self.lineno + 1
        if line.endswith(("\n", "\r")):
            self.lineno = number
        return number, line

    def __iter__(self) -> _Lines:
        return self

    def __next__(self) -> str:
        number, line = self._read(self.cap + 1 - self.size)
        if not line:
            raise StopIteration
        if not self.size:
            self.first = line
        self.lines.append((number, line))
        self.size += len(line)
        if self.quoted:
            self.quotes += line.count(_QUOTE)
        if self.size > self.cap:
            if self.quotes % 2 and self.swallowed_rows():
                self._whole_last_line()  # the cap may have cut it: it is read again as a row
                raise QuoteNeverClosed(f"still open at reader.max_record_bytes={self.cap}")
            while self.quotes % 2 or not line.endswith(("\n", "\r")):
                line = self._read(_SKIP_CHARS)[1]
                if not line:
                    break
                self.size += len(line)
                if self.quoted:
                    self.quotes += line.count(_QUOTE)
            raise RecordTooLarge(self.size, self.cap)
        return line


def _header(reader: Iterator[list[str]]) -> list[str] | None:
    """The header row: the first that is not blank (as :class:`csv.DictReader` finds it); names
    with bytes the charset cannot read get U+FFFD for them."""
    header = next((row for row in reader if row), None)
    return None if header is None else [safe_str(name) for name in header]


def _unwrapped(header: list[str]) -> list[str]:
    """The names of a header read with quotes as text (``QUOTE_NONE``), a name wrapped in them
    (``"text"``) unwrapped: the file's rows quote nothing, but some exporters quote the header."""
    return [name[1:-1] if len(name) > 1 and name[0] == name[-1] == _QUOTE else name for name in header]


def csv_header(path: Path, preferred: str, config: ReaderConfig) -> tuple[list[str], str]:
    """The column names of a CSV file and its delimiter (for checking the field mapping before a
    run); ``[]`` when it cannot be read."""
    raise_csv_limit(config.max_record_bytes)
    try:
        opened = _CsvText(path, config, preferred)
        with opened.text:
            lines = _Lines(opened.text, config.max_record_bytes, quoted=opened.quoted)
            header = _header(opened.reader(lines)) or []
            return (header if opened.quoted else _unwrapped(header)), opened.delimiter
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
            lines = _Lines(opened.text, config.max_record_bytes, quoted=opened.quoted)
            reader = opened.reader(lines)
            header = _header(reader)
            if header is None:
                return
            if not opened.quoted:
                header = _unwrapped(header)
            lines.width, lines.delimiter = len(header), opened.delimiter
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
                except (csv.Error, QuoteNeverClosed) as exc:
                    rowno += 1
                    if len(lines.lines) > 1 and (isinstance(exc, QuoteNeverClosed) or lines.swallowed_rows()):
                        yield _never_closed(
                            lines, str(exc), header, Origin(name, rowno), opened.delimiter, config
                        )
                    else:
                        row_id = given_id(_whole_fields(lines.first, header, opened.delimiter), config)
                        detail = f"{lines.span}: {exc}"
                        yield rejected(Origin(name, rowno), "bad_row", detail, lines.first, id=row_id)
                    continue
                if not row:
                    continue
                rowno += 1
                origin = Origin(name, rowno)
                if len(row) != len(header) and len(lines.lines) > 1 and lines.swallowed_rows():
                    # a row of the wrong width from many lines: a quote opened that was text
                    detail = f"{len(row)} fields, header has {len(header)}"
                    yield _never_closed(lines, detail, header, origin, opened.delimiter, config)
                    continue
                yield guarded(origin, _csv_row, row, header, origin, config, opened.encoding)
    except CleanwireError:
        raise
    except Exception as exc:  # noqa: BLE001 - I/O, a damaged stream, or a surprise: the rest is one reject
        yield broken_off(name, rowno, exc)


def _never_closed(
    lines: _Lines, why: str, header: list[str], origin: Origin, delimiter: str, config: ReaderConfig
) -> Doc:
    """The reject for a record whose quoted field never closed (it ran into ``why`` over lines that
    look like rows: :meth:`_Lines.swallowed_rows`): its first line is the record; the lines after
    it are read again (:meth:`_Lines.replay`), so that a quote which was text costs one row, not
    the rows it swallowed."""
    span, opened_on = lines.span, lines.lines[0][0]
    lines.replay()
    detail = f"{span}: a quoted field never closed ({why}); reading goes on at line {opened_on + 1}"
    row_id = given_id(_whole_fields(lines.first, header, delimiter), config)
    return rejected(origin, "bad_row", detail, lines.first, id=row_id)


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
