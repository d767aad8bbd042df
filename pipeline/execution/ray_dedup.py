"""``near_dedup``'s bulk plan (:mod:`stages.near_dedup.bulk`) as Ray Data operations.

With ``--engine ray`` the :class:`~pipeline.execution.ray.RayEngine` runs ``near_dedup`` itself,
a plan of records at a time (:attr:`~pipeline.execution.ray.RayEngine.dedup_records`, several
windows of the parallel stages): the driver asks the stage for the plan's rows and the indexed
records they meet (:meth:`~stages.near_dedup.NearDedup.plan_window`: a lookup of their keys in
the index's sorted arrays), this module finds the window's exact and verified edges with Ray Data,
and the driver resolves them in order (:meth:`~stages.near_dedup.NearDedup.apply_window`, one pass
over the edges, which are as many as the duplicates). A plan of fewer than
:data:`DRIVER_PLAN_ROWS` rows finds them with numpy in the driver instead (:func:`plan_edges`);
a larger one costs one Ray Data execution, two shuffles:

1. keys: ``map_batches`` -> one row per record for its exact key (a hash of its content hash) and
   one per LSH band;
2. groups: ``groupby(["key", "exact"]).map_groups`` -> an exact key's (first, copy) edges, a
   band's candidate pairs (all i < j);
3. distinct: ``groupby(["i", "j", "exact"]).count()``;
4. checks: ``map_batches`` -> the exact Jaccard similarity of each candidate pair's shingle sets
   (broadcast to the tasks as one object of numpy arrays), the pairs at or above the threshold.

Each shuffle has one partition per :data:`ROWS_PER_PARTITION` rows, at most one per CPU (Ray
Data's default of 200 made a plan of a few hundred rows cost a minute on two cores). Only edges
come back to the driver. The kept and dropped records are those of the local engine
(tested), except when a record has more than ``max_candidates`` candidates kept earlier in its own
window (the coordinator stops there; the plan checks them all).

Ray is imported lazily, inside functions, as in :mod:`pipeline.execution.ray`.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from stages.near_dedup.bulk import EDGES, bulk_edges, explode_bands, mark_exact, pairs_in_group, verify_pairs
from stages.near_dedup.deduper import DedupParams
from stages.near_dedup.minhash import MinHasher, exact_keys


def _keys(batch: pa.Table, params: DedupParams) -> pa.Table:
    """One row per key of every record: its exact key (``exact``), and one per band."""
    bands = explode_bands(batch, MinHasher(params.minhash))
    digests = batch.column("content_hash").to_pylist()
    exact = pa.table(
        {
            "key": pa.array(exact_keys(digests).view(np.int64), pa.int64()),
            "pos": batch.column("pos"),
            "exact": pa.array([True] * batch.num_rows, pa.bool_()),
            "ident": batch.column("ident"),
            "content_hash": batch.column("content_hash"),
        }
    )
    n = bands.num_rows
    near = bands.append_column("exact", pa.array([False] * n, pa.bool_()))
    near = near.append_column("ident", pa.nulls(n, pa.int64())).append_column(
        "content_hash", pa.nulls(n, pa.binary())
    )
    return pa.concat_tables([exact, near.select(exact.column_names)])


def _group_edges(group: pa.Table) -> pa.Table:
    """One key's records: exact edges of an exact key (per content hash: the first record leads),
    candidate pairs of a band."""
    if group.column("exact")[0].as_py():
        by_hash: dict[bytes, list[int]] = {}
        for k, digest in enumerate(group.column("content_hash").to_pylist()):
            by_hash.setdefault(digest, []).append(k)
        parts = [mark_exact(group.take(rows)) for rows in by_hash.values() if len(rows) > 1]
        edges = pa.concat_tables([EDGES.empty_table(), *parts])
        return edges.select(["i", "j"]).append_column("exact", pa.array([True] * edges.num_rows, pa.bool_()))
    pairs = pairs_in_group(group)
    return pairs.append_column("exact", pa.array([False] * pairs.num_rows, pa.bool_()))


Sets = tuple[
    np.ndarray[Any, np.dtype[np.int64]],
    np.ndarray[Any, np.dtype[np.int64]],
    np.ndarray[Any, np.dtype[np.uint8]],
]


def _broadcast_sets(table: pa.Table) -> Sets:
    """The plan's shingle sets as numpy arrays (Ray shares those without a copy): the positions,
    sorted; each one's offset into the bytes; the packed sets' bytes, one after the other."""
    pos = table.column("pos").to_numpy()
    order = np.argsort(pos, kind="stable")
    blobs = [table.column("shingles")[int(k)].as_py() or b"" for k in order]
    offsets = np.zeros(len(blobs) + 1, dtype=np.int64)
    offsets[1:] = np.cumsum([len(b) for b in blobs])
    return pos[order].astype(np.int64), offsets, np.frombuffer(b"".join(blobs), dtype=np.uint8)


def _sets_of(sets: Sets, positions: pa.Array | pa.ChunkedArray) -> pa.Array:
    """The packed shingle sets of ``positions``."""
    pos, offsets, data = sets
    idx = np.searchsorted(pos, positions.to_numpy())
    return pa.array([data[offsets[k] : offsets[k + 1]].tobytes() for k in idx.tolist()], pa.binary())


def _verify(batch: pa.Table, sets_ref: Any, threshold: float) -> pa.Table:
    """Exact edges as they are (similarity 1); candidate pairs kept when the exact Jaccard
    similarity of their shingle sets reaches ``threshold`` (the sets come as one broadcast object,
    read without a copy from the object store)."""
    import ray

    sets: Sets = ray.get(sets_ref) if isinstance(sets_ref, ray.ObjectRef) else sets_ref
    is_exact = batch.column("exact").to_pylist()
    exact = batch.filter(pa.array(is_exact, pa.bool_()))
    pairs = batch.filter(pa.array([not e for e in is_exact], pa.bool_()))
    with_sets = pairs.append_column("sh_i", _sets_of(sets, pairs.column("i"))).append_column(
        "sh_j", _sets_of(sets, pairs.column("j"))
    )
    near = verify_pairs(with_sets, threshold)
    ones = pa.array(np.ones(exact.num_rows), pa.float64())
    exact_edges = pa.table({"i": exact.column("i"), "j": exact.column("j"), "similarity": ones}, schema=EDGES)
    return pa.concat_tables(
        [
            exact_edges.append_column("exact", pa.array([True] * exact.num_rows, pa.bool_())),
            near.append_column("exact", pa.array([False] * near.num_rows, pa.bool_())),
        ]
    )


_OUT = pa.schema([*EDGES, ("exact", pa.bool_())])


def _collect(ds: Any) -> pa.Table:
    parts = [p for p in ds.iter_batches(batch_format="pyarrow", batch_size=None)]
    parts = [pa.Table.from_batches([p]) if isinstance(p, pa.RecordBatch) else p for p in parts]
    return pa.concat_tables(
        [_OUT.empty_table(), *(p.select(_OUT.names).cast(_OUT) for p in parts if p.num_rows)]
    )


#: Rows per partition of the plan's shuffles (Ray Data's default, 200 partitions whatever the
#: size, made a plan of a few hundred rows cost a minute on two cores).
ROWS_PER_PARTITION = 5000


def ray_edges(table: pa.Table, params: DedupParams, cpus: int = 1) -> tuple[pa.Table, pa.Table]:
    """(exact edges, verified edges) of the plan's rows (:data:`stages.near_dedup.bulk.PREPARED`),
    computed with Ray Data in one execution: keys -> group by key -> distinct pairs -> checked.
    The shuffles have one partition per :data:`ROWS_PER_PARTITION` rows, at most one per CPU of
    the cluster (``cpus``); the shingle sets reach the checks as one broadcast object."""
    import ray
    import ray.data

    if table.num_rows < 2:
        return EDGES.empty_table(), EDGES.empty_table()
    parts = max(1, min(cpus, table.num_rows // ROWS_PER_PARTITION + 1))
    shingles = ray.put(_broadcast_sets(table))
    ds: Any = ray.data.from_arrow(table)  # untyped from here: map_batches' stubs take no fn_args
    keys = ds.map_batches(_keys, batch_format="pyarrow", fn_args=(params,))
    edges = keys.groupby(["key", "exact"], num_partitions=parts).map_groups(
        _group_edges, batch_format="pyarrow"
    )
    distinct = (
        edges.groupby(["i", "j", "exact"], num_partitions=parts).count().select_columns(["i", "j", "exact"])
    )
    checked = _collect(
        distinct.map_batches(_verify, batch_format="pyarrow", fn_args=(shingles, params.threshold))
    )
    order = pc.sort_indices(checked, sort_keys=[("j", "ascending"), ("i", "ascending")])
    checked = checked.take(order)
    is_exact = checked.column("exact")
    exact = checked.filter(is_exact).select(EDGES.names)
    near = checked.filter(pc.invert(is_exact)).select(EDGES.names)
    return exact, near


#: A plan of fewer rows than this runs in the driver (:func:`plan_edges`): Ray Data would run it
#: as one partition (:data:`ROWS_PER_PARTITION`), after two shuffles whose fixed cost (~3 s on two
#: cores) is paid per plan, and ``cleanwire run`` makes at least one plan per shard.
DRIVER_PLAN_ROWS = ROWS_PER_PARTITION


def plan_edges(
    table: pa.Table, params: DedupParams, cpus: int = 1, *, driver_rows: int = DRIVER_PLAN_ROWS
) -> tuple[pa.Table, pa.Table]:
    """(exact edges, verified edges) of the plan's rows: :func:`ray_edges` for a plan of at least
    ``driver_rows`` rows, else :func:`stages.near_dedup.bulk.bulk_edges` in this process (the
    same edges, tested; their order may differ, which :func:`stages.near_dedup.bulk.resolve`
    does not depend on)."""
    if table.num_rows < driver_rows:
        return bulk_edges(table, params)
    return ray_edges(table, params, cpus)
