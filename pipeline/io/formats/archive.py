"""Tar archives (``.tar``, ``.tar.gz``, ``.tgz``, ``.tar.zst``, ``.tar.bz2``, or any file whose
decompressed bytes start as a tar does): their members are read as the files of a directory are.

The archive is streamed once (``tarfile`` in ``r|`` mode, after :func:`open_input`'s bounded
decompression): each regular member is copied to a temporary file (one at a time) and read by the
reader its name calls for (``page.html``, ``feed.jsonl.gz``, ``table.csv``, ``crawl.warc.gz``, a
tar in the tar, up to :data:`MAX_NESTING` deep). A member's records are named
``archive.tar!member/path`` (``source`` and the id's origin), so they are as stable as a file's.
Members a directory walk would pass over are too: hidden ones (a path component starting with
``.``, such as macOS's ``._page.html``) silently, like directories and devices; a member whose
extension names no format is *dropped* (``read/not_a_document``) so that it is counted. A hard or
symbolic link is *dropped* too (``read/link``, naming its target): a walk of the same files on disk
reads it as a copy of its target, which a streamed archive cannot go back to; it is counted, not
lost silently. The members of a saved web page's resource folder (``page_files/`` beside
``page.html``: the page's iframes, ads and embeds; :func:`page_resource_folders`, the rule of a
directory walk) are not read either: each is *dropped* (``read/saved_page_file``, naming the page)
so that it is counted. As the archive is streamed once, a member of a folder named so whose page
has not come yet is held (its copy kept) until the page comes (then it is dropped) or the archive
ends (then, no page beside it, it is read as usual, after the others). A damaged or truncated
archive ends with a ``corrupt_archive`` reject after the members read before it.
"""

from __future__ import annotations

import shutil
import tarfile
import tempfile
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path, PurePosixPath
from typing import IO

from pipeline.core.config import ReaderConfig
from pipeline.core.errors import CleanwireError
from pipeline.core.pathnames import display_path
from pipeline.core.record import Doc
from pipeline.io.formats.compression import InputDataError, Truncated, open_input, peek_decompressed
from pipeline.io.formats.delimited import csv_header, read_csv, read_tsv
from pipeline.io.formats.documents import read_document_file
from pipeline.io.formats.jsonl import check_jsonl_mapping, read_jsonl
from pipeline.io.formats.kinds import DOCUMENT_KINDS, SNIFF_BYTES, kind_by_name, sniff_kind
from pipeline.io.formats.parquet import parquet_columns, read_parquet
from pipeline.io.formats.records import Origin, dropped, exception_text, rejected
from pipeline.io.formats.savedpages import page_folder_stems, saved_page_stem
from pipeline.io.formats.tabular import check_fields, label
from pipeline.io.formats.warc import read_warc

#: How deep tars in tars are read; a deeper one is rejected (``nested_archive``).
MAX_NESTING = 3
#: The plan's mapping check reads the archive up to its first table member, at most this many
#: members in.
CHECK_MEMBERS = 100

Reader = Callable[[Path, ReaderConfig, str | None], Iterator[Doc]]


@dataclass(frozen=True)
class _Link:
    """A link member: what it points to, and whether it is a hard link."""

    target: str
    hard: bool


@dataclass(frozen=True)
class _Resource:
    """A member in a saved page's resource folder: not read (``page`` names the page)."""

    page: str


_Entry = tuple[str, "Path | _Link | _Resource | None"]
#: A saved page as a resource folder names it: the parts of the folder it is in, and its stem.
_PageKey = tuple[tuple[str, ...], str]


def _parts(member: str) -> tuple[str, ...]:
    return PurePosixPath(member).parts


@dataclass
class _SavedPages:
    """The saved pages seen so far in a streamed archive, and the members held until it is known
    whether they are in one's resource folder (:func:`page_resource_folders`): those in a folder
    named like one, before its page came."""

    #: every member seen that can be a saved page, by the key its resource folder names it by
    pages: dict[_PageKey, str] = field(default_factory=dict)
    #: held members, in archive order, with the pages they wait for
    held: list[tuple[frozenset[_PageKey], _Entry]] = field(default_factory=list)

    @staticmethod
    def candidates(member: str) -> frozenset[_PageKey]:
        """The pages in whose resource folder ``member`` is, if they are in the archive: those of
        every folder above it named like a resource folder."""
        parts = _parts(member)
        return frozenset(
            (parts[:i], stem) for i, folder in enumerate(parts[:-1]) for stem in page_folder_stems(folder)
        )

    def page_of(self, candidates: frozenset[_PageKey]) -> str | None:
        """The member name of a page seen among ``candidates`` (the outermost), else None."""
        seen = sorted((len(key[0]), self.pages[key]) for key in candidates if key in self.pages)
        return seen[0][1] if seen else None

    def see(self, member: str) -> Iterator[_Entry]:
        """Notes ``member`` as a page if it can be one; then the held members of its resource
        folder, now known to be no documents."""
        parts = _parts(member)
        stem = saved_page_stem(parts[-1]) if parts else None
        if stem is None:
            return
        key = (parts[:-1], stem)
        self.pages.setdefault(key, member)
        still: list[tuple[frozenset[_PageKey], _Entry]] = []
        for waits, entry in self.held:
            if key in waits:
                _discard(entry[1])
                yield entry[0], _Resource(self.pages[key])
            else:
                still.append((waits, entry))
        self.held = still


