"""filter: a minimal length filter. Empty text after cleaning is a reject; short text a drop."""

from __future__ import annotations

from pipeline.config import FilterConfig
from pipeline.record import Doc
from pipeline.stage import DocStage, DropRecord, RejectRecord


class MinLength(DocStage):
    name = "filter"

    def __init__(self, config: FilterConfig | None = None) -> None:
        super().__init__()
        self.config = config or FilterConfig()

    def process(self, doc: Doc) -> None:
        n = len(doc.text.strip())
        if n == 0:
            raise RejectRecord("empty_after_cleaning", "no text left after the cleaning stages")
        if n < self.config.min_chars:
            raise DropRecord("too_short", f"{n} chars < filter.min_chars={self.config.min_chars}")
