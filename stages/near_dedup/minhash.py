"""MinHash signatures, LSH band keys and the exact Jaccard similarity, vectorised with numpy.

Permutation i maps a 64-bit shingle hash x to ``a_i * x + b_i`` modulo 2**64 with ``a_i`` odd: a
true permutation of the 64-bit space (an odd multiplier is invertible modulo 2**64). The shingle
hashes are already splitmix-finalised, so the affine maps behave like independent random orders
(the tests check that the estimate's error matches the binomial ``sqrt(J(1-J)/k)``). All
permutations are applied at once as a (permutations x shingles) matrix, in chunks of columns that
bound the memory; no Python loop runs per hash or per permutation. The signature keeps the high
32 bits of each minimum (``uint32``), so a signature is ``4 * num_perm`` bytes.

A band key is ``mix64(sum_j sig[band, j] * C_j + band * C_band)``: 64 bits that name the band and
its ``rows`` values, so the keys of all bands live in one table without colliding across bands.

What a worker computes for a record (:class:`Sketch`) travels to the coordinator as bytes in the
work rows' ``sketch`` column (:func:`pack_sketch`).
"""

from __future__ import annotations

import struct
import zlib
from dataclasses import dataclass
from functools import cached_property

import numpy as np
import numpy.typing as npt

from stages.near_dedup.hashing import HASH_VERSION, U32, U64, mix64, odd, splitmix_sequence
from stages.near_dedup.shingles import MAX_CHARS, shingle_hashes, word_hashes

#: Shingles (columns of the permutations x shingles matrix) computed at a time.
_CHUNK = 1024


@dataclass(frozen=True)
class MinHashParams:
    """Everything that fixes the values of signatures and band keys (an index records them)."""

    shingle_words: int = 5
    num_perm: int = 100
    bands: int = 25
    rows: int = 4
    seed: int = 1
    #: Texts with fewer words get no signature (exact dedup only).
    min_words: int = 20

    def __post_init__(self) -> None:
        if min(self.shingle_words, self.num_perm, self.bands, self.rows) < 1:
            raise ValueError("shingle_words, num_perm, bands and rows must be positive")
        if self.bands * self.rows > self.num_perm:
            raise ValueError("bands x rows must not exceed num_perm")

    def candidate_probability(self, jaccard: float) -> float:
        """P(two sets with this Jaccard similarity share at least one band): ``1-(1-s^r)^b``."""
        return float(1.0 - (1.0 - jaccard**self.rows) ** self.bands)

    def as_dict(self) -> dict[str, int]:
        return {
            "hash_version": HASH_VERSION,
            "shingle_words": self.shingle_words,
            "max_chars": MAX_CHARS,
            "num_perm": self.num_perm,
            "bands": self.bands,
            "rows": self.rows,
            "seed": self.seed,
            "min_words": self.min_words,
        }


@dataclass(frozen=True)
class Sketch:
    """What a worker computes for one text."""

    n_words: int
    #: ``num_perm`` uint32 minima; empty when the text has fewer than ``min_words`` words.
    signature: U32
    #: Sorted distinct 32-bit shingle hashes (the set the Jaccard check compares); empty with
    #: the signature.
    shingles: U32


class MinHasher:
    """Signatures and band keys for one :class:`MinHashParams`. Cheap to build, safe to pickle."""

    def __init__(self, params: MinHashParams) -> None:
        self.params = params

    @cached_property
    def _perm(self) -> tuple[U64, U64]:
        k = self.params.num_perm
        seq = splitmix_sequence(self.params.seed, 2 * k)
        return odd(seq[:k]), seq[k:]

    @cached_property
    def _band_constants(self) -> tuple[U64, np.uint64]:
        seq = odd(splitmix_sequence(self.params.seed ^ 0x42414E44, self.params.rows + 1))  # "BAND"
        return seq[:-1], seq[-1]

    def signature_of_hashes(self, hashes: U64) -> U32:
        """The MinHash signature of a set of 64-bit shingle hashes (empty set: empty signature)."""
        if len(hashes) == 0:
            return np.empty(0, dtype=np.uint32)
        a, b = self._perm
        k = len(a)
        mins = np.full(k, np.iinfo(np.uint64).max, dtype=np.uint64)
        # (permutations x shingles): the min runs along contiguous memory
        buf = np.empty((k, min(_CHUNK, len(hashes))), dtype=np.uint64)
        for lo in range(0, len(hashes), _CHUNK):  # chunks of shingles; all permutations at once
            x = hashes[None, lo : lo + _CHUNK]
            out = buf[:, : x.shape[1]]
            np.multiply(a[:, None], x, out=out)
            np.add(out, b[:, None], out=out)
            np.minimum(mins, out.min(axis=1), out=mins)
        return (mins >> np.uint64(32)).astype(np.uint32)

    def sketch(self, text: str) -> Sketch:
        words = word_hashes(text)
        if len(words) < self.params.min_words or len(words) == 0:
            empty = np.empty(0, dtype=np.uint32)
            return Sketch(len(words), empty, empty)
        hashes = shingle_hashes(words, self.params.shingle_words)
        return Sketch(
            n_words=len(words),
            signature=self.signature_of_hashes(hashes),
            shingles=distinct_high_halves(hashes),
        )

    def band_keys_many(self, signatures: npt.NDArray[np.uint32]) -> npt.NDArray[np.uint64]:
        """Band keys of an (n x num_perm) signature matrix: an (n x bands) matrix."""
        p = self.params
        rows_c, band_c = self._band_constants
        n = len(signatures)
        sig = signatures[:, : p.bands * p.rows].astype(np.uint64).reshape(n, p.bands, p.rows)
        acc = (sig * rows_c[None, None, :]).sum(axis=2, dtype=np.uint64)
        acc = acc + np.arange(1, p.bands + 1, dtype=np.uint64)[None, :] * band_c
        return mix64(acc)

    def band_keys(self, signature: U32) -> U64:
        """One 64-bit key per band, or none for an empty signature."""
        if len(signature) == 0:
            return np.empty(0, np.uint64)
        keys: U64 = self.band_keys_many(signature[None, :]).reshape(-1)
        return keys


