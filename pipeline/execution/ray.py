"""The Ray Data engine (``pip install 'cleanwire[ray]'``, ``cleanwire run --engine ray``).

:class:`RayEngine` implements the same :class:`~pipeline.execution.engines.Engine` protocol as the local
engines, so the :class:`~pipeline.execution.runner.Runner` keeps planning shards, resuming, deduplicating,
writing (``ParquetSink``) and accounting (``Tally``) exactly as it does locally: the schema, the
rejects and the manifest counts are the local engine's by construction. Only the parallel,
stateless stages move: each window of batches becomes a ``ray.data`` dataset
(``from_arrow`` → ``map_batches(batch_format="pyarrow")``) whose tasks run on any node of the
cluster, and comes back in input order (``preserve_order``). Stateful stages (dedup) stay in the
driver, after the parallel map, where records arrive in input order: keep-first by
``content_hash`` gives the same kept copy as the local engine.

For data that already lives in Ray (a WORK-schema Parquet partition, e.g. written by the Airflow
adapters), :func:`clean_dataset` runs the same stages on a ``ray.data.Dataset`` and
:func:`write_dataset` writes it as an output directory of ``cleanwire run`` (kept records as
Parquet, rejects and dropped records under ``_cleanwire/``).

``near_dedup`` is the one stateful stage the engine runs itself (:meth:`RayEngine.runs_stage`):
plan by plan, its grouping by band, pairing and Jaccard checks run as Ray Data operations
(:mod:`pipeline.execution.ray_dedup`; with numpy in the driver for a plan too small to gain from
Ray); the driver keeps the index and decides in input order.

Inside the Ray workers the stages run under the local engine's supervision (:class:`Supervision`:
per-record timeout, memory limit, start deadline), so a bad record costs one record there too.

This is the only module (with :mod:`pipeline.execution.ray_dedup` and
:mod:`pipeline.integrations.airflow`) allowed to import Ray, and it does so lazily, inside
functions: importing it costs nothing when Ray is not installed.
"""

from __future__ import annotations

import hashlib
import logging
import os
import pickle
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from itertools import islice
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.fs as pafs

from pipeline.core import signals
from pipeline.core.errors import ConfigError, OutputError
from pipeline.core.record import check_input, docs_from_batch, docs_to_batch, reject_rows
from pipeline.core.schema import OUTPUT_SCHEMA, REQUIRED_FIELDS, WORK_SCHEMA
from pipeline.core.stage import Stage, split_parallel, stats_from_batch
from pipeline.execution.chain import Result, run_stages
from pipeline.execution.engines import Engine
from pipeline.execution.pool import START_TIMEOUT_S, ProcessEngine
from pipeline.execution.ray_dedup import DRIVER_PLAN_ROWS, plan_edges
from pipeline.execution.resources import auto_memory_limit, usable_cores
from pipeline.io.layout import OutputLayout
from pipeline.io.left_records import write_left_stream
from stages.near_dedup import NearDedup
from stages.registry import build_stages

if TYPE_CHECKING:
    from pipeline.core.config import Config

#: Environment variable Ray itself reads for the cluster address (``ray://head:10001``, ``auto``).
RAY_ADDRESS_ENV = "RAY_ADDRESS"


def import_ray() -> Any:
    """``ray`` with Ray Data, or a :class:`ConfigError` that says how to install it."""
    try:
        import ray
        import ray.data
    except ImportError as exc:
        raise ConfigError(
            f"the Ray engine needs Ray Data, which is not installed ({exc})",
            hint="pip install 'cleanwire[ray]'",
        ) from exc
    return ray


