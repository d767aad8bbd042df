"""WARC and ARC archives via ``warcio``.

``response`` records (and ``resource`` records) whose payload is HTML (``text/html``,
``application/xhtml+xml``) or plain text become records; the payload is de-chunked and
content-decoded (:mod:`pipeline.io.formats.httpbody`: a coding it cannot undo, a damaged or cut
compressed body is the record's reject), then decoded to text with the charset of the HTTP
``Content-Type`` header (there, a BOM-less UTF-16 label is honoured), then the page's own
declaration, then detection. The URL is ``WARC-Target-URI``; the id
is the ``WARC-Record-ID`` (ARC records, which have none, get an id from their byte offset).

The payload's type is the HTTP ``Content-Type`` (a ``resource`` record's is its WARC
``Content-Type``; of a joined list, the last); a ``text/plain`` payload that is HTML (a
misconfigured server) is read as HTML and flagged ``html_in_text_field``, as a text field holding
HTML is. A PDF or PostScript payload is one by its signature, whatever its type says. A payload
without a type is sniffed: HTML when it starts with ``<``, binary when it holds control bytes no
text has, else plain text.

Other payloads (images, PDF, scripts...) and non-2xx responses are *dropped* by stage ``read``
(reasons ``not_html`` and ``http_status``), so they are counted in the manifest and listed in
``dropped.jsonl.gz``. Records that carry no document (``request``, ``warcinfo``, ``metadata``,
``revisit``) are not records of the dump and are skipped without a trace.

A record the file cuts short (its header block, or fewer block bytes than its ``Content-Length``)
is rejected as ``truncated``, whatever its type, with its id and URL where its header gave them:
warcio hands out such a record as if it were whole, or takes its header for the end of the archive.

A ``response`` block holds an HTTP message only when it starts with an HTTP status line
(``HTTP/1.1 200``, ``HTTP/2 200``); else (home-made crawlers store the page alone) the whole block
is the payload, typed by the record's own ``Content-Type`` (sniffed when that is
``application/http``). A WARC record whose ``Content-Length`` is not a number (``abc``) is a
``corrupt_archive`` reject (a ``response`` or ``resource`` one; another is skipped), and reading
goes on at the next line that starts a record (``WARC/1.0``, ``WARC/1.1``): the block between is
not read. A WARC record without a ``Content-Length`` (warcio made its block the rest of the file,
the records after it with it) is read up to that line, a bounded piece of a line at a time: when a
record follows, it is a ``corrupt_archive`` reject the same way (another type is skipped); the
file's last one is read to the end of the file, as before (that the file ends in its header is
``truncated``). Bytes after a WARC record's block that start no record (warcio took a line of
the page for the next record's header, or an ARC record's) are skipped up to that line. When they
follow the block at once, before a blank line (a record's block ends with ``\r\n\r\n``), its
``Content-Length`` is too short and its page cut: a document record is then one ``corrupt_archive``
reject with its id, URL and page (a document is held until what follows its block is read, to
know). Else (after a blank line, or after another type of record) they are a ``corrupt_archive``
reject of their own, naming their offset and the id and URL of the record before them, their
first bytes its ``raw_prefix``. Blank lines before a record's first line, any number or none (a
record written right after the block before it), lose nothing. An ARC record's bad length is
still the end of the file (an ARC file has no such line).
"""

from __future__ import annotations

import codecs
import functools
import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from pipeline.core.config import ReaderConfig
from pipeline.core.errors import CleanwireError
from pipeline.core.record import HTML_SNIFF_CHARS, Doc, looks_like_html, safe_str
from pipeline.io.formats.compression import InputDataError, ShortReads, open_input
from pipeline.io.formats.decoding import Undecodable, charset_from_header, charset_from_markup, decode
from pipeline.io.formats.httpbody import PayloadError, http_body
from pipeline.io.formats.records import (
    HTML_IN_TEXT_FLAG,
    Origin,
    as_passthrough_value,
    dropped,
    exception_text,
    guarded,
    rejected,
)
from pipeline.io.formats.tabular import label

