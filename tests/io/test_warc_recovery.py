"""WARC records as home-made crawlers write them: a ``response`` block of bare HTML (no HTTP status
line or headers), a record header whose ``Content-Length`` is not a number, or missing, or short.

warcio takes any first line of a ``response`` block under an ``http(s):`` URI for an HTTP status
line: a page stored without its HTTP header lost its lines up to the first blank one as "headers"
and came out an empty page. A ``Content-Length: abc`` made warcio read a block of 0 bytes and then
the block's lines as the next record's header: the rest of the file was one ``corrupt_archive``
reject, every later record lost. Now that record is the reject, and reading goes on at the next
line that starts a record. A record without a ``Content-Length`` took the rest of the file for its
block (every later record vanished without a trace): now it is the reject (the file's last one is
read to the end of the file, as before), and reading goes on the same way. A numeric
``Content-Length`` too short made warcio take a line of the page for the next record's header (or
an ARC record's: phantom records): the bytes up to the next record are one reject. A ``.warc.gz``
is decompressed (every member) before warcio reads it, so it is read on the same way.
"""

from __future__ import annotations

import gzip
import hashlib
import json
import re
import uuid
from pathlib import Path

import pytest
from click.testing import CliRunner

from pipeline.cli import cli
from pipeline.core.record import Doc, Status
from pipeline.io.readers import Source

PAGE = (
    "<!DOCTYPE html>\n<html>\n<head>\n<title>Ferry route to reopen</title>\n</head>\n<body>\n<article>\n"
    + "".join(
        f"<p>Paragraph {i}: the harbour authority confirmed the route reopens next month.</p>\n"
        for i in range(30)
    )
    + "</article>\n</body>\n</html>\n"
)
HTTP_MESSAGE = "application/http; msgtype=response"


def http(body: bytes, status_line: str = "HTTP/1.1 200 OK") -> bytes:
    return f"{status_line}\r\nContent-Type: text/html; charset=utf-8\r\n\r\n".encode() + body


def record(
    block: bytes,
    uri: str = "http://example.com/a",
    content_type: str | None = HTTP_MESSAGE,
    length: str | None = None,
    warc_type: str = "response",
    record_id: str | None = None,
) -> bytes:
    """One WARC record, written by hand: warcio's writer always writes the HTTP header it is given
    and a true ``Content-Length``."""
    lines = [
        "WARC/1.0",
        f"WARC-Type: {warc_type}",
        f"WARC-Record-ID: <urn:uuid:{record_id or uuid.uuid4()}>",
        f"WARC-Target-URI: {uri}",
    ]
    lines += [f"Content-Type: {content_type}"] if content_type is not None else []
    lines += [f"Content-Length: {len(block) if length is None else length}"]
    return ("\r\n".join(lines) + "\r\n\r\n").encode() + block + b"\r\n\r\n"


def read(tmp_path: Path, *records: bytes, name: str = "crawl.warc") -> list[Doc]:
    (tmp_path / name).write_bytes(b"".join(records))
    source = Source([tmp_path / name])
    return [doc for shard in source.shards() for doc in shard.docs(source.config)]


def page(n: int) -> str:
    """A page of its own words: pages that differ in a word or two are near duplicates in a run."""
    words = " ".join(hashlib.sha256(f"{n}-{i}".encode()).hexdigest()[:8] for i in range(100))
    return PAGE.replace("Ferry route", f"Route {n}").replace("</article>", f"<p>{words}</p>\n</article>")


# --- a response block without an HTTP header --------------------------------------------------


@pytest.mark.parametrize(
    "content_type", ["text/html; charset=utf-8", "text/html", HTTP_MESSAGE, None], ids=str
)
@pytest.mark.parametrize("uri", ["http://example.com/a", "https://example.com/a"])
def test_a_response_block_of_bare_html_is_the_page(
    tmp_path: Path, content_type: str | None, uri: str
) -> None:
    (doc,) = read(tmp_path, record(PAGE.encode(), uri=uri, content_type=content_type))
    assert (doc.status, doc.format, doc.url) == (Status.OK, "html", uri)
    assert doc.raw == PAGE