@dataclass(frozen=True)
class Supervision:
    """How a Ray worker runs the stages: in a one-process supervised pool (the local engine's
    :class:`~pipeline.execution.pool.ProcessEngine`) with the local engine's per-record
    ``timeout_s``, ``memory_limit`` and ``start_timeout_s`` (``run.record_timeout_s``,
    ``run.max_worker_memory``, ``run.worker_start_timeout_s``), so a record that hangs, crashes
    its process or takes too much memory is rejected (``timeout`` / ``worker_crash`` /
    ``memory_limit``) as locally, instead of failing the Ray task."""

    timeout_s: float = 30.0
    #: bytes; 0 = no limit; None = the node's share, as locally: 80 % of the node's memory over
    #: its cores (a node runs up to one Ray worker, so one supervised child, per CPU)
    memory_limit: int | None = None
    start_timeout_s: float = START_TIMEOUT_S

    @classmethod
    def of(cls, config: Config) -> Supervision:
        """The supervision ``config``'s ``run`` section sets up."""
        run = config.run
        return cls(run.record_timeout_s, run.max_worker_memory, run.worker_start_timeout_s)

    def memory_bytes(self) -> int:
        """The memory limit in this process's node (resolving ``None`` to the node's share)."""
        return auto_memory_limit(usable_cores()) if self.memory_limit is None else self.memory_limit

    def engine(self) -> ProcessEngine:
        return ProcessEngine(
            1,
            timeout_s=self.timeout_s,
            memory_limit=self.memory_bytes(),
            start_timeout_s=self.start_timeout_s,
        )


#: Per Ray worker process: the unpickled stages of the current job, and (when supervised) the
#: one-process supervised engine that runs them, so rules compile and processes start once.
_WORKER_STATE: dict[str, tuple[list[Stage], Engine | None]] = {}


def pack_stages(stages: Sequence[Stage]) -> bytes:
    """Stages as bytes for Ray, unpickled inside :func:`apply_stages` once per worker process and
    job (see :func:`_worker_state`) rather than with every task's arguments."""
    return pickle.dumps(list(stages), protocol=pickle.HIGHEST_PROTOCOL)


def _worker_state(blob: bytes, supervision: Supervision | None) -> tuple[list[Stage], Engine | None]:
    key = f"{hashlib.sha1(blob).hexdigest()}:{supervision}"
    if key not in _WORKER_STATE:
        for _stages, old in _WORKER_STATE.values():
            if old is not None:
                old.close()
        _WORKER_STATE.clear()
        engine = supervision.engine() if supervision is not None else None
        _WORKER_STATE[key] = (pickle.loads(blob), engine)
    return _WORKER_STATE[key]


def work_batch(table: pa.Table) -> pa.RecordBatch:
    """``table`` as one WORK batch. Columns outside :data:`~pipeline.core.schema.WORK_SCHEMA` are
    dropped (e.g. the ``dt`` column Ray Data adds when it reads a hive-partitioned directory such
    as ``{store}/extract/dt=2024-05-01``); missing optional columns take their defaults, as in
    :func:`~pipeline.core.record.docs_from_batch`; a missing or null ``id``, ``source`` or ``raw`` (or
    another column that does not fit) raises :class:`ValueError` naming it."""
    check_input(table)
    if not set(WORK_SCHEMA.names) <= set(table.schema.names):
        return docs_to_batch(docs_from_batch(table))
    batches = table.select(WORK_SCHEMA.names).combine_chunks().to_batches()
    return batches[0].cast(WORK_SCHEMA) if batches else docs_to_batch([])


def _check_dataset_columns(ds: Any) -> None:
    """Refuse, in the driver, a dataset whose known schema lacks a required column (the workers
    would fail on every block with the same error wrapped in Ray's)."""
    schema = ds.schema(fetch_if_missing=False)  # None when it would take running the dataset
    names = getattr(schema, "names", None)
    if names is None:
        return
    missing = [n for n in REQUIRED_FIELDS if n not in names]
    if missing:
        raise ValueError(
            f"the dataset has no {', '.join(map(repr, missing))} column: every row needs id, source "
            f"and raw (non-null strings); it has {', '.join(map(repr, names))}"
        )


def apply_stages(table: pa.Table, blob: bytes, supervision: Supervision | None = None) -> pa.Table:
    """The ``map_batches`` function: WORK rows in, the same WORK rows out after the stages.
    The rows are read by :func:`work_batch` (extra columns dropped, missing optional ones filled).

    With a ``supervision`` the stages run in a supervised child process of the Ray worker, so a
    record that hangs past the timeout, crashes its process or goes over the memory limit is
    rejected (``timeout`` / ``worker_crash`` / ``memory_limit``) exactly as locally, instead of
    failing the Ray task; without it they run in the Ray worker itself."""
    batch = work_batch(table)
    if batch.num_rows == 0:
        return WORK_SCHEMA.empty_table()
    stages, engine = _worker_state(blob, supervision)
    if engine is None:
        out, _stats = run_stages(stages, batch)
    else:
        ((out, _stats),) = list(engine.map(stages, [batch]))
    return pa.Table.from_batches([out], schema=WORK_SCHEMA)


