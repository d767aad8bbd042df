"""Unit labels from the gold of labelled documents: boilerplate (1, with its category), content
(0), or unknown (-1: left out of training and of unit metrics, kept for end-to-end scoring).

Newsboiler-schema documents (``gold_text`` plus labelled ``boilerplate`` items): a unit is
boilerplate when at least 80 % of its tokens are covered by runs of the items' lines (``text`` or
``raw_text``), content when at most 20 %, else ``mixed`` (a sign-up notice glued to a paragraph is
the inline rules' job, not a unit's).

WCXB pages (gold ``main_content``): a unit of at least 4 tokens is content when at least 70 % of its
token 3-grams occur in the gold, boilerplate when at most 20 %; a shorter unit is content when its
tokens equal a gold line's (or run inside a gold line at most 3x as long), boilerplate when they
occur nowhere in the gold, else unknown. The extracted title (the first unit, the gold title's
headline) is content.

Tokens are the newsboiler scorer's (:func:`pipeline.evaluation.newsboiler.match_tokens`).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from pipeline.evaluation.newsboiler import BoilerItem, match_tokens
from stages.boilerplate.units import Unit
from stages.extract.extractor import same_headline

BOILERPLATE, CONTENT, UNKNOWN = 1, 0, -1


@dataclass(frozen=True, slots=True)
class Label:
    value: int  # BOILERPLATE, CONTENT or UNKNOWN
    category: str  # the item's category, "content", "boilerplate" (WCXB), "mixed" or "unknown"


def _runs(hay: Sequence[str], needle: Sequence[str]) -> list[int]:
    n = len(needle)
    if n == 0 or n > len(hay):
        return []
    first = needle[0]
    return [i for i in range(len(hay) - n + 1) if hay[i] == first and list(hay[i : i + n]) == list(needle)]


def label_news(units: Sequence[Unit], items: Sequence[BoilerItem]) -> list[Label]:
    """Labels of a newsboiler-schema document's units (see the module docstring)."""
    lines: list[tuple[str, list[str]]] = []
    for item in items:
        for form in (item.text, item.raw_text):
            for line in (form or "").splitlines():
                toks = match_tokens(line)
                if toks:
                    lines.append((item.category, toks))
    out: list[Label] = []
    for unit in units:
        toks = match_tokens(unit.text)
        if not toks:
            out.append(Label(UNKNOWN, "unknown"))
            continue
        covered: list[str | None] = [None] * len(toks)
        for category, item_toks in lines:
            for i in _runs(toks, item_toks):  # an item line inside the unit
                for j in range(i, i + len(item_toks)):
                    covered[j] = covered[j] or category
            if len(toks) < len(item_toks) and _runs(item_toks, toks):  # the unit inside an item line
                covered = [c or category for c in covered]
        share = sum(c is not None for c in covered) / len(toks)
        if share >= 0.8:
            cats = [c for c in covered if c is not None]
            out.append(Label(BOILERPLATE, max(sorted(set(cats)), key=cats.count)))
        elif share <= 0.2:
            out.append(Label(CONTENT, "content"))
        else:
            out.append(Label(UNKNOWN, "mixed"))
    return out


class _Gold:
    def __init__(self, main: str) -> None:
        toks = match_tokens(main)
        self.trigrams = {tuple(toks[i : i + 3]) for i in range(len(toks) - 2)}
        self.lines = [match_tokens(x) for x in main.splitlines() if x.strip()]
        self.line_set = {tuple(x) for x in self.lines}
        self.joined = " " + " ".join(toks) + " "

    def short_in_line(self, toks: list[str]) -> bool:
        return any(len(g) <= 3 * len(toks) and _runs(g, toks) for g in self.lines)


def label_page(units: Sequence[Unit], main_content: str, title: str | None) -> list[Label]:
    """Labels of a WCXB page's units (see the module docstring)."""
    gold = _Gold(main_content)
    out: list[Label] = []
    for unit in units:
        toks = match_tokens(unit.text)
        if not toks:
            out.append(Label(UNKNOWN, "unknown"))
        elif unit.index == 0 and title and same_headline(unit.text, title):
            out.append(Label(CONTENT, "content"))
        elif len(toks) >= 4:
            grams = [tuple(toks[i : i + 3]) for i in range(len(toks) - 2)]
            share = sum(g in gold.trigrams for g in grams) / len(grams)
            if share >= 0.7:
                out.append(Label(CONTENT, "content"))
            elif share <= 0.2:
                out.append(Label(BOILERPLATE, "boilerplate"))
            else:
                out.append(Label(UNKNOWN, "mixed"))
        elif tuple(toks) in gold.line_set or gold.short_in_line(toks):
            out.append(Label(CONTENT, "content"))
        elif (" " + " ".join(toks) + " ") not in gold.joined:
            out.append(Label(BOILERPLATE, "boilerplate"))
        else:
            out.append(Label(UNKNOWN, "unknown"))
    return out
