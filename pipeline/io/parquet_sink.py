"""Sinks: where cleaned records, rejects and the manifest go.

:class:`ParquetSink` writes one output file per input shard (``part-<shard>.parquet``), rejects
and dropped records per shard under ``_state/``, a completion marker per shard, and at the end
``rejects.parquet``, ``dropped.parquet`` and ``manifest.json`` (last). Every file is written to
a temporary name, fsynced and renamed, so a killed run never leaves a half-written file under a
final name, and a rerun skips shards whose marker exists.
"""

from __future__ import annotations

import functools
import hashlib
import json
import os
import shutil
from collections.abc import Sequence
from dataclasses import dataclass
from importlib.metadata import PackageNotFoundError, version
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq

from pipeline.core.accounting import Tally
from pipeline.core.config import Config
from pipeline.core.errors import OutputError
from pipeline.core.fsutil import atomic_path
from pipeline.core.record import Status, reject_rows
from pipeline.core.schema import OUTPUT_SCHEMA, REJECT_SCHEMA, SCHEMA_VERSION
from pipeline.core.stage import StageStats
from pipeline.io.layout import KeptOutput, OutputLayout, PartFiles, part_name

LIBRARIES = ("cleanwire", "trafilatura", "ftfy", "langdetect", "pyarrow")


def library_versions() -> dict[str, str]:
    return dict(_library_versions())


@functools.cache  # read from the installed packages' metadata (~1 ms a lookup), once per process
def _library_versions() -> tuple[tuple[str, str], ...]:
    out: list[tuple[str, str]] = []
    for name in LIBRARIES:
        try:
            out.append((name, version(name)))
        except PackageNotFoundError:
            out.append((name, "unknown"))
    return tuple(out)


def file_metadata(run_hash: str) -> dict[bytes, bytes]:
    """Parquet key-value metadata of every file a run writes (``run_hash``: see
    :attr:`ParquetSink.run_hash`)."""
    meta = {"schema_version": SCHEMA_VERSION, "config_hash": run_hash, **library_versions()}
    return {f"cleanwire.{k}".encode(): v.encode() for k, v in meta.items()}


def json_bytes(data: Any) -> bytes:
    """Readable UTF-8 JSON; ASCII-escaped when ``data`` holds strings UTF-8 cannot carry (file
    names that are not valid UTF-8 arrive as lone surrogates), so they still round-trip exactly."""
    text = json.dumps(data, indent=2, sort_keys=True, ensure_ascii=False) + "\n"
    try:
        return text.encode("utf-8")
    except UnicodeEncodeError:
        return (json.dumps(data, indent=2, sort_keys=True, ensure_ascii=True) + "\n").encode("ascii")


def write_json_atomic(path: Path, data: Any) -> None:
    with atomic_path(path) as tmp:
        tmp.write_bytes(json_bytes(data))


def write_table_atomic(path: Path, table: pa.Table, config: Config, run_hash: str) -> None:
    table = table.replace_schema_metadata(file_metadata(run_hash))
    with atomic_path(path) as tmp:
        pq.write_table(table, tmp, compression=config.run.compression)


