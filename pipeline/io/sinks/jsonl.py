"""``--format jsonl``: cleaned records as JSON lines on stdout, for Unix pipes.

    cat dump.jsonl | cleanwire run - --format jsonl | head

Each kept record is one JSON object with the columns of the output schema (``removed`` as a
list of objects, ``extra`` as an object), in input order, flushed batch by batch. Rejects,
dropped records and the manifest still go to ``-o DIR`` when given; without it they are kept
in a temporary directory only long enough to summarise the run on stderr. Nothing is skipped
on a rerun: stdout cannot resume.
"""

from __future__ import annotations

import contextlib
import json
import os
import shutil
import tempfile
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import IO, Any

import pyarrow as pa

from pipeline.core.config import Config
from pipeline.core.errors import OutputError
from pipeline.core.schema import OUTPUT_SCHEMA
from pipeline.io.sinks.base import FinishedShard, ShardOutput
from pipeline.io.sinks.directory import OutputDirectory, ShardWriter


def _jsonable(row: dict[str, Any]) -> dict[str, Any]:
    extra = row.get("extra")
    if extra is not None and not isinstance(extra, dict):
        row["extra"] = dict(extra)
    return row


class JsonLines:
    """Writes kept rows as JSON lines to a binary stream."""

    def __init__(self, stream: IO[bytes]) -> None:
        self.stream = stream

    def add(self, batch: pa.RecordBatch) -> None:
        lines = [
            json.dumps(_jsonable(row), ensure_ascii=False, separators=(",", ":")) + "\n"
            for row in batch.to_pylist()
        ]
        try:
            self.stream.write("".join(lines).encode("utf-8"))
            self.stream.flush()
        except BrokenPipeError:
            raise  # the reader has all it wants (`| head`): the command ends quietly
        except OSError as exc:  # stdout redirected to a full disk, say: not the output directory's
            raise OutputError(f"cannot write the records to stdout: {exc.strerror or exc}") from exc

    def commit(self) -> list[str]:
        self.stream.flush()
        return []

    def abort(self) -> None:
        pass


class JsonlSink:
    """Kept records to ``stream`` as JSON lines; rejects, dropped records and the manifest to
    ``out_dir`` (a temporary directory without one) as :class:`ParquetSink
    <pipeline.io.sinks.parquet.ParquetSink>` writes them. It never resumes."""

    def __init__(
        self,
        out_dir: str | os.PathLike[str] | None,
        config: Config,
        stream: IO[bytes],
        *,
        overwrite: bool = False,
    ) -> None:
        self.temporary = out_dir is None
        self.out_dir = Path(out_dir or tempfile.mkdtemp(prefix="cleanwire-"))
        self.config = config
        self.stream = stream
        self.overwrite = overwrite
        self.directory = OutputDirectory(self.out_dir, config, overwrite=overwrite)
        self.layout = self.directory.layout

    @property
    def manifest_path(self) -> Path:
        return self.layout.manifest

    def check_inputs(self, inputs: Sequence[Path]) -> None:
        self.directory.check_inputs(inputs)

    def prepare(self, run_hash: str) -> None:
        """As :meth:`ParquetSink.prepare <pipeline.io.sinks.parquet.ParquetSink.prepare>`, and
        refuse a directory that holds part files (a Parquet run's records)."""
        self.directory.prepare(run_hash)
        if self.layout.part_files():
            raise OutputError(
                f"{self.out_dir} holds Parquet part files of another run",
                hint="give --format jsonl its own -o directory, or pass --overwrite",
            )

    def holds_finished_shards(self) -> bool:
        """The markers of an earlier (Parquet) run in ``-o``: this sink would not skip them, but
        ``--overwrite`` is what removes them."""
        return not self.overwrite and self.directory.state.has_markers()

    def check_plan(self, plan: Mapping[str, list[Any]]) -> None:
        pass  # nothing is resumed, so other inputs cannot mix with this run

    def finished_run(self, shards: list[str]) -> dict[str, Any] | None:
        return None

    def done(self, shard: str) -> FinishedShard | None:
        return None  # records already sent to a pipe cannot be sent again: always rerun

    def kept_hashes(self, shard: str) -> list[str]:
        return []

    def kept_records(self, shard: str, columns: Sequence[str]) -> pa.Table:
        return pa.schema([OUTPUT_SCHEMA.field(c) for c in columns]).empty_table()

    def open_shard(self, shard: str, inputs: Sequence[Any] = ()) -> ShardOutput:
        return ShardWriter(self.directory, shard, JsonLines(self.stream), inputs)

    def finish(self, shards: list[str], manifest: dict[str, Any]) -> Path:
        return self.directory.finish(shards, manifest)

    def release(self) -> None:
        """Remove the markers (a Parquet run into the same directory must not skip shards whose
        records went to stdout), while the lock still keeps other runs out, then release it.
        A sink that never took the lock (refused) touches nothing."""
        if self.directory.lock.held:
            with contextlib.suppress(OSError):
                self.directory.state.forget_shards()
        self.directory.release()

    def close(self) -> None:
        """:meth:`release`, and without ``-o`` remove the temporary directory."""
        self.release()
        if self.temporary:
            shutil.rmtree(self.out_dir, ignore_errors=True)
