"""``--engine ray`` keeps the local engine's limits and costs: a record over the worker memory
limit is rejected ``memory_limit`` (the limit comes from the config, and by default is a node's
share, not a whole machine per Ray worker), a near_dedup plan too small for Ray Data runs in the
driver with the same verdicts, and a run stopped under one engine resumes under the other."""

from __future__ import annotations

import json
import random
from pathlib import Path
from typing import Any

import pyarrow as pa
import pytest
from click.testing import CliRunner

from pipeline.api import Pipeline
from pipeline.cli import cli
from pipeline.core.config import Config
from pipeline.core.record import Doc, docs_to_batch
from pipeline.core.stage import Stage, split_parallel
from pipeline.execution.resources import auto_memory_limit, usable_cores

pytestmark = pytest.mark.ray
ray = pytest.importorskip("ray", reason="needs the ray extra: pip install 'cleanwire[ray]'")

import pipeline.execution.ray_dedup as ray_dedup  # noqa: E402
from pipeline.execution.ray import RayEngine  # noqa: E402

STORY = (
    "The harbour authority said on Tuesday that the new breakwater would protect the fishing fleet "
    "from the winter storms that battered the coast last year, and that work on the seaward arm "
    "would begin in May once the contractor had moved its barges from the northern quay where the "
    "ferry company still berths two vessels during the quiet months of the year"
)
WORDS = STORY.split(" ")


def test_the_ray_engine_takes_the_local_engines_limits_from_the_config() -> None:
    from pipeline.execution.ray import Supervision

    cfg = Config().with_overrides(
        {"run.record_timeout_s": 7.0, "run.max_worker_memory": "600MiB", "run.worker_start_timeout_s": 9.0}
    )
    engine = RayEngine.from_config(cfg, num_cpus=2)
    assert engine.supervision == Supervision(7.0, 600 << 20, 9.0)
    assert engine.num_cpus == 2
    # unset: each Ray worker's supervised child gets the node's share, as a local worker does,
    # not 80 % of the node's memory for each of its Ray workers
    assert Supervision.of(Config()).memory_bytes() == auto_memory_limit(usable_cores())
    assert RayEngine(timeout_s=None).supervision is None


def test_a_record_over_the_memory_limit_is_rejected_memory_limit_under_ray_too(local_ray: None) -> None:
    from stages.extract.extractor import Extract
    from tests.hostile import HOG, Misbehave

    body = " ".join(WORDS)
    docs = [Doc(id=f"r{i}", source="t", raw=t, format="text") for i, t in enumerate([body, f"{HOG} {body}"])]
    engine = RayEngine(window=2, timeout_s=30.0, memory_limit=512 << 20)
    ((out, stats),) = list(engine.map([Extract(), Misbehave()], [docs_to_batch(docs)]))
    got = list(zip(*(out.column(n).to_pylist() for n in ("status", "stage", "reason")), strict=True))
    assert got == [("ok", None, None), ("rejected", "misbehave", "memory_limit")]
    assert stats["misbehave"].rejected == {"memory_limit": 1}


def stories() -> list[Doc]:
    """Stories (the same words in an order of their own), each followed by a copy of it with one
    word changed (a near-duplicate) and an exact copy: 4 of each."""
    docs = []
    for k in range(4):
        words = list(WORDS)
        random.Random(k).shuffle(words)
        changed = [*words[:7], "changed", *words[8:]]
        for n, text in enumerate((words, changed, words)):
            raw = f"Harbour story\n\n{' '.join(text)}"
            docs.append(Doc(id=f"s{k}-{n}", source="feed", raw=raw, format="text"))
    return docs


def with_near_dedup(cfg: Config) -> list[Stage]:
    """The configured chain as the runner hands it to the Ray engine: parallel stages + near_dedup."""
    parallel, serial = split_parallel(Pipeline.from_config(cfg).stages)
    assert serial[0].name == "near_dedup"
    return [*parallel, serial[0]]


def verdicts(out: pa.RecordBatch) -> list[tuple[str, str | None, str | None]]:
    cols = ("status", "reason", "dup_of")
    return list(zip(*(out.column(n).to_pylist() for n in cols), strict=True))


def test_a_small_near_dedup_plan_runs_in_the_driver_with_the_ray_plans_verdicts(
    local_ray: None, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Each plan's Ray Data job (two shuffles) cost ~3 s whatever its size, and `cleanwire run`
    makes one per shard: a dump of 7 small files took 50-90 s with --engine ray against 8 s locally."""
    cfg = Config()
    batch = docs_to_batch(stories())
    calls: list[int] = []
    real = ray_dedup.ray_edges

    def spy(table: pa.Table, *args: Any) -> tuple[pa.Table, pa.Table]:
        calls.append(table.num_rows)
        return real(table, *args)

    monkeypatch.setattr(ray_dedup, "ray_edges", spy)
    ((on_ray, _),) = list(RayEngine(driver_plan_rows=0).map(with_near_dedup(cfg), [batch]))
    assert calls == [12]
    ((in_driver, _),) = list(RayEngine().map(with_near_dedup(cfg), [batch]))
    assert calls == [12]  # no Ray Data job for a plan of 12 rows
    assert verdicts(in_driver) == verdicts(on_ray)
    reasons = [r for _, r, _ in verdicts(in_driver)]
    assert reasons.count("duplicate") == 4 and reasons.count("near_duplicate") == 4


def run_cli(*args: str) -> dict[str, Any]:
    res = CliRunner().invoke(cli, ["run", *args, "--json"])
    assert res.exit_code == 0, res.output
    manifest: dict[str, Any] = json.loads(Path(json.loads(res.stdout)["manifest"]).read_text())
    return manifest


def files(out: Path) -> dict[str, bytes]:
    return {
        str(p.relative_to(out)): p.read_bytes()
        for p in sorted(out.rglob("*"))
        if p.is_file() and "state" not in p.parts and p.name != "manifest.json"
    }


def test_a_run_stopped_under_one_engine_resumes_under_the_other(local_ray: None, tmp_path: Path) -> None:
    """The engine is not part of the config hash: finished shards are skipped, the rest are
    cleaned by the other engine, and the output is the uninterrupted run's."""
    dump = tmp_path / "dump"
    dump.mkdir()
    docs = stories()
    for k in range(3):  # three shards; copies of shard a's stories in b and c
        lines = [json.dumps({"id": d.id, "text": d.raw}) for d in docs[k::3]]
        (dump / f"{'abc'[k]}.jsonl").write_text("\n".join([*lines, "{not json"]) + "\n", encoding="utf-8")
    whole = run_cli(str(dump), "-o", str(tmp_path / "whole"), "--workers", "1")
    for first, then in ((["--workers", "1"], ["--engine", "ray"]), (["--engine", "ray"], ["--workers", "1"])):
        out = tmp_path / f"stopped-{first[-1]}"
        run_cli(str(dump), "-o", str(out), *first)
        # as a run stopped during its last shard leaves it: that shard unmarked, its files gone
        state = out / "_cleanwire" / "state"
        for name in json.loads((state / "00002.done.json").read_text())["files"]:
            (out / name).unlink()
        for name in ("00002.done.json", "00002.rejects.jsonl.gz", "00002.dropped.jsonl.gz"):
            (state / name).unlink()
        resumed = run_cli(str(dump), "-o", str(out), *then)
        assert resumed["timings"]["shards_skipped"] == 2 and resumed["timings"]["shards_done"] == 1
        assert resumed["counts"] == whole["counts"]
        assert files(out) == files(tmp_path / "whole"), first
