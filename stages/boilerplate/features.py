"""The hashed features of the boilerplate model and the spec that names every feature.

Hashed features come from the *normalised* unit (:func:`stages.boilerplate.codes.normalise`):
character n-grams (``FeatureSpec.char_n``) of the unit between two boundary marks, word unigrams
and bigrams, the first and the last word, and the whole unit when it has at most
``whole_line_max_words`` words; each group scaled by ``1/sqrt(its count)``. The dense ones are
:mod:`stages.boilerplate.dense`'s. :class:`FeatureSpec` is stored in the model's artifact, so a
model runs with its own spec.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import asdict, dataclass
from typing import Any, TypeAlias

import numpy as np

from stages.boilerplate.codes import F32, I64, U32, U64, IntP, Prefix, lookup_bool, luts, normalise, squeeze
from stages.boilerplate.dense import DENSE


@dataclass(frozen=True)
class FeatureSpec:
    """What the features are; stored in the artifact, so a model runs with its own spec."""

    version: str = "lm-2"
    bits: int = 18
    char_n: tuple[int, ...] = (3, 5)
    word_bigrams: bool = True
    edge_words: bool = True
    whole_line_max_words: int = 6
    max_line_chars: int = 200
    unit: str = "block"
    dense: tuple[str, ...] = DENSE

    def to_json(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> FeatureSpec:
        return cls(
            version=str(data["version"]),
            bits=int(data["bits"]),
            char_n=tuple(int(k) for k in data["char_n"]),
            word_bigrams=bool(data["word_bigrams"]),
            edge_words=bool(data["edge_words"]),
            whole_line_max_words=int(data["whole_line_max_words"]),
            max_line_chars=int(data["max_line_chars"]),
            unit=str(data["unit"]),
            dense=tuple(str(d) for d in data["dense"]),
        )


_SALT_CHAR = 0x1000
_SALT_WORD = 0x2000
_SALT_BIGRAM = 0x3000
_SALT_FIRST = 0x4000
_SALT_LAST = 0x5000
_SALT_WHOLE = 0x6000
_GROUP_WORD, _GROUP_BIGRAM, _GROUP_EDGE, _GROUP_WHOLE = 10, 11, 12, 13


@dataclass(frozen=True)
class Hashed:
    """Sparse hashed features of a list of units: (unit, column, value) triplets."""

    rows: I64
    cols: IntP
    vals: F32


#: The hashed features of one kind: the unit of each, its hash, its group (for the scaling).
_Part: TypeAlias = tuple[I64, U64, I64]


def hashed_features(units: Sequence[str], spec: FeatureSpec) -> Hashed:
    """Hashed features of each unit. Units longer than ``spec.max_line_chars``, and empty ones,
    get none.

    Each (unit, feature group) is scaled by ``1/sqrt(number of features of that group in the
    unit)``; the first/last-word features weigh 0.5 and the whole-unit feature 1.
    """
    n = len(units)
    if spec.max_line_chars:
        units = [x if len(x) <= spec.max_line_chars else "" for x in units]
    c = normalise(units)
    parts = [_char_ngrams(c, n, spec.char_n)]
    words = _word_features(c, n, spec)
    if words is not None:
        parts.append(words)
    return _scaled(parts, n, spec.bits)


def _char_ngrams(c: U32, n: int, orders: Sequence[int]) -> _Part:
    """Character n-grams of "\\n" + unit + "\\n" (normalised code points ``c``), all orders in one
    go; the group of an n-gram is its order. An order's n-grams start at every offset, so their
    units and hashes are read off slices (:meth:`~stages.boilerplate.codes.Prefix.windows`), not
    gathered; those holding a line break other than at their ends are then dropped."""
    text = np.concatenate(([10], c, [10])).astype(np.uint32)
    pre = Prefix(text)
    nl = text == 10
    nlc = np.concatenate(([0], np.cumsum(nl)))  # newlines in text[:k]
    size = len(text)
    rows: list[I64] = []
    hashes: list[U64] = []
    groups: list[I64] = []
    for k in orders:
        if size < k:
            continue
        m = size - k + 1  # the n-grams text[a : a + k] for a < m
        unit = nlc[1 : m + 1] - 1  # the unit of each: that of its first character after a line break
        ok = ~(nl[:m] & nl[1 : m + 1]) if k == 2 else nlc[k - 1 : k - 1 + m] == nlc[1 : m + 1]
        ok &= unit < n
        rows.append(unit[ok])
        hashes.append(pre.windows(k, _SALT_CHAR + k)[ok])
        groups.append(np.full(int(ok.sum()), k, dtype=np.int64))
    if not rows:
        return np.zeros(0, dtype=np.int64), np.zeros(0, dtype=np.uint64), np.zeros(0, dtype=np.int64)
    return np.concatenate(rows), np.concatenate(hashes), np.concatenate(groups)  # groups 2..5: the orders


def _word_spans(c: U32) -> tuple[U32, IntP, IntP, I64]:
    """The units' words (non-alphanumerics -> space): the code points, and each word's start,
    end and unit."""
    w = c.copy()
    is_word = lookup_bool(luts().word, w, True)
    w[~is_word & (w != 10)] = 32
    w = squeeze(w)
    words = np.concatenate((w, [10])).astype(np.uint32)
    sep = (words == 32) | (words == 10)
    ends = np.flatnonzero(sep)
    starts = np.concatenate(([0], ends[:-1] + 1))
    is_nl = words[ends] == 10
    unit_of = np.cumsum(is_nl) - is_nl
    good = ends > starts
    return words, starts[good], ends[good], unit_of[good]


def _word_features(c: U32, n: int, spec: FeatureSpec) -> _Part | None:
    """Word unigrams, bigrams, the first and last word and the whole short unit (None without
    words)."""
    words, starts, ends, unit_of = _word_spans(c)
    if not len(starts):
        return None
    same = unit_of[:-1] == unit_of[1:]
    first = np.concatenate(([True], ~same))
    last = np.concatenate((~same, [True]))
    sa: list[IntP] = [starts]
    sb: list[IntP] = [ends]
    sl: list[I64] = [unit_of]
    salts: list[I64] = [np.full(len(unit_of), _SALT_WORD)]
    groups: list[I64] = [np.full(len(unit_of), _GROUP_WORD)]

    def add(a_: IntP, b_: IntP, rows_: I64, salt: int, group: int) -> None:
        sa.append(a_)
        sb.append(b_)
        sl.append(rows_)
        salts.append(np.full(len(rows_), salt))
        groups.append(np.full(len(rows_), group))

    if spec.word_bigrams and len(starts) > 1:
        add(starts[:-1][same], ends[1:][same], unit_of[:-1][same], _SALT_BIGRAM, _GROUP_BIGRAM)
    if spec.edge_words:
        add(starts[first], ends[first], unit_of[first], _SALT_FIRST, _GROUP_EDGE)
        add(starts[last], ends[last], unit_of[last], _SALT_LAST, _GROUP_EDGE)
    if spec.whole_line_max_words:
        nwords = np.bincount(unit_of, minlength=n)
        fi, li = np.flatnonzero(first), np.flatnonzero(last)
        ok = nwords[unit_of[fi]] <= spec.whole_line_max_words
        add(starts[fi][ok], ends[li][ok], unit_of[fi][ok], _SALT_WHOLE, _GROUP_WHOLE)
    hashes = Prefix(words).spans(
        np.concatenate(sa), np.concatenate(sb), np.concatenate(salts).astype(np.uint64)
    )
    return np.concatenate(sl), hashes, np.concatenate(groups)


def _scaled(parts: Sequence[_Part], n: int, bits: int) -> Hashed:
    """The features of ``parts`` folded into ``2**bits`` columns, each (unit, group) scaled."""
    rows = np.concatenate([p[0] for p in parts])
    hashes = np.concatenate([p[1] for p in parts])
    grp = np.concatenate([p[2] for p in parts])
    key = rows * 16 + grp
    cnt = np.bincount(key, minlength=n * 16).astype(np.float32)
    vals = 1.0 / np.sqrt(cnt[key])
    vals[grp == _GROUP_EDGE] = 0.5
    vals[grp == _GROUP_WHOLE] = 1.0
    shift = np.uint64(64 - bits)
    return Hashed(rows, (hashes >> shift).astype(np.intp), vals.astype(np.float32))
