"""Readers: turn input paths into shards of records, streaming.

A :class:`Source` plans the inputs into :class:`Shard` s with deterministic names (the unit of
output files, completion markers and resume). A shard yields :class:`~pipeline.record.Doc` s one
at a time; a record that cannot be read (invalid JSON, undecodable bytes, over the size cap) is
yielded already *rejected* by stage ``read``, so it is counted and written to rejects like any
other failure. Only an input that cannot be opened at all before the run starts raises
:class:`~pipeline.errors.InputError`.
"""

from __future__ import annotations

import gzip
import json
import os
import re
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import IO, Any

from pipeline.config import ReaderConfig
from pipeline.errors import InputError
from pipeline.record import Doc, make_id

READ_STAGE = "read"
DOC_SUFFIXES = {".html": "html", ".htm": "html", ".txt": "text", ".text": "text"}
CONTAINER_SUFFIXES = {".jsonl": "jsonl", ".ndjson": "jsonl"}
COMPRESSED_SUFFIXES = {".gz"}
FILES_PER_SHARD = 1000

_META_CHARSET = re.compile(rb"""<meta[^>]+charset\s*=\s*["']?\s*([\w:.-]+)""", re.I)


def kind_of(path: Path) -> str | None:
    """``html``/``text`` for document files, ``jsonl`` for containers, None for anything else."""
    suffixes = [s.lower() for s in path.suffixes]
    if suffixes and suffixes[-1] in COMPRESSED_SUFFIXES:
        suffixes = suffixes[:-1]
    if not suffixes:
        return None
    last = suffixes[-1]
    return DOC_SUFFIXES.get(last) or CONTAINER_SUFFIXES.get(last)


def open_binary(path: Path) -> IO[bytes]:
    """Open a file, transparently decompressing gzip (detected by magic bytes)."""
    fh: IO[bytes] = open(path, "rb")  # noqa: SIM115 - returned to the caller
    magic = fh.read(2)
    fh.seek(0)
    if magic == b"\x1f\x8b":
        return gzip.GzipFile(fileobj=fh, mode="rb")  # type: ignore[return-value]
    return fh


class Undecodable(ValueError):
    """Bytes that no candidate encoding turns into plausible text."""


def decode_bytes(data: bytes, *, declared: str | None = None) -> tuple[str, str]:
    """Bytes to text: BOM, then UTF-8, then the declared charset, then detection. Never crashes:
    raises :class:`Undecodable` for binary data."""
    for bom, enc in ((b"\xef\xbb\xbf", "utf-8"), (b"\xff\xfe", "utf-16-le"), (b"\xfe\xff", "utf-16-be")):
        if data.startswith(bom):
            return data[len(bom) :].decode(enc, errors="replace"), enc
    try:
        return data.decode("utf-8"), "utf-8"
    except UnicodeDecodeError:
        pass
    if declared:
        try:
            return data.decode(declared), declared.lower()
        except (UnicodeDecodeError, LookupError):
            pass
    if data.count(b"\x00") > len(data) // 100:
        raise Undecodable("binary data (NUL bytes)")
    from charset_normalizer import from_bytes

    best = from_bytes(data[:200_000]).best()
    if best is None or best.encoding is None:
        raise Undecodable("no text encoding fits these bytes")
    return data.decode(best.encoding, errors="replace"), best.encoding


def sanitize(text: str) -> str:
    """Make any ``str`` safe to write: lone surrogates -> U+FFFD, NUL removed."""
    if "\x00" in text:
        text = text.replace("\x00", "")
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        text = text.encode("utf-8", "replace").decode("utf-8")
    return text


def _rejected(source: str, locator: str | int, reason: str, detail: str, raw: str = "") -> Doc:
    doc = Doc(id=make_id(source, locator), source=source, raw=sanitize(raw))
    doc.reject(READ_STAGE, reason, detail)
    return doc


def read_document_file(path: Path, fmt: str, config: ReaderConfig) -> Iterator[Doc]:
    """One ``.html``/``.txt`` file is one record."""
    source = str(path)
    try:
        with open_binary(path) as fh:
            data = fh.read(config.max_record_bytes + 1)
    except (OSError, EOFError) as exc:
        yield _rejected(source, 0, "unreadable", f"{type(exc).__name__}: {exc}")
        return
    if len(data) > config.max_record_bytes:
        yield _rejected(source, 0, "too_large", f"> reader.max_record_bytes={config.max_record_bytes}")
        return
    declared = None
    if fmt == "html":
        m = _META_CHARSET.search(data[:4096])
        declared = m.group(1).decode("ascii", "replace") if m else None
    try:
        text, _encoding = decode_bytes(data, declared=declared)
    except Undecodable as exc:
        yield _rejected(source, 0, "undecodable", str(exc), data[:200].decode("latin-1"))
        return
    yield Doc(id=make_id(source, 0), source=source, raw=sanitize(text), format=fmt)


