"""Exception hierarchy. Each class maps to a documented process exit code.

Bad *records* never raise out of a run (they become rejects); these errors are for things that stop
a run before it starts or while writing: bad configuration, unreadable inputs, unwritable outputs.
"""

from __future__ import annotations


class CleanwireError(Exception):
    """Base class: a failure the user can act on. ``exit_code`` is what the CLI exits with."""

    exit_code = 1

    def __init__(self, message: str, *, hint: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.hint = hint

    def __str__(self) -> str:
        return f"{self.message}\n  hint: {self.hint}" if self.hint else self.message


class ConfigError(CleanwireError):
    """Invalid configuration: a bad TOML file, an unknown stage, an out-of-range value."""

    exit_code = 2


class InputError(CleanwireError):
    """An input path is missing or cannot be read at all."""

    exit_code = 3


class OutputError(CleanwireError):
    """The output directory cannot be written, or holds a run made with another config."""

    exit_code = 4


class WorkerError(CleanwireError):
    """Worker processes cannot run the stages at all (they die before any record, or the stages
    cannot be sent to them). One bad *record* never raises this: it becomes a reject."""

    exit_code = 5


class RuleError(ConfigError):
    """A boilerplate rule pack is malformed (bad regex, missing id, unknown category)."""


class Interrupted(CleanwireError):
    """The run was stopped by SIGINT/SIGTERM; its state is resumable."""

    exit_code = 130
