"""From what a reader found to a :class:`~pipeline.core.record.Doc`: ids, rejects, field mapping.

Every reader names where a record came from with an :class:`Origin` (the input path and a
locator: line, row or byte offset); the record id is derived from it deterministically unless
the input gives one. A record that cannot be read becomes a Doc already rejected by stage
``read``, so it is counted and written to rejects like any other failure; :func:`guarded` turns
whatever else building one record raises into such a reject (``reader_error``), so that no
bytes of an input can stop a run.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from pipeline.core.config import ReaderConfig
from pipeline.core.errors import CleanwireError
from pipeline.core.pathnames import display_path
from pipeline.core.record import Doc, looks_like_html, make_id, safe_str
from pipeline.io.formats.decoding import Undecodable, charset_from_markup, decode
from pipeline.io.formats.fielddate import BAD_DATE_FLAG, field_date, is_missing

READ_STAGE = "read"
PREFIX_CHARS = 200
#: The flag of a record whose text field held HTML: it was read as HTML (extracted), and the
#: manifest counts such records (``counts.flags``).
HTML_IN_TEXT_FLAG = "html_in_text_field"
#: The flag of a record a string value of which was not valid UTF-8 (a Parquet file written by a
#: writer that does not check, a CSV row its file's sniffed charset cannot read): the text was decoded as bytes are (its codec in ``encoding``),
#: other values with U+FFFD for the bad bytes.
INVALID_UTF8_FLAG = "invalid_utf8_repaired"


@dataclass(frozen=True, slots=True)
class Origin:
    """Where a record came from: ``path`` (as the OS names it, or ``<stdin>``) and a locator in it.

    ``source`` shows the path as valid UTF-8 (:func:`~pipeline.core.pathnames.display_path`); the
    id is made from the exact name, so two files whose names differ only in undecodable bytes
    never share ids."""

    path: str
    locator: int | str

    @property
    def source(self) -> str:
        return f"{display_path(self.path)}:{self.locator}"

    @property
    def id(self) -> str:
        return make_id(self.path, self.locator)


def rejected(
    origin: Origin,
    reason: str,
    detail: str,
    raw: str | bytes = "",
    *,
    id: str | None = None,
    url: str | None = None,
) -> Doc:
    """A record that could not be read: rejected by stage ``read`` with ``reason``; ``id`` is the
    input's own id when it has one (else the origin's), ``url`` its URL when the input gave one."""
    if isinstance(raw, bytes):
        raw = raw[:PREFIX_CHARS].decode("utf-8", "replace")
    doc = Doc(
        id=safe_str(id) if id else origin.id,
        source=origin.source,
        raw=safe_str(raw[:PREFIX_CHARS]),
        url=safe_str(url) if url else None,
    )
    doc.reject(READ_STAGE, reason, safe_str(detail[:500]))
    return doc


def dropped(
    origin: Origin, reason: str, detail: str, *, id: str | None = None, url: str | None = None
) -> Doc:
    """A record the reader skips on purpose (e.g. a WARC image response): counted as dropped."""
    doc = Doc(
        id=safe_str(id) if id else origin.id, source=origin.source, raw="", url=safe_str(url) if url else None
    )
    doc.drop(READ_STAGE, reason, safe_str(detail[:500]))
    return doc


def guarded(origin: Origin, build: Callable[..., Doc], *args: Any) -> Doc:
    """``build(*args)``, or, when it raises, the record rejected as ``reader_error`` naming the
    exception: a library's surprise about one record's bytes costs that record only. A
    :class:`~pipeline.core.errors.CleanwireError` (an input that cannot be used at all) and
    interrupts still stop the run."""
    try:
        return build(*args)
    except CleanwireError:
        raise
    except Exception as exc:  # noqa: BLE001 - the point: any library error on any bytes
        return rejected(origin, "reader_error", f"{type(exc).__name__}: {exception_text(exc)}")


def exception_text(exc: BaseException) -> str:
    """``str(exc)``, cut to 300 characters (and never raising)."""
    try:
        return str(exc)[:300]
    except Exception:  # noqa: BLE001 - an exception whose str() fails
        return "(no message)"


def as_passthrough_value(value: Any) -> str:
    """A kept column's value as a string: strings as they are, anything else as JSON."""
    return safe_str(as_text(value))


def passthrough(row: Mapping[str, Any], config: ReaderConfig) -> dict[str, str]:
    """The ``--keep-field`` columns present (and not null) in ``row``."""
    return {k: as_passthrough_value(row[k]) for k in config.keep_fields if row.get(k) is not None}


class FieldError(ValueError):
    """A mapped field holds a value of the wrong type."""


@dataclass(frozen=True, slots=True)
class Content:
    """The text of a record and how its bytes were decoded (None when it was already text)."""

    raw: str
    format: str
    encoding: str | None


class Utf8Repaired(bytes):
    """A string value of a table that was not valid UTF-8, handed over as its bytes: the text
    fields are decoded as bytes are (charset detection), the others with U+FFFD; the record is
    flagged :data:`INVALID_UTF8_FLAG`."""


