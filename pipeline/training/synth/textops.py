"""Typographic variants, smart quotes, noise and mojibake helpers (pure functions, seeded rng)."""

from __future__ import annotations

import random
import re
import textwrap

# ---------------------------------------------------------------- quotes
QUOTE_PAIRS = {
    "en": [("\u201c", "\u201d")],
    "de": [("\u201e", "\u201c"), ("\u00bb", "\u00ab")],
    "fr": [("\u00ab ", " \u00bb"), ("\u00ab\u00a0", "\u00a0\u00bb")],
    "es": [("\u00ab", "\u00bb"), ("\u201c", "\u201d")],
    "it": [("\u00ab", "\u00bb"), ("\u201c", "\u201d")],
    "nl": [("\u201c", "\u201d"), ("\u2018", "\u2019")],
    "pt": [("\u00ab", "\u00bb"), ("\u201c", "\u201d")],
}
CURLY_TO_STRAIGHT = str.maketrans(
    {
        "\u2018": "'",
        "\u2019": "'",
        "\u201a": "'",
        "\u201c": '"',
        "\u201d": '"',
        "\u201e": '"',
        "\u00ab": '"',
        "\u00bb": '"',
    }
)
_OPEN_CTX = set(" \t\n([{\u2014\u2013-/\u00a0")


def curl(s: str, pair: tuple[str, str] = ("\u201c", "\u201d")) -> str:
    """Straight quotes/apostrophes -> typographic ones (context heuristic)."""
    out = []
    n = len(s)
    for i, ch in enumerate(s):
        prev = s[i - 1] if i else " "
        nxt = s[i + 1] if i + 1 < n else " "
        if ch == '"':
            if prev in _OPEN_CTX:
                out.append(
                    pair[0].rstrip("\u00a0 ") if pair[0].endswith((" ", "\u00a0")) and nxt == " " else pair[0]
                )
            else:
                out.append(pair[1])
        elif ch == "'":
            if prev.isalnum() or prev in ".,!?" or (nxt.isdigit() and prev in _OPEN_CTX):
                out.append("\u2019")
            else:
                out.append("\u2018")
        else:
            out.append(ch)
    return "".join(out)


def straighten(s: str) -> str:
    s = (
        s.replace("\u00ab\u00a0", '"')
        .replace("\u00a0\u00bb", '"')
        .replace("\u00ab ", '"')
        .replace(" \u00bb", '"')
    )
    return s.translate(CURLY_TO_STRAIGHT)


# ---------------------------------------------------------------- typographic variants of boilerplate
BULLETS = [
    "\u2022 ",
    "\u00b7 ",
    "- ",
    "* ",
    "\u00bb ",
    "\u203a ",
    "\u2192 ",
    "\u25b6 ",
    "\u25ba ",
    "\u25a0 ",
    "\u2013 ",
    "> ",
    "\u25b8 ",
    "+ ",
]
ARROW_SUFFIX = [" \u2192", " \u00bb", " \u203a", " >>", " >", " \u25b8", " \u2794", "\u00a0\u203a"]


def dash_variant(s: str, rng: random.Random) -> str:
    d = rng.choice([" - ", " \u2013 ", " \u2014 ", "\u2014", " -- "])
    return re.sub(r" [-\u2013\u2014] |(?<=\w)\u2014(?=\w)| -- ", d, s)


def ellipsis_variant(s: str, rng: random.Random) -> str:
    if "\u2026" in s:
        return s.replace("\u2026", "...")
    return s.replace("...", "\u2026")


def double_space(s: str, rng: random.Random) -> str:
    idx = [m.start() for m in re.finditer(" ", s)]
    if not idx:
        return s
    i = rng.choice(idx)
    return s[:i] + "  " + s[i + 1 :]


def upper(s: str) -> str:
    # keep the German sharp s readable in caps, and do not upper-case the {x} tags we add
    return s.upper()


# ---------------------------------------------------------------- content noise (raw only)
ZW = ["\u200b", "\u2060", "\u200d", "\u00ad", "\u200c"]


