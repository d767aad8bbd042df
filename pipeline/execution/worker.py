"""A worker process of the supervised pool: its warm-up and its main loop.

The worker unpickles its copy of the stages once, runs two small documents through them (so
that what the stages build lazily is built before the per-record timeout starts counting), then
says it is ready (:data:`READY`), then runs the batches its supervisor sends until told to stop. It publishes what it is doing in its
:class:`~pipeline.execution.heartbeat.Heartbeat` and sends each batch back without the raw
input, which the supervisor still holds (:func:`~pipeline.execution.jobs.with_raw`).
"""

from __future__ import annotations

import pickle
import signal
from collections.abc import Sequence
from multiprocessing.connection import Connection
from typing import Any

import pyarrow as pa

from pipeline.core.batching import safe_batch
from pipeline.core.record import Doc, docs_from_batch
from pipeline.core.stage import Stage, StageStats
from pipeline.execution.chain import run_docs
from pipeline.execution.heartbeat import WARMING_UP, Heartbeat

#: What a worker sends its supervisor once it has started (unpickled and warmed the stages up):
#: only then is it given a batch, and its start's deadline stops counting.
READY = "ready"

_WARM_UP_DOCS = (
    (
        "html",
        "<html><head><title>Warm up</title></head><body><article><p>The council met on "
        "Monday to discuss the harbour.</p><p>It will meet again next week.</p></article></body></html>",
    ),
    ("text", "Warm up\n\nThe council met on Monday to discuss the harbour. It will meet again next week."),
)


def send_job(conn: Connection, seq: int, batch: pa.RecordBatch) -> None:
    """Hand a worker job ``seq``: its number (pickled), then the batch as an Arrow IPC stream.

    The stream is the batch's buffers behind a small header, written to the pipe as they are:
    pickling a batch of web pages copied them into a growing bytes object first, ~0.2 ms a page
    of the supervisor's CPU, and unpickling them cost the worker again."""
    sink = pa.BufferOutputStream()
    with pa.ipc.new_stream(sink, batch.schema) as writer:
        writer.write_batch(batch)
    conn.send(seq)
    conn.send_bytes(sink.getvalue())


def recv_job(conn: Connection) -> tuple[int, pa.RecordBatch] | None:
    """The next job :func:`send_job` sent, or None when the supervisor says stop (or is gone)."""
    try:
        seq = conn.recv()
        if seq is None:
            return None
        data = conn.recv_bytes()
    except (EOFError, OSError):
        return None
    return seq, pa.ipc.open_stream(pa.py_buffer(data)).read_next_batch()


def warm_up(stages: Sequence[Stage]) -> None:
    """Run two small documents through the stages once and convert them to Arrow, so lazy
    imports (pyarrow's first conversion), compiled patterns and language profiles
    load before the per-record timeout starts counting."""
    docs = [
        Doc(id=f"warm-up-{i}", source="<warm-up>", raw=raw, format=fmt)
        for i, (fmt, raw) in enumerate(_WARM_UP_DOCS)
    ]
    run_docs(stages, docs)
    safe_batch(docs)
    for stage in stages:
        stage.stats = StageStats()


def worker_main(conn: Connection, stages_blob: bytes, cells: Any) -> None:
    """A worker: unpickle the stages once, then run batches until told to stop."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # the supervisor decides when workers stop
    signal.signal(signal.SIGTERM, signal.SIG_DFL)
    stages: Sequence[Stage] = pickle.loads(stages_blob)
    beat = Heartbeat(cells)
    beat.beat(WARMING_UP, 0)
    warm_up(stages)
    beat.ready()
    try:
        conn.send(READY)
    except OSError:  # the supervisor is gone
        return
    while (job := recv_job(conn)) is not None:
        job_id, batch = job
        docs = docs_from_batch(batch)
        stats = run_docs(stages, docs, beat)
        # The raw inputs stay behind (stages never change them, and the supervisor holds the
        # batch): a 175 KB page is not sent back. The worker builds the Arrow batch, so that
        # conversion scales with the workers instead of loading the supervisor.
        for doc in docs:
            doc.raw = ""
        try:
            conn.send((job_id, (safe_batch(docs), stats)))
        except OSError:  # the supervisor is gone (killed): nobody to report to, nor a traceback
            return
