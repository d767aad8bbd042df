"""The newsboiler metric: boilerplate removal recall, content preservation, exact match, mojibake.

Re-implemented from the set's README (``newsboiler/README.md``):

* an item (one labelled boilerplate string, maybe several lines) is *removed* when none of its
  lines survives; a line of ``n`` tokens survives when some run of ``k`` of its tokens (``k = n``
  for ``n <= 2``, else ``ceil(n/2)``) occurs in the output more often than in the gold text.
  Tokens: NFKC, zero-width characters dropped, curly -> straight quotes, casefold, every
  non-alphanumeric character -> space. Both ``text`` and ``raw_text`` are tried.
* preservation: share of gold sentences found verbatim in the normalised output, per document
  (a set without documents has none: n/a, as the reference scorer prints it; exact too).
* exact: normalised output == normalised gold (normalisation: NFC, curly -> straight quotes,
  whitespace runs -> one space, strip).
* mojibake fixed (documents noted ``mojibake``): no more mojibake signatures than gold and at least
  90 % of gold's non-ASCII tokens present.
"""

from __future__ import annotations

import math
import re
import statistics
import unicodedata
from collections import Counter, defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field

_ZERO_WIDTH = dict.fromkeys(map(ord, "\u200b\u200c\u200d\u2060\ufeff\u00ad"))
_QUOTES = str.maketrans(
    {
        "\u2018": "'",
        "\u2019": "'",
        "\u201a": "'",
        "\u201b": "'",
        "\u2032": "'",
        "\u201c": '"',
        "\u201d": '"',
        "\u201e": '"',
        "\u201f": '"',
        "\u2033": '"',
    }
)
_WS = re.compile(r"\s+")
_SENTENCE_END = re.compile(r"(?<=[.!?\u2026])\s+|(?<=[.!?\u2026][\"'\u00bb)\]])\s+")
_BLOCK_SEP = re.compile(r"\n\s*\n")
# a UTF-8 lead byte seen through cp1252/latin-1, followed by a continuation byte seen the same way
_CONTINUATION = (
    "\u0080-\u00bf\u0152\u0153\u0160\u0161\u0178\u017d\u017e\u0192\u02c6\u02dc\u2013\u2014"
    "\u2018-\u201e\u2020-\u2022\u2026\u2030\u2039\u203a\u20ac\u2122"
)
MOJIBAKE_SIGNATURE = re.compile("[\u00c2-\u00f4][" + _CONTINUATION + "]")
_TOKEN_STRIP = ".,;:!?\"'()[]"


@dataclass(frozen=True, slots=True)
class BoilerItem:
    category: str
    text: str
    raw_text: str | None = None


@dataclass(frozen=True, slots=True)
class NewsDoc:
    """One labelled document of the set."""

    id: str
    format: str
    lang: str
    raw: str
    gold_text: str
    boilerplate: tuple[BoilerItem, ...] = ()
    url: str | None = None
    notes: str = ""

    @property
    def has_mojibake(self) -> bool:
        return "mojibake" in self.notes


def norm_text(text: str) -> str:
    """NFC, curly -> straight quotes, whitespace runs -> one space, stripped."""
    return _WS.sub(" ", unicodedata.normalize("NFC", text).translate(_QUOTES)).strip()


def match_tokens(text: str) -> list[str]:
    """Tokens used to decide whether a boilerplate line survived."""
    folded = unicodedata.normalize("NFKC", text).translate(_ZERO_WIDTH).translate(_QUOTES).casefold()
    return "".join(ch if ch.isalnum() else " " for ch in folded).split()


def gold_sentences(gold: str) -> list[str]:
    out: list[str] = []
    for block in _BLOCK_SEP.split(gold):
        out.extend(s for s in _SENTENCE_END.split(norm_text(block)) if s.strip())
    return out


class NGramIndex:
    """Counts of token runs of any length over one token list, built lazily per length."""

    def __init__(self, tokens: Sequence[str]) -> None:
        self._tokens = tokens
        self._by_len: dict[int, Counter[tuple[str, ...]]] = {}

    def count(self, gram: tuple[str, ...]) -> int:
        k = len(gram)
        if k not in self._by_len:
            t = self._tokens
            self._by_len[k] = Counter(tuple(t[i : i + k]) for i in range(len(t) - k + 1))
        return self._by_len[k][gram]


def run_length(n: int) -> int:
    return n if n <= 2 else math.ceil(n / 2)


def line_survives(line: str, output: NGramIndex, gold: NGramIndex) -> bool:
    toks = match_tokens(line)
    if not toks:
        return False
    k = run_length(len(toks))
    return any(
        output.count(tuple(toks[i : i + k])) > gold.count(tuple(toks[i : i + k]))
        for i in range(len(toks) - k + 1)
    )


def item_survives(item: BoilerItem, output: NGramIndex, gold: NGramIndex) -> bool:
    for form in (item.text, item.raw_text):
        if form and any(line_survives(ln, output, gold) for ln in form.splitlines() if ln.strip()):
            return True
    return False


def nonascii_tokens(gold: str) -> list[str]:
    out: list[str] = []
    for tok in norm_text(gold).split(" "):
        tok = tok.strip(_TOKEN_STRIP)
        if tok and any(ord(c) > 127 for c in tok):
            out.append(tok)
    return out


