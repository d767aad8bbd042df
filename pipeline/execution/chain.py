"""Running a chain of stages over one batch, in this process.

Every engine ends here: :class:`~pipeline.execution.engines.SerialEngine` calls
:func:`run_stages` directly, each worker of the supervised pool calls :func:`run_docs` with its
heartbeat, and the runner runs the serial tail of the chain (dedup and what follows it) through
:func:`run_in_order`. Stages run stage-major inside a batch (every record goes through a stage
before any goes on to the next one), so a heartbeat names one record and one stage exactly; an
exception a stage raises on one record rejects that record (``stage_error``) and nothing else.
"""

from __future__ import annotations

from collections.abc import Sequence

import pyarrow as pa

from pipeline.core.batching import safe_batch
from pipeline.core.record import Doc, Status, docs_from_batch
from pipeline.core.stage import STAGE_ERROR, DocStage, Stage, StageStats, VerdictStage, error_detail
from pipeline.execution.heartbeat import Heartbeat

#: A batch after the stages, with the per-stage stats of that batch.
Result = tuple[pa.RecordBatch, dict[str, StageStats]]


def _run_one(stage: Stage, doc: Doc) -> None:
    try:
        stage.process_docs([doc])
    except Exception as exc:  # noqa: BLE001 - a stage bug on one record is that record's reject
        doc.reject(stage.name, STAGE_ERROR, error_detail(exc))
        stage.stats.count(Status.REJECTED, STAGE_ERROR)


def _run_all(stage: DocStage, docs: Sequence[Doc], hb: Heartbeat, s: int) -> None:
    """A stage that settles each record itself (:attr:`~pipeline.core.stage.DocStage.settles_records`)
    over the whole batch in one call, beating on each record it starts. Should its own loop raise
    all the same (a bug outside any record), the records it left ``ok`` are rejected with the cause."""
    try:
        stage.process_docs(docs, on_record=lambda i: hb.beat(i, s))
    except Exception as exc:  # noqa: BLE001 - a stage bug is its records' reject, not a crash
        for doc in docs:
            if doc.ok:
                doc.reject(stage.name, STAGE_ERROR, error_detail(exc))
                stage.stats.count(Status.REJECTED, STAGE_ERROR)


def run_docs(
    stages: Sequence[Stage], docs: Sequence[Doc], beat: Heartbeat | None = None
) -> dict[str, StageStats]:
    """Run ``stages`` over ``docs`` in place; return fresh per-call stats.

    Stage by stage: every doc goes through one stage before any goes on to the next, so that
    stage's patterns and tables stay in the CPU caches. Measured on 1,000 text records: 15 %
    less time than record by record (boilerplate -30 %, language -17 %). A stage that settles
    each record's failure itself gets the whole batch in one call (the boilerplate model then
    scores the batch at once: -50 % boilerplate time on text records); the others one record
    at a time, an exception rejecting that record.
    """
    hb = beat or Heartbeat()
    for stage in stages:
        stage.stats = StageStats()
    for s, stage in enumerate(stages):
        if isinstance(stage, DocStage) and stage.settles_records:
            _run_all(stage, docs, hb, s)
            continue
        for i, doc in enumerate(docs):
            if doc.ok:
                hb.beat(i, s)
                _run_one(stage, doc)
    hb.idle()
    return {stage.name: stage.stats for stage in stages}


def run_stages(stages: Sequence[Stage], batch: pa.RecordBatch) -> Result:
    """Run ``stages`` over one batch in this process (see :func:`run_docs`); return it with fresh
    per-batch stats. (A pool's worker runs :func:`run_docs` itself, with its heartbeat.)"""
    docs = docs_from_batch(batch)
    stats = run_docs(stages, docs)
    return safe_batch(docs), stats


def run_in_order(stages: Sequence[Stage], batch: pa.RecordBatch) -> Result:
    """Run ``stages`` over one batch in this process (the runner's serial stages, e.g. dedup).

    A :class:`VerdictStage` works on the batch's columns directly; consecutive other stages go
    through :func:`run_stages` together, with its per-record error handling.
    """
    stats: dict[str, StageStats] = {}
    pending: list[Stage] = []

    def flush(batch: pa.RecordBatch) -> pa.RecordBatch:
        if pending:
            batch, more = run_stages(pending, batch)
            stats.update(more)
            pending.clear()
        return batch

    for stage in stages:
        if isinstance(stage, VerdictStage):
            batch = flush(batch)
            stage.stats = StageStats()
            batch = stage.process_batch(batch)
            stats[stage.name] = stage.stats
        else:
            pending.append(stage)
    return flush(batch), stats
