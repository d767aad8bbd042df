"""The coordinator's rule: first copy in input order kept, the others dropped with the kept id and
the similarity; hard negatives (same template, shared quote) kept; deterministic."""

from __future__ import annotations

import dataclasses
import random
from pathlib import Path

import pytest

from stages.near_dedup import deduper
from stages.near_dedup.deduper import DUPLICATE, NEAR_DUPLICATE, DedupParams
from stages.near_dedup.minhash import MinHashParams

from .corpus import article, page, syndicate, syndicated_copy
from .helpers import PARAMS, judge


@pytest.fixture()
def rng() -> random.Random:
    return random.Random(23)


def test_exact_and_near_duplicates_first_wins(rng: random.Random, tmp_path: Path) -> None:
    a, b = article(rng), article(rng)
    recs = [("a", a), ("b", b), ("a-copy", a), ("a-syn", syndicate(rng, a)), ("b-syn", syndicate(rng, b))]
    v, dd = judge(recs, tmp_path)
    assert v[0] is None and v[1] is None
    assert v[2] is not None and (v[2].reason, v[2].dup_of, v[2].similarity) == (DUPLICATE, "a", 1.0)
    assert v[3] is not None and (v[3].reason, v[3].dup_of) == (NEAR_DUPLICATE, "a")
    assert PARAMS.threshold <= v[3].similarity < 1
    assert v[4] is not None and v[4].dup_of == "b"
    assert v[3].detail == f"near-duplicate of a (Jaccard similarity {v[3].similarity:.3f})"
    assert (dd.counters.kept, dd.counters.duplicate, dd.counters.near_duplicate) == (2, 1, 2)


def test_syndicated_copies_with_other_template_headline_byline_and_trimmed_tail(
    rng: random.Random, tmp_path: Path
) -> None:
    bodies = [article(rng, rng.randint(250, 500)) for _ in range(6)]
    recs = [(f"orig{i}", page("gazette", f"Headline {i}", "By Staff", b)) for i, b in enumerate(bodies)]
    recs += [(f"herald{i}", syndicated_copy(rng, b, "herald")) for i, b in enumerate(bodies)]
    recs += [(f"courier{i}", syndicated_copy(rng, b, "courier")) for i, b in enumerate(bodies)]
    v, _ = judge(recs, tmp_path)
    assert v[:6] == [None] * 6
    for k, verdict in enumerate(v[6:]):
        assert verdict is not None and verdict.reason == NEAR_DUPLICATE
        assert verdict.dup_of == f"orig{k % 6}"


def test_input_order_decides_which_copy_is_kept(rng: random.Random, tmp_path: Path) -> None:
    a = article(rng)
    v, _ = judge([("syn", syndicate(rng, a)), ("orig", a)], tmp_path)
    assert v[0] is None and v[1] is not None and v[1].dup_of == "syn"


def test_same_template_and_shared_quote_are_not_duplicates(rng: random.Random, tmp_path: Path) -> None:
    quote = " ".join(article(rng, 60).split()[:60])
    recs = []
    for i in range(6):
        recs.append((f"t{i}", page("gazette", f"Headline {i}", "By Staff", article(rng, 120))))
        recs.append((f"q{i}", article(rng, 90) + f'\n\n"{quote}," said the minister.\n\n' + article(rng, 60)))
    # one row per band: any shared shingle makes a candidate, so the Jaccard check does the work
    params = DedupParams(minhash=MinHashParams(bands=100, rows=1))
    v, dd = judge(recs, tmp_path, params)
    assert v == [None] * len(recs)
    assert dd.counters.rejected_candidates > 0


def test_star_clusters_a_chain_keeps_its_far_end(rng: random.Random, tmp_path: Path) -> None:
    words = article(rng, 400).split(" ")
    n = len(words)
    a = " ".join(words[: int(0.7 * n)])
    b = " ".join(words[int(0.15 * n) : int(0.85 * n)])
    c = " ".join(words[int(0.3 * n) :])
    v, _ = judge([("a", a), ("b", b), ("c", c)], tmp_path, dataclasses.replace(PARAMS, threshold=0.55))
    assert v[0] is None and v[1] is not None and v[1].dup_of == "a"
    assert v[2] is None  # similar to b (dropped), not to a (kept)


def test_batch_boundaries_do_not_change_verdicts(rng: random.Random, tmp_path: Path) -> None:
    base = [article(rng, rng.randint(60, 400)) for _ in range(30)]
    recs = [(f"d{i}", rng.choice([t, syndicate(rng, t), t])) for i, t in enumerate(base * 3)]
    rng.shuffle(recs)
    one, _ = judge(recs, tmp_path / "one", batch=1)
    many, _ = judge(recs, tmp_path / "many", batch=1000)
    assert one == many
    assert sum(v is not None for v in one) >= 55


def test_short_texts_are_deduplicated_exactly_only(tmp_path: Path) -> None:
    short = "Page not found. Sorry."
    v, _ = judge([("a", short), ("b", short), ("c", short + " Try again.")], tmp_path)
    assert v[1] is not None and v[1].reason == DUPLICATE and v[2] is None


def test_exact_only_mode(rng: random.Random, tmp_path: Path) -> None:
    a = article(rng)
    v, _ = judge(
        [("a", a), ("s", syndicate(rng, a)), ("c", a)], tmp_path, dataclasses.replace(PARAMS, near=False)
    )
    assert v[1] is None and v[2] is not None and v[2].reason == DUPLICATE


def test_exact_check_refuses_pairs_just_under_the_threshold(tmp_path: Path) -> None:
    """Pairs with a true Jaccard just under 0.5 (the signature's estimate, sd ~0.05, would let
    some through): every candidate is checked and none is dropped."""
    params = DedupParams(minhash=MinHashParams(bands=100, rows=1))
    flagged = 0
    for k in range(30):
        words = article(random.Random(k), 600).split(" ")
        shared, ua, ub = words[:200], words[200:322], words[322:444]
        v, dd = judge([("a", " ".join(shared + ua)), ("b", " ".join(shared + ub))], tmp_path / str(k), params)
        flagged += v[1] is not None
        assert dd.counters.candidates == 1
    assert flagged == 0


def test_a_small_set_cache_gives_the_same_verdicts(
    rng: random.Random, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Indexed records' shingle sets are unpacked once while cached (a syndicated story is every
    copy's candidate); a cache of one set, always evicting, changes no verdict."""
    bodies = [article(rng, rng.randint(250, 500)) for _ in range(4)]
    recs = [(f"orig{i}", b) for i, b in enumerate(bodies)]
    recs += [(f"syn{k}-{i}", syndicate(rng, b)) for k in range(3) for i, b in enumerate(bodies)]
    expected, dd = judge(recs, tmp_path / "big", batch=4)
    assert 0 < len(dd._sets) <= deduper.SET_CACHE
    monkeypatch.setattr(deduper, "SET_CACHE", 1)
    got, small = judge(recs, tmp_path / "small", batch=4)
    assert got == expected and len(small._sets) == 1
    assert [v.dup_of for v in got[4:] if v is not None] == [f"orig{i}" for _ in range(3) for i in range(4)]
