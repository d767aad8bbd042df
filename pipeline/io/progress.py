"""How much of a shard is read, for the progress bar's total, % and ETA.

Before a shard is read, :func:`shard_size` knows how big it is: its bytes on disk (every file of
it), and for a run of document files (one record each) or a Parquet file (the row count in its
metadata) its number of records. While it is read, :class:`ReadMeter` says how many of those
bytes are behind the reader:

* JSONL, CSV/TSV, WARC: the offset of the file descriptor the reader holds open on the file, so
  the bytes consumed of the file on disk (compressed bytes for a ``.gz``, which is what its size
  counts too), without the readers reporting anything; where descriptors cannot be listed (no
  ``/proc/self/fd`` or ``/dev/fd``), the shard counts as read once it is;
* document files, Parquet: the share of the records read.

The runner shows records against a record total when every shard has one, else bytes against the
bytes of the inputs; a shard of unknown size (stdin, a named pipe) leaves the bar without a total.
"""

from __future__ import annotations

import os
import stat
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq

#: Where a process's open file descriptors are listed (Linux, then macOS and the BSDs).
FD_DIRS = ("/proc/self/fd", "/dev/fd")


@dataclass(frozen=True)
class ShardSize:
    """What is known of a shard before it is read (None: not known)."""

    #: Records: one per document file; a Parquet file's row count; None for other containers.
    records: int | None
    #: Bytes of its files on disk; None when one is not a regular file (stdin, a pipe).
    nbytes: int | None


def _file_size(path: Path) -> int | None:
    if str(path) == "-":
        return None
    try:
        st = os.stat(path)
    except OSError:
        return 0  # unreadable: rejected at once, nothing to wait for
    return st.st_size if stat.S_ISREG(st.st_mode) else None


def _parquet_rows(path: Path) -> int | None:
    if _file_size(path) is None:
        return None  # stdin or a pipe: opening it to read a footer would take the reader's bytes
    try:
        return int(pq.ParquetFile(path).metadata.num_rows)
    except (OSError, pa.ArrowException):
        return None  # compressed (read through a spool), or not readable: no record total


def shard_size(paths: Sequence[Path], kind: str) -> ShardSize:
    """The size of a shard of ``kind`` (``docs`` or a container format) over ``paths``."""
    sizes = [_file_size(p) for p in paths]
    nbytes = None if any(s is None for s in sizes) else sum(s or 0 for s in sizes)
    records: int | None = None
    if kind == "docs":
        records = len(paths)
    elif kind == "parquet":
        rows = [_parquet_rows(p) for p in paths]
        records = None if any(r is None for r in rows) else sum(r or 0 for r in rows)
    return ShardSize(records, nbytes)


def _open_fds() -> list[int]:
    for where in FD_DIRS:
        try:
            return [int(name) for name in os.listdir(where) if name.isdigit()]
        except OSError:
            continue
    return []


class ReadMeter:
    """How many bytes of a shard's files the reader has got through (see the module doc)."""

    def __init__(self, paths: Sequence[Path], kind: str, size: ShardSize) -> None:
        self.kind = kind
        self.size = size
        self._sizes = [_file_size(p) or 0 for p in paths]
        self._ids: list[tuple[int, int] | None] = []
        for p in paths:
            try:
                st = os.stat(p)
                self._ids.append((st.st_dev, st.st_ino))
            except OSError:
                self._ids.append(None)
        self._fd: int | None = None
        self._file = 0  # the index of the file the reader was last seen in
        self._done = 0  # the bytes of the files before it

    def bytes_read(self, records: int) -> int:
        """The bytes behind the reader once it has yielded ``records`` records."""
        total = self.size.nbytes or 0
        if self.kind == "docs":  # one record per file
            return sum(self._sizes[: min(records, len(self._sizes))])
        if self.size.records:  # Parquet: the share of its rows
            return total * min(records, self.size.records) // self.size.records
        if self.kind == "parquet":  # no row count (compressed, or empty): read once it is
            return 0
        return min(total, self._done + self._offset())

    def _offset(self) -> int:
        """The offset of the descriptor open on the current file (or a later one of the shard)."""
        fd = self._fd
        if fd is not None and self._identity(fd) == self._ids[self._file]:
            return self._position(fd)
        for fd in _open_fds():
            ident = self._identity(fd)
            if ident is None or ident not in self._ids[self._file :]:
                continue
            index = self._ids.index(ident, self._file)
            self._done += sum(self._sizes[self._file : index])
            self._file, self._fd = index, fd
            return self._position(fd)
        self._fd = None
        return 0

    @staticmethod
    def _identity(fd: int) -> tuple[int, int] | None:
        try:
            st = os.fstat(fd)
        except OSError:
            return None
        return (st.st_dev, st.st_ino) if stat.S_ISREG(st.st_mode) else None

    @staticmethod
    def _position(fd: int) -> int:
        try:
            return os.lseek(fd, 0, os.SEEK_CUR)
        except OSError:
            return 0
