"""normalize: lay the cleaned text out as blocks, one per line, separated by one blank line.

Runs after boilerplate, so rules see the scrape's own line structure. Hard-wrapped lines are
re-joined: a line that does not end a sentence followed by one that starts in lower case, and, in a
text that was wrapped at a fixed width (see :func:`~pipeline.core.blocks.wrap_width`), every line that
reaches that width and is followed by another line. Runs of spaces collapse to one; leading and
trailing whitespace goes. The grouping itself is :mod:`pipeline.core.blocks`: the boilerplate model
decides on the same blocks.
"""

from __future__ import annotations

from pipeline.core.blocks import (
    block_groups,
    join_blocks,
    layout_lines,
    strip_extracted_bullets,
    wrap_width,
)
from pipeline.core.record import Doc
from pipeline.core.stage import DocStage

__all__ = ["NormalizeWhitespace", "normalize_layout", "strip_extracted_bullets", "wrap_width"]


def normalize_layout(text: str) -> str:
    """Blocks separated by exactly one blank line, single spaces, no outer whitespace (the blocks of
    :func:`pipeline.core.blocks.block_groups`)."""
    lines = layout_lines(text)
    return join_blocks(lines, block_groups(lines))


class NormalizeWhitespace(DocStage):
    name = "normalize"

    def process(self, doc: Doc) -> None:
        text = strip_extracted_bullets(doc.text) if doc.format == "html" else doc.text
        doc.text = normalize_layout(text)
