"""The Article Extraction Benchmark metric (shingle F1), as ``../shared/eval/README.md`` defines it,
so the benchmark can check that speed was not bought with extraction quality."""

from __future__ import annotations

import json
import re
from collections import Counter
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

_TOKEN = re.compile(r"\w+")


@dataclass(frozen=True)
class Score:
    f1: float
    precision: float
    recall: float
    n: int


def shingles(text: str) -> Counter[tuple[str, ...]]:
    tokens = _TOKEN.findall(text)
    if not tokens:
        return Counter()
    if len(tokens) < 4:
        return Counter([tuple(tokens)])
    return Counter(tuple(tokens[i : i + 4]) for i in range(len(tokens) - 3))


def page_scores(gold: str, pred: str) -> tuple[float | None, float | None]:
    """(precision, recall) of one page; None where the page does not enter that mean."""
    g, p = shingles(gold), shingles(pred)
    tp = float(sum((g & p).values()))
    fp = float(sum((p - g).values()))
    fn = float(sum((g - p).values()))
    total = tp + fp + fn
    if total > 0:
        tp, fp, fn = tp / total, fp / total, fn / total
    if fp == 0 and fn == 0:
        prec, rec = 1.0, 1.0
    elif tp == 0 and fp == 0:
        prec, rec = 0.0, tp / (tp + fn)
    elif tp == 0 and fn == 0:
        prec, rec = tp / (tp + fp), 0.0
    else:
        prec, rec = tp / (tp + fp), tp / (tp + fn)
    return (prec if tp + fp > 0 else None), (rec if tp + fn > 0 else None)


def score(gold: Mapping[str, str], pred: Mapping[str, str]) -> Score:
    """Set-level F1 from the mean page precision and mean page recall, over the ids in ``gold``."""
    precs: list[float] = []
    recs: list[float] = []
    for key, gold_text in gold.items():
        prec, rec = page_scores(gold_text, pred.get(key) or "")
        if prec is not None:
            precs.append(prec)
        if rec is not None:
            recs.append(rec)
    p = sum(precs) / len(precs) if precs else 0.0
    r = sum(recs) / len(recs) if recs else 0.0
    f1 = 2 * p * r / (p + r) if p + r > 0 else 0.0
    return Score(f1, p, r, len(gold))


def load_gold(eval_dir: Path, prefix: str = "aeb") -> dict[str, str]:
    """Gold article bodies keyed like the benchmark corpus ids (``aeb/<page id>``)."""
    path = eval_dir / prefix / "ground-truth.json"
    if not path.exists():
        return {}
    data = json.loads(path.read_text(encoding="utf-8"))
    return {f"{prefix}/{k}": v.get("articleBody") or "" for k, v in data.items()}
