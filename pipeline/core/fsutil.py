"""Small filesystem helpers shared by the writers and the caches."""

from __future__ import annotations

import os
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path


def fsync_path(path: Path) -> None:
    """fsync a file or a directory (a directory, so that a rename into it is durable)."""
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


@contextmanager
def atomic_path(final: Path) -> Iterator[Path]:
    """Yield a temp path next to ``final``; on success fsync it and rename it into place.

    The temp name carries the process id, so processes writing the same file at once (workers
    filling a cache) never write into each other's temp file; the last rename wins, whole.
    """
    tmp = final.with_name(f".{final.name}.{os.getpid()}.tmp")
    try:
        yield tmp
        with open(tmp, "rb+") as fh:
            os.fsync(fh.fileno())
        os.replace(tmp, final)
        fsync_path(final.parent)
    finally:
        if tmp.exists():
            tmp.unlink()
