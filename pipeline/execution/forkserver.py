"""The parent of the worker processes: a forkserver that imports :mod:`pipeline.execution.preload` (the
stages' libraries, warmed up) before it forks any worker.

Starting it does not wait for those imports, so ``cleanwire run`` starts it first thing: its
~1 s of imports and warm-up then overlap the command's own imports and first reads instead of
following them. This module imports nothing heavy, for that reason.
"""

from __future__ import annotations

import multiprocessing as mp
import os
import signal
import time
from multiprocessing.context import BaseContext

PRELOAD = ["pipeline.execution.preload"]


def context() -> BaseContext:
    """The forkserver start method, with :data:`PRELOAD` (idempotent)."""
    ctx = mp.get_context("forkserver")
    ctx.set_forkserver_preload(PRELOAD)
    return ctx


def start() -> None:
    """Start the forkserver now, if this platform has one (a no-op when it is running).

    It starts with SIGINT ignored, and so do the workers it forks (multiprocessing's resource
    tracker ignores it too): Ctrl-C on a terminal reaches every process of the group, and their
    parent, ``cleanwire``, is the one that reports it and stops them. Otherwise the forkserver,
    still importing the stages' libraries in the first second, would print a ``KeyboardInterrupt``
    traceback. An ignored signal is what survives ``exec`` (a blocked one does not, here); the
    parent blocks SIGINT while it ignores it, so a Ctrl-C in that moment waits instead of being
    lost."""
    if "forkserver" not in mp.get_all_start_methods():
        return
    context()
    from multiprocessing import forkserver, resource_tracker

    resource_tracker.ensure_running()  # first: it starts with SIGINT blocked, then ignores it
    blocked = signal.pthread_sigmask(signal.SIG_BLOCK, {signal.SIGINT})
    try:
        handler = signal.signal(signal.SIGINT, signal.SIG_IGN)
    except ValueError:  # not the main thread: the handler cannot change, start it as it is
        signal.pthread_sigmask(signal.SIG_SETMASK, blocked)
        forkserver.ensure_running()
        return
    try:
        forkserver.ensure_running()
    finally:
        signal.signal(signal.SIGINT, handler)
        signal.pthread_sigmask(signal.SIG_SETMASK, blocked)


def kill(wait_s: float = 5.0) -> None:
    """Kill the forkserver, if one is running (one that stalls), and wait up to ``wait_s`` for
    it to be gone without reaping it: multiprocessing reaps it and starts a new one on next use."""
    from multiprocessing import forkserver

    pid = getattr(getattr(forkserver, "_forkserver", None), "_forkserver_pid", None)
    if not isinstance(pid, int):
        return
    try:
        os.kill(pid, signal.SIGKILL)
    except OSError:
        return
    deadline = time.monotonic() + wait_s
    while time.monotonic() < deadline:
        try:
            if os.waitid(os.P_PID, pid, os.WEXITED | os.WNOHANG | os.WNOWAIT) is not None:
                return
        except (OSError, AttributeError):  # not our child, or no waitid here
            return
        time.sleep(0.01)