DOCUMENT_RECORDS = {"response", "resource"}
HTML_TYPES = {"text/html", "application/xhtml+xml"}
TEXT_TYPES = {"text/plain"}
#: Bytes that mark a payload as binary (WHATWG MIME Sniffing), looked for in its first bytes.
_BINARY_BYTES = frozenset([*range(0x00, 0x09), 0x0B, *range(0x0E, 0x1B), *range(0x1C, 0x20)])
_SNIFF_BYTES = 1445
#: Signatures of documents that are text-like in their first bytes yet not text (WHATWG MIME
#: Sniffing): a PDF's first kilobytes are often all ASCII and high bytes, which no sniffing for
#: binary bytes catches.
_SIGNATURES = ((b"%PDF-", "application/pdf"), (b"%!PS-Adobe-", "application/postscript"))
_BLOCK_READ = 1 << 16
_CUT_FIRST_LINE = "the file ends inside a record's first line"
#: How a ``response`` record's block that holds an HTTP message starts: ``HTTP/1.1 200``, ``HTTP/2 404``.
_HTTP_STATUS_LINE = re.compile(rb"HTTP/\d(?:\.\d)?[ \t]+\d{3}(?:[ \t\r\n]|$)", re.IGNORECASE)
#: The bytes of a block's first line looked at for a status line (a page's may be all of it).
_STATUS_LINE_PEEK = 1 << 12
#: The first lines of the records warcio reads: where to go on after a record whose end is unknown.
_WARC_RECORD_STARTS = frozenset({b"WARC/1.0", b"WARC/1.1", b"WARC/0.17", b"WARC/0.18"})
#: The bytes of a line looked at at a time while looking for the next record (a bound on memory).
_SCAN_LINE = 1 << 12
#: The bytes of stray bytes (that start no record) kept for their reject's ``raw_prefix``.
_STRAY_HEAD = 1 << 10


class _Watched:
    """The stream warcio reads, counting its bytes and seeing its end: whether the input has ended, and whether inside a line (one of ``name: value`` or not)."""

    def __init__(self, fh: Any) -> None:
        self._fh = fh
        self._pos = 0
        self._last = b""
        self._colon = False  # in the last line so far
        self.ended = False

    def read(self, n: int = -1) -> bytes:
        data: bytes = self._fh.read(n)
        if data:
            self._pos += len(data)
            self._last = data[-1:]
            line_start = data.rfind(b"\n") + 1
            self._colon = b":" in data[line_start:] or (line_start == 0 and self._colon)
        elif n != 0:
            self.ended = True
        return data

    def tell(self) -> int:
        return self._pos

    @property
    def ends_inside_a_line(self) -> bool:
        return self._last not in (b"", b"\n")

    @property
    def ends_inside_a_field(self) -> bool:
        """The input ends in a ``name: value`` line: a header warcio read, its value maybe cut."""
        return self.ends_inside_a_line and self._colon


class _Replayed:
    """A record's block whose first bytes were read (to look for an HTTP status line), with them
    put back in front: what reads it, and ``tell``, see the whole block."""

    def __init__(self, head: bytes, rest: Any) -> None:
        self._head = head
        self._rest = rest

    def read(self, n: int | None = None) -> bytes:
        if n is None or n < 0:
            head, self._head = self._head, b""
            return head + bytes(self._rest.read())
        head, self._head = self._head[:n], self._head[n:]
        return head + bytes(self._rest.read(n - len(head))) if len(head) < n else head

    def tell(self) -> int:
        return int(self._rest.tell()) - len(self._head)


def _at_end(source: _Watched | None, records: Any) -> bool:
    """Whether warcio has read all of the input (the record it is on is the file's last)."""
    if source is None or records is None or records.reader is None:
        return False
    return source.ended and records.reader.rem_length() == 0


