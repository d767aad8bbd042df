"""The kept records of one shard as Parquet part files of bounded size, row groups by bytes,
in optional hive partitions (the names: :mod:`pipeline.io.layout`).

A shard writes ``part-<shard>.parquet``, then ``part-<shard>_0001.parquet``, ... once a file
reaches ``output.part_bytes`` on disk. Rows are buffered up to ``run.row_group_bytes`` (Arrow
in-memory bytes, across all partitions of the shard) and each flush is one row group. As Spark,
DuckDB and pyarrow write them, files under ``lang=xx/`` leave out the ``lang`` column: the
directory holds it, and every reader with hive partitioning puts it back (a file holding it too
makes pandas fail to merge the two types). ``day``/``month`` are derived from ``date``, which
stays in the files.

A shard keeps at most :func:`open_file_limit` part files open at once: one spanning more
partitions (``lang,date`` over a crawl whose pages are dated across years) closes the file it
wrote least recently to open another, and that partition continues in its next file
(``part-<shard>_0001.parquet``), where it would otherwise stop at the process's limit on open
files (``Too many open files``, the run lost).

Every file is written under a hidden temporary name and renamed into place when the shard
commits, so readers never see a half-written part file. :meth:`PartFiles.abort` removes them all,
the temporary files and those a failed commit had already renamed, even when closing a file fails
(a full disk); partition directories are made below the output directory, never the output
directory itself (a run whose directory was removed does not make it again).
"""

from __future__ import annotations

import contextlib
import os
import sys
from dataclasses import dataclass, field
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq

from pipeline.core.config import Config
from pipeline.core.fsutil import fsync_path
from pipeline.core.schema import OUTPUT_SCHEMA
from pipeline.io.layout import PARTITION_KEYS, empty_output_dir, part_name, partition_dirs, temp_name

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


def open_file_limit() -> int:
    """How many part files a shard keeps open at once: half the process's (soft) limit on open
    files, the other half left to everything else a run holds open (inputs, worker pipes)."""
    if sys.platform == "win32":
        return 256
    import resource

    soft, _ = resource.getrlimit(resource.RLIMIT_NOFILE)
    if soft == resource.RLIM_INFINITY:
        return 4096
    return max(8, soft // 2)


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
        #: Files :meth:`commit` renamed into place (removed again if the shard is aborted).
        self.committed: list[Path] = []
        self.max_open = open_file_limit()
        #: The partitions with an open file, the least recently written first.
        self.open: dict[str, _Partition] = {}

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
        key = part.directory.as_posix()
        if part.writer is None:
            while len(self.open) >= self.max_open:
                self._close(next(iter(self.open.values())))
            self._make_dir(part.directory)
            final = part.directory / part_name(self.shard, part.seq)
            tmp = temp_name(final)
            part.writer = self._writer(tmp)
            part.files.append((tmp, final))
        self.open.pop(key, None)
        self.open[key] = part  # the most recently written
        table = pa.Table.from_batches(part.pending, schema=OUTPUT_SCHEMA).select(self.columns)
        part.writer.write_table(table, row_group_size=max(table.num_rows, 1))
        self.pending_bytes -= part.pending_bytes
        part.pending, part.pending_bytes = [], 0
        if part.files[-1][0].stat().st_size >= self.part_bytes:
            self._close(part)

    def _close(self, part: _Partition) -> None:
        """Close the open file of ``part``; its next rows go to its next file."""
        self.open.pop(part.directory.as_posix(), None)
        if part.writer is not None:
            part.writer.close()
            part.writer, part.seq = None, part.seq + 1

    def _make_dir(self, directory: Path) -> None:
        """A partition directory, made below the output directory, which must exist."""
        here = self.out_dir
        for name in directory.relative_to(self.out_dir).parts:
            here = here / name
            here.mkdir(exist_ok=True)

    def commit(self) -> list[str]:
        """Close, fsync and rename every file into place; return their paths relative to the
        output directory (an unpartitioned shard always has at least its first, maybe empty, file)."""
        if not self.keys and "" not in self.partitions:
            self.partitions[""] = _Partition(self.out_dir)
        for part in self.partitions.values():
            self._flush(part)
            if part.writer is None and not part.files:  # an empty shard: schema-only file
                self._make_dir(part.directory)
                final = part.directory / part_name(self.shard, 0)
                tmp = temp_name(final)
                part.writer = self._writer(tmp)
                part.files.append((tmp, final))
            if part.writer is not None:
                self._close(part)
        written: list[str] = []
        for part in self.partitions.values():
            for tmp, final in part.files:
                fsync_path(tmp)
                os.replace(tmp, final)
                self.committed.append(final)
                written.append(final.relative_to(self.out_dir).as_posix())
            fsync_path(part.directory)
        return sorted(written)

    def commit_empty(self) -> list[str]:
        """Commit one schema-only file in :func:`~pipeline.io.layout.empty_output_dir`: for an
        output that would otherwise hold no part file (no input shard; or partitioned, and no
        record kept), which DuckDB's and Polars' globs refuse and pandas reads without columns."""
        directory = empty_output_dir(self.keys)
        if directory not in self.partitions:
            self.partitions[directory] = _Partition(self.out_dir / directory if directory else self.out_dir)
        return self.commit()

    def abort(self) -> None:
        """Remove every file of the shard; never raises (an error is already on its way)."""
        for part in self.partitions.values():
            if part.writer is not None:
                with contextlib.suppress(Exception):  # closing writes the footer: a full disk fails
                    part.writer.close()
                part.writer = None
            for tmp, _ in part.files:
                with contextlib.suppress(OSError):
                    tmp.unlink(missing_ok=True)
        for final in self.committed:
            with contextlib.suppress(OSError):
                final.unlink(missing_ok=True)
        self.committed = []
