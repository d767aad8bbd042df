"""Input and output: readers of every input format (``formats/``: compression, charset decoding,
JSONL/CSV/Parquet, WARC), the sinks that write a run's output directory, and the layout of that
directory (which file holds what).

May import: ``pipeline.core`` (and the standard library, pyarrow, third-party parsers). Not
``stages``, not ``pipeline.execution`` or anything above it.
"""
