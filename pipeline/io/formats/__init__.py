"""Input formats, one module each: compressed streams (:mod:`.compression`), charsets
(:mod:`.decoding`), what kind a file is (:mod:`.kinds`), document files (:mod:`.documents`),
JSONL (:mod:`.jsonl`), CSV/TSV (:mod:`.delimited`), Parquet (:mod:`.parquet`), WARC/ARC
(:mod:`.warc`) and tar archives (:mod:`.archive`); :mod:`.records` turns a row into a record and
:mod:`.tabular` holds what the tabular readers share. Part of ``pipeline.io``: imports only
``pipeline.core``.
"""
