"""WARC records where one ends and the next begins.

- A record written right after the block before it (no blank line between) was lost whole:
  warcio takes the first line after a block for the separator whatever it holds, so the record's
  ``WARC/1.0`` line went, and the rest of it was one reject of bytes that start no record. Blank
  lines (any number, CRLF or LF, spaces) before the ``WARC/1.0`` line were and are fine.
- A numeric ``Content-Length`` too short: the cut page was kept as if whole and the rest of its
  block was a reject of its own (or nothing at all, when that rest was one line: warcio took it
  for the separator). Now, when what follows the block at once (before a blank line) starts no
  record, the record is the reject, with its id, URL and page; whitespace alone left over is no
  loss, and the record is kept.
- Bytes that start no record after a full separator (junk between records, or the rest of a
  non-document record) are one reject naming where they are: their offset, the id and URL of
  the record before them, and their first bytes.
"""

from __future__ import annotations

import gzip
import json
import uuid
from pathlib import Path

import pytest
from click.testing import CliRunner

from pipeline.cli import cli
from pipeline.core.record import Status
from tests.io.test_warc_recovery import http, page, read, record


def _bare(n: int, **kwargs: str) -> bytes:
    """Record ``n`` without the ``\\r\\n\\r\\n`` a writer puts after its block."""
    rec = record(http(page(n).encode()), uri=f"http://example.com/{n}", **kwargs)
    return rec[: -len(b"\r\n\r\n")]


@pytest.mark.parametrize(
    "lead, between",
    [
        (b"", b""),  # the next record's WARC/1.0 line right after the block
        (b"\r\n", b"\r\n"),
        (b"\r\n\r\n", b"\r\n\r\n\r\n\r\n\r\n"),
        (b"\n\n\n", b"\n\n"),
        (b"", b"\r\n \r\n\t\r\n"),
    ],
    ids=["none", "one-crlf", "several", "lf", "spaces"],
)
@pytest.mark.parametrize("gz", [False, True], ids=["warc", "warc.gz"])
def test_blank_lines_or_none_before_a_records_first_line_lose_no_record(
    tmp_path: Path, capfd: pytest.CaptureFixture[str], lead: bytes, between: bytes, gz: bool
) -> None:
    records = [_bare(n) + between for n in range(1, 4)]
    records[0] = lead + records[0]
    data = [gzip.compress(r) for r in records] if gz else records
    docs = read(tmp_path, *data, name="crawl.warc.gz" if gz else "crawl.warc")
    assert [(d.status, d.url) for d in docs] == [(Status.OK, f"http://example.com/{n}") for n in range(1, 4)]
    assert [d.raw for d in docs] == [page(n) for n in range(1, 4)]
    assert "Content-Length is invalid" not in capfd.readouterr().err  # warcio's warning on stderr


@pytest.mark.parametrize("cut", [9, 40, 1500], ids=["last-line", "mid-line", "many-lines"])
@pytest.mark.parametrize("gz", [False, True], ids=["warc", "warc.gz"])
def test_a_page_cut_by_a_short_content_length_is_rejected_not_kept(
    tmp_path: Path, cut: int, gz: bool
) -> None:
    record_id = str(uuid.uuid4())
    block = http(page(2).encode())
    assert block.endswith(b"</html>\n")
    records = [
        record(http(page(1).encode()), uri="http://example.com/1"),
        record(block, uri="http://example.com/2", length=str(len(block) - cut), record_id=record_id),
        record(http(page(3).encode()), uri="http://example.com/3"),
    ]
    data = [gzip.compress(r) for r in records] if gz else records
    docs = read(tmp_path, *data, name="crawl.warc.gz" if gz else "crawl.warc")
    assert [(d.status, d.reason, d.url) for d in docs] == [
        (Status.OK, None, "http://example.com/1"),
        (Status.REJECTED, "corrupt_archive", "http://example.com/2"),
        (Status.OK, None, "http://example.com/3"),
    ]
    rejected = docs[1]
    assert rejected.id == f"urn:uuid:{record_id}"
    assert rejected.detail is not None and rejected.detail.startswith(
        f"Content-Length {len(block) - cut} is too short"
    )
    assert rejected.raw.startswith("<!DOCTYPE html>")  # the page's start: raw_prefix shows which page


