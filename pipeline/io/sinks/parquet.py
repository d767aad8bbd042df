"""The Parquet sink: a run's output directory, resumable.

:class:`ParquetSink` writes the kept records of each input shard as part files
(``part-<shard>.parquet``, maybe more, maybe under hive partitions), the shard's rejects and
dropped records under ``_cleanwire/state/`` with a completion marker, and at the end
``_cleanwire/rejects.jsonl.gz``, ``_cleanwire/dropped.jsonl.gz`` and ``_cleanwire/manifest.json``
(last): the part files are the directory's only Parquet files (:mod:`pipeline.io.layout`). Every file is written to a temporary name,
fsynced and renamed, so a killed run never leaves a half-written file under a final name, and a
rerun skips the shards whose marker exists (:class:`~pipeline.io.sinks.run_state.RunState`).
"""

from __future__ import annotations

import os
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import pyarrow as pa

from pipeline.core.config import Config
from pipeline.io.sinks.base import FinishedShard, ShardOutput
from pipeline.io.sinks.directory import OutputDirectory, ShardWriter
from pipeline.io.sinks.files import file_metadata
from pipeline.io.sinks.part_files import PartFiles

#: The shard name of the schema-only part file of a run that had no input shard at all.
EMPTY_RUN_SHARD = "00000"


class ParquetSink:
    """The output directory of a run (a :class:`~pipeline.io.sinks.base.Sink`)."""

    def __init__(self, out_dir: str | os.PathLike[str], config: Config, *, overwrite: bool = False) -> None:
        self.out_dir = Path(out_dir)
        self.config = config
        self.overwrite = overwrite
        self.directory = OutputDirectory(self.out_dir, config, overwrite=overwrite)
        self.layout = self.directory.layout
        self.state = self.directory.state

    @property
    def manifest_path(self) -> Path:
        return self.layout.manifest

    def check_inputs(self, inputs: Sequence[Path]) -> None:
        self.directory.check_inputs(inputs)

    def prepare(self, run_hash: str) -> None:
        self.directory.prepare(run_hash)

    def holds_finished_shards(self) -> bool:
        return not self.overwrite and self.state.has_markers()

    def check_plan(self, plan: Mapping[str, list[Any]]) -> None:
        with self.directory.io_errors():
            self.state.check_plan(plan)

    def finished_run(self, shards: list[str]) -> dict[str, Any] | None:
        with self.directory.io_errors():
            return self.state.finished_run(shards, self.directory.run_hash)

    def done(self, shard: str) -> FinishedShard | None:
        with self.directory.io_errors():
            return self.state.done(shard)

    def kept_hashes(self, shard: str) -> list[str]:
        with self.directory.io_errors():
            return self.state.kept_hashes(shard)

    def kept_records(self, shard: str, columns: Sequence[str]) -> pa.Table:
        return self.state.kept_records(shard, columns)

    def open_shard(self, shard: str, inputs: Sequence[Any] = ()) -> ShardOutput:
        """Bounded, optionally partitioned part files for the kept rows of ``shard``."""
        parts = PartFiles(self.out_dir, shard, self.config, file_metadata(self.directory.run_hash))
        return ShardWriter(self.directory, shard, parts, inputs)

    def finish(self, shards: list[str], manifest: dict[str, Any]) -> Path:
        """Give an output without any part file its schema-only one (see :meth:`PartFiles.commit_empty`),
        then gather the side files and write the manifest, which lists that file too."""
        self.directory.check_present()
        with self.directory.io_errors():
            if not self.layout.part_files():
                self._commit_empty(shards[0] if shards else EMPTY_RUN_SHARD)
        return self.directory.finish(shards, manifest)

    def _commit_empty(self, shard: str) -> None:
        parts = PartFiles(self.out_dir, shard, self.config, file_metadata(self.directory.run_hash))
        try:
            parts.commit_empty()
        except BaseException:
            parts.abort()
            raise

    def release(self) -> None:
        self.directory.release()

    def close(self) -> None:
        """Release the directory; nothing to remove: everything the run wrote is its output or
        its resume state."""
        self.release()
