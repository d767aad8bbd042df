"""filter: a minimal length filter. Empty text after cleaning is a reject; short text a drop."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from pipeline.core.config import FilterConfig
from pipeline.core.stage import DropRecord, RejectRecord, VerdictStage


class MinLength(VerdictStage):
    name = "filter"
    reads = ("text",)

    def __init__(self, config: FilterConfig | None = None) -> None:
        super().__init__()
        self.config = config or FilterConfig()

    def judge(self, fields: Mapping[str, Any]) -> None:
        n = len(fields["text"].strip())
        if n == 0:
            raise RejectRecord("empty_after_cleaning", "no text left after the cleaning stages")
        if n < self.config.min_chars:
            raise DropRecord("too_short", f"{n} chars < filter.min_chars={self.config.min_chars}")
