"""Reading and checking a labelled JSONL file in newsboiler's schema (``--data``, newsboiler's dev
set) before anything is prepared or fitted.

Every record must be a JSON object with ``id``, ``raw`` and ``gold_text``; ``format``, when given,
one of :data:`~pipeline.core.record.RAW_FORMATS` (null or missing: ``text``); ``boilerplate``, when
given, a list of ``{category, text[, raw_text]}`` whose category is one of the rule packs'
(:data:`~stages.boilerplate.rulepack.CATEGORIES`) and whose ``text`` (or ``raw_text``, the form it
has in ``raw``: mojibake, literal entities) occurs in ``raw``: an item found nowhere would label no
unit, and a misspelt category would be dropped by the category head. A problem is an
:class:`~pipeline.core.errors.InputError` (exit 3) naming the file, line, record and item.

"Occurs" is compared on the newsboiler scorer's tokens (:func:`~pipeline.evaluation.newsboiler.match_tokens`:
case, punctuation and whitespace do not matter): every line of the item must be a run of the raw's
tokens (an HTML raw's with its tags and entities taken out), its first and last token possibly
part of a longer one (a scrape glues ``More info`` to the next paragraph: ``More infoRuth``).
"""

from __future__ import annotations

import html
import json
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from pipeline.core.errors import InputError
from pipeline.evaluation.data import NewsRowProblem, check_news_row, shown
from pipeline.evaluation.newsboiler import match_tokens
from stages.boilerplate.rulepack import CATEGORIES
from stages.encoding import fix

SCHEMA_HINT = (
    "labelled data is one JSON object per line in newsboiler's schema: id, url, format (html or text), raw, "
    "gold_text, boilerplate=[{category, text[, raw_text]}] (README, Boilerplate model: Training)"
)
_TAG = re.compile(r"<[^>]*>")


class _Raw:
    """A record's raw as token strings to look items up in (space-joined :func:`match_tokens`):
    as written, with entities decoded and, for HTML, tags taken out (as a space, or as nothing:
    ``<b>S</b>ign``); failing those, repaired as the ``encoding`` stage repairs it (an HTML page
    with entities *and* mojibake matches neither an item's ``text`` nor its ``raw_text``)."""

    def __init__(self, raw: str, fmt: str) -> None:
        self.raw, self.html = raw, fmt == "html"
        forms = [raw, html.unescape(raw)]
        if self.html:
            forms += [html.unescape(_TAG.sub(" ", raw)), html.unescape(_TAG.sub("", raw))]
        self.forms = [" ".join(match_tokens(f)) for f in dict.fromkeys(forms)]
        self._repaired: list[str] | None = None

    def haystacks(self) -> Iterator[list[str]]:
        """The plain forms, then (only when asked for: ftfy is slow) the repaired one."""
        yield self.forms
        if self._repaired is None:
            text = html.unescape(_TAG.sub(" ", self.raw)) if self.html else self.raw
            self._repaired = [" ".join(match_tokens(fix(text)[0]))]
        yield self._repaired

    def has(self, *forms: str | None) -> bool:
        """Whether one of ``forms`` (an item's text, its raw_text) has every line in the raw."""
        items = [
            lines
            for form in forms
            if (lines := [" ".join(t) for line in (form or "").splitlines() if (t := match_tokens(line))])
        ]
        return any(
            all(any(line in h for h in hays) for line in lines)
            for hays in self.haystacks()
            for lines in items
        )


def check_record(row: Any) -> None:
    """Raise :class:`NewsRowProblem` when ``row`` is not a usable labelled document: not in
    newsboiler's schema, an item of a category the rule packs do not know, or not in its raw."""
    check_news_row(row, CATEGORIES)
    items = row.get("boilerplate") or []
    if not items:
        return
    raw = _Raw(row["raw"], row.get("format") or "text")
    for n, item in enumerate(items, 1):
        raw_text = item.get("raw_text")
        if not raw.has(item["text"], raw_text):
            raise NewsRowProblem(
                f"boilerplate item {n} ({item['category']}, {shown(item['text'])}) does not occur in its raw"
                + (" (nor does its raw_text)" if raw_text else ""),
                hint="an item's text, or its raw_text (the form it has in raw: mojibake, literal entities), "
                "must occur in the record's raw (case, punctuation and spacing aside); fix or remove the item",
            )


def read_news_file(path: Path) -> list[dict[str, Any]]:
    """The records of a labelled JSONL file, checked (see the module docstring); an
    :class:`InputError` for the first problem (and how many records have one), or for a file
    without records."""
    rows: list[dict[str, Any]] = []
    problems: list[tuple[str, str]] = []
    try:
        with path.open(encoding="utf-8") as fh:
            for lineno, line in enumerate(fh, 1):
                if not line.strip():
                    continue
                where = f"{path} line {lineno}"
                try:
                    row = json.loads(line)
                except json.JSONDecodeError as exc:
                    problems.append(
                        (
                            f"{where}: not JSON ({exc.msg}, column {exc.pos + 1})",
                            f"fix or remove the line: {SCHEMA_HINT}",
                        )
                    )
                    continue
                if isinstance(row, dict) and isinstance(row.get("id"), (str, int)):
                    where += f" (record {str(row['id'])!r})"
                try:
                    check_record(row)
                except NewsRowProblem as exc:
                    problems.append(
                        (f"{where}: {exc}", exc.hint or f"fix or remove the record: {SCHEMA_HINT}")
                    )
                    continue
                rows.append(row)
    except (OSError, UnicodeDecodeError) as exc:
        raise InputError(f"{path}: cannot read the labelled documents: {exc}") from exc
    if problems:
        more = f" (and {len(problems) - 1} more record(s) with a problem)" if len(problems) > 1 else ""
        message, hint = problems[0]
        raise InputError(f"{message}{more}", hint=hint)
    if not rows:
        raise InputError(f"no labelled documents in {path}", hint=f"the file is empty: {SCHEMA_HINT}")
    return rows