def test_bare_and_http_response_blocks_side_by_side_are_each_read_whole(tmp_path: Path) -> None:
    docs = read(
        tmp_path,
        record(page(1).encode(), uri="http://example.com/1", content_type="text/html"),
        record(http(page(2).encode()), uri="http://example.com/2"),
        record(http(page(3).encode(), "HTTP/2 200"), uri="http://example.com/3"),
        record(http(page(4).encode(), "HTTP/1.0 200"), uri="http://example.com/4"),  # no reason phrase
        record(page(5).encode(), uri="http://example.com/5"),
        record(http(b"<html>gone</html>", "HTTP/2 404"), uri="http://example.com/6"),
        # a page typed text/html by its record that holds an HTTP message after all: the message
        record(http(page(7).encode()), uri="http://example.com/7", content_type="text/html"),
    )
    assert [(d.status, d.reason) for d in docs] == [(Status.OK, None)] * 5 + [
        (Status.DROPPED, "http_status"),
        (Status.OK, None),
    ]
    assert [d.raw for d in docs if d.ok] == [page(n) for n in (1, 2, 3, 4, 5, 7)]


def test_a_bare_page_is_decoded_with_the_charset_of_its_records_content_type(tmp_path: Path) -> None:
    text = PAGE.replace("Ferry route to reopen", "Паром снова ходит")
    (doc,) = read(
        tmp_path, record(text.encode("windows-1251"), content_type="text/html; charset=windows-1251")
    )
    assert (doc.status, doc.encoding, doc.raw) == (Status.OK, "cp1251", text)


def test_a_bare_page_on_one_long_line_is_read_whole(tmp_path: Path) -> None:
    minified = (
        "<html><body>" + "<p>The harbour authority confirmed the route reopens.</p>" * 400 + "</body></html>"
    )
    docs = read(tmp_path, record(minified.encode()), record(page(2).encode(), uri="http://example.com/2"))
    assert [(d.status, d.raw) for d in docs] == [(Status.OK, minified), (Status.OK, page(2))]


def test_a_bare_page_the_file_cuts_short_is_a_truncated_reject(tmp_path: Path) -> None:
    whole = record(page(1).encode(), uri="http://example.com/1") + record(page(2).encode())
    docs = read(tmp_path, whole[: len(whole) - 200])
    assert [(d.status, d.reason) for d in docs] == [(Status.OK, None), (Status.REJECTED, "truncated")]
    assert docs[0].raw == page(1)


# --- a Content-Length that is not a number ----------------------------------------------------


def three_records(bad_length: str, record_id: str) -> list[bytes]:
    return [
        record(http(page(1).encode()), uri="http://example.com/1"),
        record(http(page(2).encode()), uri="http://example.com/2", length=bad_length, record_id=record_id),
        record(http(page(3).encode()), uri="http://example.com/3"),
    ]


@pytest.mark.parametrize("per_record_gzip", [False, True], ids=["warc", "warc.gz"])
@pytest.mark.parametrize("bad_length", ["abc", "-5", "12abc", ""])
def test_a_record_whose_content_length_is_not_a_number_is_rejected_and_the_next_ones_are_read(
    tmp_path: Path, bad_length: str, per_record_gzip: bool
) -> None:
    record_id = str(uuid.uuid4())
    records = three_records(bad_length, record_id)
    if per_record_gzip:  # each record a gzip member of its own, as WARC writers do
        docs = read(tmp_path, *[gzip.compress(r) for r in records], name="crawl.warc.gz")
    else:
        docs = read(tmp_path, *records)
    assert [(d.status, d.stage, d.reason) for d in docs] == [
        (Status.OK, None, None),
        (Status.REJECTED, "read", "corrupt_archive"),
        (Status.OK, None, None),
    ]
    assert [d.raw for d in docs[::2]] == [page(1), page(3)]
    bad = docs[1]
    assert (bad.id, bad.url) == (f"urn:uuid:{record_id}", "http://example.com/2")
    assert "Content-Length" in (bad.detail or "") and (bad.detail or "").endswith("(http://example.com/2)")


