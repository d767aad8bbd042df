"""``cleanwire train`` as functions: the default recipe, loading the sets, fitting, the report.

The default recipe (the shipped model's):

* newsboiler's dev set (``<eval data>/newsboiler/dev.jsonl``, when present), weight 20;
* WCXB's training pages (``<eval data>/wcxb-train/``, when present), weight 1;
* the synthetic corpus (:data:`pipeline.training.synth.TRAIN_RECIPE`, generated), weight 1;

plus any ``--data FILE.jsonl`` in newsboiler's schema (weight 1), in that order. Same data, same
order, same settings: the same model file, byte for byte.
"""

from __future__ import annotations

import dataclasses
import hashlib
import time
from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from pipeline.core.config import Config
from pipeline.core.errors import InputError
from pipeline.training import fit
from pipeline.training.corpus import Example, SetSpec, examples, items_digest, prepare, read_set
from pipeline.training.crossval import SchemeReport, evaluate, out_of_fold
from pipeline.training.fit import Matrix, featurize, fit_model, probabilities
from pipeline.training.labels import BOILERPLATE, CONTENT
from pipeline.training.synth import TRAIN_RECIPE, Recipe
from stages.boilerplate.features import FeatureSpec
from stages.boilerplate.model import LineModel
from stages.boilerplate.stage import Boilerplate

#: The default sets' weights (newsboiler's few, carefully labelled documents count 20 times).
WEIGHTS = {"newsboiler": 20.0, "wcxb-train": 1.0, "synthetic": 1.0}
DEFAULT_SETS = tuple(WEIGHTS)
#: The version the shipped model carries (``model:<version>`` in the ledger).
VERSION = "lm-6"
THRESHOLD = 0.9
THRESHOLD_FROM = (
    "the tuning split: the synthetic corpus's dev part scored by a model fitted on its fit part "
    "(removal / preservation at 0.85: 0.897 / 0.9925, 0.9: 0.891 / 0.9954, 0.95: 0.879 / 0.9963), "
    "checked by cross-validation (cleanwire train --cv: newsboiler leave-site-out preservation 0.9906 "
    "at 0.9, as lm-3's 0.9910 at 0.85)"
)

Log = Callable[[str], None]


def default_sets(
    data_dir: Path | None,
    *,
    without: Sequence[str] = (),
    extra: Sequence[Path] = (),
    synthetic: Recipe = TRAIN_RECIPE,
) -> list[SetSpec]:
    """The sets of the default recipe that are present (minus ``without``), then ``extra``."""
    sets: list[SetSpec] = []
    if data_dir is not None and "newsboiler" not in without:
        path = data_dir / "newsboiler" / "dev.jsonl"
        if path.is_file():
            sets.append(SetSpec("newsboiler", "news", path, WEIGHTS["newsboiler"]))
    if data_dir is not None and "wcxb-train" not in without:
        path = data_dir / "wcxb-train"
        if (path / "metadata.json").is_file():
            sets.append(SetSpec("wcxb-train", "pages", path, WEIGHTS["wcxb-train"]))
    if "synthetic" not in without:
        sets.append(SetSpec("synthetic", "synthetic", None, WEIGHTS["synthetic"], synthetic))
    names = {s.name for s in sets}
    for path in extra:
        if not path.is_file():
            raise InputError(f"training data not found: {path}")
        name = path.stem
        while name in names:
            name += "+"
        names.add(name)
        sets.append(SetSpec(name, "news", path, 1.0))
    return sets


@dataclass
class SetStats:
    name: str
    digest: str
    documents: int
    ok: int
    units: Counter[str] = field(default_factory=Counter)


