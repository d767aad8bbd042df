"""normalize: lay the cleaned text out as blocks, one per line, separated by one blank line.

Runs after boilerplate, so rules see the scrape's own line structure. Hard-wrapped lines (a line
that does not end a sentence followed by one that starts in lower case) are re-joined; runs of
spaces collapse to one; leading and trailing whitespace goes.
"""

from __future__ import annotations

import re

from pipeline.record import Doc
from pipeline.stage import DocStage

_SPACES = re.compile(r"[ \t\f\v]+")
_ENDS_BLOCK = re.compile(r"[.!?:;…\"”’»)\]]$")
_STARTS_LOWER = re.compile(r"^[a-zà-ÿ]")


# The "- " that trafilatura puts before list items; the publisher's text has no bullet there.
_EXTRACTED_BULLET = re.compile(r"^[ \t]*[-*•][ \t]+(?=\S)", re.MULTILINE)


def strip_extracted_bullets(text: str) -> str:
    """Drop the list-item markers an HTML extractor added (``"- item"`` -> ``"item"``)."""
    return _EXTRACTED_BULLET.sub("", text)


def normalize_layout(text: str) -> str:
    """Blocks separated by exactly one blank line, single spaces, no outer whitespace."""
    blocks: list[str] = []
    joinable = False  # may the next line continue the previous block?
    for raw_line in text.splitlines():
        line = _SPACES.sub(" ", raw_line).strip()
        if not line:
            joinable = False
            continue
        if blocks and joinable and _STARTS_LOWER.match(line):
            blocks[-1] = f"{blocks[-1]} {line}"
        else:
            blocks.append(line)
        joinable = not _ENDS_BLOCK.search(blocks[-1])
    return "\n\n".join(blocks)


class NormalizeWhitespace(DocStage):
    name = "normalize"

    def process(self, doc: Doc) -> None:
        text = strip_extracted_bullets(doc.text) if doc.format == "html" else doc.text
        doc.text = normalize_layout(text)
