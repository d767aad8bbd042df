"""The units the boilerplate model decides on: blocks of adjacent lines as ``normalize`` will join
them (:func:`pipeline.core.blocks.block_groups`), with exact offsets into the text as it entered the
boilerplate stage.

A hard-wrapped paragraph, or a line continued in lower case, is one unit, so the model never takes
half of a sentence. ``text[unit.start:unit.end]`` spans the unit's lines (the line breaks between
them included); :attr:`Unit.text` is its lines (stripped) joined by one space: what the model reads.

One exception: a unit is cut where a sentence was glued onto the one before it without a space
(:func:`glue_points`), so a notice a scrape glued onto a paragraph (a hard-wrapped one too) is a
unit of its own, which the model can take without the paragraph. Its pieces share the line they
were cut from (:attr:`Unit.lines`).
"""

from __future__ import annotations

from bisect import bisect_left, bisect_right
from collections.abc import Sequence
from dataclasses import dataclass
from functools import cached_property
from itertools import pairwise

import numpy as np

from pipeline.core.blocks import EXTRACTED_BULLET, SPACES, block_groups, has_run, stripped_lines
from stages.boilerplate.codes import I64


@dataclass(slots=True)  # not frozen: a frozen dataclass is ~4x slower to build, and texts have many units
class Unit:
    index: int
    start: int
    end: int
    text: str
    #: Indices of its lines among the non-blank lines of the text (:func:`~.engine.split_lines`).
    lines: tuple[int, ...]


class Units(list[Unit]):
    """The units of one text, in order, as :func:`text_units` makes them; not to be changed after.
    Their offsets as arrays (:func:`bounds`) are made once: the model's gates and the structural
    rules ask for them a few times a text."""

    @cached_property
    def bounds(self) -> tuple[I64, I64]:
        return _bounds(self)


def bounds(units: Sequence[Unit]) -> tuple[I64, I64]:
    """The starts and the ends of ``units`` as arrays (a :class:`Units` list's made once)."""
    return units.bounds if isinstance(units, Units) else _bounds(units)


def _bounds(units: Sequence[Unit]) -> tuple[I64, I64]:
    starts = np.asarray([u.start for u in units], dtype=np.int64)
    return starts, np.asarray([u.end for u in units], dtype=np.int64)


def text_units(text: str, *, html: bool) -> Units:
    """The units of ``text``, in order. ``html``: the text came from an HTML extraction, whose
    list-item markers ``normalize`` drops before it joins lines.

    One pass over the lines gives both what the model reads (each non-blank line stripped, with
    its offsets, as :func:`~stages.boilerplate.engine.split_lines` has it) and what the layout rule
    groups (the same line as :func:`~pipeline.core.blocks.layout_lines` has it: runs of spaces
    collapsed; a blank line is ``""``)."""
    starts: list[int] = []
    texts: list[str] = []
    layout: list[str] = []
    for start, stripped in stripped_lines(text):
        if stripped:
            starts.append(start)
            texts.append(stripped)
            line = SPACES.sub(" ", stripped) if has_run(stripped) else stripped
            layout.append(EXTRACTED_BULLET.sub("", line) if html else line)
        else:
            layout.append("")
    if not texts:
        return Units()
    out = Units()
    glued = glue_points(text)
    k = 0  # the blocks take the non-blank lines in order: a block's first line is the k-th of them
    for group in block_groups(layout):
        size = len(group)
        ks = (k,) if size == 1 else tuple(range(k, k + size))
        k += size
        a, b = starts[ks[0]], starts[ks[-1]] + len(texts[ks[-1]])
        cuts = glued[bisect_right(glued, a) : bisect_left(glued, b)] if glued else None
        if not cuts:  # most units are one line: no join
            out.append(
                Unit(len(out), a, b, texts[k - 1] if size == 1 else " ".join([texts[j] for j in ks]), ks)
            )
            continue
        for x, y in pairwise((a, *cuts, b)):  # a notice glued onto a paragraph (hard-wrapped or not)
            if size == 1:
                out.append(Unit(len(out), x, y, text[x:y], ks))
                continue
            parts = [part.strip() for part in text[x:y].splitlines()]
            lines = tuple(j for j in ks if starts[j] < y and starts[j] + len(texts[j]) > x)
            out.append(Unit(len(out), x, y, " ".join(p for p in parts if p), lines))
    return out


def glued_pieces(line: str) -> list[tuple[int, int]]:
    """The spans of ``line`` between its :func:`glue_points` (the whole line when it has none)."""
    return list(pairwise((0, *glue_points(line), len(line))))


def glue_points(text: str) -> list[int]:
    """The offsets in ``text`` where a sentence was glued onto the one before it with no space
    (``"... on Monday.Sign up to our newsletter"``): after a word of two letters or more ending in
    a lower-case one (a one-letter abbreviation, ``κ.Στρατάκης``, is not a sentence's end) and
    ``.``, ``!`` or ``?`` (and the quotes or brackets that close the sentence: ``... tracteur.
    »Sponsorisé``), at an upper-case letter. A scrape loses the break between two blocks that way; the
    block after it is often a notice. In order. (``str.find`` per mark: a regex scan of every line
    cost half of :func:`text_units`.)"""
    points: list[int] = []
    n = len(text)
    for mark in ".!?":
        at = text.find(mark, 1)
        while 0 < at < n - 1:
            if at > 1 and text[at - 1].islower() and text[at - 2].isalpha():  # not "κ.Στρατάκης"
                j = at + 1 if text[at + 1].isupper() else _after_closing(text, at + 1)
                if j < n and text[j].isupper():
                    points.append(j)
            at = text.find(mark, at + 1)
    return sorted(points)


#: What may close a sentence after its end mark: curly quotes and brackets (a straight quote may
#: open the next one), French quotes after a space.
_CLOSING = frozenset("\u201d\u2019\u00bb)]")
_THIN = frozenset(" \u00a0\u202f")


def _after_closing(text: str, i: int) -> int:
    """The offset after the closing quotes and brackets that start at ``i`` (``”``, ``»`` with the
    space French sets before it, ``)``): ``i`` itself when there are none."""
    n = len(text)
    j = i + 1 if i + 1 < n and text[i] in _THIN and text[i + 1] == "\u00bb" else i
    if j < n and text[j] in _CLOSING:
        while j < n and text[j] in _CLOSING:
            j += 1
        return j
    return i
