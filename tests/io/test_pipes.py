"""Pipes named on the command line (``<(zcat dump.gz)``, a FIFO): sniffed for their format and
checked for their mapping, then read whole. Sniffing must not consume the bytes the reader needs."""

from __future__ import annotations

import gzip
import json
import os
import threading
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from click.testing import CliRunner

from pipeline.cli import cli
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
