"""The reader/writer options of ``cleanwire run``: parsing, applying to the config, the sink."""

from __future__ import annotations

import os
import sys
from pathlib import Path
from typing import IO

import click

from pipeline.core.config import Config
from pipeline.core.errors import ConfigError, OutputError
from pipeline.io.formats.compression import STDIN
from pipeline.io.sinks import JsonlSink, ParquetSink, Sink


def check_output_options(cfg: Config, *, to_stdout: bool) -> None:
    """Refuse output settings that do not apply to JSON lines on stdout."""
    if to_stdout and cfg.output.partition_by:
        raise ConfigError("--partition-by applies to Parquet output, not --format jsonl")


def check_writable_file(path: str | os.PathLike[str]) -> Path:
    """Refuse, before any work is done, a file that cannot be written: its directory missing or
    not writable, or the path a directory (:class:`OutputError`, exit 4)."""
    target = Path(path)
    parent = target.parent
    if target.is_dir():
        problem = "it is a directory"
    elif not parent.is_dir():
        problem = f"{parent} is not a directory" if parent.exists() else f"{parent} does not exist"
    elif not os.access(parent, os.W_OK | os.X_OK):
        problem = f"{parent} is not writable"
    elif target.exists() and not os.access(target, os.W_OK):
        problem = "permission denied"
    else:
        return target
    raise OutputError(f"cannot write {target}: {problem}", hint=_WRITE_HINT)


def write_error(path: str | os.PathLike[str], exc: OSError) -> OutputError:
    """What a failed write of the file ``path`` is: an :class:`OutputError` naming it."""
    return OutputError(f"cannot write {path}: {exc.strerror or exc}", hint=_WRITE_HINT)


_WRITE_HINT = "choose a path in an existing, writable directory"


def make_sink(output: str | None, cfg: Config, *, to_stdout: bool, overwrite: bool) -> Sink:
    """The sink for ``--format``: Parquet under ``-o``, or JSON lines on stdout."""
    if not to_stdout:
        if output is None:
            raise click.UsageError("-o/--output is required (unless --format jsonl)")
        return ParquetSink(output, cfg, overwrite=overwrite)
    stream: IO[bytes] = sys.stdout.buffer
    return JsonlSink(output, cfg, stream, overwrite=overwrite)


def refuse_stdin_resume(inputs: tuple[str, ...], sink: Sink) -> None:
    """A rerun skips finished shards, but stdin brings new data each time: never resume it."""
    if STDIN in inputs and sink.holds_finished_shards():
        raise OutputError(
            f"{sink.out_dir} holds a run, and '-' (stdin) cannot be resumed",
            hint="pass --overwrite, or choose another output directory",
        )


def silence_stdout() -> None:
    """After the reader of stdout went away (``| head``): send the rest to /dev/null, so that
    the interpreter's final flush does not fail again."""
    devnull = os.open(os.devnull, os.O_WRONLY)
    try:
        os.dup2(devnull, sys.stdout.fileno())
    except (OSError, ValueError):
        pass  # stdout is not a real file (tests): nothing to silence
    finally:
        os.close(devnull)
