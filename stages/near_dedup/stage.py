"""The two stages of near-duplicate detection, split where the work splits.

* :class:`NearDedupSign` (``near_dedup_sign``, parallel-safe: in the workers, right before
  ``near_dedup``): the record's sketch (word count, MinHash signature, packed shingle set) into
  the work rows' ``sketch`` column. All the per-record CPU work; vectorised with numpy.
* :class:`NearDedup` (``near_dedup``, in the coordinator, where records arrive in input order):
  exact and near-duplicate verdicts against the index of the records kept so far
  (:mod:`stages.near_dedup.deduper`), which lives in the run's resume state
  (``_cleanwire/state/near_dedup/``: committed with each shard, so a resumed run rebuilds exactly
  the index an uninterrupted one has) and, with ``--dedup-index DIR``, the index of earlier runs,
  read during the run and updated at its end in one atomic commit.

A dropped copy gets ``reason`` ``duplicate`` (same text) or ``near_duplicate``, ``dup_of`` (the
kept record's id) and ``similarity`` (the Jaccard similarity of the shingle sets; 1 for an exact
copy). A record without a sketch (a chain without the signing stage, a batch from elsewhere) is
sketched here.
"""

from __future__ import annotations

import contextlib
import errno
import os
import shutil
import tempfile
import time
import weakref
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, ClassVar

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from pipeline.core.config import NearDedupConfig
from pipeline.core.errors import OutputError
from pipeline.core.record import Doc, Status
from pipeline.core.schema import WORK_SCHEMA
from pipeline.core.stage import DocStage, OnRecord, RunContext, Verdict, VerdictStage, with_verdicts
from stages.near_dedup.bulk import Row, prepared_table, resolve
from stages.near_dedup.deduper import DedupParams, NearDeduper, Prepared, prepare
from stages.near_dedup.deduper import Verdict as DupVerdict
from stages.near_dedup.hashing import U64
from stages.near_dedup.minhash import (
    MinHasher,
    MinHashParams,
    exact_keys,
    pack_signature,
    pack_sketch,
    unpack_signature,
    unpack_sketch,
)
from stages.near_dedup.store import IndexStore, NewDoc, disk_full, identity


def dedup_params(config: NearDedupConfig) -> DedupParams:
    """The deduplication parameters of a ``[near_dedup]`` config section."""
    return DedupParams(
        minhash=MinHashParams(
            shingle_words=config.shingle_words,
            num_perm=config.num_perm,
            bands=config.bands,
            rows=config.rows,
            seed=config.seed,
            min_words=config.min_words,
        ),
        threshold=config.threshold,
        max_candidates=config.max_candidates,
        near=config.enabled,
    )


class NearDedupSign(DocStage):
    """Worker half: fills ``Doc.sketch`` (the work rows' ``sketch`` column) from the text."""

    name = "near_dedup_sign"
    prepares_for = "near_dedup"

    def __init__(self, config: NearDedupConfig | None = None) -> None:
        super().__init__()
        self.hasher = MinHasher(dedup_params(config or NearDedupConfig()).minhash)

    def process(self, doc: Doc) -> None:
        doc.sketch = pack_sketch(self.hasher.sketch(doc.text))


class _Indexes:
    """The indexes of one run: the run's own (committed per shard) and maybe a persistent one."""

    def __init__(self, params: DedupParams, run_dir: Path, temporary: bool, base: IndexStore | None) -> None:
        self.run_dir = run_dir
        self.temporary = temporary
        self.base = base
        try:
            self.run = IndexStore(run_dir, params.index_params(), durable=False)
        except BaseException:
            if base is not None:
                base.close()
            raise
        tiers = [base, self.run] if base is not None else [self.run]
        self.deduper = NearDeduper(params, tiers)

    def close(self, *, remove_run: bool) -> None:
        for store in (self.base, self.run):
            if store is not None:
                store.close()
        if remove_run or self.temporary:
            shutil.rmtree(self.run_dir, ignore_errors=True)


