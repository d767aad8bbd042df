"""Near-duplicate detection (``near_dedup``): one copy of each story, across a run and across runs.

* :mod:`~stages.near_dedup.hashing`, :mod:`~stages.near_dedup.shingles`,
  :mod:`~stages.near_dedup.minhash`: normalised word shingles, MinHash signatures, LSH band keys,
  the exact Jaccard similarity (numpy, no per-hash Python loop; hash values pinned by tests).
* :mod:`~stages.near_dedup.multimap`, :mod:`~stages.near_dedup.store`: the index (sorted key
  arrays in memory or memory-mapped, record rows in SQLite) and its atomic commits.
* :mod:`~stages.near_dedup.deduper`: the rule, record by record in input order;
  :mod:`~stages.near_dedup.bulk`: the same decisions computed in bulk (group, join, filter), the
  plan the Ray engine runs as Ray Data operations.
* :mod:`~stages.near_dedup.stage`: the stages ``near_dedup_sign`` (workers) and ``near_dedup``.

May import: ``pipeline.core`` (like every stage) and numpy/pyarrow; nothing else of the project.
"""

from stages.near_dedup.stage import NearDedup, NearDedupSign

__all__ = ["NearDedup", "NearDedupSign"]
