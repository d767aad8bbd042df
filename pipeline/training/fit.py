"""Fitting the model: the units' features as one sparse matrix, scikit-learn's SGD (log loss,
averaged, seeded) for the boilerplate head and the category head, and the export to a
:class:`~stages.boilerplate.model.LineModel` that runs on numpy alone.

Every unit with a label (boilerplate or content, in any position, also the ones the rules take or
the model never reads) is a training example, weighted by its set's weight. The same data in the
same order gives the same model, bit for bit (SGD's shuffling is seeded).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import numpy.typing as npt

from pipeline.core.errors import CleanwireError, InputError

try:  # the train extra: only training needs scikit-learn (and scipy, which it brings)
    import scipy.sparse as sp
    from sklearn.linear_model import SGDClassifier
except ImportError as exc:  # pragma: no cover - the test extra installs it
    raise CleanwireError(
        f"training needs scikit-learn ({exc.name} is not installed)",
        hint="pip install 'cleanwire[train]'",
    ) from exc

from pipeline.training.corpus import Example
from pipeline.training.labels import BOILERPLATE, CONTENT
from stages.boilerplate.codes import F32, F64
from stages.boilerplate.dense import DENSE, dense_features
from stages.boilerplate.features import FeatureSpec, hashed_features
from stages.boilerplate.model import Batch, CategoryHead, LineModel, sigmoid
from stages.boilerplate.rulepack import CATEGORIES

#: The fitting recipe of the shipped model (chosen by cross-validation, see the README).
ALPHA = 1e-5
EPOCHS = 15
SEED = 0
#: The category head: hashed features folded into 2**CATEGORY_BITS buckets.
CATEGORY_BITS = 14
CATEGORY_ALPHA = 1e-5
CATEGORY_EPOCHS = 5

_CHUNK = 400  # documents featurized at a time
#: The two classes the boilerplate head needs, by label.
LABEL_NAMES = {BOILERPLATE: "boilerplate", CONTENT: "content"}


@dataclass
class Matrix:
    """Every unit of the examples: features, label, category, document, weight."""

    X: sp.csr_matrix
    y: npt.NDArray[np.int8]
    category: list[str]
    doc: npt.NDArray[np.int64]
    weight: F64
    #: Units the stage lets the model take (no rule span, not an HTML headline, short enough).
    scored: npt.NDArray[np.bool_]
    spec: FeatureSpec

    @property
    def n_hash(self) -> int:
        return 1 << self.spec.bits

    def rows_of(self, docs: npt.NDArray[np.int64] | Sequence[int]) -> npt.NDArray[np.int64]:
        return np.flatnonzero(np.isin(self.doc, np.asarray(docs, dtype=np.int64))).astype(np.int64)


def featurize(examples: Sequence[Example], spec: FeatureSpec) -> Matrix:
    """The features of every unit of the (ok) examples, in document order."""
    blocks: list[sp.csr_matrix] = []
    ys: list[int] = []
    cats: list[str] = []
    docs: list[int] = []
    weights: list[float] = []
    scored: list[npt.NDArray[np.bool_]] = []
    live = [k for k, ex in enumerate(examples) if ex.ok and ex.units]
    for start in range(0, len(live), _CHUNK):
        chunk = live[start : start + _CHUNK]
        batch = Batch.of([([u.text for u in examples[k].units], examples[k].html) for k in chunk])
        hashed = hashed_features(batch.units, spec)
        dense = dense_features(batch.units, batch.html, batch.doc, spec.max_line_chars)
        n = len(batch.units)
        xh = sp.csr_matrix(
            (hashed.vals, (hashed.rows, hashed.cols)), shape=(n, 1 << spec.bits), dtype=np.float32
        )
        blocks.append(sp.hstack([xh, sp.csr_matrix(dense)], format="csr", dtype=np.float32))
        for k in chunk:
            ex = examples[k]
            ys.extend(label.value for label in ex.labels)
            cats.extend(label.category for label in ex.labels)
            docs.extend([k] * len(ex.units))
            weights.extend([ex.weight] * len(ex.units))
            scored.append(ex.scored)
    width = (1 << spec.bits) + len(DENSE)
    X = sp.vstack(blocks, format="csr") if blocks else sp.csr_matrix((0, width), dtype=np.float32)
    return Matrix(
        X,
        np.asarray(ys, dtype=np.int8),
        cats,
        np.asarray(docs, dtype=np.int64),
        np.asarray(weights, dtype=np.float64),
        np.concatenate(scored) if scored else np.zeros(0, dtype=bool),
        spec,
    )


def missing_classes(labels: npt.NDArray[np.int8]) -> list[str]:
    """The classes of :data:`LABEL_NAMES` that ``labels`` holds no unit of (by name)."""
    return [name for value, name in LABEL_NAMES.items() if not (labels == value).any()]


def fit_model(
    m: Matrix,
    docs: npt.NDArray[np.int64] | Sequence[int],
    *,
    threshold: float,
    info: dict[str, Any],
    with_categories: bool = True,
) -> LineModel:
    """The model fitted on the labelled units of ``docs`` (indices into the examples)."""
    rows = m.rows_of(docs)
    rows = rows[m.y[rows] >= 0]
    missing = missing_classes(m.y[rows])
    if missing:  # scikit-learn's "number of classes has to be greater than one" otherwise
        raise InputError(
            f"the units to fit on hold no {' and no '.join(missing)} unit ({len(rows)} labelled units)",
            hint="the model learns boilerplate against content: it needs labelled units of both",
        )
    clf = SGDClassifier(
        loss="log_loss", alpha=ALPHA, max_iter=EPOCHS, tol=None, random_state=SEED, average=True
    )
    clf.fit(m.X[rows], m.y[rows], sample_weight=m.weight[rows])
    coef = np.asarray(clf.coef_[0], dtype=np.float32)
    head = fit_categories(m, rows) if with_categories else None
    return LineModel(
        spec=m.spec,
        # the artifact keeps float16: round here, so the model that is scored is the one saved
        w_hash=coef[: m.n_hash].astype(np.float16).astype(np.float32),
        w_dense=coef[m.n_hash :],
        bias=float(clf.intercept_[0]),
        threshold=threshold,
        info=info,
        category_head=head,
    )


def folded(m: Matrix, rows: npt.NDArray[np.int64], bits: int) -> sp.csr_matrix:
    """The category head's features of ``rows``: hashed columns folded into ``2**bits`` buckets,
    then the dense features."""
    x = m.X[rows].tocoo()
    hashed = x.col < m.n_hash
    cols = np.where(hashed, x.col >> (m.spec.bits - bits), (1 << bits) + (x.col - m.n_hash))
    out = sp.csr_matrix(
        (x.data, (x.row, cols)), shape=(len(rows), (1 << bits) + len(DENSE)), dtype=np.float32
    )
    out.sum_duplicates()
    return out


def fit_categories(m: Matrix, rows: npt.NDArray[np.int64]) -> CategoryHead | None:
    """A one-vs-rest category head over the boilerplate units whose category is known (the news
    sets'), or None when they name fewer than two categories."""
    known = rows[
        (m.y[rows] == BOILERPLATE) & np.isin(np.asarray(m.category, dtype=object)[rows], sorted(CATEGORIES))
    ]
    names = sorted({m.category[r] for r in known.tolist()})
    if len(names) < 2:
        return None
    clf = SGDClassifier(
        loss="log_loss",
        alpha=CATEGORY_ALPHA,
        max_iter=CATEGORY_EPOCHS,
        tol=None,
        random_state=SEED,
        average=True,
    )
    target = np.asarray([m.category[r] for r in known.tolist()], dtype=object)
    clf.fit(folded(m, known, CATEGORY_BITS), target, sample_weight=m.weight[known])
    coef = np.asarray(clf.coef_, dtype=np.float32)
    if len(names) == 2:  # a binary SGDClassifier keeps one row: the second class's
        coef = np.vstack([-coef[0], coef[0]])
        bias = np.asarray([-clf.intercept_[0], clf.intercept_[0]], dtype=np.float32)
    else:
        bias = np.asarray(clf.intercept_, dtype=np.float32)
    n = 1 << CATEGORY_BITS
    return CategoryHead(
        tuple(str(c) for c in clf.classes_),
        CATEGORY_BITS,
        coef[:, :n].astype(np.float16).astype(np.float32),
        coef[:, n:],
        bias,
    )


def probabilities(model: LineModel, m: Matrix, rows: npt.NDArray[np.int64], *, masked: bool = True) -> F64:
    """The model's P(boilerplate) of ``rows``: 0 for units longer than it reads and (``masked``)
    for the units the stage does not let it take."""
    x = m.X[rows]
    w = np.concatenate([model.w_hash, model.w_dense]).astype(np.float64)
    p = sigmoid(np.asarray(x @ w, dtype=np.float64) + model.bias)
    too_long = np.asarray(x[:, m.n_hash + DENSE.index("too_long")].toarray()).ravel() > 0
    p[too_long | (~m.scored[rows] if masked else False)] = 0.0
    return p


def categories(model: LineModel, m: Matrix, rows: npt.NDArray[np.int64]) -> list[str]:
    """The category head's answer for ``rows`` ("model" without a head)."""
    head = model.category_head
    if head is None or not len(rows):
        return ["model"] * len(rows)
    w: F32 = np.hstack([head.w_hash, head.w_dense])
    z = np.asarray(folded(m, rows, head.bits) @ w.T.astype(np.float64)) + head.bias
    return [head.categories[j] for j in np.argmax(z, axis=1).tolist()]
