"""An HTTP response body as a crawler stored it, back to the bytes the server meant.

A WARC ``response`` record holds the HTTP message as it came over the wire: its body may carry a
transfer coding (``chunked``) and content codings (``gzip``, ``deflate``, ``br``, ``zstd``...),
named by headers whose values are case-insensitive lists (RFC 9110 8.4, RFC 9112 6.1). warcio's
``content_stream`` only knows the exact lower-case ``chunked`` and ``gzip``/``deflate`` (``br``
when brotli is installed): ``Transfer-Encoding: Chunked`` left the chunk sizes in the text, an
``x-gzip``, ``zstd`` or ``br`` body was handed on compressed (and read as text: garbage kept as a
document), and a gzip body damaged or cut after its first block came out cut short, silently.

:func:`http_body` undoes them in the order they were applied, last first: the chunking, then
each content coding. A body that does not carry a coding's signature at all is taken as already
decoded (crawlers that store the decoded body but keep the header are common), as warcio does.
What cannot be undone is a :class:`PayloadError` whose ``reason`` is the reject reason:
``unsupported_encoding``, ``corrupt_compressed`` (damaged) or ``truncated`` (the compressed
stream ends early). Output is bounded: at most ``limit + 1`` bytes come out, so the caller sees
that a body is over its limit without decompressing a bomb.
"""

from __future__ import annotations

import zlib
from collections.abc import Callable
from typing import IO

import zstandard

GZIP_MAGIC = b"\x1f\x8b"
ZSTD_MAGIC = b"\x28\xb5\x2f\xfd"
#: Content codings that are no coding at all.
_IDENTITY = {"", "identity", "none"}
_GZIP = {"gzip", "x-gzip"}
#: Input fed to a decompressor at a time: zstd and deflate expand a few bytes into a lot, so the
#: output is checked against the limit after each small step.
_STEP = 2048


class PayloadError(ValueError):
    """A body whose coding cannot be undone; ``reason`` is the reject reason."""

    reason = "unreadable"


class UnsupportedEncoding(PayloadError):
    reason = "unsupported_encoding"


class DamagedPayload(PayloadError):
    reason = "corrupt_compressed"


class CutPayload(PayloadError):
    reason = "truncated"


def codings(value: str | None) -> list[str]:
    """The codings a ``Content-Encoding``/``Transfer-Encoding`` value names, in the order they
    were applied, lower-cased, without ``identity``."""
    names = (part.split(";", 1)[0].strip().lower() for part in (value or "").split(","))
    return [name for name in names if name not in _IDENTITY]


def looks_like_markup(body: bytes) -> bool:
    """Whether ``body`` starts as an HTML/XML document does (a BOM, then ``<`` after white space):
    a body that does so is not compressed, whatever its header says."""
    return body.lstrip(b"\xef\xbb\xbf\xff\xfe \t\r\n\x00")[:1] == b"<"


def _bounded(feed: Callable[[bytes], bytes], body: bytes, limit: int) -> bytes:
    """``feed`` over ``body`` in small steps, stopping once more than ``limit`` bytes came out."""
    out: list[bytes] = []
    size = 0
    for start in range(0, len(body), _STEP):
        piece = feed(body[start : start + _STEP])
        out.append(piece)
        size += len(piece)
        if size > limit:
            break
    return b"".join(out)[: limit + 1]


def _zlib(body: bytes, wbits: int, limit: int, name: str) -> bytes:
    """zlib/gzip/raw deflate (by ``wbits``); gzip members one after another."""
    out: list[bytes] = []
    size = 0
    rest = body
    while rest:
        obj = zlib.decompressobj(wbits)
        try:
            got = _bounded(obj.decompress, rest, limit - size)
        except zlib.error as exc:
            raise DamagedPayload(f"{name} body damaged after {size} bytes ({exc})") from exc
        out.append(got)
        size += len(got)
        if size > limit:
            break
        if not obj.eof:
            raise CutPayload(f"{name} body ends early after {size} bytes")
        rest = obj.unused_data if obj.unused_data.startswith(GZIP_MAGIC) and wbits > 15 else b""
    return b"".join(out)


def _gunzip(body: bytes, limit: int) -> bytes:
    if not body.startswith(GZIP_MAGIC):
        return body  # stored decoded
    return _zlib(body, 16 + zlib.MAX_WBITS, limit, "gzip")


def _inflate(body: bytes, limit: int) -> bytes:
    """``deflate``: zlib-wrapped as the RFC says, or raw deflate as some servers send it."""
    if len(body) >= 2 and body[0] & 0x0F == 8 and int.from_bytes(body[:2], "big") % 31 == 0:
        return _zlib(body, zlib.MAX_WBITS, limit, "deflate")
    if looks_like_markup(body):
        return body  # stored decoded
    return _zlib(body, -zlib.MAX_WBITS, limit, "deflate")


def _unzstd(body: bytes, limit: int) -> bytes:
    if not body.startswith(ZSTD_MAGIC):
        return body  # stored decoded
    obj = zstandard.ZstdDecompressor().decompressobj()
    try:
        got = _bounded(obj.decompress, body, limit)
    except zstandard.ZstdError as exc:
        raise DamagedPayload(f"zstd body damaged ({exc})") from exc
    if len(got) <= limit and not obj.eof:
        raise CutPayload(f"zstd body ends early after {len(got)} bytes")
    return got


_DECODERS: dict[str, Callable[[bytes, int], bytes]] = {
    **dict.fromkeys(_GZIP, _gunzip),
    "deflate": _inflate,
    "zstd": _unzstd,
}


def decode_content(body: bytes, coding: str, limit: int) -> bytes:
    """``body`` with one content coding undone (at most ``limit + 1`` bytes)."""
    decoder = _DECODERS.get(coding)
    if decoder is not None:
        return decoder(body, limit)
    if looks_like_markup(body):
        return body  # stored decoded
    raise UnsupportedEncoding(f"content coding {coding!r} is not supported")


def dechunked(raw: IO[bytes], transfer: list[str]) -> IO[bytes]:
    """``raw`` without its chunk framing when the last transfer coding is ``chunked``. warcio's
    reader, which takes a body that is not chunked after all (stored de-chunked, header kept) as
    it is."""
    if not transfer or transfer[-1] != "chunked":
        return raw
    from warcio.bufferedreaders import ChunkedDataReader

    reader: IO[bytes] = ChunkedDataReader(raw)
    return reader


def http_body(
    raw: IO[bytes], content_encoding: str | None, transfer_encoding: str | None, limit: int
) -> bytes:
    """The body of an HTTP message read from ``raw`` (the bytes after its header), its transfer and
    content codings undone; at most ``limit + 1`` bytes. Raises :class:`PayloadError`."""
    transfer = codings(transfer_encoding)
    body = dechunked(raw, transfer).read(limit + 1)
    layers = codings(content_encoding) + [c for c in transfer if c != "chunked"]
    for coding in reversed(layers):
        body = decode_content(body, coding, limit)
    return body
