"""Opening inputs: compression detected by magic bytes (not only by extension), and bounded.

:func:`open_input` returns a buffered binary stream of the *decompressed* bytes of a file or of
stdin (``-``). gzip (also multi-member), zstd and bzip2 are recognised by their first bytes, so
``dump.jsonl`` that is really gzip is read, and ``notes.gz`` that is really plain text too.

Failures while reading become :class:`InputDataError` subclasses carrying a reject ``reason``:
the reader that sees one rejects what it could not read and keeps what it read before.

* :class:`DecompressionLimit` - more than ``reader.max_decompressed_bytes`` came out of a
  compressed input (a bomb, or a limit set too low);
* :class:`Truncated` - the compressed stream ends before its end-of-stream marker;
* :class:`CorruptInput` - the compressed bytes are damaged.
"""

from __future__ import annotations

import bz2
import fcntl
import io
import os
import stat
import sys
import zlib
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO, Any

import zstandard

STDIN = "-"
GZIP_MAGIC = b"\x1f\x8b"
ZSTD_MAGIC = b"\x28\xb5\x2f\xfd"
BZIP2_MAGIC = b"BZh"
#: Suffixes that name a compression; the suffix before them names the format.
COMPRESSION_SUFFIXES = {".gz": "gzip", ".gzip": "gzip", ".zst": "zstd", ".zstd": "zstd", ".bz2": "bzip2"}
_CHUNK = 1 << 16
#: zstd can expand 4 bytes into a 128 KiB block: small input steps bound each burst (~64 MiB).
_ZSTD_IN_CHUNK = 2048


class InputDataError(Exception):
    """Bytes of an input that cannot be read further; ``reason`` is the reject reason."""

    reason = "unreadable"


class DecompressionLimit(InputDataError):
    reason = "decompression_limit"


class Truncated(InputDataError):
    reason = "truncated"


class CorruptInput(InputDataError):
    reason = "corrupt_compressed"


def sniff_compression(head: bytes) -> str | None:
    """``gzip``/``zstd``/``bzip2`` from the first bytes of a stream, else None."""
    if head.startswith(GZIP_MAGIC):
        return "gzip"
    if head.startswith(ZSTD_MAGIC):
        return "zstd"
    if head.startswith(BZIP2_MAGIC) and len(head) >= 4 and head[3:4].isdigit():
        return "bzip2"
    return None


def read_available(stream: IO[bytes], n: int) -> bytes:
    """At most ``n`` bytes of ``stream``: what one read of its source gives, b"" only at its end.

    A buffered stream's ``read(n)`` waits for ``n`` bytes; on a pipe fed slowly (a crawler's
    stdin, a FIFO) the records already there would then wait for 64 KiB more, or for the end."""
    if isinstance(stream, io.BufferedIOBase):
        return stream.read1(n)
    return stream.read(n)


class _Prefixed(io.RawIOBase):
    """A raw stream that serves ``head`` first, then the rest of ``rest`` (for sniffing pipes).
    ``error``, met while ``head`` was read, is raised once ``head`` has been served."""

    def __init__(self, head: bytes, rest: IO[bytes], error: InputDataError | None = None) -> None:
        self._head = head
        self._rest = rest
        self._error = error

    def readable(self) -> bool:
        return True

    def readinto(self, buffer: Any) -> int:
        if self._head:
            n = min(len(buffer), len(self._head))
            buffer[:n] = self._head[:n]
            self._head = self._head[n:]
            return n
        if self._error is not None:
            error, self._error = self._error, None
            raise error
        data = read_available(self._rest, len(buffer))
        buffer[: len(data)] = data
        return len(data)

    def close(self) -> None:
        if self._rest is not sys.stdin.buffer:
            self._rest.close()
        super().close()


