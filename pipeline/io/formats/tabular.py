"""What the tabular readers share: how an input is named, the reject that ends an input which
breaks off, and the field-mapping check (an input none of whose first records has the text or HTML
field fails fast, naming the fields it has). The readers: :mod:`.jsonl`, :mod:`.delimited` (CSV,
TSV), :mod:`.parquet`.

Each reader yields one :class:`~pipeline.core.record.Doc` per row, mapped by the configured field
names (:func:`~pipeline.io.formats.records.doc_from_row`). Bad rows become rejects and reading goes
on; an input that breaks off (truncated or damaged compression, decompression limit) ends with a
reject that says where, and every row read before it is kept.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from pipeline.core.config import ReaderConfig
from pipeline.core.errors import InputError
from pipeline.core.record import Doc, looks_like_html
from pipeline.io.formats.compression import (
    STDIN,
    InputDataError,
)
from pipeline.io.formats.records import (
    Origin,
    exception_text,
    rejected,
)

STDIN_LABEL = "<stdin>"
#: The delimiters a CSV file is sniffed for (``--csv-delimiter`` names one outright).
DELIMITERS = (",", ";", "\t", "|")


def label(path: Path) -> str:
    """How a path is named in ``source`` and ids (``<stdin>`` for ``-``)."""
    return STDIN_LABEL if str(path) == STDIN else str(path)


def broken_off(name: str, where: int | str, exc: BaseException) -> Doc:
    """The reject that ends an input which breaks off at ``where``: the reason of an
    :class:`InputDataError`, ``unreadable`` for an I/O error, ``reader_error`` for anything else."""
    if isinstance(exc, InputDataError):
        reason = exc.reason
    elif isinstance(exc, OSError):
        reason = "unreadable"
    else:
        reason = "reader_error"
    return rejected(Origin(name, f"{where}+"), reason, f"{type(exc).__name__}: {exception_text(exc)}")


# --- the field mapping, checked on the first records ------------------------------------------

#: How many records of an input the mapping check reads, at most, and how many bytes (at least
#: one record is read whatever its size).
MAPPING_SAMPLE_RECORDS = 100
MAPPING_SAMPLE_BYTES = 8 << 20
#: Field names that usually hold a document's body, for the hint of a mapping error.
_BODY_NAMES = ("text", "content", "body", "article", "html", "page", "document", "markup", "raw")


@dataclass
class FieldSurvey:
    """What the first records of an input hold: how many there were, whether one has the text or
    HTML field, and the fields seen (name -> characters of string values, for a suggestion)."""

    records: int = 0
    mapped: bool = False
    fields: dict[str, int] = field(default_factory=dict)
    html_fields: set[str] = field(default_factory=set)

    def add(self, row: dict[str, Any], config: ReaderConfig) -> None:
        self.records += 1
        if config.text_field in row or config.html_field in row:
            self.mapped = True
        for key, value in list(row.items())[:200]:
            size = len(value) if isinstance(value, str) else 0
            self.fields[key] = self.fields.get(key, 0) + size
            if size and key not in self.html_fields and looks_like_html(value):
                self.html_fields.add(key)

    @property
    def failed(self) -> bool:
        """Records with fields were read, none of them the text or HTML field (empty objects
        are bad records, not a mapping mistake)."""
        return bool(self.fields) and not self.mapped


def mapping_error(
    where: str, names: list[str], config: ReaderConfig, survey: FieldSurvey | None = None
) -> InputError:
    """The error of an input none of whose first records (or columns) has the text or HTML field:
    the fields it has, and the option to map one of them."""
    fields = (config.text_field, config.html_field)
    if survey is None:
        what, kind = f"no column {fields[0]!r} or {fields[1]!r}", "columns"
    else:
        first = "the only record" if survey.records == 1 else f"the first {survey.records} records"
        what, kind = f"no field {fields[0]!r} or {fields[1]!r} in {first}", "fields seen"
    shown = ", ".join(repr(n) for n in names[:20]) + (
        f" and {len(names) - 20} more" if len(names) > 20 else ""
    )
    guess = _guess_body([n for n in names if n not in (config.id_field, config.url_field)], survey)
    option = "--html-field" if survey is not None and guess in survey.html_fields else "--text-field"
    hint = (
        f"map the field with {option} {guess}" if guess else "map the fields with --text-field / --html-field"
    )
    return InputError(
        f"{where}: {what} ({kind}: {shown or 'none'})",
        hint=hint + " (the config keys reader.text_field / reader.html_field)",
    )


def _guess_body(names: list[str], survey: FieldSurvey | None) -> str | None:
    """The field most likely to hold the document: the longest strings, else a body-like name."""
    if survey is not None:
        sizes = {n: c for n, c in survey.fields.items() if c > 0 and n in names}
        if sizes:
            return max(sizes, key=lambda n: (sizes[n], -names.index(n) if n in names else 0))
    for hint in _BODY_NAMES:
        for name in names:
            if hint in str(name).lower():
                return str(name)
    return None


def check_fields(
    columns: list[str], where: str, config: ReaderConfig, *, delimiter: str | None = None
) -> None:
    """Fail fast when a table (named ``where``) has neither the text nor the HTML column (a
    mapping mistake), or names a mapped column (text, HTML, URL, id, a kept field) more than once:
    which of them to read would be a guess (a row keeps only the last). A repeated unmapped
    column is not read. ``delimiter``: the one a CSV file was read with (for the hint)."""
    if columns and config.text_field not in columns and config.html_field not in columns:
        error = mapping_error(where, columns, config)
        others = [d for d in DELIMITERS if d != delimiter and len(columns) == 1 and d in columns[0]]
        if others:
            shown = "tab" if others[0] == "\t" else others[0]
            error.hint = (
                f"the columns may be separated by {shown!r}: --csv-delimiter {shown!r}; or {error.hint}"
            )
        raise error
    mapped = {config.text_field, config.html_field, config.url_field, config.id_field, *config.keep_fields}
    repeated = [c for c in dict.fromkeys(columns) if c in mapped and columns.count(c) > 1]
    if repeated:
        names = ", ".join(f"column {c!r} appears {columns.count(c)} times" for c in repeated)
        raise InputError(
            f"{where}: {names}; which one to read is ambiguous",
            hint="rename the repeated columns, or map another one with --text-field / --html-field / ...",
        )
