"""``--engine ray`` keeps and drops the same records as the local engine, near-duplicates
included (their banding, pairing and Jaccard checks run as Ray Data operations), within a run and
against a dedup index of an earlier run."""

from __future__ import annotations

import random
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.conftest import REPO

from .corpus import syndicated_copy
from .test_run import dropped, files, news, run, write_feed

pytestmark = [pytest.mark.ray, pytest.mark.slow]
ray = pytest.importorskip("ray", reason="needs the ray extra: pip install 'cleanwire[ray]'")


@pytest.fixture(scope="module")
def local_ray() -> Iterator[None]:
    ray.init(
        num_cpus=2,
        include_dashboard=False,
        log_to_driver=False,
        logging_level="warning",
        runtime_env={"env_vars": {"PYTHONPATH": str(REPO)}},
    )
    yield
    ray.shutdown()


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
