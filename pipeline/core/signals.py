"""SIGINT and SIGTERM as an exception: :class:`Stop`, raised in the main thread by the handlers
:func:`stop_on_signals` installs.

``cleanwire`` installs them as the first thing its entry point does (:func:`pipeline.cli.app.main`),
so a signal at any moment of a command, its imports included, ends it with the documented message
and exit code instead of ``Aborted!``, a ``KeyboardInterrupt`` traceback or a silent death by
SIGTERM; the runner installs them again around a run (a Python caller gets :class:`Stop` there
too). A :class:`Stop` Python could not propagate (raised inside a weakref callback, e.g. while an
import frees its module lock) is kept and raised again by :func:`check`, which the runner calls
before, during and after a run. This module imports nothing but the standard library's
``signal``, ``sys`` and ``contextlib``, so that installing them costs nothing before the
command's own imports.
"""

from __future__ import annotations

import signal
import sys
from contextlib import contextmanager, suppress

TYPE_CHECKING = False  # not typing's (see the module's docstring)
if TYPE_CHECKING:
    from collections.abc import Iterator
    from types import FrameType
    from typing import Any

#: The signals that stop a run cleanly.
STOP_SIGNALS = (signal.SIGINT, signal.SIGTERM)


class Stop(BaseException):
    """Raised in the main thread by SIGINT/SIGTERM; the CLI and the runner turn it into
    :class:`~pipeline.core.errors.Interrupted`."""

    def __init__(self, signum: int) -> None:
        super().__init__(signum)
        self.signum = signum

    @property
    def name(self) -> str:
        return signal.Signals(self.signum).name


def _raise_stop(signum: int, frame: FrameType | None) -> None:
    raise Stop(signum)


#: Signals whose :class:`Stop` Python could not propagate: raised while the main thread ran a
#: weakref callback or a ``__del__`` (an import's module lock is freed in one), it goes to
#: :data:`sys.unraisablehook` and the program carries on. :func:`check` raises it again.
_lost: list[int] = []
_previous_hook = sys.unraisablehook


def _keep_lost_stop(unraisable: Any) -> None:
    """:data:`sys.unraisablehook`: a :class:`Stop` is kept for :func:`check` (and not printed as
    "Exception ignored in ..."); anything else goes to the hook that was there before."""
    if isinstance(unraisable.exc_value, Stop):
        _lost.append(unraisable.exc_value.signum)
        return
    _previous_hook(unraisable)


def _hook_lost_stops() -> None:
    global _previous_hook
    if sys.unraisablehook is not _keep_lost_stop:
        _previous_hook = sys.unraisablehook
        sys.unraisablehook = _keep_lost_stop


def check() -> None:
    """Raise the :class:`Stop` of a signal whose first one Python swallowed (see :data:`_lost`):
    called where a command can stop cleanly, so that no SIGINT or SIGTERM is ever ignored."""
    if _lost:
        signum = _lost[0]
        _lost.clear()
        raise Stop(signum)


def install() -> dict[signal.Signals, Any]:
    """Make SIGINT and SIGTERM raise :class:`Stop` in the main thread; return the previous
    handlers. A signal the process inherited as ignored (``nohup``, a shell's background job)
    stays ignored. Outside the main thread (where Python allows no handler) nothing changes."""
    previous: dict[signal.Signals, Any] = {}
    _hook_lost_stops()
    for sig in STOP_SIGNALS:
        if signal.getsignal(sig) is signal.SIG_IGN:
            continue
        try:
            previous[sig] = signal.signal(sig, _raise_stop)
        except ValueError:  # not the main thread
            break
    return previous


def ignore() -> None:
    """Ignore SIGINT and SIGTERM from now on (while a stopped command reports and exits)."""
    for sig in STOP_SIGNALS:
        try:
            signal.signal(sig, signal.SIG_IGN)
        except ValueError:  # not the main thread
            return


def restore(previous: dict[signal.Signals, Any]) -> None:
    """Put back the handlers :func:`install` replaced."""
    for sig, old in previous.items():
        signal.signal(sig, signal.SIG_DFL if old is None else old)


@contextmanager
def stop_on_signals() -> Iterator[None]:
    """SIGINT and SIGTERM raise :class:`Stop` in the main thread while the block runs (see
    :func:`install`); the previous handlers come back after it."""
    previous = install()
    try:
        check()
        yield
        check()
    finally:
        restore(previous)


@contextmanager
def kept() -> Iterator[None]:
    """The SIGINT and SIGTERM handlers set from Python before the block, set again after it: for
    a library that installs its own while it starts (``ray.init`` makes SIGTERM ``sys.exit(15)``
    and its core worker logs a stack dump first), so that a signal still raises :class:`Stop`
    where :func:`install` made it. Outside the main thread nothing changes."""
    previous = {sig: signal.getsignal(sig) for sig in STOP_SIGNALS}
    try:
        yield
    finally:
        with suppress(ValueError):  # not the main thread
            restore({sig: old for sig, old in previous.items() if old is not None})