def test_reading_goes_on_only_at_a_line_that_starts_a_record(tmp_path: Path) -> None:
    """The unreadable record's block holds ``WARC/1.0`` inside a line (a line longer than the piece
    looked at at a time, too) and a look-alike ``WARC/1.0x`` line: none of them is a record's start."""
    block = http(
        b"<p>WARC/1.0</p>\r\n" + b"x" * 4096 + b"WARC/1.0\r\nWARC/1.0x\r\nWARC-Type: response\r\n\r\n"
    )
    docs = read(
        tmp_path,
        record(block, uri="http://example.com/bad", length="abc"),
        record(http(page(2).encode()), uri="http://example.com/2"),
    )
    assert [(d.status, d.reason, d.url) for d in docs] == [
        (Status.REJECTED, "corrupt_archive", "http://example.com/bad"),
        (Status.OK, None, "http://example.com/2"),
    ]


def test_a_last_record_or_a_non_document_record_with_a_bad_length_loses_nothing_else(tmp_path: Path) -> None:
    warcinfo = record(
        b"software: home-made\r\n", uri="", content_type="application/warc-fields", warc_type="warcinfo"
    )
    docs = read(
        tmp_path,
        warcinfo.replace(b"Content-Length: 21", b"Content-Length: many"),
        record(http(page(1).encode()), uri="http://example.com/1"),
        record(b"GET / HTTP/1.1\r\n\r\n", uri="http://example.com/2", warc_type="request", length="x"),
        record(http(page(2).encode()), uri="http://example.com/2"),
        record(http(page(3).encode()), uri="http://example.com/3", length="abc"),
    )
    # a warcinfo or request record is no document of the dump: skipped without a trace, as whole ones
    assert [(d.status, d.reason, d.url) for d in docs] == [
        (Status.OK, None, "http://example.com/1"),
        (Status.OK, None, "http://example.com/2"),
        (Status.REJECTED, "corrupt_archive", "http://example.com/3"),
    ]


def test_a_run_over_a_warc_with_a_bad_content_length_accounts_for_every_record(tmp_path: Path) -> None:
    (tmp_path / "crawl.warc").write_bytes(b"".join(three_records("abc", str(uuid.uuid4()))))
    out = tmp_path / "out"
    res = CliRunner().invoke(cli, ["run", str(tmp_path / "crawl.warc"), "-o", str(out), "-w", "1"])
    assert res.exit_code == 0, res.output
    counts = json.loads((out / "_cleanwire" / "manifest.json").read_text())["counts"]
    assert (counts["n_in"], counts["n_kept"], counts["rejected"]) == (3, 2, {"read/corrupt_archive": 1})
    assert counts["n_in"] == counts["n_kept"] + counts["n_dropped"] + counts["n_rejected"]


# --- no Content-Length at all -----------------------------------------------------------------


def without_length(rec: bytes) -> bytes:
    """The record with no ``Content-Length`` line in its header."""
    out, n = re.subn(rb"Content-Length: [^\r]*\r\n", b"", rec, count=1)
    assert n == 1
    return out


def as_file(records: list[bytes], per_record_gzip: bool) -> tuple[list[bytes], str]:
    if per_record_gzip:  # each record a gzip member of its own, as WARC writers do
        return [gzip.compress(r) for r in records], "crawl.warc.gz"
    return records, "crawl.warc"


