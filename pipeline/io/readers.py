"""Readers: turn input paths into shards of records, streaming.

Inputs are files, directories (walked recursively, sorted), globs (expanded here when the shell
did not) and ``-`` (JSONL on stdin). The format of a file comes from its extension (after any
``.gz``/``.zst``/``.bz2``), or, when that says nothing, from its first decompressed bytes;
compression is always recognised by magic bytes. See :data:`FORMATS`.

A :class:`Source` plans the inputs into :class:`Shard` s with deterministic names (the unit of
output files, completion markers and resume): each container file (JSONL, CSV/TSV, Parquet,
WARC/ARC, a tar archive, stdin) is one shard, runs of loose ``.html``/``.txt`` files are grouped.
A shard yields :class:`~pipeline.core.record.Doc` s one at a time; a record that cannot be read
(invalid JSON, undecodable bytes, over the size cap, a truncated archive, anything a library
raises on its bytes) is yielded already *rejected* by stage ``read``. Only an input that cannot
be used at all raises :class:`~pipeline.core.errors.InputError`, before the run starts: missing,
unreadable, a mapping mistake (no record among a JSONL file's first ones, no column of a table,
has the text or HTML field) or a table naming a mapped column twice. stdin is checked as it is
read (its first records are held back until one has the field).
"""

from __future__ import annotations

import glob
import os
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path

from pipeline.core.config import ReaderConfig
from pipeline.core.errors import InputError
from pipeline.core.record import Doc, safe_str
from pipeline.io.formats.archive import CONTAINER_READERS, Reader, check_mapping
from pipeline.io.formats.compression import STDIN, release_pipes, sniffing
from pipeline.io.formats.decoding import Undecodable, decode
from pipeline.io.formats.documents import read_document_file
from pipeline.io.formats.kinds import DOCUMENT_KINDS, FORMATS, kind_of, sniff_kind, wanted_in_directory
from pipeline.io.formats.records import READ_STAGE
from pipeline.io.formats.savedpages import PAGE_FOLDER_SUFFIXES, page_resource_folders
from pipeline.io.layout import OutputLayout
from pipeline.io.progress import ReadMeter, ShardSize, shard_size

__all__ = [
    "CONTAINER_READERS",
    "DOCUMENT_KINDS",
    "FORMATS",
    "PAGE_FOLDER_SUFFIXES",
    "READ_STAGE",
    "Reader",
    "Shard",
    "Source",
    "Undecodable",
    "decode_bytes",
    "kind_of",
    "page_resource_folders",
    "read_document_file",
    "safe_str",
    "sniff_kind",
]

FILES_PER_SHARD = 1000
_GLOB_CHARS = set("*?[")


