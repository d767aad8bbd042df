"""The two things being compared, each a command in its own process, so that its peak RSS can
be measured over its whole process tree, neither warms the other's caches, and its time is the
whole command's, imports and exit included, as a user would time it (:func:`bench.measure.run_arm`).

* ``naive`` (``python -m bench.arms``): the user's obvious loop - per record
  ``trafilatura.extract`` (HTML only) -> ``ftfy.fix_text`` -> ``langdetect.detect_langs`` ->
  append a row to a list -> one ``pyarrow`` Parquet write at the end. It prints one JSON
  :class:`ArmResult` on stdout.
* ``cleanwire``: the ``cleanwire run`` command (:func:`cleanwire_command`); its figures are read
  from the run's manifest (:func:`cleanwire_result`).

An :class:`ArmResult` holds no time of its own: rates, ratios and stage shares use the whole
command's time, measured by the caller.
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any


@dataclass
class ArmResult:
    arm: str
    n_docs: int
    stages: dict[str, float] = field(default_factory=dict)  # seconds per stage (summed over workers)
    workers: int = 1

    def to_json(self) -> str:
        return json.dumps(dataclasses.asdict(self))

    @classmethod
    def from_json(cls, text: str) -> ArmResult:
        data = json.loads(text)
        return cls(**data)


def _records(corpus: Path) -> Iterator[dict[str, Any]]:
    with corpus.open(encoding="utf-8") as fh:
        for line in fh:
            yield json.loads(line)


class _Clock:
    """Accumulates seconds per named step."""

    def __init__(self) -> None:
        self.seconds: dict[str, float] = {}
        self._t = time.perf_counter()

    def lap(self, name: str) -> None:
        now = time.perf_counter()
        self.seconds[name] = self.seconds.get(name, 0.0) + now - self._t
        self._t = now


def run_naive(corpus: Path, out: Path) -> ArmResult:
    """The obvious loop, exactly as a user would write it (langdetect seeded for repeatability)."""
    import ftfy
    import langdetect
    import pyarrow as pa
    import pyarrow.parquet as pq
    import trafilatura
    from langdetect.lang_detect_exception import LangDetectException

    langdetect.DetectorFactory.seed = 0
    rows: list[dict[str, Any]] = []
    clock = _Clock()
    for rec in _records(corpus):
        clock.lap("read")
        if "html" in rec:
            text = trafilatura.extract(rec["html"], url=rec.get("url")) or ""
            clock.lap("extract")
        else:
            text = rec["text"]
        text = ftfy.fix_text(text)
        clock.lap("encoding")
        try:
            best = langdetect.detect_langs(text)[0]
            lang, prob = str(best.lang), float(best.prob)
        except LangDetectException:
            lang, prob = "und", 0.0
        clock.lap("language")
        rows.append({"id": rec["id"], "text": text, "lang": lang, "lang_prob": prob})
    pq.write_table(pa.Table.from_pylist(rows), out / "naive.parquet")
    clock.lap("write")
    return ArmResult("naive", len(rows), clock.seconds)


def cleanwire_command(corpus: Path, out: Path, workers: int, config: Path | None = None) -> list[str]:
    """The cleanwire arm: the ``cleanwire run`` command itself, default configuration (or
    ``config``), ``--workers N`` (none for 0: the number cleanwire chooses, as a user who gives
    none gets), writing its usual output directory."""
    cmd = [sys.executable, "-m", "pipeline", "run", str(corpus), "-o", str(out)]
    cmd += (["--workers", str(workers)] if workers else []) + ["--no-progress", "--overwrite"]
    if config is not None:
        cmd += ["--config", str(config.resolve())]
    return cmd


def cleanwire_result(out: Path, workers: int) -> ArmResult:
    """The cleanwire arm's figures, from the run's manifest: records in and each stage's
    seconds (summed over the workers)."""
    from pipeline.io.layout import OutputLayout  # here: the naive arm imports nothing of cleanwire

    manifest = json.loads(OutputLayout(out).manifest.read_text(encoding="utf-8"))
    stages = {name: float(st["seconds"]) for name, st in manifest["stages"].items()}
    return ArmResult(f"cleanwire-w{workers}", int(manifest["counts"]["n_in"]), stages, workers)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.arms", description=__doc__)
    parser.add_argument("--corpus", type=Path, required=True)
    parser.add_argument("--out", type=Path, required=True)
    args = parser.parse_args(argv)
    args.out.mkdir(parents=True, exist_ok=True)
    sys.stdout.write(run_naive(args.corpus, args.out).to_json() + "\n")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
