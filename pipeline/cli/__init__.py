"""The ``cleanwire`` command line: the command group (:mod:`.app`), one module per command
(:mod:`.run`, :mod:`.explain`, :mod:`.rules`, :mod:`.stats`, :mod:`.report`, :mod:`.eval`,
:mod:`.sites` for ``learn-sites``), and the option handling they share (:mod:`.options`: the one
table from options to config settings; :mod:`.io_options`: the sink for ``--format``).

The top layer: may import everything else in ``pipeline`` and ``stages``; nothing imports it.
A command's module is imported only when that command runs (see :data:`.app.COMMANDS`), and this
package imports :mod:`.app` (click) only once :func:`main` has installed the signal handlers.
"""

from __future__ import annotations

import gc
import importlib
import sys

from pipeline.core import signals
from pipeline.core.errors import Interrupted

TYPE_CHECKING = False  # not typing's: this runs before the signal handlers are in (see main)
if TYPE_CHECKING:
    from typing import Any

    from pipeline.cli.app import cli

__all__ = ["cli", "main"]

#: The commands that convert records to Arrow and never need pandas, for which :func:`main` runs
#: pyarrow's pandas probe with pandas hidden. The others do not import pyarrow (``rules``,
#: ``--help``) or read an output directory with :mod:`pyarrow.dataset`, which imports pandas
#: itself (``stats``, ``report``). ``run`` runs it itself, once it has started the worker pool's
#: forkserver (:func:`pipeline.cli.run.run_cmd`): pyarrow's import would delay that start.
ARROW_COMMANDS = frozenset({"eval", "explain", "train", "learn-sites"})


def main() -> None:
    """The ``cleanwire`` command (also ``python -m pipeline``).

    Its first act is to make SIGINT and SIGTERM raise :class:`~pipeline.core.signals.Stop`
    (:func:`pipeline.core.signals.install`), before it imports click or anything else, so a signal
    at any moment - while the command imports its modules, reads its config or starts its
    workers, not only inside a run - ends it with a message and exit 130 (a run in progress says
    how many of its shards are complete), never with click's ``Aborted!``, a ``KeyboardInterrupt``
    traceback or a silent death by SIGTERM. Only the interpreter's own start-up, before this
    function runs, keeps Python's default behaviour. The previous handlers come back on return.

    It also makes glibc give large freed blocks back to the system
    (:func:`~pipeline.execution.resources.release_large_frees`), and for the commands that convert
    records to Arrow it runs pyarrow's pandas probe with pandas hidden
    (:func:`~pipeline.core.pandas_probe.skip_pandas_probe`, 0.25 s of start-up): settings for the
    whole process, so the command makes them, not the library.

    On the way out the objects still alive are frozen (:func:`gc.freeze`): the interpreter's exit
    then skips its last scans of every object (the libraries' tables and caches), 0.3-0.4 s of
    each run. Memory is the OS's to free.
    """
    previous = signals.install()
    try:
        try:
            # this process is the command's own: its heap stays flat on long runs
            importlib.import_module("pipeline.execution.resources").release_large_frees()
            if ARROW_COMMANDS.intersection(sys.argv[1:2]):
                importlib.import_module("pipeline.core.pandas_probe").skip_pandas_probe()
            importlib.import_module("pipeline.cli.app").cli(prog_name="cleanwire")
        finally:
            signals.check()  # a signal whose Stop Python swallowed still stops the command
    except signals.Stop as stop:
        signals.ignore()  # a second Ctrl-C must not cut the message short
        exc = Interrupted(
            f"stopped by {stop.name}",
            hint="rerun the same command (`cleanwire run` resumes, skipping finished shards)",
        )
        sys.stderr.write(f"error: {exc}\n")
        sys.stderr.flush()
        sys.exit(exc.exit_code)
    finally:
        signals.restore(previous)
        gc.freeze()


def __getattr__(name: str) -> Any:
    if name == "cli":
        return importlib.import_module("pipeline.cli.app").cli
    raise AttributeError(f"module 'pipeline.cli' has no attribute {name!r}")
