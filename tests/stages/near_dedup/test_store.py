"""The index directories: across runs, idempotent reruns, atomic commits, shards a rerun redoes."""

from __future__ import annotations

import dataclasses
import errno
import hashlib
import random
import sqlite3
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from pipeline.core.config import NearDedupConfig
from pipeline.core.errors import ConfigError, OutputError
from pipeline.core.stage import RunContext
from stages.near_dedup.deduper import NearDeduper, Verdict
from stages.near_dedup.stage import NearDedup
from stages.near_dedup.store import IndexStore, disk_full

from .corpus import article, syndicate
from .helpers import PARAMS, judge, prepared

P = PARAMS.index_params()


def day(base_dir: Path, work: Path, recs: list[tuple[str, str]]) -> list[Verdict | None]:
    """One run against the persistent index ``base_dir``, merged into it at the end."""
    base = IndexStore(base_dir, P)
    try:
        verdicts, _dd = judge(recs, work, base=base)
        run = IndexStore(work, P, durable=False)
        base.merge_from(run, label=str(work))
        run.close()
    finally:
        base.close()
    return verdicts


def tree(path: Path) -> dict[str, str]:
    return {p.name: hashlib.sha256(p.read_bytes()).hexdigest() for p in sorted(path.iterdir()) if p.is_file()}


def n_docs(path: Path) -> int:
    store = IndexStore(path, P, writable=False)
    try:
        return store.n_docs
    finally:
        store.close()


def test_copies_of_earlier_days_are_dropped(tmp_path: Path) -> None:
    rng = random.Random(1)
    day1 = [(f"d1-{i}", article(rng)) for i in range(20)]
    assert day(tmp_path / "index", tmp_path / "w1", day1) == [None] * 20
    day2 = [("d2-0", day1[3][1]), ("d2-1", syndicate(rng, day1[5][1])), ("d2-2", article(rng))]
    v = day(tmp_path / "index", tmp_path / "w2", day2)
    assert v[0] is not None and (v[0].reason, v[0].dup_of) == ("duplicate", "d1-3")
    assert v[1] is not None and (v[1].reason, v[1].dup_of) == ("near_duplicate", "d1-5")
    assert v[2] is None
    assert n_docs(tmp_path / "index") == 21


def test_rerun_of_the_same_day_is_idempotent(tmp_path: Path) -> None:
    rng = random.Random(2)
    texts = [article(rng) for _ in range(10)]
    recs = [(f"x{i}", t) for i, t in enumerate(texts)]
    recs += [(f"y{i}", syndicate(rng, t)) for i, t in enumerate(texts[:4])]
    recs += [(f"z{i}", t) for i, t in enumerate(texts[:2])]
    first = day(tmp_path / "index", tmp_path / "w1", recs)
    files = tree(tmp_path / "index")
    again = day(tmp_path / "index", tmp_path / "w2", recs)
    assert again == first and sum(v is not None for v in first) == 6
    assert tree(tmp_path / "index") == files  # not a byte changed: nothing new to index


def test_an_index_refuses_other_parameters(tmp_path: Path) -> None:
    IndexStore(tmp_path, P).close()
    other = dataclasses.replace(PARAMS, threshold=0.6).index_params() | {"bands": 20}
    with pytest.raises(ConfigError, match="bands: 25 \\(index\\) vs 20 \\(config\\)"):
        IndexStore(tmp_path, other)


def test_a_second_writer_is_refused_while_the_first_holds_the_index(tmp_path: Path) -> None:
    first = IndexStore(tmp_path, P)
    try:
        with pytest.raises(OutputError, match="in use by another run"):
            IndexStore(tmp_path, P, busy_timeout_s=0.2)
        IndexStore(tmp_path, P, writable=False).close()  # readers see the last commit
    finally:
        first.close()


