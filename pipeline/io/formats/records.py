"""From what a reader found to a :class:`~pipeline.core.record.Doc`: ids, rejects, field mapping.

Every reader names where a record came from with an :class:`Origin` (the input path and a
locator: line, row or byte offset); the record id is derived from it deterministically unless
the input gives one. A record that cannot be read becomes a Doc already rejected by stage
``read``, so it is counted and written to rejects like any other failure.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from pipeline.core.config import ReaderConfig
from pipeline.core.record import Doc, make_id, safe_str
from pipeline.io.formats.decoding import Undecodable, charset_from_markup, decode

READ_STAGE = "read"
PREFIX_CHARS = 200


@dataclass(frozen=True, slots=True)
class Origin:
    """Where a record came from: ``path`` (as given, or ``<stdin>``) and a locator in it."""

    path: str
    locator: int | str

    @property
    def source(self) -> str:
        return f"{self.path}:{self.locator}"

    @property
    def id(self) -> str:
        return make_id(self.path, self.locator)


def rejected(origin: Origin, reason: str, detail: str, raw: str | bytes = "") -> Doc:
    """A record that could not be read: rejected by stage ``read`` with ``reason``."""
    if isinstance(raw, bytes):
        raw = raw[:PREFIX_CHARS].decode("utf-8", "replace")
    doc = Doc(id=origin.id, source=origin.source, raw=safe_str(raw[:PREFIX_CHARS]))
    doc.reject(READ_STAGE, reason, detail[:500])
    return doc


def dropped(origin: Origin, reason: str, detail: str) -> Doc:
    """A record the reader skips on purpose (e.g. a WARC image response): counted as dropped."""
    doc = Doc(id=origin.id, source=origin.source, raw="")
    doc.drop(READ_STAGE, reason, detail[:500])
    return doc


def as_passthrough_value(value: Any) -> str:
    """A kept column's value as a string: strings as they are, anything else as JSON."""
    if isinstance(value, str):
        return safe_str(value)
    if isinstance(value, bytes):
        return safe_str(value.decode("utf-8", "replace"))
    return safe_str(json.dumps(value, ensure_ascii=False, sort_keys=True, default=str))


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


def _content(value: Any, name: str, *, html: bool, text_encoding: str | None) -> Content | None:
    if value is None:
        return None
    fmt = "html" if html else "text"
    if isinstance(value, str):
        return Content(value, fmt, text_encoding)
    if isinstance(value, bytes):
        declared = charset_from_markup(value) if html else None
        got = decode(value, declared=declared)  # Undecodable propagates to the caller
        return Content(got.text, fmt, got.encoding)
    raise FieldError(f"field {name!r} is {type(value).__name__}, not a string")


def _optional_str(row: Mapping[str, Any], name: str) -> str | None:
    value = row.get(name)
    if value is None or value == "":
        return None
    if isinstance(value, bytes):
        return value.decode("utf-8", "replace")
    return str(value)


def doc_from_row(
    row: Mapping[str, Any], origin: Origin, config: ReaderConfig, *, text_encoding: str | None = "utf-8"
) -> Doc:
    """A tabular row (JSON object, CSV row, Parquet row) to a Doc, by the configured field names.

    The HTML field wins when it is non-empty, else the text field; ``text_encoding`` is what the
    container's text was decoded with (recorded for string values)."""
    try:
        html = _content(row.get(config.html_field), config.html_field, html=True, text_encoding=text_encoding)
        text = _content(
            row.get(config.text_field), config.text_field, html=False, text_encoding=text_encoding
        )
    except FieldError as exc:
        return rejected(origin, "wrong_type", str(exc))
    except Undecodable as exc:
        return rejected(origin, "undecodable", str(exc))
    chosen = html if html is not None and html.raw else (text if text is not None else html)
    if chosen is None:
        shown = json.dumps({k: str(v)[:40] for k, v in row.items()}, ensure_ascii=False)
        return rejected(
            origin,
            "missing_field",
            f"neither {config.text_field!r} nor {config.html_field!r} in record",
            shown,
        )
    given_id = _optional_str(row, config.id_field)
    return Doc(
        id=safe_str(given_id) if given_id is not None else origin.id,
        source=origin.source,
        raw=safe_str(chosen.raw),
        format=chosen.format,
        url=safe_str(url) if (url := _optional_str(row, config.url_field)) else None,
        encoding=chosen.encoding,
        passthrough=passthrough(row, config),
    )
