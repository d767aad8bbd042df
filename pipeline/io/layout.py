"""The layout of the Parquet output: part files of bounded size, row groups by bytes, and
optional hive-style partitions that DuckDB, pandas/pyarrow, Polars and Spark read directly.

One shard writes ``part-<shard>.parquet``, then ``part-<shard>_0001.parquet``, ... once a file
reaches ``output.part_bytes`` on disk (names sort in write order). Rows are buffered up to
``run.row_group_bytes`` (Arrow in-memory bytes, across all partitions of the shard) and each
flush is one row group. With ``output.partition_by`` the files go under ``lang=<code>/``,
``day=<YYYY-MM-DD>/`` (key ``date``) or ``month=<YYYY-MM>/``; a record without a date goes to
``__HIVE_DEFAULT_PARTITION__``, which the tools above read as NULL. As Spark, DuckDB and pyarrow
write them, files under ``lang=xx/`` leave out the ``lang`` column: the directory holds it, and
every reader with hive partitioning puts it back (a file holding it too makes pandas fail to
merge the two types). ``day``/``month`` are derived from ``date``, which stays in the files.

Every file is written under a hidden temporary name and renamed into place when the shard
commits, so readers never see a half-written part file.

:class:`OutputLayout` is the one place that names the files of an output directory (the part
files, ``rejects.parquet``, ``dropped.parquet``, ``manifest.json``, the resume state under
``_state/``) and lists them: the sinks, ``cleanwire stats``/``report`` and the Airflow adapters ask it.
"""

from __future__ import annotations

import fnmatch
import os
import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import ClassVar, Protocol

import pyarrow as pa
import pyarrow.parquet as pq

from pipeline.core.config import Config
from pipeline.core.fsutil import fsync_path
from pipeline.core.schema import OUTPUT_SCHEMA

NULL_PARTITION = "__HIVE_DEFAULT_PARTITION__"
#: Columns with min/max statistics (for filter pushdown). Long texts would only bloat the footer.
STATISTICS_COLUMNS = (
    "id",
    "url",
    "source",
    "date",
    "sitename",
    "lang",
    "lang_prob",
    "n_chars_raw",
    "n_chars_text",
    "content_hash",
    "encoding",
)
_SAFE = re.compile(r"[^A-Za-z0-9._-]")
_DAY = re.compile(r"^\d{4}-\d{2}-\d{2}")
_MONTH = re.compile(r"^\d{4}-\d{2}")


class KeptOutput(Protocol):
    """Where a shard's kept rows go: Parquet part files, or JSON lines on stdout."""

    def add(self, batch: pa.RecordBatch) -> None:
        """Take kept rows (:data:`~pipeline.core.schema.OUTPUT_SCHEMA`), in order."""
        ...

    def commit(self) -> list[str]:
        """Make the rows final; return the files written, relative to the output directory."""
        ...

    def abort(self) -> None: ...


def part_name(shard: str, seq: int) -> str:
    """``part-00003.parquet``, then ``part-00003_0001.parquet``... (sorted = written order)."""
    return f"part-{shard}.parquet" if seq == 0 else f"part-{shard}_{seq:04d}.parquet"


def temp_name(final: Path) -> Path:
    """The hidden name a file is written under before it is renamed to ``final``."""
    return final.with_name(f".{final.name}.tmp")


