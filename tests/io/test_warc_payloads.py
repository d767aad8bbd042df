"""WARC response payloads as crawlers store them: transfer and content codings in any spelling,
codings that cannot be undone, damaged or cut compressed bodies, records without a usable
``WARC-Target-URI``, untyped PDFs.

warcio's ``content_stream`` knows only ``chunked``, ``gzip`` and ``deflate`` spelled in lower case:
``Transfer-Encoding: Chunked`` left the chunk sizes in the article, an ``x-gzip``/``zstd``/``br``
body was decoded as text (garbage kept as a document, or ``undecodable``), a gzip body cut short
was kept cut, silently. A response record without a ``WARC-Target-URI`` made warcio raise, which
ended the file: every record after it was lost in one ``corrupt_archive`` reject.
"""

from __future__ import annotations

import gzip
import io
import random
import uuid
import zlib
from pathlib import Path

import pytest
import zstandard

from pipeline.core.config import ReaderConfig
from pipeline.core.record import Doc
from pipeline.io.formats.httpbody import CutPayload, http_body
from pipeline.io.readers import Source

ARTICLE = (
    "<html><head><title>Ferry route to reopen</title></head><body><article><h1>Ferry route to reopen</h1>"
    + "".join(
        f"<p>Paragraph {i}: the harbour authority confirmed the route reopens next month.</p>"
        for i in range(40)
    )
    + "</article></body></html>"
).encode()


def http(body: bytes, *headers: tuple[str, str], status: str = "200 OK") -> bytes:
    head = f"HTTP/1.1 {status}\r\n" + "".join(f"{k}: {v}\r\n" for k, v in headers) + "\r\n"
    return head.encode("latin-1") + body


def record(block: bytes, uri: str | None = "http://example.com/a", warc_type: str = "response") -> bytes:
    """One WARC record, written by hand: warcio's writer cannot leave out the target URI."""
    lines = ["WARC/1.0", f"WARC-Type: {warc_type}", f"WARC-Record-ID: <urn:uuid:{uuid.uuid4()}>"]
    lines += [f"WARC-Target-URI: {uri}"] if uri is not None else []
    lines += ["Content-Type: application/http; msgtype=response", f"Content-Length: {len(block)}"]
    return ("\r\n".join(lines) + "\r\n\r\n").encode() + block + b"\r\n\r\n"


def chunked(data: bytes, size: int = 100) -> bytes:
    pieces = [
        f"{len(data[i : i + size]):x}\r\n".encode() + data[i : i + size] + b"\r\n"
        for i in range(0, len(data), size)
    ]
    return b"".join(pieces) + b"0\r\n\r\n"


def raw_deflate(data: bytes) -> bytes:
    c = zlib.compressobj(9, zlib.DEFLATED, -zlib.MAX_WBITS)
    return c.compress(data) + c.flush()


def read(tmp_path: Path, *records: bytes, config: ReaderConfig | None = None) -> list[Doc]:
    (tmp_path / "crawl.warc").write_bytes(b"".join(records))
    source = Source([tmp_path / "crawl.warc"], config)
    return [doc for shard in source.shards() for doc in shard.docs(source.config)]


HTML = ("Content-Type", "text/html; charset=utf-8")


@pytest.mark.parametrize(
    ("headers", "body"),
    [
        ([HTML, ("Transfer-Encoding", "Chunked")], chunked(ARTICLE)),
        ([HTML, ("Transfer-Encoding", "chunked")], chunked(ARTICLE)),
        (
            [HTML, ("Content-Encoding", "GZIP"), ("Transfer-Encoding", "CHUNKED")],
            chunked(gzip.compress(ARTICLE)),
        ),
        ([HTML, ("Content-Encoding", "x-gzip")], gzip.compress(ARTICLE)),
        ([HTML, ("Content-Encoding", "gzip, identity")], gzip.compress(ARTICLE)),
        ([HTML, ("Content-Encoding", "zstd")], zstandard.ZstdCompressor().compress(ARTICLE)),
        ([HTML, ("Content-Encoding", "deflate")], zlib.compress(ARTICLE)),
        ([HTML, ("Content-Encoding", "deflate")], raw_deflate(ARTICLE)),
        ([HTML, ("Content-Encoding", "gzip")], ARTICLE),  # stored decoded, header kept
        ([HTML, ("Content-Encoding", "br")], ARTICLE),  # the same
        ([HTML, ("Transfer-Encoding", "chunked")], ARTICLE),  # stored de-chunked
    ],
)
def test_transfer_and_content_codings_are_undone_whatever_their_spelling(
    tmp_path: Path, headers: list[tuple[str, str]], body: bytes
) -> None:
    (doc,) = read(tmp_path, record(http(body, *headers)))
    assert doc.ok and doc.raw == ARTICLE.decode()