def _slices(table: pa.Table, sizes: Iterable[int]) -> Iterator[pa.RecordBatch]:
    """Cut ``table`` back into batches of the given sizes (Ray may merge or split blocks)."""
    table = table.combine_chunks()
    offset = 0
    for n in sizes:
        pieces = table.slice(offset, n).to_batches()
        offset += n
        yield pieces[0] if pieces else pa.RecordBatch.from_pylist([], schema=WORK_SCHEMA)


@dataclass
class RayEngine:
    """Runs the parallel-safe stages through Ray Data, a bounded window of batches at a time.

    ``address`` is a Ray cluster (``ray://head:10001`` or ``auto``); ``None`` uses ``RAY_ADDRESS``
    when set, else starts a local Ray with ``num_cpus`` (default: all cores). A Ray that is
    already initialised (by the caller or a test) is used as it is and left running.
    """

    address: str | None = None
    num_cpus: int | None = None
    #: batches per Ray dataset; 0 = 4 per cluster CPU (memory stays bounded by the window)
    window: int = 0
    #: per-record wall-clock limit, enforced by a supervised child of each Ray worker, as in the
    #: local engine; None runs the stages directly in the Ray workers (no timeout, no isolation,
    #: no memory limit)
    timeout_s: float | None = 30.0
    #: that child's memory limit in bytes (``run.max_worker_memory``; 0 = none; None = the node's
    #: share: 80 % of its memory over its cores, see :class:`Supervision`)
    memory_limit: int | None = None
    #: that child's start deadline (``run.worker_start_timeout_s``)
    start_timeout_s: float = START_TIMEOUT_S
    #: records near_dedup judges per plan: its Ray Data jobs (several shuffles) cost seconds
    #: whatever their size, so a plan covers many windows of the parallel stages (their output
    #: waits in the driver until it has run)
    dedup_records: int = 20_000
    #: a near_dedup plan of fewer rows runs in the driver with numpy (the same edges): Ray Data
    #: would run it as one partition, after shuffles that cost seconds whatever their size
    driver_plan_rows: int = DRIVER_PLAN_ROWS
    _started: bool = field(default=False, init=False, repr=False)

    @classmethod
    def from_config(
        cls, config: Config, *, num_cpus: int | None = None, address: str | None = None
    ) -> RayEngine:
        """The engine as ``config``'s ``run`` section sets it up: the per-record timeout, the
        memory limit and the start deadline of the local engine (:class:`Supervision`)."""
        sup = Supervision.of(config)
        return cls(
            address=address,
            num_cpus=num_cpus,
            timeout_s=sup.timeout_s,
            memory_limit=sup.memory_limit,
            start_timeout_s=sup.start_timeout_s,
        )

    @property
    def supervision(self) -> Supervision | None:
        """How the Ray workers run the stages (None: in the Ray worker itself)."""
        if self.timeout_s is None:
            return None
        return Supervision(self.timeout_s, self.memory_limit, self.start_timeout_s)

    def __post_init__(self) -> None:
        import_ray()  # fail fast, before any output is written, when Ray is not installed

    def _ensure(self) -> Any:
        ray = import_ray()
        if not ray.is_initialized():
            address = self.address or os.environ.get(RAY_ADDRESS_ENV)
            local = {} if address else {"num_cpus": self.num_cpus, "include_dashboard": False}
            with signals.kept():  # SIGINT/SIGTERM still stop a run cleanly (exit 130), as locally
                ray.init(address=address, log_to_driver=False, logging_level="warning", **local)
            self._started = True
        ctx = ray.data.DataContext.get_current()
        ctx.execution_options.preserve_order = True
        ctx.enable_progress_bars = False
        # one "Starting execution" INFO block per window would drown the run's own summary
        logging.getLogger("ray.data").setLevel(logging.WARNING)
        return ray

    def _window_size(self, ray: Any) -> int:
        if self.window > 0:
            return self.window
        cpus = int(ray.cluster_resources().get("CPU", 1))
        return max(1, 4 * cpus)

    def runs_stage(self, stage: Stage) -> bool:
        """Whether :meth:`map` also runs this stateful stage (the runner then leaves it out of
        its serial tail): ``near_dedup``, whose grouping by band, pairing and Jaccard checks
        run as Ray Data operations (:mod:`pipeline.execution.ray_dedup`)."""
        return isinstance(stage, NearDedup)

    def map(self, stages: Sequence[Stage], batches: Iterable[pa.RecordBatch]) -> Iterator[Result]:
        ray = self._ensure()
        size = self._window_size(ray)
        dedup = stages[-1] if stages and isinstance(stages[-1], NearDedup) else None
        parallel = list(stages[:-1]) if dedup is not None else list(stages)
        blob = pack_stages(parallel)
        it = iter(batches)
        held: list[tuple[pa.Table, list[int]]] = []  # mapped windows waiting for near_dedup
        while window := list(islice(it, size)):
            if not stages:
                yield from ((b, {}) for b in window)
                continue
            if parallel:
                ds = ray.data.from_arrow([pa.Table.from_batches([b]) for b in window])
                ds = ds.map_batches(
                    apply_stages, batch_format="pyarrow", batch_size=None, fn_args=(blob, self.supervision)
                )
                parts = list(ds.iter_batches(batch_format="pyarrow", batch_size=None))
                done = pa.concat_tables([p.cast(WORK_SCHEMA) for p in parts]) if parts else None
            else:
                done = pa.Table.from_batches(window, schema=WORK_SCHEMA)
            if done is None or done.num_rows != sum(b.num_rows for b in window):
                got = 0 if done is None else done.num_rows
                raise RuntimeError(f"Ray returned {got} rows for a window of {len(window)} batches")
            sizes = [b.num_rows for b in window]
            if dedup is not None:
                held.append((done, sizes))
                if sum(t.num_rows for t, _ in held) < self.dedup_records:
                    continue
                done, sizes = _near_dedup_held(dedup, held, self.driver_plan_rows)
                held = []
            for out in _slices(done, sizes):
                yield out, stats_from_batch(stages, out)
        if dedup is not None and held:
            done, sizes = _near_dedup_held(dedup, held, self.driver_plan_rows)
            for out in _slices(done, sizes):
                yield out, stats_from_batch(stages, out)

    def close(self) -> None:
        if self._started:
            import_ray().shutdown()
            self._started = False


