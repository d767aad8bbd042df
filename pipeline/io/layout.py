"""The layout of an output directory: what every file of a run is called and where it goes.

:class:`OutputLayout` is the one place that names the files of an output directory and lists
them. The only Parquet files under the directory are the kept records, so that every common
reader of the directory (``pandas.read_parquet("out/")``, ``pyarrow.dataset.dataset("out/")``,
DuckDB's ``'out/**/*.parquet'``, Polars, ``spark.read.parquet("out")``) gets exactly the kept
rows. Everything else a run writes sits in one folder, ``_cleanwire/``, which pyarrow, pandas and
Spark skip (a leading ``_``) and which holds no ``*.parquet`` file for a glob to match::

    out/part-<shard>.parquet               the kept records (maybe under lang=xx/ ... directories)
    out/_cleanwire/manifest.json           written last
    out/_cleanwire/rejects.jsonl.gz        records that failed, one JSON object per line
    out/_cleanwire/dropped.jsonl.gz        records filtered on purpose, the same columns
    out/_cleanwire/state/                  the resume state: a marker per finished shard, and its
                                           rejects/dropped records until the run gathers them
    out/_cleanwire/lock                    while a run goes on: who holds the directory
                                           (:mod:`pipeline.io.sinks.lock`)

Rejects and dropped records are gzip-compressed JSON lines (:mod:`pipeline.io.left_records`):
every tool reads them (``pandas.read_json(path, lines=True, dtype=False)``, DuckDB, Polars,
Spark, ``zcat``), and no ``*.parquet`` glob picks them up with the kept records.

Directories written by an older cleanwire held ``manifest.json``, ``rejects.parquet``,
``dropped.parquet`` and ``_state/`` beside the part files (:meth:`OutputLayout.legacy_files`); a
run refuses to resume into one (``--overwrite`` rewrites it).

One shard writes ``part-<shard>.parquet``, then ``part-<shard>_0001.parquet``, ... (names sort in
write order; see :mod:`pipeline.io.sinks.part_files` for when a new file starts). With
``output.partition_by`` the files go under hive-style directories that DuckDB, pandas/pyarrow,
Polars and Spark read directly: ``lang=<code>/``, ``day=<YYYY-MM-DD>/`` (key ``date``) or
``month=<YYYY-MM>/``; a record without a date goes to ``day=undated/`` (``month=undated/``). Not
Hive's ``__HIVE_DEFAULT_PARTITION__`` (NULL to those tools): pandas cannot read a directory
where that sits beside real values ("Cannot yet unify dictionaries with nulls"). Every file is written under a hidden temporary name (:func:`temp_name`) and
renamed into place, so readers never see a half-written file under a final name.
"""

from __future__ import annotations

import fnmatch
import os
import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import ClassVar

import pyarrow as pa

