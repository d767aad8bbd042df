"""Shingles, MinHash signatures and band keys: equal to plain definitions, unbiased, pinned."""

from __future__ import annotations

import unicodedata
from collections import defaultdict

import numpy as np
import numpy.typing as npt
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from stages.near_dedup.hashing import mix64
from stages.near_dedup.minhash import (
    MinHasher,
    MinHashParams,
    Sketch,
    distinct_high_halves,
    estimate_jaccard,
    jaccard,
    pack_set,
    pack_signature,
    pack_sketch,
    unpack_set,
    unpack_signature,
    unpack_sketch,
)
from stages.near_dedup.multimap import SortedMultimap
from stages.near_dedup.shingles import char_classes, normalise, shingle_hashes, shingles, word_hashes

U64 = npt.NDArray[np.uint64]
_P = 0x100000001B3
_M = (1 << 64) - 1
HASHER = MinHasher(MinHashParams(min_words=1))


def _mix(z: int) -> int:
    z = ((z ^ (z >> 30)) * 0xBF58476D1CE4E5B9) & _M
    z = ((z ^ (z >> 27)) * 0x94D049BB133111EB) & _M
    return z ^ (z >> 31)


def reference_word_hashes(text: str) -> list[int]:
    """The definition, one word at a time in plain Python (what the numpy code must equal)."""
    norm = unicodedata.normalize("NFKC", text).casefold()
    classes = char_classes()
    words: list[str] = []
    cur = ""
    for ch in norm:
        cp = ord(ch)
        cls = classes[cp] if cp < len(classes) else 0
        if cls == 0:
            if cur:
                words.append(cur)
            cur = ""
        elif cls == 2:
            if cur:
                words.append(cur)
            words.append(ch)
            cur = ""
        else:
            cur += ch
    if cur:
        words.append(cur)
    out = []
    for w in words:
        h = sum(ord(c) * pow(_P, k, 1 << 64) for k, c in enumerate(w)) & _M
        out.append(_mix(h ^ ((len(w) * 0x9E3779B97F4A7C15) & _M)))
    return out


@pytest.mark.parametrize(
    "text",
    [
        "Hello, World! It's 4.9 percent.",
        "Straße, STRASSE und Maße — „Zitat“ «citation» 東京都に住む",
        "ﬁnance ＡＢＣ café cafe\u0301 naïve",
        "emoji 🙂 between words, tabs\tand\nnewlines",
        "",
        "...!!!",
        "x" * 5000 + " y",
    ],
)
def test_vectorised_word_hashes_equal_the_plain_definition(text: str) -> None:
    assert word_hashes(text).tolist() == reference_word_hashes(text)


def test_normalisation_casefold_nfkc_and_punctuation() -> None:
    same = ["Hello, world!", "HELLO WORLD", "hello   world...", "ＨＥＬＬＯ　ｗｏｒｌｄ"]
    hashes = [word_hashes(t).tolist() for t in same]
    assert all(h == hashes[0] for h in hashes)
    assert word_hashes("Straße").tolist() == word_hashes("STRASSE").tolist()
    assert word_hashes("café").tolist() == word_hashes("cafe\u0301").tolist()  # NFKC composes
    assert normalise("ﬁ") == "fi"


def test_unspaced_scripts_are_one_word_per_character() -> None:
    assert len(word_hashes("東京都に住む")) == 6
    assert len(word_hashes("Tokyo 東京")) == 3
    assert len(word_hashes("a\ud800b c\x00d")) == 4  # lone surrogates and NULs do not crash


def test_shingles_order_matters_and_short_texts_have_one() -> None:
    assert len(shingles("a b c d e f", 3)) == 4
    assert set(shingles("a b c d e f", 3).tolist()) != set(shingles("f e d c b a", 3).tolist())
    assert len(shingles("just two", 3)) == 1
    assert len(shingles("", 3)) == 0
    assert len(shingles("a b c a b c a b c", 3)) == 3  # a set: repeats count once
    h = shingle_hashes(word_hashes("one two three four five six seven one two three four five"), 5)
    assert h.tolist() == sorted(set(h.tolist()))


def random_pair(rng: np.random.Generator, j: float, size: int = 600) -> tuple[U64, U64]:
    """Two sets of random 64-bit hashes with Jaccard similarity ``j`` (up to rounding)."""
    inter = round(size * 2 * j / (1 + j))
    union = mix64(rng.choice(2**62, size=2 * size - inter, replace=False).astype(np.uint64))
    return np.unique(union[:size]), np.unique(np.concatenate((union[size - inter : size], union[size:])))


def test_signature_equals_a_per_permutation_reference() -> None:
    m = MinHasher(MinHashParams(num_perm=15, bands=5, rows=3))
    x = mix64(np.arange(1, 3000, dtype=np.uint64))  # more than one chunk of the matrix
    a, b = m._perm
    ref = [min((int(ai) * int(v) + int(bi)) % 2**64 for v in x) >> 32 for ai, bi in zip(a, b, strict=True)]
    assert m.signature_of_hashes(x).tolist() == ref


@pytest.mark.parametrize("j", [0.2, 0.5, 0.8])
def test_estimate_is_unbiased_with_binomial_error(j: float) -> None:
    rng = np.random.default_rng(7)
    errs = []
    for _ in range(150):
        a, b = random_pair(rng, j)
        true = len(np.intersect1d(a, b)) / len(np.union1d(a, b))
        errs.append(estimate_jaccard(HASHER.signature_of_hashes(a), HASHER.signature_of_hashes(b)) - true)
    e = np.array(errs)
    sd = np.sqrt(j * (1 - j) / HASHER.params.num_perm)
    assert abs(e.mean()) < 3 * sd / np.sqrt(len(e)) + 0.005
    assert 0.7 * sd < e.std() < 1.3 * sd


