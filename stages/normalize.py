"""normalize: lay the cleaned text out as blocks, one per line, separated by one blank line.

Runs after boilerplate, so rules see the scrape's own line structure. Hard-wrapped lines are
re-joined: a line that does not end a sentence followed by one that starts in lower case, and, in a
text that was wrapped at a fixed width (see :func:`wrap_width`), every line that reaches that width
and is followed by another line. Runs of spaces collapse to one; leading and trailing whitespace goes.
"""

from __future__ import annotations

import re
from itertools import pairwise

from pipeline.core.record import Doc
from pipeline.core.stage import DocStage

_SPACES = re.compile(r"[ \t\f\v]+")
_ENDS_BLOCK = re.compile(r"[.!?:;…\"”’»)\]]$")
_STARTS_LOWER = re.compile(r"^[a-zà-ÿ]")


# The "- " that trafilatura puts before list items; the publisher's text has no bullet there.
_EXTRACTED_BULLET = re.compile(r"^[ \t]*[-*•][ \t]+(?=\S)", re.MULTILINE)


def strip_extracted_bullets(text: str) -> str:
    """Drop the list-item markers an HTML extractor added (``"- item"`` -> ``"item"``)."""
    return _EXTRACTED_BULLET.sub("", text)


# A text counts as hard-wrapped when at least this many lines, and most lines that are followed by
# another line, end within _slack(width) columns of one width between _MIN_WRAP and _MAX_WRAP, and
# enough of those break points fall inside a sentence (the next line starts in lower case): a list of
# similar-length items (results, headlines) starts every line with a capital and is left alone.
_MIN_WRAP, _MAX_WRAP, _WRAP_SLACK = 50, 120, 15
_MIN_WRAPPED_LINES = 3
_MIN_WRAPPED_SHARE = 0.6
_MIN_LOWER_SHARE = 0.3


def _slack(width: int) -> int:
    """How far short of the width a wrapped line may end (a long next word did not fit)."""
    return max(_WRAP_SLACK, width // 4)


def wrap_width(lines: list[str]) -> int | None:
    """The column ``lines`` (spaces collapsed, stripped) were hard-wrapped at, or ``None``."""
    pairs = [(a, b) for a, b in pairwise(lines) if a and b]
    if len(pairs) < _MIN_WRAPPED_LINES:
        return None
    width = max(len(a) for a, _ in pairs)
    if not _MIN_WRAP <= width <= _MAX_WRAP:
        return None
    near = [(a, b) for a, b in pairs if len(a) >= width - _slack(width)]
    lower = sum(1 for _, b in near if _STARTS_LOWER.match(b))
    if (
        len(near) < _MIN_WRAPPED_LINES
        or len(near) < _MIN_WRAPPED_SHARE * len(pairs)
        or lower < _MIN_LOWER_SHARE * len(near)
    ):
        return None
    return width


def normalize_layout(text: str) -> str:
    """Blocks separated by exactly one blank line, single spaces, no outer whitespace."""
    lines = [_SPACES.sub(" ", raw_line).strip() for raw_line in text.splitlines()]
    width = wrap_width(lines)
    # Blank lines separate paragraphs, so a wrapped line is continued by the next one whatever its
    # case; without blank lines a capitalised line after a full line may start a new paragraph.
    body = "\n".join(lines).strip("\n")
    paragraphs = width is not None and "\n\n" in body
    blocks: list[str] = []
    joinable = False  # may the next line continue the previous block?
    wrapped = False  # did the previous line reach the wrap width?
    for line in lines:
        if not line:
            joinable = wrapped = False
            continue
        continues = _STARTS_LOWER.match(line) is not None
        if blocks and (
            (continues and (joinable or wrapped))
            or (wrapped and (paragraphs or (joinable and len(blocks) > 1)))
        ):
            blocks[-1] = f"{blocks[-1]} {line}"
        else:
            blocks.append(line)
        joinable = not _ENDS_BLOCK.search(blocks[-1])
        wrapped = width is not None and len(line) >= width - _slack(width)
    return "\n\n".join(blocks)


class NormalizeWhitespace(DocStage):
    name = "normalize"

    def process(self, doc: Doc) -> None:
        text = strip_extracted_bullets(doc.text) if doc.format == "html" else doc.text
        doc.text = normalize_layout(text)
