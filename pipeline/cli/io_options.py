"""The reader/writer options of ``cleanwire run``: parsing, applying to the config, the sink."""

from __future__ import annotations

import dataclasses
import os
import sys
from dataclasses import dataclass
from typing import IO

import click

from pipeline.core.config import Compression, Config, parse_size
from pipeline.core.errors import ConfigError, OutputError
from pipeline.io.formats.compression import STDIN
from pipeline.io.sinks import JsonlSink, ParquetSink, Sink

FORMATS = ("parquet", "jsonl")


@dataclass(frozen=True)
class OutputOptions:
    """What the command line says about the output (None = keep the config's value)."""

    fmt: str = "parquet"
    partition_by: str | None = None
    part_size: str | None = None
    row_group_size: str | None = None
    compression: Compression | None = None

    @property
    def to_stdout(self) -> bool:
        return self.fmt == "jsonl"


def apply_output_options(cfg: Config, opts: OutputOptions) -> Config:
    """``cfg`` with the output options applied, validated."""
    output, run = cfg.output, cfg.run
    if opts.partition_by is not None:
        keys = tuple(k.strip() for k in opts.partition_by.split(",") if k.strip())
        output = dataclasses.replace(output, partition_by=keys)
    if opts.part_size is not None:
        output = dataclasses.replace(output, part_bytes=parse_size(opts.part_size))
    if opts.row_group_size is not None:
        run = dataclasses.replace(run, row_group_bytes=parse_size(opts.row_group_size))
    if opts.compression is not None:
        run = dataclasses.replace(run, compression=opts.compression)
    if opts.to_stdout and output.partition_by:
        raise ConfigError("--partition-by applies to Parquet output, not --format jsonl")
    cfg = dataclasses.replace(cfg, output=output, run=run)
    cfg.validate()
    return cfg


def make_sink(opts: OutputOptions, output: str | None, cfg: Config, *, overwrite: bool) -> Sink:
    """The sink for ``--format``: Parquet under ``-o``, or JSON lines on stdout."""
    if not opts.to_stdout:
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
