"""A WARC cut off anywhere: the records before the cut are read whole, the cut one becomes one
``read/truncated`` reject (with its id and URL where its header gave them), and nothing vanishes.

warcio hands out a record the file cuts short as if it were whole, and takes a record whose file
ends in its WARC header for the end of the archive: a plain ``.warc`` lost its last record, or
kept a piece of it as the page.
"""

from __future__ import annotations

import gzip
import hashlib
import io
import json
from collections.abc import Callable
from pathlib import Path

import pytest
from click.testing import CliRunner
from warcio.archiveiterator import ArchiveIterator
from warcio.statusandheaders import StatusAndHeaders
from warcio.warcwriter import WARCWriter

from pipeline.cli import cli
from pipeline.core.record import Doc, Status
from pipeline.io.readers import Source

URLS = [f"http://a/{i}" for i in range(1, 8)]


def page(i: int) -> str:
    words = " ".join(hashlib.sha256(f"{i}-{n}".encode()).hexdigest()[:8] for n in range(100))
    return f"<html><body><p>Page {i} of the crawl: {words}</p></body></html>"  # ~950 characters


def crawl(gzip_records: bool) -> tuple[bytes, list[int], list[str]]:
    """A warcinfo record and seven HTML responses; where each record starts (and the file ends),
    and each record's id."""
    out = io.BytesIO()
    w = WARCWriter(out, gzip=gzip_records)
    w.write_record(w.create_warcinfo_record("ok.warc", {"software": "cleanwire tests"}))
    headers = StatusAndHeaders("200 OK", [("Content-Type", "text/html; charset=utf-8")], protocol="HTTP/1.1")
    for i, url in enumerate(URLS, 1):
        body = io.BytesIO(page(i).encode())
        w.write_record(w.create_warc_record(url, "response", payload=body, http_headers=headers))
    data = out.getvalue()
    starts, ids = [], []
    records = ArchiveIterator(io.BytesIO(data))
    for record in records:
        ids.append(str(record.rec_headers.get_header("WARC-Record-ID")).strip("<>"))
        starts.append(records.get_record_offset())
    return data, [*starts, len(data)], ids


def read_cut(tmp_path: Path, data: bytes, n: int, name: str = "cut.warc") -> list[Doc]:
    (tmp_path / name).write_bytes(data[:n])
    source = Source([tmp_path / name])
    return [doc for shard in source.shards() for doc in shard.docs(source.config)]


def assert_six_whole_pages(docs: list[Doc]) -> None:
    assert [(d.status, d.url) for d in docs[:6]] == [(Status.OK, url) for url in URLS[:6]]
    assert [d.raw for d in docs[:6]] == [page(i) for i in range(1, 7)]


DATA, STARTS, IDS = crawl(gzip_records=False)
LAST = STARTS[7]  # where the last response starts
BLOCK_END = STARTS[8] - 4  # its block ends; the two CRLFs after it end the record


def _at(marker: bytes, plus: int) -> int:
    return DATA.index(marker, LAST) + plus


# name: (where the file is cut, whether the reject keeps the record's id and URL)
CUTS: dict[str, tuple[Callable[[], int], bool]] = {
    "in its first line": (lambda: LAST + 5, False),
    "before its URI": (lambda: _at(b"WARC-Target-URI", 4), False),  # warcio fails on the URI-less header
    "after its URI": (lambda: _at(b"WARC-Date", 4), True),
    "in its Content-Length": (lambda: _at(b"Content-Length: ", 17), True),  # declares "9"
    "after its WARC header": (lambda: _at(b"\r\n\r\nHTTP/1.1", 4), True),
    "in its HTTP headers": (lambda: _at(b"Content-Type: text/html", 5), True),
    "in its payload": (lambda: _at(b"Page 7", 300), True),
    "one byte short": (lambda: BLOCK_END - 1, True),
}


@pytest.mark.parametrize("where", list(CUTS))
def test_a_warc_cut_inside_its_last_record_rejects_that_record_as_truncated(
    tmp_path: Path, where: str
) -> None:
    cut, keeps_id = CUTS[where]
    docs = read_cut(tmp_path, DATA, cut())
    assert len(docs) == 7
    assert_six_whole_pages(docs)
    bad = docs[6]
    assert (bad.status, bad.stage, bad.reason) == (Status.REJECTED, "read", "truncated")
    assert "Error" not in (bad.detail or "")  # no exception of warcio's in the detail
    if keeps_id:
        assert bad.id == IDS[7] and (bad.detail or "").endswith("(http://a/7)")


