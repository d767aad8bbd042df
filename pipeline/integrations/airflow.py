"""Airflow adapters (``pip install 'cleanwire[airflow]'``): each stage, or the whole pipeline, as a
task over one day's partition.

The functions here are plain, typed Python: TaskFlow tasks call them (see
``examples/airflow/cleanwire_dag.py``) and tests call them directly. Only :func:`logical_day`
touches Airflow, lazily, to read the running task's logical date. The partitions they read and
write (store, staging, swap, lock, the XCom manifest) are :mod:`pipeline.integrations.partitions`.

Layout of a store (a local path or any pyarrow/fsspec URI, e.g. ``s3://bucket/cleanwire``)::

    {store}/{step}/dt=YYYY-MM-DD/part-<shard>.parquet   WORK rows after step (extract, encoding, ...)
    {store}/output/dt=YYYY-MM-DD/                       what ``cleanwire run -o`` writes: part-*.parquet
                                                        (the kept records, the only Parquet files) and
                                                        _cleanwire/ (rejects.jsonl.gz, dropped.jsonl.gz,
                                                        manifest.json, the resume state)

so ``{store}/output/`` read as a hive dataset (``dt`` as a column; DuckDB's
``'{store}/output/**/*.parquet'``) holds exactly the kept records of every day.

* Between tasks flows Parquet in :data:`~pipeline.core.schema.WORK_SCHEMA` (same rows in and out; a
  rejected or dropped record is marked, never removed), one file per input shard, so the last
  task writes the same files as the CLI. Through XCom flows only a small :class:`StepManifest`
  (paths and counts, never document text).
* Idempotent: a task writes its whole partition into a temporary sibling directory and swaps it
  into place at the end, so a retried or re-run task replaces its own ``dt=`` partition and
  nothing else. The swap is a rename (atomic) on local and POSIX filesystems; on object stores it
  is a copy, and the manifest, written last, marks a complete output.
* One task at a time per partition: on a local (or POSIX-mounted) store a task holds the same lock
  as ``cleanwire run`` on an output directory (:mod:`pipeline.io.sinks.lock`) for its whole
  length, on a hidden file beside the partition, ``{store}/{step}/.dt=YYYY-MM-DD.lock`` (the
  partition itself is swapped whole, so it cannot hold its own lock). A second attempt at the
  same partition while one runs (a task cleared and re-run while its first attempt still goes on,
  a zombie) stops with :class:`~pipeline.core.errors.OutputError` naming the holder's pid, before
  it removes the leftovers of earlier attempts, which might be the running one's. On an object
  store there is no lock: Airflow's own task state is what keeps two attempts apart.
* ``publish`` splits ok/rejected/dropped with the same :class:`~pipeline.execution.runner.Runner`,
  :class:`~pipeline.io.sinks.parquet.ParquetSink` and :class:`~pipeline.core.accounting.Tally` as the CLI.
* Every task logs its counts and reject reasons, so they show in the Airflow task log.
* The stages (trafilatura, ftfy, the language profiles: ~0.5 s of imports) load inside the
  tasks, not when a DAG file imports this module: Airflow parses DAG files often and asks them to
  import quickly. Those few imports are the only ones inside functions (``STAGES_LOAD_IN_TASKS``).
"""

from __future__ import annotations

import logging
import shutil
import tempfile
import time
from collections.abc import Callable, Iterator, Mapping, Sequence
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.fs as pafs
import pyarrow.parquet as pq

from pipeline.core.batching import batched
from pipeline.core.config import Config
from pipeline.core.errors import ConfigError
from pipeline.core.schema import WORK_SCHEMA
from pipeline.core.stage import RunContext, Stage, StageStats, stats_from_batch
from pipeline.execution.chain import Result, run_in_order
from pipeline.execution.engines import Engine, SerialEngine, engine_for
from pipeline.execution.runner import Runner, RunReport, unique_ids
from pipeline.integrations.partitions import (
    OUTPUT_STEP,
    PART_PREFIX,
    StepManifest,
    Store,
    WorkShard,
    WorkSource,
    exists,
    input_shards,
    locked,
    partition_day,
    replace_partition,
    staging,
    upload_partition,
)
from pipeline.io.layout import OutputLayout
from pipeline.io.left_records import iter_left
from pipeline.io.readers import Shard, Source
from pipeline.io.sinks import ParquetSink
from pipeline.io.sinks.files import file_metadata

