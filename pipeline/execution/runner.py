"""The local runner: plans shards, streams each through the engine, writes, accounts.

It is deliberately small: stages own per-record logic and errors, engines own parallelism,
the sink owns files. The runner checks the invariant that no stage lost a record.
"""

from __future__ import annotations

import hashlib
import os
import stat
import sys
import time
from collections.abc import Iterable, Iterator, Mapping, Sequence
from contextlib import AbstractContextManager, nullcontext
from dataclasses import dataclass, field
from datetime import UTC, datetime
from functools import partial
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.compute as pc

from pipeline.core.accounting import Tally
from pipeline.core.batching import batched
from pipeline.core.config import Config
from pipeline.core.errors import CleanwireError, Interrupted
from pipeline.core.pathnames import display_path, path_json
from pipeline.core.record import Doc, Status
from pipeline.core.signals import Stop, check, stop_on_signals
from pipeline.core.stage import RunContext, Stage, StageStats, split_parallel
from pipeline.execution.chain import run_in_order
from pipeline.execution.engines import Engine, engine_for
from pipeline.io.layout import OutputLayout
from pipeline.io.progress import ShardSize
from pipeline.io.readers import Shard, Source
from pipeline.io.sinks.base import Sink
from pipeline.io.sinks.files import library_versions


class AccountingError(CleanwireError):
    """A stage returned a different set of records than it received: a bug, never data."""


@dataclass
class RunReport:
    tally: Tally = field(default_factory=Tally)
    stages: dict[str, StageStats] = field(default_factory=dict)
    shards: dict[str, Tally] = field(default_factory=dict)
    shards_done: int = 0
    shards_skipped: int = 0
    seconds: float = 0.0
    manifest_path: str | None = None
    #: True when the output directory already held this finished run: nothing was done or written.
    up_to_date: bool = False
    #: Files in the input directories that were not read (:attr:`Source.skipped`), as valid
    #: UTF-8 text (:func:`~pipeline.core.pathnames.display_path`; the manifest names them exactly).
    skipped_files: list[str] = field(default_factory=list)
    #: Files in a saved page's resource folder (``page_files/``) that were not read
    #: (:attr:`Source.page_resources`), the same way.
    saved_page_files: list[str] = field(default_factory=list)

    #: Records of the shards this invocation ran (not those a resumed run skipped).
    n_processed: int = 0
    #: Things the user should hear about though the run succeeded (inputs without a document).
    warnings: list[str] = field(default_factory=list)

    @property
    def docs_per_s(self) -> float:
        """This invocation's rate: the records it ran over its seconds."""
        return self.n_processed / self.seconds if self.seconds > 0 else 0.0


READ_STAGE = "read"
#: How many of the files a directory walk skipped the manifest names.
SKIPPED_LISTED = 20
DUPLICATE_ID = "duplicate_id"


def unique_ids(docs: Iterable[Doc]) -> Iterator[Doc]:
    """Reject a record whose id an earlier record of the same shard already has (first wins).

    Ids given by the input (``--id-field``) are unique only within their source, so the check is
    per shard (one container file, or a run of document files whose ids are derived, hence
    unique); its memory is bounded by the shard, and a resumed shard reruns it whole.
    """
    seen: set[bytes] = set()
    for doc in docs:
        key = hashlib.blake2b(doc.id.encode("utf-8", "surrogatepass"), digest_size=16).digest()
        if key in seen and doc.ok:
            doc.reject(READ_STAGE, DUPLICATE_ID, f"id {doc.id[:200]!r} already used by an earlier record")
        seen.add(key)
        yield doc


def _check(before: pa.RecordBatch, after: pa.RecordBatch) -> None:
    """The invariant every stage chain must keep: same records, same order, and a record that
    was already rejected or dropped stays so (with its reason)."""
    if before.num_rows != after.num_rows or not before.column("id").equals(after.column("id")):
        raise AccountingError(
            f"a stage changed the records of a batch ({before.num_rows} in, {after.num_rows} out)",
            hint="stages must mark records rejected/dropped, never remove them; please report this bug",
        )
    was_out = pc.not_equal(before.column("status"), Status.OK.scalar())
    for name in ("status", "stage", "reason"):
        if not before.column(name).filter(was_out).equals(after.column(name).filter(was_out)):
            raise AccountingError(
                f"a stage changed the {name} of a record that was already rejected or dropped",
                hint="stages must leave records that are not ok untouched; please report this bug",
            )