def _http_headers_or_none(load: Callable[..., Any]) -> Callable[..., Any]:
    """warcio's ``load_http_headers``, giving None where the block holds nothing at all: warcio
    takes that EOFError for the end of the archive, so a record whose file ends with its WARC
    header block vanished; it now comes out, and read_warc finds its block short. A ``response``
    record's HTTP header is left to read_warc (:func:`_with_http_headers`), which looks first
    whether its block holds one."""

    def load_http_headers(rec_type: Any, uri: Any, stream: Any, length: Any) -> Any:
        if rec_type == "response" or length is None:
            # no Content-Length (a WARC header without one): the stream is the rest of the file,
            # and an HTTP request header parsed there could run on into the next record's header
            return None
        try:
            # no WARC-Target-URI: warcio calls uri.startswith and its AttributeError ended the
            # file; now the record is one without HTTP headers, as for a URI that is not http(s)
            return load(rec_type, uri if isinstance(uri, str) else "", stream, length)
        except EOFError:
            return None

    return load_http_headers


def _with_http_headers(record: Any, parser: Any) -> None:
    """Parses the HTTP header of a ``response`` record whose block starts with an HTTP status line
    (``HTTP/1.1 200``, ``HTTP/2 200``), whatever its ``WARC-Target-URI`` and its WARC
    ``Content-Type`` say. A block that does not is all payload (some crawlers store the page
    alone, typed ``text/html``), and its first line is put back in front of it.

    warcio parses an HTTP header only under a ``WARC-Target-URI`` that starts with
    ``http:``/``https:`` in lower case (a page without a URI, or under ``HTTPS://...``, was dropped
    as ``not_html``, ``application/http``), but there it takes any first line for a status line:
    a block of bare HTML lost its lines up to the first blank one as HTTP headers, and came out an
    empty page."""
    if record.http_headers is not None or record.rec_type != "response":
        return
    first = bytes(record.raw_stream.readline(_STATUS_LINE_PEEK))
    if not _HTTP_STATUS_LINE.match(first):
        if first:
            record.raw_stream = _Replayed(first, record.raw_stream)
        return
    if not first.endswith(b"\n"):
        first += bytes(record.raw_stream.readline())  # the rest of a (very) long status line
    record.http_headers = parser.parse(record.raw_stream, first)


def _tagging_arc(parse: Callable[..., Any]) -> Callable[..., Any]:
    """warcio's ARC header parser, marking the headers it makes (warcio makes an ARC record's
    header a WARC one): an ARC file has no ``WARC/1.0`` line to go on at after a record whose
    length is not a number."""

    def parse_arc(stream: Any, headerline: Any = None) -> Any:
        headers = parse(stream, headerline)
        headers.cleanwire_arc = True
        return headers

    return parse_arc


def _unparsable_length(record: Any) -> str | None:
    """A WARC record's ``Content-Length`` when it is there but not a number (``abc``, ``-5``), so
    that where its block ends is unknown; else None (an ARC record's is left to warcio)."""
    value = record.rec_headers.get_header("Content-Length")
    if value is None or getattr(record.rec_headers, "cleanwire_arc", False):
        return None
    try:
        return None if int(str(value)) >= 0 else str(value)  # as warcio reads it: "+1234" is one
    except ValueError:
        return str(value)


def _missing_length(record: Any) -> bool:
    """Whether a WARC record's header has no ``Content-Length`` (the WARC spec makes it mandatory):
    warcio gives its block the rest of the file, the records after it with it (an ARC record's
    length is in its header line)."""
    if getattr(record.rec_headers, "cleanwire_arc", False):
        return False
    return record.rec_headers.get_header("Content-Length") is None


class _UpToNextRecord:
    """The input up to the next line that starts a WARC record (``WARC/1.0``, ``WARC/1.1``), read
    a bounded piece of a line at a time: the block of a record whose header gives no
    ``Content-Length`` (warcio's is the rest of the file). ``found`` is that line once read to it
    (None when the input, or a gzip member, ends first)."""

    def __init__(self, reader: Any) -> None:
        self._reader = reader
        self._piece = b""  # of the line being read, not handed out yet
        self._at_line_start = True
        self._pos = 0
        self.done = False
        self.found: bytes | None = None

    def _fill(self) -> bool:
        if not self._piece and not self.done:
            line = bytes(self._reader.readline(_SCAN_LINE))
            if not line:
                self.done = True
            elif self._at_line_start and line.rstrip(b"\r\n") in _WARC_RECORD_STARTS:
                self.found, self.done = line, True
            else:
                self._piece, self._at_line_start = line, line.endswith(b"\n")
        return bool(self._piece)

    def _take(self, n: int) -> bytes:
        got, self._piece = self._piece[:n], self._piece[n:]
        self._pos += len(got)
        return got

    def read(self, n: int | None = -1) -> bytes:
        out = bytearray()
        while (n is None or n < 0 or len(out) < n) and self._fill():
            out += self._take(len(self._piece) if n is None or n < 0 else n - len(out))
        return bytes(out)

    def readline(self, n: int | None = -1) -> bytes:
        out = bytearray()
        while (n is None or n < 0 or len(out) < n) and not out.endswith(b"\n") and self._fill():
            out += self._take(len(self._piece) if n is None or n < 0 else n - len(out))
        return bytes(out)

    def tell(self) -> int:
        return self._pos

    def close(self) -> None:
        pass


