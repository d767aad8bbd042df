"""Which lines of a text form one block: the layout rule that ``normalize`` applies and that the
boilerplate model decides on (a wrapped sentence is one unit, never half of one).

Lines are compared with their runs of spaces collapsed and their ends stripped
(:func:`layout_lines`). A line joins the block before it when it starts in lower case and the block
does not end a sentence, or when the text was hard-wrapped at a fixed width (see :func:`wrap_width`)
and the line before it reached that width. A blank line always ends a block.
"""

from __future__ import annotations

import re
from collections.abc import Iterator, Sequence
from itertools import pairwise

import numpy as np

SPACES = re.compile(r"[ \t\f\v]+")
#: The last characters of a line that ends its block (a sentence, a label, a quotation).
BLOCK_END_CHARS = frozenset('.!?:;…"”’»)]')
STARTS_LOWER = re.compile(r"^[a-zà-ÿ]")
# The "- " that trafilatura puts before list items; the publisher's text has no bullet there.
EXTRACTED_BULLET = re.compile(r"^[ \t]*[-*•][ \t]+(?=\S)", re.MULTILINE)

# A text counts as hard-wrapped when at least this many lines, and most lines that are followed by
# another line, end within _slack(width) columns of one width between _MIN_WRAP and _MAX_WRAP, and
# enough of those break points fall inside a sentence (the next line starts in lower case): a list of
# similar-length items (results, headlines) starts every line with a capital and is left alone.
_MIN_WRAP, _MAX_WRAP, _WRAP_SLACK = 50, 120, 15
_MIN_WRAPPED_LINES = 3
_MIN_WRAPPED_SHARE = 0.6
_MIN_LOWER_SHARE = 0.3


def slack(width: int) -> int:
    """How far short of the width a wrapped line may end (a long next word did not fit)."""
    return max(_WRAP_SLACK, width // 4)


def wrap_width(lines: Sequence[str]) -> int | None:
    """The column ``lines`` (spaces collapsed, stripped) were hard-wrapped at, or ``None``."""
    pairs = [(a, b) for a, b in pairwise(lines) if a and b]
    if len(pairs) < _MIN_WRAPPED_LINES:
        return None
    width = max(len(a) for a, _ in pairs)
    if not _MIN_WRAP <= width <= _MAX_WRAP:
        return None
    near = [(a, b) for a, b in pairs if len(a) >= width - slack(width)]
    lower = sum(1 for _, b in near if STARTS_LOWER.match(b))
    if (
        len(near) < _MIN_WRAPPED_LINES
        or len(near) < _MIN_WRAPPED_SHARE * len(pairs)
        or lower < _MIN_LOWER_SHARE * len(near)
    ):
        return None
    return width


def strip_extracted_bullets(text: str) -> str:
    """Drop the list-item markers an HTML extractor added (``"- item"`` -> ``"item"``)."""
    return EXTRACTED_BULLET.sub("", text)


def has_run(line: str) -> bool:
    """Whether ``SPACES.sub(" ", line)`` changes ``line``: it holds a tab, ``\\f``, ``\\v`` or two
    spaces in a row. Four substring tests: ~6x quicker than one search for ``[\\t\\f\\v]|  ``."""
    return "  " in line or "\t" in line or "\f" in line or "\v" in line


def stripped_lines(text: str) -> Iterator[tuple[int, str]]:
    """Each line of ``text`` (``str.splitlines``): the offset of its first non-blank character and
    its content stripped (``""`` for a blank line, with the line's own offset)."""
    pos = 0
    for raw in text.splitlines(keepends=True):
        stripped = raw.strip()  # the line break itself is whitespace: strip takes it too
        yield (pos + raw.index(stripped[0]) if stripped else pos), stripped  # only blanks before it
        pos += len(raw)


def layout_lines(text: str) -> list[str]:
    """Every line of ``text`` (``str.splitlines``) with runs of spaces collapsed, stripped; a
    blank line is ``""``."""
    # the substitution only changes a line holding a tab, \f, \v or two spaces in a row: most lines
    # skip it (the same result, a fifth of the boilerplate model's unit time on news text)
    return [SPACES.sub(" ", raw).strip() if has_run(raw) else raw.strip() for raw in text.splitlines()]


def block_groups(lines: Sequence[str]) -> list[list[int]]:
    """The non-blank ``lines`` (as :func:`layout_lines` gives them) grouped into blocks: per block,
    the indices of its lines in ``lines``, in order."""
    width = wrap_width(lines)
    # Blank lines separate paragraphs, so a wrapped line is continued by the next one whatever its
    # case; without blank lines a capitalised line after a full line may start a new paragraph.
    paragraphs = width is not None and any(not line for line in lines[_first(lines) : _last(lines) + 1])
    groups: list[list[int]] = []
    joinable = False  # may the next line continue the previous block?
    wrapped = False  # did the previous line reach the wrap width?
    last_line = ""  # the block's last line: what decides whether it ends a sentence
    for i, line in enumerate(lines):
        if not line:
            joinable = wrapped = False
            continue
        if groups and (
            # whether the line starts in lower case is asked only when it could join the block
            ((joinable or wrapped) and STARTS_LOWER.match(line) is not None)
            or (wrapped and (paragraphs or (joinable and len(groups) > 1)))
        ):
            groups[-1].append(i)
        else:
            groups.append([i])
        last_line = line
        joinable = last_line[-1] not in BLOCK_END_CHARS  # a test of one character, not a regex search
        wrapped = width is not None and len(line) >= width - slack(width)
    return groups


def _first(lines: Sequence[str]) -> int:
    return next((i for i, line in enumerate(lines) if line), len(lines))


def _last(lines: Sequence[str]) -> int:
    return next((i for i in range(len(lines) - 1, -1, -1) if lines[i]), -1)


def join_blocks(lines: Sequence[str], groups: Sequence[Sequence[int]]) -> str:
    """The blocks as ``normalize`` lays them out: a block's lines joined by a space, blocks
    separated by one blank line."""
    return "\n\n".join(" ".join(lines[i] for i in group) for group in groups)


#: Texts longer than this are counted without splitting them (:func:`nonspace`): from about 500
#: characters on, the table is quicker.
SPLIT_BELOW = 512
#: White space as ``str.isspace`` (and so ``str.split``) has it, by code point: every such
#: character is below U+3001; the last entry, False, stands for every code point from U+3001 on.
WHITE_SPACE = np.array([chr(c).isspace() for c in range(0x3002)], dtype=bool)
WHITE_SPACE.flags.writeable = False


def nonspace(text: str) -> int:
    """Non-whitespace characters (``str.split`` and ``str.isspace`` share one definition).

    A long text's code points are looked up in :data:`WHITE_SPACE`: ~3x quicker than splitting a
    4 KB text into words, which most texts needed before (a no-break or zero-width space made
    them unprintable, so only the spaces could not be counted by ``str.count``). A short snippet
    splits quicker.
    """
    if len(text) > SPLIT_BELOW:
        codes = np.frombuffer(text.encode("utf-32-le", "surrogatepass"), dtype=np.uint32)
        blank = WHITE_SPACE[np.minimum(codes, len(WHITE_SPACE) - 1)]
        return len(text) - int(np.count_nonzero(blank))
    return len("".join(text.split()))
