"""Whether a run's input is small (:func:`small_input`): read by ``cleanwire run`` before it
starts the worker pool's forkserver, so this module imports nothing but the standard library
(the command starts the forkserver before it imports numpy, pyarrow or the stages, so that
their imports overlap the forkserver's)."""

from __future__ import annotations

import glob
import os
from collections.abc import Iterable

#: A run whose whole input is at most this many bytes runs in this process when ``run.workers``
#: is 0 (:func:`~pipeline.execution.engines.local_engine`): below it the pool's start (~0.5-1 s: its forkserver's imports and
#: warm-up, a worker's start, their exit) costs more than a second core saves. Measured: see
#: the README's "Reliability" section.
SMALL_INPUT_BYTES = 1 << 20
#: ... and it has at most this many files (records of tiny files cost more than their bytes say).
SMALL_INPUT_FILES = 100
#: A compressed input counts as this many times its size.
COMPRESSED_FACTOR = 5
_COMPRESSED = (".gz", ".zst", ".zstd", ".bz2", ".xz")
_GLOB_CHARS = set("*?[")


def small_input(
    inputs: Iterable[str], *, limit: int = SMALL_INPUT_BYTES, max_files: int = SMALL_INPUT_FILES
) -> bool:
    """Whether the files ``inputs`` name (files, directories walked, globs) add up to at most
    ``limit`` bytes in at most ``max_files`` files. Stops counting as soon as they do not;
    stdin (``-``) and anything that cannot be looked at are not small."""
    total = files = 0

    def add(path: str) -> bool:
        nonlocal total, files
        try:
            size = os.stat(path).st_size
        except OSError:
            return False
        files += 1
        total += size * (COMPRESSED_FACTOR if path.endswith(_COMPRESSED) else 1)
        return total <= limit and files <= max_files

    for raw in inputs:
        if raw == "-":
            return False
        paths = [raw] if os.path.exists(raw) or not _GLOB_CHARS & set(raw) else glob.glob(raw, recursive=True)
        for path in paths:
            if not os.path.isdir(path):
                if not add(path):
                    return False
                continue
            for dirpath, dirnames, filenames in os.walk(path, followlinks=False):
                dirnames[:] = [d for d in dirnames if not d.startswith(".")]
                for name in filenames:
                    if not add(os.path.join(dirpath, name)):
                        return False
    return True