def _check_stats(stats: dict[str, StageStats]) -> None:
    for name, st in stats.items():
        if st.n_in != st.n_ok + sum(st.rejected.values()) + sum(st.dropped.values()):
            raise AccountingError(
                f"stage {name!r} lost records: {st.to_dict()}",
                hint="every record a stage sees must end ok, rejected or dropped; please report this bug",
            )


class Progress:
    """The progress bar of a run (tqdm, or what :class:`Runner`'s ``progress`` factory makes),
    advanced in records, or in bytes of the inputs read (:mod:`pipeline.io.progress`) with the
    records done as a postfix."""

    def __init__(self, bar: Any, by_bytes: bool) -> None:
        self.bar = bar
        self.by_bytes = by_bytes
        self.records = 0
        self._shown = 0  # bytes of the current shard shown

    def done(self, records: int, read_to: int) -> None:
        """A batch of ``records`` went through; the shard was read to ``read_to`` bytes then."""
        self.records += records
        if not self.by_bytes:
            self.bar.update(records)
            return
        if read_to > self._shown:
            self.bar.update(read_to - self._shown)
            self._shown = read_to
        self.bar.set_postfix_str(f"{self.records:,} docs", refresh=False)

    def shard_done(self, size: ShardSize) -> None:
        if self.by_bytes:
            whole = size.nbytes or 0
            if whole > self._shown:
                self.bar.update(whole - self._shown)
            self._shown = 0

    def skipped(self, size: ShardSize, records: int) -> None:
        """A shard an earlier run finished."""
        self.done(records, 0)
        self.shard_done(size)

    def close(self) -> None:
        self.bar.close()


def no_document_warning(source: Source, shards: Sequence[Shard]) -> str:
    """What to say when the inputs held no record at all."""
    files = sum(len(s.paths) for s in shards)
    said = f"no document in the inputs ({files} file(s) read)"
    if source.skipped:
        said += (
            f"; {len(source.skipped)} file(s) in the input directories were not read, their extension "
            f"naming no format (e.g. {display_path(source.skipped[0])}): name a file to have it sniffed"
        )
    if source.page_resources:
        said += (
            f"; {len(source.page_resources)} file(s) in a saved page's resource folder were not read "
            f"(e.g. {display_path(source.page_resources[0])})"
        )
    return said


