"""How much memory the machine has and a worker uses: the pool's automatic per-worker limit and
the reading of a worker's resident set (Linux ``/proc``; elsewhere there is no limit)."""

from __future__ import annotations

import os

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


def resident_bytes(pid: int) -> int | None:
    """The resident set size of process ``pid`` (None where ``/proc`` cannot tell)."""
    try:
        with open(f"/proc/{pid}/statm", "rb") as fh:
            return int(fh.read().split()[1]) * os.sysconf("SC_PAGE_SIZE")
    except (OSError, IndexError, ValueError):
        return None