@pytest.mark.parametrize(
    "cut", [LAST, BLOCK_END, BLOCK_END + 2, len(DATA)], ids=["start", "block", "crlf", "eof"]
)
def test_a_warc_cut_at_a_record_boundary_reads_every_record_whole(tmp_path: Path, cut: int) -> None:
    docs = read_cut(tmp_path, DATA, cut)
    assert_six_whole_pages(docs)
    assert [(d.status, d.url, d.raw) for d in docs[6:]] == (
        [] if cut == LAST else [(Status.OK, URLS[6], page(7))]
    )


def test_a_warc_cut_at_any_byte_loses_no_record(tmp_path: Path) -> None:
    for n in range(LAST + 1, BLOCK_END):
        docs = read_cut(tmp_path, DATA, n)
        assert [(d.status, d.reason) for d in docs] == [(Status.OK, None)] * 6 + [
            (Status.REJECTED, "truncated")
        ], n
    for n in range(1, STARTS[1] - 4):  # in the warcinfo record: the file holds no page, and says it is cut
        assert [(d.status, d.reason) for d in read_cut(tmp_path, DATA, n)] == [
            (Status.REJECTED, "truncated")
        ], n


def test_a_warc_gz_cut_inside_its_last_member_keeps_the_record_before(tmp_path: Path) -> None:
    # warcio's look at the next record's first line came before the record was handed out: a cut
    # in the first bytes of a member lost the whole record before it, unreported.
    data, starts, _ = crawl(gzip_records=True)
    for n in range(starts[7] + 1, starts[8]):
        docs = read_cut(tmp_path, data, n, "cut.warc.gz")
        assert_six_whole_pages(docs)
        rejects = [(d.stage, d.reason) for d in docs if not d.ok]
        assert rejects == [("read", "truncated")], n


def test_a_warc_gz_cut_in_a_payload_rejects_that_record_by_its_id(tmp_path: Path) -> None:
    out = io.BytesIO()
    w = WARCWriter(out, gzip=True)
    headers = StatusAndHeaders("200 OK", [("Content-Type", "text/html")], protocol="HTTP/1.1")
    for i in range(2):  # pages of hex words: the compressed payload is long, the cut far inside it
        body = io.BytesIO("".join(page(i * 100 + n) for n in range(40)).encode())
        w.write_record(w.create_warc_record(URLS[i], "response", payload=body, http_headers=headers))
    data = out.getvalue()
    docs = read_cut(tmp_path, data, len(data) * 3 // 4, "cut.warc.gz")
    assert [(d.status, d.reason) for d in docs] == [(Status.OK, None), (Status.REJECTED, "truncated")]
    (record,) = [
        r for r in ArchiveIterator(io.BytesIO(data)) if r.rec_headers.get_header("WARC-Target-URI") == URLS[1]
    ]
    assert docs[1].id == str(record.rec_headers.get_header("WARC-Record-ID")).strip("<>")
    assert (docs[1].detail or "").endswith(f"({URLS[1]})")


@pytest.mark.parametrize("where", ["before its URI", "after its URI", "in its payload"])
def test_a_run_over_a_cut_warc_accounts_for_the_cut_record(tmp_path: Path, where: str) -> None:
    (tmp_path / "cut.warc").write_bytes(DATA[: CUTS[where][0]()])
    out = tmp_path / "out"
    res = CliRunner().invoke(
        cli, ["run", str(tmp_path / "cut.warc"), "-o", str(out), "--overwrite", "-w", "1"]
    )
    assert res.exit_code == 0, res.output
    counts = json.loads((out / "_cleanwire" / "manifest.json").read_text())["counts"]
    assert (counts["n_in"], counts["n_rejected"], counts["rejected"]) == (7, 1, {"read/truncated": 1})
    assert counts["n_in"] == counts["n_kept"] + counts["n_dropped"] + counts["n_rejected"]
    with gzip.open(out / "_cleanwire" / "rejects.jsonl.gz", "rt") as fh:
        (reject,) = [json.loads(line) for line in fh]
    assert (reject["stage"], reject["reason"]) == ("read", "truncated")
    assert "Error" not in reject["detail"]
