"""The ``cleanwire`` command line: the command group (:mod:`.app`), one module per command
(:mod:`.run`, :mod:`.explain`, :mod:`.rules`, :mod:`.stats`, :mod:`.report`, :mod:`.eval`,
:mod:`.sites` for ``learn-sites``), and the option handling they share (:mod:`.options`: the one
table from options to config settings; :mod:`.io_options`: the sink for ``--format``).

The top layer: may import everything else in ``pipeline`` and ``stages``; nothing imports it.
A command's module is imported only when that command runs (see :data:`.app.COMMANDS`).
"""

from pipeline.cli.app import cli, main

__all__ = ["cli", "main"]
