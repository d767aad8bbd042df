"""Pipes named on the command line (``<(zcat dump.gz)``, a FIFO): sniffed for their format and
checked for their mapping, then read whole. Sniffing must not consume the bytes the reader needs."""

from __future__ import annotations

import gzip
import io
import json
import os
import random
import threading
import zlib
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import IO

import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from click.testing import CliRunner

from pipeline.cli import cli
from pipeline.core.record import Doc
from pipeline.io.formats import compression
from pipeline.io.readers import Source, kind_of

pytestmark = pytest.mark.skipif(not hasattr(os, "mkfifo") or not Path("/dev/fd").is_dir(), reason="POSIX")

Piped = Callable[[bytes], Path]


def _write(fd: int, data: bytes) -> threading.Thread:
    def write() -> None:
        with os.fdopen(fd, "wb") as fh:
            fh.write(data)

    writer = threading.Thread(target=write, daemon=True)
    writer.start()
    return writer


@pytest.fixture(params=["dev-fd", "fifo"])
def piped(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Piped]:
    """``data`` behind a path with no extension, written by a thread as it is read: ``/dev/fd/N``
    of an ``os.pipe()`` (what bash's ``<(...)`` gives) or a named FIFO."""
    writers: list[threading.Thread] = []
    held: list[int] = []

    def make(data: bytes) -> Path:
        if request.param == "dev-fd":
            r, w = os.pipe()
            held.append(r)
            path = Path(f"/dev/fd/{r}")
        else:
            path = tmp_path / f"fifo{len(held)}"
            os.mkfifo(path)
            held.append(os.open(path, os.O_RDONLY | os.O_NONBLOCK))  # so the writer opens at once
            w = os.open(path, os.O_WRONLY)
        writers.append(_write(w, data))
        return path

    yield make
    for writer in writers:
        writer.join(timeout=10)
        assert not writer.is_alive(), "the reader stopped before the end of the pipe"
    for fd in held:
        os.close(fd)


def _records(n: int) -> bytes:
    return b"".join(
        json.dumps({"id": f"r{i}", "text": f"Record {i} of the feed."}).encode() + b"\n" for i in range(n)
    )


@pytest.mark.parametrize("compress", [False, True])
def test_jsonl_from_a_pipe_is_sniffed_checked_and_read_whole(piped: Piped, compress: bool) -> None:
    data = _records(5000)  # ~200 KB: more than a pipe's buffer and a sniff's read
    source = Source([piped(gzip.compress(data) if compress else data)])
    shards = source.shards()
    assert [s.kind for s in shards] == ["jsonl"]
    docs = [d for s in shards for d in s.docs(source.config)]
    assert [d.id for d in docs] == [f"r{i}" for i in range(5000)]
    assert all(d.ok for d in docs)
    assert not compression._PIPES  # nothing held once read


def test_parquet_from_a_pipe_is_read_whole_and_the_sniffed_pipe_closed(piped: Piped) -> None:
    """Parquet was read by pyarrow opening the path itself, not through the reader's open: the pipe
    a sniff kept open for that open stayed open until exit, and pyarrow, opening the pipe again,
    lost the sniffed bytes or blocked (hence the thread: blocking fails the test, not hangs it)."""
    ids = [f"r{i}" for i in range(300)]
    noise = random.Random(5)  # incompressible: ~130 KB of Parquet, more than a pipe holds
    texts = [f"Record {i}: " + noise.randbytes(200).hex() for i in range(300)]
    table = io.BytesIO()
    pq.write_table(pa.table({"id": ids, "text": texts}), table)
    path = piped(table.getvalue())
    assert kind_of(path) == "parquet"
    (kept,) = compression._PIPES.values()  # the sniff's handle, kept open for the reader
    assert not kept.file.closed
    source = Source([path])
    docs: list[Doc] = []
    planned: list[str] = []

    def plan_and_read() -> None:
        shards = source.shards()
        planned.extend(s.kind for s in shards)
        docs.extend(d for s in shards for d in s.docs(source.config))

    reader = threading.Thread(target=plan_and_read, daemon=True)
    reader.start()
    reader.join(timeout=60)
    assert not reader.is_alive(), "reading the Parquet pipe blocked"
    assert planned == ["parquet"]
    assert [d.id for d in docs] == ids and all(d.ok for d in docs)
    assert kept.file.closed and not compression._PIPES


def test_a_parquet_fifo_is_not_opened_to_size_it_for_the_progress_bar(tmp_path: Path) -> None:
    """The progress bar's record total (``Shard.size``, which a run asks before reading) opened a
    FIFO named ``.parquet`` with pyarrow to read its footer: the writer's bytes went to that open,
    which failed (a pipe has no size), and the reader found the pipe empty: every row lost, one
    ``reader_error`` reject (``Parquet file size is 0 bytes``)."""
    ids = ["r0", "r1"]
    table = io.BytesIO()
    pq.write_table(pa.table({"id": ids, "text": ["The ferry sailed.", "The harbour opened."]}), table)
    path = tmp_path / "feed.parquet"
    os.mkfifo(path)

    def feed() -> None:
        with open(path, "wb") as fh:  # blocks until a reader opens the FIFO
            fh.write(table.getvalue())

    writer = threading.Thread(target=feed, daemon=True)
    writer.start()
    source = Source([path])
    sizes: list[int | None] = []
    docs: list[Doc] = []

    def plan_and_read() -> None:
        (shard,) = source.shards()
        sizes.append(shard.size().records)
        docs.extend(shard.docs(source.config))

    reader = threading.Thread(target=plan_and_read, daemon=True)
    reader.start()
    reader.join(timeout=30)
    if writer.is_alive():  # let a writer still waiting for a reader end
        os.close(os.open(path, os.O_RDONLY | os.O_NONBLOCK))
    assert not reader.is_alive(), "reading the Parquet FIFO blocked"
    assert sizes == [None]
    assert [(d.id, d.reason) for d in docs] == [("r0", None), ("r1", None)]


