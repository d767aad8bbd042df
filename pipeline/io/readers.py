"""Readers: turn input paths into shards of records, streaming.

Inputs are files, directories (walked recursively, sorted), globs (expanded here when the shell
did not) and ``-`` (JSONL on stdin). The format of a file comes from its extension (after any
``.gz``/``.zst``/``.bz2``), or, when that says nothing, from its first decompressed bytes;
compression is always recognised by magic bytes. See :data:`FORMATS`.

A :class:`Source` plans the inputs into :class:`Shard` s with deterministic names (the unit of
output files, completion markers and resume): each container file (JSONL, CSV/TSV, Parquet,
WARC/ARC, stdin) is one shard, runs of loose ``.html``/``.txt`` files are grouped. A shard yields
:class:`~pipeline.core.record.Doc` s one at a time; a record that cannot be read (invalid JSON,
undecodable bytes, over the size cap, a truncated archive) is yielded already *rejected* by stage
``read``. Only an input that cannot be used at all before the run starts (missing, unreadable,
a table without the mapped text/HTML column or naming a mapped column twice) raises
:class:`~pipeline.core.errors.InputError`.
"""

from __future__ import annotations

import glob
import os
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path

from pipeline.core.config import ReaderConfig
from pipeline.core.errors import InputError
from pipeline.core.record import Doc, safe_str
from pipeline.io.formats.compression import (
    COMPRESSION_SUFFIXES,
    STDIN,
    InputDataError,
    open_input,
    peek_decompressed,
)
from pipeline.io.formats.decoding import Undecodable, charset_from_markup, decode
from pipeline.io.formats.records import READ_STAGE, Origin, rejected
from pipeline.io.formats.tabular import (
    check_fields,
    csv_header,
    parquet_columns,
    read_csv,
    read_jsonl,
    read_parquet,
    read_tsv,
)
from pipeline.io.formats.warc import read_warc
from pipeline.io.layout import OutputLayout
from pipeline.io.progress import ReadMeter, ShardSize, shard_size

__all__ = [
    "FORMATS",
    "READ_STAGE",
    "Shard",
    "Source",
    "Undecodable",
    "decode_bytes",
    "kind_of",
    "safe_str",
]

#: Extension -> format. ``html``/``text`` files are one record each; the rest are containers.
FORMATS = {
    ".html": "html",
    ".htm": "html",
    ".xhtml": "html",
    ".txt": "text",
    ".text": "text",
    ".jsonl": "jsonl",
    ".ndjson": "jsonl",
    ".csv": "csv",
    ".tsv": "tsv",
    ".tab": "tsv",
    ".parquet": "parquet",
    ".pq": "parquet",
    ".warc": "warc",
    ".arc": "warc",
}
DOCUMENT_KINDS = ("html", "text")
FILES_PER_SHARD = 1000
_GLOB_CHARS = set("*?[")

Reader = Callable[[Path, ReaderConfig], Iterator[Doc]]
CONTAINER_READERS: dict[str, Reader] = {
    "jsonl": read_jsonl,
    "csv": read_csv,
    "tsv": read_tsv,
    "parquet": read_parquet,
    "warc": read_warc,
}


def decode_bytes(data: bytes, *, declared: str | None = None) -> tuple[str, str]:
    """Bytes to ``(text, codec)``: BOM, declared charset, UTF-8, detection (see
    :mod:`pipeline.io.formats.decoding`); raises :class:`Undecodable` for binary data."""
    got = decode(data, declared=declared)
    return got.text, got.encoding


def _kind_by_name(path: Path) -> tuple[str | None, bool]:
    """The format named by the extension, and whether a compression suffix was seen."""
    suffixes = [s.lower() for s in path.suffixes]
    compressed = False
    while suffixes and suffixes[-1] in COMPRESSION_SUFFIXES:
        suffixes.pop()
        compressed = True
    return (FORMATS.get(suffixes[-1]) if suffixes else None), compressed


def sniff_kind(head: bytes) -> str:
    """The format of a file from its first (decompressed) bytes."""
    start = head.lstrip(b"\xef\xbb\xbf \t\r\n")
    if start.startswith(b"WARC/") or start.startswith(b"filedesc://"):
        return "warc"
    if head.startswith(b"PAR1"):
        return "parquet"
    if start.startswith(b"{"):
        return "jsonl"
    if start.startswith(b"<"):
        return "html"
    return "text"


def kind_of(path: Path, config: ReaderConfig | None = None) -> str | None:
    """The format of a file: by extension, else (for explicit files) by content."""
    kind, _ = _kind_by_name(path)
    if kind is not None:
        return kind
    cap = (config or ReaderConfig()).max_decompressed_bytes
    return sniff_kind(peek_decompressed(path, 64, cap))


def _wanted_in_directory(path: Path) -> bool:
    """Files a directory walk picks up: known extensions, or a bare ``.gz``/``.zst``/``.bz2``."""
    if path.name.startswith("."):
        return False
    kind, compressed = _kind_by_name(path)
    return kind is not None or (compressed and len(path.suffixes) == 1)


