"""The learned boilerplate classifier: its artifact, loading and scoring, in numpy alone (no
scikit-learn, no pickle).

The model is linear over each unit (:mod:`stages.boilerplate.units`) of a text: the hashed
features of :mod:`stages.boilerplate.features` plus the dense ones of :mod:`stages.boilerplate.dense`,
both built on the code points and rolling hash of :mod:`stages.boilerplate.codes`. Units longer
than ``max_line_chars`` are not scored (probability 0): paragraphs are left to the rules, which
keeps the model away from the text that matters most and bounds its cost. An optional second head
names the category of a unit the model takes (a linear one-vs-rest model over the same features,
with the hashed ones folded into ``2**cat_bits`` buckets).

The artifact is one ``.npz`` (a zip of ``.npy`` arrays, read with ``allow_pickle=False``):
``w_hash`` (float16), ``w_dense``, the category head's arrays when it has one, and ``meta``, the
UTF-8 bytes of a JSON object (format tag, feature spec, bias, threshold, categories, training
info). :meth:`LineModel.save` writes the same bytes for the same model.
"""

from __future__ import annotations

import io
import json
import zipfile
from collections.abc import Sequence
from dataclasses import dataclass, field
from functools import cached_property
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt

from pipeline.core.errors import ConfigError
from stages.boilerplate.codes import F32, F64, I64, Bools, IntP
from stages.boilerplate.dense import DENSE, dense_features
from stages.boilerplate.features import FeatureSpec, Hashed, hashed_features

FORMAT = "cleanwire-line-model/1"


class ModelError(ConfigError):
    """A boilerplate model file is missing, unreadable or not a model this code can run."""


_TOO_LONG = DENSE.index("too_long")


def sigmoid(z: npt.NDArray[np.floating[Any]]) -> F64:
    # clipped: a model fitted on a few documents has scores beyond exp's range (an overflow warning);
    # within +-700 the value is unchanged, beyond it the probability is 0 or 1 either way
    return np.asarray(1.0 / (1.0 + np.exp(-np.clip(z, -700.0, 700.0))), dtype=np.float64)


@dataclass(frozen=True)
class CategoryHead:
    """One-vs-rest linear scores per category over the hashed features folded into
    ``2**bits`` buckets, plus the dense features; the category is the best-scoring one."""

    categories: tuple[str, ...]
    bits: int
    w_hash: F32  # (len(categories), 2**bits)
    w_dense: F32  # (len(categories), len(spec.dense))
    bias: F32  # (len(categories),)

    @cached_property
    def by_bucket(self) -> F32:
        """``w_hash`` transposed, contiguous: a feature's weights for every category in one row."""
        return np.ascontiguousarray(self.w_hash.T)


@dataclass(frozen=True)
class Batch:
    """The units of several documents as one array problem: ``units`` in document order, ``doc``
    the document of each, ``html`` one flag per document, ``scored`` the units to score (the
    others get probability 0 and cost no hashing)."""

    units: list[str]
    doc: I64
    html: list[bool]
    scored: Bools
    sizes: list[int]

    @classmethod
    def of(cls, docs: Sequence[tuple[Sequence[str], bool]], scored: Sequence[Bools] | None = None) -> Batch:
        sizes = [len(u) for u, _ in docs]
        units = [x for u, _ in docs for x in u]
        mask = np.concatenate(scored) if scored is not None and docs else np.ones(len(units), dtype=bool)
        return cls(
            units,
            np.repeat(np.arange(len(docs)), sizes).astype(np.int64),
            [html for _, html in docs],
            mask.astype(bool),
            sizes,
        )

    def split(self, values: npt.NDArray[Any]) -> list[npt.NDArray[Any]]:
        return list(np.split(values, np.cumsum(self.sizes)[:-1])) if self.sizes else []


