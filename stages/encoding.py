"""encoding: repair mojibake and character-level damage with ftfy, recording what was done.

:func:`fix` is a plain ``str -> (str, fixes)`` function. The ftfy configuration is explicit and
comes from :class:`~pipeline.core.config.EncodingConfig`: curly quotes and ligatures stay as written.
A cheap check skips ftfy entirely for text it could not change (plain ASCII without entities or
control characters), which is most English text. Otherwise ftfy runs line by line, the way
``ftfy.fix_text`` segments text, and only on lines it could change (see :func:`_ftfy_keeps`):
a document with one mojibake line no longer sends its other lines through every fixer.
"""

from __future__ import annotations

import re
import unicodedata
from functools import lru_cache
from types import ModuleType
from typing import TYPE_CHECKING

from pipeline.core.config import RANGES, EncodingConfig
from pipeline.core.record import Doc
from pipeline.core.stage import DocStage

if TYPE_CHECKING:
    import ftfy

# Invisible characters that scrapes carry and a reader never wants: zero-width space/joiners,
# word joiner, BOM, soft hyphen. The joiners (ZWNJ U+200C, ZWJ U+200D) are spelling, though,
# between two letters or marks of a script that writes them, or two parts of an emoji
# (:func:`_joining`): Persian, Urdu and Kurdish write ZWNJ inside words (``می‌خواهم``), Indic
# scripts and Sinhala use both to choose conjunct forms, and emoji sequences are joined by ZWJ
# (a family is one emoji, not four). Elsewhere (Latin, Cyrillic, CJK) they are scrape noise.
_INVISIBLE = re.compile("[\u200b\u200c\u200d\u2060\ufeff\u00ad]")
_ALWAYS_INVISIBLE = re.compile("[\u200b\u2060\ufeff\u00ad]")
_JOINER = re.compile("[\u200c\u200d]+")
# Spaces that are not U+0020 (NBSP, narrow NBSP, figure space, thin spaces, ideographic space...).
_ODD_SPACE = re.compile("[\u00a0\u2000-\u200a\u202f\u205f\u3000]")
_NEEDS_FTFY = re.compile(r"[^\x20-\x7e\n\t]|&[#\w]+;?")
# What is left of a UTF-8 right double quote (E2 80 9D) read as cp1252 once the undefined 0x9D
# byte has been dropped on the way (HTML parsers drop it): "â€" before a space, punctuation or
# the end. ftfy cannot repair it because the third byte is gone; it is never legitimate text.
_LOST_RDQUO = re.compile(r"â€(?=[ \t\r\n.,;:!?)\]\}]|$)")


@lru_cache(maxsize=1)
def _ftfy() -> ModuleType:
    """ftfy, imported on first use: a coordinator that only hands the stage to its workers does
    not load it (~0.09 s), and the workers' forkserver imports it beforehand
    (:mod:`pipeline.execution.preload`)."""
    import ftfy
    import ftfy.badness

    return ftfy