def _content(value: Any, name: str, *, html: bool, text_encoding: str | None) -> Content | None:
    if value is None:
        return None
    fmt = "html" if html else "text"
    if isinstance(value, str):
        return Content(value, fmt, text_encoding)
    if isinstance(value, bytes):
        declared = charset_from_markup(value) if html or value.lstrip()[:1] == b"<" else None
        got = decode(value, declared=declared)  # Undecodable propagates to the caller
        return Content(got.text, fmt, got.encoding)
    raise FieldError(f"field {name!r} is {type(value).__name__}, not a string")


def as_text(value: Any) -> str:
    """A value that names something (an id, a URL) as text: strings as they are, bytes decoded
    (UTF-8, U+FFFD for bad bytes), anything else in its JSON spelling (``true``, ``["a"]``, ``7``)."""
    if isinstance(value, str):
        return value
    if isinstance(value, bytes):
        return value.decode("utf-8", "replace")
    return json.dumps(value, ensure_ascii=False, sort_keys=True, default=str)


def _optional_str(row: Mapping[str, Any], name: str) -> str | None:
    value = row.get(name)
    if value is None or value == "" or value == b"":
        return None
    return as_text(value)


def given_id(row: Mapping[str, Any], config: ReaderConfig) -> str | None:
    """The input's own id of a row, when it has one (JSON spelling for a non-string)."""
    value = _optional_str(row, config.id_field)
    return safe_str(value) if value is not None else None


def row_prefix(row: Mapping[str, Any], cap: int = 40) -> str:
    """A short JSON rendering of a row for a reject's ``raw_prefix``: each value cut to ``cap``
    characters (a row may hold megabytes)."""
    shown: dict[str, Any] = {}
    for key, value in list(row.items())[:50]:
        if isinstance(value, str | bytes):
            shown[str(key)] = as_text(value[: cap * 4])[:cap]
        elif value is None or isinstance(value, bool | int | float):
            shown[str(key)] = value if not isinstance(value, int) or value.bit_length() < 64 else "<int>"
        else:
            shown[str(key)] = f"<{type(value).__name__}>"
    return json.dumps(shown, ensure_ascii=False)[:PREFIX_CHARS]


def doc_from_row(
    row: Mapping[str, Any],
    origin: Origin,
    config: ReaderConfig,
    *,
    text_encoding: str | None = "utf-8",
    raw: str | None = None,
) -> Doc:
    """A tabular row (JSON object, CSV row, Parquet row) to a Doc, by the configured field names.

    The HTML field wins when it is non-empty, else the text field; a text field that
    :func:`~pipeline.core.record.looks_like_html` is read as HTML and the record flagged
    :data:`HTML_IN_TEXT_FLAG`. ``text_encoding`` is what the container's text was decoded with
    (recorded for string values); ``raw``, the input as read (a JSONL line), is what a reject
    shows (else a short rendering of the row). Rejects keep the row's own id. The date field's
    value, when it is a plausible date, is the record's ``date``
    (:func:`~pipeline.io.formats.fielddate.field_date`; the later stages keep it); a value that is
    none flags the record :data:`~pipeline.io.formats.fielddate.BAD_DATE_FLAG` and is ignored."""
    row_id = given_id(row, config)

    def reject(reason: str, detail: str) -> Doc:
        return rejected(origin, reason, detail, raw if raw is not None else row_prefix(row), id=row_id)

    try:
        html = _content(row.get(config.html_field), config.html_field, html=True, text_encoding=text_encoding)
        # a non-empty HTML field wins: the text field is not read at all (whatever its type)
        text = (
            None
            if html is not None and html.raw
            else _content(
                row.get(config.text_field), config.text_field, html=False, text_encoding=text_encoding
            )
        )
    except FieldError as exc:
        return reject("wrong_type", str(exc))
    except Undecodable as exc:
        return reject("undecodable", str(exc))
    chosen = html if html is not None and html.raw else (text if text is not None else html)
    if chosen is None:
        return reject("missing_field", f"neither {config.text_field!r} nor {config.html_field!r} in record")
    flags: list[str] = []
    if chosen is text and text.raw and looks_like_html(text.raw):
        chosen = Content(text.raw, "html", text.encoding)
        flags.append(HTML_IN_TEXT_FLAG)
    if any(isinstance(v, Utf8Repaired) for v in row.values()):
        flags.append(INVALID_UTF8_FLAG)
    day = None
    if config.date_field and not is_missing(value := row.get(config.date_field)):
        day = field_date(value)
        if day is None:
            flags.append(BAD_DATE_FLAG)
    return Doc(
        id=row_id if row_id is not None else origin.id,
        source=origin.source,
        raw=chosen.raw,  # made safe with its batch (safe_batch): a page is not scanned twice
        format=chosen.format,
        url=safe_str(url) if (url := _optional_str(row, config.url_field)) else None,
        encoding=chosen.encoding,
        date=day,
        passthrough=passthrough(row, config),
        flags=flags,
    )
