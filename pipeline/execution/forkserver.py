"""The parent of the worker processes: a forkserver that imports :mod:`pipeline.execution.preload` (the
stages' libraries, warmed up) before it forks any worker.

Starting it does not wait for those imports, so ``cleanwire run`` starts it first thing: its
~1 s of imports and warm-up then overlap the command's own imports and first reads instead of
following them. This module imports nothing heavy, for that reason.
"""

from __future__ import annotations

import multiprocessing as mp
from multiprocessing.context import BaseContext

PRELOAD = ["pipeline.execution.preload"]


def context() -> BaseContext:
    """The forkserver start method, with :data:`PRELOAD` (idempotent)."""
    ctx = mp.get_context("forkserver")
    ctx.set_forkserver_preload(PRELOAD)
    return ctx


def start() -> None:
    """Start the forkserver now, if this platform has one (a no-op when it is running)."""
    if "forkserver" not in mp.get_all_start_methods():
        return
    context()
    from multiprocessing import forkserver

    forkserver.ensure_running()
