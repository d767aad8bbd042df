"""Parquet inputs, read in batches; strings that are not UTF-8 are repaired and flagged; see
:mod:`.tabular` for what the readers share."""

from __future__ import annotations

import shutil
import tempfile
from collections.abc import Iterator, Set
from pathlib import Path
from typing import IO, Any

import pyarrow as pa
import pyarrow.parquet as pq

from pipeline.core.config import ReaderConfig
from pipeline.core.errors import CleanwireError
from pipeline.core.record import Doc
from pipeline.io.formats.compression import (
    is_named_pipe,
    open_input,
    sniff_compression,
)
from pipeline.io.formats.records import (
    Origin,
    Utf8Repaired,
    doc_from_row,
    given_id,
    guarded,
    rejected,
)
from pipeline.io.formats.tabular import (
    broken_off,
    label,
)

PARQUET_BATCH_ROWS = 256

#: How Parquet inputs are opened: a column chunk is streamed through a buffer of this size, page
#: by page (``pre_buffer`` off), instead of being read whole. Arrow's default reads each column
#: chunk of a row group whole before the first batch: a 1 GB row group held ~1.1 GB of memory for
#: a reader that hands on 256 rows at a time (~120 MB streamed, and faster).
PARQUET_READ_OPTIONS: dict[str, Any] = {"buffer_size": 1 << 20, "pre_buffer": False}


def _spooled_first(path: Path) -> bool:
    """Whether a Parquet file is read into a spool first: compressed, or a named pipe (the footer
    is at the end, and a pipe cannot seek)."""
    if is_named_pipe(path):
        return True
    with open(path, "rb") as fh:
        return sniff_compression(fh.read(4)) is not None


def _parquet_file(path: Path, config: ReaderConfig, spool: IO[bytes]) -> pq.ParquetFile:
    """Open a Parquet file; a compressed one or a named pipe is first copied (decompressed,
    bounded) into ``spool`` through :func:`open_input`, which also serves again the bytes a format
    sniff read from a pipe, and closes the pipe the sniff kept open."""
    if not _spooled_first(path):
        return pq.ParquetFile(path, **PARQUET_READ_OPTIONS)
    with open_input(path, config.max_decompressed_bytes) as src:
        shutil.copyfileobj(src, spool, 1 << 20)
    spool.seek(0)
    return pq.ParquetFile(spool, **PARQUET_READ_OPTIONS)


def parquet_columns(path: Path, config: ReaderConfig) -> list[str]:
    """The column names of a Parquet file (footer only; [] when unreadable, compressed or a named
    pipe: a pipe is read once, whole, by :func:`read_parquet`)."""
    try:
        if is_named_pipe(path):
            return []
        return [str(name) for name in pq.read_schema(path).names]
    except Exception:  # noqa: BLE001 - unreadable here: the reader rejects what it cannot read
        return []


def read_parquet(path: Path, config: ReaderConfig, name: str | None = None) -> Iterator[Doc]:
    """Rows of a Parquet file, streamed in batches (any row-group size); only mapped columns. A
    string value that is not valid UTF-8 (a writer that does not check) is repaired, not fatal:
    see :class:`~pipeline.io.formats.records.Utf8Repaired`; a value Python cannot hold (a
    timestamp out of range) rejects its row as ``bad_value``."""
    name = name or label(path)
    row = 0
    try:
        with tempfile.TemporaryFile() as spool:
            pf = _parquet_file(path, config, spool)
            wanted = {config.text_field, config.html_field, config.url_field, config.id_field}
            wanted |= set(config.keep_fields)
            # a date Python cannot hold (a timestamp out of its range) is no date, not a bad row
            lenient = {config.date_field} - wanted if config.date_field else set()
            wanted |= lenient
            columns = [c for c in pf.schema_arrow.names if c in wanted]
            for batch in pf.iter_batches(batch_size=PARQUET_BATCH_ROWS, columns=columns):
                for values in _batch_rows(batch, lenient):
                    origin = Origin(name, row)
                    if isinstance(values, _BadValue):
                        yield rejected(origin, "bad_value", str(values), id=values.row_id(config))
                    else:
                        yield guarded(origin, _parquet_row, values, origin, config)
                    row += 1
    except CleanwireError:
        raise
    except Exception as exc:  # noqa: BLE001 - I/O, a damaged file, or a surprise: the rest is one reject
        yield broken_off(name, row, exc)