def load(
    sets: Sequence[SetSpec],
    config: Config,
    *,
    spec: FeatureSpec,
    workers: int = 1,
    cache: Path | None = None,
    log: Log = lambda _: None,
) -> tuple[list[Example], list[SetStats]]:
    """Every set's documents through the stages before boilerplate, labelled."""
    stage = Boilerplate(dataclasses.replace(config.boilerplate, model="none"))
    out: list[Example] = []
    stats: list[SetStats] = []
    for s in sets:
        t0 = time.perf_counter()
        items = read_set(s)
        digest = items_digest(items, config)
        prepared = prepare(items, config, workers=workers, cache=cache, key=f"{s.name}-{digest}")
        exs = examples(s, items, prepared, stage, spec.max_line_chars)
        st = SetStats(s.name, digest, len(items), sum(ex.ok for ex in exs))
        for ex in exs:
            for label in ex.labels:
                st.units[{BOILERPLATE: "boilerplate", CONTENT: "content"}.get(label.value, "unlabelled")] += 1
        stats.append(st)
        out += exs
        log(f"train: {s.name}: {len(items)} documents prepared in {time.perf_counter() - t0:.0f} s")
    return out, stats


def info(sets: Sequence[SetSpec], stats: Sequence[SetStats], threshold: float) -> dict[str, Any]:
    """What the artifact records about its training (no paths, no dates: same data, same bytes)."""
    return {
        "trained_on": [
            {**s.describe(), "digest": st.digest, "documents": st.ok, "units": dict(sorted(st.units.items()))}
            for s, st in zip(sets, stats, strict=True)
        ],
        "solver": (
            f"SGDClassifier(log_loss, alpha={fit.ALPHA}, average=True, max_iter={fit.EPOCHS}, "
            f"random_state={fit.SEED})"
        ),
        "category_head": f"one-vs-rest SGD over 2**{fit.CATEGORY_BITS} folded buckets + dense",
        "threshold": threshold,
        # the default's provenance; another threshold was given to `cleanwire train --threshold`
        "threshold_from": THRESHOLD_FROM if threshold == THRESHOLD else "cleanwire train --threshold",
    }


@dataclass
class Trained:
    model: LineModel
    matrix: Matrix
    seconds: float
    #: On the training data itself (not held out): unit precision and recall at the threshold.
    train_precision: float
    train_recall: float


def train(
    exs: Sequence[Example],
    sets: Sequence[SetSpec],
    stats: Sequence[SetStats],
    *,
    spec: FeatureSpec,
    threshold: float = THRESHOLD,
) -> Trained:
    t0 = time.perf_counter()
    m = featurize(exs, spec)
    check_classes(m, stats)
    model = fit_model(m, np.arange(len(exs)), threshold=threshold, info=info(sets, stats, threshold))
    seconds = time.perf_counter() - t0
    rows = np.flatnonzero(m.y >= 0).astype(np.int64)
    p = probabilities(model, m, rows, masked=False)
    pred, y = p >= threshold, m.y[rows]
    tp = int((pred & (y == BOILERPLATE)).sum())
    return Trained(
        model,
        m,
        seconds,
        tp / max(1, int(pred.sum())),
        tp / max(1, int((y == BOILERPLATE).sum())),
    )


def check_classes(m: Matrix, stats: Sequence[SetStats]) -> None:
    """An :class:`InputError` when the labelled units are not of both classes (before fitting:
    scikit-learn would stop on it with a traceback)."""
    missing = fit.missing_classes(m.y)
    if not missing:
        return
    counts = "; ".join(
        f"{st.name}: {st.ok} documents, {st.units['boilerplate']} boilerplate / {st.units['content']} content units"
        for st in stats
    )
    hint = (
        "give some records `boilerplate` items ({category, text}) whose text occurs in their raw"
        if "boilerplate" in missing
        else "the model learns boilerplate against content: records need article text besides their boilerplate"
    )
    raise InputError(
        f"the labelled data holds no {' and no '.join(missing)} unit, so there is only one class to learn ({counts})",
        hint=hint,
    )


def cross_validate(
    exs: Sequence[Example], m: Matrix, config: Config, *, threshold: float, log: Log = lambda _: None
) -> list[SchemeReport]:
    oof = out_of_fold(exs, m, threshold, log=log)
    return evaluate(exs, m, oof, threshold, config)


def file_digest(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()
