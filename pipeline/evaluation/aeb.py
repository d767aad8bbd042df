"""The Article Extraction Benchmark metric (scrapinghub/article-extraction-benchmark), re-implemented.

Per page: tokens are the ``\\w+`` matches (case kept); shingles are token 4-grams (a text of 1-3
tokens gives one shorter shingle, an empty text none), counted as multisets. ``tp``/``fp``/``fn``
are normalised by their sum so every page weighs the same. Over a set: precision is the mean page
precision over pages with ``tp + fp > 0``, recall the mean page recall over pages with
``tp + fn > 0``, F1 is computed from those two means, accuracy is the share of pages whose whole
token list equals gold's. ``±`` values are standard deviations over bootstrap resamples of pages.
"""

from __future__ import annotations

import random
import re
import statistics
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass

_TOKEN = re.compile(r"\w+")
SHINGLE_SIZE = 4


def tokenize(text: str | None) -> list[str]:
    """All ``\\w+`` matches, case kept."""
    return _TOKEN.findall(text or "")


def shingles(tokens: Sequence[str], n: int = SHINGLE_SIZE) -> Counter[tuple[str, ...]]:
    """Token n-grams as a multiset; 1..n-1 tokens give one short shingle, none give none."""
    if not tokens:
        return Counter()
    return Counter(tuple(tokens[i : i + n]) for i in range(max(1, len(tokens) - n + 1)))


@dataclass(frozen=True, slots=True)
class PageScore:
    """One page: normalised shingle counts and whether the token lists match exactly."""

    tp: float
    fp: float
    fn: float
    exact: bool

    @property
    def precision(self) -> float:
        if self.fp == 0 and self.fn == 0:
            return 1.0
        if self.tp == 0 and self.fp == 0:
            return 0.0
        return self.tp / (self.tp + self.fp)

    @property
    def recall(self) -> float:
        if self.fp == 0 and self.fn == 0:
            return 1.0
        if self.tp == 0 and self.fn == 0:
            return 0.0
        return self.tp / (self.tp + self.fn)

    @property
    def f1(self) -> float:
        p, r = self.precision, self.recall
        return 2 * p * r / (p + r) if p + r > 0 else 0.0

    @property
    def has_prediction(self) -> bool:
        return self.tp + self.fp > 0

    @property
    def has_gold(self) -> bool:
        return self.tp + self.fn > 0


def score_page(gold: str | None, pred: str | None) -> PageScore:
    """Score one predicted article body against its gold body (None counts as "")."""
    gold_tokens, pred_tokens = tokenize(gold), tokenize(pred)
    g, p = shingles(gold_tokens), shingles(pred_tokens)
    tp = float(sum((g & p).values()))
    fp = float(sum((p - g).values()))
    fn = float(sum((g - p).values()))
    total = tp + fp + fn
    if total > 0:
        tp, fp, fn = tp / total, fp / total, fn / total
    return PageScore(tp, fp, fn, gold_tokens == pred_tokens)


@dataclass(frozen=True, slots=True)
class SetScore:
    """Set-level AEB numbers; the ``*_std`` fields are bootstrap deviations (0.0 without bootstrap)."""

    f1: float
    precision: float
    recall: float
    accuracy: float
    n: int
    f1_std: float = 0.0
    precision_std: float = 0.0
    recall_std: float = 0.0
    accuracy_std: float = 0.0


def _mean(values: Sequence[float]) -> float:
    return statistics.fmean(values) if values else 0.0


def _point(pages: Sequence[PageScore]) -> tuple[float, float, float, float]:
    """(f1, precision, recall, accuracy) of a set of pages."""
    precision = _mean([p.precision for p in pages if p.has_prediction])
    recall = _mean([p.recall for p in pages if p.has_gold])
    f1 = 2 * precision * recall / (precision + recall) if precision + recall > 0 else 0.0
    return f1, precision, recall, _mean([float(p.exact) for p in pages])


def _stdev(values: Sequence[float]) -> float:
    return statistics.stdev(values) if len(values) > 1 else 0.0


def aggregate(pages: Sequence[PageScore], *, n_bootstrap: int = 0, seed: int = 0) -> SetScore:
    """Set metrics; with ``n_bootstrap`` > 0 also the bootstrap standard deviations (seeded)."""
    f1, precision, recall, accuracy = _point(pages)
    if n_bootstrap <= 0 or not pages:
        return SetScore(f1, precision, recall, accuracy, len(pages))
    rng = random.Random(seed)
    last = len(pages) - 1
    samples = [_point([pages[rng.randint(0, last)] for _ in pages]) for _ in range(n_bootstrap)]
    f1s, ps, rs, accs = zip(*samples, strict=True)
    return SetScore(
        f1, precision, recall, accuracy, len(pages), _stdev(f1s), _stdev(ps), _stdev(rs), _stdev(accs)
    )