def test_band_collisions_follow_the_s_curve() -> None:
    rng = np.random.default_rng(11)
    for j in (0.5, 0.8):
        hits, n = 0, 200
        for _ in range(n):
            a, b = random_pair(rng, j)
            ka = HASHER.band_keys(HASHER.signature_of_hashes(a))
            hits += bool(np.any(ka == HASHER.band_keys(HASHER.signature_of_hashes(b))))
        p = HASHER.params.candidate_probability(j)
        assert abs(hits / n - p) < 4 * np.sqrt(p * (1 - p) / n) + 0.01


def test_default_s_curve_numbers_quoted_in_the_readme() -> None:
    p = MinHashParams()
    assert (p.shingle_words, p.num_perm, p.bands, p.rows) == (5, 100, 25, 4)
    assert p.candidate_probability(0.5) == pytest.approx(0.80, abs=0.01)
    assert p.candidate_probability(0.6) == pytest.approx(0.97, abs=0.01)
    assert p.candidate_probability(0.7) > 0.998
    assert p.candidate_probability(0.3) < 0.2


def test_band_keys_differ_across_bands_and_use_the_first_bands_x_rows_values() -> None:
    keys = HASHER.band_keys(np.full(100, 7, dtype=np.uint32))
    assert len(set(keys.tolist())) == 25
    wide = MinHasher(MinHashParams(num_perm=128))
    sig = np.arange(128, dtype=np.uint32)
    assert wide.band_keys(sig).tolist() == HASHER.band_keys(sig[:100]).tolist()


def test_exact_jaccard_and_packing() -> None:
    rng = np.random.default_rng(3)
    a = np.unique(rng.integers(0, 2**32, 500, dtype=np.uint64).astype(np.uint32))
    b = np.unique(np.concatenate((a[:300], rng.integers(0, 2**32, 100, dtype=np.uint64).astype(np.uint32))))
    sa, sb = set(a.tolist()), set(b.tolist())
    assert jaccard(a, b) == pytest.approx(len(sa & sb) / len(sa | sb))
    assert jaccard(a, a) == 1.0 and jaccard(a, a[:0]) == 0.0
    assert np.array_equal(unpack_set(pack_set(a)), a)
    sig = HASHER.sketch("some words here to hash into a signature ok").signature
    assert np.array_equal(unpack_signature(pack_signature(sig)), sig)


def test_sketch_round_trip_and_short_texts_have_no_signature() -> None:
    text = " ".join(f"word{i}" for i in range(60))
    sk = MinHasher(MinHashParams()).sketch(text)
    back = unpack_sketch(pack_sketch(sk))
    assert back is not None and back.n_words == 60
    assert np.array_equal(back.signature, sk.signature) and np.array_equal(
        unpack_set(back.shingles), sk.shingles
    )
    short = MinHasher(MinHashParams()).sketch("only a few words here")
    assert short.n_words == 5 and len(short.signature) == 0
    assert unpack_sketch(pack_sketch(Sketch(5, short.signature, short.shingles))) is not None
    assert unpack_sketch(b"\x09garbage") is None


def test_hash_values_are_pinned() -> None:
    """Indexes persist across runs: a change of any of these values must bump HASH_VERSION."""
    t = "Le maire sortant, Bernard Lefort, obtient 35 %. Un second tour aura lieu dimanche prochain à Saint-Aure."
    sig = HASHER.sketch(t).signature
    assert word_hashes(t)[:3].tolist() == [6378067017089894202, 4558328936971025741, 1349517320324157562]
    assert sig[:5].tolist() == [156658739, 796707432, 112203651, 842426256, 26417067]
    assert HASHER.band_keys(sig)[:3].tolist() == [
        17259873333963564878,
        14080226473856180176,
        4380695085187172123,
    ]


def test_multimap_matches_a_dict_of_lists() -> None:
    rng = np.random.default_rng(5)
    mm = SortedMultimap(max_level=5000)
    ref: dict[int, list[int]] = defaultdict(list)
    pool = rng.integers(0, 2**64 - 1, 3000, dtype=np.uint64)
    for doc in range(0, 3000, 50):
        keys = rng.choice(pool, 50)
        vals = np.arange(doc, doc + 50, dtype=np.uint32)
        mm.add(keys, vals)
        for k, v in zip(keys.tolist(), vals.tolist(), strict=True):
            ref[k].append(v)
    q = np.concatenate((rng.choice(pool, 500), rng.integers(0, 2**64 - 1, 50, dtype=np.uint64)))
    qi, vals = mm.lookup(q)
    got: dict[int, list[int]] = defaultdict(list)
    for i, v in zip(qi.tolist(), vals.tolist(), strict=True):
        got[i].append(v)
    for i, k in enumerate(q.tolist()):
        assert sorted(got.get(i, [])) == sorted(ref.get(k, []))
    assert len(mm) == 3000 and mm.nbytes == 12 * 3000 and mm.n_levels < 12


@settings(max_examples=300, deadline=None)
@given(
    st.lists(st.tuples(st.sampled_from([0, 1, 7, 2**31, 2**32 - 1]), st.integers(0, 2**32 - 1)), max_size=60)
)
def test_the_distinct_high_halves_are_numpys_unique(pairs: list[tuple[int, int]]) -> None:
    # sorted distinct hashes, many sharing their high half
    hashes = np.unique(np.array([(high << 32) | low for high, low in pairs], dtype=np.uint64))
    expected = np.unique((hashes >> np.uint64(32)).astype(np.uint32))
    got = distinct_high_halves(hashes)
    assert got.dtype == np.uint32 and np.array_equal(got, expected)
