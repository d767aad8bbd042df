"""The contract between the runner and a sink: :class:`Sink`, what a sink hands out per shard
(:class:`ShardOutput`) and where a shard's kept rows go (:class:`KeptOutput`)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Protocol

import pyarrow as pa

from pipeline.core.accounting import Tally
from pipeline.core.stage import StageStats


@dataclass(frozen=True)
class FinishedShard:
    """A shard an earlier run finished: what its marker recorded."""

    tally: Tally
    stages: dict[str, StageStats]


class KeptOutput(Protocol):
    """Where a shard's kept rows go: Parquet part files, or JSON lines on stdout."""

    def add(self, batch: pa.RecordBatch) -> None:
        """Take kept rows (:data:`~pipeline.core.schema.OUTPUT_SCHEMA`), in order."""
        ...

    def commit(self) -> list[str]:
        """Make the rows final; return the files written, relative to the output directory."""
        ...

    def abort(self) -> None: ...


class ShardOutput(Protocol):
    """Receives the processed batches of one shard; nothing is final before :meth:`commit`."""

    @property
    def tally(self) -> Tally:
        """The records written so far, by outcome."""
        ...

    def count_stages(self, stats: Mapping[str, StageStats]) -> None:
        """Add per-stage counters of a batch (kept with the shard, for a resumed run's report)."""
        ...

    def write(self, batch: pa.RecordBatch) -> None:
        """Take a processed batch (kept, rejected and dropped records)."""
        ...

    def commit(self) -> Tally:
        """Make the shard's files final; return its counts."""
        ...

    def abort(self) -> None:
        """Discard what the shard wrote."""
        ...


class Sink(Protocol):
    """Where a run's records go. The runner calls, in this order: :meth:`check_inputs`,
    :meth:`prepare` (once, with the run's hash: it takes the output directory's lock), :meth:`check_plan`,
    :meth:`finished_run`, then per shard :meth:`done` (and :meth:`kept_hashes` for a finished
    one) or :meth:`open_shard`, then :meth:`finish`, and last, whether the run succeeded or not,
    :meth:`release`. Whoever made the sink calls :meth:`close` when it is done with it.

    A sink that resumes (:class:`~pipeline.io.sinks.parquet.ParquetSink`) skips the shards an
    earlier run finished; one that cannot (records sent to a pipe cannot be sent again) reports
    none as done.
    """

    @property
    def out_dir(self) -> Path:
        """The output directory: part files, side files, manifest and resume state."""
        ...

    @property
    def manifest_path(self) -> Path: ...

    def check_inputs(self, inputs: Sequence[Path]) -> None:
        """Refuse inputs that this run's output would overwrite."""
        ...

    def prepare(self, run_hash: str) -> None:
        """Create the output directory for a run identified by ``run_hash`` (the config's hash,
        or the pipeline's :attr:`~pipeline.api.Pipeline.run_hash`: markers, manifest and files
        carry it) and take its lock before anything else (refuse, exit 4, while another run
        holds it); refuse one that holds a run made with another configuration."""
        ...

    def holds_finished_shards(self) -> bool:
        """Whether the directory holds shards an earlier run finished, which this run keeps."""
        ...

    def check_plan(self, plan: Mapping[str, list[Any]]) -> None:
        """Refuse to resume finished shards that were made from other inputs."""
        ...

    def finished_run(self, shards: list[str]) -> dict[str, Any] | None:
        """The manifest, if the directory already holds this run, finished; else None."""
        ...

    def done(self, shard: str) -> FinishedShard | None:
        """What an earlier run recorded for ``shard`` if it finished it (then it is skipped)."""
        ...

    def kept_hashes(self, shard: str) -> list[str]:
        """The content hashes of a finished shard's kept records (for dedup across a resume)."""
        ...

    def kept_records(self, shard: str, columns: Sequence[str]) -> pa.Table:
        """Those columns of a finished shard's kept records, in the order its files were
        written (empty if it is not done; a sink that never resumes has none)."""
        ...

    def open_shard(self, shard: str, inputs: Sequence[Any] = ()) -> ShardOutput: ...

    def finish(self, shards: list[str], manifest: dict[str, Any]) -> Path:
        """Gather the side files of every shard, then write the manifest last; return its path."""
        ...

    def release(self) -> None:
        """The run is over, however it ended: let the output directory go (its lock). Does
        nothing if :meth:`prepare` did not take it; safe to call twice."""
        ...

    def close(self) -> None:
        """Remove what the sink kept only while the run went on (and :meth:`release`)."""
        ...
