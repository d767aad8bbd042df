"""The decisions of :class:`~stages.near_dedup.deduper.NearDeduper`, computed in bulk.

The coordinator decides record by record. A cluster engine wants set operations instead:
group, join, filter. The sequential rule

    j is dropped  <=>  some *kept* i < j is an exact copy of j, or shares a band with j and has
                       Jaccard(i, j) >= threshold (the earliest such i is ``dup_of``)

only needs, besides the order, the exact groups and the set E of *verified edges* (i < j, a band
shared, Jaccard >= threshold); the kept set then follows from one pass over E in order of j
(:func:`resolve`). E is small (it holds the duplicates, not the records), so that pass is cheap
wherever it runs; computing E is the heavy, parallel part:

1. sketches (per record, in the workers)                        -> ``near_dedup_sign``
2. exact groups: group by content hash; leader = first           -> :func:`mark_exact`
3. band rows: one (band key, pos) row per band of each record    -> :func:`explode_bands`
4. candidate pairs: group by band key, all i < j in a group      -> :func:`pairs_in_group`
5. distinct pairs, with both sides' shingle sets, checked        -> :func:`verify_pairs`
6. the pass over E in order of j                                 -> :func:`resolve`

(An exact copy's pairs are those of its group's first record; :func:`resolve` settles it by its
exact edge and skips it as a candidate, since it is dropped, so its edges change nothing.)

Records of earlier runs or windows enter as *prior* rows: negative positions, in the order they
were kept, always kept themselves. :func:`bulk_dedup` runs the plan with numpy in one process (the
reference the tests compare with the coordinator); ``pipeline.execution.ray_dedup`` runs steps 2-5
as Ray Data operations.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import numpy as np
import pyarrow as pa

from stages.near_dedup.deduper import DUPLICATE, NEAR_DUPLICATE, DedupParams, Prepared, Verdict
from stages.near_dedup.hashing import U64
from stages.near_dedup.minhash import MinHasher, jaccard, pack_signature, unpack_set, unpack_signature

#: A band group larger than this pairs only its first ``MAX_GROUP`` members with the others (a
#: guard against a quadratic blow-up; the coordinator has ``max_candidates``).
MAX_GROUP = 1000

#: The rows the plan works on: one per record (prior ones with negative positions).
PREPARED = pa.schema(
    [
        ("pos", pa.int64()),
        ("id", pa.string()),
        ("ident", pa.int64()),
        ("content_hash", pa.binary()),
        ("signature", pa.binary()),
        ("shingles", pa.binary()),
    ]
)
#: Verified edges (:func:`verify_pairs`), and exact edges (``similarity`` 1, from :func:`mark_exact`).
EDGES = pa.schema([("i", pa.int64()), ("j", pa.int64()), ("similarity", pa.float64())])


def prepared_table(positions: Sequence[int], records: Sequence[Prepared]) -> pa.Table:
    return pa.table(
        {
            "pos": pa.array(positions, pa.int64()),
            "id": pa.array([r.id for r in records], pa.string()),
            "ident": pa.array([r.ident for r in records], pa.int64()),
            "content_hash": pa.array([r.content_hash for r in records], pa.binary()),
            "signature": pa.array([pack_signature(r.signature) for r in records], pa.binary()),
            "shingles": pa.array([r.shingles for r in records], pa.binary()),
        },
        schema=PREPARED,
    )


def mark_exact(group: pa.Table) -> pa.Table:
    """One exact group (same content hash): its exact edges (leader, member). The leader is the
    first position; a member whose leader is its own earlier copy (a prior row with the same
    identity) is no member (it is judged on its own, as the coordinator skips that copy)."""
    pos = group.column("pos").to_numpy()
    order = np.argsort(pos, kind="stable")
    pos = pos[order]
    idents = group.column("ident").to_numpy()[order]
    lead, lead_ident = int(pos[0]), int(idents[0])
    member = np.ones(len(pos), dtype=bool)
    member[0] = False
    if lead < 0:
        member &= ~(idents == lead_ident)
    member &= pos >= 0
    j = pos[member]
    return pa.table(
        {
            "i": pa.array(np.full(len(j), lead), pa.int64()),
            "j": pa.array(j, pa.int64()),
            "similarity": pa.array(np.ones(len(j)), pa.float64()),
        },
        schema=EDGES,
    )


def explode_bands(batch: pa.Table, hasher: MinHasher) -> pa.Table:
    """One (band key, pos) row per band of every row with a signature (keys as int64)."""
    sigs = batch.column("signature").to_pylist()
    pos = batch.column("pos").to_numpy()
    rows = [k for k, s in enumerate(sigs) if s]
    if not rows:
        return pa.table({"key": pa.array([], pa.int64()), "pos": pa.array([], pa.int64())})
    keys: U64 = hasher.band_keys_many(np.stack([unpack_signature(sigs[k]) for k in rows]))
    return pa.table(
        {
            "key": pa.array(keys.reshape(-1).view(np.int64), pa.int64()),
            "pos": pa.array(np.repeat(pos[rows], keys.shape[1]), pa.int64()),
        }
    )


def pairs_in_group(group: pa.Table) -> pa.Table:
    """All (i, j), i < j, j >= 0, of one band group (pairs of prior rows were settled before)."""
    members = np.unique(group.column("pos").to_numpy())
    i_parts, j_parts = [], []
    for a, i in enumerate(members[:MAX_GROUP]):
        rest = members[a + 1 :]
        rest = rest[rest >= 0]
        i_parts.append(np.full(len(rest), i, dtype=np.int64))
        j_parts.append(rest.astype(np.int64))
    i_all = np.concatenate(i_parts) if i_parts else np.empty(0, np.int64)
    j_all = np.concatenate(j_parts) if j_parts else np.empty(0, np.int64)
    return pa.table({"i": pa.array(i_all, pa.int64()), "j": pa.array(j_all, pa.int64())})


def verify_pairs(batch: pa.Table, threshold: float) -> pa.Table:
    """The pairs (with both sides' shingle sets ``sh_i``/``sh_j``) whose exact Jaccard similarity
    reaches ``threshold``: the verified edges."""
    i, j = batch.column("i").to_pylist(), batch.column("j").to_pylist()
    sh_i, sh_j = batch.column("sh_i").to_pylist(), batch.column("sh_j").to_pylist()
    out_i, out_j, out_s = [], [], []
    for k in range(batch.num_rows):
        if not sh_i[k] or not sh_j[k]:
            continue
        sim = jaccard(unpack_set(sh_i[k]), unpack_set(sh_j[k]))
        if sim >= threshold:
            out_i.append(i[k])
            out_j.append(j[k])
            out_s.append(round(sim, 4))
    return pa.table(
        {
            "i": pa.array(out_i, pa.int64()),
            "j": pa.array(out_j, pa.int64()),
            "similarity": pa.array(out_s, pa.float64()),
        },
        schema=EDGES,
    )


@dataclass(frozen=True)
class Row:
    """What :func:`resolve` needs of a record: its id and identity."""

    id: str
    ident: int


def resolve(
    rows: Mapping[int, Row],
    exact: pa.Table,
    edges: pa.Table,
    allowed: Mapping[int, set[int]] | None = None,
) -> dict[int, Verdict]:
    """The dropped positions and their verdicts, from the exact and the verified edges.

    One pass in order of j over the positions that have an edge (every other record is kept).
    Prior positions (< 0) are always kept; an edge from a prior row with the record's own
    identity is ignored (a rerun meets its own earlier copy); ``allowed``, when given, limits
    the prior rows each position may be a copy of (the coordinator's ``max_candidates``)."""
    lead_of: dict[int, int] = dict(
        zip(exact.column("j").to_pylist(), exact.column("i").to_pylist(), strict=True)
    )
    by_j: dict[int, list[tuple[int, float]]] = defaultdict(list)
    for i, j, s in zip(*(edges.column(n).to_pylist() for n in ("i", "j", "similarity")), strict=True):
        if i < 0 and rows[i].ident == rows[j].ident:
            continue
        if i < 0 and allowed is not None and i not in allowed.get(j, ()):
            continue
        by_j[j].append((i, s))
    dropped: dict[int, Verdict] = {}
    for j in sorted(set(lead_of) | set(by_j)):
        lead = lead_of.get(j)
        if lead is not None:
            # the same text as its group's first copy: a duplicate of it, or the same fate
            dropped[j] = dropped.get(lead) or Verdict(DUPLICATE, rows[lead].id, 1.0)
            continue
        for i, s in sorted(by_j[j]):
            if i not in dropped:
                dropped[j] = Verdict(NEAR_DUPLICATE, rows[i].id, s)
                break
    return dropped


def bulk_edges(table: pa.Table, params: DedupParams) -> tuple[pa.Table, pa.Table]:
    """Steps 2-5 of the plan with numpy and pyarrow in this process: (exact edges, verified edges)."""
    hasher = MinHasher(params.minhash)
    by_hash: dict[bytes, list[int]] = defaultdict(list)
    for k, h in enumerate(table.column("content_hash").to_pylist()):
        by_hash[h].append(k)
    exact_parts = [mark_exact(table.take(ks)) for ks in by_hash.values() if len(ks) > 1]
    exact = pa.concat_tables([EDGES.empty_table(), *exact_parts])
    bands = explode_bands(table, hasher)
    pair_parts = []
    if bands.num_rows:
        keys, pos = bands.column("key").to_numpy(), bands.column("pos").to_numpy()
        order = np.lexsort((pos, keys))
        keys, pos = keys[order], pos[order]
        bounds = np.flatnonzero(np.diff(keys)) + 1
        for group in np.split(pos, bounds):
            if len(group) > 1:
                pair_parts.append(pairs_in_group(pa.table({"pos": pa.array(group, pa.int64())})))
    pairs = pa.concat_tables(
        [pa.table({"i": pa.array([], pa.int64()), "j": pa.array([], pa.int64())}), *pair_parts]
    )
    distinct = pairs.group_by(["i", "j"]).aggregate([])
    shingles = dict(zip(table.column("pos").to_pylist(), table.column("shingles").to_pylist(), strict=True))
    joined = distinct.append_column(
        "sh_i", pa.array([shingles[i] for i in distinct.column("i").to_pylist()], pa.binary())
    ).append_column("sh_j", pa.array([shingles[j] for j in distinct.column("j").to_pylist()], pa.binary()))
    return exact, verify_pairs(joined, params.threshold)


def bulk_dedup(
    records: Sequence[Prepared], params: DedupParams, prior: Sequence[Prepared] = ()
) -> list[Verdict | None]:
    """Verdicts for ``records`` (in input order) with the bulk plan, in this process; ``prior``:
    records kept before them (earlier runs), in the order they were kept."""
    positions = list(range(-len(prior), len(records)))
    everything = [*prior, *records]
    table = prepared_table(positions, everything)
    exact, edges = bulk_edges(table, params)
    rows = {p: Row(r.id, r.ident) for p, r in zip(positions, everything, strict=True)}
    dropped = resolve(rows, exact, edges)
    return [dropped.get(j) for j in range(len(records))]