@contextlib.contextmanager
def _index_errors(path: str | os.PathLike[str]) -> Iterator[None]:
    """A failed write of the persistent index as one :class:`OutputError` naming it (exit 4).
    The run's own index lives in the output directory: its errors are the run's sink's to name."""
    try:
        yield
    except OSError as exc:
        if disk_full(exc):
            raise OutputError(
                f"the dedup index {path} is out of space: {os.strerror(exc.errno or errno.ENOSPC).lower()}",
                hint="free some space there, then rerun the same command (the index is as the last "
                "run that finished left it)",
            ) from exc
        raise OutputError(f"cannot write to the dedup index {path}: {exc.strerror or exc}") from exc


class NearDedup(VerdictStage):
    """Coordinator half: drops exact copies and near-duplicates of records kept earlier."""

    name = "near_dedup"
    parallel_safe = False
    settles_records = False  # its batch is judged as one: a record's failure is not its own
    reads: ClassVar[tuple[str, ...]] = ("id", "source", "content_hash", "sketch", "text")

    def __init__(self, config: NearDedupConfig | None = None, index: str | None = None) -> None:
        super().__init__()
        self.config = config or NearDedupConfig()
        self.params = dedup_params(self.config)
        self.index = index
        self.hasher = MinHasher(self.params.minhash) if self.params.near else None
        self._run: _Indexes | None = None
        #: closes what :meth:`_indexes` opened when the stage is collected or at exit, if nothing did
        self._at_exit: weakref.finalize[..., NearDedup] | None = None
        self._context: RunContext | None = None
        self.seconds_merging = 0.0

    def __getstate__(self) -> dict[str, Any]:
        state = dict(self.__dict__)
        state["_run"] = state["_at_exit"] = None  # open indexes stay in the process that opened them
        return state

    # --- the run's life ----------------------------------------------------------------------

    def open_run(self, context: RunContext) -> None:
        """Open the run's index (in ``context.state_dir``) and, with an index directory, the
        persistent one (its write lock held until :meth:`close_run`).

        The run's index keeps what the shards an earlier run finished indexed, as far as they
        come first in the run's order (a killed run: the finished shards, then the one it was
        on); the rest is forgotten (a shard whose marker was never written is redone) and
        rebuilt, when such a shard is skipped, from the records it kept
        (:meth:`shard_skipped`): the index grows in the run's order whatever happened before."""
        self.close_run(completed=False)
        self._context = context
        base = None
        if self.index:
            with _index_errors(self.index):
                base = IndexStore(self.index, self.params.index_params())
        if context.state_dir is not None:
            run_dir, temporary = context.state_dir, False
        else:
            run_dir, temporary = Path(tempfile.mkdtemp(prefix="cleanwire-near-dedup-")), True
        indexes = _Indexes(self.params, run_dir, temporary, base)
        try:
            committed = indexes.run.shards()
            prefix = []
            for shard in context.shards:
                if shard not in context.finished or shard not in committed:
                    break
                prefix.append(shard)
            indexes.run.forget_shards(keep=prefix)
        except BaseException:
            indexes.close(remove_run=False)
            raise
        self._run = indexes

    def shard_done(self, shard: str) -> None:
        """Commit what the shard indexed (before its marker: a marked shard's records are kept)."""
        if self._run is not None:
            self._run.run.commit(shard=shard)

    def shard_skipped(self, shard: str, kept: Callable[[Sequence[str]], pa.Table]) -> None:
        """A finished shard the run's index does not hold (its state was removed with a
        completed run, or an earlier shard is redone): index the records it kept, in order."""
        run = self._run
        if run is None or shard in run.run.shards():
            return
        table = kept(["id", "source", "content_hash", "text"])
        for batch in table.to_batches(max_chunksize=1024):
            columns = [batch.column(n).to_pylist() for n in ("id", "source", "content_hash", "text")]
            records = [self._prepare(i, s, h, None, t) for i, s, h, t in zip(*columns, strict=True)]
            run.deduper.index_kept(records)
        run.run.commit(shard=shard)

    def finish_run(self) -> None:
        """Add this run's kept records to the persistent index, atomically (a rerun of the same
        inputs adds nothing)."""
        run = self._run
        if run is None or run.base is None:
            return
        t0 = time.perf_counter()
        label = self._context.label if self._context is not None else ""
        with _index_errors(run.base.path):
            run.base.merge_from(run.run, label=label)
        self.seconds_merging += time.perf_counter() - t0

    def close_run(self, completed: bool) -> None:
        """Release the indexes; a completed run's own index is removed (the manifest is written:
        nothing resumes it)."""
        run, self._run = self._run, None
        at_exit, self._at_exit = self._at_exit, None
        if at_exit is not None:
            at_exit.detach()  # would hold the closed indexes until exit
        if run is not None:
            run.close(remove_run=completed)

    def _indexes(self) -> _Indexes:
        """The open indexes; used on its own (a batch, a document: no run), the stage opens a
        temporary index, and the persistent one read-only (it never writes that one)."""
        if self._run is None:
            base = IndexStore(self.index, self.params.index_params(), writable=False) if self.index else None
            run_dir = Path(tempfile.mkdtemp(prefix="cleanwire-near-dedup-"))
            self._run = _Indexes(self.params, run_dir, True, base)
            # closed at exit unless a run closes them first, from whatever thread exits (the store
            # allows it); the stage's one-call-at-a-time use keeps them single-user till then
            self._at_exit = weakref.finalize(self, _Indexes.close, self._run, remove_run=True)
        return self._run

    @property
    def deduper(self) -> NearDeduper:
        return self._indexes().deduper

    # --- judging -----------------------------------------------------------------------------

    def _prepare(
        self, record_id: str, source: str, digest_hex: str, sketch: bytes | None, text: str
    ) -> Prepared:
        ident = identity(source, record_id)
        digest = bytes.fromhex(digest_hex)
        if self.hasher is None:
            return prepare(record_id, ident, digest, "", None)
        packed = unpack_sketch(sketch) if sketch is not None else None
        if packed is None or len(packed.signature) not in (0, self.params.minhash.num_perm):
            return prepare(record_id, ident, digest, text, self.hasher)
        return Prepared(record_id, ident, digest, packed.n_words, packed.signature, packed.shingles)

    def judge_records(self, prepared: Sequence[Prepared]) -> list[DupVerdict | None]:
        return self.deduper.judge_batch(prepared)

    def judge(self, fields: Mapping[str, Any]) -> None:
        """One record on its own (the generic :class:`VerdictStage` path)."""
        docs = [Doc(id=fields["id"], source=fields["source"], raw="", text=fields.get("text") or "")]
        docs[0].sketch = fields.get("sketch")
        self.process_docs(docs)

    def process_docs(self, docs: Sequence[Doc], on_record: OnRecord | None = None) -> None:
        """Judge the ``ok`` docs as one batch (``on_record`` is not called: a pool never runs
        this stateful stage, see :attr:`settles_records`)."""
        t0 = time.perf_counter()
        ok = [d for d in docs if d.ok]
        prepared = [self._prepare(d.id, d.source, d.content_hash, d.sketch, d.text) for d in ok]
        for doc, v in zip(ok, self.judge_records(prepared), strict=True):
            if v is not None:
                doc.drop_duplicate(self.name, v.reason, v.dup_of, v.similarity, v.detail)
            doc.sketch = None
            self.stats.count(doc.status, doc.reason)
        self.stats.seconds += time.perf_counter() - t0

    def _prepared_rows(self, batch: pa.RecordBatch) -> tuple[list[int], list[Prepared]]:
        """The ``ok`` rows of a work batch (their indices) as :class:`Prepared` records."""
        rows = pc.indices_nonzero(pc.equal(batch.column("status"), Status.OK.scalar()))
        ids = batch.column("id").take(rows).to_pylist()
        sources = batch.column("source").take(rows).to_pylist()
        hashes = batch.column("content_hash").take(rows).to_pylist()
        sketches = batch.column("sketch").take(rows).to_pylist()
        missing = [k for k, s in enumerate(sketches) if s is None] if self.hasher is not None else []
        texts: list[str] = [""] * len(ids)
        if missing:
            for k, text in zip(
                missing, batch.column("text").take(rows.take(missing)).to_pylist(), strict=True
            ):
                texts[k] = text or ""
        prepared = [
            self._prepare(i, s, h, sk, t)
            for i, s, h, sk, t in zip(ids, sources, hashes, sketches, texts, strict=True)
        ]
        return rows.to_pylist(), prepared

    def _mark(
        self, batch: pa.RecordBatch, rows: Sequence[int], verdicts: Sequence[DupVerdict | None]
    ) -> pa.RecordBatch:
        """``batch`` with the verdicts of ``rows`` applied (and counted), sketches dropped."""
        marked: dict[int, Verdict] = {}
        dup_of: list[str | None] = [None] * batch.num_rows
        similarity: list[float | None] = [None] * batch.num_rows
        for row, v in zip(rows, verdicts, strict=True):
            if v is None:
                self.stats.count(Status.OK)
                continue
            marked[row] = (Status.DROPPED, v.reason, v.detail)
            dup_of[row], similarity[row] = v.dup_of, v.similarity
            self.stats.count(Status.DROPPED, v.reason)
        out = with_verdicts(batch, self.name, marked) if marked else batch
        return _set_columns(out, dup_of if marked else None, similarity if marked else None)

    def process_batch(self, batch: pa.RecordBatch | pa.Table) -> pa.RecordBatch | pa.Table:
        if isinstance(batch, pa.Table) or batch.schema.names != WORK_SCHEMA.names:
            return super().process_batch(batch)  # not a work batch: read (and checked) as Docs
        t0 = time.perf_counter()
        rows, prepared = self._prepared_rows(batch)
        out = self._mark(batch, rows, self.judge_records(prepared))
        self.stats.seconds += time.perf_counter() - t0
        return out

    # --- in bulk: the Ray engine's plan -------------------------------------------------------

    def plan_window(self, batch: pa.RecordBatch) -> Window:
        """What the bulk plan (:mod:`stages.near_dedup.bulk`) needs to judge a window of records
        as :meth:`process_batch` would: the window's ``ok`` records at positions 0, 1, ... and,
        at negative positions in the order they were kept, every indexed record one of them
        shares a key with (its exact copies, and its first ``max_candidates`` band candidates:
        the ones this stage would check)."""
        deduper = self.deduper
        rows, prepared = self._prepared_rows(batch)
        band_keys = deduper.band_keys(prepared)
        ex_keys = exact_keys([p.content_hash for p in prepared])
        query, owner, exact = [], [], []
        for k in range(len(prepared)):
            query.append(ex_keys[k : k + 1])
            owner.append(np.array([k]))
            exact.append(np.array([True]))
            bk = band_keys[k]
            if bk is not None:
                query.append(bk)
                owner.append(np.full(len(bk), k))
                exact.append(np.zeros(len(bk), dtype=bool))
        exact_refs: dict[int, set[int]] = {}
        band_refs: dict[int, set[int]] = {}
        if query:
            q_owner, q_exact = np.concatenate(owner), np.concatenate(exact)
            qi, refs = deduper.lookup(np.concatenate(query))
            for q, r in zip(qi.tolist(), refs.tolist(), strict=True):
                (exact_refs if q_exact[q] else band_refs).setdefault(int(q_owner[q]), set()).add(r)
        own = deduper.own_copies([p.ident for p in prepared])
        allowed_refs: dict[int, list[int]] = {}
        wanted: set[int] = set()
        for k, p in enumerate(prepared):
            mine = own.get(p.ident, set())
            allowed_refs[k] = sorted(band_refs.get(k, set()) - mine)[: self.params.max_candidates]
            wanted.update(allowed_refs[k], exact_refs.get(k, ()))
        stored = deduper.fetch(wanted)
        order = sorted(stored)
        prior_pos = {ref: i - len(order) for i, ref in enumerate(order)}
        prior = [
            Prepared(
                d.id, d.ident, d.content_hash, d.n_words, unpack_signature(d.signature), d.shingles or b""
            )
            for d in (stored[r] for r in order)
        ]
        positions = [*prior_pos.values(), *range(len(prepared))]
        everything = [*prior, *prepared]
        return Window(
            rows=rows,
            prepared=prepared,
            band_keys=band_keys,
            exact_keys=ex_keys,
            own={k: bool(own.get(p.ident)) for k, p in enumerate(prepared)},
            table=prepared_table(positions, everything),
            resolve_rows={pos: Row(r.id, r.ident) for pos, r in zip(positions, everything, strict=True)},
            allowed={k: {prior_pos[r] for r in refs if r in prior_pos} for k, refs in allowed_refs.items()},
        )

    def apply_window(
        self, batch: pa.RecordBatch, window: Window, exact: pa.Table, edges: pa.Table
    ) -> pa.RecordBatch:
        """The window's verdicts from the plan's exact and verified edges (:func:`~stages.near_dedup.bulk.resolve`):
        the kept records are indexed, in order, and ``batch`` comes back marked."""
        t0 = time.perf_counter()
        dropped = resolve(window.resolve_rows, exact, edges, window.allowed)
        new: list[NewDoc] = []
        for k, p in enumerate(window.prepared):
            if k in dropped or window.own[k]:
                continue
            bk = window.band_keys[k]
            keys = [window.exact_keys[k : k + 1], *([bk] if bk is not None else [])]
            new.append(
                NewDoc(
                    p.id,
                    p.ident,
                    p.content_hash,
                    p.n_words,
                    pack_signature(p.signature) if bk is not None else None,
                    p.shingles if bk is not None else None,
                    np.concatenate(keys),
                )
            )
        if new:
            self.deduper.target.add(new)
        out = self._mark(batch, window.rows, [dropped.get(k) for k in range(len(window.prepared))])
        self.stats.seconds += time.perf_counter() - t0
        return out