def _near_dedup_held(
    stage: NearDedup, held: list[tuple[pa.Table, list[int]]], driver_rows: int
) -> tuple[pa.Table, list[int]]:
    """near_dedup over the held windows at once, and their batch sizes."""
    done = _near_dedup_window(stage, pa.concat_tables([t for t, _ in held]), driver_rows)
    return done, [n for _, sizes in held for n in sizes]


def _near_dedup_window(stage: NearDedup, done: pa.Table, driver_rows: int) -> pa.Table:
    """``near_dedup`` over one window: the rows and the indexed records they meet from the stage
    (in the driver), the exact and verified edges (:func:`~pipeline.execution.ray_dedup.plan_edges`:
    Ray Data, or numpy in the driver for a plan under ``driver_rows`` rows), the verdicts from
    the stage."""
    batches = done.combine_chunks().to_batches()
    batch = batches[0] if batches else pa.RecordBatch.from_pylist([], schema=WORK_SCHEMA)
    window = stage.plan_window(batch)
    cpus = int(import_ray().cluster_resources().get("CPU", 1))
    exact, edges = plan_edges(window.table, stage.params, cpus, driver_rows=driver_rows)
    return pa.Table.from_batches([stage.apply_window(batch, window, exact, edges)], schema=WORK_SCHEMA)


# --- Ray-native: a WORK-schema Dataset in, an output directory out (kept Parquet, rejects, dropped) --------------


def clean_dataset(ds: Any, config: Config) -> Any:
    """The configured stages over a ``ray.data.Dataset`` of WORK rows, order preserved.

    The rows need ``id``, ``source`` and ``raw``; other WORK columns are optional (defaults
    filled) and columns outside the WORK schema, such as the ``dt`` partition column of a
    ``read_parquet`` of ``{store}/extract/dt=2024-05-01``, are dropped (see :func:`work_batch`).
    A dataset whose schema is known without running it and lacks a required column raises
    :class:`ValueError` here, before anything runs.

    Parallel-safe stages run in ``map_batches``; the stateful tail (near_dedup, and what follows
    it) runs over the whole dataset in one task after that, in input order, so kept copies and
    counts equal the local engine's: near_dedup against a temporary index in that task (a
    ``dedup.index`` is read there, never updated: ``cleanwire run --engine ray`` updates one).
    Fine for one partition; for more, dedup per partition.
    """
    import_ray()
    _check_dataset_columns(ds)
    _preserve_order(ds)
    parallel, serial = split_parallel(build_stages(config))
    ds = ds.map_batches(
        apply_stages,
        batch_format="pyarrow",
        batch_size=None,
        fn_args=(pack_stages(parallel), Supervision.of(config)),
    )
    if serial:
        ds = ds.repartition(1).map_batches(
            apply_stages, batch_format="pyarrow", batch_size=None, fn_args=(pack_stages(serial),)
        )
    return ds