def _field(obj: dict[str, Any], name: str) -> str | None:
    value = obj.get(name)
    if value is None:
        return None
    if not isinstance(value, str):
        raise TypeError(f"field {name!r} is {type(value).__name__}, not a string")
    return value


def record_from_object(obj: Any, source: str, locator: int, config: ReaderConfig) -> Doc:
    """A tabular row (JSON object) to a Doc, by the configured field names."""
    if not isinstance(obj, dict):
        return _rejected(source, locator, "wrong_type", f"expected a JSON object, got {type(obj).__name__}")
    try:
        html = _field(obj, config.html_field)
        text = _field(obj, config.text_field)
        url = _field(obj, config.url_field)
        given_id = obj.get(config.id_field)
    except TypeError as exc:
        return _rejected(source, locator, "wrong_type", str(exc))
    if html is None and text is None:
        return _rejected(
            source,
            locator,
            "missing_field",
            f"neither {config.text_field!r} nor {config.html_field!r} in record",
            json.dumps(obj)[:200],
        )
    raw, fmt = (html, "html") if html is not None else (text or "", "text")
    rid = str(given_id) if given_id not in (None, "") else make_id(source, locator)
    return Doc(id=sanitize(rid), source=f"{source}:{locator}", raw=sanitize(raw), format=fmt, url=url)


def read_jsonl(path: Path, config: ReaderConfig) -> Iterator[Doc]:
    """One JSON object per line; blank lines are skipped, bad lines become rejects."""
    source = str(path)
    lineno = 0
    try:
        with open_binary(path) as fh:
            for lineno, line in enumerate(fh, start=1):
                if len(line) > config.max_record_bytes:
                    yield _rejected(source, lineno, "too_large", f"line of {len(line)} bytes")
                    continue
                if not line.strip():
                    continue
                try:
                    obj = json.loads(line.decode("utf-8"))
                except UnicodeDecodeError as exc:
                    yield _rejected(source, lineno, "invalid_utf8", str(exc), line[:200].decode("latin-1"))
                    continue
                except json.JSONDecodeError as exc:
                    yield _rejected(
                        source, lineno, "invalid_json", str(exc), line[:200].decode("utf-8", "replace")
                    )
                    continue
                yield record_from_object(obj, source, lineno, config)
    except (OSError, EOFError) as exc:
        yield _rejected(
            source, f"{lineno + 1}+", "unreadable", f"{type(exc).__name__}: {exc} (after line {lineno})"
        )


Reader = Callable[[Path, ReaderConfig], Iterator[Doc]]
CONTAINER_READERS: dict[str, Reader] = {"jsonl": read_jsonl}


@dataclass(frozen=True)
class Shard:
    """A unit of work and of output: one container file, or a run of document files."""

    name: str
    paths: tuple[Path, ...]
    kind: str  # "docs" or a CONTAINER_READERS key

    def docs(self, config: ReaderConfig) -> Iterator[Doc]:
        if self.kind == "docs":
            for path in self.paths:
                yield from read_document_file(path, kind_of(path) or "text", config)
        else:
            for path in self.paths:
                yield from CONTAINER_READERS[self.kind](path, config)


class Source:
    """The inputs of a run: files and directories (walked recursively, in sorted order)."""

    def __init__(self, inputs: Sequence[str | os.PathLike[str]], config: ReaderConfig | None = None) -> None:
        self.inputs = [Path(p) for p in inputs]
        self.config = config or ReaderConfig()
        for p in self.inputs:
            if not p.exists():
                raise InputError(
                    f"input not found: {p}", hint="check the path; globs must be expanded by the shell"
                )
            if not os.access(p, os.R_OK):
                raise InputError(f"input not readable: {p}", hint="check its permissions")

    def _files(self) -> list[Path]:
        files: list[Path] = []
        for p in self.inputs:
            if p.is_dir():
                found = [f for f in _walk(p) if kind_of(f)]
                files.extend(sorted(found, key=lambda f: str(f)))
            else:
                files.append(p)
        return files

    def shards(self) -> list[Shard]:
        plan: list[Shard] = []
        loose: list[Path] = []

        def flush() -> None:
            for i in range(0, len(loose), FILES_PER_SHARD):
                plan.append(Shard(f"{len(plan):05d}", tuple(loose[i : i + FILES_PER_SHARD]), "docs"))
            loose.clear()

        for f in self._files():
            kind = kind_of(f)
            if kind in CONTAINER_READERS:
                flush()
                plan.append(Shard(f"{len(plan):05d}", (f,), kind))
            else:
                loose.append(f)
        flush()
        return plan


def _walk(root: Path) -> Iterator[Path]:
    """Files below ``root``; symlinked directories are not followed (no loops)."""
    for dirpath, dirnames, filenames in os.walk(root, followlinks=False):
        dirnames.sort()
        for name in filenames:
            yield Path(dirpath) / name
