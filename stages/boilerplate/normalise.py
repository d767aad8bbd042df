"""The typographic view of a text that rules match: one character for each family of variants.

Publishers write the same UI string with curly or straight quotes, en or em dashes, no-break or
thin spaces, arrows or bullets of every shape. The rule engine matches its patterns against
:func:`typographic_view` of the text, in which each such character is replaced by one plain
representative, so one pattern covers every typographic variant of a phrase. The replacement is
one character for one character: offsets in the view are offsets in the text, and every removal
still records the original text (``text[start:end] == snippet``). Case is left to the patterns
(``(?i)``): case folding changes the length of some strings (``ß`` -> ``ss``).
"""

from __future__ import annotations

import re

_FAMILIES: dict[str, str] = {
    "'": "\u2018\u2019\u201a\u201b\u2032\u02bc\u00b4\u0060\uff07",  # ‘ ’ ‚ ‛ ′ ʼ ´ ` ＇
    '"': "\u201c\u201d\u201e\u201f\u2033\uff02",  # “ ” „ ‟ ″ ＂
    "-": "\u2010\u2011\u2012\u2013\u2014\u2015\u2212\ufe58\ufe63\uff0d",  # ‐ ‑ ‒ – — ― − ﹘ ﹣ －
    " ": "\u00a0\u2000\u2001\u2002\u2003\u2004\u2005\u2006\u2007\u2008\u2009\u200a\u202f\u205f\u3000",
    "•": "\u00b7\u2022\u2023\u2043\u2219\u25aa\u25ab\u25cf\u25e6\u25a0\u25a1\u25cb",  # · • ‣ ⁃ ∙ ▪ ▫ ● ◦ ■ □ ○
    ">": "\u2192\u21d2\u2794\u279c\u27a1\u25b6\u25ba\u25b8\u27f6",  # → ⇒ ➔ ➜ ➡ ▶ ► ▸ ⟶
}

#: Each variant to its representative. Guillemets (« » ‹ ›) stay: they are quotation marks in
#: French and German headlines, and separators in breadcrumbs, and the rules tell the two apart.
PLAIN: dict[str, str] = {variant: plain for plain, variants in _FAMILIES.items() for variant in variants}
#: The variants as one character class: ``re.sub`` visits only them, where ``str.translate`` with a
#: dict looks up every character of the text (12x slower on news text with curly quotes).
_VARIANT = re.compile("[" + re.escape("".join(PLAIN)) + "]")
#: Variants an all-ASCII text can hold (the grave accent used as an apostrophe): the fast path
#: for ASCII text must still map them.
_ASCII_VARIANTS = tuple(c for c in PLAIN if c.isascii())


def _plain(match: re.Match[str]) -> str:
    return PLAIN[match.group()]


def typographic_view(text: str) -> str:
    """``text`` with every typographic variant replaced by its representative (same length)."""
    if text.isascii() and not any(c in text for c in _ASCII_VARIANTS):
        return text
    return _VARIANT.sub(_plain, text)