__all__ = [
    "StepManifest",
    "Store",
    "logical_day",
    "partition_day",
    "publish",
    "run_partition",
    "run_stage",
    "stage_names",
]

log = logging.getLogger("cleanwire.airflow")


# --- the task's day and config ---------------------------------------------------------------


def logical_day() -> str:
    """The running Airflow task's partition day: its logical date, or for a run without one
    (manually triggered in Airflow 3) the date it was queued to run after."""
    from airflow.sdk import get_current_context

    context = get_current_context()
    when = context.get("logical_date") or context["dag_run"].run_after
    return partition_day(when)


def load_config(config_file: str | None, settings: Mapping[str, Any] | None = None) -> Config:
    """The pipeline config every task of one DAG shares: a TOML file (or the defaults) with
    ``settings`` applied by dotted key, as :meth:`Config.with_overrides` reads them
    (``{"run.workers": 2, "dedup.enabled": False}``). Give every task of a DAG the same ones."""
    cfg = Config.from_toml(config_file) if config_file else Config()
    return cfg.with_overrides(settings) if settings else cfg


def _engine_for(stage: Stage, config: Config) -> Engine:
    """Parallel-safe stages run in the supervised local pool (a timeout or crash costs one
    record); stateful ones (dedup) in this process, where records arrive in input order."""

    if not stage.parallel_safe:
        return SerialEngine()
    return engine_for(config)


# --- the tasks -------------------------------------------------------------------------------


def _with_index(settings: Mapping[str, Any] | None, dedup_index: str | None) -> Mapping[str, Any] | None:
    """``settings`` with ``dedup.index`` set when a task is given ``dedup_index``."""
    if dedup_index is None:
        return settings
    return {**(settings or {}), "dedup.index": dedup_index}


def _batches_in_order(stage: Stage, batches: Iterator[pa.RecordBatch]) -> Iterator[Result]:
    """A stateful stage (near_dedup) over the batches in this process, in input order."""
    for batch in batches:
        yield run_in_order([stage], batch)


def run_stage(
    stage_name: str,
    *,
    store: str,
    day: str,
    upstream: Mapping[str, Any] | None = None,
    inputs: Sequence[str] = (),
    config_file: str | None = None,
    settings: Mapping[str, Any] | None = None,
    dedup_index: str | None = None,
) -> dict[str, Any]:
    """One stage as one task: read the upstream partition (or, for the first task, ``inputs``),
    run the stage, write ``{store}/{stage}/dt={day}`` atomically; return the XCom manifest.

    ``dedup_index`` (or the setting ``dedup.index``): the ``near_dedup`` task drops copies of
    records that earlier partitions kept, and adds this partition's to the index once its
    partition is written (a rerun of the same day adds nothing). Partitions that share an index
    must run one after the other, in date order (``max_active_runs=1``)."""
    t0 = time.perf_counter()
    config = load_config(config_file, _with_index(settings, dedup_index))
    make_stage = _stage_factory(stage_name)
    day = partition_day(day)
    where = Store(store)
    up = StepManifest.from_xcom(upstream) if upstream is not None else None
    fs, _ = where.filesystem()
    final = where.partition(stage_name, day)
    with input_shards(up, inputs, config, where) as shards, locked(where, final):
        stage = make_stage(config)
        stats, n_records = _write_stage(stage, shards, config, fs, final, f"{stage_name}/dt={day}")
    manifest = _step_manifest(stage_name, day, store, final, shards, config, stats, n_records, up, t0)
    log.info(manifest.summary())
    return manifest.to_xcom()


def _stage_factory(stage_name: str) -> Callable[[Config], Stage]:
    """The factory of the stage called ``stage_name``; a :class:`ConfigError` for an unknown one."""
    from stages.registry import STAGE_FACTORIES  # see STAGES_LOAD_IN_TASKS

    if stage_name not in STAGE_FACTORIES:
        raise ConfigError(f"unknown stage {stage_name!r}", hint=f"choose from {sorted(STAGE_FACTORIES)}")
    return STAGE_FACTORIES[stage_name]