def test_a_short_content_length_that_leaves_only_whitespace_loses_nothing(tmp_path: Path) -> None:
    block = http(page(2).encode())
    docs = read(
        tmp_path,
        record(block, uri="http://example.com/2", length=str(len(block) - 1)),  # its last "\n"
        record(http(page(3).encode()), uri="http://example.com/3"),
    )
    assert [(d.status, d.raw) for d in docs] == [(Status.OK, page(2)[:-1]), (Status.OK, page(3))]


def test_bytes_between_records_are_a_reject_saying_where_they_are(tmp_path: Path) -> None:
    record_id = str(uuid.uuid4())
    first = record(http(page(1).encode()), uri="http://example.com/1", record_id=record_id)
    junk = b"garbage the crawler wrote between records\r\nmore of it\r\n"
    docs = read(tmp_path, first, junk, record(http(page(2).encode()), uri="http://example.com/2"))
    assert [(d.status, d.reason) for d in docs] == [
        (Status.OK, None),  # its block ended as a WARC record's does: it is whole
        (Status.REJECTED, "corrupt_archive"),
        (Status.OK, None),
    ]
    stray = docs[1]
    assert stray.source == f"{tmp_path / 'crawl.warc'}:{len(first)}"
    assert stray.detail == (
        f"{len(junk)} bytes at offset {len(first)} after the record urn:uuid:{record_id} "
        "http://example.com/1 start no record (a wrong Content-Length?); read on at the next record"
    )
    assert stray.raw == junk.decode()
    assert stray.url == "http://example.com/1"


def test_the_rest_of_a_non_document_record_is_a_reject_naming_that_record(tmp_path: Path) -> None:
    request_id = str(uuid.uuid4())
    request = b"GET /1 HTTP/1.1\r\nHost: example.com\r\nUser-Agent: crawler\r\n\r\n"
    short = record(
        request, uri="http://example.com/1", warc_type="request", length="16", record_id=request_id
    )
    docs = read(tmp_path, short, record(http(page(1).encode()), uri="http://example.com/1"))
    assert [(d.status, d.reason, d.url) for d in docs] == [
        (Status.REJECTED, "corrupt_archive", "http://example.com/1"),
        (Status.OK, None, "http://example.com/1"),
    ]
    assert f"after the record urn:uuid:{request_id} http://example.com/1 start no record" in (
        docs[0].detail or ""
    )
    assert docs[0].raw.startswith("Host: example.com")


def test_a_run_counts_a_cut_record_once(tmp_path: Path) -> None:
    block = http(page(2).encode())
    first = record(http(page(1).encode()), uri="http://example.com/1")
    (tmp_path / "crawl.warc").write_bytes(
        first
        + record(block, uri="http://example.com/2", length="700")
        + record(http(page(3).encode()), uri="http://example.com/3")
    )
    out = tmp_path / "out"
    res = CliRunner().invoke(cli, ["run", str(tmp_path / "crawl.warc"), "-o", str(out), "-w", "1"])
    assert res.exit_code == 0, res.output
    counts = json.loads((out / "_cleanwire" / "manifest.json").read_text())["counts"]
    assert (counts["n_in"], counts["n_kept"], counts["rejected"]) == (3, 2, {"read/corrupt_archive": 1})
    with gzip.open(out / "_cleanwire" / "rejects.jsonl.gz", "rt") as f:
        (row,) = [json.loads(line) for line in f]
    assert (row["url"], row["source"]) == ("http://example.com/2", f"{tmp_path / 'crawl.warc'}:{len(first)}")
