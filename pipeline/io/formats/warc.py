"""WARC and ARC archives via ``warcio``.

``response`` records (and ``resource`` records) whose payload is HTML (``text/html``,
``application/xhtml+xml``) or plain text become records; the payload is de-chunked and
content-decoded by warcio, then decoded to text with the charset of the HTTP ``Content-Type``
header, then the page's own declaration, then detection. The URL is ``WARC-Target-URI``; the id
is the ``WARC-Record-ID`` (ARC records, which have none, get an id from their byte offset).

The payload's type is the HTTP ``Content-Type`` (a ``resource`` record's is its WARC
``Content-Type``); a payload without one is sniffed: HTML when it starts with ``<``, binary when it
holds control bytes no text has, else plain text.

Other payloads (images, PDF, scripts...) and non-2xx responses are *dropped* by stage ``read``
(reasons ``not_html`` and ``http_status``), so they are counted in the manifest and listed in
``dropped.parquet``. Records that carry no document (``request``, ``warcinfo``, ``metadata``,
``revisit``) are not records of the dump and are skipped without a trace.
"""

from __future__ import annotations

import codecs
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from pipeline.core.config import ReaderConfig
from pipeline.core.errors import CleanwireError
from pipeline.core.record import Doc, safe_str
from pipeline.io.formats.compression import InputDataError, ShortReads, open_input
from pipeline.io.formats.decoding import Undecodable, charset_from_header, charset_from_markup, decode
from pipeline.io.formats.records import (
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


def _media_type(content_type: str | None) -> str:
    return (content_type or "").split(";", 1)[0].strip().lower()


def _content_type(record: Any) -> str | None:
    """The payload's ``Content-Type``: the HTTP header's when the record holds an HTTP response
    (the record's own, ``application/http``, names the HTTP message, not the page in it), else
    the record's (a ``resource`` record, a non-HTTP URI). None when that one is missing."""
    headers = record.http_headers if record.http_headers is not None else record.rec_headers
    value = headers.get_header("Content-Type")
    return None if value is None else str(value)


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


def _payload(record: Any, config: ReaderConfig) -> bytes | str:
    """The de-chunked, content-decoded payload (up to one byte over the cap), or an error text."""
    try:
        body: bytes = record.content_stream().read(config.max_record_bytes + 1)
    except InputDataError:
        raise  # the archive's own stream broke off: read_warc says where
    except Exception as exc:  # noqa: BLE001 - a damaged chunked/gzip body costs this record
        return f"{type(exc).__name__}: {exception_text(exc)}"
    return body


def _record_id(record: Any) -> str | None:
    """The ``WARC-Record-ID`` without its angle brackets (ARC records have none)."""
    if record.format != "warc":
        return None
    value = record.rec_headers.get_header("WARC-Record-ID")
    return (safe_str(str(value).strip().strip("<>")) or None) if value else None


def _record_doc(record: Any, body: bytes | str, origin: Origin, config: ReaderConfig) -> Doc:
    """One document record of the archive to a Doc (or a drop/reject saying why not, with the
    record's own id)."""
    record_id = _record_id(record)
    url = record.rec_headers.get_header("WARC-Target-URI")
    status = _status(record)
    if status is not None and not 200 <= status < 300:
        return dropped(origin, "http_status", f"HTTP {status} {url}", id=record_id)
    if isinstance(body, str):
        return rejected(origin, "unreadable", f"payload of {url}: {body}", id=record_id)
    content_type = _content_type(record)
    media = _media_type(content_type) or _sniff_media(body)
    if media not in HTML_TYPES and media not in TEXT_TYPES:
        return dropped(origin, "not_html", f"{media} {url}", id=record_id)
    if len(body) > config.max_record_bytes:
        detail = f"> reader.max_record_bytes={config.max_record_bytes} {url}"
        return rejected(origin, "too_large", detail, id=record_id)
    is_html = media in HTML_TYPES
    declared = charset_from_header(content_type) or (charset_from_markup(body) if is_html else None)
    try:
        got = decode(body, declared=declared)
    except Undecodable as exc:
        return rejected(origin, "undecodable", f"{exc} ({url})", body, id=record_id)
    return Doc(
        id=record_id or origin.id,
        source=origin.source,
        raw=safe_str(got.text),
        format="html" if is_html else "text",
        url=safe_str(url) if url else None,
        encoding=got.encoding,
        passthrough=_kept(record, config),
    )


def read_warc(path: Path, config: ReaderConfig, name: str | None = None) -> Iterator[Doc]:
    """Document records of a WARC/ARC file (plain or gzip/zstd/bzip2-compressed, by magic).
    Headers warcio cannot parse end the file with a ``corrupt_archive`` reject; every record
    read before is kept."""
    # warcio (and fsspec, which it imports) load only when a WARC is read: ~0.1 s of every other
    # run's start-up
    from warcio.archiveiterator import ArchiveIterator
    from warcio.exceptions import ArchiveLoadFailed
    from warcio.statusandheaders import StatusAndHeadersParserException

    name = name or label(path)
    offset: int | str = 0
    try:
        with open_input(path, config.max_decompressed_bytes) as fh:
            records = ArchiveIterator(ShortReads(fh), arc2warc=True)  # warcio reads in blocks
            for record in records:
                if record.rec_type not in DOCUMENT_RECORDS:
                    continue
                body = _payload(record, config)
                offset = records.get_record_offset()  # after the payload: it may read to the end
                origin = Origin(name, offset)
                yield guarded(origin, _record_doc, record, body, origin, config)
    except CleanwireError:
        raise
    except (ArchiveLoadFailed, StatusAndHeadersParserException) as exc:
        yield rejected(Origin(name, f"{offset}+"), "corrupt_archive", exception_text(exc))
    except (OSError, InputDataError, EOFError) as exc:
        reason = exc.reason if isinstance(exc, InputDataError) else "unreadable"
        yield rejected(Origin(name, f"{offset}+"), reason, f"{type(exc).__name__}: {exception_text(exc)}")
    except Exception as exc:  # noqa: BLE001 - whatever warcio makes of damaged bytes: the rest is one reject
        detail = f"{type(exc).__name__}: {exception_text(exc)}"
        yield rejected(Origin(name, f"{offset}+"), "corrupt_archive", detail)
