"""Engines run the parallel-safe stages over a stream of batches, in order.

* :class:`SerialEngine`: in this process, no isolation (tests, one-document calls, debugging, and
  the small inputs of ``cleanwire run``: :func:`local_engine`).
* :class:`~pipeline.execution.pool.ProcessEngine`: a *supervised* pool of worker processes
  (``--workers N``, also for N=1): a record that hangs, crashes its worker or takes too much
  memory is rejected, and the run goes on (:mod:`pipeline.execution.pool`).
* :class:`~pipeline.execution.ray.RayEngine`: the same over a Ray cluster (each Ray worker runs
  the stages in a supervised pool of one; :meth:`~pipeline.execution.ray.RayEngine.from_config`
  sets it up from a config as :func:`engine_for` does the pool).

Whatever the engine, the stages of one batch run through :mod:`pipeline.execution.chain`.
:func:`engine_for` builds the pool a run uses from its config; :func:`local_engine` is the choice
``cleanwire run`` makes: the pool, or this process for a small input when the config leaves the
number of workers to cleanwire (:func:`~pipeline.execution.inputsize.small_input`).
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Sequence
from typing import Protocol

import pyarrow as pa

from pipeline.core.config import Config
from pipeline.core.stage import Stage
from pipeline.execution.chain import Result, run_stages
from pipeline.execution.pool import START_TIMEOUT_S, ProcessEngine


class Engine(Protocol):
    def map(self, stages: Sequence[Stage], batches: Iterable[pa.RecordBatch]) -> Iterator[Result]:
        """Yield each batch after ``stages``, in input order, with the stats of that batch."""
        ...

    def close(self) -> None: ...


class SerialEngine:
    """Runs in the calling process: no timeouts, no crash isolation."""

    def map(self, stages: Sequence[Stage], batches: Iterable[pa.RecordBatch]) -> Iterator[Result]:
        for batch in batches:
            yield run_stages(stages, batch)

    def close(self) -> None:
        pass


def make_engine(
    workers: int,
    *,
    timeout_s: float = 30.0,
    memory_limit: int | None = None,
    start_timeout_s: float = START_TIMEOUT_S,
) -> ProcessEngine:
    """The supervised pool with ``workers`` processes (0 = one per core, and never more than the
    usable cores); ``memory_limit`` as :class:`~pipeline.execution.pool.ProcessEngine` takes it."""
    return ProcessEngine(
        workers, timeout_s=timeout_s, memory_limit=memory_limit, start_timeout_s=start_timeout_s
    )


def engine_for(config: Config, *, workers: int | None = None) -> ProcessEngine:
    """The supervised pool as ``config`` sets it up (workers unless given, record timeout, memory
    limit, start deadline)."""
    return make_engine(
        config.run.workers if workers is None else workers,
        timeout_s=config.run.record_timeout_s,
        memory_limit=config.run.max_worker_memory,
        start_timeout_s=config.run.worker_start_timeout_s,
    )


def local_engine(config: Config, *, small: bool) -> Engine:
    """The engine of a local run: this process (:class:`SerialEngine`) when ``run.workers`` is 0
    and the input is ``small`` (:func:`~pipeline.execution.inputsize.small_input`), else the supervised pool
    (:func:`engine_for`). In this process a record has no wall-clock limit, no memory limit and
    no crash isolation: a small input is what a person runs and watches, and an explicit
    ``--workers N`` (or ``run.workers``) keeps the pool's guarantees whatever the input."""
    if config.run.workers == 0 and small:
        return SerialEngine()
    return engine_for(config)
