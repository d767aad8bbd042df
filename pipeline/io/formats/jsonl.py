"""JSONL inputs (also stdin), streamed line by line; see :mod:`.tabular` for what the readers share."""

from __future__ import annotations

import codecs
import json
from collections.abc import Iterator
from functools import partial
from pathlib import Path
from typing import IO, Any

import orjson

from pipeline.core.config import ReaderConfig
from pipeline.core.errors import CleanwireError
from pipeline.core.pathnames import display_path
from pipeline.core.record import Doc
from pipeline.io.formats.compression import (
    STDIN,
    open_input,
)
from pipeline.io.formats.records import (
    Origin,
    doc_from_row,
    guarded,
    rejected,
)
from pipeline.io.formats.tabular import (
    MAPPING_SAMPLE_BYTES,
    MAPPING_SAMPLE_RECORDS,
    FieldSurvey,
    broken_off,
    label,
    mapping_error,
)

#: Beyond this magnitude a float may be an integer that orjson read as a float (it does so past
#: 64 bits, where ``json`` keeps the exact ``int``).
_BIG = float(2**63)


def _has_big_float(value: Any) -> bool:
    """Whether ``value`` holds, at any depth, an integral float of :data:`_BIG` or more."""
    if isinstance(value, float):
        return abs(value) >= _BIG and value.is_integer()
    if isinstance(value, dict):
        return any(_has_big_float(v) for v in value.values())
    if isinstance(value, list):
        return any(_has_big_float(v) for v in value)
    return False


def _fast_object(line: bytes) -> dict[str, Any] | None:
    """The JSON object on ``line`` read by orjson (about twice as fast as ``json`` on a web page,
    and it validates the UTF-8 itself), or None when the exact reading must decide: orjson refuses
    the line (bad UTF-8 or JSON, but also lone surrogate escapes, NaN, an infinite float and deep
    nesting, which ``json`` reads), it is no object, or it may hold an integer orjson turned into
    a float. Where it answers, its answer is ``json.loads``'s."""
    try:
        obj = orjson.loads(line[3:] if line.startswith(codecs.BOM_UTF8) else line)
    except orjson.JSONDecodeError:
        return None
    if not isinstance(obj, dict) or any(_has_big_float(v) for v in obj.values()):
        return None
    return obj


def _jsonl_line(line: bytes, origin: Origin, config: ReaderConfig) -> tuple[Doc, dict[str, Any] | None]:
    """A line to a Doc, and the JSON object it held (None when it held none).

    A line orjson reads into a record is done (:func:`_fast_object`); any other line, and a
    record rejected, is read again by :func:`_exact_line`, which decides and words the reject."""
    obj = _fast_object(line)
    if obj is not None:
        doc = guarded(origin, partial(doc_from_row, obj, origin, config, text_encoding="utf-8"))
        if doc.ok:
            return doc, obj
    return _exact_line(line, origin, config)


def _exact_line(line: bytes, origin: Origin, config: ReaderConfig) -> tuple[Doc, dict[str, Any] | None]:
    """:func:`_jsonl_line` with the standard library's ``json``.

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
        yield broken_off(name, lineno, exc)
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


_SKIP_CHUNK = 1 << 16


def _skip_line(fh: IO[bytes]) -> int:
    """Consume the rest of an over-long line without holding it; return its length."""
    n = 0
    while chunk := fh.readline(_SKIP_CHUNK):
        n += len(chunk)
        if chunk.endswith(b"\n"):
            break
    return n