def _step_manifest(
    stage_name: str,
    day: str,
    store: str,
    final: str,
    shards: Sequence[Shard],
    config: Config,
    stats: StageStats,
    n_records: int,
    up: StepManifest | None,
    t0: float,
) -> StepManifest:
    """What a stage task returns: its partition, counts and time since ``t0``, and the per-stage
    counts of every step upstream of it followed by its own."""
    return StepManifest(
        step=stage_name,
        day=day,
        store=store,
        path=final,
        shards=tuple(s.name for s in shards),
        config_hash=config.hash,
        n_records=n_records,
        n_in=stats.n_in,
        n_ok=stats.n_ok,
        rejected=dict(sorted(stats.rejected.items())),
        dropped=dict(sorted(stats.dropped.items())),
        seconds=round(time.perf_counter() - t0, 3),
        stages={**(up.stages if up is not None else {}), stage_name: stats.to_dict()},
    )


def _write_stage(
    stage: Stage, shards: Sequence[Shard], config: Config, fs: pafs.FileSystem, final: str, label: str
) -> tuple[StageStats, int]:
    """Run ``stage`` over ``shards`` into a staging directory, then swap it in as ``final``;
    return the stage's counts and the records written (``label`` names the run to the stage's
    run hooks)."""
    staged = staging(fs, final)
    stats, n_records = StageStats(), 0
    schema = WORK_SCHEMA.with_metadata(file_metadata(config.hash))
    engine = _engine_for(stage, config)
    stage.open_run(RunContext(shards=tuple(s.name for s in shards), label=label))
    completed = False
    try:
        for shard in shards:
            n_records += _write_shard(stage, shard, engine, config, schema, fs, staged, stats)
            stage.shard_done(shard.name)
        stage.finish_run()  # e.g. the dedup index takes this partition's records, then it is swapped in
        replace_partition(fs, staged, final)
        completed = True
    except BaseException:
        if exists(fs, staged):
            fs.delete_dir(staged)
        raise
    finally:
        stage.close_run(completed)
        engine.close()
    return stats, n_records


def _write_shard(
    stage: Stage,
    shard: Shard,
    engine: Engine,
    config: Config,
    schema: pa.Schema,
    fs: pafs.FileSystem,
    staged: str,
    stats: StageStats,
) -> int:
    """Run ``stage`` over one shard into its part file under ``staged``, adding the stage's
    counts to ``stats``; return the records written.

    A record whose id an earlier record of its input shard has is rejected (``read/duplicate_id``)
    here, before any stage, as ``cleanwire run`` does (:func:`~pipeline.execution.runner.unique_ids`);
    left to ``publish``, it went through every stage as ok and could be the copy near_dedup kept,
    then rejected, costing the record dropped as its copy. On an upstream WORK shard it is a no-op."""
    docs = unique_ids(shard.docs(config.reader))
    batches = batched(docs, config.run.batch_size, config.run.batch_chars)
    results = engine.map([stage], batches) if stage.parallel_safe else _batches_in_order(stage, batches)
    n_records = 0
    with (
        fs.open_output_stream(f"{staged}/{PART_PREFIX}{shard.name}.parquet") as fh,
        pq.ParquetWriter(fh, schema, compression=config.run.compression) as writer,
    ):
        for out, counted in results:
            stats.merge(stats_from_batch([stage], out)[stage.name])
            stats.seconds += counted[stage.name].seconds if stage.name in counted else 0.0
            n_records += out.num_rows
            writer.write_batch(out.cast(schema))
    return n_records


def publish(
    *,
    store: str,
    day: str,
    upstream: Mapping[str, Any],
    config_file: str | None = None,
    settings: Mapping[str, Any] | None = None,
) -> dict[str, Any]:
    """The last task: split the final WORK partition into ``{store}/output/dt={day}/`` exactly as
    ``cleanwire run`` does (part files, rejects, dropped, manifest last); return counts and paths.
    The manifest's per-stage counts (``stages``) are those the upstream stage tasks recorded."""

    config = load_config(config_file, settings)
    day = partition_day(day)
    where = Store(store)
    up = StepManifest.from_xcom(upstream)
    _check_complete(up, config)
    with input_shards(up, (), config, where) as planned:
        shards = [s for s in planned if isinstance(s, WorkShard)]
    source = WorkSource(shards, config.reader)
    upstream_stages = {name: StageStats.from_dict(st) for name, st in up.stages.items()}
    runner = Runner([], config, engine=SerialEngine(), upstream_stages=upstream_stages)
    return _write_output(where, day, config, lambda out: runner.run(source, ParquetSink(out, config)))


