"""Day partitions of a store, for the Airflow adapters (:mod:`pipeline.integrations.airflow`):
where a step's partition lives (:class:`Store`, ``{root}/{step}/dt=YYYY-MM-DD``, on a local path
or any pyarrow/fsspec URI), how a task writes one whole (a hidden staging sibling swapped in by
:func:`replace_partition`, under the partition's lock on a local store), what a task hands the
next through XCom (:class:`StepManifest`: paths and counts, never text) and how an upstream
task's WORK part files are read back as reader shards (:class:`WorkShard`, :class:`WorkSource`).
Plain pyarrow and the core/io layers; no Airflow, no stages.
"""

from __future__ import annotations

import os
import re
import uuid
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import asdict, dataclass, field
from datetime import date, datetime
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.fs as pafs
import pyarrow.parquet as pq

from pipeline.core.config import Config, ReaderConfig
from pipeline.core.errors import ConfigError, InputError
from pipeline.core.record import Doc, docs_from_batch
from pipeline.io.layout import OutputLayout
from pipeline.io.progress import ShardSize
from pipeline.io.readers import Shard, Source
from pipeline.io.sinks.lock import DirectoryLock

OUTPUT_STEP = "output"
PART_PREFIX = "part-"
_DAY = re.compile(r"^\d{4}-\d{2}-\d{2}$")


# --- partitions ------------------------------------------------------------------------------


def partition_day(when: date | datetime | str) -> str:
    """``YYYY-MM-DD`` for a logical date (a date, a datetime or an ISO string)."""
    if isinstance(when, datetime | date):
        return when.strftime("%Y-%m-%d")
    day = when[:10]
    if not _DAY.match(day):
        raise ConfigError(f"not a logical date: {when!r}", hint="expected YYYY-MM-DD")
    try:
        date.fromisoformat(day)
    except ValueError as exc:  # 2024-13-45: the right shape, not a day of the calendar
        raise ConfigError(f"not a logical date: {when!r} ({exc})", hint="expected YYYY-MM-DD") from None
    return day


@dataclass(frozen=True)
class Store:
    """Where the partitions of one pipeline live: ``{root}/{step}/dt=YYYY-MM-DD``."""

    root: str

    def filesystem(self) -> tuple[pafs.FileSystem, str]:
        """The pyarrow filesystem and the root path inside it (fsspec for other schemes)."""
        if "://" not in self.root:
            return pafs.LocalFileSystem(), str(Path(self.root).resolve())
        try:
            fs, path = pafs.FileSystem.from_uri(self.root)
        except (pa.ArrowInvalid, pa.ArrowNotImplementedError):
            try:
                from fsspec.core import url_to_fs
            except ImportError as exc:
                raise ConfigError(
                    f"no pyarrow filesystem for {self.root!r} and fsspec is not installed",
                    hint="pip install fsspec (and the fsspec package for that scheme)",
                ) from exc
            ffs, path = url_to_fs(self.root)
            fs = pafs.PyFileSystem(pafs.FSSpecHandler(ffs))
        return fs, path.rstrip("/")

    @property
    def is_local(self) -> bool:
        return isinstance(self.filesystem()[0], pafs.LocalFileSystem)

    def partition(self, step: str, day: str) -> str:
        """The path (inside :meth:`filesystem`) of one step's partition for one day."""
        return f"{self.filesystem()[1]}/{step}/dt={partition_day(day)}"


def exists(fs: pafs.FileSystem, path: str) -> bool:
    return bool(fs.get_file_info(path).type != pafs.FileType.NotFound)


def replace_partition(fs: pafs.FileSystem, staged: str, final: str) -> None:
    """Swap a fully written ``staged`` directory in as ``final``; only ``final`` is touched."""
    parent, name = final.rsplit("/", 1)
    old = f"{parent}/.{name}.{uuid.uuid4().hex}.old"
    if exists(fs, final):
        fs.move(final, old)
    fs.move(staged, final)
    if exists(fs, old):
        fs.delete_dir(old)


def partition_lock_path(final: str) -> str:
    """The lock file of a partition (a local path): hidden, beside it."""
    parent, name = final.rsplit("/", 1)
    return f"{parent}/.{name}.lock"


@contextmanager
def locked(where: Store, final: str) -> Iterator[None]:
    """Hold the lock of partition ``final`` (see the module doc); nothing on an object store."""
    if not where.is_local:
        yield
        return
    path = Path(partition_lock_path(final))
    path.parent.mkdir(parents=True, exist_ok=True)
    lock = DirectoryLock(path, f"the partition {final}")
    lock.acquire()
    try:
        yield
    finally:
        lock.release()


def staging(fs: pafs.FileSystem, final: str) -> str:
    """A fresh hidden sibling of ``final`` to write into (readers skip names starting with a dot);
    what an earlier, killed attempt at the same partition left behind is removed first."""
    parent, name = final.rsplit("/", 1)
    fs.create_dir(parent, recursive=True)
    for info in fs.get_file_info(pafs.FileSelector(parent)):
        if info.base_name.startswith(f".{name}.") and info.base_name.endswith((".tmp", ".old")):
            fs.delete_dir(info.path)
    staged = f"{parent}/.{name}.{uuid.uuid4().hex}.tmp"
    fs.create_dir(staged, recursive=True)
    return staged