def _discard(spooled: Path | _Link | _Resource | None) -> None:
    if isinstance(spooled, Path):
        spooled.unlink()


def read_tar(path: Path, config: ReaderConfig, name: str | None = None) -> Iterator[Doc]:
    """The records of every member of a tar archive, in archive order."""
    return _read_tar(path, config, name or label(path), 1)


def _read_tar(path: Path, config: ReaderConfig, name: str, depth: int) -> Iterator[Doc]:
    members = 0
    try:
        with tempfile.TemporaryDirectory(prefix="cleanwire-tar-") as tmp:
            for member, spooled in _members(path, config, Path(tmp)):
                members += 1
                if spooled is None:
                    detail = f"tar member of more than reader.max_decompressed_bytes={config.max_decompressed_bytes}"
                    yield rejected(Origin(f"{name}!{member}", 0), "too_large", detail)
                    continue
                if isinstance(spooled, _Resource):
                    detail = (
                        f"tar member {display_path(member)}: in the resource folder of the saved page "
                        f"{display_path(spooled.page)} (iframes, ads, embeds), not a document of the dump"
                    )
                    yield dropped(Origin(f"{name}!{member}", 0), "saved_page_file", detail)
                    continue
                if isinstance(spooled, _Link):
                    what = "hard link" if spooled.hard else "symbolic link"
                    detail = f"tar member {display_path(member)}: a {what} to {display_path(spooled.target)}"
                    yield dropped(Origin(f"{name}!{member}", 0), "link", detail)
                    continue
                yield from _member_docs(member, spooled, config, f"{name}!{member}", depth)
                spooled.unlink()
    except CleanwireError:
        raise
    except InputDataError as exc:
        yield rejected(Origin(name, f"member {members}+"), exc.reason, f"{type(exc).__name__}: {exc}")
    except tarfile.ReadError as exc:
        reason = "truncated" if "unexpected end of data" in str(exc) else "corrupt_archive"
        yield rejected(Origin(name, f"member {members}+"), reason, f"{type(exc).__name__}: {exc}")
    except OSError as exc:
        yield rejected(Origin(name, f"member {members}+"), "unreadable", f"{type(exc).__name__}: {exc}")
    except Exception as exc:  # noqa: BLE001 - tarfile's view of damaged bytes: the rest is one reject
        detail = f"{type(exc).__name__}: {exception_text(exc)}"
        yield rejected(Origin(name, f"member {members}+"), "corrupt_archive", detail)


def _members(path: Path, config: ReaderConfig, tmp: Path) -> Iterator[_Entry]:
    """The regular, visible members of the archive, each copied to a file under ``tmp`` whose name
    ends like the member's (so that its extension still says its format); None instead of the
    copy for a member larger than ``reader.max_decompressed_bytes``; a visible link's target; a
    member of a saved page's resource folder as such (not copied once its page was seen)."""
    with open_input(path, config.max_decompressed_bytes) as fh:
        counted = _Counted(fh)
        with tarfile.open(fileobj=counted, mode="r|") as tf:  # type: ignore[call-overload]
            yield from _spooled(tf, config, tmp)
            if counted.count < tf.offset + tarfile.BLOCKSIZE:
                # tarfile ends quietly at a header cut short; a whole archive ends with zero blocks
                raise Truncated(f"the archive ends after {counted.count} bytes, inside a member header")


class _Counted:
    """A stream that counts the bytes read from it."""

    def __init__(self, fh: IO[bytes]) -> None:
        self._fh = fh
        self.count = 0

    def read(self, n: int = -1) -> bytes:
        data = self._fh.read(n)
        self.count += len(data)
        return data


def _spooled(tf: tarfile.TarFile, config: ReaderConfig, tmp: Path) -> Iterator[_Entry]:
    pages = _SavedPages()
    try:
        yield from _spooled_members(tf, config, tmp, pages)
    except Exception:
        # the archive breaks off: the members held for a page that did not come are read as the
        # archive's end has them read (an ordinary folder), before the break's reject
        yield from (entry for _, entry in pages.held)
        raise
    for _, entry in pages.held:  # no page beside them: an ordinary folder
        yield entry


