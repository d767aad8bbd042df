"""dedup: drop exact duplicates of the cleaned text (same ``content_hash``), first one wins.

Stateful across records, so the runner keeps it in the coordinating process, after the parallel
stages, where records arrive in input order: the kept copy is the same whatever the worker count.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from typing import Any

from pipeline.core.stage import DropRecord, VerdictStage


class Dedup(VerdictStage):
    name = "dedup"
    parallel_safe = False
    reads = ("content_hash",)

    def __init__(self, seen: Iterable[str] = ()) -> None:
        super().__init__()
        self.seen: set[str] = set(seen)

    def judge(self, fields: Mapping[str, Any]) -> None:
        digest = fields["content_hash"]
        if digest in self.seen:
            raise DropRecord("duplicate", f"same content_hash as an earlier record: {digest}")
        self.seen.add(digest)

    def remember(self, hashes: Sequence[str]) -> None:
        """Seed the seen-set (e.g. from shards a resumed run already finished)."""
        self.seen.update(hashes)