def test_a_pipe_sniffed_for_a_plan_not_read_is_closed_by_the_source(piped: Piped) -> None:
    """A plan whose shards are not read (a rerun skipping finished shards, a run stopped early)
    kept each pipe its sniffs opened until exit (``ResourceWarning: unclosed file`` at exit)."""
    source = Source([piped(_records(5))])
    assert [s.kind for s in source.shards()] == ["jsonl"]
    (kept,) = compression._PIPES.values()
    source.close()
    assert kept.file.closed and not compression._PIPES


def test_explain_refusing_a_piped_container_closes_the_pipe(piped: Piped) -> None:
    res = CliRunner().invoke(cli, ["explain", str(piped(_records(5))), "--no-color"])
    assert res.exit_code != 0 and "holds records, not one document" in res.output, res.output
    assert not compression._PIPES  # the sniff's handle, kept for a read explain never does


def test_a_text_document_from_a_pipe_keeps_its_text(piped: Piped) -> None:
    text = "Harbour wall repairs\n\n" + "The council set aside money for the repairs. " * 2000
    path = piped(text.encode())
    assert kind_of(path) == "text"
    assert kind_of(path) == "text"  # a second sniff sees the same bytes
    source = Source([path])
    (doc,) = [d for s in source.shards() for d in s.docs(source.config)]
    assert doc.ok and doc.raw == text


def test_explain_reads_a_piped_document(piped: Piped) -> None:
    text = (
        "Harbour wall repairs\n\nEngineers say the harbour wall at Kestrel Bay will need months of work "
        "after Tuesday night's storm tore away a section of the old stone parapet."
    )
    res = CliRunner().invoke(cli, ["explain", str(piped(text.encode())), "--no-color"])
    assert res.exit_code == 0, res.output
    assert "REJECTED" not in res.output and "Kestrel Bay will need months" in res.output


@pytest.mark.parametrize("where", ["fifo", "stdin", "fifo-gzip"])
def test_a_pipe_fed_slowly_gives_its_records_as_they_come(
    where: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A feed that writes a few records and waits (a crawler's output, one record a second): the
    reader read the pipe through a buffered ``read(64 KiB)``, which waits for 64 KiB or the end,
    so no record of the feed came out until then (the format sniff and mapping check waited too)."""
    held: IO[str] | int
    if where == "stdin":
        r, w = os.pipe()
        held = os.fdopen(r, "r")
        monkeypatch.setattr("sys.stdin", held)
        path = Path("-")
    else:
        path = tmp_path / "feed.jsonl"
        os.mkfifo(path)
        held = os.open(path, os.O_RDONLY | os.O_NONBLOCK)  # so the writer opens at once
        w = os.open(path, os.O_WRONLY)
    finish = threading.Event()

    def feed() -> None:
        data = _records(3)
        if where == "fifo-gzip":  # gzip flushed after the records, as `gzip` does not by itself
            packer = zlib.compressobj(wbits=31)
            data = packer.compress(data) + packer.flush(zlib.Z_SYNC_FLUSH)
        with os.fdopen(w, "wb", buffering=0) as fh:
            fh.write(data)
            finish.wait(timeout=30)

    got: list[str] = []
    three = threading.Event()

    def read() -> None:
        source = Source([path])
        for shard in source.shards():
            for doc in shard.docs(source.config):
                got.append(doc.id)
                if len(got) == 3:
                    three.set()

    threads = [threading.Thread(target=f, daemon=True) for f in (feed, read)]
    for thread in threads:
        thread.start()
    try:
        assert three.wait(timeout=10), f"records held back while the feed is open: {got}"
    finally:
        finish.set()
        for thread in threads:
            thread.join(timeout=10)
        if isinstance(held, int):
            os.close(held)
        else:
            held.close()
    assert got[:3] == ["r0", "r1", "r2"]  # (the gzip feed then ends inside its member: truncated)


def test_a_finished_run_over_a_named_pipe_reruns_though_the_pipe_was_written_again(tmp_path: Path) -> None:
    """A shard's marker recorded a named pipe's size and mtime, and every write to a pipe moves
    its mtime: rerunning the same command (the feed written again) was refused, exit 4, "an input
    of finished shard 00000 ... changed since it was written". A pipe is compared as stdin is."""
    fifo, out = tmp_path / "feed.jsonl", tmp_path / "out"
    os.mkfifo(fifo)
    outputs = []
    for _ in range(2):
        held = os.open(fifo, os.O_RDONLY | os.O_NONBLOCK)  # so the writer opens at once
        writer = _write(os.open(fifo, os.O_WRONLY), _records(5))
        result = CliRunner().invoke(cli, ["run", str(fifo), "-o", str(out), "--no-progress"])
        writer.join(timeout=10)
        os.close(held)
        assert result.exit_code == 0, result.output
        # the rerun's plan sniffed the pipe (format, mapping check) and kept it open for a read
        # that did not come (the shard skipped as finished): it stayed open until exit
        assert not compression._PIPES
        outputs.append(result.output)
    assert "5 records" in outputs[0]
    assert "skipped" in outputs[1] or "up to date" in outputs[1], outputs[1]