def _spooled_members(
    tf: tarfile.TarFile, config: ReaderConfig, tmp: Path, pages: _SavedPages
) -> Iterator[_Entry]:
    for i, member in enumerate(tf):
        if member.isdir():
            continue
        yield from pages.see(member.name)
        if _hidden(member.name):
            continue
        waits = pages.candidates(member.name)
        page = pages.page_of(waits)
        if page is not None:
            yield member.name, _Resource(page)
            continue
        entry = _entry(tf, member, i, config, tmp)
        if entry is None:
            continue
        if waits:  # in a folder named like a saved page's: held until its page comes, or the end
            pages.held.append((waits, entry))
        else:
            yield entry


def _entry(
    tf: tarfile.TarFile, member: tarfile.TarInfo, i: int, config: ReaderConfig, tmp: Path
) -> _Entry | None:
    """A visible member as :func:`_members` hands it out (copied to ``tmp``), None for one that
    is not a regular file or a link."""
    if member.islnk() or member.issym():
        return member.name, _Link(member.linkname, member.islnk())
    if not member.isfile():
        return None
    if member.size > config.max_decompressed_bytes:
        return member.name, None
    suffixes = "".join(PurePosixPath(member.name).suffixes[-3:])
    spooled = tmp / f"{i:08d}{_safe_suffix(suffixes)}"
    source = tf.extractfile(member)
    if source is None:
        return None
    with source, open(spooled, "wb") as out:
        shutil.copyfileobj(source, out, 1 << 20)
    return member.name, spooled


def _hidden(member: str) -> bool:
    return any(part.startswith(".") and part not in (".", "..") for part in PurePosixPath(member).parts)


def _safe_suffix(suffixes: str) -> str:
    """The member's extensions, kept only when they are plain (they name a temporary file)."""
    return suffixes if suffixes.isascii() and all(c.isalnum() or c in "._-" for c in suffixes) else ""


def _member_kind(member: str, spooled: Path, config: ReaderConfig) -> str | None:
    """What a directory walk makes of a file of that name: its extension's format, a bare
    ``.gz``/``.zst``/``.bz2`` sniffed, else None (not read)."""
    kind, compressed = kind_by_name(PurePosixPath(member))
    if kind is None and compressed and len(PurePosixPath(member).suffixes) == 1:
        kind = sniff_kind(peek_decompressed(spooled, SNIFF_BYTES, config.max_decompressed_bytes))
    return kind


def _member_docs(member: str, spooled: Path, config: ReaderConfig, name: str, depth: int) -> Iterator[Doc]:
    kind = _member_kind(member, spooled, config)
    if kind is None:
        yield dropped(
            Origin(name, 0), "not_a_document", f"tar member {display_path(member)}: no known extension"
        )
    elif kind in DOCUMENT_KINDS:
        yield from read_document_file(spooled, kind, config, name)
    elif kind == "tar":
        if depth >= MAX_NESTING:
            yield rejected(Origin(name, 0), "nested_archive", f"a tar more than {MAX_NESTING} deep in tars")
        else:
            yield from _read_tar(spooled, config, name, depth + 1)
    else:
        yield from CONTAINER_READERS[kind](spooled, config, name)


def check_tar_mapping(path: Path, config: ReaderConfig, name: str | None = None) -> None:
    """The plan's mapping check for an archive: its first table member (JSONL, CSV/TSV, Parquet),
    among the first :data:`CHECK_MEMBERS`, is checked as a file would be."""
    name = name or label(path)
    try:
        with tempfile.TemporaryDirectory(prefix="cleanwire-tar-") as tmp:
            for i, (member, spooled) in enumerate(_members(path, config, Path(tmp))):
                if not isinstance(spooled, Path):
                    continue
                kind = _member_kind(member, spooled, config)
                if kind in ("jsonl", "csv", "tsv", "parquet"):
                    assert kind is not None
                    check_mapping(spooled, kind, config, f"{name}!{member}")
                    return
                spooled.unlink()
                if i + 1 >= CHECK_MEMBERS:
                    return
    except CleanwireError:
        raise
    except Exception:  # noqa: BLE001 - unreadable here: the reader rejects what it cannot read
        return


def check_mapping(path: Path, kind: str, config: ReaderConfig, name: str | None = None) -> None:
    """Fail fast (:class:`~pipeline.core.errors.InputError`) on an input whose first records or
    columns cannot hold the configured text/HTML field, or that names a mapped column twice."""
    where = display_path(name or str(path))
    if kind == "parquet":
        check_fields(parquet_columns(path, config), where, config)
    elif kind in ("csv", "tsv"):
        header, delimiter = csv_header(path, "," if kind == "csv" else "\t", config)
        check_fields(header, where, config, delimiter=delimiter)
    elif kind == "jsonl":
        check_jsonl_mapping(path, config, where)
    elif kind == "tar":
        check_tar_mapping(path, config, name)


CONTAINER_READERS: dict[str, Reader] = {
    "jsonl": read_jsonl,
    "csv": read_csv,
    "tsv": read_tsv,
    "parquet": read_parquet,
    "warc": read_warc,
    "tar": read_tar,
}
