"""The coordinator's record-by-record rule and the bulk plan (what the Ray engine runs) keep and
drop the same records: in one run, across runs, on a rerun."""

from __future__ import annotations

import random
from pathlib import Path

import pytest

from stages.near_dedup.bulk import bulk_dedup
from stages.near_dedup.deduper import NearDeduper, Prepared, Verdict
from stages.near_dedup.store import IndexStore

from .corpus import article, syndicate
from .helpers import PARAMS, prepared


def corpus(rng: random.Random, n: int) -> list[tuple[str, str]]:
    base = [article(rng, rng.randint(30, 400)) for _ in range(n)]
    recs = []
    for i, t in enumerate(base):
        recs.append((f"o{i}", t))
        for k in range(rng.randint(0, 3)):
            r = rng.random()
            text = t if r < 0.3 else syndicate(rng, t, trim=rng.uniform(0, 0.35), edits=rng.randint(0, 8))
            recs.append((f"c{i}-{k}", text))
    for i in range(0, n, 5):  # chains: a copy of a copy, drifting away from the original
        t = syndicate(rng, base[i], trim=0.3, edits=10)
        recs.append((f"chain{i}", syndicate(rng, t, trim=0.3, edits=10)))
    rng.shuffle(recs)
    return recs


def streaming(items: list[Prepared], tiers: list[IndexStore], batch: int = 16) -> list[Verdict | None]:
    dd = NearDeduper(PARAMS, tiers)
    out: list[Verdict | None] = []
    for lo in range(0, len(items), batch):
        out += dd.judge_batch(items[lo : lo + batch])
    return out


@pytest.mark.parametrize("seed", [1, 2, 3])
def test_streaming_equals_bulk(seed: int, tmp_path: Path) -> None:
    items = prepared(corpus(random.Random(seed), 60))
    store = IndexStore(tmp_path, PARAMS.index_params(), durable=False)
    s = streaming(items, [store])
    store.close()
    assert s == bulk_dedup(items, PARAMS)
    assert sum(v is not None for v in s) > 20


def test_streaming_equals_bulk_across_runs_and_reruns(tmp_path: Path) -> None:
    recs = corpus(random.Random(9), 50)
    day1, day2 = prepared(recs[: len(recs) // 2]), prepared(recs[len(recs) // 2 :])

    def run(items: list[Prepared], name: str) -> list[Verdict | None]:
        base = IndexStore(tmp_path / "index", PARAMS.index_params())
        work = IndexStore(tmp_path / name, PARAMS.index_params(), durable=False)
        verdicts = streaming(items, [base, work])
        base.merge_from(work, label=name)
        base.close()
        work.close()
        return verdicts

    v1 = run(day1, "w1")
    kept1 = [p for p, v in zip(day1, v1, strict=True) if v is None]
    v2 = run(day2, "w2")
    assert v2 == bulk_dedup(day2, PARAMS, prior=kept1)
    kept2 = [p for p, v in zip(day2, v2, strict=True) if v is None]
    again = run(day2, "w3")  # a rerun of day 2 against an index that already holds it
    assert again == v2 == bulk_dedup(day2, PARAMS, prior=kept1 + kept2)
