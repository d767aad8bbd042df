"""Which format a file is: by its extension (after any compression suffix), else by its first
decompressed bytes. See :data:`FORMATS`."""

from __future__ import annotations

from pathlib import PurePath

from pipeline.core.config import ReaderConfig
from pipeline.io.formats.compression import COMPRESSION_SUFFIXES, peek_decompressed

#: Extension -> format. ``html``/``text`` files are one record each; the rest are containers
#: (``tar``: an archive whose members are read as the files of a directory).
FORMATS = {
    ".html": "html",
    ".htm": "html",
    ".xhtml": "html",
    ".txt": "text",
    ".text": "text",
    ".jsonl": "jsonl",
    ".ndjson": "jsonl",
    ".csv": "csv",
    ".tsv": "tsv",
    ".tab": "tsv",
    ".parquet": "parquet",
    ".pq": "parquet",
    ".warc": "warc",
    ".arc": "warc",
    ".tar": "tar",
    ".tgz": "tar",
    ".tbz": "tar",
    ".tbz2": "tar",
    ".tzst": "tar",
}
DOCUMENT_KINDS = ("html", "text")
#: How many decompressed bytes :func:`kind_of` sniffs (a tar header's magic is at 257).
SNIFF_BYTES = 512


def kind_by_name(path: PurePath) -> tuple[str | None, bool]:
    """The format named by the extension, and whether a compression suffix was seen."""
    suffixes = [s.lower() for s in path.suffixes]
    compressed = False
    while suffixes and suffixes[-1] in COMPRESSION_SUFFIXES:
        suffixes.pop()
        compressed = True
    return (FORMATS.get(suffixes[-1]) if suffixes else None), compressed


def is_tar(head: bytes) -> bool:
    """A POSIX (ustar) or GNU tar header: ``ustar`` at offset 257."""
    return head[257:262] == b"ustar"


def sniff_kind(head: bytes) -> str:
    """The format of a file from its first (decompressed) bytes."""
    start = head.lstrip(b"\xef\xbb\xbf \t\r\n")
    if start.startswith(b"WARC/") or start.startswith(b"filedesc://"):
        return "warc"
    if head.startswith(b"PAR1"):
        return "parquet"
    if is_tar(head):
        return "tar"
    if start.startswith(b"{"):
        return "jsonl"
    if start.startswith(b"<"):
        return "html"
    return "text"


def kind_of(path: PurePath, config: ReaderConfig | None = None) -> str | None:
    """The format of a file: by extension, else (for explicit files) by content."""
    kind, _ = kind_by_name(path)
    if kind is not None:
        return kind
    cap = (config or ReaderConfig()).max_decompressed_bytes
    return sniff_kind(peek_decompressed(str(path), SNIFF_BYTES, cap))


def wanted_in_directory(path: PurePath) -> bool:
    """Files a directory walk picks up: known extensions, or a bare ``.gz``/``.zst``/``.bz2``;
    not hidden ones."""
    if path.name.startswith("."):
        return False
    kind, compressed = kind_by_name(path)
    return kind is not None or (compressed and len(path.suffixes) == 1)
