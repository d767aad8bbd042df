"""Code points of units as numpy arrays: the lookup tables, the normalisation and the rolling hash
that the boilerplate model's features (:mod:`stages.boilerplate.features`,
:mod:`stages.boilerplate.dense`) are built on.

Normalisation (:func:`normalise`): lower case (one-to-one case mappings), quotes/apostrophes,
dashes, ellipses, bullets and arrows unified, digits -> ``0``, odd spaces -> space, runs of spaces
collapsed, a leading list marker dropped. It runs on the code points of all units at once with a
lookup table, as does the hashing (:class:`Prefix`): a polynomial rolling hash mod 2**64 from
prefix sums, then murmur3's fmix64 with a salt per feature group. Training
(:mod:`pipeline.training`) and inference use this same code; nothing depends on
``PYTHONHASHSEED``. The numpy array aliases (``F32``, ``Bools``, ...) the model's modules share
live here too.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from functools import lru_cache
from typing import TypeAlias

import numpy as np
import numpy.typing as npt

F32: TypeAlias = npt.NDArray[np.float32]
F64: TypeAlias = npt.NDArray[np.float64]
U32: TypeAlias = npt.NDArray[np.uint32]
U64: TypeAlias = npt.NDArray[np.uint64]
I64: TypeAlias = npt.NDArray[np.int64]
IntP: TypeAlias = npt.NDArray[np.intp]
Bools: TypeAlias = npt.NDArray[np.bool_]

# --- lookup tables ----------------------------------------------------------------------------------

LUT_SIZE = 0x3000  # Latin ... Indic, general punctuation, arrows, shapes, dingbats; above: no case
_QUOTE1 = "\u2018\u2019\u201a\u201b\u2032\u00b4`\u02bc\u02b9"
_QUOTE2 = "\u201c\u201d\u201e\u201f\u2033\u00ab\u00bb"
_DASHES = "\u2010\u2011\u2012\u2013\u2014\u2015\u2212"
_BULLETS = (
    "\u2022\u00b7\u25aa\u25ab\u25ba\u25b8\u25b6\u25cf\u25cb\u25e6\u2023\u2219\u2043\u25a0\u25a1"
    "\u25c6\u25c7\u2605\u2606\u2713\u2714\u2756"
)
_ARROWS = "\u2192\u2190\u2191\u2193\u21d2\u21d0\u2794\u279c\u27a4\u203a\u2039\u25b7\u276f\u276e"
_SPACES = "\u00a0\u2000\u2001\u2002\u2003\u2004\u2005\u2006\u2007\u2008\u2009\u200a\u202f\u205f\t"
_INVISIBLE = "\u200b\u200c\u200d\u2060\u00ad"
_MARKERS = (ord("*"), ord("-"), ord(">"))
_MARKER_LUT = np.zeros(LUT_SIZE, dtype=bool)
_MARKER_LUT[list(_MARKERS)] = True


@dataclass(frozen=True)
class _Luts:
    norm: U32  # code -> normalised code (0 = drop)
    word: Bools  # alphanumeric
    cls: npt.NDArray[np.uint8]  # bit flags: 1 alpha, 2 upper, 4 digit, 8 alphanumeric


@lru_cache(maxsize=1)
def luts() -> _Luts:
    """The code-point tables (built once per process, ~10 ms)."""
    chars = [chr(c) for c in range(LUT_SIZE)]
    norm = np.arange(LUT_SIZE, dtype=np.uint32)
    alpha = np.fromiter((c.isalpha() for c in chars), dtype=bool, count=LUT_SIZE)
    upper = np.fromiter((c.isupper() for c in chars), dtype=bool, count=LUT_SIZE)
    digit = np.fromiter((c.isdigit() for c in chars), dtype=bool, count=LUT_SIZE)
    word = np.fromiter((c.isalnum() for c in chars), dtype=bool, count=LUT_SIZE)
    for c in np.flatnonzero(upper):
        lower = chars[c].lower()
        if len(lower) == 1:
            norm[c] = ord(lower)
    norm[digit] = ord("0")
    for group, to in (
        (_QUOTE1, "'"),
        (_QUOTE2, '"'),
        (_DASHES, "-"),
        (_BULLETS, "*"),
        (_ARROWS, ">"),
        (_SPACES, " "),
    ):
        for ch in group:
            norm[ord(ch)] = ord(to)
    for ch in _INVISIBLE:
        norm[ord(ch)] = 0
    cls = (alpha * 1 + upper * 2 + digit * 4 + word * 8).astype(np.uint8)
    return _Luts(norm, word, cls)


_CLS_ABOVE = np.uint8(1 | 8)  # above the table: a letter (CJK, ...), alphanumeric, no case


def code_points(text: str) -> U32:
    return np.frombuffer(text.encode("utf-32-le", "surrogatepass"), dtype=np.uint32)


def _lookupcode_points(table: U32, codes: U32) -> U32:
    """``table[c]`` for codes below the table, ``c`` itself above it."""
    small = codes < LUT_SIZE
    if small.all():
        return np.asarray(table[codes], dtype=np.uint32)
    out = codes.copy()
    out[small] = table[codes[small]]
    return out


def lookup_cls(codes: U32) -> npt.NDArray[np.uint8]:
    table = luts().cls
    small = codes < LUT_SIZE
    if small.all():
        return table[codes]
    out = np.full(len(codes), _CLS_ABOVE, dtype=np.uint8)
    out[small] = table[codes[small]]
    return out


def lookup_bool(table: Bools, codes: U32, above: bool) -> Bools:
    small = codes < LUT_SIZE
    if small.all():
        return table[codes]
    out = np.full(len(codes), above, dtype=bool)
    out[small] = table[codes[small]]
    return out


def squeeze(c: U32) -> U32:
    """Drop 0s, runs of spaces, spaces next to a line break or at either end."""
    c = c[c != 0]
    if not len(c):
        return c
    sp = c == 32
    nl = c == 10
    prev_sp_or_nl = np.concatenate(([True], sp[:-1] | nl[:-1]))
    next_nl = np.concatenate((nl[1:], [True]))
    kept: U32 = c[~(sp & (prev_sp_or_nl | next_nl))]
    return kept


def normalise(units: Sequence[str]) -> U32:
    """Code points of the normalised units joined by ``\\n`` (one line per unit)."""
    joined = "\n".join(units)
    if "..." in joined:
        joined = joined.replace("...", "\u2026")
    c = squeeze(_lookupcode_points(luts().norm, code_points(joined)))
    # a leading list marker ("- ", "* ", "> ", "** ")
    at_start = np.concatenate(([True], c[:-1] == 10))
    starts = np.flatnonzero(at_start & _MARKER_LUT[np.minimum(c, LUT_SIZE - 1)])
    if len(starts):
        drop = np.zeros(len(c), dtype=bool)
        n = len(c)
        for s in starts.tolist():
            e = s
            while e < n and int(c[e]) in _MARKERS:
                e += 1
            if e < n and c[e] == 32:
                e += 1
            if e < n and c[e] != 10:  # keep a unit that is only markers
                drop[s:e] = True
        c = c[~drop]
    return c


def norm_unit(unit: str) -> str:
    """One unit normalised (for display and tests)."""
    return normalise([unit]).tobytes().decode("utf-32-le")


# --- hashing ---------------------------------------------------------------------------------------

_B = 0x100000001B3
_M1 = np.uint64(0xFF51AFD7ED558CCD)
_M2 = np.uint64(0xC4CEB9FE1A85EC53)
_S33 = np.uint64(33)


@lru_cache(maxsize=4)
def _powers(m: int) -> tuple[U64, U64]:
    with np.errstate(over="ignore"):
        pw = np.concatenate(([np.uint64(1)], np.cumprod(np.full(m - 1, _B, dtype=np.uint64))))
        inverse = pow(_B, -1, 2**64)
        ipw = np.concatenate(([np.uint64(1)], np.cumprod(np.full(m - 1, inverse, dtype=np.uint64))))
    return pw, ipw


def _fmix(h: U64) -> U64:
    """murmur3's fmix64, on a new array (``h`` is left as it is), updated in place after that."""
    h = h ^ (h >> _S33)
    h *= _M1
    h ^= h >> _S33
    h *= _M2
    h ^= h >> _S33
    return h


