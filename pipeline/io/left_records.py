"""The rejected and dropped records of a run on disk: gzip-compressed JSON lines.

One JSON object per record, with the columns of :data:`~pipeline.core.schema.REJECT_SCHEMA`
(``id, source, stage, reason, detail, raw_prefix``; ``detail`` and ``raw_prefix`` may be null),
in the order the records were read. Not Parquet on purpose: an output directory's only Parquet
files are its kept records (see :mod:`pipeline.io.layout`), so that ``'out/**/*.parquet'`` counts
exactly those. Every tool reads these files::

    pandas.read_json("out/_cleanwire/rejects.jsonl.gz", lines=True, dtype=False)
    duckdb.sql("FROM 'out/_cleanwire/rejects.jsonl.gz'")
    polars.read_ndjson("out/_cleanwire/rejects.jsonl.gz")
    zcat out/_cleanwire/rejects.jsonl.gz | head

(``dtype=False`` keeps pandas from reading ids such as ``"0042"`` as numbers.) The files are
written byte-for-byte reproducibly (no name or time in the gzip header), so a resumed run's
files equal an uninterrupted run's.
"""

from __future__ import annotations

import gzip
import json
from collections.abc import Iterable, Iterator, Sequence
from pathlib import Path
from typing import IO

import pyarrow as pa

from pipeline.core.fsutil import atomic_path
from pipeline.core.schema import REJECT_SCHEMA

#: Rows per batch read back.
BATCH_ROWS = 65_536
_LEVEL = 6


def _gzip_writer(fh: IO[bytes]) -> gzip.GzipFile:
    return gzip.GzipFile(fileobj=fh, mode="wb", filename="", mtime=0, compresslevel=_LEVEL)


def _lines(table: pa.Table) -> Iterator[bytes]:
    for batch in table.cast(REJECT_SCHEMA).to_batches(max_chunksize=4096):
        for row in batch.to_pylist():
            yield (json.dumps(row, ensure_ascii=False, separators=(",", ":")) + "\n").encode("utf-8")


def write_left(path: Path, tables: Iterable[pa.Table]) -> int:
    """Write the rows of ``tables`` (:data:`REJECT_SCHEMA`) to ``path`` atomically; return how many."""
    with atomic_path(path) as tmp, open(tmp, "wb") as fh:
        return write_left_stream(fh, tables)


def write_left_stream(stream: IO[bytes], tables: Iterable[pa.Table]) -> int:
    """Write the rows of ``tables`` as one gzip stream of JSON lines into a binary ``stream`` (an
    object store's output stream, say); return how many."""
    n = 0
    with _gzip_writer(stream) as gz:
        for table in tables:
            for line in _lines(table):
                gz.write(line)
                n += 1
    return n


def gather_left(sources: Sequence[Path], path: Path) -> int:
    """Concatenate the records of ``sources`` (files :func:`write_left` wrote; missing ones are
    skipped) into ``path``, atomically, as one gzip stream; return how many records."""
    n = 0
    with atomic_path(path) as tmp, open(tmp, "wb") as fh, _gzip_writer(fh) as gz:
        for source in sources:
            if not source.exists():
                continue
            with gzip.open(source, "rb") as src:
                for line in src:
                    gz.write(line)
                    n += 1
    return n


def iter_left(stream: IO[bytes] | Path, batch_rows: int = BATCH_ROWS) -> Iterator[pa.RecordBatch]:
    """Batches (:data:`REJECT_SCHEMA`) of the records of a file :func:`write_left` wrote, or of a
    binary stream of one (an object store's file); streamed, ``batch_rows`` at a time."""
    rows: list[dict[str, str | None]] = []
    with gzip.open(stream, "rb") as src:
        for n, line in enumerate(src, 1):
            if not line.strip():
                continue
            try:
                rows.append(json.loads(line))
            except ValueError as exc:  # the line's number, not the column inside it
                raise ValueError(f"line {n} is not JSON ({exc})") from exc
            if len(rows) >= batch_rows:
                yield pa.RecordBatch.from_pylist(rows, schema=REJECT_SCHEMA)
                rows = []
    if rows:
        yield pa.RecordBatch.from_pylist(rows, schema=REJECT_SCHEMA)


def read_left(stream: IO[bytes] | Path) -> pa.Table:
    """The whole file as one table (:data:`REJECT_SCHEMA`)."""
    return pa.Table.from_batches(list(iter_left(stream)), schema=REJECT_SCHEMA)