@pytest.mark.parametrize("per_record_gzip", [False, True], ids=["warc", "warc.gz"])
@pytest.mark.parametrize("warc_type", ["response", "resource"])
def test_a_record_without_content_length_is_rejected_and_the_next_ones_are_read(
    tmp_path: Path, warc_type: str, per_record_gzip: bool
) -> None:
    record_id = str(uuid.uuid4())
    block = http(page(2).encode()) if warc_type == "response" else page(2).encode()
    content_type = HTTP_MESSAGE if warc_type == "response" else "text/html"
    records, name = as_file(
        [
            record(http(page(1).encode()), uri="http://example.com/1"),
            without_length(
                record(
                    block,
                    uri="http://example.com/2",
                    warc_type=warc_type,
                    content_type=content_type,
                    record_id=record_id,
                )
            ),
            record(http(page(3).encode()), uri="http://example.com/3"),
            record(http(page(4).encode()), uri="http://example.com/4"),
        ],
        per_record_gzip,
    )
    docs = read(tmp_path, *records, name=name)
    assert [(d.status, d.stage, d.reason) for d in docs] == [
        (Status.OK, None, None),
        (Status.REJECTED, "read", "corrupt_archive"),
        (Status.OK, None, None),
        (Status.OK, None, None),
    ]
    assert [d.raw for d in docs if d.ok] == [page(1), page(3), page(4)]
    bad = docs[1]
    assert (bad.id, bad.url) == (f"urn:uuid:{record_id}", "http://example.com/2")
    assert bad.detail == "no Content-Length; read on at the next record (http://example.com/2)"


def test_records_without_content_length_one_after_another_are_each_rejected(tmp_path: Path) -> None:
    docs = read(
        tmp_path,
        without_length(record(http(page(1).encode()), uri="http://example.com/1")),
        without_length(record(b"", uri="http://example.com/2")),  # an empty block
        without_length(record(http(page(3).encode()), uri="http://example.com/3")),
        record(http(page(4).encode()), uri="http://example.com/4"),
    )
    assert [(d.status, d.reason, d.url) for d in docs] == [
        (Status.REJECTED, "corrupt_archive", "http://example.com/1"),
        (Status.REJECTED, "corrupt_archive", "http://example.com/2"),
        (Status.REJECTED, "corrupt_archive", "http://example.com/3"),
        (Status.OK, None, "http://example.com/4"),
    ]


def test_a_non_document_record_without_content_length_is_skipped_and_loses_nothing(tmp_path: Path) -> None:
    warcinfo = record(
        b"software: home-made\r\n", uri="", content_type="application/warc-fields", warc_type="warcinfo"
    )
    # a request whose HTTP header has no blank line to end it: parsed, it ran on into the next record
    request = record(b"GET / HTTP/1.1\r\nHost: example.com", uri="http://example.com/1", warc_type="request")
    docs = read(
        tmp_path,
        without_length(warcinfo),
        record(http(page(1).encode()), uri="http://example.com/1"),
        without_length(request),
        record(http(page(2).encode()), uri="http://example.com/2"),
    )
    # a warcinfo or request record is no document of the dump: skipped without a trace, as whole ones
    assert [(d.status, d.reason, d.url) for d in docs] == [
        (Status.OK, None, "http://example.com/1"),
        (Status.OK, None, "http://example.com/2"),
    ]
    assert [d.raw for d in docs] == [page(1), page(2)]


@pytest.mark.parametrize("size", ["small", "large"])
def test_the_last_record_without_content_length_is_read_to_the_end_of_the_file(
    tmp_path: Path, size: str
) -> None:
    """No record follows it: its block is the rest of the file, as warcio read it (that the file
    ends in its header is a ``truncated`` reject: test_warc_truncation)."""
    last = page(2) if size == "small" else page(2).replace("</article>", "<p>more words</p>\n" * 20000)
    docs = read(
        tmp_path,
        record(http(page(1).encode()), uri="http://example.com/1"),
        without_length(record(http(last.encode()), uri="http://example.com/2")),
    )
    assert [(d.status, d.url) for d in docs] == [
        (Status.OK, "http://example.com/1"),
        (Status.OK, "http://example.com/2"),
    ]
    assert docs[1].raw.rstrip() == last.rstrip()  # with the record's two closing CRLFs


