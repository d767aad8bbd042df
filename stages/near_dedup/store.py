"""An index directory: the records ``near_dedup`` kept, with what finds and checks their copies.

Layout of a directory (the run's own under ``out/_cleanwire/state/near_dedup/``, or the one
``--dedup-index DIR`` names, which outlives runs)::

    index.sqlite            meta, runs, shards, docs, segments (SQLite, WAL journal)
    seg-<name>.keys.npy     sorted uint64 keys: band keys and exact keys of indexed records
    seg-<name>.docs.npy     uint32 record numbers, aligned with the keys

* ``docs`` holds one row per indexed (kept) record: its number, id, identity (a hash of source
  and id: the same record read again by a rerun), the shard that indexed it (the run's own
  index) or the run (a persistent one), its content hash, word count, MinHash signature and
  packed shingle set. Rows are read only for candidates, so they stay on disk.
* The keys are the only per-record data in memory: ``bands + 1`` entries of 12 bytes (312 bytes
  with the defaults). Committed segments are memory-mapped (the page cache keeps them resident
  while there is room and lets them spill to disk when there is not); keys added since the last
  commit sit in a :class:`~stages.near_dedup.multimap.SortedMultimap` in memory.

Atomic updates: a writer holds SQLite's write lock from open to close (``BEGIN IMMEDIATE``; a
second writer waits ``busy_timeout_s``, then fails saying so). :meth:`IndexStore.commit` writes the
new segment file (temporary name, fsync, rename), then records it, the rows and the shard in one
SQLite transaction; a crash at any point leaves the previous committed state (segment files no
committed row names are deleted at the next open).
"""

from __future__ import annotations

import contextlib
import errno
import hashlib
import json
import os
import secrets
import sqlite3
import time
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt

from pipeline.core.errors import ConfigError, OutputError
from stages.near_dedup.hashing import U32, U64
from stages.near_dedup.multimap import I64, SortedMultimap, lookup_levels

FORMAT_VERSION = 1
#: Segments stop merging at this many entries (64 M = 768 MB): bounds the memory of a merge.
MAX_SEGMENT = 1 << 26
DB_NAME = "index.sqlite"
_CHUNK = 500  # SQL parameters per query


def identity(source: str, record_id: str) -> int:
    """A record's identity across runs: 64 bits of a hash of where it was read and its id (a
    signed integer, as SQLite stores one). A rerun over the same inputs reads the same records."""
    digest = hashlib.blake2b(
        f"{source}\x00{record_id}".encode("utf-8", "surrogatepass"), digest_size=8
    ).digest()
    return int.from_bytes(digest, "little", signed=True)


@dataclass(frozen=True)
class StoredDoc:
    doc: int
    id: str
    ident: int
    content_hash: bytes
    n_words: int
    signature: bytes | None
    shingles: bytes | None


@dataclass(frozen=True)
class NewDoc:
    id: str
    ident: int
    content_hash: bytes
    n_words: int
    signature: bytes | None
    shingles: bytes | None
    keys: U64


_SCHEMA = """
CREATE TABLE IF NOT EXISTS meta(key TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS runs(run INTEGER PRIMARY KEY, finished REAL NOT NULL, label TEXT,
                                n_docs INTEGER NOT NULL);
CREATE TABLE IF NOT EXISTS shards(name TEXT PRIMARY KEY, n_docs INTEGER NOT NULL);
CREATE TABLE IF NOT EXISTS docs(doc INTEGER PRIMARY KEY, id TEXT NOT NULL, ident INTEGER NOT NULL,
                                shard TEXT, run INTEGER, content_hash BLOB NOT NULL,
                                n_words INTEGER NOT NULL, signature BLOB, shingles BLOB);
CREATE INDEX IF NOT EXISTS docs_ident ON docs(ident);
CREATE TABLE IF NOT EXISTS segments(name TEXT PRIMARY KEY, n INTEGER NOT NULL, level INTEGER NOT NULL);
"""

_DOC_COLUMNS = "doc, id, ident, content_hash, n_words, signature, shingles"


