"""How the boilerplate stage uses the learned model (:mod:`stages.boilerplate.model`) beside the rules.

The decision, per document:

* the rules run first, and a rule's removal always wins;
* the model scores the units (:mod:`stages.boilerplate.units`) that no rule span touches, except
  the first unit of an HTML extraction (the page's headline, which extract put there) and units
  longer than the model reads;
* a unit with P(boilerplate) >= ``boilerplate.model_threshold`` is removed; adjacent removed units
  make one removal, recorded in the ledger as rule ``model:<version>`` with its score (the highest
  of its units) and the category the model's category head names (``model`` without one);
* model removals count against the removal budget like a ``normal``-confidence rule's; and the
  model alone may never take more than ``max_removed_share`` of a document, however short (its
  removals are then not made, the rules' still are: see
  :meth:`~stages.boilerplate.stage.Boilerplate.model_share_exceeded`).
"""

from __future__ import annotations

import hashlib
import os
import re
from bisect import bisect_right
from collections.abc import Sequence
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

import numpy as np

from pipeline.core.config import BUILTIN_MODEL_FILE, BUILTIN_MODEL_SHA256
from pipeline.core.record import Removal
from stages.boilerplate.engine import Found
from stages.boilerplate.model import F64, Batch, Bools, LineModel, ModelError, luts
from stages.boilerplate.rulepack import Rule
from stages.boilerplate.units import Unit, text_units

#: The model files shipped in the package.
MODELS_DIR = Path(__file__).resolve().parent / "models"
BUILTIN_MODEL = MODELS_DIR / BUILTIN_MODEL_FILE

#: The category of a model removal when the model has no category head.
MODEL_CATEGORY = "model"
MODEL_PREFIX = "model:"

_NEVER = re.compile(r"(?!)")


def model_file(setting: str) -> Path | None:
    """The file ``boilerplate.model`` names: the shipped model for ``builtin``, None for ``none``."""
    if setting == "none":
        return None
    return BUILTIN_MODEL if setting == "builtin" else Path(setting)


def load_model(setting: str) -> LineModel | None:
    """The model ``boilerplate.model`` names, loaded once per process and file version (the
    forkserver's warm-up loads the built-in one, and every worker shares it)."""
    path = model_file(setting)
    if path is None:
        return None
    try:
        st = os.stat(path)
    except OSError as exc:
        raise ModelError(
            f"boilerplate model not found: {path}",
            hint="boilerplate.model is 'builtin', 'none' or the path of a file `cleanwire train` wrote",
        ) from exc
    return _load(str(path), st.st_mtime_ns, st.st_size, setting == "builtin")


@lru_cache(maxsize=8)
def _load(path: str, mtime_ns: int, size: int, builtin: bool) -> LineModel:
    if builtin:
        digest = hashlib.sha256(Path(path).read_bytes()).hexdigest()
        if digest != BUILTIN_MODEL_SHA256:
            raise ModelError(
                f"the built-in boilerplate model {path} is not the file this version shipped "
                f"(sha256 {digest[:12]}..., expected {BUILTIN_MODEL_SHA256[:12]}...)",
                hint="reinstall cleanwire, or set boilerplate.model to the file's path",
            )
    model = LineModel.load(path)
    luts()  # the code-point tables every model uses: built here, so a warm-up builds them too
    return model


@lru_cache(maxsize=8)
def model_rule(version: str) -> Rule:
    """The rule that stands for the model in the engine's bookkeeping (budget, metadata): a
    ``normal``-confidence rule that lifts no metadata and matches nothing by itself."""
    return Rule(
        id=f"{MODEL_PREFIX}{version}",
        category=MODEL_CATEGORY,
        kind="line",
        pattern=_NEVER,
        description=f"the learned boilerplate model {version}",
        pack="model",
    )


@dataclass(frozen=True)
class Pending:
    """One document between the rules and the model: the rules' removals and the units."""

    text: str
    html: bool
    found: list[Found]
    units: list[Unit]
    #: The units the model may take (see :func:`candidates`).
    scored: Bools


def pending(text: str, html: bool, found: list[Found], model: LineModel) -> Pending:
    units = text_units(text, html=html)
    return Pending(text, html, found, units, candidates(units, found, html, model.spec.max_line_chars))


def candidates(units: Sequence[Unit], found: Sequence[Found], html: bool, max_chars: int) -> Bools:
    """The units the model may take: no rule span overlaps them, they are short enough for the
    model to read, and (in an HTML extraction) they are not the first unit, the headline."""
    starts = [r.start for r, _, _ in found]  # sorted, non-overlapping (find_removals)
    ends = [r.end for r, _, _ in found]
    out = np.zeros(len(units), dtype=bool)
    for i, u in enumerate(units):
        if (html and i == 0) or (max_chars and len(u.text) > max_chars):
            continue
        k = bisect_right(ends, u.start)  # the first span that ends after the unit starts
        out[i] = k == len(starts) or starts[k] >= u.end
    return out


def decide(model: LineModel, docs: Sequence[Pending], threshold: float) -> list[list[Found]]:
    """Per document, the model's removals (as :data:`~stages.boilerplate.engine.Found` tuples of
    :func:`model_rule`), scored in one batch over all ``docs``."""
    batch = Batch.of([([u.text for u in d.units], d.html) for d in docs], [d.scored for d in docs])
    if not batch.units or not batch.scored.any():
        return [[] for _ in docs]
    hashed, dense = model.features(batch)
    p = model.probabilities(batch, hashed, dense)
    taken = np.flatnonzero(p >= threshold)
    if not len(taken):
        return [[] for _ in docs]
    names = model.categories_of(batch, hashed, dense, taken)
    category = dict(zip(taken.tolist(), names, strict=True))
    rule = model_rule(model.version)
    out: list[list[Found]] = []
    offset = 0
    for d in docs:
        n = len(d.units)
        out.append(removals(rule, d, p[offset : offset + n], threshold, category, offset))
        offset += n
    return out


def removals(
    rule: Rule,
    doc: Pending,
    p: F64,
    threshold: float,
    category: dict[int, str] | None = None,
    offset: int = 0,
) -> list[Found]:
    """The removals of one document given its units' probabilities ``p``: the units at or above
    ``threshold`` (among those it may take), adjacent ones merged, recorded under ``rule``
    (:func:`model_rule`). ``category``: the category head's answer by unit index in the batch
    (``offset`` + index in the document)."""
    out: list[Found] = []
    run: list[int] = []

    def flush() -> None:
        if not run:
            return
        best = max(run, key=lambda i: (float(p[i]), -i))
        a, b = doc.units[run[0]].start, doc.units[run[-1]].end
        name = (category or {}).get(offset + best, MODEL_CATEGORY)
        removal = Removal(rule.id, name, a, b, doc.text[a:b], round(float(p[best]), 4))
        out.append((removal, rule, None))
        run.clear()

    for i in range(len(doc.units)):
        if doc.scored[i] and p[i] >= threshold:
            run.append(i)
        else:
            flush()
    flush()
    return out