# --- a Content-Length too short ---------------------------------------------------------------


@pytest.mark.parametrize("per_record_gzip", [False, True], ids=["warc", "warc.gz"])
@pytest.mark.parametrize("short", [10, 500])
def test_a_record_whose_content_length_is_too_short_is_one_reject_and_the_next_records_are_read(
    tmp_path: Path, short: int, per_record_gzip: bool
) -> None:
    """warcio took the rest of the short record's page for the next record's header: as a WARC
    one, the rest of the file was one reject; a page's line with four spaces made an "ARC record",
    dropped ``not_html`` under a URL of words (phantom records). Then the cut page was kept as if
    whole, and the rest of it was a reject of its own: now the record is the reject, with its id
    and URL, the bytes its length left with it."""
    records, name = as_file(
        [
            record(http(page(1).encode()), uri="http://example.com/1"),
            record(http(page(2).encode()), uri="http://example.com/2", length=str(short)),
            record(http(page(3).encode()), uri="http://example.com/3"),
            record(http(page(4).encode()), uri="http://example.com/4"),
        ],
        per_record_gzip,
    )
    docs = read(tmp_path, *records, name=name)
    assert [(d.status, d.reason, d.url) for d in docs] == [
        (Status.OK, None, "http://example.com/1"),
        (Status.REJECTED, "corrupt_archive", "http://example.com/2"),  # not a cut page kept as whole
        (Status.OK, None, "http://example.com/3"),
        (Status.OK, None, "http://example.com/4"),
    ]
    assert [d.raw for d in docs[2:]] == [page(3), page(4)]
    block = len(http(page(2).encode()))
    assert docs[1].detail == (
        f"Content-Length {short} is too short: {block - short + 4} bytes that start no record follow "
        "its block (the rest of it: its page would be cut); read on at the next record (http://example.com/2)"
    )
    assert docs[1].id.count("-") == 4  # the WARC-Record-ID (a uuid)


def test_a_run_over_a_warc_with_missing_and_short_content_lengths_accounts_for_every_record(
    tmp_path: Path,
) -> None:
    (tmp_path / "crawl.warc").write_bytes(
        b"".join(
            [
                record(http(page(1).encode()), uri="http://example.com/1"),
                without_length(record(http(page(2).encode()), uri="http://example.com/2")),
                record(http(page(3).encode()), uri="http://example.com/3"),
                record(http(page(4).encode()), uri="http://example.com/4", length="500"),
                record(http(page(5).encode()), uri="http://example.com/5"),
            ]
        )
    )
    out = tmp_path / "out"
    res = CliRunner().invoke(cli, ["run", str(tmp_path / "crawl.warc"), "-o", str(out), "-w", "1"])
    assert res.exit_code == 0, res.output
    counts = json.loads((out / "_cleanwire" / "manifest.json").read_text())["counts"]
    # five records: the one without a length and the one whose length is short are the rejects
    assert (counts["n_in"], counts["rejected"]) == (5, {"read/corrupt_archive": 2})
    assert counts["n_in"] == counts["n_kept"] + counts["n_dropped"] + counts["n_rejected"]


@pytest.mark.parametrize("spelling", ["+{}", "{} "], ids=["plus", "space"])
def test_a_content_length_warcio_reads_as_a_number_is_one(tmp_path: Path, spelling: str) -> None:
    """``+1234`` is a number to warcio (``int``): the record is read, not rejected."""
    block = http(page(2).encode())
    docs = read(tmp_path, record(block, uri="http://example.com/2", length=spelling.format(len(block))))
    assert [(d.status, d.raw) for d in docs] == [(Status.OK, page(2))]
