"""``near_dedup``'s bulk plan (:mod:`stages.near_dedup.bulk`) as Ray Data operations.

With ``--engine ray`` the :class:`~pipeline.execution.ray.RayEngine` runs ``near_dedup`` itself,
a window of records at a time: the driver asks the stage for the window's rows and the indexed
records they meet (:meth:`~stages.near_dedup.NearDedup.plan_window`: a lookup of their keys in
the index's sorted arrays), this module finds the window's exact and verified edges with Ray Data,
and the driver resolves them in order (:meth:`~stages.near_dedup.NearDedup.apply_window`, one pass
over the edges, which are as many as the duplicates). The steps here:

1. exact groups: ``groupby("content_hash").map_groups`` -> (leader, member) edges;
2. band rows of every record that leads its exact group: ``map_batches`` (one row per band);
3. candidate pairs: ``groupby("key").map_groups`` (all i < j of a band), then distinct pairs:
   ``groupby(["i", "j"]).count()``;
4. both sides' shingle sets: two hash joins (a ``union`` and a ``groupby``: ``Dataset.join``
   needs polars, which the ray extra does not bring);
5. the exact Jaccard check: ``map_batches`` -> verified edges.

Only edges come back to the driver. The kept and dropped records are those of the local engine
(tested), except when a record has more than ``max_candidates`` candidates kept earlier in its own
window (the coordinator stops there; the plan checks them all).

Ray is imported lazily, inside functions, as in :mod:`pipeline.execution.ray`.
"""

from __future__ import annotations

from typing import Any

import pyarrow as pa
import pyarrow.compute as pc

from stages.near_dedup.bulk import EDGES, explode_bands, mark_exact, pairs_in_group, verify_pairs
from stages.near_dedup.deduper import DedupParams
from stages.near_dedup.minhash import MinHasher


def _explode(batch: pa.Table, params: DedupParams) -> pa.Table:
    return explode_bands(batch, MinHasher(params.minhash))


def _not_members(batch: pa.Table, members: frozenset[int]) -> pa.Table:
    keep = [p not in members for p in batch.column("pos").to_pylist()]
    return batch.filter(pa.array(keep, pa.bool_()))


def _verify(batch: pa.Table, threshold: float) -> pa.Table:
    return verify_pairs(batch, threshold)


def _side(ds: Any, suffix: str) -> Any:
    """The key and shingle set of every row, named for one side of a pair."""
    return ds.select_columns(["pos", "shingles"]).rename_columns(
        {"pos": f"_pos_{suffix}", "shingles": f"sh_{suffix}"}
    )


def _tagged(batch: pa.Table, key: str, is_right: bool, schema: pa.Schema) -> pa.Table:
    """A batch of one side of :func:`hash_join` in the union schema (the other side's columns null)."""
    n = batch.num_rows
    cols = []
    for f in schema:
        if f.name == "_k":
            cols.append(batch.column(key).cast(pa.int64()))
        elif f.name == "_right":
            cols.append(pa.array([is_right] * n, pa.bool_()))
        elif f.name in batch.column_names:
            cols.append(batch.column(f.name).cast(f.type))
        else:
            cols.append(pa.nulls(n, f.type))
    return pa.Table.from_arrays(cols, schema=schema)


def _fill(group: pa.Table, right_cols: list[str]) -> pa.Table:
    """One key's rows: the right row's columns copied onto every left row."""
    is_right = group.column("_right").to_numpy(zero_copy_only=False)
    left = group.filter(pa.array(~is_right))
    right = group.filter(pa.array(is_right))
    names = [c for c in left.column_names if c not in ("_k", "_right")]
    if right.num_rows == 0 or left.num_rows == 0:
        return left.select(names).slice(0, 0)
    arrays = [
        pa.repeat(right.column(c)[0], left.num_rows) if c in right_cols else left.column(c) for c in names
    ]
    return pa.Table.from_arrays(arrays, names=names)


def hash_join(left: Any, right: Any, left_key: str, right_key: str) -> Any:
    """Inner join of ``left`` (many rows per key) with ``right`` (one row per key) on Ray Data's
    groupby; the right key column is dropped."""
    ls, rs = left.schema().base_schema, right.schema().base_schema
    right_cols = [f.name for f in rs if f.name != right_key]
    schema = pa.schema(
        [("_k", pa.int64()), ("_right", pa.bool_()), *list(ls), *[rs.field(c) for c in right_cols]]
    )
    lt = left.map_batches(_tagged, batch_format="pyarrow", fn_args=(left_key, False, schema))
    rt = right.map_batches(_tagged, batch_format="pyarrow", fn_args=(right_key, True, schema))
    return lt.union(rt).groupby("_k").map_groups(_fill, batch_format="pyarrow", fn_args=(right_cols,))


def _collect(ds: Any, schema: pa.Schema) -> pa.Table:
    parts = [
        pa.Table.from_batches([b]) if isinstance(b, pa.RecordBatch) else b
        for b in ds.iter_batches(batch_format="pyarrow", batch_size=None)
    ]
    parts = [p.select(schema.names).cast(schema) for p in parts if p.num_rows]
    return pa.concat_tables([schema.empty_table(), *parts])


def ray_edges(table: pa.Table, params: DedupParams) -> tuple[pa.Table, pa.Table]:
    """(exact edges, verified edges) of the plan's rows (:data:`stages.near_dedup.bulk.PREPARED`),
    computed with Ray Data."""
    import ray.data

    none = EDGES.empty_table()
    if table.num_rows < 2:
        return none, none
    ds = ray.data.from_arrow(table).materialize()
    exact = _collect(ds.groupby("content_hash").map_groups(mark_exact, batch_format="pyarrow"), EDGES)
    members = frozenset(exact.column("j").to_pylist())
    leaders = ds.map_batches(_not_members, batch_format="pyarrow", fn_args=(members,)) if members else ds
    bands = leaders.map_batches(_explode, batch_format="pyarrow", fn_args=(params,)).materialize()
    if bands.count() == 0:
        return exact, none
    pairs = bands.groupby("key").map_groups(pairs_in_group, batch_format="pyarrow").materialize()
    if pairs.count() == 0:
        return exact, none
    pairs = pairs.groupby(["i", "j"]).count().select_columns(["i", "j"])
    joined = hash_join(pairs, _side(ds, "i"), "i", "_pos_i")
    joined = hash_join(joined, _side(ds, "j"), "j", "_pos_j")
    checked = joined.map_batches(_verify, batch_format="pyarrow", fn_args=(params.threshold,))
    edges = _collect(checked, EDGES)
    order = pc.sort_indices(edges, sort_keys=[("j", "ascending"), ("i", "ascending")])
    return exact, edges.take(order)
