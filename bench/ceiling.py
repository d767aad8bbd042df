"""What this machine gives two processes at once, to read a 2-worker speed-up against.

* :func:`two_process_scaling`: the same pure-Python loop in one process, then in two at the same
  time. On a machine with two idle cores the ratio is ~2.0; on a shared virtual machine it moves
  from run to run (and by a few percent between two measurements a minute apart).
* :func:`workload_scaling`: cleanwire's stage chain run in process (no pool, no coordinator) over
  the first records of the corpus, in one process, then in two at the same time. HTML extraction
  walks large trees and shares the caches and memory bandwidth that the loop above does not
  touch, so this is what the machine gives *this* work, and what a pool of two could reach at best.
* :func:`pool_scaling`: the supervised pool itself, 2 workers over 1, on batches of those records
  built before the clock starts, results dropped: no reading, JSON, writing or start-up. The gap
  between it and a whole command is the coordinator's work and the command's fixed seconds.
"""

from __future__ import annotations

import argparse
import multiprocessing as mp
import subprocess
import sys
import time
from itertools import islice
from pathlib import Path

from bench.measure import REPO, child_env
from pipeline.core.config import Config
from pipeline.core.record import Doc

SPIN = 8_000_000  # ~0.5-1 s of work per process on this kind of machine

#: Records per process for :func:`workload_scaling`: about 1-2 s of stage work each.
WORKLOAD_DOCS = {"html": 48, "text": 500}
#: Records for :func:`pool_scaling`: about 3-6 s of stage work for one worker.
POOL_DOCS = {"html": 96, "text": 1000}


def _spin(n: int) -> int:
    total = 0
    for i in range(n):
        total += i * i % 7
    return total


def _wall(processes: int, n: int) -> float:
    ctx = mp.get_context("fork")
    t0 = time.perf_counter()
    with ctx.Pool(processes) as pool:
        pool.map(_spin, [n] * processes)
    return time.perf_counter() - t0


def two_process_scaling(n: int = SPIN) -> float:
    """Throughput of two processes over one on the same pure-Python loop (2.0 = two full cores)."""
    one = _wall(1, n)
    two = _wall(2, n)
    return 2 * one / two if two > 0 else 0.0


def _stage_seconds(corpus: Path, n_docs: int, processes: int, config: Path | None) -> list[float]:
    """Start ``processes`` children on the same records; once all have loaded and warmed up,
    start their clocks together; return each one's seconds of stage work."""
    cmd = [sys.executable, "-m", "bench.ceiling", "--corpus", str(corpus), "--docs", str(n_docs)]
    if config is not None:
        cmd += ["--config", str(config.resolve())]
    procs = [
        subprocess.Popen(
            cmd, stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True, cwd=REPO, env=child_env()
        )
        for _ in range(processes)
    ]
    try:
        for p in procs:
            assert p.stdout is not None
            if p.stdout.readline().strip() != "ready":
                raise RuntimeError("a workload-ceiling child did not start")
        for p in procs:
            assert p.stdin is not None
            p.stdin.write("go\n")
            p.stdin.flush()
        return [float(p.stdout.readline()) for p in procs if p.stdout is not None]
    finally:
        for p in procs:
            if p.stdin is not None:
                p.stdin.close()
            p.wait()


def workload_scaling(corpus: Path, n_docs: int, config: Path | None = None) -> float:
    """Throughput of two processes over one, each running the stages of the default (or the
    given TOML) configuration over the first ``n_docs`` records of ``corpus`` (cycled if it has
    fewer) in process (2.0 = the work scales perfectly here)."""
    one = _stage_seconds(corpus, n_docs, 1, config)[0]
    two = max(_stage_seconds(corpus, n_docs, 2, config))
    return 2 * one / two if two > 0 else 0.0


def pool_scaling(corpus: Path, n_docs: int, config: Path | None = None) -> float:
    """Throughput of the supervised pool with 2 workers over 1 on the first ``n_docs`` records of
    ``corpus``, batched as a run batches them, in a child process (2.0 = the pool scales
    perfectly here)."""
    cmd = [sys.executable, "-m", "bench.ceiling", "--pool", "--corpus", str(corpus), "--docs", str(n_docs)]
    if config is not None:
        cmd += ["--config", str(config.resolve())]
    done = subprocess.run(cmd, capture_output=True, text=True, cwd=REPO, env=child_env(), check=True)
    return float(done.stdout.split()[-1])


def _docs(corpus: Path, n_docs: int, cfg: Config) -> list[Doc]:
    """The first ``n_docs`` records of ``corpus``; a small corpus is read again (fresh records)."""
    from pipeline.io.readers import Source

    shard = Source([corpus], cfg.reader).shards()[0]
    docs: list[Doc] = []
    while len(docs) < n_docs:
        docs.extend(islice(shard.docs(cfg.reader), n_docs - len(docs)))
    return docs


def _pool_child(corpus: Path, n_docs: int, config: Path | None) -> None:
    from pipeline.api import Pipeline
    from pipeline.core.batching import batched
    from pipeline.execution.pool import ProcessEngine

    cfg = Config.from_toml(config) if config else Config()
    stages = Pipeline.from_config(cfg).parallel_prefix
    batches = list(batched(_docs(corpus, n_docs, cfg), cfg.run.batch_size, cfg.run.batch_chars))
    seconds: dict[int, float] = {}
    for workers in (1, 2):
        engine = ProcessEngine(workers, timeout_s=600.0)
        try:
            for _ in engine.map(stages, batches[:workers]):  # started and warmed up
                pass
            t0 = time.perf_counter()
            for _ in engine.map(stages, batches):
                pass
            seconds[workers] = time.perf_counter() - t0
        finally:
            engine.close()
    print(seconds[1] / seconds[2], flush=True)


def _child(corpus: Path, n_docs: int, config: Path | None) -> None:
    from pipeline.api import Pipeline
    from pipeline.execution.chain import run_docs
    from pipeline.execution.worker import warm_up

    cfg = Config.from_toml(config) if config else Config()
    stages = Pipeline.from_config(cfg).parallel_prefix
    docs = _docs(corpus, n_docs, cfg)
    warm_up(stages)
    print("ready", flush=True)
    sys.stdin.readline()
    t0 = time.perf_counter()
    run_docs(stages, docs)
    print(time.perf_counter() - t0, flush=True)


if __name__ == "__main__":
    parser = argparse.ArgumentParser(prog="python -m bench.ceiling", description=__doc__)
    parser.add_argument("--corpus", type=Path, required=True)
    parser.add_argument("--docs", type=int, required=True)
    parser.add_argument("--config", type=Path)
    parser.add_argument("--pool", action="store_true", help="measure the pool (pool_scaling)")
    args = parser.parse_args()
    (_pool_child if args.pool else _child)(args.corpus, args.docs, args.config)
