"""An index used from several threads one call at a time, as an ETL job's worker threads use a
pipeline: opened in one thread, used in another, closed in a third or at exit in the main one."""

from __future__ import annotations

import gc
import os
import random
import subprocess
import sys
import textwrap
import weakref
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import TypeVar

import pyarrow as pa

from pipeline import Config, Pipeline
from stages.near_dedup.deduper import NearDeduper
from stages.near_dedup.stage import NearDedup
from stages.near_dedup.store import IndexStore

from .corpus import article
from .helpers import PARAMS, prepared

STORY = article(random.Random(7), 120)
T = TypeVar("T")


def in_a_thread(call: Callable[..., T], *args: object) -> T:
    """``call(*args)`` in a new worker thread, which ends before this returns."""
    with ThreadPoolExecutor(1) as pool:
        return pool.submit(call, *args).result()


def test_an_index_opened_in_one_thread_is_used_and_closed_in_others(tmp_path: Path) -> None:
    store = in_a_thread(IndexStore, tmp_path / "index", PARAMS.index_params())
    verdicts = NearDeduper(PARAMS, [store]).judge_batch(prepared([("a", STORY), ("b", STORY)]))
    store.commit(shard="0")
    in_a_thread(store.close)
    assert store.closed
    assert verdicts[0] is None
    assert verdicts[1] is not None and (verdicts[1].reason, verdicts[1].dup_of) == ("duplicate", "a")
    reopened = IndexStore(tmp_path / "index", PARAMS.index_params(), writable=False)
    try:
        assert reopened.shards() == {"0": 1}  # the commit from the main thread is there
    finally:
        reopened.close()


def test_a_pipeline_takes_batches_from_one_thread_after_another_then_closes_in_the_main_one() -> None:
    pipe = Pipeline.from_config(Config())
    first = pa.table({"id": ["a"], "source": ["feed"], "raw": [STORY]})
    copy = pa.table({"id": ["b"], "source": ["feed"], "raw": [STORY]})
    out_first = in_a_thread(pipe.process_batch, first)  # opens the stage's index there
    out_copy = in_a_thread(pipe.process_batch, copy)  # another thread, the same index
    assert out_first.column("status").to_pylist() == ["ok"]
    assert out_copy.column("status").to_pylist() == ["dropped"]
    assert (out_copy.column("reason")[0].as_py(), out_copy.column("dup_of")[0].as_py()) == ("duplicate", "a")
    stage = next(s for s in pipe.stages if isinstance(s, NearDedup))
    store = stage.deduper.target
    stage.close_run(completed=False)  # in the main thread: what a run's start does too
    assert store.closed


def test_a_program_that_used_a_pipeline_from_a_worker_thread_exits_cleanly(tmp_path: Path) -> None:
    script = textwrap.dedent(
        f"""
        from concurrent.futures import ThreadPoolExecutor
        import pyarrow as pa
        from pipeline import Config, Pipeline

        pipe = Pipeline.from_config(Config())
        table = pa.table({{"id": ["a"], "source": ["feed"], "raw": [{STORY!r}]}})
        with ThreadPoolExecutor(1) as pool:
            out = pool.submit(pipe.process_batch, table).result()
        print(out.column("status")[0].as_py())
        """
    )
    done = subprocess.run(
        [sys.executable, "-X", "dev", "-W", "error", "-c", script],
        capture_output=True,
        text=True,
        timeout=120,
        env={**os.environ, "TMPDIR": str(tmp_path)},
    )
    assert (done.returncode, done.stdout, done.stderr) == (0, "ok\n", "")
    # the index the batch opened (a temporary directory) was closed and removed at exit
    assert list(tmp_path.glob("cleanwire-near-dedup-*")) == []


def test_a_closed_index_is_not_held_until_exit() -> None:
    pipe = Pipeline.from_config(Config())
    pipe.process_batch(pa.table({"id": ["a"], "source": ["feed"], "raw": [STORY]}))
    stage = next(s for s in pipe.stages if isinstance(s, NearDedup))
    deduper = weakref.ref(stage.deduper)  # the index a batch opened: closed at exit if need be
    stage.close_run(completed=False)
    gc.collect()
    assert deduper() is None  # closed earlier: nothing keeps it (and its keys) for the exit