class Runner:
    """Runs ``stages`` over a source into a sink: the parallel-safe prefix through the engine,
    the rest (dedup) in order in this process. ``run_hash`` is the output's identity (see
    :attr:`pipeline.api.Pipeline.run_hash`; by default the config's hash). ``progress`` makes the
    progress bar (tqdm's signature; by default tqdm, shown per ``run.progress``)."""

    def __init__(
        self,
        stages: Sequence[Stage],
        config: Config,
        *,
        run_hash: str | None = None,
        engine: Engine | None = None,
        progress: Any = None,
        upstream_stages: Mapping[str, StageStats] | None = None,
    ) -> None:
        self.stages = list(stages)
        self.parallel, self.serial = split_parallel(self.stages)
        self.config = config
        #: Per-stage counts of stages that already ran elsewhere on these records (Airflow's
        #: stage tasks, for ``publish``), reported in the manifest before this run's own stages.
        self.upstream_stages = dict(upstream_stages or {})
        self.run_hash = run_hash or config.hash
        self.engine = engine or engine_for(config)
        self.progress = progress

    def _progress(self, sizes: Sequence[ShardSize]) -> Progress:
        """The bar: records against the records of the inputs when every shard knows its count
        (document files, Parquet), else bytes against their bytes on disk (JSONL, CSV, WARC), so
        it shows % and an ETA; no total when a shard's size is unknown (stdin, a pipe)."""
        show = self.config.run.progress
        if show is None:
            show = sys.stderr.isatty()
        by_bytes = not all(z.records is not None for z in sizes)
        if by_bytes and all(z.nbytes is not None for z in sizes):
            total: int | None = sum(z.nbytes or 0 for z in sizes)
        elif not by_bytes:
            total = sum(z.records or 0 for z in sizes)
        else:
            by_bytes, total = False, None
        factory = self.progress
        if factory is None:
            from tqdm import tqdm

            factory = tqdm
        if by_bytes:
            bar = factory(
                total=total,
                unit="B",
                unit_scale=True,
                unit_divisor=1024,
                disable=not show,
                file=sys.stderr,
                dynamic_ncols=True,
            )
        else:
            bar = factory(total=total, unit="doc", disable=not show, file=sys.stderr, dynamic_ncols=True)
        return Progress(bar, by_bytes)

    def run(self, source: Source, sink: Sink) -> RunReport:
        """Run every shard not yet finished, then write the manifest. SIGINT/SIGTERM at any point
        raise :class:`Interrupted` (exit 130) and leave a resumable directory."""
        report = RunReport(stages={name: StageStats() for name in self.upstream_stages})
        for name, st in self.upstream_stages.items():
            report.stages[name].merge(st)
        report.stages.update({s.name: StageStats() for s in self.stages})
        n_shards = 0
        try:
            with stop_on_signals():
                sink.check_inputs(source.inputs)
                shards = source.shards(leave_out=sink.out_dir)
                n_shards = len(shards)
                report.skipped_files = [display_path(p) for p in source.skipped]
                report.saved_page_files = [display_path(p) for p in source.page_resources]
                return self._run(source, shards, sink, report)
        except (Stop, KeyboardInterrupt) as exc:
            sig = exc.name if isinstance(exc, Stop) else "SIGINT"
            raise Interrupted(
                f"stopped by {sig}: {report.shards_done + report.shards_skipped} of {n_shards} "
                f"shard(s) complete in {sink.out_dir}; unfinished work was discarded",
                hint="rerun the same command to resume: finished shards are skipped",
            ) from None
        finally:
            self.engine.close()
            sink.release()  # the output directory's lock, taken by prepare
            source.close()  # pipes sniffed for shards not read (skipped as finished, a stop)

    def _run(self, source: Source, shards: list[Shard], sink: Sink, report: RunReport) -> RunReport:
        t0 = time.perf_counter()
        started = datetime.now(UTC).isoformat(timespec="seconds")
        sink.prepare(self.run_hash)
        sink.check_plan({s.name: _abs_inputs(s) for s in shards})
        finished = sink.finished_run([s.name for s in shards])
        if finished is not None:
            done = self._up_to_date(finished, sink, time.perf_counter() - t0)
            done.skipped_files = report.skipped_files
            done.saved_page_files = report.saved_page_files
            return done
        sizes = [s.size() for s in shards]
        with _state_errors(sink):
            self._open_stages(sink, shards)
        completed = False
        try:
            bar = self._progress(sizes)
            try:
                for shard, size in zip(shards, sizes, strict=True):
                    self._shard(shard, size, source, sink, report, bar)
            finally:
                bar.close()
                self.engine.close()
            report.seconds = time.perf_counter() - t0
            if not report.tally.balanced:
                raise AccountingError(f"records do not add up: {report.tally.to_dict()}")
            if report.tally.n_in == 0:
                report.warnings.append(no_document_warning(source, shards))
            with _state_errors(sink):
                for stage in self.serial:
                    stage.finish_run()
            manifest = self._manifest(source, shards, report, started)
            report.manifest_path = str(sink.finish([s.name for s in shards], manifest))
            completed = True
        finally:
            for stage in self.serial:
                stage.close_run(completed)
        return report

    def _open_stages(self, sink: Sink, shards: Sequence[Shard]) -> None:
        """Tell the stateful stages a run starts: where they may keep state that a resumed run
        finds again (``_cleanwire/state/<stage>/``) and which shards an earlier run finished."""
        if not self.serial:
            return
        finished = frozenset(s.name for s in shards if sink.done(s.name) is not None)
        state = OutputLayout(sink.out_dir).state_dir
        label = str(Path(sink.out_dir).resolve())
        for stage in self.serial:
            context = RunContext(
                state_dir=state / stage.name,
                shards=tuple(s.name for s in shards),
                finished=finished,
                label=label,
            )
            stage.open_run(context)

    def _shard(
        self, shard: Shard, size: ShardSize, source: Source, sink: Sink, report: RunReport, bar: Progress
    ) -> None:
        previous = sink.done(shard.name)
        if previous is not None:
            report.shards[shard.name] = previous.tally
            report.tally.merge(previous.tally)
            for name, st in previous.stages.items():
                report.stages.setdefault(name, StageStats()).merge(st)
            report.shards_skipped += 1
            for stage in self.serial:
                if hasattr(stage, "remember"):
                    stage.remember(sink.kept_hashes(shard.name))
                with _state_errors(sink):
                    stage.shard_skipped(shard.name, partial(sink.kept_records, shard.name))
            bar.skipped(size, previous.tally.n_in)
            return
        tally = self._run_shard(shard, size, source, sink, report, bar)
        report.shards[shard.name] = tally
        report.tally.merge(tally)
        report.n_processed += tally.n_in
        report.shards_done += 1

    def _up_to_date(self, manifest: dict[str, Any], sink: Sink, seconds: float) -> RunReport:
        shards = {name: Tally.from_dict(counts) for name, counts in manifest.get("shard_counts", {}).items()}
        return RunReport(
            tally=Tally.from_dict(manifest["counts"]),
            shards=shards,
            shards_skipped=len(manifest.get("shards", {})),
            seconds=seconds,
            manifest_path=str(sink.manifest_path),
            up_to_date=True,
        )

    def _run_shard(
        self, shard: Shard, size: ShardSize, source: Source, sink: Sink, report: RunReport, bar: Progress
    ) -> Tally:
        writer = sink.open_shard(shard.name, inputs=_abs_inputs(shard))
        parallel, serial = self.parallel, self.serial
        runs_stage = getattr(self.engine, "runs_stage", None)
        if serial and runs_stage is not None and runs_stage(serial[0]):
            parallel, serial = [*parallel, serial[0]], serial[1:]  # the engine runs it (Ray: near_dedup)
        pending: dict[int, pa.RecordBatch] = {}
        run = self.config.run
        inputs = batched(unique_ids(shard.docs(source.config)), run.batch_size, run.batch_chars)
        n_read = 0
        meter = shard.meter(size) if bar.by_bytes else None
        read_to: dict[int, int] = {}  # batch -> bytes of the shard read once it was

        def remember(stream: Iterator[pa.RecordBatch]) -> Iterator[pa.RecordBatch]:
            nonlocal n_read
            for i, b in enumerate(stream):
                pending[i] = b
                n_read += b.num_rows
                if meter is not None:
                    read_to[i] = meter.bytes_read(n_read)
                yield b

        try:
            for i, (out, stats) in enumerate(self.engine.map(parallel, remember(inputs))):
                check()  # a signal whose Stop Python swallowed (pipeline.core.signals)
                if serial:
                    with _state_errors(sink):  # near_dedup adds the kept records to its index
                        out, more = run_in_order(serial, out)
                    stats = {**stats, **more}
                _check(pending.pop(i), out)
                _check_stats(stats)
                for name, st in stats.items():  # "engine" too: records of a batch no worker survived
                    report.stages.setdefault(name, StageStats()).merge(st)
                writer.count_stages(stats)
                writer.write(out)
                bar.done(out.num_rows, read_to.pop(i, 0))
            if writer.tally.n_in != n_read or not writer.tally.balanced:
                raise AccountingError(
                    f"shard {shard.name}: {n_read} records read, {writer.tally.to_dict()} accounted"
                )
            with _state_errors(sink):
                for stage in self.serial:
                    stage.shard_done(shard.name)  # before the marker: a marked shard's state is kept
        except BaseException:
            writer.abort()
            raise
        bar.shard_done(size)
        return writer.commit()

    def _manifest(
        self, source: Source, shards: list[Shard], report: RunReport, started: str
    ) -> dict[str, Any]:
        cfg = self.config
        return {
            "cleanwire_manifest": 1,
            "started": started,
            # paths as valid UTF-8 JSON that still names each file exactly (path_json)
            "inputs": [path_json(p) for p in source.inputs],
            "shards": {s.name: [path_json(p) for p in s.paths] for s in shards},
            "shard_counts": {name: _shard_counts(t) for name, t in sorted(report.shards.items())},
            "skipped_files": {
                "count": len(source.skipped),
                "first": [path_json(p) for p in source.skipped[:SKIPPED_LISTED]],
            },
            # the files of saved pages' resource folders (page_files/: iframes, images), not read
            "saved_page_files": {
                "count": len(source.page_resources),
                "first": [path_json(p) for p in source.page_resources[:SKIPPED_LISTED]],
            },
            "config_hash": self.run_hash,
            # which engine ran the stages: not in the config hash (a run resumes under another)
            "engine": _engine_of(self.engine),
            "stages_run": [*self.upstream_stages, *(stage.name for stage in self.stages)],
            "config": cfg.to_dict(),
            # what config_hash covers (rule files by content): a rerun with other settings names them
            "settings": cfg.content_dict(),
            "versions": library_versions(),
            "counts": report.tally.to_dict(),
            "stages": {name: st.to_dict() for name, st in report.stages.items()},
            "timings": {
                "seconds": round(report.seconds, 3),
                "records_processed": report.n_processed,
                "docs_per_s": round(report.docs_per_s, 2),
                "shards_done": report.shards_done,
                "shards_skipped": report.shards_skipped,
            },
        }


