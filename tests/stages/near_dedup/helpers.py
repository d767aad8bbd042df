"""Running the coordinator's rule over (id, text) records, as the stage does."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

from pipeline.core.record import content_hash
from stages.near_dedup.deduper import DedupParams, NearDeduper, Prepared, Verdict, prepare
from stages.near_dedup.minhash import MinHasher
from stages.near_dedup.store import IndexStore, identity

PARAMS = DedupParams()


def prepared(
    records: Sequence[tuple[str, str]], params: DedupParams = PARAMS, source: str = "s"
) -> list[Prepared]:
    hasher = MinHasher(params.minhash) if params.near else None
    return [prepare(i, identity(source, i), bytes.fromhex(content_hash(t)), t, hasher) for i, t in records]


def judge(
    records: Sequence[tuple[str, str]],
    where: Path,
    params: DedupParams = PARAMS,
    batch: int = 7,
    base: IndexStore | None = None,
) -> tuple[list[Verdict | None], NearDeduper]:
    """Verdicts for ``records`` in order, with a fresh index in ``where`` (and ``base`` before it)."""
    run = IndexStore(where, params.index_params(), durable=False)
    dd = NearDeduper(params, [base, run] if base is not None else [run])
    items = prepared(records, params)
    out: list[Verdict | None] = []
    for lo in range(0, len(items), batch):
        out += dd.judge_batch(items[lo : lo + batch])
    run.commit(shard="0")
    run.close()
    return out, dd