class IndexStore:
    """One process's handle on an index directory.

    ``writable``: the handle holds the write lock until :meth:`close` and may :meth:`add` and
    :meth:`commit`; otherwise it reads the last committed state (``cleanwire explain``).
    ``durable``: fsync every commit (the persistent index); a run's own index, rebuilt by a
    rerun anyway, skips the full sync of SQLite.

    One user at a time, from any thread: a handle opened in one thread may be used, and closed,
    in another (a pipeline called from a worker thread, its index closed at exit in the main
    one), so the connection does not check its thread. Calls must not overlap (the handle's one
    open transaction is its state): the stage that owns it runs one batch or run at a time (a
    pipeline refuses a second one from another thread while one is going); the usual build of
    SQLite (``sqlite3.threadsafety == 3``) serializes the calls on one connection as well.
    """

    def __init__(
        self,
        path: str | os.PathLike[str],
        params: dict[str, Any],
        *,
        writable: bool = True,
        durable: bool = True,
        busy_timeout_s: float = 30.0,
    ) -> None:
        self.path = Path(path)
        self.params = params
        self.writable = writable
        self.closed = True
        if writable:
            try:
                self.path.mkdir(parents=True, exist_ok=True)
            except OSError as exc:
                if disk_full(exc):
                    raise
                raise OutputError(f"cannot create the dedup index {self.path}: {exc.strerror}") from exc
        elif not (self.path / DB_NAME).is_file():
            raise ConfigError(f"no dedup index at {self.path} ({DB_NAME} missing)")
        uri = f"file:{self.path / DB_NAME}" + ("" if writable else "?mode=ro")
        try:
            # any thread may use the handle, one at a time, and close it (see the class)
            self.db = sqlite3.connect(
                uri, uri=True, timeout=busy_timeout_s, isolation_level=None, check_same_thread=False
            )
            if writable:
                self.db.execute("PRAGMA journal_mode=WAL")
                self.db.execute(f"PRAGMA synchronous={'FULL' if durable else 'NORMAL'}")
                self.db.executescript(_SCHEMA)
            self.db.execute("BEGIN IMMEDIATE" if writable else "BEGIN")
            self._check_meta()
        except sqlite3.OperationalError as exc:
            with contextlib.suppress(Exception):
                self.db.close()
            if disk_full(exc):
                raise self._full() from exc
            if "locked" in str(exc) or "busy" in str(exc):
                raise OutputError(
                    f"the dedup index {self.path} is in use by another run ({exc})",
                    hint="runs that share a dedup index must run one after the other "
                    "(in Airflow: max_active_runs=1, or a pool with one slot)",
                ) from exc
            raise OutputError(f"cannot open the dedup index {self.path}: {exc}") from exc
        except sqlite3.DatabaseError as exc:
            with contextlib.suppress(Exception):
                self.db.close()
            raise OutputError(f"{self.path / DB_NAME} is not a dedup index: {exc}") from exc
        self.closed = False
        if writable:
            self._sweep_files()
        self._segments: list[tuple[str, int, U64, U32]] = []  # (name, level, keys, docs)
        for name, level in self.db.execute("SELECT name, level FROM segments ORDER BY level DESC, name"):
            self._segments.append((name, int(level), *self._load_segment(name)))
        self._next_doc = int(self.db.execute("SELECT COALESCE(MAX(doc), -1) + 1 FROM docs").fetchone()[0])
        self.n_docs = int(self.db.execute("SELECT COUNT(*) FROM docs").fetchone()[0])
        self._pending = SortedMultimap()
        self._pending_docs = 0

    # --- opening -------------------------------------------------------------------------------

    def _check_meta(self) -> None:
        want = json.loads(json.dumps({"format_version": FORMAT_VERSION, **self.params}))
        row = self.db.execute("SELECT value FROM meta WHERE key = 'params'").fetchone()
        if row is None:
            if self.writable:  # a new index: its parameters are committed at once
                self.db.execute("INSERT INTO meta VALUES ('params', ?)", (json.dumps(want, sort_keys=True),))
                self.db.execute("COMMIT")
                self.db.execute("BEGIN IMMEDIATE")
            return
        have = json.loads(row[0])
        if have != want:
            diff = ", ".join(
                f"{k}: {have.get(k)} (index) vs {want.get(k)} (config)"
                for k in sorted(set(have) | set(want))
                if have.get(k) != want.get(k)
            )
            self.db.execute("ROLLBACK")
            self.db.close()
            raise ConfigError(
                f"the dedup index {self.path} was built with other near_dedup parameters: {diff}",
                hint="run with the index's parameters, or start a new index directory",
            )

    def _sweep_files(self) -> None:
        """Delete segment files that no committed row names (left by a crash mid-commit)."""
        named = {r[0] for r in self.db.execute("SELECT name FROM segments")}
        for p in self.path.glob("seg-*"):
            if p.name.split(".")[0] not in named or p.name.endswith(".tmp"):
                p.unlink(missing_ok=True)

    def _load_segment(self, name: str) -> tuple[U64, U32]:
        keys = np.load(self.path / f"{name}.keys.npy", mmap_mode="r")
        docs = np.load(self.path / f"{name}.docs.npy", mmap_mode="r")
        return keys, docs

    # --- reading -------------------------------------------------------------------------------

    def lookup(self, keys: U64) -> tuple[I64, U32]:
        """All (query index, record number) pairs whose key matches, committed or not."""
        q1, d1 = lookup_levels([(k, d) for _, _, k, d in self._segments], keys)
        q2, d2 = self._pending.lookup(keys)
        if len(q2) == 0:
            return q1, d1
        q, d = np.concatenate((q1, q2)), np.concatenate((d1, d2))
        by = np.lexsort((d, q))
        return q[by], d[by]

    def fetch(self, docs: Iterable[int]) -> dict[int, StoredDoc]:
        """The rows of these record numbers (those that exist)."""
        wanted = sorted({int(d) for d in docs})
        out: dict[int, StoredDoc] = {}
        for lo in range(0, len(wanted), _CHUNK):
            chunk = wanted[lo : lo + _CHUNK]
            marks = ",".join("?" * len(chunk))
            for row in self.db.execute(f"SELECT {_DOC_COLUMNS} FROM docs WHERE doc IN ({marks})", chunk):
                out[int(row[0])] = StoredDoc(*row)
        return out

    def with_identities(self, idents: Iterable[int]) -> dict[int, set[int]]:
        """Record numbers indexed under these identities (a rerun's own earlier copies)."""
        out: dict[int, set[int]] = {}
        if self.n_docs == 0 and not self._pending_docs:
            return out
        unique = sorted(set(idents))
        for lo in range(0, len(unique), _CHUNK):
            chunk = unique[lo : lo + _CHUNK]
            marks = ",".join("?" * len(chunk))
            for doc, ident in self.db.execute(f"SELECT doc, ident FROM docs WHERE ident IN ({marks})", chunk):
                out.setdefault(int(ident), set()).add(int(doc))
        return out

    def shards(self) -> dict[str, int]:
        """The shards committed so far (the run's own index), with how many records each indexed."""
        return {str(n): int(c) for n, c in self.db.execute("SELECT name, n_docs FROM shards")}

    def iter_docs(self, batch: int = 2000) -> Iterator[list[StoredDoc]]:
        """Every committed or added row, in record-number order, ``batch`` at a time."""
        last = -1
        while True:
            rows = self.db.execute(
                f"SELECT {_DOC_COLUMNS} FROM docs WHERE doc > ? ORDER BY doc LIMIT ?", (last, batch)
            ).fetchall()
            if not rows:
                return
            yield [StoredDoc(*r) for r in rows]
            last = int(rows[-1][0])

    def all_keys(self) -> tuple[U64, U32]:
        """Every (key, record number) entry, committed or not (for copying into another index)."""
        levels = [(np.asarray(k), np.asarray(d)) for _, _, k, d in self._segments]
        levels += self._pending.levels()
        if not levels:
            return np.empty(0, np.uint64), np.empty(0, np.uint32)
        return np.concatenate([k for k, _ in levels]), np.concatenate([d for _, d in levels])

    # --- writing -------------------------------------------------------------------------------

    def add(self, docs: Sequence[NewDoc], *, shard: str | None = None, run: int | None = None) -> list[int]:
        """Index ``docs`` (kept records); returns their record numbers. Durable at :meth:`commit`."""
        self._check_writable()
        numbers = list(range(self._next_doc, self._next_doc + len(docs)))
        self._next_doc += len(docs)
        with self._space():
            self.db.executemany(
                "INSERT INTO docs(doc, id, ident, shard, run, content_hash, n_words, signature, shingles) "
                "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
                [
                    (n, d.id, d.ident, shard, run, d.content_hash, d.n_words, d.signature, d.shingles)
                    for n, d in zip(numbers, docs, strict=True)
                ],
            )
        if docs:
            keys = np.concatenate([d.keys for d in docs])
            vals = np.repeat(np.array(numbers, dtype=np.uint32), [len(d.keys) for d in docs])
            self._pending.add(keys, vals)
        self._pending_docs += len(docs)
        return numbers

    def commit(self, *, shard: str | None = None, label: str | None = None) -> None:
        """Make everything added so far durable, atomically, and keep the write lock for more.

        ``shard``: record that this shard is complete (the run's own index); ``label``: record a
        run (a persistent index) of the records added since the last commit."""
        self._check_writable()
        with self._space():
            self._commit(shard, label)

    def _full(self) -> OSError:
        """The error a full disk raises here, as an ``OSError`` (ENOSPC) naming the index: the
        caller says whose disk it is (the run's output directory, or a ``--dedup-index``)."""
        return OSError(errno.ENOSPC, os.strerror(errno.ENOSPC), str(self.path))

    @contextlib.contextmanager
    def _space(self) -> Iterator[None]:
        """A full disk (SQLite's error or the OS's) as :meth:`_full`'s ``OSError``."""
        try:
            yield
        except (OSError, sqlite3.OperationalError) as exc:
            if disk_full(exc):
                raise self._full() from exc
            raise

    def _commit(self, shard: str | None, label: str | None) -> None:
        new_name: str | None = None
        dropped: list[str] = []
        if len(self._pending):
            keys, docs = _sorted_pairs(self._pending.levels())
            new_name, dropped = self._write_segment(keys, docs)
        if shard is not None:
            self.db.execute("UPDATE docs SET shard = ? WHERE shard IS NULL AND run IS NULL", (shard,))
            self.db.execute("INSERT OR REPLACE INTO shards VALUES (?, ?)", (shard, self._pending_docs))
        if label is not None:
            self.db.execute(
                "INSERT INTO runs(finished, label, n_docs) VALUES (?, ?, ?)",
                (time.time(), label, self._pending_docs),
            )
        self.db.execute("COMMIT")
        self._after_commit(new_name, dropped)
        self.n_docs += self._pending_docs
        self._pending = SortedMultimap()
        self._pending_docs = 0
        self.db.execute("BEGIN IMMEDIATE")

    def _write_segment(self, keys: U64, docs: U32) -> tuple[str, list[str]]:
        """Write ``keys``/``docs`` as a new segment, merged with the newest segments while they
        are no more than twice as large (an LSM tree); record it in the open transaction."""
        level = 0
        dropped: list[str] = []
        while (
            self._segments
            and len(self._segments[-1][2]) <= 2 * len(keys)
            and len(self._segments[-1][2]) + len(keys) <= MAX_SEGMENT
        ):
            name, lvl, k, d = self._segments.pop()
            keys, docs = _sorted_pairs([(np.asarray(k), np.asarray(d)), (keys, docs)])
            dropped.append(name)
            level = max(level, lvl + 1)
        name = f"seg-{time.time_ns():x}-{secrets.token_hex(4)}"
        _write_npy(self.path / f"{name}.keys.npy", keys)
        _write_npy(self.path / f"{name}.docs.npy", docs)
        self.db.execute("INSERT INTO segments VALUES (?, ?, ?)", (name, len(keys), level))
        self.db.executemany("DELETE FROM segments WHERE name = ?", [(n,) for n in dropped])
        self._segments.append((name, level, np.empty(0, np.uint64), np.empty(0, np.uint32)))
        return name, dropped

    def _after_commit(self, new_name: str | None, dropped: list[str]) -> None:
        for name in dropped:
            for suffix in (".keys.npy", ".docs.npy"):
                (self.path / f"{name}{suffix}").unlink(missing_ok=True)
        if new_name is not None:
            self._segments = [
                (n, lvl, *self._load_segment(n)) if n == new_name else (n, lvl, k, d)
                for n, lvl, k, d in self._segments
            ]

    def forget_shards(self, keep: Iterable[str]) -> int:
        """Remove what every committed shard outside ``keep`` indexed (an attempt that a rerun
        redoes: the records of a shard whose marker was never written) and anything not yet
        committed; returns how many records were removed."""
        self._check_writable()
        with self._space():
            return self._forget_shards(keep)

    def _forget_shards(self, keep: Iterable[str]) -> int:
        self._pending = SortedMultimap()
        self._pending_docs = 0
        keep = set(keep)
        gone = [s for s in self.shards() if s not in keep]
        if not gone:
            return 0
        marks = ",".join("?" * len(gone))
        dead = np.array(
            sorted(
                int(r[0]) for r in self.db.execute(f"SELECT doc FROM docs WHERE shard IN ({marks})", gone)
            ),
            dtype=np.uint32,
        )
        self.db.execute(f"DELETE FROM docs WHERE shard IN ({marks})", gone)
        self.db.execute(f"DELETE FROM shards WHERE name IN ({marks})", gone)
        keys, docs = self.all_keys()
        alive = ~np.isin(docs, dead)
        old = [name for name, *_ in self._segments]
        self._segments = []
        new_name: str | None = None
        if alive.any():
            new_name, _ = self._write_segment(*_sorted_pairs([(keys[alive], docs[alive])]))
        self.db.executemany("DELETE FROM segments WHERE name = ?", [(n,) for n in old])
        self.db.execute("COMMIT")
        self._after_commit(new_name, old)
        self.n_docs = int(self.db.execute("SELECT COUNT(*) FROM docs").fetchone()[0])
        self._next_doc = int(self.db.execute("SELECT COALESCE(MAX(doc), -1) + 1 FROM docs").fetchone()[0])
        self.db.execute("BEGIN IMMEDIATE")
        return len(dead)

    def merge_from(self, other: IndexStore, label: str) -> int:
        """Add every record ``other`` holds that this index does not hold under the same identity
        (a rerun of the same inputs adds nothing), with its keys, in one atomic commit. Returns
        how many records were added."""
        self._check_writable()
        with self._space():
            return self._merge_from(other, label)

    def _merge_from(self, other: IndexStore, label: str) -> int:
        keys, docs = other.all_keys()
        mapping = np.full(other._next_doc + 1, -1, dtype=np.int64)
        added = 0
        for rows in other.iter_docs():
            present = self.with_identities(r.ident for r in rows)
            new = [r for r in rows if r.ident not in present]
            numbers = self.add(
                [
                    NewDoc(r.id, r.ident, r.content_hash, r.n_words, r.signature, r.shingles, _NO_KEYS)
                    for r in new
                ]
            )
            for r, n in zip(new, numbers, strict=True):
                mapping[r.doc] = n
            added += len(new)
        if added == 0:
            return 0
        mapped = mapping[docs.astype(np.int64)]
        take = mapped >= 0
        self._pending.add(keys[take], mapped[take].astype(np.uint32))
        self.commit(label=label)
        return added

    def close(self) -> None:
        """Release the handle; what was added since the last commit is forgotten."""
        if self.closed:
            return
        with contextlib.suppress(sqlite3.Error):
            self.db.execute("ROLLBACK")
        self.db.close()
        self._segments.clear()
        self.closed = True

    def _check_writable(self) -> None:
        if self.closed or not self.writable:
            raise RuntimeError(f"the dedup index {self.path} is closed or read-only")

    # --- sizes ---------------------------------------------------------------------------------

    def stats(self) -> dict[str, int]:
        seg_entries = sum(len(k) for _, _, k, _ in self._segments)
        page = int(self.db.execute("PRAGMA page_size").fetchone()[0])
        db_bytes = page * int(self.db.execute("PRAGMA page_count").fetchone()[0])
        return {
            "docs": self.n_docs + self._pending_docs,
            "segments": len(self._segments),
            "key_entries": seg_entries + len(self._pending),
            "key_bytes": (seg_entries + len(self._pending)) * 12,
            "sqlite_bytes": db_bytes,
            "segment_bytes": sum(p.stat().st_size for p in self.path.glob("seg-*.npy")),
        }