def _preserve_order(ds: Any) -> None:
    """Run ``ds`` and the datasets made from it in input order, so that near_dedup keeps the
    first copy as the local engine does. A dataset runs with the ``DataContext`` copied when it
    was created (``ds.context``, shared by the datasets made from it), not with the current one:
    setting ``DataContext.get_current()`` here would reach only datasets created later, and
    blocks would come back in the order they finish (a slow page's copies kept instead of it)."""
    ds.context.execution_options.preserve_order = True


def _split(table: pa.Table, status: str) -> pa.Table:
    """Rows of one status: ok rows projected to the output schema, the others to reject rows
    (the same :func:`~pipeline.core.record.reject_rows` the local sink uses)."""
    rows = table.filter(pc.equal(table.column("status"), status))
    if status == "ok":
        return rows.select(OUTPUT_SCHEMA.names).cast(OUTPUT_SCHEMA)
    return reject_rows(rows)


def _output_root(out: str) -> tuple[pafs.FileSystem, str]:
    """The filesystem of ``out`` (a local path or a URI pyarrow understands) and its path there."""
    if "://" in out:
        fs, root = pafs.FileSystem.from_uri(out)
        return fs, root
    return pafs.LocalFileSystem(), str(Path(out).resolve())


def _refuse_used_output(fs: pafs.FileSystem, root: str, out: str) -> None:
    """Refuse an ``out`` that is not a new or empty directory: Ray's ``write_parquet`` adds its
    part files (new names each time) to those already there, so a second write into the same
    directory read its kept records twice beside the rejects and dropped files of the last one."""
    info = fs.get_file_info(root)
    if info.type == pafs.FileType.NotFound:
        return
    if info.type != pafs.FileType.Directory:
        raise OutputError(f"{out} is not a directory", hint="give write_dataset a new or empty directory")
    if fs.get_file_info(pafs.FileSelector(root, allow_not_found=True)):
        raise OutputError(
            f"{out} is not empty: write_dataset writes a new output directory, and would add "
            "its part files to those already there",
            hint="write into a new or empty directory, or remove this one first",
        )


def write_dataset(ds: Any, out: str) -> dict[str, int]:
    """Write a cleaned dataset as ``cleanwire run`` lays out an output directory: the ok rows as
    Parquet files under ``out`` (``write_parquet``: the directory's only Parquet files, so
    ``out/**/*.parquet`` is exactly the kept records), the rejected and dropped records as
    ``out/_cleanwire/rejects.jsonl.gz`` and ``dropped.jsonl.gz`` (their rows are small: they are
    streamed through the driver). ``out`` is a local path or a URI pyarrow understands. Returns
    the counts, by ``output``, ``rejects`` and ``dropped``.

    The dataset is materialised once, so the three writes do not re-run the stages. ``out`` must
    be new or empty (else :class:`~pipeline.core.errors.OutputError`, before anything runs)."""
    fs, root = _output_root(out)
    _refuse_used_output(fs, root, out)
    ds = ds.materialize()
    kept = ds.map_batches(_split, batch_format="pyarrow", batch_size=None, fn_args=("ok",)).materialize()
    kept.write_parquet(out)
    counts = {"output": kept.count()}
    fs.create_dir(f"{root}/{OutputLayout.META_DIR}", recursive=True)
    for status, kind in (("rejected", "rejects"), ("dropped", "dropped")):
        part = ds.map_batches(_split, batch_format="pyarrow", batch_size=None, fn_args=(status,))
        tables = part.iter_batches(batch_format="pyarrow", batch_size=None)
        # compression=None: pyarrow would gzip a stream whose name ends in .gz once more
        with fs.open_output_stream(f"{root}/{OutputLayout.LEFT[kind]}", compression=None) as fh:
            counts[kind] = write_left_stream(fh, tables)
    return counts
