"""Stable 64-bit hashing on numpy arrays: the building blocks of shingles, signatures and band keys.

Everything here is defined bit for bit (splitmix64, polynomial hashes modulo 2**64), not by a
library's unspecified behaviour, because the hashes are written to a persistent index: a run in a
year, on another numpy, must produce the same band keys. Any change that alters a hash value must
bump :data:`HASH_VERSION` (the index refuses to open with another version).

numpy's ``uint64`` arithmetic on arrays wraps modulo 2**64 without a warning, which is exactly the
arithmetic these hashes are defined in; scalars are kept inside arrays so no overflow warning fires.
"""

from __future__ import annotations

import numpy as np
import numpy.typing as npt

#: Bumped whenever any hash value (token, shingle, signature, band key) would change.
HASH_VERSION = 1

U64 = npt.NDArray[np.uint64]
U32 = npt.NDArray[np.uint32]

_M1 = np.uint64(0xBF58476D1CE4E5B9)
_M2 = np.uint64(0x94D049BB133111EB)
_GOLDEN = 0x9E3779B97F4A7C15
_MASK = (1 << 64) - 1
_S30, _S27, _S31 = np.uint64(30), np.uint64(27), np.uint64(31)


def mix64(z: U64) -> U64:
    """The splitmix64 finaliser, element-wise: a bijection of 64-bit values with full avalanche."""
    z = z ^ (z >> _S30)
    z = z * _M1
    z = z ^ (z >> _S27)
    z = z * _M2
    return z ^ (z >> _S31)


def splitmix_sequence(seed: int, n: int) -> U64:
    """``n`` pseudo-random 64-bit values from ``seed`` (splitmix64), identical on every platform.

    Used for the permutation and combination constants instead of ``numpy.random``, whose
    ``Generator`` methods are not promised to give the same stream across numpy versions."""
    states = (seed + _GOLDEN * np.arange(1, n + 1, dtype=object)) % (1 << 64)
    return mix64(np.array([int(s) & _MASK for s in states], dtype=np.uint64))


def odd(values: U64) -> U64:
    """``values`` with the lowest bit set: odd multipliers are bijections of Z/2**64."""
    return values | np.uint64(1)