def _skip_to_record(reader: Any) -> tuple[bytes | None, int]:
    """Reads on to the next line that starts a WARC record (``WARC/1.0``, ``WARC/1.1``), a bounded
    piece of a line at a time: that line (None at the end of the input, or of a gzip member) and
    the number of bytes skipped, as warcio's ``_consume_blanklines`` gives them."""
    rest = reader if isinstance(reader, _UpToNextRecord) else _UpToNextRecord(reader)
    while rest.read(_BLOCK_READ):
        pass
    return rest.found, rest.tell()


@functools.cache
def _archive_iterator() -> type:
    """warcio's ``ArchiveIterator``, going on after a WARC record whose ``Content-Length`` is not a
    number at the next line that starts a record (warcio read a length of 0, and then the block's
    lines as the next record's header: the rest of the file was one ``corrupt_archive`` reject).
    A compressed file (``.warc.gz``, per record or not) is decompressed before warcio reads it
    (:func:`open_input`), so it is read on the same way."""
    from warcio.archiveiterator import ArchiveIterator

    class ResyncingArchiveIterator(ArchiveIterator):  # type: ignore[misc]
        def __init__(self, *args: Any, **kwargs: Any) -> None:
            super().__init__(*args, **kwargs)
            parser = self.loader.arc_parser
            parser.parse = _tagging_arc(parser.parse)
            self.loader.load_http_headers = _http_headers_or_none(self.loader.load_http_headers)

        def _next_record(self, next_line: Any) -> Any:
            record = super()._next_record(next_line)
            if _missing_length(record):  # warcio's stream is the rest of the file
                record.raw_stream = record.cleanwire_block = _UpToNextRecord(self.reader)
            return record

        def _consume_blanklines(self) -> tuple[bytes | None, int]:
            if self.record is not None and _missing_length(self.record):
                return _skip_to_record(self.record.cleanwire_block)
            if self.record is not None and _unparsable_length(self.record) is not None:
                return _skip_to_record(self.reader)
            if getattr(self.record.rec_headers, "cleanwire_arc", False):
                return super()._consume_blanklines()  # type: ignore[no-any-return]
            end = self.fh.tell() - self.reader.rem_length()  # of the record's block
            line, size, line_ends = _blank_lines(self.reader)
            # (a line that does not end: the file's last bytes, a record's first line cut short?)
            if line is None or line[:5].upper() == b"WARC/" or not line.endswith(b"\n"):
                return line, size
            # a WARC record's Content-Length that is wrong: what follows its block starts no
            # record (warcio took a line of the page for the next record's header); it is skipped
            # up to the next record's first line, and is a reject
            rest = _UpToNextRecord(self.reader)
            head = line[:_STRAY_HEAD] + rest.read(max(0, _STRAY_HEAD - len(line)))
            found, skipped = _skip_to_record(rest)
            self.cleanwire_stray = _Stray(
                after=self.offset,
                start=end + size,
                size=skipped + len(line),
                found=found is not None,
                head=head,
                cut=line_ends < 2,
                record_id=_record_id(self.record),
                url=self.record.rec_headers.get_header("WARC-Target-URI"),
            )
            return found, size + len(line) + skipped

    return ResyncingArchiveIterator


