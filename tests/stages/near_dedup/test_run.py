"""near_dedup in whole runs: the dropped records name the kept copy, negatives are kept, the
result does not depend on workers or batches, the index carries over to the next run (and a
rerun of the same day changes nothing), and a resumed run ends exactly like an uninterrupted one."""

from __future__ import annotations

import gzip
import hashlib
import json
import random
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import pyarrow.parquet as pq
import pytest
from click.testing import CliRunner

from pipeline.api import Pipeline
from pipeline.cli import cli
from pipeline.core.config import Config
from pipeline.core.errors import ConfigError
from pipeline.io.layout import OutputLayout
from pipeline.io.readers import Source
from pipeline.io.sinks import ParquetSink
from pipeline.io.sinks.base import ShardOutput

from .corpus import article, page, syndicated_copy


def write_feed(path: Path, rows: Sequence[dict[str, str]]) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text("".join(json.dumps(r) + "\n" for r in rows), encoding="utf-8")


def news(seed: int, day: str, stories: int = 8) -> tuple[list[dict[str, str]], dict[str, str], list[str]]:
    """One day's feed: originals on the Gazette, syndicated copies of half of them on the Herald
    and the Courier, and hard negatives (different stories in the Gazette's template; two stories
    quoting the same long passage). Returns the rows, {copy id: original id} and the negatives."""
    rng = random.Random(seed)
    bodies = [article(rng, rng.randint(220, 420)) for _ in range(stories)]
    rows = [
        {
            "id": f"{day}-g{i}",
            "url": f"https://gazette.example/{day}/{i}",
            "text": page("gazette", f"Story {i}", "By Staff", b),
        }
        for i, b in enumerate(bodies)
    ]
    copies: dict[str, str] = {}
    for i, b in enumerate(bodies[: stories // 2]):
        for site in ("herald", "courier"):
            rid = f"{day}-{site[0]}{i}"
            rows.append(
                {"id": rid, "url": f"https://{site}.example/{day}/{i}", "text": syndicated_copy(rng, b, site)}
            )
            copies[rid] = f"{day}-g{i}"
    quote = " ".join(article(rng, 80).split()[:70])
    negatives = []
    for k in range(4):
        rid = f"{day}-n{k}"
        body = (
            article(rng, 200)
            if k < 2
            else f'{article(rng, 120)}\n\n"{quote}," the minister said.\n\n{article(rng, 60)}'
        )
        rows.append(
            {
                "id": rid,
                "url": f"https://gazette.example/{day}/n{k}",
                "text": page("gazette", f"Other {k}", "By Staff", body),
            }
        )
        negatives.append(rid)
    order = list(range(stories, len(rows)))
    rng.shuffle(order)
    return rows[:stories] + [rows[i] for i in order], copies, negatives


def run(*args: str) -> dict[str, Any]:
    res = CliRunner().invoke(cli, ["run", *args, "--json", "--no-progress"])
    assert res.exit_code == 0, res.output
    return json.loads(res.stdout)  # type: ignore[no-any-return]


def dropped(out: Path) -> list[dict[str, Any]]:
    with gzip.open(OutputLayout(out).left("dropped")) as fh:
        return [json.loads(line) for line in fh]


def files(out: Path) -> dict[str, bytes]:
    """The kept records and the dropped/rejected ones, byte for byte."""
    found = {p.relative_to(out).as_posix(): p.read_bytes() for p in sorted(out.rglob("*.parquet"))}
    for kind in ("rejects", "dropped"):
        found[kind] = OutputLayout(out).left(kind).read_bytes()
    return found


def tree(path: Path) -> dict[str, str]:
    return {p.name: hashlib.sha256(p.read_bytes()).hexdigest() for p in sorted(path.iterdir()) if p.is_file()}


def test_syndicated_copies_are_dropped_naming_the_kept_record(tmp_path: Path) -> None:
    rows, copies, negatives = news(1, "d1")
    write_feed(tmp_path / "dump" / "feed.jsonl", rows)
    run(str(tmp_path / "dump"), "-o", str(tmp_path / "out"), "-w", "1")
    got = {r["id"]: r for r in dropped(tmp_path / "out")}
    assert set(got) == set(copies)
    for rid, row in got.items():
        assert (row["stage"], row["reason"], row["dup_of"]) == ("near_dedup", "near_duplicate", copies[rid])
        assert 0.5 <= row["similarity"] < 1 and row["url"].startswith("https://")
        assert (
            row["detail"] == f"near-duplicate of {copies[rid]} (Jaccard similarity {row['similarity']:.3f})"
        )
    kept = set(pq.read_table(tmp_path / "out", columns=["id"]).column("id").to_pylist())
    assert set(negatives) <= kept and len(kept) == len(rows) - len(copies)
    assert not (OutputLayout(tmp_path / "out").state_dir / "near_dedup").exists()  # removed once complete


def test_result_does_not_depend_on_workers_or_batches(tmp_path: Path) -> None:
    rows, _, _ = news(2, "d1")
    write_feed(tmp_path / "dump" / "a.jsonl", rows[:10])
    write_feed(tmp_path / "dump" / "b.jsonl", rows[10:])
    run(str(tmp_path / "dump"), "-o", str(tmp_path / "one"), "-w", "1", "--batch-size", "64")
    run(str(tmp_path / "dump"), "-o", str(tmp_path / "two"), "-w", "2", "--batch-size", "3")
    assert files(tmp_path / "one") == files(tmp_path / "two")
    assert len(dropped(tmp_path / "one")) == 8


def test_exact_copies_only_with_no_near_dedup_and_nothing_with_no_dedup(tmp_path: Path) -> None:
    rows, _copies, _ = news(3, "d1")
    rows.append({**rows[0], "id": "d1-exact"})
    write_feed(tmp_path / "dump" / "feed.jsonl", rows)
    run(str(tmp_path / "dump"), "-o", str(tmp_path / "exact"), "-w", "1", "--no-near-dedup")
    assert [(r["id"], r["reason"], r["dup_of"], r["similarity"]) for r in dropped(tmp_path / "exact")] == [
        ("d1-exact", "duplicate", "d1-g0", 1.0)
    ]
    summary = run(str(tmp_path / "dump"), "-o", str(tmp_path / "none"), "-w", "1", "--no-dedup")
    assert summary["counts"]["n_dropped"] == 0


def test_the_index_carries_copies_over_to_the_next_day_and_a_rerun_changes_nothing(tmp_path: Path) -> None:
    index = tmp_path / "index"
    day1, _, _ = news(4, "d1")
    write_feed(tmp_path / "d1" / "feed.jsonl", day1)
    run(str(tmp_path / "d1"), "-o", str(tmp_path / "out1"), "-w", "1", "--dedup-index", str(index))
    stories = {r["id"]: r["text"] for r in day1}
    rng = random.Random(5)
    day2, copies2, _ = news(6, "d2", stories=4)
    repeats = {"d2-late": "d1-g0", "d2-again": "d1-g5"}  # yesterday's stories on other sites today
    day2 += [
        {
            "id": "d2-late",
            "url": "https://herald.example/d2/late",
            "text": syndicated_copy(rng, stories["d1-g0"].split("\n\n", 3)[3], "herald"),
        },
        {"id": "d2-again", "url": "https://gazette.example/d2/again", "text": stories["d1-g5"]},
    ]
    write_feed(tmp_path / "d2" / "feed.jsonl", day2)
    run(str(tmp_path / "d2"), "-o", str(tmp_path / "out2"), "-w", "1", "--dedup-index", str(index))
    got = {r["id"]: (r["reason"], r["dup_of"]) for r in dropped(tmp_path / "out2")}
    assert got == {
        **{k: ("near_duplicate", v) for k, v in copies2.items()},
        "d2-late": ("near_duplicate", "d1-g0"),
        "d2-again": ("duplicate", "d1-g5"),
    }
    # the same day again (another output directory): the same records, and the index unchanged
    before = tree(index)
    run(str(tmp_path / "d2"), "-o", str(tmp_path / "out2-again"), "-w", "2", "--dedup-index", str(index))
    assert files(tmp_path / "out2-again") == files(tmp_path / "out2")
    assert tree(index) == before
    assert set(repeats) <= set(got)


def test_dedup_index_needs_the_near_dedup_stage() -> None:
    with pytest.raises(ConfigError, match="kept by the near_dedup stage"):
        Config().with_overrides({"dedup.index": "/tmp/x", "dedup.enabled": False})
    assert Config().with_overrides({"dedup.index": "/tmp/x"}).hash == Config().hash  # a place, not content


class FailOnce(ParquetSink):
    """A sink whose shard ``00001`` fails once at its commit, after near_dedup has committed the
    shard's index but before the shard's marker: the window a crash can hit."""

    failed = False

    def open_shard(self, shard: str, inputs: Sequence[Any] = ()) -> ShardOutput:
        writer = super().open_shard(shard, inputs)
        if shard == "00001" and not FailOnce.failed:

            def commit() -> Any:
                FailOnce.failed = True
                raise OSError("disk gone")

            writer.commit = commit  # type: ignore[method-assign]
        return writer


def test_a_shard_that_failed_after_its_index_commit_is_redone_exactly(tmp_path: Path) -> None:
    rows, _, _ = news(7, "d1")
    for k, lo in enumerate(range(0, len(rows), 6)):
        write_feed(tmp_path / "dump" / f"feed-{k}.jsonl", rows[lo : lo + 6])
    cfg = Config().with_overrides({"run.workers": 1})
    source = Source([tmp_path / "dump"], cfg.reader)
    Pipeline.from_config(cfg).run(source, ParquetSink(tmp_path / "clean", cfg))
    with pytest.raises(OSError, match="disk gone"):
        Pipeline.from_config(cfg).run(source, FailOnce(tmp_path / "out", cfg))
    state = OutputLayout(tmp_path / "out").state_dir
    assert (state / "near_dedup").is_dir() and len(list(state.glob("*.done.json"))) == 1
    report = Pipeline.from_config(cfg).run(source, ParquetSink(tmp_path / "out", cfg))
    assert report.shards_skipped == 1
    assert files(tmp_path / "out") == files(tmp_path / "clean")
    assert len(dropped(tmp_path / "clean")) == 8


def test_stats_and_report_show_the_largest_clusters_and_the_sites_sharing_stories(tmp_path: Path) -> None:
    rows, _copies, _ = news(8, "d1")
    rows.append({**rows[0], "id": "d1-exact", "url": "https://gazette.example/d1/0-again"})
    write_feed(tmp_path / "dump" / "feed.jsonl", rows)
    run(str(tmp_path / "dump"), "-o", str(tmp_path / "out"), "-w", "1")
    res = CliRunner().invoke(cli, ["stats", str(tmp_path / "out"), "--json"])
    assert res.exit_code == 0, res.output
    dups = json.loads(res.stdout)["duplicates"]
    assert (dups["clusters"], dups["dropped_copies"]) == (4, 9)
    biggest = dups["largest_clusters"][0]
    assert biggest["head"] == "d1-g0" and biggest["size"] == 4 and biggest["sites"] == 3
    assert (biggest["exact_copies"], biggest["near_copies"], biggest["head_site"]) == (
        1,
        2,
        "gazette.example",
    )
    pairs = {(p["kept_on"], p["copied_on"]): p["stories"] for p in dups["site_pairs"]}
    assert pairs == {
        ("gazette.example", "herald.example"): 4,
        ("gazette.example", "courier.example"): 4,
        ("gazette.example", "gazette.example"): 1,
    }
    table = CliRunner().invoke(cli, ["stats", str(tmp_path / "out")]).stdout
    assert "Largest duplicate clusters (4 kept record(s) with 9 dropped cop(ies))" in table
    assert "Sites sharing the most stories" in table
    res = CliRunner().invoke(cli, ["report", str(tmp_path / "out"), "-o", str(tmp_path / "r.html")])
    assert res.exit_code == 0, res.output
    page_html = (tmp_path / "r.html").read_text(encoding="utf-8")
    assert 'data-plot="site-pairs"' in page_html and "Largest clusters" in page_html
    assert "gazette.example -&gt; herald.example" in page_html


def test_explain_says_whose_copy_a_document_is_in_an_index(tmp_path: Path) -> None:
    rows, _, _ = news(9, "d1")
    write_feed(tmp_path / "dump" / "feed.jsonl", rows)
    index = tmp_path / "index"
    run(str(tmp_path / "dump"), "-o", str(tmp_path / "out"), "-w", "1", "--dedup-index", str(index))
    copy = tmp_path / "copy.txt"
    copy.write_text(
        syndicated_copy(random.Random(1), rows[3]["text"].split("\n\n", 3)[3], "courier"), encoding="utf-8"
    )
    res = CliRunner().invoke(cli, ["explain", str(copy), "--dedup-index", str(index), "--json"])
    assert res.exit_code == 0, res.output
    steps = {s["stage"]: s for s in json.loads(res.stdout)}
    assert steps["near_dedup_sign"]["notes"]["signature"] == "100 MinHash values"
    assert steps["near_dedup"]["status"] == "dropped" and steps["near_dedup"]["reason"] == "near_duplicate"
    assert steps["near_dedup"]["notes"]["dup_of"] == "d1-g3"
    fresh = tmp_path / "fresh.txt"
    fresh.write_text(article(random.Random(2), 200), encoding="utf-8")
    text = CliRunner().invoke(cli, ["explain", str(fresh), "--dedup-index", str(index)]).stdout
    assert f"copy of: nothing in the index {index}" in text