_EXACT_TAG = np.uint64(0x4558414354484153)  # "EXACTHAS": an exact key is never a band key by design


def exact_keys(digests: list[bytes]) -> U64:
    """The exact-copy key of each content hash (sha1 digest): 64 bits of it, tagged."""
    if not digests:
        return np.empty(0, np.uint64)
    heads = np.frombuffer(b"".join(d[:8] for d in digests), dtype="<u8").astype(np.uint64)
    return mix64(heads ^ _EXACT_TAG)


def estimate_jaccard(sig_a: U32, sig_b: U32) -> float:
    """The share of permutations whose minima agree: an unbiased Jaccard estimate."""
    if len(sig_a) == 0 or len(sig_a) != len(sig_b):
        return 0.0
    return float(np.count_nonzero(sig_a == sig_b)) / len(sig_a)


def jaccard(a: U32, b: U32) -> float:
    """Exact Jaccard similarity of two sorted arrays of distinct values."""
    if len(a) == 0 and len(b) == 0:
        return 1.0
    if len(a) == 0 or len(b) == 0:
        return 0.0
    if len(a) > len(b):
        a, b = b, a
    idx = np.searchsorted(b, a)
    idx[idx == len(b)] = 0
    inter = int(np.count_nonzero(b[idx] == a))
    return inter / (len(a) + len(b) - inter)


def distinct_high_halves(hashes: U64) -> U32:
    """``np.unique`` of the high 32 bits of ``hashes``, which are sorted (as
    :func:`~stages.near_dedup.shingles.shingle_hashes` returns them): their high halves are then
    sorted too, so a comparison with the previous one finds the repeats without a sort."""
    high = (hashes >> np.uint64(32)).astype(np.uint32)
    if len(high) < 2:
        return high
    keep = np.empty(len(high), dtype=bool)
    keep[0] = True
    np.not_equal(high[1:], high[:-1], out=keep[1:])
    return high[keep]


def pack_set(values: U32) -> bytes:
    """A sorted uint32 set as bytes: deltas, then zlib (about 2.5-3.5 bytes per value)."""
    if len(values) == 0:
        return b""
    deltas = np.diff(values, prepend=np.uint32(0)).astype("<u4")
    return zlib.compress(deltas.tobytes(), 1)


def unpack_set(blob: bytes | None) -> U32:
    if not blob:
        return np.empty(0, dtype=np.uint32)
    deltas = np.frombuffer(zlib.decompress(blob), dtype="<u4")
    return np.cumsum(deltas, dtype=np.uint32)


def pack_signature(signature: U32) -> bytes:
    return signature.astype("<u4").tobytes()


def unpack_signature(blob: bytes | None) -> U32:
    if not blob:
        return np.empty(0, dtype=np.uint32)
    return np.frombuffer(blob, dtype="<u4").astype(np.uint32)


#: ``sketch`` bytes: version (1 byte), word count (4), signature length in values (2), then the
#: signature (4 bytes per value) and the packed shingle set (:func:`pack_set`) to the end.
_HEADER = struct.Struct("<BIH")
SKETCH_VERSION = 1


def pack_sketch(sketch: Sketch) -> bytes:
    sig = sketch.signature
    return (
        _HEADER.pack(SKETCH_VERSION, min(sketch.n_words, 0xFFFFFFFF), len(sig))
        + pack_signature(sig)
        + pack_set(sketch.shingles)
    )


@dataclass(frozen=True)
class PackedSketch:
    """A sketch read back from bytes, the shingle set still packed (unpacked only when checked)."""

    n_words: int
    signature: U32
    shingles: bytes


def unpack_sketch(blob: bytes) -> PackedSketch | None:
    """The sketch in ``blob``, or None when it is not one this version wrote."""
    if len(blob) < _HEADER.size:
        return None
    version, n_words, n_sig = _HEADER.unpack_from(blob)
    if version != SKETCH_VERSION or len(blob) < _HEADER.size + 4 * n_sig:
        return None
    end = _HEADER.size + 4 * n_sig
    return PackedSketch(int(n_words), unpack_signature(blob[_HEADER.size : end]), blob[end:])
