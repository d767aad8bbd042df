"""Language-identification accuracy: predicted code vs. the label langdetect itself would use."""

from __future__ import annotations

from collections import Counter, defaultdict
from collections.abc import Sequence
from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class LangSentence:
    text: str
    lang: str  # ISO 639-1 label of the set
    expected: str  # the code langdetect uses for that language (``zh-cn`` for ``zh``)


@dataclass(frozen=True, slots=True)
class LangRow:
    lang: str
    n: int
    correct: int

    @property
    def accuracy(self) -> float:
        return self.correct / self.n if self.n else 0.0


@dataclass(frozen=True, slots=True)
class Confusion:
    expected: str
    predicted: str
    count: int
    example: str


@dataclass(frozen=True)
class LangidScore:
    n: int
    correct: int
    per_lang: tuple[LangRow, ...]
    confusions: tuple[Confusion, ...]  # most frequent first

    @property
    def accuracy(self) -> float:
        return self.correct / self.n if self.n else 0.0


def score_langid(sentences: Sequence[LangSentence], predicted: Sequence[str]) -> LangidScore:
    """Accuracy overall and per expected language, and the (expected, predicted) confusions."""
    per_lang: dict[str, list[bool]] = defaultdict(list)
    confusions: Counter[tuple[str, str]] = Counter()
    examples: dict[tuple[str, str], str] = {}
    for sent, got in zip(sentences, predicted, strict=True):
        ok = got == sent.expected
        per_lang[sent.expected].append(ok)
        if not ok:
            confusions[sent.expected, got] += 1
            examples.setdefault((sent.expected, got), sent.text)
    rows = tuple(LangRow(lang, len(v), sum(v)) for lang, v in sorted(per_lang.items()))
    conf = tuple(
        Confusion(e, p, c, examples[e, p])
        for (e, p), c in sorted(confusions.items(), key=lambda kv: (-kv[1], kv[0]))
    )
    return LangidScore(sum(r.n for r in rows), sum(r.correct for r in rows), rows, conf)
