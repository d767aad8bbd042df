"""encoding: repair mojibake and character-level damage with ftfy, recording what was done.

:func:`fix` is a plain ``str -> (str, fixes)`` function. The ftfy configuration is explicit and
comes from :class:`~pipeline.config.EncodingConfig`: curly quotes and ligatures stay as written.
A cheap check skips ftfy entirely for text it could not change (plain ASCII without entities or
control characters), which is most English text.
"""

from __future__ import annotations

import re
from functools import lru_cache

import ftfy

from pipeline.config import EncodingConfig
from pipeline.record import Doc
from pipeline.stage import DocStage

# Invisible characters that scrapes carry and a reader never wants: zero-width space/joiners,
# word joiner, BOM, soft hyphen.
_INVISIBLE = re.compile("[\u200b\u200c\u200d\u2060\ufeff\u00ad]")
# Spaces that are not U+0020 (NBSP, narrow NBSP, figure space, thin spaces, ideographic space...).
_ODD_SPACE = re.compile("[\u00a0\u2000-\u200a\u202f\u205f\u3000]")
_NEEDS_FTFY = re.compile(r"[^\x20-\x7e\n\t]|&[#\w]+;?")
# What is left of a UTF-8 right double quote (E2 80 9D) read as cp1252 once the undefined 0x9D
# byte has been dropped on the way (HTML parsers drop it): "â€" before a space, punctuation or
# the end. ftfy cannot repair it because the third byte is gone; it is never legitimate text.
_LOST_RDQUO = re.compile(r"â€(?=[ \t\r\n.,;:!?)\]\}]|$)")


@lru_cache(maxsize=16)
def ftfy_config(config: EncodingConfig) -> ftfy.TextFixerConfig:
    return ftfy.TextFixerConfig(
        unescape_html=config.unescape_html,
        fix_encoding=config.fix_encoding,
        fix_latin_ligatures=config.fix_latin_ligatures,
        fix_character_width=config.fix_character_width,
        uncurl_quotes=config.uncurl_quotes,
        fix_line_breaks=config.fix_line_breaks,
        remove_control_chars=config.remove_control_chars,
        normalization=config.normalization,
        explain=True,
    )


def _chunks(text: str, size: int) -> list[str]:
    """Split at line ends into pieces of at most ~``size`` chars (a single longer line stays whole)."""
    if len(text) <= size:
        return [text]
    out: list[str] = []
    start = 0
    while start < len(text):
        end = text.rfind("\n", start, start + size)
        end = start + size if end <= start else end + 1
        out.append(text[start:end])
        start = end
    return out


def fix(text: str, config: EncodingConfig | None = None) -> tuple[str, list[str]]:
    """Repair ``text``; return it with the list of fixes applied (``"action:parameter"``)."""
    cfg = config or EncodingConfig()
    fixes: list[str] = []
    if cfg.fix_encoding and _LOST_RDQUO.search(text):
        # Before ftfy, which would read "â€ " as a dagger (E2 80 A0 with the NBSP turned space).
        text = _LOST_RDQUO.sub("\u201d", text)
        fixes.append("replace:lost_c1_quote")
    if _NEEDS_FTFY.search(text):
        pieces: list[str] = []
        for chunk in _chunks(text, cfg.max_chars):
            explained = ftfy.fix_and_explain(chunk, config=ftfy_config(cfg))
            pieces.append(explained.text)
            for action, parameter in explained.explanation or []:
                step = f"{action}:{parameter}"
                if step not in fixes:
                    fixes.append(step)
        text = "".join(pieces)
    if _INVISIBLE.search(text):
        text = _INVISIBLE.sub("", text)
        fixes.append("remove:invisible_chars")
    if _ODD_SPACE.search(text):
        text = _ODD_SPACE.sub(" ", text)
        fixes.append("replace:unicode_spaces")
    return text, fixes


class FixEncoding(DocStage):
    name = "encoding"

    def __init__(self, config: EncodingConfig | None = None) -> None:
        super().__init__()
        self.config = config or EncodingConfig()

    def process(self, doc: Doc) -> None:
        doc.text, fixes = fix(doc.text, self.config)
        doc.encoding_fixes.extend(fixes)
        if doc.title:
            doc.title = fix(doc.title, self.config)[0]
