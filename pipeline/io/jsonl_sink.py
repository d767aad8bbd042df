"""``--format jsonl``: cleaned records as JSON lines on stdout, for Unix pipes.

    cat dump.jsonl | cleanwire run - --format jsonl | head

Each kept record is one JSON object with the columns of the output schema (``removed`` as a
list of objects, ``extra`` as an object), in input order, flushed batch by batch. Rejects,
dropped records and the manifest still go to ``-o DIR`` when given; without it they are kept
in a temporary directory only long enough to summarise the run on stderr. Nothing is skipped
on a rerun: stdout cannot resume.
"""

from __future__ import annotations

import json
import os
import shutil
import tempfile
from typing import IO, Any

import pyarrow as pa

from pipeline.core.config import Config
from pipeline.core.errors import OutputError
from pipeline.io.layout import KeptOutput
from pipeline.io.parquet_sink import FinishedShard, ParquetSink


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
        self.stream.write("".join(lines).encode("utf-8"))
        self.stream.flush()

    def commit(self) -> list[str]:
        self.stream.flush()
        return []

    def abort(self) -> None:
        pass


class JsonlSink(ParquetSink):
    """Kept records to ``stream`` as JSON lines; everything else as :class:`ParquetSink` does."""

    def __init__(
        self,
        out_dir: str | os.PathLike[str] | None,
        config: Config,
        stream: IO[bytes],
        *,
        overwrite: bool = False,
    ) -> None:
        self.temporary = out_dir is None
        super().__init__(out_dir or tempfile.mkdtemp(prefix="cleanwire-"), config, overwrite=overwrite)
        self.stream = stream

    def prepare(self) -> None:
        super().prepare()
        if self.layout.part_files():
            raise OutputError(
                f"{self.out_dir} holds Parquet part files of another run",
                hint="give --format jsonl its own -o directory, or pass --overwrite",
            )

    def kept_output(self, shard: str) -> KeptOutput:
        return JsonLines(self.stream)

    def done(self, shard: str) -> FinishedShard | None:
        return None  # records already sent to a pipe cannot be sent again: always rerun

    def finished_run(self, shards: list[str]) -> dict[str, Any] | None:
        return None

    def check_plan(self, plan: dict[str, list[str]]) -> None:
        pass  # nothing is resumed, so other inputs cannot mix with this run

    def cleanup(self) -> None:
        """Remove the markers (a Parquet run into the same directory must not skip shards whose
        records went to stdout) and, without ``-o``, the temporary directory."""
        if self.temporary:
            shutil.rmtree(self.out_dir, ignore_errors=True)
            return
        for marker in self.layout.markers():
            marker.unlink(missing_ok=True)
