"""Reading a run's output directory back (what ``cleanwire stats`` and ``report`` read).

Everything streams: the kept records are read batch by batch through :mod:`pyarrow.dataset`, so
both the flat layout and hive partitions such as ``lang=en/part-*.parquet`` work, and only the
columns asked for are read. The rejects and dropped records come from their final files, or,
while a run is still going, from the finished shards' files in the state (both gzip JSON lines,
:mod:`pipeline.io.left_records`). Which file is which is
:class:`~pipeline.io.layout.OutputLayout`'s to say.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.dataset as ds

from pipeline.core.errors import InputError
from pipeline.io.layout import OutputLayout
from pipeline.io.left_records import iter_left

#: Rows per batch read.
BATCH_ROWS = 65_536


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
            raise InputError(f"cannot read {path}: {exc}") from exc
        return data if isinstance(data, dict) else None

    def kept_dataset(self) -> ds.Dataset | None:
        """The kept records (part files, partition columns included), or None if there are none."""
        files = self.layout.part_files()
        if not files:
            return None
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
        yield from dataset.to_batches(columns=cols, filter=filter, batch_size=BATCH_ROWS, use_threads=False)

    def left_files(self, kind: str) -> list[Path]:
        """The ``rejects``/``dropped`` file; while a run is still going (not written yet), the
        per-shard files of the finished shards in the state, matching their part files."""
        path = self.layout.left(kind)
        if path.exists():
            return [path]
        return self.layout.shard_lefts(kind)

    def iter_left(self, kind: str) -> Iterator[pa.RecordBatch]:
        """Batches of the ``rejects`` or ``dropped`` records."""
        for path in self.left_files(kind):
            yield from iter_left(path, BATCH_ROWS)
