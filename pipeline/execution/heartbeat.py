"""What a pool worker is doing, published in shared memory for its supervisor.

A worker beats on entering each stage of each record (:func:`~pipeline.execution.chain.run_docs`);
the supervisor (:class:`~pipeline.execution.pool.ProcessEngine`) reads the beat to see how long
the current record has run, and which record and stage to blame if the worker has to be killed
or dies.
"""

from __future__ import annotations

import time
from typing import Any

#: Record index of a worker that has not yet started warming up (unpickling the stages,
#: importing) and, after warm-up, of one that has not yet begun a record.
STARTING = -3
READY = -2
#: Record index while a fresh worker warms up (the supervisor gives it a grace period on top of
#: the per-record timeout).
WARMING_UP = -1


class Heartbeat:
    """What a worker is doing, in shared memory: ``[seq, record, stage, start]`` (a seqlock:
    ``seq`` is odd while the worker writes). ``start == 0`` means "between records"."""

    def __init__(self, shared: Any | None = None) -> None:
        self.cells: Any = shared if shared is not None else [0.0, float(STARTING), 0.0, 0.0]

    def beat(self, record: int, stage: int) -> None:
        """Entering ``stage`` of ``record``; the clock restarts only for a new record. Batches
        run stage by stage (see :func:`~pipeline.execution.chain.run_docs`), so the timeout
        bounds one record in one stage."""
        c = self.cells
        same = c[3] > 0 and int(c[1]) == record
        c[0] += 1
        c[1], c[2] = record, stage
        if not same:
            c[3] = time.monotonic()
        c[0] += 1

    def idle(self) -> None:
        c = self.cells
        c[0] += 1
        c[3] = 0.0
        c[0] += 1

    def ready(self) -> None:
        """Warm-up done: from now on a death is the work's, not the set-up's."""
        c = self.cells
        c[0] += 1
        c[1], c[3] = READY, 0.0
        c[0] += 1

    def started(self) -> bool:
        """Whether the worker got through its start (unpickling the stages, warm-up)."""
        return int(self.cells[1]) not in (STARTING, WARMING_UP)

    def read(self) -> tuple[int, int, float] | None:
        """``(record, stage, start)`` if the worker is inside a record, else None."""
        c = self.cells
        for _ in range(100):
            seq = c[0]
            record, stage, start = c[1], c[2], c[3]
            if seq == c[0] and int(seq) % 2 == 0:
                return (int(record), int(stage), start) if start > 0 else None
        return None
