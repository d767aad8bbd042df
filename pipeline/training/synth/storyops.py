"""Edits that make each telling of an invented story a little different: a sentence left out of
a paragraph now and then (:func:`drop_sentence`) and the story's numbers varied, consistently
within one document (:class:`NumberVariator`). Both draw from the document's generator.
"""

from __future__ import annotations

import random
import re
from typing import Any

from . import textops as T


def drop_sentence(p: Any, rng: random.Random, prob: float = 0.35) -> Any:
    """Sometimes leave out one sentence of a multi-sentence paragraph (quotes must stay balanced)."""
    if not isinstance(p, str) or p.startswith(("## ", "> ")) or rng.random() >= prob:
        return p
    sents = T.sentences(p)
    if len(sents) < 2:
        return p
    i = rng.randrange(len(sents))
    kept = sents[:i] + sents[i + 1 :]
    if any(x.count('"') % 2 for x in kept) or sents[i].count('"') % 2:
        return p
    return " ".join(kept)


class NumberVariator:
    """Vary the numbers of an invented story per document (consistently within the document).

    Years, numbers glued to letters and one-digit numbers stay as they are."""

    NUM = re.compile(r"(?<![\w.,:\-\u2013])(\d{1,3}(?:[.,]\d{3})+|\d+(?:[.,]\d+)?)(?![\w:\u2013]|[.,]\d|-\d)")

    def __init__(self, rng: random.Random) -> None:
        self.rng = rng
        self.map: dict[str, str] = {}

    def _new(self, tok: str) -> str:
        digits = re.sub(r"\D", "", tok)
        if len(digits) < 2 or re.fullmatch(r"(19|20)\d\d", tok):
            return tok
        sep = None
        m = re.fullmatch(r"\d{1,3}([.,])\d{3}(?:\1\d{3})*", tok)
        if m:
            sep = m.group(1)
            val = int(digits)
        elif re.fullmatch(r"\d+[.,]\d+", tok):
            a, b = re.split(r"[.,]", tok)
            dec = tok[len(a)]
            v = float(a + "." + b) * self.rng.uniform(0.6, 1.6)
            return f"{v:.{len(b)}f}".replace(".", dec)
        else:
            val = int(tok)
        v = max(2, round(val * self.rng.uniform(0.6, 1.6)))
        mag = 10 ** max(0, len(str(val)) - 2)
        v = max(mag, round(v / mag) * mag)
        out = str(v)
        if sep and v >= 1000:
            out = f"{v:,}".replace(",", sep)
        return out

    def apply(self, s: str) -> str:
        def rep(m: re.Match[str]) -> str:
            t = m.group(0)
            if t not in self.map:
                self.map[t] = self._new(t)
            return self.map[t]

        return self.NUM.sub(rep, s)
