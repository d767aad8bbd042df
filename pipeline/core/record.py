"""The per-document record that stage functions see, and its Arrow round trip.

Stage logic is written against :class:`Doc` (typed attributes, no string-keyed dicts); the
conversion to and from :data:`~pipeline.core.schema.WORK_SCHEMA` batches happens once per batch in
:mod:`pipeline.core.stage`, not once per stage.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any, NamedTuple

import pyarrow as pa
import pyarrow.compute as pc

from pipeline.core.schema import (
    RAW_PREFIX_CHARS,
    REJECT_SCHEMA,
    REQUIRED_FIELDS,
    WORK_SCHEMA,
    string_scalar,
)


class Status(StrEnum):
    OK = "ok"
    REJECTED = "rejected"
    DROPPED = "dropped"

    def scalar(self) -> pa.StringScalar:
        """The value as an Arrow string, to compare a ``status`` column with
        (:func:`~pipeline.core.schema.string_scalar`)."""
        return string_scalar(self.value)


class Removal(NamedTuple):
    """One span a stage took out: offsets into the text as it entered that stage.

    Immutable; a named tuple, not a frozen dataclass: the boilerplate stage makes ~20 a record,
    and a frozen dataclass took three times as long to build (``_replace`` and ``_asdict`` stand
    for ``dataclasses.replace`` and ``asdict``)."""

    rule: str
    category: str
    start: int
    end: int
    snippet: str
    #: The learned model's probability that the span is boilerplate (``rule`` is
    #: ``model:<version>``); None for a rule's removal.
    score: float | None = None


@dataclass(slots=True)
class Doc:
    id: str
    source: str
    raw: str
    format: str = "text"
    url: str | None = None
    text: str = ""
    title: str | None = None
    author: str | None = None
    date: str | None = None
    sitename: str | None = None
    lang: str = "und"
    lang_prob: float = 0.0
    removed: list[Removal] = field(default_factory=list)
    encoding_fixes: list[str] = field(default_factory=list)
    flags: list[str] = field(default_factory=list)
    status: Status = Status.OK
    stage: str | None = None
    reason: str | None = None
    detail: str | None = None
    #: Codec the input bytes were decoded with (set by readers; None when the input was text).
    encoding: str | None = None
    #: User columns kept with ``--keep-field`` (keys are user data, values strings).
    passthrough: dict[str, str] = field(default_factory=dict)
    #: The near-duplicate sketch of ``text`` (``near_dedup_sign`` fills it in the workers).
    sketch: bytes | None = None
    #: A dropped duplicate: the id of the kept record it copies, and their similarity.
    dup_of: str | None = None
    similarity: float | None = None

    @property
    def n_chars_raw(self) -> int:
        return len(self.raw)

    @property
    def content_hash(self) -> str:
        return content_hash(self.text)

    @property
    def ok(self) -> bool:
        return self.status is Status.OK

    def reject(self, stage: str, reason: str, detail: str | None = None) -> None:
        self.status, self.stage, self.reason, self.detail = Status.REJECTED, stage, reason, detail

    def drop(self, stage: str, reason: str, detail: str | None = None) -> None:
        self.status, self.stage, self.reason, self.detail = Status.DROPPED, stage, reason, detail

    def drop_duplicate(self, stage: str, reason: str, dup_of: str, similarity: float, detail: str) -> None:
        """Drop the record as a copy of the kept record ``dup_of``."""
        self.drop(stage, reason, detail)
        self.dup_of, self.similarity = dup_of, similarity


def safe_str(text: str) -> str:
    """``text`` as valid UTF-8 without NULs: lone surrogates become U+FFFD, NULs are removed."""
    if text.isascii():
        return text.replace("\x00", "") if "\x00" in text else text  # the common case, no copy
    try:
        # One pass finds lone surrogates (they raise) and NULs (in the bytes, a fast scan that
        # a wide str does not get): 0.3 instead of 0.5 ms for a 175 KB page.
        has_nul = b"\x00" in text.encode("utf-8")
    except UnicodeEncodeError:
        # Pairs of surrogates become the character they encode; lone ones become U+FFFD.
        text = text.encode("utf-16-le", "surrogatepass").decode("utf-16-le", "replace")
        has_nul = "\x00" in text
    return text.replace("\x00", "") if has_nul else text


def content_hash(text: str) -> str:
    """sha1 of the UTF-8 text (surrogates escaped so that any ``str`` hashes)."""
    return hashlib.sha1(text.encode("utf-8", "surrogatepass")).hexdigest()


#: What a record's raw input can be (``Doc.format``).
RAW_FORMATS = ("text", "html")


def raw_format(raw: str, fmt: str) -> str:
    """``fmt`` checked against :data:`RAW_FORMATS`; ``"auto"`` is ``html`` when ``raw``
    :func:`looks_like_html`, else ``text``."""
    if fmt == "auto":
        return "html" if looks_like_html(raw) else "text"
    if fmt not in RAW_FORMATS:
        raise ValueError(f"fmt must be 'text', 'html' or 'auto', not {fmt!r}")
    return fmt


#: A tag of HTML's own vocabulary (not any ``<word>``: ``x <y`` or ``<3`` are text).
_HTML_TAG = re.compile(
    r"<(/?)(?:!doctype\s+html|html|head|body|title|meta|link|script|style|noscript|iframe|p|div|span|"
    r"a|br|hr|img|figure|figcaption|picture|source|ul|ol|li|dl|dt|dd|h[1-6]|table|thead|tbody|tr|td|"
    r"th|article|section|header|footer|nav|main|aside|blockquote|pre|code|strong|em|b|i|u|small|"
    r"sup|sub|time|form|input|button|label|select|option|textarea|svg)(?=[\s/>])[^<>]{0,2000}>",
    re.I,
)
_DOCUMENT_START = re.compile(
    r"\s*(?:<!--.*?-->\s*)*(?:<!doctype\s+html|<html[\s>]|<\?xml[^>]*>\s*<)", re.I | re.S
)
#: How much of a text :func:`looks_like_html` reads.
HTML_SNIFF_CHARS = 1 << 16


def looks_like_html(raw: str) -> bool:
    """Whether ``raw`` is HTML rather than text: it starts as an HTML document does
    (``<!doctype html``, ``<html``, ``<?xml ...><``); or it starts with a tag of HTML's vocabulary;
    or, within its first :data:`HTML_SNIFF_CHARS` characters, it holds at least three such tags,
    one a closing tag or ``<br>``, and at least two per 1,000 characters (a fragment of markup:
    ``Text <b>bold</b> and <br> more``).

    A text *about* markup (``use the <div> tag``, a blog post on an HTML parser quoting a few
    tags) has one or two, or a few in thousands of characters; markup has them everywhere."""
    head = raw[:HTML_SNIFF_CHARS].lstrip("\ufeff \t\r\n")
    if not head or "<" not in head:
        return False
    if _DOCUMENT_START.match(head):
        return True
    needed = max(3, 2 * len(head) // 1000)
    closing = False
    for found, m in enumerate(_HTML_TAG.finditer(head), start=1):
        if m.start() == 0:
            return True
        closing = closing or bool(m.group(1)) or m.group(0)[1:3].lower() == "br"
        if found >= needed and closing:
            return True
    return False


def make_id(source: str, locator: str | int) -> str:
    """A deterministic id from where a record came from (file path + position)."""
    return hashlib.sha1(f"{source}\x00{locator}".encode("utf-8", "surrogateescape")).hexdigest()[:20]


#: Input columns read as strings that may be null (a null takes the :class:`Doc` default).
_OPTIONAL_STRINGS = ("url", "encoding", "format")
#: Columns read as strings only when the batch has ``status`` (rows that went through stages).
_PROCESSED_STRINGS = (
    "text",
    "title",
    "author",
    "date",
    "sitename",
    "lang",
    "stage",
    "reason",
    "detail",
    "status",
    "dup_of",
)
_STATUS_VALUES = tuple(s.value for s in Status)


def _is_text_type(t: pa.DataType) -> bool:
    """A type whose values ``to_pylist`` gives as ``str`` (or None): string, large/view, dictionary."""
    if pa.types.is_dictionary(t):
        t = t.value_type
    return bool(
        pa.types.is_string(t)
        or pa.types.is_large_string(t)
        or pa.types.is_string_view(t)
        or pa.types.is_null(t)
    )


def _check_columns(schema: pa.Schema) -> None:
    """The names and types of a batch that is not exactly in the work schema."""
    names = schema.names
    if len(set(names)) != len(names):
        twice = sorted({n for n in names if names.count(n) > 1})
        raise ValueError(f"input has more than one column named {', '.join(map(repr, twice))}")
    missing = [n for n in REQUIRED_FIELDS if n not in names]
    if missing:
        raise ValueError(
            f"input has no {', '.join(map(repr, missing))} column: every row needs id, source and raw "
            "(non-null strings); the other work-schema columns are optional"
        )
    processed = "status" in names
    for name in (*REQUIRED_FIELDS, *_OPTIONAL_STRINGS, *(_PROCESSED_STRINGS if processed else ())):
        if name in names and not _is_text_type(schema.field(name).type):
            raise ValueError(
                f"input column {name!r} is {schema.field(name).type}, not strings "
                "(cast it first, e.g. pyarrow.compute.cast(column, pyarrow.string()))"
            )
    if processed and "lang_prob" in names:
        t = schema.field("lang_prob").type
        if not (pa.types.is_floating(t) or pa.types.is_integer(t) or pa.types.is_null(t)):
            raise ValueError(f"input column 'lang_prob' is {t}, not numbers")


def _check_values(
    name: str, column: pa.Array | pa.ChunkedArray, allowed: tuple[str, ...], nulls_ok: bool
) -> None:
    for value in pc.unique(column).to_pylist():  # a batch holds one or two distinct values
        if value in allowed or (value is None and nulls_ok):
            continue
        where = pc.is_null(column) if value is None else pc.equal(pc.cast(column, pa.string()), value)
        row = pc.index(where, True).as_py()
        choices = ", ".join(map(repr, allowed)) + (" (a null means 'text')" if nulls_ok else "")
        raise ValueError(f"input column {name!r} has {value!r} in row {row}; allowed values: {choices}")


def check_input(batch: pa.RecordBatch | pa.Table) -> None:
    """Raise :class:`ValueError`, naming the column and the problem, when ``batch`` cannot be read
    into Docs: a required column (:data:`~pipeline.core.schema.REQUIRED_FIELDS`) missing or holding a
    null, a column read as text that is not a string column, a ``format`` outside
    :data:`RAW_FORMATS` or a ``status`` outside :class:`Status`.

    Works on the Arrow columns (the schema, null counts, the distinct values of ``format`` and
    ``status``), not per row: it runs on every batch a worker reads, and costs tens of
    microseconds there (a batch already in the work schema skips the name and type checks).
    Anything but a pyarrow ``RecordBatch`` or ``Table`` (rows as dicts, a pandas or Polars frame)
    is a :class:`TypeError` saying how to convert it. A batch with no row and no column (what
    ``pyarrow.Table.from_pylist([])`` makes of no rows) passes: it is read as no record."""
    if not isinstance(batch, pa.RecordBatch | pa.Table):
        raise TypeError(
            f"expected a pyarrow RecordBatch or Table, not {type(batch).__name__} ({_conversions(batch)})"
        )
    if batch.num_rows == 0 and batch.num_columns == 0:
        return  # no record, and no column that could be wrong; one row or one column is checked
    schema = batch.schema
    work = schema.equals(WORK_SCHEMA)  # a reader's or a stage's batch; metadata is not compared
    if not work:
        _check_columns(schema)
    for name in REQUIRED_FIELDS:
        column = batch.column(name)
        if column.null_count:
            row = pc.index(pc.is_null(column), True).as_py()
            raise ValueError(
                f"input column {name!r} is null in row {row}: id, source and raw must not be null"
            )
    names = WORK_SCHEMA.names if work else schema.names
    if "format" in names:
        _check_values("format", batch.column("format"), RAW_FORMATS, nulls_ok=True)
    if "status" in names:
        _check_values("status", batch.column("status"), _STATUS_VALUES, nulls_ok=False)


def _conversions(given: object) -> str:
    """How to make a pyarrow table of ``given``: rows (dicts) first for rows, frames first else."""
    rows = (
        "pyarrow.Table.from_pylist(list(rows))"
        if isinstance(given, Iterator)
        else "pyarrow.Table.from_pylist(rows)"
    )
    frames = "pyarrow.Table.from_pandas(df, preserve_index=False) converts a pandas DataFrame, df.to_arrow() a Polars one"
    if isinstance(given, list | tuple | Iterator):
        return f"{rows} converts rows given as dicts; {frames}"
    return f"{frames}, {rows} rows given as dicts"


def docs_from_batch(batch: pa.RecordBatch | pa.Table) -> list[Doc]:
    """Read a batch into Docs. It needs the columns ``id``, ``source`` and ``raw`` (non-null
    strings); every other work-schema column is optional (a missing one or a null takes the
    :class:`Doc` default, and the processed columns are read only when ``status`` is present);
    columns outside :data:`~pipeline.core.schema.WORK_SCHEMA` are ignored; a batch with no row
    and no column (``pyarrow.Table.from_pylist([])``) is no Doc. Raises :class:`ValueError`
    naming the column when the batch does not fit (see :func:`check_input`)."""
    check_input(batch)
    cols = {name: batch.column(name).to_pylist() for name in batch.schema.names}
    n = batch.num_rows
    out: list[Doc] = []
    for i in range(n):
        row = {k: v[i] for k, v in cols.items()}
        doc = Doc(
            id=row["id"],
            source=row["source"],
            raw=row["raw"],
            format=row.get("format") or "text",
            url=row.get("url"),
            encoding=row.get("encoding"),
            passthrough=_as_dict(row.get("extra")),
        )
        if "status" in row:
            doc.text = row.get("text") or ""
            doc.title, doc.author = row.get("title"), row.get("author")
            doc.date, doc.sitename = row.get("date"), row.get("sitename")
            doc.lang, doc.lang_prob = row.get("lang") or "und", float(row.get("lang_prob") or 0.0)
            doc.removed = [Removal(**r) for r in row.get("removed") or []]
            doc.encoding_fixes = list(row.get("encoding_fixes") or [])
            doc.flags = list(row.get("flags") or [])
            doc.status = Status(row["status"])
            doc.stage, doc.reason, doc.detail = row.get("stage"), row.get("reason"), row.get("detail")
            doc.sketch = row.get("sketch")
            doc.dup_of = row.get("dup_of")
            similarity = row.get("similarity")
            doc.similarity = None if similarity is None else float(similarity)
        out.append(doc)
    return out


def _as_dict(value: Any) -> dict[str, str]:
    """An Arrow ``map`` value as ``to_pylist`` gives it (list of pairs, or a dict) to a dict."""
    if not value:
        return {}
    return dict(value.items() if isinstance(value, dict) else value)


def _doc_row(d: Doc) -> dict[str, Any]:
    return {
        "id": d.id,
        "url": d.url,
        "source": d.source,
        "title": d.title,
        "author": d.author,
        "date": d.date,
        "sitename": d.sitename,
        "text": d.text,
        "lang": d.lang,
        "lang_prob": d.lang_prob,
        "removed": [
            {
                "rule": r.rule,
                "category": r.category,
                "start": r.start,
                "end": r.end,
                "snippet": r.snippet,
                "score": r.score,
            }
            for r in d.removed
        ],
        "encoding_fixes": d.encoding_fixes,
        "n_chars_raw": d.n_chars_raw,
        "n_chars_text": len(d.text),
        "content_hash": d.content_hash,
        "encoding": d.encoding,
        "extra": list(d.passthrough.items()),
        "format": d.format,
        "raw": d.raw,
        "status": d.status.value,
        "stage": d.stage,
        "reason": d.reason,
        "detail": d.detail,
        "flags": d.flags,
        "sketch": d.sketch,
        "dup_of": d.dup_of,
        "similarity": d.similarity,
    }


def docs_to_batch(docs: Sequence[Doc]) -> pa.RecordBatch:
    return pa.RecordBatch.from_pylist([_doc_row(d) for d in docs], schema=WORK_SCHEMA)


def input_batch(rows: Iterable[dict[str, Any]]) -> pa.RecordBatch:
    """Build a work batch from reader rows (dicts with the input fields)."""
    docs = [
        Doc(
            id=r["id"],
            source=r["source"],
            raw=r["raw"],
            format=r.get("format", "text"),
            url=r.get("url"),
            encoding=r.get("encoding"),
            passthrough=_as_dict(r.get("extra")),
        )
        for r in rows
    ]
    return docs_to_batch(docs)


def reject_rows(rows: pa.RecordBatch | pa.Table) -> pa.Table:
    """The rejects-file rows (:data:`~pipeline.core.schema.REJECT_SCHEMA`) of work rows, computed on
    their columns: a 175 KB page is not turned into a ``str`` for its 200-character prefix."""
    names = rows.schema.names
    n = rows.num_rows
    columns = [
        rows.column("id"),
        rows.column("source"),
        pc.fill_null(rows.column("stage"), string_scalar("")),
        pc.fill_null(rows.column("reason"), string_scalar("")),
        rows.column("detail"),
        pc.utf8_slice_codeunits(rows.column("raw"), 0, RAW_PREFIX_CHARS),  # code points, like str slicing
        *(
            rows.column(name).cast(REJECT_SCHEMA.field(name).type)
            if name in names
            else pa.nulls(n, REJECT_SCHEMA.field(name).type)
            for name in ("url", "dup_of", "similarity")
        ),
    ]
    return pa.Table.from_arrays(columns, schema=REJECT_SCHEMA)