class _Bounded(io.RawIOBase):
    """Decompressed bytes with a ceiling; decoder errors translated to :class:`InputDataError`."""

    def __init__(self, inner: IO[bytes], limit: int, what: str) -> None:
        self._inner = inner
        self._limit = limit
        self._what = what
        self.count = 0

    def readable(self) -> bool:
        return True

    def readinto(self, buffer: Any) -> int:
        try:
            data = read_available(self._inner, min(len(buffer), _CHUNK))
        except EOFError as exc:
            raise Truncated(f"{self._what} stream ends early after {self.count} bytes ({exc})") from exc
        except (OSError, zlib.error, zstandard.ZstdError, ValueError) as exc:
            raise CorruptInput(f"{self._what} data is damaged after {self.count} bytes ({exc})") from exc
        self.count += len(data)
        if self.count > self._limit:
            raise DecompressionLimit(
                f"more than reader.max_decompressed_bytes={self._limit} bytes decompressed from {self._what}"
            )
        buffer[: len(data)] = data
        return len(data)

    def close(self) -> None:
        self._inner.close()
        super().close()


class _Decoder(io.RawIOBase):
    """A raw stream that decodes its input piece by piece: subclasses fill ``_out`` in ``_refill``."""

    def __init__(self, raw: IO[bytes]) -> None:
        self._raw = raw
        self._out = b""
        self._pos = 0

    def readable(self) -> bool:
        return True

    def _refill(self) -> bool:
        """Decode the next piece into ``_out`` (resetting ``_pos``); False at a clean end of input."""
        raise NotImplementedError

    def readinto(self, buffer: Any) -> int:
        while self._pos >= len(self._out):
            if not self._refill():
                return 0
        n = min(len(buffer), len(self._out) - self._pos)
        buffer[:n] = self._out[self._pos : self._pos + n]
        self._pos += n
        return n

    def close(self) -> None:
        self._raw.close()
        super().close()


class _ZstdFrames(_Decoder):
    """zstd frames one after another; raises ``EOFError`` when the input ends inside a frame
    (zstandard's own stream reader silently returns a truncated stream as if it were whole)."""

    def __init__(self, raw: IO[bytes]) -> None:
        super().__init__(raw)
        self._dctx = zstandard.ZstdDecompressor()
        self._obj = self._dctx.decompressobj()
        self._in_frame = False

    def _decompress(self, data: bytes) -> bytes:
        out: list[bytes] = []
        while data:
            self._in_frame = True
            out.append(self._obj.decompress(data))
            if not self._obj.eof:
                break
            data = self._obj.unused_data
            self._obj = self._dctx.decompressobj()
            self._in_frame = False
        return b"".join(out)

    def _refill(self) -> bool:
        chunk = read_available(self._raw, _ZSTD_IN_CHUNK)
        if not chunk:
            if self._in_frame:
                raise EOFError("zstd stream ends inside a frame")
            return False
        self._out, self._pos = self._decompress(chunk), 0
        return True


class _GzipMembers(_Decoder):
    """gzip members one after another, decoded incrementally with bounded output; when the input
    ends inside a member, what was decoded before is delivered first, then ``EOFError``
    (``gzip.GzipFile`` drops the last chunk it decoded, so a truncated file lost every record).

    ``_pending`` is the input read but not yet decoded: always the tail of one read of at most
    ``_CHUNK`` bytes, so memory stays bounded whatever the number and size of the members.
    Zero bytes between members (padding, as ``gzip`` allows) are skipped; anything else after a
    member must be another member."""

    def __init__(self, raw: IO[bytes]) -> None:
        super().__init__(raw)
        self._obj = zlib.decompressobj(wbits=31)
        self._in_member = False
        self._pending = b""

    def _refill(self) -> bool:
        while True:
            if not self._pending:
                self._pending = read_available(self._raw, _CHUNK)
                if not self._pending:
                    if self._in_member:
                        raise EOFError("gzip stream ends inside a member")
                    return False
            if not self._in_member:
                self._pending = self._pending.lstrip(b"\x00")
                if not self._pending:
                    continue
            self._in_member = True
            out = self._obj.decompress(self._pending, _CHUNK)
            if self._obj.eof:
                # The input after the member is exactly unused_data. unconsumed_tail is not: at a
                # member's end it may still hold (part of) the same bytes, and adding it to them
                # decoded what follows twice, doubling the input held at each such member end.
                self._pending = self._obj.unused_data
                self._obj = zlib.decompressobj(wbits=31)
                self._in_member = False
            else:
                self._pending = self._obj.unconsumed_tail
            if out:
                self._out, self._pos = out, 0
                return True


