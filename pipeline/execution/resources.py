"""The machine's resources as the pool sizes itself by them: the cores a process may use (and so
how many workers a pool starts), how much memory the machine has and a worker uses (the pool's
automatic per-worker limit, a worker's resident set from Linux ``/proc``; elsewhere no limit)."""

from __future__ import annotations

import ctypes
import os
import sys

#: The automatic limit: this share of the machine's memory, split between the workers...
AUTO_MEMORY_SHARE = 0.8
#: ... but never less than this (a worker with the stages loaded holds ~150 MiB before its first
#: record, more while it works; a limit set by hand is at least ``MIN_WORKER_MEMORY``, 256 MiB).
MIN_AUTO_MEMORY = 1 << 30


def physical_memory() -> int:
    """This machine's memory in bytes (0 where the platform does not say)."""
    try:
        return int(os.sysconf("SC_PHYS_PAGES")) * int(os.sysconf("SC_PAGE_SIZE"))
    except (AttributeError, ValueError, OSError):
        return 0


def auto_memory_limit(workers: int) -> int:
    """Each worker's share of the machine's memory (:data:`AUTO_MEMORY_SHARE` of it over
    ``workers``), at least :data:`MIN_AUTO_MEMORY`; 0 (no limit) where the total is unknown."""
    total = physical_memory()
    return max(MIN_AUTO_MEMORY, int(total * AUTO_MEMORY_SHARE) // max(workers, 1)) if total else 0


#: glibc ``mallopt`` parameters (``<malloc.h>``) and the threshold set by :func:`release_large_frees`.
_M_TRIM_THRESHOLD = -1
_M_MMAP_THRESHOLD = -3
#: Blocks of at least this size get a mapping of their own, given back when freed.
LARGE_ALLOCATION = 1024 * 1024
#: Free memory at the top of the heap past this size is given back.
TRIM_THRESHOLD = 8 * 1024 * 1024


def release_large_frees() -> bool:
    """Make glibc's allocator give large freed blocks back to the system (Linux; False elsewhere,
    or when the C library has no ``mallopt``, as on musl where it does nothing).

    By default glibc raises its mmap threshold to the size of each large block freed (up to
    32 MiB), so later arrays of that size come from the main heap, and the heap cannot shrink
    past the long-lived objects allocated among them. A coordinator merging the near-duplicate
    index's levels and fetching candidates grew its heap 29 -> 82 MiB over 50,000 text records
    that way, while its Python objects and arrays grew ~20 MiB (tracemalloc). With a fixed
    threshold of :data:`LARGE_ALLOCATION` each such block has its own mapping, returned when
    freed, and the heap gives back its free top past :data:`TRIM_THRESHOLD`.

    The threshold is not glibc's initial 128 KiB: at that size every HTML page the coordinator
    reads (~180 KB, as ``str``, UTF-8 and Arrow) got a mapping and its page faults, and the heap
    top was trimmed and grown again around them; 1 MiB and 8 MiB took the coordinator's system
    time on 600 AEB pages from 0.85 to 0.5 s with the same peak memory on 50,000 text records.
    Call it once, early, in a process that owns its own lifetime: the ``cleanwire`` command does
    (:func:`pipeline.cli.main`), the library does not.
    """
    if not sys.platform.startswith("linux"):
        return False
    try:
        mallopt = ctypes.CDLL(None).mallopt
    except (OSError, AttributeError):
        return False
    mallopt.argtypes = (ctypes.c_int, ctypes.c_int)
    mallopt.restype = ctypes.c_int
    return bool(mallopt(_M_MMAP_THRESHOLD, LARGE_ALLOCATION)) and bool(
        mallopt(_M_TRIM_THRESHOLD, TRIM_THRESHOLD)
    )


def resident_bytes(pid: int) -> int | None:
    """The resident set size of process ``pid`` (None where ``/proc`` cannot tell)."""
    try:
        with open(f"/proc/{pid}/statm", "rb") as fh:
            return int(fh.read().split()[1]) * os.sysconf("SC_PAGE_SIZE")
    except (OSError, IndexError, ValueError):
        return None


def usable_cores() -> int:
    """The cores this process may run on (its CPU affinity, where the platform tells)."""
    try:
        return len(os.sched_getaffinity(0)) or 1
    except (AttributeError, OSError):
        return os.cpu_count() or 1


def worker_count(requested: int) -> tuple[int, str | None]:
    """How many workers a pool asked for ``requested`` (0 = one per core) may start, and a note
    when that is fewer than asked: at most one per usable core. The stages are CPU-bound, so more
    workers than cores only add memory (a started worker holds ~150 MiB) and wall-clock time per
    record (the per-record timeout counts it): ``--workers 1000`` on a 2-core machine started
    ~970 processes and used 12.8 GB for 12 records."""
    cores = usable_cores()
    if requested <= 0:
        return cores, None
    if requested <= cores:
        return requested, None
    return cores, (
        f"{requested} workers asked for, {cores} usable core(s): starting at most {cores} "
        "worker process(es) (the stages are CPU-bound: more would add memory, not speed)"
    )
