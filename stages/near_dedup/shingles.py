"""Normalised word shingles of a text, hashed to 64 bits, computed with numpy (no per-word Python).

Normalisation: NFKC, then casefold; a *word* is a maximal run of letters, digits and combining
marks (Unicode categories L*, N*, M*); everything else (punctuation, symbols, spaces) separates
words and is dropped. Scripts written without spaces (Han, kana, Thai, Lao, Khmer, Myanmar) have no
words in that sense, so each of their characters is a word of its own: a Japanese or Chinese story
then gets character n-grams instead of one giant "word" per sentence.

A shingle is ``n`` consecutive words (``n`` = ``shingle_words``); a text of 1 to n-1 words has one
shingle made of all its words (as in the AEB metric); an empty text has none.

The pipeline, all vectorised over the text:

1. the normalised text as UTF-32 code points (``np.frombuffer``);
2. a lookup table classifies each code point (separator, word character, one-character word);
3. word boundaries from the classes, word hashes from prefix sums of a polynomial hash
   (``sum c_k P**k`` modulo 2**64, divided back by ``P**start`` with the inverse of P),
   finalised with splitmix64 and the word's length;
4. shingle hashes as ``mix64(sum_j word[i+j] * K_j)``, then ``np.unique`` (the set).
"""

from __future__ import annotations

import unicodedata
from functools import cache

import numpy as np
import numpy.typing as npt

from stages.near_dedup.hashing import U64, mix64, odd, splitmix_sequence

#: Only the first this many characters of a text are shingled (bounds time and memory per record).
MAX_CHARS = 1_000_000

#: Code point classes.
SEP, WORD, SINGLE = 0, 1, 2

_SINGLE_RANGES = (
    (0x0E00, 0x0EFF),  # Thai, Lao
    (0x1000, 0x109F),  # Myanmar
    (0x1780, 0x17FF),  # Khmer
    (0x3040, 0x30FF),  # Hiragana, Katakana
    (0x3400, 0x4DBF),  # CJK extension A
    (0x4E00, 0x9FFF),  # CJK unified ideographs
    (0xF900, 0xFAFF),  # CJK compatibility ideographs
    (0xFF66, 0xFF9F),  # half-width katakana
    (0x20000, 0x323AF),  # CJK extensions B-H
)

#: Highest code point the class table covers; above it (unassigned, private use, tags) is SEP.
_TABLE_END = 0x323B0


@cache
def char_classes() -> npt.NDArray[np.uint8]:
    """The class of every code point below :data:`_TABLE_END` (built once per process, ~0.1 s)."""
    table = np.zeros(_TABLE_END, dtype=np.uint8)
    for cp in range(_TABLE_END):
        if unicodedata.category(chr(cp))[0] in "LNM":
            table[cp] = WORD
    for lo, hi in _SINGLE_RANGES:
        seg = table[lo : hi + 1]
        seg[seg == WORD] = SINGLE
    return table


_P = 0x100000001B3  # odd, so invertible modulo 2**64
_P_INV = pow(_P, -1, 1 << 64)


class _Powers:
    """``P**k`` and ``P**-k`` modulo 2**64 for k < len, grown by doubling on demand."""

    def __init__(self) -> None:
        self.pos: U64 = np.ones(1, dtype=np.uint64)
        self.neg: U64 = np.ones(1, dtype=np.uint64)

    def upto(self, n: int) -> tuple[U64, U64]:
        if len(self.pos) < n:
            size = max(n, 2 * len(self.pos), 4096)
            self.pos = _power_table(_P, size)
            self.neg = _power_table(_P_INV, size)
        return self.pos, self.neg


def _power_table(base: int, n: int) -> U64:
    # Doubling: table[k:k+m] = table[:m] * base**k, in wrapping uint64 arithmetic.
    out = np.ones(n, dtype=np.uint64)
    if n > 1:
        out[1] = base
    k = 2
    while k < n:
        m = min(k, n - k)
        out[k : k + m] = out[:m] * _pow_u64(base, k)
        k += m
    return out


def _pow_u64(base: int, exp: int) -> U64:
    return np.array([pow(base, exp, 1 << 64)], dtype=np.uint64)


_POWERS = _Powers()


@cache
def _combine_constants(n: int) -> U64:
    return odd(splitmix_sequence(0x5348494E474C45, n))  # "SHINGLE"


def normalise(text: str) -> str:
    """NFKC, then casefold (the text the words are read from)."""
    return unicodedata.normalize("NFKC", text).casefold()


def word_hashes(text: str, max_chars: int = MAX_CHARS) -> U64:
    """One 64-bit hash per word of ``normalise(text)``, in order."""
    norm = normalise(text[:max_chars])
    if not norm:
        return np.empty(0, dtype=np.uint64)
    cps = np.frombuffer(norm.encode("utf-32-le", "surrogatepass"), dtype=np.uint32)
    table = char_classes()
    cls = np.zeros(len(cps), dtype=np.uint8)
    inside = cps < _TABLE_END
    cls[inside] = table[cps[inside]]
    is_word = cls != SEP
    if not is_word.any():
        return np.empty(0, dtype=np.uint64)
    single = cls == SINGLE
    prev_word = np.concatenate(([False], is_word[:-1]))
    prev_single = np.concatenate(([False], single[:-1]))
    starts_mask = is_word & (~prev_word | single | prev_single)
    # A word ends after position i when i is a word character and i+1 does not continue it.
    cont_next = np.concatenate((is_word[1:] & ~starts_mask[1:], [False]))
    ends_mask = is_word & ~cont_next
    starts = np.flatnonzero(starts_mask)
    ends = np.flatnonzero(ends_mask) + 1
    n = len(cps)
    pos, neg = _POWERS.upto(n + 1)
    prefix = np.zeros(n + 1, dtype=np.uint64)
    np.cumsum(cps.astype(np.uint64) * pos[:n], out=prefix[1:])
    raw = (prefix[ends] - prefix[starts]) * neg[starts]
    lengths = (ends - starts).astype(np.uint64)
    return mix64(raw ^ (lengths * np.uint64(0x9E3779B97F4A7C15)))


def shingle_hashes(words: U64, n: int) -> U64:
    """The sorted, distinct 64-bit hashes of the ``n``-word shingles of ``words``."""
    m = len(words)
    if m == 0:
        return np.empty(0, dtype=np.uint64)
    k = _combine_constants(16)
    if m < n:
        acc = np.array([0], dtype=np.uint64)
        for j in range(m):
            acc = acc + words[j : j + 1] * k[j : j + 1]
        return mix64(acc ^ np.uint64(m))
    count = m - n + 1
    acc = words[:count] * k[0]
    for j in range(1, n):  # a loop over the n words of a shingle, vectorised over all shingles
        acc = acc + words[j : j + count] * k[j]
    return np.unique(mix64(acc ^ np.uint64(n)))


def shingles(text: str, words: int = 5, max_chars: int = MAX_CHARS) -> U64:
    """The shingle set of ``text``: sorted distinct 64-bit hashes of its ``words``-word shingles."""
    return shingle_hashes(word_hashes(text, max_chars), words)