@dataclass
class Window:
    """A window of records prepared for the bulk plan (:meth:`NearDedup.plan_window`)."""

    rows: list[int]  # the batch row of each position 0, 1, ...
    prepared: list[Prepared]
    band_keys: list[U64 | None]
    exact_keys: U64
    own: dict[int, bool]  # position -> an earlier run indexed this very record
    #: the plan's input: the window (positions >= 0) and the indexed records it meets (< 0)
    table: pa.Table
    resolve_rows: dict[int, Row]
    #: position -> the indexed records (negative positions) it may be a near-duplicate of
    allowed: dict[int, set[int]]


def _set_columns(
    batch: pa.RecordBatch, dup_of: list[str | None] | None, similarity: list[float | None] | None
) -> pa.RecordBatch:
    """``batch`` without its sketches (used up) and with the duplicates' ``dup_of``/``similarity``."""
    schema = batch.schema
    arrays = list(batch.columns)
    arrays[schema.get_field_index("sketch")] = pa.nulls(batch.num_rows, pa.binary())
    if dup_of is not None and similarity is not None:
        old_dup = batch.column("dup_of").to_pylist()
        old_sim = batch.column("similarity").to_pylist()
        dup = [new if new is not None else old for new, old in zip(dup_of, old_dup, strict=True)]
        sim = [new if new is not None else old for new, old in zip(similarity, old_sim, strict=True)]
        arrays[schema.get_field_index("dup_of")] = pa.array(dup, pa.string())
        arrays[schema.get_field_index("similarity")] = pa.array(sim, pa.float32())
    return pa.RecordBatch.from_arrays(arrays, schema=schema)
