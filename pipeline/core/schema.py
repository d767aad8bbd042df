"""The Arrow schemas: what flows between stages, what is written, what is rejected.

Every stage reads and writes batches of :data:`WORK_SCHEMA`. A record never leaves the stream:
a stage that rejects or drops a record sets its ``status`` and the reason, and later stages pass
it through untouched. The sink splits the stream into the output, rejects and dropped files, so
``n_in = n_kept + n_dropped + n_rejected`` holds by construction and is checked by the runner.
"""

from __future__ import annotations

import pyarrow as pa

#: Version history (additive changes only; readers of an older version keep working):
#: 1 - initial schema. 2 - ``encoding`` (how the input bytes were decoded) and ``extra``
#: (user columns passed through with ``--keep-field``). 3 - ``removed.score``: the learned model's
#: probability for a removal it made (null for a rule's removal); the rejected and dropped records
#: gain ``url``, ``dup_of`` and ``similarity`` (a duplicate names the kept record it copies); the
#: work rows gain ``sketch`` (what ``near_dedup_sign`` computes in the workers for ``near_dedup``)
#: and the same ``dup_of``/``similarity``. The kept records' other columns are unchanged.
SCHEMA_VERSION = "3"

REMOVAL_TYPE = pa.struct(
    [
        pa.field("rule", pa.string(), nullable=False),
        pa.field("category", pa.string(), nullable=False),
        pa.field("start", pa.int32(), nullable=False),
        pa.field("end", pa.int32(), nullable=False),
        pa.field("snippet", pa.string(), nullable=False),
        # v3: P(boilerplate) of a removal by the learned model (rule ``model:<version>``); null for rules
        pa.field("score", pa.float64()),
    ]
)

#: The fixed, documented output schema (``part-*.parquet``).
OUTPUT_SCHEMA = pa.schema(
    [
        pa.field("id", pa.string(), nullable=False),
        pa.field("url", pa.string()),
        pa.field("source", pa.string(), nullable=False),
        pa.field("title", pa.string()),
        pa.field("author", pa.string()),
        pa.field("date", pa.string()),
        pa.field("sitename", pa.string()),
        pa.field("text", pa.string(), nullable=False),
        pa.field("lang", pa.string(), nullable=False),
        pa.field("lang_prob", pa.float32(), nullable=False),
        pa.field("removed", pa.list_(REMOVAL_TYPE), nullable=False),
        pa.field("encoding_fixes", pa.list_(pa.string()), nullable=False),
        pa.field("n_chars_raw", pa.int64(), nullable=False),
        pa.field("n_chars_text", pa.int64(), nullable=False),
        pa.field("content_hash", pa.string(), nullable=False),
        # v2: the codec the input bytes were decoded with (``utf-8``, ``cp1252``, ...); null when
        # the input was already text (e.g. a JSON string inside a UTF-8 JSONL file has ``utf-8``).
        pa.field("encoding", pa.string()),
        # v2: input columns kept with ``--keep-field`` (values as strings; JSON for non-strings).
        pa.field("extra", pa.map_(pa.string(), pa.string()), nullable=False),
    ]
)

#: The rejected records (that failed) and the dropped ones (filtered on purpose): ``_cleanwire/rejects.jsonl.gz``
#: and ``dropped.jsonl.gz`` of an output directory (:mod:`pipeline.io.left_records`).
REJECT_SCHEMA = pa.schema(
    [
        pa.field("id", pa.string(), nullable=False),
        pa.field("source", pa.string(), nullable=False),
        pa.field("stage", pa.string(), nullable=False),
        pa.field("reason", pa.string(), nullable=False),
        pa.field("detail", pa.string()),
        pa.field("raw_prefix", pa.string()),
        # v3: the record's URL; for a duplicate (reason ``duplicate`` or ``near_duplicate``) the id of
        # the kept record it copies and the Jaccard similarity of their shingle sets (1 for exact copies).
        pa.field("url", pa.string()),
        pa.field("dup_of", pa.string()),
        pa.field("similarity", pa.float32()),
    ]
)

#: Columns that exist only while records flow between stages.
_WORK_ONLY = [
    pa.field("format", pa.string(), nullable=False),
    pa.field("raw", pa.string(), nullable=False),
    pa.field("status", pa.string(), nullable=False),  # ok | rejected | dropped
    pa.field("stage", pa.string()),  # the stage that rejected or dropped it
    pa.field("reason", pa.string()),
    pa.field("detail", pa.string()),
    pa.field("flags", pa.list_(pa.string()), nullable=False),
    # v3: the near-duplicate sketch of ``text`` (word count, MinHash signature, shingle set; see
    # stages.near_dedup.minhash.pack_sketch), filled in the workers for the coordinator.
    pa.field("sketch", pa.binary()),
    # v3: a dropped duplicate's kept copy and their similarity (copied to the dropped records).
    pa.field("dup_of", pa.string()),
    pa.field("similarity", pa.float32()),
]

WORK_SCHEMA = pa.schema(list(OUTPUT_SCHEMA) + _WORK_ONLY)

#: The input columns every row must have, as non-null strings (the others are optional).
REQUIRED_FIELDS = ("id", "source", "raw")

RAW_PREFIX_CHARS = 200


def string_scalar(value: str) -> pa.StringScalar:
    """``value`` as an Arrow string. Compute functions given a bare Python value infer its type,
    and that inference imports pandas when it is installed (0.25 s; see
    :mod:`pipeline.core.pandas_probe`): the run path passes typed values."""
    return pa.scalar(value, pa.string())
