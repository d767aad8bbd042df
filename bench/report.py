"""Summaries of repeated, interleaved runs: medians, ratios and the target checks."""

from __future__ import annotations

import statistics
from collections.abc import Sequence
from dataclasses import dataclass, field

from bench.measure import Measured

MB = 1_000_000


@dataclass(frozen=True)
class ArmSummary:
    arm: str
    n_docs: int
    seconds: float  # median over repeats of the whole command (process start to exit)
    docs_per_s: float
    mb_per_s: float
    peak_rss: int  # median over repeats, bytes
    shares: dict[str, float]  # stage -> share of the arm's end-to-end time x workers (summed over repeats)
    runs: int
    #: median seconds of the same command on the corpus's first 10 records: start-up and exit
    fixed_s: float = 0.0
    #: median over repeats of records per second of the command's time less its fixed seconds
    steady_docs_per_s: float = 0.0
    #: median over repeats of the CPU seconds of the command's process tree per record, in ms
    cpu_ms_per_doc: float = 0.0


def _steady(wall: float, fixed: float) -> float | None:
    """``wall`` less ``fixed``; None when ``fixed`` is more than half of it (on so short a run
    the difference is mostly the noise of two measurements)."""
    return wall - fixed if wall > 2 * fixed else None


def steady_seconds(runs: Sequence[Measured], fixed: Sequence[float]) -> list[float]:
    """Per repeat, the command's time less its fixed seconds measured in the same repeat."""
    return [t for m, f in zip(runs, fixed, strict=False) if (t := _steady(m.wall, f)) is not None]


def summarize(
    arm: str, runs: Sequence[Measured], corpus_bytes: int, fixed: Sequence[float] = ()
) -> ArmSummary:
    """An arm's figures over its repeats; ``fixed`` holds its fixed seconds per repeat, if measured."""
    seconds = statistics.median(m.wall for m in runs)
    total = sum(m.wall * m.result.workers for m in runs)
    stage_totals: dict[str, float] = {}
    for m in runs:
        for name, sec in m.result.stages.items():
            stage_totals[name] = stage_totals.get(name, 0.0) + sec
    shares = {name: sec / total for name, sec in stage_totals.items()} if total > 0 else {}
    n_docs = runs[0].result.n_docs
    return ArmSummary(
        arm=arm,
        n_docs=n_docs,
        seconds=seconds,
        docs_per_s=n_docs / seconds if seconds > 0 else 0.0,
        mb_per_s=corpus_bytes / MB / seconds if seconds > 0 else 0.0,
        peak_rss=int(statistics.median(m.peak_rss for m in runs)),
        shares=shares,
        runs=len(runs),
        fixed_s=statistics.median(fixed) if fixed else 0.0,
        steady_docs_per_s=statistics.median(n_docs / t for t in steady)
        if (steady := steady_seconds(runs, fixed))
        else 0.0,
        cpu_ms_per_doc=statistics.median(1000 * m.cpu / n_docs for m in runs) if n_docs else 0.0,
    )


def paired_ratios(fast: Sequence[Measured], slow: Sequence[Measured]) -> list[float]:
    """Per repeat, how many times faster ``fast`` was than ``slow`` (runs of one repeat are adjacent),
    each timed as a whole command, imports and start-up included."""
    return [s.wall / f.wall for f, s in zip(fast, slow, strict=False) if f.wall > 0]


def cpu_ratios(fast: Sequence[Measured], slow: Sequence[Measured]) -> list[float]:
    """Per repeat, ``slow``'s CPU seconds over ``fast``'s (whole process trees): the speed-up per
    core, which a busy neighbour moves far less than the wall-clock ratio."""
    return [s.cpu / f.cpu for f, s in zip(fast, slow, strict=False) if f.cpu > 0 and s.cpu > 0]


def steady_ratios(
    fast: Sequence[Measured],
    slow: Sequence[Measured],
    fast_fixed: Sequence[float],
    slow_fixed: Sequence[float],
) -> list[float]:
    """Per repeat, the same ratio with each command's fixed seconds taken off its time: how the
    two compare once started, as on a dump long enough for start-up not to count."""
    out: list[float] = []
    for f, s, ff, sf in zip(fast, slow, fast_fixed, slow_fixed, strict=False):
        fast_s, slow_s = _steady(f.wall, ff), _steady(s.wall, sf)
        if fast_s is not None and slow_s is not None:
            out.append(slow_s / fast_s)
    return out


@dataclass(frozen=True)
class Check:
    name: str
    value: float
    target: float
    higher_is_better: bool = True
    detail: str = ""

    @property
    def ok(self) -> bool:
        return self.value >= self.target if self.higher_is_better else self.value <= self.target

    def line(self) -> str:
        op = ">=" if self.higher_is_better else "<="
        verdict = "ok " if self.ok else "MISS"
        extra = f"  ({self.detail})" if self.detail else ""
        return f"  [{verdict}] {self.name:<44} {self.value:8.3f}  target {op} {self.target:g}{extra}"


@dataclass
class Report:
    sections: list[str] = field(default_factory=list)
    checks: list[Check] = field(default_factory=list)

    def add_table(self, title: str, arms: Sequence[ArmSummary]) -> None:
        lines = [
            title,
            f"  {'arm':<14} {'docs':>6} {'median s':>9} {'docs/s':>8} {'MB/s':>7} {'peak RSS':>10} "
            f"{'fixed s':>8} {'steady docs/s':>14} {'CPU ms/doc':>10}  stage shares",
        ]
        for a in arms:
            shares = ", ".join(
                f"{k} {v:.0%}" for k, v in sorted(a.shares.items(), key=lambda kv: -kv[1]) if v >= 0.005
            )
            lines.append(
                f"  {a.arm:<14} {a.n_docs:>6} {a.seconds:>9.2f} {a.docs_per_s:>8.2f} {a.mb_per_s:>7.2f} "
                f"{a.peak_rss / 2**20:>7.0f} MiB {a.fixed_s:>8.2f} {a.steady_docs_per_s:>14.2f} "
                f"{a.cpu_ms_per_doc:>10.1f}  {shares}"
            )
        lines.append(
            "  fixed s: the same command on the corpus's first 10 records (start-up and exit); "
            "steady docs/s: records / (s - fixed s); CPU ms/doc: the process tree's CPU time per record"
        )
        self.sections.append("\n".join(lines))

    def add_text(self, text: str) -> None:
        self.sections.append(text)

    def render(self) -> str:
        out = list(self.sections)
        if self.checks:
            out.append("targets\n" + "\n".join(c.line() for c in self.checks))
        return "\n\n".join(out)
