"""Input and output: readers of every input format (``formats/``: compression, charset decoding,
JSONL/CSV/Parquet, WARC; ``readers``: the plan of shards), the sinks that write a run's output
(``sinks/``: the :class:`Sink` protocol, :class:`ParquetSink`, :class:`JsonlSink`, the resume
state), the layout of an output directory (``layout``: which file holds what; the kept records
are its only Parquet files, the rest sits in ``_cleanwire/``), the rejected and dropped records
as gzip JSON lines (``left_records``), its reader (``output_reader``: what ``cleanwire stats``
and ``report`` read) and how much of a shard is read (``progress``: the progress bar's total).

``from pipeline.io import ParquetSink`` works; the names load on first use (PEP 562), so that
importing a reader does not import the sinks.

May import: ``pipeline.core`` (and the standard library, pyarrow, third-party parsers). Not
``stages``, not ``pipeline.execution`` or anything above it.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from pipeline.io.sinks import JsonlSink, ParquetSink, Sink

_LAZY = {"JsonlSink": "pipeline.io.sinks", "ParquetSink": "pipeline.io.sinks", "Sink": "pipeline.io.sinks"}

__all__ = ["JsonlSink", "ParquetSink", "Sink"]


def __getattr__(name: str) -> Any:
    if name in _LAZY:
        value = getattr(importlib.import_module(_LAZY[name]), name)
        globals()[name] = value
        return value
    raise AttributeError(f"module 'pipeline.io' has no attribute {name!r}")


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(_LAZY))
