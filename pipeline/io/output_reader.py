"""Reading a run's output directory back (what ``cleanwire stats`` and ``report`` read).

Everything streams: the kept records are read batch by batch through :mod:`pyarrow.dataset`, so
both the flat layout and hive partitions such as ``lang=en/part-*.parquet`` work, and only the
columns asked for are read. The rejects and dropped records come from their final files, or,
while a run is still going, from the finished shards' files in the state (both gzip JSON lines,
:mod:`pipeline.io.left_records`). A run still going (or killed) has no manifest yet: then only
the finished shards count, the part files their markers name and their rejects and dropped
files. Which file is which is :class:`~pipeline.io.layout.OutputLayout`'s to say.

A file that cannot be read (cut short, emptied, not JSON) is an :class:`InputError` naming it.
"""

from __future__ import annotations

import json
import zlib
from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.dataset as ds
import pyarrow.parquet as pq

from pipeline.core.errors import InputError
from pipeline.io.layout import OutputLayout, part_name
from pipeline.io.left_records import iter_left

#: Rows per batch read.
BATCH_ROWS = 65_536
#: What reading a damaged file raises: pyarrow's errors (a Parquet file cut short or emptied),
#: gzip's (``EOFError``, ``zlib.error``, ``BadGzipFile``), json's (``ValueError``) and a line that
#: is JSON but not an object (``TypeError``).
DAMAGED = (pa.ArrowException, OSError, EOFError, zlib.error, ValueError, TypeError)


def hive_partitioning(root: Path, files: Iterable[Path]) -> ds.Partitioning:
    """``key=value`` directories as string fields (inference fails when every value is null)."""
    keys: list[str] = []
    for f in files:
        for part in f.relative_to(root).parts[:-1]:
            key = part.split("=", 1)[0]
            if "=" in part and key not in keys:
                keys.append(key)
    return ds.partitioning(pa.schema([(k, pa.string()) for k in keys]), flavor="hive")


class OutputReader:
    """The files of the output directory ``root``, as a run (finished or not) left them."""

    def __init__(self, root: str | Path) -> None:
        self.root = Path(root)
        self.layout = OutputLayout(self.root)

    def check(self) -> None:
        """Refuse a path that is not an output directory of ``cleanwire run``."""
        if not self.root.exists():
            raise InputError(f"input not found: {self.root}", hint="pass the -o directory of `cleanwire run`")
        if not self.root.is_dir():
            raise InputError(
                f"{self.root} is not a directory", hint="pass the -o directory of `cleanwire run`"
            )
        layout = self.layout
        if layout.legacy_files():
            raise InputError(
                f"{self.root} was written by an older cleanwire (manifest.json, rejects.parquet, "
                f"dropped.parquet and _state/ beside the part files; they now live in {layout.META_DIR}/)",
                hint=f"rerun `cleanwire run INPUTS... -o {self.root} --overwrite` to rewrite it",
            )
        if not layout.part_files() and not layout.meta_dir.is_dir():
            raise InputError(
                f"{self.root} holds no cleanwire output (no {layout.PART_GLOB}, no {layout.META_DIR}/)",
                hint="pass the -o directory of `cleanwire run`",
            )

    def manifest(self) -> dict[str, Any] | None:
        """The manifest, or None while the run has not finished (or if it is not an object)."""
        path = self.layout.manifest
        if not path.exists():
            return None
        try:
            data = json.loads(path.read_text(encoding="utf-8"))
        except (OSError, ValueError) as exc:
            raise self.damaged(path, exc) from exc
        return data if isinstance(data, dict) else None

    def damaged(self, path: Path, exc: BaseException) -> InputError:
        """The error for a file of the directory that cannot be read, on one line."""
        reason = " ".join(str(exc).split()) or type(exc).__name__
        return InputError(
            f"cannot read {path}: {reason}",
            hint=f"the output is damaged: rerun `cleanwire run INPUTS... -o {self.root} --overwrite` "
            "to rewrite it",
        )

    def _guarded(self, path: Path, batches: Iterable[pa.RecordBatch]) -> Iterator[pa.RecordBatch]:
        """``batches`` read from ``path``, a read error turned into :meth:`damaged`."""
        it = iter(batches)
        while True:
            try:
                batch = next(it)
            except StopIteration:
                return
            except DAMAGED as exc:
                raise self.damaged(path, exc) from exc
            yield batch

    def finished_shards(self) -> dict[str, list[str]]:
        """The shards whose marker is in the state, each with the files it names (relative)."""
        shards: dict[str, list[str]] = {}
        for marker in self.layout.markers():
            shard = self.layout.shard_of(marker)
            try:
                data = json.loads(marker.read_text(encoding="utf-8"))
            except (OSError, ValueError) as exc:
                raise self.damaged(marker, exc) from exc
            files = data.get("files", [part_name(shard, 0)]) if isinstance(data, dict) else None
            if not isinstance(files, list):
                raise self.damaged(marker, ValueError("not a shard marker (no list of files)"))
            shards[shard] = [str(f) for f in files]
        return shards

    def in_progress(self) -> bool:
        """Whether this is a run still going or killed: its folder but no manifest yet."""
        return self.layout.meta_dir.is_dir() and not self.layout.manifest.exists()

    def part_files(self) -> list[Path]:
        """The part files of the kept records: all of a finished run's; of a run still going (or
        killed), those that the finished shards' markers name."""
        files = self.layout.part_files()
        if not self.in_progress():
            return files
        named = {name for names in self.finished_shards().values() for name in names}
        return [f for f in files if f.relative_to(self.root).as_posix() in named]

    def kept_dataset(self) -> ds.Dataset | None:
        """The kept records (part files, partition columns included), or None if there are none."""
        files = self.part_files()
        if not files:
            return None
        try:  # the dataset takes its schema from the first file
            pq.read_schema(files[0])
        except DAMAGED as exc:
            raise self.damaged(files[0], exc) from exc
        return ds.dataset(
            [str(f) for f in files],
            format="parquet",
            partitioning=hive_partitioning(self.root, files),
            partition_base_dir=str(self.root),
        )

    def iter_kept(
        self, columns: Iterable[str], filter: pc.Expression | None = None
    ) -> Iterator[pa.RecordBatch]:
        """Batches of the kept records with those of ``columns`` the files have."""
        dataset = self.kept_dataset()
        if dataset is None:
            return
        names = set(dataset.schema.names)
        cols = [c for c in columns if c in names]
        for fragment in dataset.get_fragments():  # file by file, to name a damaged one
            batches = fragment.to_batches(
                schema=dataset.schema, columns=cols, filter=filter, batch_size=BATCH_ROWS, use_threads=False
            )
            yield from self._guarded(Path(fragment.path), batches)

    def left_files(self, kind: str) -> list[Path]:
        """The ``rejects``/``dropped`` file; while a run is still going (not written yet), the
        per-shard files of the finished shards in the state, matching their part files."""
        path = self.layout.left(kind)
        if path.exists():
            return [path]
        shards = self.finished_shards()
        return [p for p in (self.layout.shard_left(s, kind) for s in sorted(shards)) if p.exists()]

    def iter_left(self, kind: str) -> Iterator[pa.RecordBatch]:
        """Batches of the ``rejects`` or ``dropped`` records."""
        for path in self.left_files(kind):
            yield from self._guarded(path, iter_left(path, BATCH_ROWS))