@dataclass(frozen=True)
class OutputLayout:
    """The files of one output directory ``root``: what each is called, and which exist.

    Names are paths relative to ``root`` (POSIX), so that they also name the files of an output
    on an object store (the Airflow adapters).
    """

    root: Path

    MANIFEST: ClassVar[str] = "manifest.json"
    REJECTS: ClassVar[str] = "rejects.parquet"
    DROPPED: ClassVar[str] = "dropped.parquet"
    #: Where the resume state lives: a marker per finished shard, and its rejects/dropped records.
    STATE_DIR: ClassVar[str] = "_state"
    PART_GLOB: ClassVar[str] = "part-*.parquet"
    #: The temporary names (:func:`temp_name`, :func:`pipeline.core.fsutil.atomic_path`).
    TEMP_GLOB: ClassVar[str] = ".*.tmp"
    #: ``rejects``/``dropped``: the records that left the stream, by kind, and their final file.
    LEFT: ClassVar[dict[str, str]] = {"rejects": REJECTS, "dropped": DROPPED}

    @classmethod
    def describe(cls, *, parts: bool = True) -> str:
        """The files of a finished run, for a message: ``manifest.json, part-*.parquet, ...``."""
        names = [cls.MANIFEST, cls.PART_GLOB] if parts else [cls.MANIFEST]
        return ", ".join([*names, cls.REJECTS, cls.DROPPED])

    @property
    def manifest(self) -> Path:
        return self.root / self.MANIFEST

    def left(self, kind: str) -> Path:
        """The final file of the ``rejects`` or ``dropped`` records."""
        return self.root / self.LEFT[kind]

    @property
    def state_dir(self) -> Path:
        return self.root / self.STATE_DIR

    def marker(self, shard: str) -> Path:
        """The completion marker of a finished shard."""
        return self.state_dir / f"{shard}.done.json"

    def markers(self) -> list[Path]:
        return sorted(self.state_dir.glob("*.done.json"))

    def shard_left(self, shard: str, kind: str) -> Path:
        """The ``rejects`` or ``dropped`` records of one shard, until :meth:`left` gathers them."""
        return self.state_dir / f"{shard}.{kind}.parquet"

    def shard_lefts(self, kind: str) -> list[Path]:
        """Every shard's file of ``kind`` (a run still going has not gathered them yet)."""
        return sorted(self.state_dir.glob(f"*.{kind}.parquet"))

    def part_files(self) -> list[Path]:
        """Every finished part file, partition directories included, sorted; nothing under a
        directory whose name starts with ``_`` (the state) or ``.``."""
        return sorted(
            path
            for path in self.root.rglob(self.PART_GLOB)
            if not any(p.startswith(("_", ".")) for p in path.relative_to(self.root).parts)
        )

    def temp_files(self) -> Iterator[Path]:
        """Files a killed run left under temporary names, in partition directories too."""
        return self.root.rglob(self.TEMP_GLOB)

    def is_output_file(self, relative: Path) -> bool:
        """Whether a path inside the directory (relative to it) is one a run writes or replaces."""
        name = relative.name
        return (
            relative.parts[0] == self.STATE_DIR
            or name in (self.MANIFEST, self.REJECTS, self.DROPPED)
            or fnmatch.fnmatchcase(name, self.PART_GLOB)
        )


def escape_value(value: str | None) -> str:
    """A partition value as a path segment: Hive's %XX escaping; null/empty is the Hive default."""
    if not value:
        return NULL_PARTITION
    return _SAFE.sub(lambda m: "".join(f"%{b:02X}" for b in m.group().encode("utf-8")), value)


def _prefix(pattern: re.Pattern[str], n: int) -> Callable[[str | None], str | None]:
    def get(value: str | None) -> str | None:
        return value[:n] if value and pattern.match(value) else None

    return get


@dataclass(frozen=True)
class PartitionKey:
    """How a ``--partition-by`` key names its directories: ``<dir_key>=<value of column>``."""

    dir_key: str
    column: str
    value: Callable[[str | None], str | None]


PARTITION_KEYS: dict[str, PartitionKey] = {
    "lang": PartitionKey("lang", "lang", lambda v: v),
    "date": PartitionKey("day", "date", _prefix(_DAY, 10)),
    "month": PartitionKey("month", "date", _prefix(_MONTH, 7)),
}


def partition_dirs(batch: pa.RecordBatch, keys: tuple[str, ...]) -> list[str]:
    """The relative directory of every row (``""`` without partitioning)."""
    if not keys:
        return [""] * batch.num_rows
    columns = []
    for name in keys:
        key = PARTITION_KEYS[name]
        values = batch.column(key.column).to_pylist()
        columns.append([f"{key.dir_key}={escape_value(key.value(v))}" for v in values])
    return ["/".join(parts) for parts in zip(*columns, strict=True)]


@dataclass
class _Partition:
    """The rolling part files of one shard in one partition directory."""

    directory: Path
    pending: list[pa.RecordBatch] = field(default_factory=list)
    pending_bytes: int = 0
    writer: pq.ParquetWriter | None = None
    seq: int = 0
    files: list[tuple[Path, Path]] = field(default_factory=list)  # (tmp, final), in order


