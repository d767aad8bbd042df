"""WCXB's own metric (Web Content Extraction Benchmark, Murrough Foley).

Per page a bag-of-words score over lower-cased ``\\w+`` tokens: overlap is the multiset
intersection, precision = overlap/|pred|, recall = overlap/|gold|, F1 from those two; an empty gold
and an empty prediction score 1, otherwise an empty side scores 0. Over the set: the means of page
precision, recall and F1 taken separately, plus the share of the annotators' ``with`` snippets found
in the output and of ``without`` snippets found (case-insensitive substring tests; lower is better).
"""

from __future__ import annotations

import re
import statistics
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass

_TOKEN = re.compile(r"\w+")


def bag(text: str) -> Counter[str]:
    return Counter(_TOKEN.findall(text.lower()))


@dataclass(frozen=True, slots=True)
class BagScore:
    precision: float
    recall: float
    f1: float


def score_bag(gold: str, pred: str) -> BagScore:
    """Bag-of-words precision/recall/F1 of one page."""
    g, p = bag(gold), bag(pred)
    n_gold, n_pred = sum(g.values()), sum(p.values())
    if n_gold == 0 and n_pred == 0:
        return BagScore(1.0, 1.0, 1.0)
    if n_gold == 0 or n_pred == 0:
        return BagScore(0.0, 0.0, 0.0)
    overlap = sum((g & p).values())
    precision, recall = overlap / n_pred, overlap / n_gold
    f1 = 2 * precision * recall / (precision + recall) if precision + recall > 0 else 0.0
    return BagScore(precision, recall, f1)


@dataclass(frozen=True, slots=True)
class SnippetHits:
    """How many of a page's ``with``/``without`` snippets occur in the output."""

    with_found: int
    with_total: int
    without_found: int
    without_total: int


def snippet_hits(pred: str, with_: Sequence[str], without: Sequence[str]) -> SnippetHits:
    low = pred.lower()
    found_with = sum(s.lower() in low for s in with_)
    found_without = sum(s.lower() in low for s in without)
    return SnippetHits(found_with, len(with_), found_without, len(without))


@dataclass(frozen=True, slots=True)
class WcxbSetScore:
    precision: float
    recall: float
    f1: float
    with_rate: float  # share of must-appear snippets found (higher is better)
    without_rate: float  # share of must-not-appear snippets found (lower is better)
    n: int


def aggregate_wcxb(bags: Sequence[BagScore], hits: Sequence[SnippetHits]) -> WcxbSetScore:
    def mean(xs: Sequence[float]) -> float:
        return statistics.fmean(xs) if xs else 0.0

    def rate(found: int, total: int) -> float:
        return found / total if total else 0.0

    return WcxbSetScore(
        precision=mean([b.precision for b in bags]),
        recall=mean([b.recall for b in bags]),
        f1=mean([b.f1 for b in bags]),
        with_rate=rate(sum(h.with_found for h in hits), sum(h.with_total for h in hits)),
        without_rate=rate(sum(h.without_found for h in hits), sum(h.without_total for h in hits)),
        n=len(bags),
    )
