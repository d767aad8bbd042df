"""The layout of an output directory: what every file of a run is called and where it goes.

:class:`OutputLayout` is the one place that names the files of an output directory and lists
them: the part files (kept records), ``rejects.parquet``, ``dropped.parquet``, ``manifest.json``
(written last) and the resume state under ``_state/``. The sinks, ``cleanwire stats`` and
``report`` and the Airflow adapters ask it.

One shard writes ``part-<shard>.parquet``, then ``part-<shard>_0001.parquet``, ... (names sort in
write order; see :mod:`pipeline.io.sinks.part_files` for when a new file starts). With
``output.partition_by`` the files go under hive-style directories that DuckDB, pandas/pyarrow,
Polars and Spark read directly: ``lang=<code>/``, ``day=<YYYY-MM-DD>/`` (key ``date``) or
``month=<YYYY-MM>/``; a record without a date goes to ``__HIVE_DEFAULT_PARTITION__``, which those
tools read as NULL. Every file is written under a hidden temporary name (:func:`temp_name`) and
renamed into place, so readers never see a half-written file under a final name.
"""

from __future__ import annotations

import fnmatch
import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import ClassVar

import pyarrow as pa

NULL_PARTITION = "__HIVE_DEFAULT_PARTITION__"
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
