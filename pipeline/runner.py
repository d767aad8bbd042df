"""The local runner: plans shards, streams each through the engine, writes, accounts.

It is deliberately small: stages own per-record logic and errors, engines own parallelism,
the sink owns files. The runner checks the invariant that no stage lost a record.
"""

from __future__ import annotations

import sys
import time
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from itertools import islice
from typing import TYPE_CHECKING, Any

import pyarrow as pa

from pipeline.accounting import Tally
from pipeline.engines import Engine, make_engine, run_stages
from pipeline.errors import CleanwireError
from pipeline.readers import Shard, Source
from pipeline.record import Doc, docs_to_batch
from pipeline.stage import StageStats
from pipeline.writers import ParquetSink, library_versions

if TYPE_CHECKING:
    from pipeline.compose import Pipeline


class AccountingError(CleanwireError):
    """A stage returned a different set of records than it received: a bug, never data."""


@dataclass
class RunReport:
    tally: Tally = field(default_factory=Tally)
    stages: dict[str, StageStats] = field(default_factory=dict)
    shards_done: int = 0
    shards_skipped: int = 0
    seconds: float = 0.0
    manifest_path: str | None = None

    @property
    def docs_per_s(self) -> float:
        return self.tally.n_in / self.seconds if self.seconds > 0 else 0.0


def batched(docs: Iterable[Doc], size: int) -> Iterator[pa.RecordBatch]:
    it = iter(docs)
    while chunk := list(islice(it, size)):
        yield docs_to_batch(chunk)


def _check(before: pa.RecordBatch, after: pa.RecordBatch) -> None:
    if before.num_rows != after.num_rows or not before.column("id").equals(after.column("id")):
        raise AccountingError(
            f"a stage changed the records of a batch ({before.num_rows} in, {after.num_rows} out)",
            hint="stages must mark records rejected/dropped, never remove them; please report this bug",
        )


class Runner:
    def __init__(self, pipeline: Pipeline, *, engine: Engine | None = None, progress: Any = None) -> None:
        self.pipeline = pipeline
        self.engine = engine or make_engine(pipeline.config.run.workers)
        self.progress = progress

    def _progress(self, total_hint: int | None) -> Any:
        show = self.pipeline.config.run.progress
        if show is None:
            show = sys.stderr.isatty()
        from tqdm import tqdm

        return tqdm(total=total_hint, unit="doc", disable=not show, file=sys.stderr, dynamic_ncols=True)

    def run(self, source: Source, sink: ParquetSink) -> RunReport:
        t0 = time.perf_counter()
        started = datetime.now(UTC).isoformat(timespec="seconds")
        sink.prepare()
        shards = source.shards()
        report = RunReport(stages={s.name: StageStats() for s in self.pipeline.stages})
        serial = self.pipeline.serial_suffix
        n_files = sum(len(s.paths) for s in shards if s.kind == "docs")
        bar = self._progress(n_files if n_files and all(s.kind == "docs" for s in shards) else None)
        try:
            for shard in shards:
                previous = sink.done(shard.name)
                if previous is not None:
                    report.tally.merge(previous)
                    report.shards_skipped += 1
                    for stage in serial:
                        if hasattr(stage, "remember"):
                            stage.remember(sink.kept_hashes(shard.name))
                    bar.update(previous.n_in)
                    continue
                report.tally.merge(self._run_shard(shard, source, sink, report, bar))
                report.shards_done += 1
        finally:
            bar.close()
            self.engine.close()
        report.seconds = time.perf_counter() - t0
        if not report.tally.balanced:
            raise AccountingError(f"records do not add up: {report.tally.to_dict()}")
        manifest = self._manifest(source, shards, report, started)
        report.manifest_path = str(sink.finish([s.name for s in shards], manifest))
        return report

    def _run_shard(
        self, shard: Shard, source: Source, sink: ParquetSink, report: RunReport, bar: Any
    ) -> Tally:
        writer = sink.open_shard(shard.name)
        parallel, serial = self.pipeline.parallel_prefix, self.pipeline.serial_suffix
        pending: dict[int, pa.RecordBatch] = {}
        inputs = batched(shard.docs(source.config), self.pipeline.config.run.batch_size)

        def remember(stream: Iterator[pa.RecordBatch]) -> Iterator[pa.RecordBatch]:
            for i, b in enumerate(stream):
                pending[i] = b
                yield b

        try:
            for i, (out, stats) in enumerate(self.engine.map(parallel, remember(inputs))):
                if serial:
                    out, more = run_stages(serial, out)
                    stats = {**stats, **more}
                _check(pending.pop(i), out)
                for name, st in stats.items():
                    report.stages[name].merge(st)
                writer.write(out)
                bar.update(out.num_rows)
        except BaseException:
            writer.abort()
            raise
        return writer.commit()

    def _manifest(
        self, source: Source, shards: list[Shard], report: RunReport, started: str
    ) -> dict[str, Any]:
        cfg = self.pipeline.config
        return {
            "cleanwire_manifest": 1,
            "started": started,
            "inputs": [str(p) for p in source.inputs],
            "shards": {s.name: [str(p) for p in s.paths] for s in shards},
            "config_hash": cfg.hash,
            "config": cfg.to_dict(),
            "versions": library_versions(),
            "counts": report.tally.to_dict(),
            "stages": {name: st.to_dict() for name, st in report.stages.items()},
            "timings": {
                "seconds": round(report.seconds, 3),
                "docs_per_s": round(report.docs_per_s, 2),
                "shards_done": report.shards_done,
                "shards_skipped": report.shards_skipped,
            },
        }
