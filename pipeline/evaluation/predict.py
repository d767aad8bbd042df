"""Run the configured cleanwire pipeline over evaluation inputs and collect its outputs.

The stages are those of ``cleanwire run`` for the same config, except ``dedup``: it is a corpus
decision (keep the first of two identical texts), and an evaluation scores every document on its
own. A record the pipeline rejects or drops predicts the empty text, as it would be absent from
``cleanwire run``'s output.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from pipeline.api import Pipeline
from pipeline.core.batching import batched
from pipeline.core.config import Config
from pipeline.core.record import Doc, docs_from_batch
from pipeline.core.stage import Stage
from pipeline.execution.chain import run_stages
from pipeline.execution.engines import Engine, engine_for
from stages.extract.extractor import same_headline
from stages.registry import STAGE_FACTORIES

EVAL_BATCH = 8  # small batches keep both workers busy on sets of ~100 pages


@dataclass(frozen=True, slots=True)
class InputDoc:
    id: str
    raw: str
    format: str  # "html" or "text"
    url: str | None = None


@dataclass(frozen=True, slots=True)
class Prediction:
    id: str
    text: str  # "" when the record was rejected or dropped
    title: str | None
    status: str
    reason: str | None = None
    lang: str = "und"


def eval_config(config: Config) -> Config:
    """The run config minus dedup (see the module docstring)."""
    return config.with_overrides({"dedup.enabled": False})


def run_docs(
    stages: Sequence[Stage], docs: Sequence[Doc], engine: Engine, *, max_chars: int | None = None
) -> list[Doc]:
    """Docs after ``stages``: parallel-safe leading stages through ``engine``, the rest here; in
    batches of :data:`EVAL_BATCH` records or ``max_chars`` raw characters (``run.batch_chars``)."""
    pipe = Pipeline(stages)
    parallel, serial = pipe.parallel_prefix, pipe.serial_suffix
    out: list[Doc] = []
    for batch, _ in engine.map(parallel, batched(docs, EVAL_BATCH, max_chars)):
        done = run_stages(serial, batch)[0] if serial else batch
        out.extend(docs_from_batch(done))
    return out


def predict(inputs: Sequence[InputDoc], config: Config, *, workers: int, source: str) -> list[Prediction]:
    """Clean every input with the pipeline ``config`` describes; one prediction per input, in order."""
    cfg = eval_config(config)
    stages = Pipeline.from_config(cfg).stages
    docs = [Doc(id=d.id, source=source, raw=d.raw, format=d.format, url=d.url) for d in inputs]
    engine = engine_for(config, workers=workers)
    try:
        done = run_docs(stages, docs, engine, max_chars=cfg.run.batch_chars)
    finally:
        engine.close()
    return [Prediction(d.id, d.text if d.ok else "", d.title, d.status.value, d.reason, d.lang) for d in done]


def detect_languages(texts: Sequence[str], config: Config, *, workers: int) -> list[str]:
    """The language stage's code for each text (the stage alone, as configured)."""
    stage = STAGE_FACTORIES["language"](config)
    docs = [Doc(id=str(i), source="eval:langid", raw=t, text=t) for i, t in enumerate(texts)]
    engine = engine_for(config, workers=workers)
    try:
        return [d.lang for d in run_docs([stage], docs, engine, max_chars=config.run.batch_chars)]
    finally:
        engine.close()


def article_body(text: str, title: str | None) -> str:
    """The predicted article body: cleanwire's text without its leading title block.

    ``extract`` puts the page title on the first line (its own block after ``normalize``);
    benchmark gold bodies have no title, so a first line that is the extracted title (equal up to
    case, quotes and spacing, or with a site suffix: :func:`stages.extract.extractor.same_headline`) is
    dropped. Nothing else is changed.
    """
    head, _, rest = text.strip().partition("\n")
    if title and same_headline(head, title):
        return rest.strip()
    return text.strip()