@lru_cache(maxsize=16)
def ftfy_config(config: EncodingConfig) -> ftfy.TextFixerConfig:
    from ftfy import TextFixerConfig

    return TextFixerConfig(
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
    """Split at line ends into pieces of at most ``size`` chars (a longer line is cut at ``size``)."""
    if size < 1:  # no piece would ever be taken off: the loop below would never end
        raise ValueError(f"chunk size must be >= 1, got {size}")
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


_LINE = re.compile(r"[^\n]*\n|[^\n]+")


def _segments(text: str, config: EncodingConfig) -> list[str]:
    """Line by line, newline kept, as ``ftfy.fix_text`` segments; over-long lines are cut."""
    out: list[str] = []
    for line in _LINE.findall(text):
        out.extend(_chunks(line, config.max_chars) if len(line) > config.max_chars else (line,))
    return out


@lru_cache(maxsize=1)
def _ftfy_triggers() -> re.Pattern[str]:
    """Characters that some ftfy fixer other than the encoding fix acts on: ``&`` (entities), C0/C1
    controls and ftfy's other control characters, CR and odd line breaks, lone surrogates."""
    from ftfy.chardata import CONTROL_CHARS

    codes = set(CONTROL_CHARS) | set(range(0x80, 0xA0)) | {0x0D, 0x1B, 0x85, 0x2028, 0x2029, ord("&")}
    ranges = "".join(f"\\U{c:08x}" for c in sorted(codes) if c != 0x0A and c != 0x09)
    return re.compile(f"[{ranges}\\ud800-\\udfff]")


#: How far a pattern of ftfy's "is it mojibake?" regex (``ftfy.badness.BADNESS_RE``) may reach from
#: a non-ASCII character for :func:`looks_bad` to search near them: ftfy 6.2-6.3's patterns each
#: hold one and match at most 7 characters. An ftfy whose regex reaches further, or has none by
#: that name, gets its own ``is_bad`` (:func:`_badness_window`).
BADNESS_REACH = 7
_NON_ASCII_RUN = re.compile(r"[^\x00-\x7f]+")


@lru_cache(maxsize=1)
def _badness_window() -> re.Pattern[str] | None:
    """ftfy's badness regex when its longest match is within :data:`BADNESS_REACH` (read from the
    installed ftfy's pattern once), else None."""
    pattern = getattr(_ftfy().badness, "BADNESS_RE", None)
    if not isinstance(pattern, re.Pattern):
        return None
    try:
        import re._parser as sre  # type: ignore[import-not-found]  # no stubs: only its width is read

        widest = sre.parse(pattern.pattern, pattern.flags).getwidth()[1]
    except (ImportError, AttributeError, re.error):
        return None
    return pattern if widest <= BADNESS_REACH else None


def looks_bad(text: str) -> bool:
    """``ftfy.badness.is_bad(text)``, searched only within :data:`BADNESS_REACH` of the text's
    non-ASCII characters, where every match must be: on a European-language line with a few
    accented letters that is a fraction of the line (ftfy tries its ~40 patterns at every
    position). ``search(text, pos, endpos)`` sees the whole text, so ``^`` still means its start."""
    pattern = _badness_window()
    if pattern is None:
        return bool(_ftfy().badness.is_bad(text))
    lo = hi = -1  # the window being grown: runs closer than two reaches share one search
    for run in _NON_ASCII_RUN.finditer(text):
        start, end = run.start() - BADNESS_REACH, run.end() + BADNESS_REACH
        if start <= hi:
            hi = end
            continue
        if hi >= 0 and pattern.search(text, max(0, lo), hi):
            return True
        lo, hi = start, end
    return hi >= 0 and pattern.search(text, max(0, lo), hi) is not None


def _ftfy_keeps(segment: str, config: EncodingConfig) -> bool:
    """True when ftfy would return ``segment`` unchanged, decided cheaply: no character any of its
    fixers acts on, already normalised, and ftfy's own "is it mojibake?" gate says no. Only for
    the fixers the default config runs; other configs always go through ftfy."""
    if config.fix_latin_ligatures or config.fix_character_width or config.uncurl_quotes:
        return False
    if not _NEEDS_FTFY.search(segment):
        return True
    if _ftfy_triggers().search(segment):
        return False
    if config.normalization is not None and not unicodedata.is_normalized(config.normalization, segment):
        return False
    return not (config.fix_encoding and looks_bad(segment))


def _fix_segment(segment: str, config: EncodingConfig) -> ftfy.ExplainedText:
    """``ftfy.fix_and_explain(segment)``, without its second pass when the first one's result is a
    fixed point (:func:`_ftfy_keeps`), the common case of a mojibake line or an entity.

    ftfy repeats its fixers until the text stops changing, so a segment it repairs costs two
    passes of every fixer and two badness searches. The first pass is done here as ftfy does it
    (HTML entities, then the encoding fix; the other fixers leave a text ``_ftfy_keeps`` accepts
    unchanged), and ftfy itself runs when its result is not one ``_ftfy_keeps`` accepts. The
    result and explanation are ftfy's own (tested against it)."""
    lib = _ftfy()
    ftfy_cfg = ftfy_config(config)
    text = segment
    steps: list[ftfy.ExplanationStep] = []
    if ftfy_cfg.unescape_html is True or (ftfy_cfg.unescape_html == "auto" and "<" not in segment):
        text = lib.fixes.unescape_html(segment)
        if text != segment:
            steps.append(lib.ExplanationStep("apply", "unescape_html"))
    if ftfy_cfg.fix_encoding and looks_bad(text):
        encoded = lib.fix_encoding_and_explain(text, ftfy_cfg)
        text = encoded.text
        steps.extend(encoded.explanation or [])
    if text != segment and _ftfy_keeps(text, config):
        return lib.ExplainedText(text, steps)  # type: ignore[no-any-return]
    return lib.fix_and_explain(segment, config=ftfy_cfg)  # type: ignore[no-any-return]


#: The blocks whose scripts write ZWNJ/ZWJ: Hebrew to Arabic Extended-A (Arabic, Syriac, Thaana,
#: N'Ko...), the Indic scripts to Sinhala, Tibetan, Myanmar, Khmer and Mongolian, and the Hebrew and
#: Arabic presentation forms.
_JOINING_BLOCKS = (
    ("\u0590", "\u08ff"),
    ("\u0900", "\u0dff"),
    ("\u0f00", "\u109f"),
    ("\u1780", "\u18af"),
    ("\ua8e0", "\ua8ff"),
    ("\ufb1d", "\ufdff"),
    ("\ufe70", "\ufefe"),
)


def _joining(char: str) -> bool:
    """A letter or mark of a script that writes joiners, or part of an emoji: a symbol (``So``,
    a skin tone ``Sk``) or the emoji presentation selector U+FE0F."""
    category = unicodedata.category(char)
    if category in ("So", "Sk") or char == "\ufe0f":
        return True
    return category[0] in "LM" and any(lo <= char <= hi for lo, hi in _JOINING_BLOCKS)


def _strip_joiners(text: str) -> str:
    """``text`` without the ZWNJ and ZWJ that join nothing: kept only between two characters
    that :func:`_joining` accepts (``Sub\u200dscribe`` loses it, ``می\u200cخواهم`` keeps it); of
    a run of joiners between two such characters, the first is kept (a doubled one is no other
    spelling, and dropping both glued the word's parts)."""

    def keep(match: re.Match[str]) -> str:
        i, j = match.start(), match.end()
        joins = i > 0 and j < len(text) and _joining(text[i - 1]) and _joining(text[j])
        return match.group()[0] if joins else ""

    return _JOINER.sub(keep, text)


def fix(text: str, config: EncodingConfig | None = None) -> tuple[str, list[str]]:
    """Repair ``text``; return it with the list of fixes applied (``"action:parameter"``)."""
    cfg = config or EncodingConfig()
    fixes: list[str] = []
    if cfg.remove_control_chars and "\x0b" in text:
        # A vertical tab is a line break (Word's manual one, some CMS exports): ftfy's control
        # character removal would delete it and glue the words on either side ("andvertical").
        text = text.replace("\x0b", "\n")
        fixes.append("replace:vertical_tab")
    if cfg.fix_encoding and _LOST_RDQUO.search(text):
        # Before ftfy, which would read "â€ " as a dagger (E2 80 A0 with the NBSP turned space).
        text = _LOST_RDQUO.sub("\u201d", text)
        fixes.append("replace:lost_c1_quote")
    if _NEEDS_FTFY.search(text):
        pieces: list[str] = []
        for chunk in _segments(text, cfg):
            if _ftfy_keeps(chunk, cfg):
                pieces.append(chunk)
                continue
            explained = _fix_segment(chunk, cfg)
            pieces.append(explained.text)
            for action, parameter in explained.explanation or []:
                step = f"{action}:{parameter}"
                if step not in fixes:
                    fixes.append(step)
        text = "".join(pieces)
    if _INVISIBLE.search(text):
        stripped = _strip_joiners(_ALWAYS_INVISIBLE.sub("", text))
        if stripped != text:
            text = stripped
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
        # an EncodingConfig built in Python has not been through Config.validate
        RANGES["encoding.max_chars"].check("encoding.max_chars", self.config.max_chars)

    def process(self, doc: Doc) -> None:
        doc.text, fixes = fix(doc.text, self.config)
        doc.encoding_fixes.extend(fixes)
        if doc.title:
            doc.title = fix(doc.title, self.config)[0]
