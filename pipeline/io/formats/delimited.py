"""CSV and TSV inputs: charset and dialect sniffed (``,`` ``;`` tab ``|``, quoting, BOM), rows streamed;
see :mod:`.tabular` for what the readers share."""

from __future__ import annotations

import codecs
import csv
import io
from collections.abc import Iterator
from itertools import islice
from pathlib import Path

from pipeline.core.config import ReaderConfig
from pipeline.core.errors import CleanwireError
from pipeline.core.record import Doc
from pipeline.io.formats.compression import (
    open_input,
    sniff_head,
)
from pipeline.io.formats.decoding import Undecodable, decode
from pipeline.io.formats.records import (
    Origin,
    doc_from_row,
    given_id,
    guarded,
    rejected,
)
from pipeline.io.formats.tabular import (
    DELIMITERS,
    broken_off,
    label,
)


def sniff_text_encoding(head: bytes) -> str:
    """The codec for a whole text stream judged from its first bytes (BOM, UTF-8, detection)."""
    if head.startswith(codecs.BOM_UTF8):
        return "utf-8-sig"
    if head.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        return "utf-16"
    try:
        codecs.getincrementaldecoder("utf-8")().decode(head, final=False)
        return "utf-8"
    except UnicodeDecodeError:
        pass
    try:
        return decode(head).encoding
    except Undecodable:
        return "utf-8"  # binary garbage: read with replacement characters, rows will be rejected


def raise_csv_limit(max_record_bytes: int) -> None:
    """The csv module refuses fields over 128 KiB by default; allow up to the record cap."""
    if csv.field_size_limit() < max_record_bytes:
        csv.field_size_limit(max_record_bytes)


#: The delimiters a CSV/TSV file is sniffed for (``reader.csv_delimiter`` names any other).
_SNIFF_BYTES = 1 << 16
_SNIFF_ROWS = 50


def sniff_delimiter(sample: str, preferred: str, *, complete: bool) -> str:
    """The delimiter of a CSV/TSV file, judged on its first rows (``sample``, decoded; ``complete``
    when it is the whole file): among :data:`DELIMITERS`, the one that splits the header into the
    most rows of the header's width, the header into at least two fields; ``preferred`` (the
    extension's: ``,`` or tab) wins a tie, and when none splits the header (one column)."""
    best, best_score = preferred, (-1.0, 0)
    for delimiter in dict.fromkeys((preferred, *DELIMITERS)):
        rows = [r for r in islice(csv.reader(io.StringIO(sample), delimiter=delimiter), _SNIFF_ROWS + 1) if r]
        if not complete and len(rows) > 1:
            rows = rows[:-1]  # the sample may end inside the last row
        if not rows or len(rows[0]) < 2:
            continue
        width = len(rows[0])
        body = rows[1:]
        score = (sum(len(r) == width for r in body) / len(body) if body else 1.0, width)
        if score > best_score:
            best, best_score = delimiter, score
    return best


class _CsvText:
    """A CSV/TSV input opened for reading: its text stream, codec and delimiter."""

    def __init__(self, path: Path, config: ReaderConfig, preferred: str) -> None:
        raw = open_input(path, config.max_decompressed_bytes)
        try:
            head, fh = sniff_head(raw, _SNIFF_BYTES)
        except BaseException:
            raw.close()
            raise
        encoding = sniff_text_encoding(head)
        self.text = io.TextIOWrapper(fh, encoding=encoding, errors="replace", newline="")
        self.encoding = "utf-8" if encoding == "utf-8-sig" else encoding
        if config.csv_delimiter:
            self.delimiter = config.csv_delimiter
        else:
            sample = head.decode(encoding, errors="replace")
            self.delimiter = sniff_delimiter(sample, preferred, complete=len(head) < _SNIFF_BYTES)


def csv_header(path: Path, preferred: str, config: ReaderConfig) -> tuple[list[str], str]:
    """The column names of a CSV file and its delimiter (for checking the field mapping before a
    run); ``[]`` when it cannot be read."""
    raise_csv_limit(config.max_record_bytes)
    try:
        opened = _CsvText(path, config, preferred)
        with opened.text:
            return next(csv.reader(opened.text, delimiter=opened.delimiter), []), opened.delimiter
    except Exception:  # noqa: BLE001 - unreadable here: the reader rejects what it cannot read
        return [], preferred


def read_delimited(
    path: Path, config: ReaderConfig, preferred: str, name: str | None = None
) -> Iterator[Doc]:
    """CSV (or TSV) with a header row, its delimiter sniffed (:func:`sniff_delimiter`) unless
    ``reader.csv_delimiter`` names it. Ragged or malformed rows become ``bad_row`` rejects."""
    raise_csv_limit(config.max_record_bytes)
    name = name or label(path)
    rowno = 0
    try:
        opened = _CsvText(path, config, preferred)
        with opened.text:
            reader = csv.reader(opened.text, delimiter=opened.delimiter, strict=True)
            header = next(reader, None)
            if header is None:
                return
            while True:
                try:
                    row = next(reader)
                except StopIteration:
                    break
                except csv.Error as exc:
                    rowno += 1
                    yield rejected(Origin(name, rowno), "bad_row", f"line {reader.line_num}: {exc}")
                    continue
                if not row:
                    continue
                rowno += 1
                origin = Origin(name, rowno)
                yield guarded(origin, _csv_row, row, header, origin, config, opened.encoding)
    except CleanwireError:
        raise
    except Exception as exc:  # noqa: BLE001 - I/O, a damaged stream, or a surprise: the rest is one reject
        yield broken_off(name, rowno, exc)


def _csv_row(row: list[str], header: list[str], origin: Origin, config: ReaderConfig, encoding: str) -> Doc:
    if len(row) != len(header):
        return rejected(origin, "bad_row", f"{len(row)} fields, header has {len(header)}", "\x1f".join(row))
    if sum(len(v) for v in row) > config.max_record_bytes:
        row_id = given_id(dict(zip(header, row, strict=True)), config)
        return rejected(
            origin, "too_large", f"> reader.max_record_bytes={config.max_record_bytes}", id=row_id
        )
    return doc_from_row(dict(zip(header, row, strict=True)), origin, config, text_encoding=encoding)


def read_csv(path: Path, config: ReaderConfig, name: str | None = None) -> Iterator[Doc]:
    return read_delimited(path, config, ",", name)


def read_tsv(path: Path, config: ReaderConfig, name: str | None = None) -> Iterator[Doc]:
    return read_delimited(path, config, "\t", name)