class PartFiles:
    """The kept rows of one shard, written as bounded Parquet part files (see module doc)."""

    def __init__(self, out_dir: Path, shard: str, config: Config, metadata: dict[bytes, bytes]) -> None:
        self.out_dir = out_dir
        self.shard = shard
        self.keys = config.output.partition_by
        self.part_bytes = config.output.part_bytes
        self.row_group_bytes = config.run.row_group_bytes
        self.compression = config.run.compression
        in_dirs = {PARTITION_KEYS[k].dir_key for k in self.keys}
        self.columns = [name for name in OUTPUT_SCHEMA.names if name not in in_dirs]
        self.schema = pa.schema([OUTPUT_SCHEMA.field(n) for n in self.columns], metadata=metadata)
        self.partitions: dict[str, _Partition] = {}
        self.pending_bytes = 0

    def add(self, batch: pa.RecordBatch) -> None:
        """Buffer kept rows (:data:`OUTPUT_SCHEMA`); flush row groups when the buffer is full."""
        dirs = partition_dirs(batch, self.keys)
        groups: dict[str, list[int]] = {}
        for i, d in enumerate(dirs):
            groups.setdefault(d, []).append(i)
        for d, rows in groups.items():
            part = self.partitions.get(d)
            if part is None:
                part = self.partitions[d] = _Partition(self.out_dir / d if d else self.out_dir)
            chunk = batch if len(rows) == batch.num_rows else batch.take(pa.array(rows, pa.int64()))
            for piece in self._slices(chunk):
                part.pending.append(piece)
                part.pending_bytes += piece.nbytes
                self.pending_bytes += piece.nbytes
                while self.pending_bytes >= self.row_group_bytes:
                    self._flush(max(self.partitions.values(), key=lambda p: p.pending_bytes))

    def _slices(self, chunk: pa.RecordBatch) -> list[pa.RecordBatch]:
        """``chunk`` cut into pieces of about a row group each (a big batch is not one group)."""
        if chunk.nbytes <= self.row_group_bytes or chunk.num_rows <= 1:
            return [chunk]
        step = max(1, chunk.num_rows * self.row_group_bytes // chunk.nbytes)
        return [chunk.slice(i, step) for i in range(0, chunk.num_rows, step)]

    def _writer(self, tmp: Path) -> pq.ParquetWriter:
        stats = [c for c in STATISTICS_COLUMNS if c in self.columns]
        return pq.ParquetWriter(tmp, self.schema, compression=self.compression, write_statistics=stats)

    def _flush(self, part: _Partition) -> None:
        if not part.pending:
            return
        if part.writer is None:
            part.directory.mkdir(parents=True, exist_ok=True)
            final = part.directory / part_name(self.shard, part.seq)
            tmp = temp_name(final)
            part.writer = self._writer(tmp)
            part.files.append((tmp, final))
        table = pa.Table.from_batches(part.pending, schema=OUTPUT_SCHEMA).select(self.columns)
        part.writer.write_table(table, row_group_size=max(table.num_rows, 1))
        self.pending_bytes -= part.pending_bytes
        part.pending, part.pending_bytes = [], 0
        if part.files[-1][0].stat().st_size >= self.part_bytes:
            part.writer.close()
            part.writer, part.seq = None, part.seq + 1

    def commit(self) -> list[str]:
        """Close, fsync and rename every file into place; return their paths relative to the
        output directory (an unpartitioned shard always has at least its first, maybe empty, file)."""
        if not self.keys and "" not in self.partitions:
            self.partitions[""] = _Partition(self.out_dir)
        for part in self.partitions.values():
            self._flush(part)
            if part.writer is None and not part.files:  # an empty shard: schema-only file
                final = part.directory / part_name(self.shard, 0)
                tmp = temp_name(final)
                part.writer = self._writer(tmp)
                part.files.append((tmp, final))
            if part.writer is not None:
                part.writer.close()
                part.writer = None
        written: list[str] = []
        for part in self.partitions.values():
            for tmp, final in part.files:
                fsync_path(tmp)
                os.replace(tmp, final)
                written.append(final.relative_to(self.out_dir).as_posix())
            fsync_path(part.directory)
        return sorted(written)

    def abort(self) -> None:
        for part in self.partitions.values():
            if part.writer is not None:
                part.writer.close()
                part.writer = None
            for tmp, _ in part.files:
                tmp.unlink(missing_ok=True)