#: The directory value of a record without one (no parseable date): see the module doc.
MISSING_PARTITION = "undated"
_SAFE = re.compile(r"[^A-Za-z0-9._-]")
_DAY = re.compile(r"^\d{4}-\d{2}-\d{2}")
_MONTH = re.compile(r"^\d{4}-\d{2}")


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

    #: The folder of everything that is not a kept record (see the module doc).
    META_DIR: ClassVar[str] = "_cleanwire"
    MANIFEST: ClassVar[str] = f"{META_DIR}/manifest.json"
    #: The suffix of the rejected and dropped records' files (:mod:`pipeline.io.left_records`).
    LEFT_SUFFIX: ClassVar[str] = ".jsonl.gz"
    REJECTS: ClassVar[str] = f"{META_DIR}/rejects{LEFT_SUFFIX}"
    DROPPED: ClassVar[str] = f"{META_DIR}/dropped{LEFT_SUFFIX}"
    #: Where the resume state lives: a marker per finished shard, and its rejects/dropped records.
    STATE_DIR: ClassVar[str] = f"{META_DIR}/state"
    #: The lock of a run writing the directory (:mod:`pipeline.io.sinks.lock`); removed at its end.
    LOCK: ClassVar[str] = f"{META_DIR}/lock"
    PART_GLOB: ClassVar[str] = "part-*.parquet"
    #: The temporary names (:func:`temp_name`, :func:`pipeline.core.fsutil.atomic_path`).
    TEMP_GLOB: ClassVar[str] = ".*.tmp"
    MARKER_SUFFIX: ClassVar[str] = ".done.json"
    #: ``rejects``/``dropped``: the records that left the stream, by kind, and their final file.
    LEFT: ClassVar[dict[str, str]] = {"rejects": REJECTS, "dropped": DROPPED}
    #: What an older cleanwire wrote beside the part files (see :meth:`legacy_files`).
    LEGACY: ClassVar[tuple[str, ...]] = ("manifest.json", "rejects.parquet", "dropped.parquet", "_state")

    @classmethod
    def describe(cls, *, parts: bool = True) -> str:
        """The files of a finished run, for a message:
        ``part-*.parquet; _cleanwire/: rejects.jsonl.gz, dropped.jsonl.gz, manifest.json``."""
        side = ", ".join(name.split("/", 1)[1] for name in (cls.REJECTS, cls.DROPPED, cls.MANIFEST))
        return f"{cls.PART_GLOB}; {cls.META_DIR}/: {side}" if parts else f"{cls.META_DIR}/: {side}"

    @property
    def meta_dir(self) -> Path:
        return self.root / self.META_DIR

    @property
    def manifest(self) -> Path:
        return self.root / self.MANIFEST

    def left(self, kind: str) -> Path:
        """The final file of the ``rejects`` or ``dropped`` records."""
        return self.root / self.LEFT[kind]

    @property
    def state_dir(self) -> Path:
        return self.root / self.STATE_DIR

    @property
    def lock(self) -> Path:
        return self.root / self.LOCK

    def marker(self, shard: str) -> Path:
        """The completion marker of a finished shard."""
        return self.state_dir / f"{shard}{self.MARKER_SUFFIX}"

    def markers(self) -> list[Path]:
        return sorted(self.state_dir.glob(f"*{self.MARKER_SUFFIX}"))

    def shard_of(self, marker: Path) -> str:
        """The shard a completion marker (:meth:`marker`) is of."""
        return marker.name.removesuffix(self.MARKER_SUFFIX)

    def shard_left(self, shard: str, kind: str) -> Path:
        """The ``rejects`` or ``dropped`` records of one shard, until :meth:`left` gathers them."""
        return self.state_dir / f"{shard}.{kind}{self.LEFT_SUFFIX}"

    def shard_lefts(self, kind: str) -> list[Path]:
        """Every shard's file of ``kind`` (a run still going has not gathered them yet)."""
        return sorted(self.state_dir.glob(f"*.{kind}{self.LEFT_SUFFIX}"))

    def part_files(self) -> list[Path]:
        """Every finished part file, partition directories included, sorted; nothing under a
        directory whose name starts with ``_`` (``_cleanwire/``) or ``.``."""
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
        return relative.parts[0] in (self.META_DIR, *self.LEGACY) or fnmatch.fnmatchcase(
            relative.name, self.PART_GLOB
        )

    def foreign_parquet(self) -> list[Path]:
        """Parquet files under the directory that no run writes (not :meth:`is_output_file`),
        sorted, leaving out what Parquet readers skip (names starting with ``_`` or ``.``, and
        everything under such a directory): files every reader of the output would take for
        kept records (``read_parquet('out/**/*.parquet')`` without a word)."""
        found = []
        for dirpath, dirnames, filenames in os.walk(self.root):
            dirnames[:] = [d for d in dirnames if not d.startswith(("_", "."))]
            here = Path(dirpath)
            for name in filenames:
                if name.startswith(("_", ".")) or not name.lower().endswith((".parquet", ".parq")):
                    continue
                path = here / name
                if not self.is_output_file(path.relative_to(self.root)):
                    found.append(path)
        return sorted(found)

    def legacy_files(self) -> list[Path]:
        """What an older cleanwire left beside the part files: ``manifest.json`` (one of
        cleanwire's), ``rejects.parquet``, ``dropped.parquet``, ``_state/``. Empty for a
        directory in the current layout (or one that never held a run)."""
        found = []
        for name in self.LEGACY:
            path = self.root / name
            if name == "manifest.json":
                if path.is_file() and b'"cleanwire_manifest"' in path.read_bytes():
                    found.append(path)
            elif path.exists():
                found.append(path)
        return found


def escape_value(value: str | None) -> str:
    """A partition value as a path segment: Hive's %XX escaping; null/empty is :data:`MISSING_PARTITION`."""
    if not value:
        return MISSING_PARTITION
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


def empty_output_dir(keys: tuple[str, ...]) -> str:
    """Where an output that kept no record at all has its schema-only part file, so that every
    reader still gets the columns (and the partition columns) of the schema: the directory of a
    record of undetermined language (``und``) and no date; ``""`` without partitioning."""
    nobody = pa.RecordBatch.from_pydict(
        {"lang": pa.array(["und"], pa.string()), "date": pa.array([None], pa.string())}
    )
    return partition_dirs(nobody, keys)[0]


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
