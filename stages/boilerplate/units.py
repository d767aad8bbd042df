"""The units the boilerplate model decides on: blocks of adjacent lines as ``normalize`` will join
them (:func:`pipeline.core.blocks.block_groups`), with exact offsets into the text as it entered the
boilerplate stage.

A hard-wrapped paragraph, or a line continued in lower case, is one unit, so the model never takes
half of a sentence. ``text[unit.start:unit.end]`` spans the unit's lines (the line breaks between
them included); :attr:`Unit.text` is its lines (stripped) joined by one space: what the model reads.
"""

from __future__ import annotations

from dataclasses import dataclass

from pipeline.core.blocks import EXTRACTED_BULLET, block_groups, layout_lines
from stages.boilerplate.engine import split_lines


@dataclass(frozen=True, slots=True)
class Unit:
    index: int
    start: int
    end: int
    text: str
    #: Indices of its lines among the non-blank lines of the text (:func:`~.engine.split_lines`).
    lines: tuple[int, ...]


def text_units(text: str, *, html: bool) -> list[Unit]:
    """The units of ``text``, in order. ``html``: the text came from an HTML extraction, whose
    list-item markers ``normalize`` drops before it joins lines."""
    lines = split_lines(text)
    if not lines:
        return []
    layout = layout_lines(text)
    if html:
        layout = [EXTRACTED_BULLET.sub("", line) for line in layout]
    # Both count the same lines as blank (``str.strip`` after collapsing spaces), so the k-th
    # non-blank layout line is ``lines[k]``.
    nonblank = [i for i, line in enumerate(layout) if line]
    rank = {i: k for k, i in enumerate(nonblank)}
    if len(nonblank) != len(lines):  # line breaks ``str.splitlines`` and ``split_lines`` see apart
        return [Unit(ln.index, ln.start, ln.end, ln.text, (ln.index,)) for ln in lines]
    out: list[Unit] = []
    for group in block_groups(layout):
        ks = tuple(rank[i] for i in group)
        first, last = lines[ks[0]], lines[ks[-1]]
        out.append(Unit(len(out), first.start, last.end, " ".join(lines[k].text for k in ks), ks))
    return out
