"""What this machine gives two processes at once: the same pure-Python work in one process, then
in two at the same time. On a machine with two idle cores the ratio is ~2.0; on a shared virtual
machine it moves from run to run (and by a few percent between two measurements a minute apart),
so a 2-worker ratio is read beside it."""

from __future__ import annotations

import multiprocessing as mp
import time

SPIN = 8_000_000  # ~0.5-1 s of work per process on this kind of machine


def _spin(n: int) -> int:
    total = 0
    for i in range(n):
        total += i * i % 7
    return total


def _wall(processes: int, n: int) -> float:
    ctx = mp.get_context("fork")
    t0 = time.perf_counter()
    with ctx.Pool(processes) as pool:
        pool.map(_spin, [n] * processes)
    return time.perf_counter() - t0


def two_process_scaling(n: int = SPIN) -> float:
    """Throughput of two processes over one on the same pure-Python loop (2.0 = two full cores)."""
    one = _wall(1, n)
    two = _wall(2, n)
    return 2 * one / two if two > 0 else 0.0