class _BadValue:
    """A row holding a value that cannot be read (named in ``str()``), with the values that can."""

    def __init__(self, column: str, exc: BaseException, values: dict[str, Any]) -> None:
        self.column, self.exc, self.values = column, exc, values

    def row_id(self, config: ReaderConfig) -> str | None:
        return None if config.id_field == self.column else given_id(self.values, config)

    def __str__(self) -> str:
        return f"column {self.column!r}: {type(self.exc).__name__}: {str(self.exc)[:300]}"


def _batch_rows(batch: pa.RecordBatch, lenient: Set[str] = frozenset()) -> list[dict[str, Any] | _BadValue]:
    """The rows of a batch as dicts: Arrow's own conversion, or, when it fails on some value
    (invalid UTF-8, a date out of Python's range), value by value. A value of a ``lenient``
    column that cannot be read is :data:`UNREADABLE` instead of making the row a bad value."""
    try:
        return list(batch.to_pylist())
    except Exception:  # noqa: BLE001 - the slow path finds the value and keeps the rest
        return [_row_by_value(batch, i, lenient) for i in range(batch.num_rows)]


#: What a value of a lenient column that Python cannot hold is read as (no date: it is flagged).
UNREADABLE = object()


_AS_BYTES = {
    pa.string(): pa.binary(),
    pa.large_string(): pa.large_binary(),
    pa.string_view(): pa.binary_view(),
}


def _row_by_value(
    batch: pa.RecordBatch, i: int, lenient: Set[str] = frozenset()
) -> dict[str, Any] | _BadValue:
    row: dict[str, Any] = {}
    for column_name, column in zip(batch.schema.names, batch.columns, strict=True):
        try:
            row[column_name] = _value(column, i)
        except Exception as exc:  # noqa: BLE001 - named in the reject
            if column_name in lenient:
                row[column_name] = UNREADABLE
                continue
            return _BadValue(column_name, exc, row)
    return row


def _value(column: pa.Array, i: int) -> Any:
    """One value of a column; a string that is not UTF-8 as :class:`Utf8Repaired` bytes."""
    if pa.types.is_dictionary(column.type):
        index = column.indices[i].as_py()
        return None if index is None else _value(column.dictionary, index)
    as_bytes = _AS_BYTES.get(column.type)
    if as_bytes is None:
        return column[i].as_py()
    data = column.view(as_bytes)[i].as_py()
    if data is None:
        return None
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError:
        return Utf8Repaired(data)


def _utf8_size(value: str | bytes) -> int:
    """A value's size in bytes as the file holds it: a string's UTF-8 (a CJK page is up to three
    times its characters), bytes as they are."""
    if isinstance(value, bytes) or value.isascii():
        return len(value)
    return len(value.encode("utf-8", "surrogatepass"))


def _parquet_row(values: dict[str, Any], origin: Origin, config: ReaderConfig) -> Doc:
    # in bytes, as a document file, a WARC payload and a JSONL line are measured: the same page is
    # not kept from a string column and rejected ``too_large`` from the others (or a binary column)
    held = [v for v in values.values() if isinstance(v, str | bytes)]
    # a character is at most 4 bytes: a row far under the cap (nearly all) is not encoded to know
    if (
        4 * sum(map(len, held)) > config.max_record_bytes
        and sum(map(_utf8_size, held)) > config.max_record_bytes
    ):
        return rejected(
            origin,
            "too_large",
            f"> reader.max_record_bytes={config.max_record_bytes}",
            id=given_id(values, config),
        )
    return doc_from_row(values, origin, config)
