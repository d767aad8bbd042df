"""Run one arm in a child process and sample the resident memory of its whole process tree.

The tree is the child and every process descended from it (cleanwire's workers, the forkserver),
found by walking ``/proc``. Peak RSS is the largest sum of their resident set sizes over the run,
sampled every ``interval`` seconds (shared pages are counted once per process, as ``ps`` does).
"""

from __future__ import annotations

import os
import subprocess
import sys
import threading
import time
from dataclasses import dataclass
from pathlib import Path

from bench.arms import ArmResult, cleanwire_command, cleanwire_result
from pipeline.execution.resources import resident_bytes

REPO = Path(__file__).resolve().parent.parent


@dataclass(frozen=True)
class Measured:
    result: ArmResult
    peak_rss: int  # bytes, whole process tree; 0 where /proc is not available
    wall: float  # seconds from starting the arm's process to its exit, as ``time`` would show
    #: CPU seconds (user + system) of the arm's process tree, sampled every 50 ms: less sensitive
    #: than ``wall`` to other jobs on a shared machine
    cpu: float = 0.0


def _parents() -> dict[int, int]:
    """pid -> parent pid for every visible process."""
    out: dict[int, int] = {}
    for entry in os.scandir("/proc"):
        if not entry.name.isdigit():
            continue
        try:
            with open(f"/proc/{entry.name}/stat", "rb") as fh:
                stat = fh.read()
        except OSError:
            continue
        # the command name is in parentheses and may hold spaces: parse after the last ')'
        fields = stat[stat.rfind(b")") + 2 :].split()
        out[int(entry.name)] = int(fields[1])
    return out


def tree_pids(root: int) -> list[int]:
    parents = _parents()
    children: dict[int, list[int]] = {}
    for pid, ppid in parents.items():
        children.setdefault(ppid, []).append(pid)
    found, todo = [], [root]
    while todo:
        pid = todo.pop()
        found.append(pid)
        todo.extend(children.get(pid, []))
    return found


def rss_bytes(pid: int) -> int:
    return resident_bytes(pid) or 0


def tree_rss(root: int) -> int:
    return sum(rss_bytes(p) for p in tree_pids(root))


class PeakSampler:
    """Samples :func:`tree_rss` of ``pid`` in a thread until stopped; keeps the maximum, and the
    CPU seconds each process of the tree had used when last seen (a forkserver's workers are
    reaped by no one who reports to us, so ``getrusage`` would miss them)."""

    def __init__(self, pid: int, interval: float = 0.05) -> None:
        self.pid = pid
        self.interval = interval
        self.peak = 0
        self._ticks: dict[int, int] = {}
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def _run(self) -> None:
        while not self._stop.is_set():
            pids = tree_pids(self.pid)
            self.peak = max(self.peak, sum(rss_bytes(p) for p in pids))
            for p in pids:
                self._ticks[p] = max(self._ticks.get(p, 0), cpu_ticks(p))
            self._stop.wait(self.interval)

    @property
    def cpu(self) -> float:
        """CPU seconds (user + system) of the tree's processes, to the last sample."""
        return sum(self._ticks.values()) / os.sysconf("SC_CLK_TCK")

    def __enter__(self) -> PeakSampler:
        if Path("/proc/self/statm").exists():
            self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        if self._thread.is_alive():
            self._thread.join()


def cpu_ticks(pid: int) -> int:
    """utime + stime of ``pid`` in clock ticks (0 once it is gone)."""
    try:
        with open(f"/proc/{pid}/stat", "rb") as fh:
            stat = fh.read()
    except OSError:
        return 0
    fields = stat[stat.rfind(b")") + 2 :].split()
    return int(fields[11]) + int(fields[12])


def child_env() -> dict[str, str]:
    """The environment for the benchmark's child processes: this one, with the repository first
    on ``PYTHONPATH``."""
    path = os.pathsep.join(filter(None, [str(REPO), os.environ.get("PYTHONPATH")]))
    return {**os.environ, "PYTHONPATH": path}


class ArmFailed(RuntimeError):
    pass


def run_arm(arm: str, corpus: Path, out: Path, *, workers: int = 1, config: Path | None = None) -> Measured:
    """Run one arm's command (``naive`` or ``cleanwire``) and return its result, the peak RSS of
    its process tree and its wall time from start to exit."""
    if arm == "naive":
        cmd = [sys.executable, "-m", "bench.arms", "--corpus", str(corpus), "--out", str(out)]
    else:
        cmd = cleanwire_command(corpus, out, workers, config)
    started = time.perf_counter()
    proc = subprocess.Popen(
        cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, cwd=REPO, env=child_env()
    )
    with PeakSampler(proc.pid) as sampler:
        stdout, stderr = proc.communicate()
    wall = time.perf_counter() - started
    if proc.returncode != 0:
        raise ArmFailed(f"{arm} (workers={workers}) exited {proc.returncode}:\n{stderr[-3000:]}")
    if arm == "naive":
        result = ArmResult.from_json(stdout.strip().splitlines()[-1])
    else:
        result = cleanwire_result(out, workers)
    return Measured(result, sampler.peak, wall, sampler.cpu)
