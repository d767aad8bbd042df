"""Document files: one ``.html``/``.txt`` file is one record."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

from pipeline.core.config import ReaderConfig
from pipeline.core.pathnames import display_path
from pipeline.core.record import Doc, safe_str
from pipeline.io.formats.compression import InputDataError, open_input
from pipeline.io.formats.decoding import Undecodable, charset_from_markup, decode
from pipeline.io.formats.records import Origin, exception_text, guarded, rejected


def read_document_file(path: Path, fmt: str, config: ReaderConfig, name: str | None = None) -> Iterator[Doc]:
    """One ``.html``/``.txt`` file is one record; HTML charset from its ``<meta>``. Its
    ``source`` is the path alone (``name``, when given, stands for the path: a tar member),
    kept or rejected."""
    origin = Origin(name or str(path), 0)
    doc = guarded(origin, _document, path, fmt, config, origin)
    doc.source = display_path(origin.path)
    yield doc


def _document(path: Path, fmt: str, config: ReaderConfig, origin: Origin) -> Doc:
    try:
        with open_input(path, config.max_decompressed_bytes) as fh:
            data = fh.read(config.max_record_bytes + 1)
    except (OSError, InputDataError) as exc:
        reason = exc.reason if isinstance(exc, InputDataError) else "unreadable"
        return rejected(origin, reason, f"{type(exc).__name__}: {exception_text(exc)}")
    if len(data) > config.max_record_bytes:
        return rejected(origin, "too_large", f"> reader.max_record_bytes={config.max_record_bytes}")
    declared = charset_from_markup(data) if fmt == "html" else None
    try:
        got = decode(data, declared=declared)
    except Undecodable as exc:
        return rejected(origin, "undecodable", str(exc), data)
    return Doc(
        id=origin.id,
        source=origin.source,
        raw=safe_str(got.text),
        format=fmt,
        url=None,
        encoding=got.encoding,
    )
