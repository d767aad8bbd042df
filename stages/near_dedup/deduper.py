"""The rule ``near_dedup`` applies, record by record in input order (the coordinator's half).

The workers turn each cleaned text into a sketch (word count, MinHash signature, packed shingle
set: :func:`prepare`); the coordinator sees the records in input order and decides each one
against the records kept so far (this run's and, with ``--dedup-index``, earlier runs'):

1. **exact**: a kept record with the same content hash -> dropped as ``duplicate``;
2. **near**: the kept records sharing at least one LSH band with it are *candidates*; they are
   checked earliest first (earlier runs', then this run's, in the order they were kept) with the
   real Jaccard similarity of the shingle sets, and the first one at or above ``threshold``
   makes it a ``near_duplicate`` of that record;
3. otherwise it is kept and indexed (its band keys and exact key, and on disk its content hash,
   signature and shingle set).

Only kept records are indexed, so ``dup_of`` always names a kept record and a cluster is a star
around its first member: a chain A~B~C where C is not similar to A keeps C. A record that an
earlier run indexed under the same identity (same source and id: a rerun of the same inputs) is
its own earlier copy: never its own duplicate, and not indexed twice.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from functools import cached_property
from typing import Any

import numpy as np

from stages.near_dedup.hashing import U32, U64
from stages.near_dedup.minhash import (
    MinHasher,
    MinHashParams,
    exact_keys,
    jaccard,
    pack_set,
    pack_signature,
    unpack_set,
)
from stages.near_dedup.store import IndexStore, NewDoc, StoredDoc

DUPLICATE = "duplicate"
NEAR_DUPLICATE = "near_duplicate"

#: A candidate's place in the order they are checked: index tier (earlier runs' first), record number.
_TIER_SHIFT = 40


#: How many indexed records' unpacked shingle sets a deduper keeps (a few KB each).
SET_CACHE = 4096


@dataclass(frozen=True)
class DedupParams:
    minhash: MinHashParams = field(default_factory=MinHashParams)
    #: Jaccard similarity of the shingle sets at or above which a candidate is a duplicate.
    threshold: float = 0.5
    #: Candidates checked per record at most (earliest first).
    max_candidates: int = 100
    #: False: exact copies only (no signatures, no bands).
    near: bool = True

    def index_params(self) -> dict[str, Any]:
        """What must match between an index and a run that uses it."""
        return {**self.minhash.as_dict(), "near": self.near}


@dataclass(frozen=True)
class Prepared:
    """One record as the coordinator needs it (no text)."""

    id: str
    ident: int
    content_hash: bytes  # sha1 digest of the UTF-8 text
    n_words: int
    signature: U32  # empty: exact dedup only (short text, or near dedup off)
    shingles: bytes  # packed shingle set (minhash.pack_set); empty with the signature


@dataclass(frozen=True)
class Verdict:
    reason: str  # DUPLICATE or NEAR_DUPLICATE
    dup_of: str
    similarity: float

    @property
    def detail(self) -> str:
        if self.reason == DUPLICATE:
            return f"same text as {self.dup_of}"
        return f"near-duplicate of {self.dup_of} (Jaccard similarity {self.similarity:.3f})"


@dataclass
class Counters:
    kept: int = 0
    duplicate: int = 0
    near_duplicate: int = 0
    candidates: int = 0  # candidate pairs checked
    rejected_candidates: int = 0  # candidates below the threshold (template, quote, chance)
    own_copies: int = 0  # records a rerun found indexed under their own identity


@dataclass
class _Kept:
    """A record kept earlier in the current batch (not yet in the index). Its shingle set is
    unpacked only when a later record of the batch shares a band with it (most never do)."""

    pos: int
    id: str
    content_hash: bytes
    packed: bytes | None

    @cached_property
    def shingles(self) -> U32 | None:
        return None if self.packed is None else unpack_set(self.packed)


class NearDeduper:
    """Judges batches of records, in input order, against ``tiers`` of indexes (earliest first);
    kept records are added to the last tier."""

    def __init__(self, params: DedupParams, tiers: Sequence[IndexStore]) -> None:
        self.params = params
        self.tiers = list(tiers)
        self.hasher = MinHasher(params.minhash)
        self.counters = Counters()
        #: where :meth:`judge_batch` adds kept records: ``(shard)`` for IndexStore.add
        self.shard: str | None = None
        #: Unpacked shingle sets of indexed records by ref, oldest first (:meth:`_stored_set`).
        self._sets: dict[int, U32] = {}

    @property
    def target(self) -> IndexStore:
        return self.tiers[-1]

    def lookup(
        self, keys: U64
    ) -> tuple[np.ndarray[Any, np.dtype[np.int64]], np.ndarray[Any, np.dtype[np.int64]]]:
        """(query index, candidate ref) pairs of every tier; a ref orders tiers, then records."""
        qs, refs = [], []
        for t, tier in enumerate(self.tiers):
            q, d = tier.lookup(keys)
            qs.append(q)
            refs.append(d.astype(np.int64) + (t << _TIER_SHIFT))
        return np.concatenate(qs), np.concatenate(refs)

    def fetch(self, refs: set[int]) -> dict[int, StoredDoc]:
        out: dict[int, StoredDoc] = {}
        for t, tier in enumerate(self.tiers):
            base = t << _TIER_SHIFT
            mine = [r - base for r in refs if r >> _TIER_SHIFT == t]
            if mine:
                out.update({d + base: doc for d, doc in tier.fetch(mine).items()})
        return out

    def own_copies(self, idents: Sequence[int]) -> dict[int, set[int]]:
        """Refs of records indexed under these identities (a rerun meets its own earlier copies)."""
        out: dict[int, set[int]] = {}
        for t, tier in enumerate(self.tiers):
            for ident, docs in tier.with_identities(idents).items():
                out.setdefault(ident, set()).update(d + (t << _TIER_SHIFT) for d in docs)
        return out

    def band_keys(self, items: Sequence[Prepared]) -> list[U64 | None]:
        out: list[U64 | None] = [None] * len(items)
        rows = [i for i, it in enumerate(items) if len(it.signature)]
        if rows and self.params.near:
            matrix = self.hasher.band_keys_many(np.stack([items[i].signature for i in rows]))
            for j, i in enumerate(rows):
                out[i] = matrix[j]
        return out

    def judge_batch(self, items: Sequence[Prepared]) -> list[Verdict | None]:
        """One verdict per record (None: kept), in order; the kept ones are indexed."""
        p = self.params
        band_keys = self.band_keys(items)
        ex_keys = exact_keys([it.content_hash for it in items])
        # one vectorised lookup for the whole batch: per record, its exact key, then its bands
        query: list[U64] = []
        owner: list[np.ndarray[Any, np.dtype[np.int64]]] = []
        is_exact: list[np.ndarray[Any, np.dtype[np.bool_]]] = []
        for i in range(len(items)):
            query.append(ex_keys[i : i + 1])
            owner.append(np.array([i]))
            is_exact.append(np.array([True]))
            bk = band_keys[i]
            if bk is not None:
                query.append(bk)
                owner.append(np.full(len(bk), i))
                is_exact.append(np.zeros(len(bk), dtype=bool))
        exact_hits: list[list[int]] = [[] for _ in items]
        band_hits: list[list[int]] = [[] for _ in items]
        if query:
            q_owner, q_exact = np.concatenate(owner), np.concatenate(is_exact)
            qi, refs = self.lookup(np.concatenate(query))
            for q, r in zip(qi.tolist(), refs.tolist(), strict=True):
                (exact_hits if q_exact[q] else band_hits)[int(q_owner[q])].append(r)
        own = self.own_copies([it.ident for it in items])
        wanted = {r for hits in exact_hits for r in hits}
        for i, hits in enumerate(band_hits):
            mine = own.get(items[i].ident, set())
            wanted.update([r for r in sorted(set(hits)) if r not in mine][: p.max_candidates])
        stored = self.fetch(wanted) if wanted else {}

        verdicts: list[Verdict | None] = []
        batch_exact: dict[bytes, _Kept] = {}
        batch_bands: dict[int, list[_Kept]] = {}
        to_index: list[NewDoc] = []
        for i, it in enumerate(items):
            mine = own.get(it.ident, set())
            self.counters.own_copies += bool(mine)
            verdict = self._exact(it, exact_hits[i], mine, stored, batch_exact)
            bk = band_keys[i]
            if verdict is None and bk is not None:
                verdict = self._near(it, bk, band_hits[i], mine, stored, batch_bands)
            verdicts.append(verdict)
            if verdict is not None:
                if verdict.reason == DUPLICATE:
                    self.counters.duplicate += 1
                else:
                    self.counters.near_duplicate += 1
                continue
            self.counters.kept += 1
            if mine:
                continue  # an earlier run indexed this very record: do not index it twice
            kept = _Kept(i, it.id, it.content_hash, it.shingles if bk is not None else None)
            batch_exact.setdefault(it.content_hash, kept)
            keys = [ex_keys[i : i + 1]]
            if bk is not None:
                keys.append(bk)
                for k in bk.tolist():
                    batch_bands.setdefault(k, []).append(kept)
            to_index.append(
                NewDoc(
                    id=it.id,
                    ident=it.ident,
                    content_hash=it.content_hash,
                    n_words=it.n_words,
                    signature=pack_signature(it.signature) if bk is not None else None,
                    shingles=it.shingles if bk is not None else None,
                    keys=np.concatenate(keys),
                )
            )
        if to_index:
            self.target.add(to_index, shard=self.shard)
        return verdicts

    def index_kept(self, items: Sequence[Prepared]) -> None:
        """Index records kept before (a finished shard's), unjudged, in order."""
        band_keys = self.band_keys(items)
        ex_keys = exact_keys([it.content_hash for it in items])
        own = self.own_copies([it.ident for it in items])
        new = [
            NewDoc(
                id=it.id,
                ident=it.ident,
                content_hash=it.content_hash,
                n_words=it.n_words,
                signature=pack_signature(it.signature) if bk is not None else None,
                shingles=it.shingles if bk is not None else None,
                keys=np.concatenate([ex_keys[i : i + 1], *([bk] if bk is not None else [])]),
            )
            for i, (it, bk) in enumerate(zip(items, band_keys, strict=True))
            if it.ident not in own
        ]
        if new:
            self.target.add(new, shard=self.shard)

    def _exact(
        self,
        it: Prepared,
        hits: list[int],
        mine: set[int],
        stored: dict[int, StoredDoc],
        batch_exact: dict[bytes, _Kept],
    ) -> Verdict | None:
        for r in sorted(set(hits) - mine):
            doc = stored.get(r)
            if doc is not None and doc.content_hash == it.content_hash:
                return Verdict(DUPLICATE, doc.id, 1.0)
        earlier = batch_exact.get(it.content_hash)
        if earlier is not None:
            return Verdict(DUPLICATE, earlier.id, 1.0)
        return None

    def _stored_set(self, ref: int, packed: bytes) -> U32:
        """The shingle set of indexed record ``ref``, unpacked once while it stays among the
        :data:`SET_CACHE` last used: a story syndicated many times is every copy's candidate."""
        found = self._sets.pop(ref, None)
        if found is None:
            found = unpack_set(packed)
            if len(self._sets) >= SET_CACHE:
                del self._sets[next(iter(self._sets))]
        self._sets[ref] = found
        return found

    def _near(
        self,
        it: Prepared,
        keys: U64,
        hits: list[int],
        mine: set[int],
        stored: dict[int, StoredDoc],
        batch_bands: dict[int, list[_Kept]],
    ) -> Verdict | None:
        """The earliest kept candidate at or above the threshold: indexed ones first (in the
        order they were kept), then the ones kept earlier in this batch (by position)."""
        p = self.params
        candidates: list[tuple[str, U32 | None]] = []
        for r in sorted(set(hits) - mine)[: p.max_candidates]:
            doc = stored.get(r)
            if doc is not None and doc.shingles:
                candidates.append((doc.id, self._stored_set(r, doc.shingles)))
        seen: set[int] = set()
        for c in sorted((c for k in keys.tolist() for c in batch_bands.get(k, ())), key=lambda c: c.pos):
            if c.pos not in seen and len(candidates) < p.max_candidates:
                seen.add(c.pos)
                candidates.append((c.id, c.shingles))
        if not candidates:
            return None
        shingles = unpack_set(it.shingles)
        for checked, (cid, cset) in enumerate(candidates, start=1):
            sim = jaccard(shingles, cset) if cset is not None else 0.0
            if sim >= p.threshold:
                self.counters.candidates += checked
                self.counters.rejected_candidates += checked - 1
                return Verdict(NEAR_DUPLICATE, cid, round(sim, 4))
        self.counters.candidates += len(candidates)
        self.counters.rejected_candidates += len(candidates)
        return None


def prepare(record_id: str, ident: int, content_hash: bytes, text: str, hasher: MinHasher | None) -> Prepared:
    """A record's :class:`Prepared` from its text (``hasher`` None: exact dedup only)."""
    if hasher is None:
        return Prepared(record_id, ident, content_hash, 0, np.empty(0, np.uint32), b"")
    sk = hasher.sketch(text)
    return Prepared(record_id, ident, content_hash, sk.n_words, sk.signature, pack_set(sk.shingles))