def upload_partition(local_dir: Path, fs: pafs.FileSystem, final: str) -> None:
    """Copy a finished output directory to a remote partition, replacing it; manifest last."""
    if exists(fs, final):
        fs.delete_dir(final)
    files = sorted(p for p in local_dir.rglob("*") if p.is_file() and not p.name.startswith("."))
    for path in sorted(files, key=lambda p: p.relative_to(local_dir).as_posix() == OutputLayout.MANIFEST):
        target = f"{final}/{path.relative_to(local_dir).as_posix()}"
        fs.create_dir(target.rsplit("/", 1)[0], recursive=True)
        # compression=None: by default pyarrow gzips a stream whose name ends in .gz once more
        with fs.open_output_stream(target, compression=None) as out:
            out.write(path.read_bytes())


# --- what flows through XCom -----------------------------------------------------------------


@dataclass(frozen=True)
class StepManifest:
    """What one task wrote: where, from which config, and how many records went which way."""

    step: str
    day: str
    store: str
    path: str
    shards: tuple[str, ...]
    config_hash: str
    n_records: int
    n_in: int
    n_ok: int
    rejected: dict[str, int] = field(default_factory=dict)
    dropped: dict[str, int] = field(default_factory=dict)
    seconds: float = 0.0
    #: Per-stage counts (:meth:`StageStats.to_dict`) of this step and of every step upstream of
    #: it, in order: what ``publish`` puts in the manifest's ``stages``, as ``cleanwire run`` does.
    stages: dict[str, dict[str, Any]] = field(default_factory=dict)

    def to_xcom(self) -> dict[str, Any]:
        data = asdict(self)
        data["shards"] = list(self.shards)
        return data

    @classmethod
    def from_xcom(cls, data: Mapping[str, Any]) -> StepManifest:
        return cls(**{**data, "shards": tuple(data["shards"])})

    def summary(self) -> str:
        bad = {f"rejected {k}": v for k, v in self.rejected.items()}
        bad.update({f"dropped {k}": v for k, v in self.dropped.items()})
        detail = ", ".join(f"{k}: {v}" for k, v in sorted(bad.items())) or "none"
        return (
            f"cleanwire {self.step} dt={self.day}: {self.n_records} records, {self.n_in} entered the "
            f"stage, {self.n_ok} ok; {detail} ({self.seconds:.1f}s) -> {self.path}"
        )


def check_upstream(upstream: StepManifest, config: Config) -> None:
    if upstream.config_hash != config.hash:
        raise ConfigError(
            f"step {upstream.step!r} was written with config {upstream.config_hash}, this task uses "
            f"{config.hash}",
            hint="every task of one DAG must use the same config file",
        )


# --- WORK partitions read back as reader shards ----------------------------------------------


def work_parts(fs: pafs.FileSystem, path: str) -> list[tuple[str, str]]:
    """``(shard, file)`` of a WORK partition, in shard order."""
    try:
        infos = fs.get_file_info(pafs.FileSelector(path))
    except FileNotFoundError as exc:
        raise InputError(f"partition not found: {path}", hint="run the upstream task first") from exc
    parts = [i.path for i in infos if i.base_name.startswith(PART_PREFIX) and i.extension == "parquet"]
    return [(Path(p).stem[len(PART_PREFIX) :], p) for p in sorted(parts)]


def read_work(fs: pafs.FileSystem, path: str, batch_size: int) -> Iterator[pa.RecordBatch]:
    with fs.open_input_file(path) as fh:
        yield from pq.ParquetFile(fh).iter_batches(batch_size=batch_size)


@dataclass(frozen=True)
class WorkShard(Shard):
    """An input shard already in WORK rows (an upstream task's file), read from any filesystem."""

    location: str = ""
    store: Store = field(default_factory=lambda: Store("."))
    batch_size: int = 64

    def size(self) -> ShardSize:
        return ShardSize(records=None, nbytes=None)  # on a store: no progress total

    def docs(self, config: ReaderConfig) -> Iterator[Doc]:
        fs, _ = self.store.filesystem()
        for batch in read_work(fs, self.location, self.batch_size):
            yield from docs_from_batch(batch)


class WorkSource(Source):
    """The shards of a WORK partition, shaped as a reader :class:`Source` for the runner."""

    def __init__(self, shards: Sequence[WorkShard], config: ReaderConfig) -> None:
        self.config = config
        self.inputs = [Path(s.location) for s in shards]
        self.skipped = []
        self.page_resources = []
        self._shards = list(shards)

    def shards(self, *, leave_out: str | os.PathLike[str] | None = None) -> list[Shard]:
        return list(self._shards)


@contextmanager
def input_shards(
    upstream: StepManifest | None, inputs: Sequence[str], config: Config, store: Store
) -> Iterator[list[Shard]]:
    """The shards a task reads, for the length of the ``with``: ``inputs`` through the readers
    for the first task, else the upstream task's WORK part files (written with this same config).
    On leaving, the inputs' :class:`Source` is closed: a named pipe its plan sniffed and no reader
    took (the task failed, or found its partition in use, before reading that shard) is released
    rather than left open until the worker exits."""
    if upstream is None:
        if not inputs:
            raise ConfigError("the first task needs inputs (files, directories or globs)")
        source = Source(inputs, config.reader)
        try:
            yield source.shards()
        finally:
            source.close()
        return
    check_upstream(upstream, config)
    fs, _ = store.filesystem()
    yield [
        WorkShard(name, (Path(file),), "work", location=file, store=store, batch_size=config.run.batch_size)
        for name, file in work_parts(fs, upstream.path)
    ]
