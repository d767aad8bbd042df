"""A run killed (SIGKILL) after its first shard and rerun ends byte for byte like an uninterrupted
run: the resumed shards meet the same index of kept records (the finished shards' part of it was
committed before their markers), and no record is dropped as a copy of itself."""

from __future__ import annotations

import json
import random
import signal
from pathlib import Path

import pytest

from pipeline.io.layout import OutputLayout
from tests.io.test_resume import cli, finish, run_ok, wait_for_markers

from .corpus import article, page, syndicated_copy
from .test_run import dropped, files, write_feed

pytestmark = pytest.mark.slow

SHARDS = 4
STORIES = 40


def make_dump(root: Path) -> Path:
    """Four shards; each shard's stories are republished (near-duplicates) in the next shard and
    copied exactly in the one after, so every shard's verdicts depend on the earlier shards."""
    rng = random.Random(31)
    bodies = [[article(rng, rng.randint(150, 300)) for _ in range(STORIES)] for _ in range(SHARDS)]
    for s in range(SHARDS):
        rows = [
            {
                "id": f"s{s}-{i}",
                "url": f"https://gazette.example/{s}/{i}",
                "text": page("gazette", f"Story {s}.{i}", "By Staff", b),
            }
            for i, b in enumerate(bodies[s])
        ]
        if s >= 1:
            rows += [
                {
                    "id": f"s{s}-syn{i}",
                    "url": f"https://herald.example/{s}/{i}",
                    "text": syndicated_copy(rng, b, "herald"),
                }
                for i, b in enumerate(bodies[s - 1][:10])
            ]
        if s >= 2:
            rows += [
                {
                    "id": f"s{s}-same{i}",
                    "url": f"https://courier.example/{s}/{i}",
                    "text": page("gazette", f"Story {s - 2}.{i}", "By Staff", b),
                }
                for i, b in enumerate(bodies[s - 2][:5])
            ]
        rng.shuffle(rows)
        write_feed(root / f"feed-{s}.jsonl", rows)
    return root


def test_sigkill_after_the_first_shard_then_rerun_gives_the_clean_runs_files(tmp_path: Path) -> None:
    dump = make_dump(tmp_path / "dump")
    run_ok(str(dump), "-o", str(tmp_path / "clean"), "-w", "2")
    expected = dropped(tmp_path / "clean")
    assert sum(r["reason"] == "near_duplicate" for r in expected) == 30
    assert sum(r["reason"] == "duplicate" for r in expected) == 10
    out = tmp_path / "out"
    proc = cli(str(dump), "-o", str(out), "-w", "2")
    wait_for_markers(out, 1, proc)
    proc.send_signal(signal.SIGKILL)
    proc.wait()
    assert not OutputLayout(out).manifest.exists(), "the run ended before it was killed"
    assert (OutputLayout(out).state_dir / "near_dedup").is_dir()
    output = run_ok(str(dump), "-o", str(out), "-w", "1")
    assert "skipped" in output
    assert files(out) == files(tmp_path / "clean")
    manifest = json.loads(OutputLayout(out).manifest.read_text())
    assert manifest["stages"]["near_dedup"]["dropped"] == {"duplicate": 10, "near_duplicate": 30}
    code, _ = finish(cli(str(dump), "-o", str(out), "-w", "1"))  # finished: nothing to do
    assert code == 0
