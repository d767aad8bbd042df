"""The ``cleanwire`` command group (also ``python -m pipeline``).

Errors map to exit codes through the :mod:`pipeline.core.errors` hierarchy: 0 ok, 1 other error,
2 configuration/usage, 3 input, 4 output, 5 worker processes cannot run, 130 interrupted (SIGINT
or SIGTERM, whenever it arrives: :func:`pipeline.cli.main` installs the handlers before it imports
this module).
"""

from __future__ import annotations

import difflib
import importlib
from typing import Any

import click

from pipeline.cli.color import no_color
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

    def resolve_command(
        self, ctx: click.Context, args: list[str]
    ) -> tuple[str | None, click.Command | None, list[str]]:
        """click's, with the commands close to a mistyped name suggested (``runn`` -> ``run``)."""
        name = args[0] if args else ""
        if args and self.get_command(ctx, name) is None and not name.startswith("-"):
            close = difflib.get_close_matches(name, self.list_commands(ctx), n=3, cutoff=0.6)
            if close:
                ctx.fail(f"No such command {name!r}. Did you mean {' or '.join(map(repr, close))}?")
        return super().resolve_command(ctx, args)

    def invoke(self, ctx: click.Context) -> Any:
        try:
            return super().invoke(ctx)
        except CleanwireError as exc:
            click.secho(  # may name input files
                f"error: {printable(str(exc))}", fg="red", err=True, color=False if no_color() else None
            )
            ctx.exit(exc.exit_code)


@click.group(cls=CleanwireGroup, context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(package_name="cleanwire")
def cli() -> None:
    """cleanwire: clean scraped news and web text into language-tagged Parquet.

    \b
    Quick start:
      cleanwire run dump/ -o out/        clean a dump (dirs, .jsonl, .csv, .parquet, .warc, .tar)
      cleanwire stats out/               what the run kept, dropped and rejected, and why
      cleanwire explain page.html        what each stage does to one document
      cleanwire rules                    list the boilerplate rules

    `cleanwire COMMAND --help` for a command's options.
    """


def main() -> None:
    """The ``cleanwire`` command: :func:`pipeline.cli.main` (kept here for entry points that name
    this module)."""
    importlib.import_module("pipeline.cli").main()