@dataclass(frozen=True)
class LineModel:
    """A linear model over :func:`hashed_features` + :func:`dense_features` of each unit."""

    spec: FeatureSpec
    w_hash: F32  # (2**bits,)
    w_dense: F32  # (len(spec.dense),)
    bias: float
    threshold: float = 0.85
    info: dict[str, Any] = field(default_factory=dict)
    category_head: CategoryHead | None = None

    @property
    def version(self) -> str:
        return self.spec.version

    @cached_property
    def dense_columns(self) -> IntP:
        """Where the model's dense features (``spec.dense``, in its order) are among
        :data:`~stages.boilerplate.dense.DENSE`: a model trained before a feature was added runs
        on the columns it knows, with the scores it had."""
        return np.asarray([DENSE.index(name) for name in self.spec.dense], dtype=np.intp)

    def features(self, batch: Batch) -> tuple[Hashed, F32]:
        texts = [u if keep else "" for u, keep in zip(batch.units, batch.scored.tolist(), strict=True)]
        hashed = hashed_features(texts, self.spec)
        dense = dense_features(batch.units, batch.html, batch.doc, self.spec.max_line_chars, batch.scored)
        return hashed, dense

    def probabilities(self, batch: Batch, hashed: Hashed, dense: F32) -> F64:
        n = len(batch.units)
        weights = self.w_hash[hashed.cols] * hashed.vals
        z = np.asarray(np.bincount(hashed.rows, weights=weights, minlength=n), dtype=np.float64)
        # row by row (not a matrix product, whose rounding depends on the batch's shape): a
        # document scores the same alone and in any batch
        known = dense[:, self.dense_columns].astype(np.float64)
        z += (known * self.w_dense.astype(np.float64)).sum(axis=1) + self.bias
        p = sigmoid(z)
        p[(dense[:, _TOO_LONG] > 0) | ~batch.scored] = 0.0
        return p

    def scores_many(
        self, docs: Sequence[tuple[Sequence[str], bool]], scored: Sequence[Bools] | None = None
    ) -> list[F64]:
        """P(boilerplate) of every unit of several documents in one vectorised pass.

        ``docs``: ``(unit texts, is_html)`` per document, units in text order. ``scored``: per
        document, which units to score (default all); the others, and units longer than
        ``spec.max_line_chars``, get 0. Batching only saves numpy's fixed cost per call: every
        document gets exactly the scores it gets on its own.
        """
        batch = Batch.of(docs, scored)
        if not batch.units:
            return [np.zeros(0) for _ in docs]
        hashed, dense = self.features(batch)
        return batch.split(self.probabilities(batch, hashed, dense))

    def scores(self, units: Sequence[str], is_html: bool = False) -> F64:
        """P(boilerplate) per unit of one document."""
        return self.scores_many([(units, is_html)])[0]

    def categories_of(self, batch: Batch, hashed: Hashed, dense: F32, rows: IntP) -> list[str]:
        """The category head's answer for the units ``rows`` of ``batch`` ("model" without a head),
        from the batch's features (:meth:`features`).

        A unit's features are picked out of the batch's in the order the batch holds them, which
        is the order hashing the unit alone gives: its sums, and so its answer, do not depend on
        the batch."""
        head = self.category_head
        if head is None or not len(rows):
            return ["model"] * len(rows)
        position = np.full(len(batch.units), -1, dtype=np.int64)
        position[rows] = np.arange(len(rows))
        row_of = position[hashed.rows]  # each feature's place in ``rows`` (-1: not asked for)
        picked = dense[np.ix_(rows, self.dense_columns)].astype(np.float64)
        z = (picked[:, None, :] * head.w_dense.astype(np.float64)[None, :, :]).sum(axis=2) + head.bias
        # every category at once: each feature's row of weights, summed per unit in the order the
        # features come (a stable sort by unit; sums along axis 0 add row after row), in float64
        # as the rows are read (the same sums as a float64 copy of the weights, without the copy)
        asked = np.flatnonzero(row_of >= 0)
        order = asked[np.argsort(row_of[asked], kind="stable")]
        unit_rows = row_of[order]
        weights = head.by_bucket[hashed.cols[order] >> (self.spec.bits - head.bits)]
        weights *= hashed.vals[order, None]
        firsts = np.flatnonzero(np.concatenate(([True], unit_rows[1:] != unit_rows[:-1])))
        if len(firsts):
            z[unit_rows[firsts]] += np.add.reduceat(weights, firsts, axis=0, dtype=np.float64)
        return [head.categories[j] for j in np.argmax(z, axis=1).tolist()]

    # --- the artifact -------------------------------------------------------------------------------

    def meta(self) -> dict[str, Any]:
        data: dict[str, Any] = {
            "format": FORMAT,
            "spec": self.spec.to_json(),
            "bias": self.bias,
            "threshold": self.threshold,
            "info": self.info,
        }
        if self.category_head is not None:
            data["categories"] = list(self.category_head.categories)
            data["category_bits"] = self.category_head.bits
        return data

    def save(self, path: str | Path) -> None:
        """Write the artifact: the same model gives the same bytes (fixed entry order and dates)."""
        arrays: dict[str, npt.NDArray[Any]] = {
            "meta": np.frombuffer(json.dumps(self.meta(), sort_keys=True).encode("utf-8"), dtype=np.uint8),
            "w_hash": self.w_hash.astype(np.float16),
            "w_dense": self.w_dense.astype(np.float32),
        }
        head = self.category_head
        if head is not None:
            arrays["cat_w_hash"] = head.w_hash.astype(np.float16)
            arrays["cat_w_dense"] = head.w_dense.astype(np.float32)
            arrays["cat_bias"] = head.bias.astype(np.float32)
        buffer = io.BytesIO()
        with zipfile.ZipFile(buffer, "w", compression=zipfile.ZIP_DEFLATED) as zf:
            for name, array in arrays.items():
                entry = io.BytesIO()
                np.lib.format.write_array(entry, array, allow_pickle=False)
                info = zipfile.ZipInfo(f"{name}.npy", date_time=(1980, 1, 1, 0, 0, 0))
                info.compress_type = zipfile.ZIP_DEFLATED
                info.external_attr = 0o644 << 16
                zf.writestr(info, entry.getvalue())
        Path(path).write_bytes(buffer.getvalue())

    @classmethod
    def load(cls, path: str | Path) -> LineModel:
        """Read an artifact (``allow_pickle=False``); :class:`ModelError` when it is not one this
        code can run."""
        try:
            with np.load(path, allow_pickle=False) as z:
                arrays = {name: z[name] for name in z.files}
        except FileNotFoundError as exc:
            raise ModelError(f"boilerplate model not found: {path}") from exc
        except (OSError, ValueError, zipfile.BadZipFile, EOFError) as exc:
            # numpy reads a file that is not an archive as a pickle, and says how to load one
            # "unsafely": advice cleanwire never takes (it loads without pickles)
            why = "not a numpy .npz archive" if "pickle" in str(exc) else str(exc)
            raise ModelError(
                f"{path} is not a boilerplate model (.npz): {why}",
                hint="boilerplate.model is 'builtin', 'none' or the path of a file `cleanwire train` wrote",
            ) from exc
        try:
            meta = json.loads(arrays["meta"].tobytes().decode("utf-8"))
            if meta.get("format") != FORMAT:
                raise ValueError(f"format {meta.get('format')!r}, expected {FORMAT!r}")
            spec = FeatureSpec.from_json(meta["spec"])
            w_hash = arrays["w_hash"].astype(np.float32)
            w_dense = arrays["w_dense"].astype(np.float32)
            unknown = sorted(set(spec.dense) - set(DENSE))
            if unknown or len(set(spec.dense)) != len(spec.dense):
                raise ValueError(
                    f"features of {spec.version} do not match this code's feature set: {unknown}"
                )
            if w_hash.shape != (1 << spec.bits,) or w_dense.shape != (len(spec.dense),):
                raise ValueError(f"the weights of {spec.version} do not match its features")
            head = None
            if "categories" in meta:
                categories = tuple(str(c) for c in meta["categories"])
                bits = int(meta["category_bits"])
                head = CategoryHead(
                    categories,
                    bits,
                    arrays["cat_w_hash"].astype(np.float32),
                    arrays["cat_w_dense"].astype(np.float32),
                    arrays["cat_bias"].astype(np.float32),
                )
                k = len(categories)
                if head.w_hash.shape != (k, 1 << bits) or head.w_dense.shape != (k, len(spec.dense)):
                    raise ValueError("the category head's arrays do not match its categories")
            return cls(
                spec,
                w_hash,
                w_dense,
                float(meta["bias"]),
                float(meta["threshold"]),
                dict(meta.get("info") or {}),
                head,
            )
        except (KeyError, TypeError, ValueError, UnicodeDecodeError) as exc:
            raise ModelError(f"{path} is not a boilerplate model this version can run: {exc}") from exc
