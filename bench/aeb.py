"""AEB scoring for the benchmark, so it can check that speed was not bought with extraction
quality. The metric itself is the project's (:mod:`pipeline.evaluation.aeb`)."""

from __future__ import annotations

import json
from collections.abc import Mapping
from pathlib import Path

from pipeline.evaluation.aeb import SetScore, aggregate, score_page


def score(gold: Mapping[str, str], pred: Mapping[str, str]) -> SetScore:
    """Set-level AEB numbers over the ids in ``gold`` (a missing prediction counts as "")."""
    return aggregate([score_page(text, pred.get(key) or "") for key, text in gold.items()])


def load_gold(eval_dir: Path, prefix: str = "aeb") -> dict[str, str]:
    """Gold article bodies keyed like the benchmark corpus ids (``aeb/<page id>``)."""
    path = eval_dir / prefix / "ground-truth.json"
    if not path.exists():
        return {}
    data = json.loads(path.read_text(encoding="utf-8"))
    return {f"{prefix}/{k}": v.get("articleBody") or "" for k, v in data.items()}
