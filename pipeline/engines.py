"""Engines run the parallel-safe stages over a stream of batches, in order.

* :class:`SerialEngine`: in this process (``--workers 1``, tests, one-document calls).
* :class:`ProcessEngine`: a pool of worker processes, each holding its own copy of the stages,
  with a bounded number of batches in flight so memory stays flat. Results come back in input
  order, so output does not depend on the number of workers.
"""

from __future__ import annotations

import multiprocessing as mp
import os
from collections import deque
from collections.abc import Iterable, Iterator, Sequence
from concurrent.futures import Future, ProcessPoolExecutor
from typing import Protocol

import pyarrow as pa

from pipeline.record import docs_from_batch, docs_to_batch
from pipeline.stage import Stage, StageStats

Result = tuple[pa.RecordBatch, dict[str, StageStats]]


class Engine(Protocol):
    def map(self, stages: Sequence[Stage], batches: Iterable[pa.RecordBatch]) -> Iterator[Result]:
        """Yield each batch after ``stages``, in input order, with the stats of that batch."""
        ...

    def close(self) -> None: ...


def run_stages(stages: Sequence[Stage], batch: pa.RecordBatch) -> Result:
    """Run ``stages`` over one batch; return it with fresh per-batch stats."""
    docs = docs_from_batch(batch)
    stats: dict[str, StageStats] = {}
    for stage in stages:
        stage.stats = StageStats()
        stage.process_docs(docs)
        stats[stage.name] = stage.stats
    return docs_to_batch(docs), stats


class SerialEngine:
    def map(self, stages: Sequence[Stage], batches: Iterable[pa.RecordBatch]) -> Iterator[Result]:
        for batch in batches:
            yield run_stages(stages, batch)

    def close(self) -> None:
        pass


_WORKER_STAGES: Sequence[Stage] = ()


def _init_worker(stages: Sequence[Stage]) -> None:
    global _WORKER_STAGES
    _WORKER_STAGES = stages


def _work(batch: pa.RecordBatch) -> Result:
    return run_stages(_WORKER_STAGES, batch)


class ProcessEngine:
    """A process pool fed with a bounded window of batches (``2 * workers`` in flight)."""

    def __init__(self, workers: int = 0) -> None:
        self.workers = workers or os.cpu_count() or 1
        self._pool: ProcessPoolExecutor | None = None
        self._stages: Sequence[Stage] | None = None

    def _pool_for(self, stages: Sequence[Stage]) -> ProcessPoolExecutor:
        if self._pool is None or self._stages is not stages:
            self.close()
            ctx = mp.get_context("forkserver")
            self._pool = ProcessPoolExecutor(
                self.workers, mp_context=ctx, initializer=_init_worker, initargs=(stages,)
            )
            self._stages = stages
        return self._pool

    def map(self, stages: Sequence[Stage], batches: Iterable[pa.RecordBatch]) -> Iterator[Result]:
        pool = self._pool_for(stages)
        window: deque[Future[Result]] = deque()
        for batch in batches:
            window.append(pool.submit(_work, batch))
            if len(window) >= 2 * self.workers:
                yield window.popleft().result()
        while window:
            yield window.popleft().result()

    def close(self) -> None:
        if self._pool is not None:
            self._pool.shutdown(cancel_futures=True)
            self._pool = None


def make_engine(workers: int) -> Engine:
    n = workers or os.cpu_count() or 1
    return SerialEngine() if n == 1 else ProcessEngine(n)