class Prefix:
    """Rolling-hash prefix sums of a code array: the hash of any slice in O(1), vectorised."""

    def __init__(self, codes: U32) -> None:
        n = len(codes)
        m = 4096
        while m < n + 1:
            m *= 4
        self.pw, ipw = _powers(m)
        s = np.empty(n + 1, dtype=np.uint64)
        s[0] = 0
        with np.errstate(over="ignore"):
            np.cumsum((codes.astype(np.uint64) + np.uint64(1)) * ipw[:n], out=s[1:])
        self.s = s

    def spans(self, a: IntP | I64, b: IntP | I64, salt: U64) -> U64:
        """Hashes of ``codes[a:b]`` (``b > a``), salted per span."""
        with np.errstate(over="ignore"):
            h = self.pw[b - 1] * (self.s[b] - self.s[a])
            return _fmix(h ^ salt)

    def windows(self, k: int, salt: int) -> U64:
        """:meth:`spans` of every slice ``codes[a : a + k]`` in order (``a = 0, 1, ...``), all
        salted with ``salt``: from slices of the prefix sums, with no gather."""
        m = len(self.s) - k
        with np.errstate(over="ignore"):
            h = self.pw[k - 1 : k - 1 + m] * (self.s[k:] - self.s[:m])
            return _fmix(h ^ np.uint64(salt))