def sha256_file(path: Path) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as fh:
        for chunk in iter(lambda: fh.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()


class ShardWriter:
    """Receives the processed batches of one shard and commits them atomically."""

    def __init__(self, sink: ParquetSink, shard: str, inputs: Sequence[Any] = ()) -> None:
        self.sink = sink
        self.shard = shard
        self.inputs = list(inputs)
        self.parts = sink.kept_output(shard)
        self.rejects: list[pa.Table] = []
        self.dropped: list[pa.Table] = []
        self.tally = Tally()
        #: per-stage counters of this shard, kept in its marker so a resumed run still reports them
        self.stages: dict[str, StageStats] = {}

    def count_stages(self, stats: dict[str, StageStats]) -> None:
        for name, st in stats.items():
            self.stages.setdefault(name, StageStats()).merge(st)

    def write(self, batch: pa.RecordBatch) -> None:
        self.tally.add_batch(batch)
        status = batch.column("status")
        ok = batch.filter(pc.equal(status, Status.OK.value))
        if ok.num_rows:
            out = pa.RecordBatch.from_arrays([ok.column(f.name) for f in OUTPUT_SCHEMA], schema=OUTPUT_SCHEMA)
            self.parts.add(out)
        for kind, kept in ((Status.REJECTED, self.rejects), (Status.DROPPED, self.dropped)):
            rows = batch.filter(pc.equal(status, kind.value))
            if rows.num_rows:
                kept.append(reject_rows(rows))

    def commit(self) -> Tally:
        files = self.parts.commit()
        layout = self.sink.layout
        for name, tables in (("rejects", self.rejects), ("dropped", self.dropped)):
            table = pa.concat_tables(tables) if tables else REJECT_SCHEMA.empty_table()
            write_table_atomic(
                layout.shard_left(self.shard, name), table, self.sink.config, self.sink.run_hash
            )
        marker = {
            "shard": self.shard,
            "config_hash": self.sink.run_hash,
            "inputs": self.inputs,
            "files": files,
            "tally": self.tally.to_dict(),
            "stages": {name: st.to_dict() for name, st in self.stages.items()},
        }
        write_json_atomic(layout.marker(self.shard), marker)
        return self.tally

    def abort(self) -> None:
        self.parts.abort()


@dataclass(frozen=True)
class FinishedShard:
    """A shard an earlier run finished: what its marker recorded."""

    tally: Tally
    stages: dict[str, StageStats]


def _path_of(entry: Any) -> Any:
    """The path of a marker input entry (``[path, size, mtime_ns]``, or a bare path)."""
    return entry[0] if isinstance(entry, list) else entry


class ParquetSink:
    """The output directory of a run."""

    def __init__(self, out_dir: str | os.PathLike[str], config: Config, *, overwrite: bool = False) -> None:
        self.out_dir = Path(out_dir)
        self.config = config
        #: What made the output: ``config.hash``, or the pipeline's :attr:`~pipeline.api.Pipeline.run_hash`
        #: once the runner has set it (custom stages count). Markers, manifest and files carry it.
        self.run_hash = config.hash
        self.overwrite = overwrite
        self.layout = OutputLayout(self.out_dir)
        self.state_dir = self.layout.state_dir

    def prepare(self) -> None:
        """Create the directory; refuse one that holds a run made with another config."""
        if self.out_dir.exists() and not self.out_dir.is_dir():
            raise OutputError(
                f"output path {self.out_dir} exists and is not a directory",
                hint="pass a directory path to -o/--output",
            )
        if self.overwrite and self.out_dir.exists():
            self._remove_own_files()
        try:
            self.state_dir.mkdir(parents=True, exist_ok=True)
            probe = self.state_dir / ".write-probe"
            probe.write_bytes(b"")
            probe.unlink()
        except OSError as exc:
            raise OutputError(f"cannot write to output directory {self.out_dir}: {exc.strerror}") from exc
        hashes = {json.loads(p.read_text())["config_hash"] for p in self.layout.markers()}
        if self.layout.manifest.exists():
            hashes.add(json.loads(self.layout.manifest.read_text())["config_hash"])
        if hashes - {self.run_hash}:
            raise OutputError(
                f"{self.out_dir} holds a run made with another configuration ({', '.join(sorted(hashes))}; "
                f"this one is {self.run_hash})",
                hint="choose another output directory, or pass --overwrite to replace it",
            )
        self._remove_temp_files()

    def _remove_temp_files(self) -> None:
        """Files a killed run left under temporary names (never final ones), in partition
        directories too."""
        for stale in self.layout.temp_files():
            stale.unlink(missing_ok=True)

    def check_inputs(self, inputs: Sequence[Path]) -> None:
        """Refuse inputs this directory would overwrite: the directory itself, or a file of a
        run's output in it (a part file, the side files, the state). An input directory that
        holds the output directory is fine: its walk leaves the output out."""
        root = self.out_dir.resolve()
        for path in inputs:
            if str(path) == "-":
                continue
            full = path.resolve()
            if full == root:
                raise OutputError(
                    f"the output directory {self.out_dir} is also an input",
                    hint=f"write the output elsewhere, e.g. -o {self.out_dir.name}-clean",
                )
            if full.is_relative_to(root) and self.layout.is_output_file(full.relative_to(root)):
                raise OutputError(
                    f"input {path} is a file of the output directory {self.out_dir}, which this run writes",
                    hint="read the output of an earlier run from another output directory",
                )

    def own_files(self) -> list[Path]:
        """What runs of cleanwire wrote here, and nothing else: the part files named by the
        manifest and by the shards' markers, the manifest, the rejects and dropped files."""
        layout = self.layout
        names = {layout.MANIFEST, layout.REJECTS, layout.DROPPED}
        if layout.manifest.is_file():
            names |= set(json.loads(layout.manifest.read_text(encoding="utf-8")).get("outputs", {}))
        for marker in layout.markers():
            names |= set(json.loads(marker.read_text(encoding="utf-8")).get("files", []))
        root = self.out_dir.resolve()
        paths = (self.out_dir / name for name in sorted(names))
        return [p for p in paths if p.is_file() and p.resolve().is_relative_to(root)]

    def _remove_own_files(self) -> None:
        """``--overwrite``: remove :meth:`own_files`, the state directory, temporary files and the
        partition directories left empty. Anything else in the directory stays."""
        for path in self.own_files():
            path.unlink()
        shutil.rmtree(self.state_dir, ignore_errors=True)
        self._remove_temp_files()  # before the emptied partition directories are looked for
        for dirpath, _, _ in sorted(os.walk(self.out_dir), key=lambda w: -len(w[0])):
            here = Path(dirpath)
            if here != self.out_dir and "=" in here.name and not any(here.iterdir()):
                here.rmdir()

    def check_plan(self, plan: dict[str, list[Any]]) -> None:
        """Refuse to resume into a directory whose finished shards were made from other inputs
        (shard names are positions in the plan, so other inputs would mix two runs), or from
        inputs that changed since (``[path, size, mtime_ns]`` entries)."""
        for path in self.layout.markers():
            marker = json.loads(path.read_text(encoding="utf-8"))
            shard, inputs = marker.get("shard"), marker.get("inputs")
            now = plan.get(shard)
            if inputs is None or now == inputs:
                continue
            if now is not None and [_path_of(i) for i in now] == [_path_of(i) for i in inputs]:
                raise OutputError(
                    f"an input of finished shard {shard} in {self.out_dir} changed since it was "
                    "written (size or modification time)",
                    hint="pass --overwrite to redo the run, or choose another output directory",
                )
            paths = [_path_of(i) for i in inputs]
            raise OutputError(
                f"{self.out_dir} holds a run over other inputs (shard {shard} was made from "
                f"{paths[:3]}{'...' if len(paths) > 3 else ''})",
                hint="rerun with the same inputs to resume, choose another output directory, "
                "or pass --overwrite to replace it",
            )

    def finished_run(self, shards: list[str]) -> dict[str, Any] | None:
        """The manifest, if this directory already holds this run, finished (then a rerun does
        nothing and changes no byte)."""
        path = self.layout.manifest
        if not path.exists():
            return None
        manifest: dict[str, Any] = json.loads(path.read_text(encoding="utf-8"))
        if manifest.get("config_hash") != self.run_hash or sorted(manifest.get("shards", {})) != sorted(
            shards
        ):
            return None
        outputs = manifest.get("outputs", {})
        if not all((self.out_dir / name).exists() for name in outputs):
            return None
        return manifest if all(self.done(s) is not None for s in shards) else None

    def _finished(self, shard: str) -> tuple[dict[str, Any], list[Path]] | None:
        """A finished shard's marker and the part files it names, or None if it is not done
        (no marker, or a part file missing)."""
        path = self.layout.marker(shard)
        if not path.exists():
            return None
        marker: dict[str, Any] = json.loads(path.read_text())
        files = [self.out_dir / name for name in marker.get("files", [part_name(shard, 0)])]
        return (marker, files) if all(f.exists() for f in files) else None

    def _shard_files(self, shard: str) -> list[Path] | None:
        """The part files a finished shard wrote (from its marker), or None if it is not done."""
        finished = self._finished(shard)
        return finished[1] if finished is not None else None

    def done(self, shard: str) -> FinishedShard | None:
        """What a finished shard's marker recorded (its counts; its per-stage counters, none in
        older markers), or None if the shard is not done."""
        finished = self._finished(shard)
        if finished is None:
            return None
        marker = finished[0]
        stages = {name: StageStats.from_dict(d) for name, d in marker.get("stages", {}).items()}
        return FinishedShard(Tally.from_dict(marker["tally"]), stages)

    def kept_hashes(self, shard: str) -> list[str]:
        return [
            str(h)
            for path in self._shard_files(shard) or []
            for h in pq.read_table(path, columns=["content_hash"]).column(0).to_pylist()
        ]

    def kept_output(self, shard: str) -> KeptOutput:
        """Where the kept rows of ``shard`` go: bounded, optionally partitioned part files."""
        return PartFiles(self.out_dir, shard, self.config, file_metadata(self.run_hash))

    def open_shard(self, shard: str, inputs: Sequence[Any] = ()) -> ShardWriter:
        return ShardWriter(self, shard, inputs)

    def finish(self, shards: list[str], manifest: dict[str, Any]) -> Path:
        """Gather rejects/dropped of every shard, then write the manifest last."""
        outputs: dict[str, dict[str, Any]] = {}
        layout = self.layout
        for name in layout.LEFT:
            parts = [layout.shard_left(s, name) for s in shards]
            tables = [pq.read_table(p) for p in parts if p.exists()]
            table = pa.concat_tables(tables) if tables else REJECT_SCHEMA.empty_table()
            write_table_atomic(layout.left(name), table.cast(REJECT_SCHEMA), self.config, self.run_hash)
        for path in [*layout.part_files(), *(layout.left(name) for name in layout.LEFT)]:
            rows = pq.ParquetFile(path).metadata.num_rows
            outputs[path.relative_to(self.out_dir).as_posix()] = {
                "sha256": sha256_file(path),
                "rows": rows,
                "bytes": path.stat().st_size,
            }
        manifest = {**manifest, "outputs": outputs}
        path = layout.manifest
        write_json_atomic(path, manifest)
        return path