def decode_bytes(data: bytes, *, declared: str | None = None) -> tuple[str, str]:
    """Bytes to ``(text, codec)``: BOM, declared charset, UTF-8, detection (see
    :mod:`pipeline.io.formats.decoding`); raises :class:`Undecodable` for binary data."""
    got = decode(data, declared=declared)
    return got.text, got.encoding


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
                yield from CONTAINER_READERS[self.kind](path, config, None)


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

    #: The files of the last plan (:meth:`shards`), whose pipes :meth:`close` releases.
    _planned: Sequence[Path] = ()

    def __init__(
        self,
        inputs: str | os.PathLike[str] | Sequence[str | os.PathLike[str]],
        config: ReaderConfig | None = None,
    ) -> None:
        """``inputs``: the paths, globs and ``-`` a command line gives, or one of them alone."""
        self.config = config or ReaderConfig()
        if isinstance(inputs, str | os.PathLike):
            inputs = [inputs]  # one path, not a sequence of one-character inputs
        self.inputs = [p for raw in inputs for p in _expand(os.fspath(raw))]
        if sum(str(p) == STDIN for p in self.inputs) > 1:
            raise InputError("'-' (stdin) given more than once")
        #: Files the walk of an input directory passed over, by :meth:`shards`: an extension
        #: that names no format (hidden files are not listed). Named on the command line, such a
        #: file is sniffed instead.
        self.skipped: list[Path] = []
        #: Files the walk passed over because they are in a saved page's resource folder
        #: (:func:`page_resource_folders`). Named on the command line, such a file is read.
        self.page_resources: list[Path] = []

    def close(self) -> None:
        """Close the named pipes the plan's sniffs (format, mapping check) kept open for their
        reader when that reader never came: a shard skipped as finished, a run stopped or failed
        before it, or a plan not read at all. Without, such a pipe stays open until exit."""
        release_pipes(self._planned)

    def _files(self, leave_out: Path | None) -> list[Path]:
        files: list[Path] = []
        self.skipped = []
        self.page_resources = []
        for p in self.inputs:
            if p.is_dir():
                for f, resource in sorted(_walk(p, leave_out), key=lambda item: str(item[0])):
                    if f.name.startswith("."):
                        continue
                    if resource:
                        self.page_resources.append(f)
                    elif wanted_in_directory(f):
                        files.append(f)
                    else:
                        self.skipped.append(f)
            else:
                files.append(p)
        return _once(files)

    def _check(self, path: Path, kind: str) -> None:
        """Fail fast on an input whose first records (JSONL) or columns (CSV/TSV, Parquet) cannot
        hold the configured text/HTML field (an archive: its first table member). A named pipe
        (``<(zcat dump.jsonl.gz)``) is not consumed: its reader reads again what this read."""
        with sniffing():
            check_mapping(path, kind, self.config)

    def shards(self, *, leave_out: str | os.PathLike[str] | None = None) -> list[Shard]:
        """The plan: a shard per container file, document files in runs of
        :data:`FILES_PER_SHARD`. A directory ``leave_out`` (the run's output) is not walked."""
        plan: list[Shard] = []
        loose: list[Path] = []

        def flush() -> None:
            for i in range(0, len(loose), FILES_PER_SHARD):
                plan.append(Shard(f"{len(plan):05d}", tuple(loose[i : i + FILES_PER_SHARD]), "docs"))
            loose.clear()

        self._planned = self._files(Path(leave_out).resolve() if leave_out is not None else None)
        for f in self._planned:
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


def _once(files: list[Path]) -> list[Path]:
    """``files`` without a file a path before it names already (a file given twice, two globs or
    a directory and a file in it that overlap): read twice, its records would be kept twice under
    the same ids. The path as written is compared, made absolute but not resolved: a symbolic link
    to a file stays a file of its own, as a walk reads it."""
    seen: set[str] = set()
    out: list[Path] = []
    for f in files:
        key = str(f) if str(f) == STDIN else os.path.abspath(f)
        if key not in seen:
            seen.add(key)
            out.append(f)
    return out


def _walk(root: Path, leave_out: Path | None = None) -> Iterator[tuple[Path, bool]]:
    """Files below ``root``, each with whether it is in a saved page's resource folder
    (:func:`page_resource_folders`, at any depth below it: they are not documents of the dump).
    Symlinked directories are not followed (no loops), hidden ones, ``leave_out`` (resolved) and
    the ``_cleanwire/`` folders of output directories (their rejects and manifest are no input;
    the kept records beside them are) skipped."""
    resource_dirs: set[str] = set()
    for dirpath, dirnames, filenames in os.walk(root, followlinks=False):
        dirnames[:] = sorted(
            d
            for d in dirnames
            if not d.startswith(".")
            and d != OutputLayout.META_DIR
            and (leave_out is None or Path(dirpath, d).resolve() != leave_out)
        )
        inside = dirpath in resource_dirs
        below = dirnames if inside else page_resource_folders(dirnames, filenames)
        resource_dirs.update(os.path.join(dirpath, d) for d in below)
        for name in filenames:
            yield Path(dirpath) / name, inside