def _decompressor(kind: str, raw: IO[bytes]) -> IO[bytes]:
    if kind == "gzip":
        return _GzipMembers(raw)  # type: ignore[return-value]  # unbuffered: one read, one piece
    if kind == "bzip2":
        return bz2.BZ2File(raw, mode="rb")
    return io.BufferedReader(_ZstdFrames(raw))


def _read_head(raw: IO[bytes], n: int) -> bytes:
    head = b""
    while len(head) < n:
        more = raw.read(n - len(head))
        if not more:
            break
        head += more
    return head


@dataclass
class _Pipe:
    """A named pipe (a FIFO, ``/dev/fd/N``) that sniffs have read from: its file, kept open for
    the next open, every byte the sniffs read from it, for that open to read first, and the
    paths it was opened by (for :func:`release_pipes`)."""

    file: IO[bytes]
    seen: bytearray
    names: set[str] = field(default_factory=set)


#: Pipes being sniffed, by (device, inode): every open of ``/dev/fd/63`` is the same pipe.
_PIPES: dict[tuple[int, int], _Pipe] = {}
_SNIFFING: ContextVar[bool] = ContextVar("cleanwire_sniffing", default=False)
#: The most a sniff keeps of a pipe (beyond, the sniff sees the pipe end there).
REPLAY_LIMIT = 64 << 20


@contextmanager
def sniffing() -> Iterator[None]:
    """Within, opening a named pipe does not consume it: what is read from it is kept and read
    again, first, by the next open outside (the reader after the format sniff and mapping check),
    so a pipe named on the command line (``<(zcat dump.gz)``) can be sniffed and still streams.
    A sniff reads at most :data:`REPLAY_LIMIT` bytes of a pipe. A pipe whose next open never
    comes (its shard skipped as finished, a run that stops before it) is closed by
    :func:`release_pipes`; else it stays open until exit."""
    token = _SNIFFING.set(True)
    try:
        yield
    finally:
        _SNIFFING.reset(token)


def release_pipes(paths: Iterable[Path | str]) -> None:
    """Close the pipes that sniffs of ``paths`` kept open for a next open that did not come: a
    shard skipped as finished, a run stopped or failed before a shard was read, an input refused
    after its sniff. The bytes the sniffs read from such a pipe are gone with it."""
    names = {os.fspath(p) for p in paths}
    for key, pipe in list(_PIPES.items()):
        if pipe.names & names:
            _PIPES.pop(key, None)
            pipe.file.close()


class _Replay(io.RawIOBase):
    """A sniff's view of a pipe: what earlier sniffs read, then more of it (kept in ``seen``)."""

    def __init__(self, pipe: _Pipe) -> None:
        self._pipe = pipe
        self._pos = 0

    def readable(self) -> bool:
        return True

    def readinto(self, buffer: Any) -> int:
        seen = self._pipe.seen
        if self._pos >= len(seen):
            room = REPLAY_LIMIT - len(seen)
            data = self._pipe.file.read(min(len(buffer), room)) if room > 0 else b""
            if not data:
                return 0
            seen.extend(data)
        n = min(len(buffer), len(seen) - self._pos)
        buffer[:n] = seen[self._pos : self._pos + n]
        self._pos += n
        return n


def is_named_pipe(path: Path | str) -> bool:
    """Whether ``path`` is a named pipe (a FIFO, ``/dev/fd/N`` of ``<(...)``), without opening it.
    A reader that opens such a path by other means than :func:`open_input` misses the bytes a
    sniff read and leaves the pipe the sniff kept open (see :func:`sniffing`) open until exit."""
    return stat.S_ISFIFO(os.stat(path).st_mode)


