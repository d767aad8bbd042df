"""The duplicates a run dropped, as clusters: each kept record with the copies dropped against it
(``dup_of`` of the dropped records), and which sites publish the same stories.

A cluster is a star around the record kept first (``near_dedup`` names a kept record in every
``dup_of``), so grouping the dropped records by ``dup_of`` gives the clusters exactly. The site
of a record is the host of its URL (without ``www.``), else its sitename; the kept record's comes
from the kept records, read once more for just the cluster heads. A head that an earlier run kept
(``--dedup-index``) is not in this output: its site shows as :data:`EARLIER_RUN`.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

import pyarrow as pa
import pyarrow.compute as pc

from pipeline.reporting.kept_stats import site_column

#: The site of a cluster's head that is not among this run's kept records.
EARLIER_RUN = "(earlier run)"


@dataclass
class Cluster:
    """A kept record and the copies dropped against it."""

    head: str
    copies: int = 0
    exact: int = 0
    min_similarity: float = 1.0
    sites: Counter[str] = field(default_factory=Counter)
    head_site: str = EARLIER_RUN

    @property
    def size(self) -> int:
        return 1 + self.copies

    @property
    def n_sites(self) -> int:
        return len(set(self.sites) | {self.head_site})

    def to_dict(self) -> dict[str, Any]:
        return {
            "head": self.head,
            "head_site": self.head_site,
            "size": self.size,
            "exact_copies": self.exact,
            "near_copies": self.copies - self.exact,
            "min_similarity": round(self.min_similarity, 4),
            "sites": self.n_sites,
            "copy_sites": dict(self.sites.most_common()),
        }


@dataclass
class DuplicateStats:
    """Accumulates the dropped records that name a kept copy (``dup_of``)."""

    clusters: dict[str, Cluster] = field(default_factory=dict)

    def add_batch(self, batch: pa.RecordBatch) -> None:
        """Dropped records (:data:`~pipeline.core.schema.REJECT_SCHEMA`); those without ``dup_of``
        (another reason, or written before ``dup_of`` existed) are not duplicates here."""
        names = batch.schema.names
        if "dup_of" not in names or batch.column("dup_of").null_count == batch.num_rows:
            return
        rows = batch.filter(pc.is_valid(batch.column("dup_of")))
        if "url" not in names:
            rows = rows.append_column("url", pa.nulls(rows.num_rows, pa.string()))
        sites = site_column(rows)
        dup_of = rows.column("dup_of").to_pylist()
        reasons = rows.column("reason").to_pylist()
        sims = rows.column("similarity").to_pylist()
        for head, site, reason, sim in zip(dup_of, sites, reasons, sims, strict=True):
            cluster = self.clusters.setdefault(str(head), Cluster(str(head)))
            cluster.copies += 1
            cluster.exact += reason == "duplicate"
            cluster.sites[site] += 1
            if sim is not None:
                cluster.min_similarity = min(cluster.min_similarity, float(sim))

    def heads(self) -> list[str]:
        return sorted(self.clusters)

    def add_head_sites(self, kept: Iterable[pa.RecordBatch]) -> None:
        """The sites of the cluster heads, from kept records (``id``, ``url``, ``sitename``)."""
        for batch in kept:
            for head, site in zip(batch.column("id").to_pylist(), site_column(batch), strict=True):
                cluster = self.clusters.get(str(head))
                if cluster is not None:
                    cluster.head_site = site

    @property
    def n_dropped(self) -> int:
        return sum(c.copies for c in self.clusters.values())

    def largest(self, n: int) -> list[Cluster]:
        """The ``n`` largest clusters (ties: most sites, then the head's id)."""
        return sorted(self.clusters.values(), key=lambda c: (-c.size, -c.n_sites, c.head))[:n]

    def site_pairs(self, n: int) -> list[tuple[str, str, int]]:
        """(site of the kept copy, site of a dropped copy, stories) for the ``n`` pairs of sites
        that share the most stories; the same story twice on one site counts as its own pair."""
        pairs: Counter[tuple[str, str]] = Counter()
        for cluster in self.clusters.values():
            for site in cluster.sites:
                pairs[(cluster.head_site, site)] += 1  # stories, not copies
        ranked = sorted(pairs.items(), key=lambda kv: (-kv[1], kv[0]))[:n]
        return [(a, b, count) for (a, b), count in ranked]

    def to_dict(self, top: int = 20) -> dict[str, Any]:
        return {
            "clusters": len(self.clusters),
            "dropped_copies": self.n_dropped,
            "largest_clusters": [c.to_dict() for c in self.largest(top)],
            "site_pairs": [
                {"kept_on": a, "copied_on": b, "stories": count} for a, b, count in self.site_pairs(top)
            ],
        }
