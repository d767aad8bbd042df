"""The ``cleanwire`` command group (also ``python -m pipeline``).

Errors map to exit codes through the :mod:`pipeline.core.errors` hierarchy: 0 ok, 1 other error,
2 configuration/usage, 3 input, 4 output, 5 worker processes cannot run, 130 interrupted (SIGINT
or SIGTERM, whenever it arrives: :func:`pipeline.cli.main` installs the handlers before it imports
this module).
"""

from __future__ import annotations

import importlib
from typing import Any

import click

from pipeline.core.errors import CleanwireError
from pipeline.core.terminal import printable

#: Every command and the module that implements it, one line each. A command's module is
#: imported when the command runs or its help is shown, not on every start: ``cleanwire --help``
#: never loads trafilatura, and ``eval`` alone loads ~0.4 s of modules ``run`` never needs.
COMMANDS: dict[str, tuple[str, str]] = {
    "run": ("pipeline.cli.run", "run_cmd"),
    "explain": ("pipeline.cli.explain", "explain_cmd"),
    "rules": ("pipeline.cli.rules", "rules_cmd"),
    "stats": ("pipeline.cli.stats", "stats_cmd"),
    "report": ("pipeline.cli.report", "report_cmd"),
    "eval": ("pipeline.cli.eval", "eval_cmd"),
    "learn-sites": ("pipeline.cli.sites", "learn_sites_cmd"),
    "train": ("pipeline.cli.train", "train_cmd"),
}


class CleanwireGroup(click.Group):
    """Loads :data:`COMMANDS` on demand (click's documented lazy group); turns
    :class:`CleanwireError` into a message on stderr and its exit code."""

    def list_commands(self, ctx: click.Context) -> list[str]:
        return sorted({*super().list_commands(ctx), *COMMANDS})

    def get_command(self, ctx: click.Context, cmd_name: str) -> click.Command | None:
        command = super().get_command(ctx, cmd_name)
        if command is None and cmd_name in COMMANDS:
            module, attr = COMMANDS[cmd_name]
            try:
                command = getattr(importlib.import_module(module), attr)
            except ModuleNotFoundError as exc:
                if exc.name != module:
                    raise
                return None  # a command module left out of this install: not offered
            self.add_command(command, cmd_name)
        return command

    def invoke(self, ctx: click.Context) -> Any:
        try:
            return super().invoke(ctx)
        except CleanwireError as exc:
            click.secho(f"error: {printable(str(exc))}", fg="red", err=True)  # may name input files
            ctx.exit(exc.exit_code)


@click.group(cls=CleanwireGroup, context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(package_name="cleanwire")
def cli() -> None:
    """cleanwire: clean scraped news and web text into language-tagged Parquet.

    \b
    Quick start:
      cleanwire run dump/ -o out/        clean a dump (dirs, .jsonl, .jsonl.gz)
      cleanwire explain page.html        what each stage does to one document
      cleanwire rules                    list the boilerplate rules
    """


def main() -> None:
    """The ``cleanwire`` command: :func:`pipeline.cli.main` (kept here for entry points that name
    this module)."""
    importlib.import_module("pipeline.cli").main()