def test_a_payload_whose_coding_cannot_be_undone_is_its_records_reject(tmp_path: Path) -> None:
    noise = bytes(random.Random(7).randrange(256) for _ in range(2000))  # what brotli bytes look like
    damaged = bytearray(gzip.compress(ARTICLE))
    damaged[30:60] = b"\xff" * 30
    whole = gzip.compress(ARTICLE)
    docs = read(
        tmp_path,
        record(http(noise, HTML, ("Content-Encoding", "br"))),
        record(http(bytes(damaged), HTML, ("Content-Encoding", "gzip"))),
        record(http(whole[: len(whole) // 2], HTML, ("Content-Encoding", "gzip"))),
        record(http(noise, ("Content-Type", "image/png"), ("Content-Encoding", "br"))),
        record(http(ARTICLE, HTML), uri="http://example.com/last"),
    )
    assert [(d.status.value, d.reason) for d in docs] == [
        ("rejected", "unsupported_encoding"),
        ("rejected", "corrupt_compressed"),
        ("rejected", "truncated"),
        ("dropped", "not_html"),  # an image is not a document, decodable or not
        ("ok", None),
    ]
    assert "'br'" in (docs[0].detail or "") and "http://example.com/a" in (docs[0].detail or "")
    # a reject or drop keeps the record's URL in its own field, not only in the detail
    assert [d.url for d in docs] == ["http://example.com/a"] * 4 + ["http://example.com/last"]
    assert docs[4].raw == ARTICLE.decode()


def test_a_compressed_payload_comes_out_bounded() -> None:
    bomb = zstandard.ZstdCompressor().compress(b"\0" * 50_000_000)
    assert len(http_body(io.BytesIO(bomb), "zstd", None, 1000)) == 1001
    assert len(http_body(io.BytesIO(gzip.compress(b"\0" * 50_000_000)), "gzip", None, 1000)) == 1001
    with pytest.raises(CutPayload):
        http_body(io.BytesIO(zstandard.ZstdCompressor().compress(ARTICLE)[:-8]), "zstd", None, 10**6)


def test_a_response_without_a_usable_target_uri_keeps_its_page_and_the_rest_of_the_file(
    tmp_path: Path,
) -> None:
    docs = read(
        tmp_path,
        record(http(ARTICLE, HTML), uri=None),
        record(http(ARTICLE.replace(b"Ferry", b"Tram"), HTML), uri=""),
        record(http(ARTICLE.replace(b"Ferry", b"Bus"), HTML), uri="HTTPS://EXAMPLE.COM/Bus"),
        record(http(b"gone", HTML, status="404 Not Found"), uri="example.com/gone"),
        record(http(ARTICLE.replace(b"Ferry", b"Train"), HTML), uri="http://example.com/train"),
    )
    assert [(d.status.value, d.reason) for d in docs] == [("ok", None)] * 3 + [
        ("dropped", "http_status"),
        ("ok", None),
    ]
    assert [d.url for d in docs] == [
        None,
        None,
        "HTTPS://EXAMPLE.COM/Bus",
        "example.com/gone",
        "http://example.com/train",
    ]
    assert "Tram route" in docs[1].raw and "Bus route" in docs[2].raw and "Train route" in docs[4].raw


@pytest.mark.parametrize("headers", [[("Server", "x")], [HTML]])
def test_a_pdf_is_dropped_not_read_as_text_whatever_its_type_says(
    tmp_path: Path, headers: list[tuple[str, str]]
) -> None:
    pdf = b"%PDF-1.4\n%\xe2\xe3\xcf\xd3\n1 0 obj<</Type/Catalog>>endobj\ntrailer<<>>\n%%EOF\n"
    (doc,) = read(tmp_path, record(http(pdf, *headers)))
    assert (doc.status.value, doc.reason, doc.detail) == (
        "dropped",
        "not_html",
        "application/pdf http://example.com/a",
    )


def test_a_page_served_as_text_or_under_a_joined_content_type_is_read_as_html(tmp_path: Path) -> None:
    docs = read(
        tmp_path,
        record(http(ARTICLE, ("Content-Type", "text/plain; charset=utf-8"))),
        record(http(ARTICLE, ("Content-Type", "text/html,text/html; charset=utf-8"))),
        record(http(ARTICLE, ("Content-Type", "charset=utf-8"))),
        record(http(b"Plain words about the ferry, no markup.", ("Content-Type", "text/plain"))),
    )
    assert [(d.status.value, d.format, d.flags) for d in docs] == [
        ("ok", "html", ["html_in_text_field"]),
        ("ok", "html", []),
        ("ok", "html", []),
        ("ok", "text", []),
    ]


@pytest.mark.parametrize("label", ["utf-16", "UTF-16LE", "utf-16be"])
def test_a_bomless_utf16_page_labelled_so_by_its_http_header_is_read(tmp_path: Path, label: str) -> None:
    """WHATWG honours a UTF-16 label from the transport layer (only a page's own ``<meta>`` one is
    ignored): such a page was rejected as binary data (``undecodable``)."""
    text = ARTICLE.decode().replace("Ferry", "Fähre")
    body = text.encode("utf-16-be" if label.endswith("be") else "utf-16-le")
    mislabelled = text.encode()  # UTF-8 under the same label: read as what it is
    docs = read(
        tmp_path,
        record(http(body, ("Content-Type", f"text/html; charset={label}"))),
        record(http(mislabelled, ("Content-Type", f"text/html; charset={label}"))),
    )
    assert [(d.status.value, d.raw) for d in docs] == [("ok", text), ("ok", text)]