_NO_KEYS: U64 = np.empty(0, np.uint64)


def _sorted_pairs(levels: Sequence[tuple[U64, U32]]) -> tuple[U64, U32]:
    """The (key, doc) pairs of ``levels`` as one pair of arrays sorted by key (stable)."""
    keys = np.concatenate([np.asarray(k, dtype=np.uint64) for k, _ in levels])
    docs = np.concatenate([np.asarray(d, dtype=np.uint32) for _, d in levels])
    order = np.argsort(keys, kind="stable")
    return keys[order], docs[order]


def disk_full(exc: BaseException) -> bool:
    """Whether ``exc`` says the disk is full (an OS error, or SQLite's ``SQLITE_FULL``)."""
    if isinstance(exc, OSError):
        return exc.errno in (errno.ENOSPC, errno.EDQUOT)
    if isinstance(exc, sqlite3.OperationalError):
        code = getattr(exc, "sqlite_errorcode", None)
        return code == getattr(sqlite3, "SQLITE_FULL", 13) or "disk is full" in str(exc)
    return False


def _write_npy(path: Path, array: npt.NDArray[np.generic]) -> None:
    tmp = path.with_name(path.name + ".tmp")
    try:
        with open(tmp, "wb") as fh:
            np.save(fh, array)
            fh.flush()
            os.fsync(fh.fileno())
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise
    os.replace(tmp, path)
    dir_fd = os.open(path.parent, os.O_RDONLY)
    try:
        os.fsync(dir_fd)
    finally:
        os.close(dir_fd)
