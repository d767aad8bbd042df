"""A compact in-memory multimap from 64-bit keys to 32-bit document numbers.

12 bytes per entry, no per-entry Python object: keys and values live in sorted numpy arrays
("levels", as in a log-structured merge tree). An ``add`` sorts its batch into a new level and
merges levels of similar size (a binary counter), so each entry is re-sorted O(log n) times in
all; a lookup is one ``searchsorted`` per level, vectorised over all the query keys. Levels stop
merging at ``max_level`` entries, so the largest merge never needs more than twice that much memory
on top of the table.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import numpy.typing as npt

from stages.near_dedup.hashing import U64

I64 = npt.NDArray[np.int64]
U32 = npt.NDArray[np.uint32]


class SortedMultimap:
    def __init__(self, max_level: int = 1 << 26) -> None:
        self.max_level = max_level
        self._levels: list[tuple[U64, U32]] = []

    def __len__(self) -> int:
        return sum(len(k) for k, _ in self._levels)

    @property
    def nbytes(self) -> int:
        return sum(k.nbytes + v.nbytes for k, v in self._levels)

    @property
    def n_levels(self) -> int:
        return len(self._levels)

    def add(self, keys: U64, values: U32) -> None:
        """Add the pairs (keys[i], values[i]); a key may map to several values."""
        if len(keys) == 0:
            return
        order = np.argsort(keys, kind="stable")
        self._levels.append((keys[order].astype(np.uint64), values[order].astype(np.uint32)))
        levels = self._levels
        while len(levels) >= 2 and len(levels[-2][0]) <= 2 * len(levels[-1][0]):
            (k1, v1), (k2, v2) = levels[-2], levels[-1]
            if len(k1) + len(k2) > self.max_level:
                break
            keys_m = np.concatenate((k1, k2))
            order = np.argsort(keys_m, kind="stable")
            levels[-2:] = [(keys_m[order], np.concatenate((v1, v2))[order])]

    def levels(self) -> list[tuple[U64, U32]]:
        """The sorted (keys, values) levels."""
        return list(self._levels)

    def lookup(self, keys: U64) -> tuple[I64, U32]:
        """All matches of ``keys``: (index into ``keys``, value) pairs, ordered by query index."""
        return lookup_levels(self._levels, keys)


def lookup_levels(levels: Sequence[tuple[U64, U32]], keys: U64) -> tuple[I64, U32]:
    """All (query index, value) pairs of ``keys`` in sorted (keys, values) levels.

    The queries are sorted first: numpy's ``searchsorted`` then walks each level mostly forward,
    which is several times faster on a large level than random probes. Only hits pay for the
    second (``side="right"``) search that finds how many values a key has.
    """
    if len(keys) == 0 or not levels:
        return np.empty(0, np.int64), np.empty(0, np.uint32)
    order = np.argsort(keys, kind="stable")
    qs = keys[order]
    q_parts: list[I64] = []
    v_parts: list[U32] = []
    for level_keys, level_values in levels:
        n = len(level_keys)
        if n == 0:
            continue
        lo = np.searchsorted(level_keys, qs, side="left")
        hit = np.flatnonzero(level_keys[np.minimum(lo, n - 1)] == qs)
        if len(hit) == 0:
            continue
        hi = np.searchsorted(level_keys, qs[hit], side="right")
        c = hi - lo[hit]
        offsets = np.arange(int(c.sum())) - np.repeat(np.cumsum(c) - c, c)
        q_parts.append(order[np.repeat(hit, c)].astype(np.int64))
        v_parts.append(np.asarray(level_values[np.repeat(lo[hit], c) + offsets], dtype=np.uint32))
    if not q_parts:
        return np.empty(0, np.int64), np.empty(0, np.uint32)
    q = np.concatenate(q_parts)
    v = np.concatenate(v_parts)
    by = np.lexsort((v, q))
    return q[by], v[by]