def _engine_of(engine: Engine) -> dict[str, Any]:
    """The engine's class and its size (``workers`` of the local pool; ``num_cpus`` and
    ``address`` of a Ray engine), for the manifest."""
    described: dict[str, Any] = {"name": type(engine).__name__}
    for attr in ("workers", "num_cpus", "address"):
        value = getattr(engine, attr, None)
        if isinstance(value, int | str):
            described[attr] = value
    return described


def _abs_inputs(shard: Shard) -> list[list[str | int | dict[str, str]]]:
    """``[absolute path, size, mtime_ns]`` per input of the shard: absolute, so a rerun from another
    directory still matches; size and mtime, so a resumed run notices an input that changed (a
    finished shard would otherwise silently miss records appended since). The path as
    :func:`~pipeline.core.pathnames.path_json` writes it: the markers are valid UTF-8 JSON even for
    a file name that is not UTF-8, and still name the file exactly. A named pipe, like stdin, has
    no size or time to compare (its mtime moves with every write: a rerun was refused, exit 4)."""
    out: list[list[str | int | dict[str, str]]] = []
    for p in shard.paths:
        if str(p) == "-":
            out.append(["-", -1, -1])
            continue
        path = path_json(os.path.abspath(p))
        try:
            st = os.stat(p)
        except OSError:
            out.append([path, -1, -1])
            continue
        if stat.S_ISFIFO(st.st_mode):
            out.append([path, -1, -1])
        else:
            out.append([path, st.st_size, st.st_mtime_ns])
    return out


def _shard_counts(tally: Tally) -> dict[str, Any]:
    """Per-shard accounting for the manifest: the identity and the per-reason counts."""
    full = tally.to_dict()
    keys = ("n_in", "n_kept", "n_dropped", "n_rejected", "rejected", "dropped")
    return {k: full[k] for k in keys}


def _state_errors(sink: Sink) -> AbstractContextManager[None]:
    """Where stateful stages keep their state in the output directory (near_dedup's run index
    under ``_cleanwire/state/``), a failed write of it is the directory's error, named as the
    sink names its own (a full disk: exit 4, one line, the shards finished so far kept)."""
    directory = getattr(sink, "directory", None)
    io_errors = getattr(directory, "io_errors", None)
    return io_errors() if io_errors is not None else nullcontext()