def read_document_file(path: Path, fmt: str, config: ReaderConfig) -> Iterator[Doc]:
    """One ``.html``/``.txt`` file is one record; HTML charset from its ``<meta>``. Its
    ``source`` is the path alone, kept or rejected."""
    origin = Origin(str(path), 0)

    def reject(reason: str, detail: str, data: bytes = b"") -> Doc:
        doc = rejected(origin, reason, detail, data)
        doc.source = str(path)
        return doc

    try:
        with open_input(path, config.max_decompressed_bytes) as fh:
            data = fh.read(config.max_record_bytes + 1)
    except (OSError, InputDataError) as exc:
        reason = exc.reason if isinstance(exc, InputDataError) else "unreadable"
        yield reject(reason, f"{type(exc).__name__}: {exc}")
        return
    if len(data) > config.max_record_bytes:
        yield reject("too_large", f"> reader.max_record_bytes={config.max_record_bytes}")
        return
    declared = charset_from_markup(data) if fmt == "html" else None
    try:
        got = decode(data, declared=declared)
    except Undecodable as exc:
        yield reject("undecodable", str(exc), data)
        return
    yield Doc(
        id=origin.id, source=str(path), raw=safe_str(got.text), format=fmt, url=None, encoding=got.encoding
    )


@dataclass(frozen=True)
class Shard:
    """A unit of work and of output: one container file, or a run of document files."""

    name: str
    paths: tuple[Path, ...]
    kind: str  # "docs" or a CONTAINER_READERS key

    def size(self) -> ShardSize:
        """What is known of the shard's size before it is read: records, bytes (progress bar)."""
        return shard_size(self.paths, self.kind)

    def meter(self, size: ShardSize | None = None) -> ReadMeter:
        """How many of the shard's bytes are read, while :meth:`docs` reads it (progress bar)."""
        return ReadMeter(self.paths, self.kind, size if size is not None else self.size())

    def docs(self, config: ReaderConfig) -> Iterator[Doc]:
        if self.kind == "docs":
            for path in self.paths:
                fmt = kind_of(path, config)
                yield from read_document_file(path, fmt if fmt in DOCUMENT_KINDS else "text", config)
        else:
            for path in self.paths:
                yield from CONTAINER_READERS[self.kind](path, config)


def _expand(raw: str) -> list[Path]:
    """One input argument to paths: ``-``, an existing path, or a glob (sorted matches)."""
    if raw == STDIN:
        return [Path(STDIN)]
    path = Path(raw)
    if not path.exists() and _GLOB_CHARS & set(raw):
        matches = sorted(glob.glob(raw, recursive=True))
        if not matches:
            raise InputError(f"no file matches {raw!r}", hint="check the pattern")
        return [Path(m) for m in matches]
    if not path.exists():
        raise InputError(f"input not found: {path}", hint="check the path")
    if not os.access(path, os.R_OK):
        raise InputError(f"input not readable: {path}", hint="check its permissions")
    return [path]


class Source:
    """The inputs of a run: files, directories (walked recursively, sorted), globs and ``-``."""

    def __init__(self, inputs: Sequence[str | os.PathLike[str]], config: ReaderConfig | None = None) -> None:
        self.config = config or ReaderConfig()
        self.inputs = [p for raw in inputs for p in _expand(os.fspath(raw))]
        if sum(str(p) == STDIN for p in self.inputs) > 1:
            raise InputError("'-' (stdin) given more than once")
        #: Files the walk of an input directory passed over, by :meth:`shards`: an extension
        #: that names no format (hidden files are not listed). Named on the command line, such a
        #: file is sniffed instead.
        self.skipped: list[Path] = []

    def _files(self, leave_out: Path | None) -> list[Path]:
        files: list[Path] = []
        self.skipped = []
        for p in self.inputs:
            if p.is_dir():
                for f in sorted(_walk(p, leave_out), key=str):
                    if _wanted_in_directory(f):
                        files.append(f)
                    elif not f.name.startswith("."):
                        self.skipped.append(f)
            else:
                files.append(p)
        return files

    def _check(self, path: Path, kind: str) -> None:
        """Fail fast on a table whose columns cannot hold the configured text/HTML field."""
        if kind == "parquet":
            check_fields(parquet_columns(path, self.config), path, self.config)
        elif kind in ("csv", "tsv"):
            check_fields(csv_header(path, "," if kind == "csv" else "\t", self.config), path, self.config)

    def shards(self, *, leave_out: str | os.PathLike[str] | None = None) -> list[Shard]:
        """The plan: a shard per container file, document files in runs of
        :data:`FILES_PER_SHARD`. A directory ``leave_out`` (the run's output) is not walked."""
        plan: list[Shard] = []
        loose: list[Path] = []

        def flush() -> None:
            for i in range(0, len(loose), FILES_PER_SHARD):
                plan.append(Shard(f"{len(plan):05d}", tuple(loose[i : i + FILES_PER_SHARD]), "docs"))
            loose.clear()

        for f in self._files(Path(leave_out).resolve() if leave_out is not None else None):
            kind = "jsonl" if str(f) == STDIN else kind_of(f, self.config)
            if kind in CONTAINER_READERS:
                assert kind is not None
                if str(f) != STDIN:
                    self._check(f, kind)
                flush()
                plan.append(Shard(f"{len(plan):05d}", (f,), kind))
            else:
                loose.append(f)
        flush()
        return plan


def _walk(root: Path, leave_out: Path | None = None) -> Iterator[Path]:
    """Files below ``root``; symlinked directories are not followed (no loops), hidden ones,
    ``leave_out`` (resolved) and the ``_cleanwire/`` folders of output directories (their rejects
    and manifest are no input; the kept records beside them are) skipped."""
    for dirpath, dirnames, filenames in os.walk(root, followlinks=False):
        dirnames[:] = sorted(
            d
            for d in dirnames
            if not d.startswith(".")
            and d != OutputLayout.META_DIR
            and (leave_out is None or Path(dirpath, d).resolve() != leave_out)
        )
        for name in filenames:
            yield Path(dirpath) / name