def _blank_lines(reader: Any) -> tuple[bytes | None, int, int]:
    """The blank lines after a WARC record's block (``\\r\\n\\r\\n``, or more, or fewer), then the
    first line that is not blank (None at the end of the input), the bytes and the line ends
    before it. warcio's own takes the first line after a block for the separator whatever it
    holds: a record written right after the block before it (no blank line) lost its first line,
    ``WARC/1.0``, and then all of it as bytes that start no record."""
    size = line_ends = 0
    while True:
        line = bytes(reader.readline())
        if not line or line.strip():
            return line or None, size, line_ends
        size += len(line)
        line_ends += line.endswith(b"\n")


@dataclass(frozen=True)
class _Stray:
    """Bytes after a WARC record's block that start no record, up to the next record."""

    after: int  #: the offset of the record before them
    start: int  #: their offset
    size: int
    found: bool  #: whether a record follows (else the file ends in them)
    head: bytes  #: their first bytes
    #: They follow the block before a blank line does (the ``\\r\\n\\r\\n`` a WARC record ends
    #: with): that record's ``Content-Length`` is too short, and its block is cut.
    cut: bool
    record_id: str | None  #: of the record before them
    url: str | None  #: of the record before them

    @property
    def what(self) -> str:
        return "read on at the next record" if self.found else "the file ends in them"


@dataclass
class _Held:
    """A document record, held until what follows its block is known (:func:`_settled`)."""

    doc: Doc
    origin: Origin
    record_id: str | None
    url: str | None
    declared: int
    body: bytes | PayloadError


def _settled(held: _Held | None, records: Any) -> Iterator[Doc]:
    """The held record's doc; or, when bytes that start no record follow its block at once (its
    ``Content-Length`` is too short: its page is cut), its ``corrupt_archive`` reject, those
    bytes with it."""
    if held is None:
        return
    stray: _Stray | None = getattr(records, "cleanwire_stray", None)
    if stray is None or not stray.cut or stray.after != held.origin.locator:
        yield held.doc
        return
    records.cleanwire_stray = None
    detail = (
        f"Content-Length {held.declared} is too short: {stray.size} bytes that start no record follow "
        f"its block (the rest of it: its page would be cut); {stray.what}"
    )
    detail = f"{detail} ({held.url})" if held.url else detail
    raw = held.body if isinstance(held.body, bytes) else stray.head
    yield rejected(held.origin, "corrupt_archive", detail, raw, id=held.record_id, url=held.url)


def _after_block(held: _Held | None, records: Any, name: str) -> Iterator[Doc]:
    """What the reader owes once the bytes after a record's block are read: the held document
    record (:func:`_settled`), then the reject of stray bytes it did not take (:func:`_stray`)."""
    yield from _settled(held, records)
    yield from _stray(records, name)


def _stray(records: Any, name: str) -> Iterator[Doc]:
    """The ``corrupt_archive`` reject of the bytes the iterator skipped after a record whose
    ``Content-Length`` was wrong (they started no record), if it just did: where they are, and
    the record before them (its id and URL)."""
    stray: _Stray | None = getattr(records, "cleanwire_stray", None)
    if stray is None:
        return
    records.cleanwire_stray = None
    before = " ".join(f"{v}" for v in (stray.record_id, stray.url) if v) or f"at offset {stray.after}"
    detail = (
        f"{stray.size} bytes at offset {stray.start} after the record {before} start no record "
        f"(a wrong Content-Length?); {stray.what}"
    )
    yield rejected(Origin(name, stray.start), "corrupt_archive", detail, stray.head, url=stray.url)


def _unknown_length(origin: Origin, record: Any, value: str) -> Doc:
    """The ``corrupt_archive`` reject of a record whose ``Content-Length`` is not a number: where
    its block ends is unknown, so none of it is read."""
    url = record.rec_headers.get_header("WARC-Target-URI")
    detail = f"Content-Length {value.strip()!r} is not a number; read on at the next record"
    detail = f"{detail} ({url})" if url else detail
    return rejected(origin, "corrupt_archive", detail, id=_record_id(record), url=url)


