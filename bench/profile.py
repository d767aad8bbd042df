"""``python -m bench --profile``: where cleanwire's time goes, as a cProfile summary.

The stages run in this one process (:class:`pipeline.execution.engines.SerialEngine`), so the profile sees
the hot path itself rather than a coordinator waiting on its workers.
"""

from __future__ import annotations

import dataclasses
import io
import pstats
from cProfile import Profile
from pathlib import Path

from bench.corpus import Corpus


def profile_cleanwire(corpus: Corpus, out: Path, config: Path | None = None, top: int = 25) -> str:
    """Run cleanwire in-process over ``corpus`` under cProfile; the top ``top`` functions by own time."""
    from pipeline.api import Pipeline
    from pipeline.core.config import Config
    from pipeline.execution.engines import SerialEngine
    from pipeline.io.readers import Source
    from pipeline.io.sinks import ParquetSink

    base = Config.from_toml(config) if config else Config()
    cfg = dataclasses.replace(base, run=dataclasses.replace(base.run, progress=False))
    pipe = Pipeline.from_config(cfg)
    profiler = Profile()
    profiler.enable()
    report = pipe.run(
        Source([corpus.path], cfg.reader), ParquetSink(out, cfg, overwrite=True), engine=SerialEngine()
    )
    profiler.disable()
    stream = io.StringIO()
    stats = pstats.Stats(profiler, stream=stream)
    total = max(stats.total_tt, 1e-9)  # type: ignore[attr-defined]
    shares = ", ".join(f"{name} {st.seconds / total:.0%}" for name, st in report.stages.items() if st.seconds)
    stream.write(
        f"cleanwire in one process on {corpus.n_docs} {corpus.kind} records: {total:.1f} s profiled\n"
    )
    stream.write(f"stage shares (profiled time): {shares}\n")
    stats.sort_stats("tottime").print_stats(top)
    return stream.getvalue()