def _check_complete(upstream: StepManifest, config: Config) -> None:
    """Refuse to publish records that have not been through the whole configured chain (a DAG
    wired to publish after another stage's task would write half-cleaned text as output)."""
    from stages.registry import configured_names  # see STAGES_LOAD_IN_TASKS

    chain = configured_names(config)
    ran = list(upstream.stages) or [upstream.step]  # an older XCom names only its own step
    if ran[-1] != chain[-1] or (upstream.stages and ran != chain):
        raise ConfigError(
            f"publish needs records that went through every configured stage {chain}; "
            f"its upstream {upstream.step!r} ran {ran}",
            hint=f"put publish after the task of the last stage, {chain[-1]!r}, in the configured order",
        )


def _write_output(
    where: Store, day: str, config: Config, produce: Callable[[str], RunReport]
) -> dict[str, Any]:
    """Let ``produce`` write a run into a staging directory, then swap (or upload) it into
    ``{store}/output/dt={day}``; log and return the counts."""
    fs, _ = where.filesystem()
    final = where.partition(OUTPUT_STEP, day)
    local = where.is_local
    with locked(where, final):
        staged = staging(fs, final) if local else tempfile.mkdtemp(prefix="cleanwire-output-")
        try:
            report = produce(staged)
            if local:
                replace_partition(fs, staged, final)
            else:
                upload_partition(Path(staged), fs, final)
        finally:
            if local and exists(fs, staged):
                fs.delete_dir(staged)
            elif not local:
                shutil.rmtree(staged, ignore_errors=True)
    counts = report.tally.to_dict()
    result = {
        "step": OUTPUT_STEP,
        "day": day,
        "path": final,
        "config_hash": config.hash,
        "manifest": f"{final}/{OutputLayout.MANIFEST}",
        "counts": {
            k: counts[k] for k in ("n_in", "n_kept", "n_dropped", "n_rejected", "rejected", "dropped")
        },
    }
    _log_publish(result, fs, final)
    return result


def _log_publish(result: Mapping[str, Any], fs: pafs.FileSystem, final: str) -> None:

    c = result["counts"]
    log.info(
        "cleanwire publish dt=%s: %d in, %d kept, %d dropped, %d rejected -> %s",
        result["day"],
        c["n_in"],
        c["n_kept"],
        c["n_dropped"],
        c["n_rejected"],
        final,
    )
    for kind in ("rejected", "dropped"):
        for reason, n in c[kind].items():
            log.info("cleanwire publish dt=%s: %s %s: %d", result["day"], kind, reason, n)
    with fs.open_input_file(f"{final}/{OutputLayout.REJECTS}") as fh:
        first = next(iter_left(fh, batch_rows=20), None)
        sample = first.to_pylist() if first is not None else []
    for row in sample:
        log.info("cleanwire reject %s: %s/%s %s", row["id"], row["stage"], row["reason"], row["detail"] or "")


def run_partition(
    *,
    store: str,
    day: str,
    inputs: Sequence[str],
    config_file: str | None = None,
    settings: Mapping[str, Any] | None = None,
    dedup_index: str | None = None,
) -> dict[str, Any]:
    """The whole pipeline as one task (the local engine, one process pool): ``inputs`` straight
    to ``{store}/output/dt={day}``, atomically, as :func:`publish` would write it.

    ``dedup_index`` (or the setting ``dedup.index``): a local directory where ``near_dedup`` keeps
    the records kept so far, so that this day's copies of earlier days' stories are dropped
    (see :func:`run_stage`)."""
    from pipeline.api import Pipeline  # see STAGES_LOAD_IN_TASKS

    config = load_config(config_file, _with_index(settings, dedup_index))
    day = partition_day(day)
    source = Source(inputs, config.reader)
    try:  # the run closes it too; not when the partition is in use and it never starts
        return _write_output(
            Store(store),
            day,
            config,
            lambda out: Pipeline.from_config(config).run(source, ParquetSink(out, config)),
        )
    finally:
        source.close()


def stage_names(config_file: str | None = None, settings: Mapping[str, Any] | None = None) -> list[str]:
    """The configured stages, in order: one task each in a stage-per-task DAG."""
    from stages.registry import build_stages  # see STAGES_LOAD_IN_TASKS

    return [s.name for s in build_stages(load_config(config_file, settings))]