def _no_length(origin: Origin, record: Any) -> Doc:
    """The ``corrupt_archive`` reject of a WARC record without a ``Content-Length`` (that the file
    does not end in its header): where its block ends is unknown, so none of it is read."""
    url = record.rec_headers.get_header("WARC-Target-URI")
    detail = "no Content-Length; read on at the next record"
    detail = f"{detail} ({url})" if url else detail
    return rejected(origin, "corrupt_archive", detail, id=_record_id(record), url=url)


def _declared_length(record: Any) -> int | None:
    """The length of the record's block from its ``Content-Length`` (net of an ARC header's
    lines), None when the header gives no number."""
    value = record.rec_headers.get_header("Content-Length")
    if record.length is None or value is None or not str(value).strip().isdigit():
        return None
    return int(record.length)


def _block_read(record: Any) -> int:
    """Reads the rest of the record's block; the number of its bytes the file held."""
    while record.raw_stream.read(_BLOCK_READ):
        pass
    return int(record.raw_stream.tell())


def _cut(origin: Origin, record: Any, got: int, declared: int | None, source: _Watched) -> Doc:
    """The ``truncated`` reject of a record the file cuts short after ``got`` bytes of its block,
    with its id and URL when its header gave them (not from its last line when the file ends in
    that line: its value may be cut)."""
    in_header = declared is None or (got == 0 and source.ends_inside_a_line)
    lines = record.rec_headers.headers
    header = {
        str(k).lower(): str(v) for k, v in (lines[:-1] if in_header and source.ends_inside_a_field else lines)
    }
    record_id = header.get("warc-record-id", "").strip().strip("<>") if record.format == "warc" else ""
    url = header.get("warc-target-uri")
    what = (
        "the file ends inside its WARC header"
        if in_header
        else f"the file ends {got} bytes into its {declared}-byte block"
    )
    detail = f"{what} ({url})" if url else what
    return rejected(origin, "truncated", detail, id=safe_str(record_id) if record_id else None, url=url)


def _media_type(content_type: str | None) -> str:
    """The ``type/subtype`` of a ``Content-Type`` value, "" when it names none (``charset=utf-8``
    alone). Of a list that intermediaries joined (``text/html,text/html; charset=utf-8``), the
    last, as browsers take it (WHATWG Fetch, "extract a MIME type")."""
    for part in reversed((content_type or "").split(",")):
        media = part.split(";", 1)[0].strip().lower()
        if "/" in media:
            return media
    return ""


def _content_type(record: Any) -> str | None:
    """The payload's ``Content-Type``: the HTTP header's when the record holds an HTTP response
    (the record's own, ``application/http``, names the HTTP message, not the page in it), else
    the record's (a ``resource`` record, a non-HTTP URI, a ``response`` block of bare HTML typed
    ``text/html``). None when that one is missing, or is ``application/http`` over a block that
    turned out to hold no HTTP message (:func:`_with_http_headers`)."""
    if record.http_headers is not None:
        value = record.http_headers.get_header("Content-Type")
    else:
        value = record.rec_headers.get_header("Content-Type")
        if isinstance(record.raw_stream, _Replayed) and _media_type(value) == "application/http":
            return None  # a block that holds no HTTP message after all: its payload is sniffed
    return None if value is None else str(value)


def _signature(body: bytes) -> str | None:
    """The type a payload's first bytes prove whatever its header says (a PDF served as
    ``text/html`` is a PDF: its bytes read as text are garbage), or None."""
    for signature, media in _SIGNATURES:
        if body.startswith(signature):
            return media
    return None


