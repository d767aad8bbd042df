"""``--engine ray`` keeps and drops the same records as the local engine, near-duplicates
included (their banding, pairing and Jaccard checks run as Ray Data operations), within a run and
against a dedup index of an earlier run."""

from __future__ import annotations

import random
from pathlib import Path

import pyarrow.compute as pc
import pytest

from stages.near_dedup.bulk import bulk_edges, prepared_table

from .corpus import syndicated_copy
from .helpers import PARAMS, prepared
from .test_bulk import corpus
from .test_run import dropped, files, news, run, write_feed

pytestmark = [pytest.mark.ray, pytest.mark.slow]
ray = pytest.importorskip("ray", reason="needs the ray extra: pip install 'cleanwire[ray]'")

from pipeline.execution.ray_dedup import ray_edges  # noqa: E402


def test_ray_engine_drops_the_same_near_duplicates_as_the_local_engine(
    local_ray: None, tmp_path: Path
) -> None:
    day1, copies, _ = news(11, "d1", stories=6)
    write_feed(tmp_path / "d1" / "a.jsonl", day1[:9])
    write_feed(tmp_path / "d1" / "b.jsonl", day1[9:])
    rng = random.Random(12)
    day2, _, _ = news(13, "d2", stories=4)
    day2.append(
        {
            "id": "d2-late",
            "url": "https://courier.example/late",
            "text": syndicated_copy(rng, day1[1]["text"], "courier"),
        }
    )
    day2.append({"id": "d2-same", "url": "https://courier.example/same", "text": day1[2]["text"]})
    write_feed(tmp_path / "d2" / "feed.jsonl", day2)
    for engine, extra in (("local", ["-w", "1"]), ("ray", ["--engine", "ray"])):
        index = str(tmp_path / f"index-{engine}")
        for d in ("d1", "d2"):
            out = str(tmp_path / f"{engine}-{d}")
            run(str(tmp_path / d), "-o", out, "--batch-size", "4", "--dedup-index", index, *extra)
    for d in ("d1", "d2"):
        assert files(tmp_path / f"ray-{d}") == files(tmp_path / f"local-{d}"), d
    assert {r["id"]: r["dup_of"] for r in dropped(tmp_path / "ray-d1")} == copies
    late = {r["id"]: (r["reason"], r["dup_of"]) for r in dropped(tmp_path / "ray-d2")}
    assert late["d2-late"] == ("near_duplicate", "d1-g1") and late["d2-same"] == ("duplicate", "d1-g2")


def test_the_ray_data_plan_finds_the_edges_of_the_numpy_plan(local_ray: None) -> None:
    """Exact and verified edges of a corpus with copies, chains and prior rows (an earlier run's
    records at negative positions, one of them the same record read again)."""
    rng = random.Random(5)
    recs = corpus(rng, 30)
    prior = prepared(recs[:6])  # "yesterday": the first six again, as indexed records
    items = prepared(recs)
    table = prepared_table(list(range(-len(prior), len(items))), [*prior, *items])
    expected = bulk_edges(table, PARAMS)
    got = ray_edges(table, PARAMS, cpus=2)
    for want, have in zip(expected, got, strict=True):
        key = [("j", "ascending"), ("i", "ascending")]
        assert have.take(pc.sort_indices(have, sort_keys=key)).equals(
            want.take(pc.sort_indices(want, sort_keys=key))
        )
    assert expected[0].num_rows > 5 and expected[1].num_rows > 20