def _open_file(path: Path | str) -> IO[bytes]:
    """Open for reading without blocking on a named pipe that has no writer (one found in a dump
    would hang the run; it reads as empty instead). Reads then block as usual, so a pipe given on
    the command line (``<(zcat dump.gz)``) still streams, and its format can be sniffed first:
    see :func:`sniffing`."""
    fd = os.open(path, os.O_RDONLY | os.O_NONBLOCK)
    fcntl.fcntl(fd, fcntl.F_SETFL, fcntl.fcntl(fd, fcntl.F_GETFL) & ~os.O_NONBLOCK)
    st = os.fstat(fd)
    if not stat.S_ISFIFO(st.st_mode):
        return os.fdopen(fd, "rb")
    key = (st.st_dev, st.st_ino)
    pipe = _PIPES.get(key)
    if pipe is None:
        pipe = _Pipe(os.fdopen(fd, "rb", buffering=0), bytearray())
    else:
        os.close(fd)
    if _SNIFFING.get():
        pipe.names.add(os.fspath(path))
        _PIPES[key] = pipe
        return io.BufferedReader(_Replay(pipe))
    _PIPES.pop(key, None)
    return io.BufferedReader(_Prefixed(bytes(pipe.seen), pipe.file))


class ShortReads:
    """A stream from :func:`open_input` whose ``read(n)`` reads the decoder at most once
    (``read1``), so a failing read raises only once everything decoded before it was handed out.

    ``io.BufferedReader.read(n)`` drops what it has gathered when a later read of its raw stream
    fails: a WARC cut short lost the last whole record before the cut with the broken one.
    """

    def __init__(self, fh: io.BufferedReader) -> None:
        self._fh = fh

    def read(self, n: int | None = -1) -> bytes:
        return self._fh.read1(n) if n is not None and n > 0 else self._fh.read(n)

    def readline(self, limit: int | None = -1) -> bytes:
        return self._fh.readline(limit)

    def __getattr__(self, name: str) -> Any:
        return getattr(self._fh, name)


def open_input(path: Path | str, max_decompressed_bytes: int) -> io.BufferedReader:
    """The decompressed bytes of ``path`` (``-`` is stdin) as a buffered stream.

    Raises ``OSError`` if the file cannot be opened; read errors surface as
    :class:`InputDataError` while reading. Lines (``readline``) and ``read1`` get everything
    decoded before an error; a ``read(n)`` that needs two decoder reads loses what it gathered
    when the second fails, so a reader that reads in blocks wraps the stream in :class:`ShortReads`.
    """
    name = str(path)
    raw: IO[bytes] = sys.stdin.buffer if name == STDIN else _open_file(path)
    head = _read_head(raw, 4)
    stream: io.RawIOBase = _Prefixed(head, raw)
    kind = sniff_compression(head)
    if kind is not None:
        buffered = io.BufferedReader(stream)
        stream = _Bounded(_decompressor(kind, buffered), max_decompressed_bytes, f"{kind} input")
    return io.BufferedReader(stream, buffer_size=_CHUNK)


def sniff_head(fh: io.BufferedReader, n: int) -> tuple[bytes, io.BufferedReader]:
    """The first ``n`` bytes of ``fh`` (fewer at its end) to sniff a charset from, and a stream
    that reads ``fh`` again from its start (``peek`` is no sample: it returns what one read of the
    raw stream gave, 4 bytes for a plain file). A read error met within the first ``n`` bytes is
    raised by the new stream once it has handed out the bytes before it; closing the new stream
    closes ``fh``."""
    chunks: list[bytes] = []
    size = 0
    error: InputDataError | None = None
    try:
        while size < n:
            chunk = fh.read1(n - size)
            if not chunk:
                break
            chunks.append(chunk)
            size += len(chunk)
    except InputDataError as exc:
        error = exc
    head = b"".join(chunks)
    return head, io.BufferedReader(_Prefixed(head, fh, error), buffer_size=_CHUNK)


def peek_decompressed(path: Path | str, n: int, max_decompressed_bytes: int) -> bytes:
    """The first ``n`` decompressed bytes of a file (for format sniffing); b"" if unreadable. A
    named pipe is not consumed (see :func:`sniffing`)."""
    try:
        with sniffing(), open_input(path, max_decompressed_bytes) as fh:
            return _read_head(fh, n)
    except (OSError, InputDataError):
        return b""