def add_nbsp(s: str, rng: random.Random, rate: float = 0.12) -> str:
    return "".join("\u00a0" if ch == " " and rng.random() < rate else ch for ch in s)


def add_zero_width(s: str, rng: random.Random, rate: float = 0.02) -> str:
    out = []
    for i, ch in enumerate(s):
        out.append(ch)
        if ch.isalpha() and i + 1 < len(s) and s[i + 1].isalpha() and rng.random() < rate:
            out.append(rng.choice(ZW))
    return "".join(out)


ENTITY_MAP = {
    "\u2019": "&rsquo;",
    "\u2018": "&lsquo;",
    "\u201c": "&ldquo;",
    "\u201d": "&rdquo;",
    "\u00a3": "&pound;",
    "\u20ac": "&euro;",
    "\u2013": "&ndash;",
    "\u2014": "&mdash;",
    "\u00e9": "&eacute;",
    "\u00e8": "&egrave;",
    "\u00e0": "&agrave;",
    "\u00fc": "&uuml;",
    "\u00f6": "&ouml;",
    "\u00e4": "&auml;",
    "\u00df": "&szlig;",
    "\u00e7": "&ccedil;",
    "\u00f1": "&ntilde;",
    "\u00e1": "&aacute;",
    "\u00ed": "&iacute;",
    "\u00f3": "&oacute;",
    "\u00e3": "&atilde;",
    "\u00ab": "&laquo;",
    "\u00bb": "&raquo;",
    "\u00b0": "&deg;",
    "\u2026": "&hellip;",
    "\u00ea": "&ecirc;",
    "\u00fa": "&uacute;",
    "\u00f2": "&ograve;",
}


def text_entities(s: str, rng: random.Random, rate: float = 0.7, nbsp_rate: float = 0.05) -> str:
    """Literal HTML entities in a *text* scrape (content only)."""
    out = []
    for ch in s:
        if ch == "&":
            out.append("&amp;")
        elif ch in ENTITY_MAP and rng.random() < rate:
            out.append(ENTITY_MAP[ch])
        elif ch == " " and rng.random() < nbsp_rate:
            out.append("&nbsp;")
        else:
            out.append(ch)
    return "".join(out)


def html_escape(s: str, entities: bool = False) -> str:
    s = s.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
    if entities:
        s = "".join(ENTITY_MAP.get(ch, ch) for ch in s)
    return s


def attr_escape(s: str) -> str:
    return s.replace("&", "&amp;").replace('"', "&quot;").replace("<", "&lt;").replace(">", "&gt;")


def hard_wrap(s: str, width: int) -> str:
    return "\n".join(textwrap.wrap(s, width=width, break_long_words=False, break_on_hyphens=False))


def messy_lines(raw: str, rng: random.Random) -> str:
    out = []
    for line in raw.split("\n"):
        r = rng.random()
        if r < 0.2:
            line = " " + line
        elif r < 0.35:
            line = line + rng.choice([" ", "\t", " \t", "  "])
        out.append(line)
        if rng.random() < 0.1:
            out.append(rng.choice(["", " ", "\t"]))
    return rng.choice(["", "\n", "\n \n"]) + "\n".join(out) + rng.choice(["", "\n", "\n\n", " \n"])


# ---------------------------------------------------------------- mojibake
def _cp1252_table() -> list[str]:
    dec = []
    for b in range(256):
        try:
            dec.append(bytes([b]).decode("cp1252"))
        except UnicodeDecodeError:
            dec.append(chr(b))
    return dec


_CP_DEC = _cp1252_table()


def mojibake(s: str, enc: str) -> str:
    b = s.encode("utf-8")
    if enc == "latin1":
        return b.decode("latin-1")
    return "".join(_CP_DEC[x] for x in b)


SENT_RE = re.compile(r"(?<=[.!?])\s+(?=[A-Z\u00c0-\u00dd\u201c\u201e\u00ab\"'])")


def sentences(s: str) -> list[str]:
    return [x for x in SENT_RE.split(s) if x.strip()]