def mojibake_fixed(gold: str, pred: str, normalised_pred: str) -> bool:
    if len(MOJIBAKE_SIGNATURE.findall(pred)) > len(MOJIBAKE_SIGNATURE.findall(gold)):
        return False
    wanted = nonascii_tokens(gold)
    found = sum(t in normalised_pred for t in wanted) / len(wanted) if wanted else 1.0
    return found >= 0.9


@dataclass(frozen=True, slots=True)
class DocScore:
    """One document: which items were removed, which gold sentences were lost."""

    doc: NewsDoc
    removed: tuple[bool, ...]  # parallel to doc.boilerplate
    n_sentences: int
    missing: tuple[str, ...]
    exact: bool
    mojibake_fixed: bool | None  # None: the document has no mojibake

    @property
    def preservation(self) -> float:
        return 1.0 - len(self.missing) / self.n_sentences if self.n_sentences else 1.0

    @property
    def survivors(self) -> list[BoilerItem]:
        return [it for it, gone in zip(self.doc.boilerplate, self.removed, strict=True) if not gone]


def score_doc(doc: NewsDoc, pred: str) -> DocScore:
    out_index, gold_index = NGramIndex(match_tokens(pred)), NGramIndex(match_tokens(doc.gold_text))
    removed = tuple(not item_survives(it, out_index, gold_index) for it in doc.boilerplate)
    sentences = gold_sentences(doc.gold_text)
    npred = norm_text(pred)
    return DocScore(
        doc=doc,
        removed=removed,
        n_sentences=len(sentences),
        missing=tuple(s for s in sentences if s not in npred),
        exact=npred == norm_text(doc.gold_text),
        mojibake_fixed=mojibake_fixed(doc.gold_text, pred, npred) if doc.has_mojibake else None,
    )


@dataclass(frozen=True, slots=True)
class CategoryRow:
    category: str
    items: int
    removed: int

    @property
    def recall(self) -> float:
        return self.removed / self.items if self.items else 0.0


@dataclass(frozen=True, slots=True)
class GroupRow:
    """Removal recall (micro over items; None without items), preservation and exact for a group."""

    group: str
    docs: int
    removal: float | None
    preservation: float
    exact: float


@dataclass(frozen=True)
class NewsboilerScore:
    docs: tuple[DocScore, ...]
    categories: tuple[CategoryRow, ...] = field(default=())
    groups: tuple[GroupRow, ...] = field(default=())

    @property
    def removal_recall(self) -> float | None:
        flags = [gone for d in self.docs for gone in d.removed]
        return statistics.fmean(flags) if flags else None

    @property
    def removal_macro(self) -> float | None:
        return statistics.fmean(c.recall for c in self.categories) if self.categories else None

    @property
    def preservation(self) -> float | None:
        """Mean over documents; None without documents (the reference scorer's n/a)."""
        return statistics.fmean(d.preservation for d in self.docs) if self.docs else None

    @property
    def preservation_micro(self) -> float:
        total = sum(d.n_sentences for d in self.docs)
        return sum(d.n_sentences - len(d.missing) for d in self.docs) / max(1, total)

    @property
    def exact(self) -> float | None:
        """Share of documents cleaned exactly; None without documents (the reference's n/a)."""
        return statistics.fmean(float(d.exact) for d in self.docs) if self.docs else None

    @property
    def mojibake(self) -> tuple[int, int]:
        """(fixed, documents with mojibake)."""
        flags = [d.mojibake_fixed for d in self.docs if d.mojibake_fixed is not None]
        return sum(flags), len(flags)


def _group_row(name: str, docs: Sequence[DocScore]) -> GroupRow:
    flags = [gone for d in docs for gone in d.removed]
    return GroupRow(
        group=name,
        docs=len(docs),
        removal=statistics.fmean(flags) if flags else None,
        preservation=statistics.fmean(d.preservation for d in docs),
        exact=statistics.fmean(float(d.exact) for d in docs),
    )


def group_names(doc: NewsDoc) -> Iterable[str]:
    yield f"format={doc.format}"
    yield f"lang={doc.lang}"
    if doc.has_mojibake:
        yield "mojibake"
    if not doc.boilerplate:
        yield "no_boiler"


def score_set(docs: Sequence[NewsDoc], predictions: dict[str, str]) -> NewsboilerScore:
    """Score every document (a missing prediction counts as empty output)."""
    scored = tuple(score_doc(d, predictions.get(d.id, "")) for d in docs)
    per_cat: dict[str, list[bool]] = defaultdict(list)
    per_group: dict[str, list[DocScore]] = defaultdict(list)
    for s in scored:
        for item, gone in zip(s.doc.boilerplate, s.removed, strict=True):
            per_cat[item.category].append(gone)
        for name in group_names(s.doc):
            per_group[name].append(s)
    categories = tuple(CategoryRow(c, len(v), sum(v)) for c, v in sorted(per_cat.items()))
    groups = tuple(_group_row(g, per_group[g]) for g in sorted(per_group))
    return NewsboilerScore(scored, categories, groups)