def _sniff_media(body: bytes) -> str:
    """The type of a payload that has none: HTML when it starts with ``<``; binary (not a
    document) when its first bytes hold a control byte no text has (WHATWG MIME Sniffing,
    "binary data byte"); else plain text."""
    if body.lstrip()[:1] == b"<":
        return "text/html"
    if body.startswith((codecs.BOM_UTF8, codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        return "text/plain"
    if any(b in _BINARY_BYTES for b in body[:_SNIFF_BYTES]):
        return "application/octet-stream"
    return "text/plain"


def _kept(record: Any, config: ReaderConfig) -> dict[str, str]:
    out: dict[str, str] = {}
    for name in config.keep_fields:
        value = record.rec_headers.get_header(name)
        if value is None and record.http_headers is not None:
            value = record.http_headers.get_header(name)
        if value is not None:
            out[name] = as_passthrough_value(value)
    return out


def _status(record: Any) -> int | None:
    if record.http_headers is None or record.rec_type != "response":
        return None
    code = record.http_headers.get_statuscode()
    return int(code) if code and str(code).isdigit() else None


def _payload(record: Any, config: ReaderConfig) -> bytes | PayloadError:
    """The de-chunked, content-decoded payload (up to one byte over the cap), or why not."""
    headers = record.http_headers
    limit = config.max_record_bytes
    try:
        if headers is None:
            return bytes(record.raw_stream.read(limit + 1))
        encoding = headers.get_header("Content-Encoding")
        return http_body(record.raw_stream, encoding, headers.get_header("Transfer-Encoding"), limit)
    except InputDataError:
        raise  # the archive's own stream broke off: read_warc says where
    except PayloadError as exc:
        return exc
    except Exception as exc:  # noqa: BLE001 - warcio's chunk reader on damaged bytes costs this record
        return PayloadError(f"{type(exc).__name__}: {exception_text(exc)}")


def _record_id(record: Any) -> str | None:
    """The ``WARC-Record-ID`` without its angle brackets (ARC records have none)."""
    if record.format != "warc":
        return None
    value = record.rec_headers.get_header("WARC-Record-ID")
    return (safe_str(str(value).strip().strip("<>")) or None) if value else None


def _is_document(media: str) -> bool:
    return media in HTML_TYPES or media in TEXT_TYPES


def _record_doc(record: Any, body: bytes | PayloadError, origin: Origin, config: ReaderConfig) -> Doc:
    """One document record of the archive to a Doc (or a drop/reject saying why not, with the
    record's own id). A payload that cannot be decoded is a reject only when it would have been
    a document: a brotli image is dropped as ``not_html`` like any image."""
    record_id = _record_id(record)
    url = record.rec_headers.get_header("WARC-Target-URI")
    status = _status(record)
    if status is not None and not 200 <= status < 300:
        return dropped(origin, "http_status", f"HTTP {status} {url}", id=record_id, url=url)
    content_type = _content_type(record)
    media = _media_type(content_type)
    if media and not _is_document(media):
        return dropped(origin, "not_html", f"{media} {url}", id=record_id, url=url)
    if isinstance(body, PayloadError):
        return rejected(origin, body.reason, f"payload of {url}: {body}", id=record_id, url=url)
    media = _signature(body) or media or _sniff_media(body)
    if not _is_document(media):
        return dropped(origin, "not_html", f"{media} {url}", id=record_id, url=url)
    if len(body) > config.max_record_bytes:
        detail = f"> reader.max_record_bytes={config.max_record_bytes} {url}"
        return rejected(origin, "too_large", detail, id=record_id, url=url)
    # a page served as text/plain (a misconfigured server) is still HTML: read so, and flagged
    served_as_text = media in TEXT_TYPES and looks_like_html(body[:HTML_SNIFF_CHARS].decode("latin-1"))
    is_html = media in HTML_TYPES or served_as_text
    by_header = charset_from_header(content_type)
    declared = by_header or (charset_from_markup(body) if is_html else None)
    try:
        got = decode(body, declared=declared, transport=by_header is not None)
    except Undecodable as exc:
        return rejected(origin, "undecodable", f"{exc} ({url})", body, id=record_id, url=url)
    return Doc(
        id=record_id or origin.id,
        source=origin.source,
        raw=safe_str(got.text),
        format="html" if is_html else "text",
        url=safe_str(url) if url else None,
        encoding=got.encoding,
        passthrough=_kept(record, config),
        flags=[HTML_IN_TEXT_FLAG] if served_as_text else [],
    )


def read_warc(path: Path, config: ReaderConfig, name: str | None = None) -> Iterator[Doc]:
    """Document records of a WARC/ARC file (plain or gzip/zstd/bzip2-compressed, by magic).
    Headers warcio cannot parse end the file with a ``corrupt_archive`` reject (``truncated``
    when the file ends in them); every record read before is kept. A WARC header whose
    ``Content-Length`` is not a number, or that has none (unless its record is the file's last),
    is its record's reject, and reading goes on at the next record; so it does after bytes that
    start no record."""
    # warcio (and fsspec, which it imports) load only when a WARC is read: ~0.1 s of every other
    # run's start-up
    from warcio.exceptions import ArchiveLoadFailed
    from warcio.statusandheaders import StatusAndHeadersParserException

    name = name or label(path)
    offset: int | str = 0
    source: _Watched | None = None
    records: Any = None
    current: Any = None  # the record being read, for a reject when its bytes stop coming
    held: _Held | None = None  # the last document record, until what follows its block is known
    try:
        with open_input(path, config.max_decompressed_bytes) as fh:
            source = _Watched(ShortReads(fh))  # warcio reads in blocks
            records = _archive_iterator()(source, arc2warc=True)
            for record in records:
                yield from _after_block(held, records, name)
                held = None
                offset = records.offset  # where it starts (get_record_offset reads on into the next)
                origin = Origin(name, offset)
                declared = _declared_length(record)
                is_document = record.rec_type in DOCUMENT_RECORDS
                current = record
                if is_document:
                    _with_http_headers(record, records.loader.http_parser)
                if declared is None and _at_end(source, records):  # no length: the file ends in its header
                    yield _cut(origin, record, 0, None, source)
                    continue
                unparsable = _unparsable_length(record)
                if unparsable is not None:  # the iterator goes on at the next record's first line
                    current = None
                    if is_document:
                        yield _unknown_length(origin, record, unparsable)
                    continue
                # no Content-Length: the block is read up to the next record's first line
                unbounded = _missing_length(record)
                body = _payload(record, config) if is_document else b""
                got = _block_read(record) if declared is not None or unbounded else 0
                current = None
                if declared is not None and got < declared:
                    yield _cut(origin, record, got, declared, source)
                elif unbounded and record.cleanwire_block.found is not None:
                    if is_document:  # a record follows: where this one's block ends is a guess
                        yield _no_length(origin, record)
                elif is_document and declared is not None:  # its end is known by the next record
                    doc = guarded(origin, _record_doc, record, body, origin, config)
                    url = record.rec_headers.get_header("WARC-Target-URI")
                    held = _Held(doc, origin, _record_id(record), url, declared, body)
                elif is_document:  # the file's last record: its block is the rest of the file
                    yield guarded(origin, _record_doc, record, body, origin, config)
            yield from _after_block(held, records, name)
            held = None
            if source.tell() > records.offset:  # read, yet no record: warcio takes one byte for none
                yield rejected(Origin(name, records.offset), "truncated", _CUT_FIRST_LINE)
    except CleanwireError:
        raise
    except (ArchiveLoadFailed, StatusAndHeadersParserException) as exc:
        yield from _after_block(held, records, name)
        if source is not None and _at_end(source, records) and source.ends_inside_a_line:
            yield rejected(Origin(name, records.offset), "truncated", _CUT_FIRST_LINE)
        else:
            yield rejected(Origin(name, f"{offset}+"), "corrupt_archive", exception_text(exc))
    except (OSError, InputDataError, EOFError) as exc:
        yield from _after_block(held, records, name)
        reason = exc.reason if isinstance(exc, InputDataError) else "unreadable"
        detail = f"{type(exc).__name__}: {exception_text(exc)}"
        if current is not None:
            url = current.rec_headers.get_header("WARC-Target-URI")
            detail = f"{detail} ({url})" if url else detail
        record_id = _record_id(current) if current is not None else None
        yield rejected(Origin(name, f"{offset}+"), reason, detail, id=record_id)
    except Exception as exc:  # noqa: BLE001 - whatever warcio makes of damaged bytes: the rest is one reject
        yield from _after_block(held, records, name)
        if _at_end(source, records):  # e.g. a header cut before its URI
            yield rejected(
                Origin(name, records.offset), "truncated", "the file ends inside a record's WARC header"
            )
        else:
            detail = f"{type(exc).__name__}: {exception_text(exc)}"
            yield rejected(Origin(name, f"{offset}+"), "corrupt_archive", detail)