def test_uncommitted_records_vanish_with_the_process(tmp_path: Path) -> None:
    """A run killed before its commit leaves the index as it was (here: a process that adds
    records and dies without committing), and the next open sweeps files of no commit."""
    rng = random.Random(3)
    day(tmp_path / "index", tmp_path / "w1", [(f"a{i}", article(rng)) for i in range(5)])
    before = tree(tmp_path / "index")
    (tmp_path / "index" / "seg-stray.keys.npy").write_bytes(b"left by a crash")
    script = f"""
import os, sys
sys.path.insert(0, {str(Path(__file__).resolve().parents[3])!r})
from tests.stages.near_dedup.helpers import PARAMS, prepared
from stages.near_dedup.deduper import NearDeduper
from stages.near_dedup.store import IndexStore
store = IndexStore({str(tmp_path / "index")!r}, PARAMS.index_params())
NearDeduper(PARAMS, [store]).judge_batch(prepared([("new", "fresh words " * 40)]))
os._exit(9)
"""
    assert subprocess.run([sys.executable, "-c", script], check=False).returncode == 9
    assert n_docs(tmp_path / "index") == 5
    IndexStore(tmp_path / "index", P).close()
    after = {k: v for k, v in tree(tmp_path / "index").items() if not k.startswith("index.sqlite")}
    assert after == {k: v for k, v in before.items() if not k.startswith("index.sqlite")}


def test_shards_a_rerun_redoes_are_forgotten(tmp_path: Path) -> None:
    """The run's own index keeps exactly what the finished shards indexed."""
    rng = random.Random(4)
    store = IndexStore(tmp_path, P, durable=False)
    dd = NearDeduper(PARAMS, [store])
    texts = [article(rng) for _ in range(6)]
    dd.judge_batch(prepared([(f"s1-{i}", t) for i, t in enumerate(texts[:3])]))
    store.commit(shard="00000")
    dd.judge_batch(prepared([(f"s2-{i}", t) for i, t in enumerate(texts[3:])]))
    store.commit(shard="00001")  # committed, but (say) its marker was never written
    assert store.shards() == {"00000": 3, "00001": 3}
    assert store.forget_shards(keep={"00000"}) == 3
    assert store.shards() == {"00000": 3} and store.n_docs == 3
    keys, docs = store.all_keys()
    assert len(keys) == 3 * 26 and set(docs.tolist()) == {0, 1, 2}
    v = NearDeduper(PARAMS, [store]).judge_batch(prepared([("again", texts[4]), ("old", texts[1])]))
    assert v[0] is None and v[1] is not None and v[1].dup_of == "s1-1"
    store.close()


def test_memory_per_indexed_record_is_312_bytes(tmp_path: Path) -> None:
    rng = random.Random(5)
    store = IndexStore(tmp_path, P, durable=False)
    NearDeduper(PARAMS, [store]).judge_batch(prepared([(f"r{i}", article(rng, 200)) for i in range(40)]))
    store.commit(shard="x")
    stats = store.stats()
    assert stats["docs"] == 40 and stats["key_bytes"] == 40 * 312
    assert np.asarray(store.all_keys()[0]).nbytes == 40 * 26 * 8
    store.close()


def test_a_full_disk_is_one_enospc_naming_the_index_and_leaves_no_temporary_file(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """SQLite's "database or disk is full" and a failed segment write both come out as ENOSPC
    naming the index (the runner names the output directory, the stage a --dedup-index); the
    previous commit stays."""
    rng = random.Random(4)
    store = IndexStore(tmp_path / "idx", P, durable=False)
    try:
        NearDeduper(PARAMS, [store]).index_kept(prepared([("c", article(rng, 200))]))

        def full(*args: object, **kwargs: object) -> None:
            raise OSError(errno.ENOSPC, "No space left on device")

        monkeypatch.setattr(np, "save", full)
        with pytest.raises(OSError) as err:
            store.commit(shard="s2")
        assert err.value.errno == errno.ENOSPC and err.value.filename == str(tmp_path / "idx")
        assert not list((tmp_path / "idx").glob("*.tmp"))
    finally:
        store.db.execute("ROLLBACK")
        store.close()
    assert disk_full(sqlite3.OperationalError("database or disk is full"))
    assert not disk_full(sqlite3.OperationalError("database is locked"))


def test_a_full_dedup_index_stops_the_run_with_one_error_naming_it(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    stage = NearDedup(NearDedupConfig(), index=str(tmp_path / "index"))
    stage.open_run(RunContext(state_dir=tmp_path / "state", shards=("a",), label="run"))

    def full(*args: object, **kwargs: object) -> int:
        raise OSError(errno.ENOSPC, "No space left on device", str(tmp_path / "index"))

    monkeypatch.setattr(IndexStore, "merge_from", full)
    try:
        with pytest.raises(OutputError, match=r"the dedup index .*index is out of space: no space left"):
            stage.finish_run()
    finally:
        stage.close_run(completed=False)
