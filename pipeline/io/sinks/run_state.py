"""The resume state of an output directory: a marker per finished shard, written last when the
shard commits, saying what made it (the run's hash, its inputs with size and mtime), which part
files it wrote, its counts and its per-stage counters.

From the markers and the manifest, :class:`RunState` decides what a rerun may skip (:meth:`done`,
:meth:`finished_run`) and refuses a rerun that would mix two runs (:meth:`check_config`,
:meth:`check_plan`). A sink that resumes asks it; the names of the files are
:class:`~pipeline.io.layout.OutputLayout`'s.
"""

from __future__ import annotations

import json
import shutil
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.parquet as pq

from pipeline.core.accounting import Tally
from pipeline.core.config import added_setting_hint, settings_diff
from pipeline.core.errors import OutputError
from pipeline.core.pathnames import display_path, path_from_json
from pipeline.core.schema import OUTPUT_SCHEMA
from pipeline.core.stage import StageStats
from pipeline.io.layout import OutputLayout, part_name
from pipeline.io.sinks.base import FinishedShard
from pipeline.io.sinks.files import write_json_atomic


def _path_of(entry: Any) -> Any:
    """The path of a marker input entry (``[path, size, mtime_ns]``, or a bare path), as
    ``open()`` takes it: the entries write it as :func:`~pipeline.core.pathnames.path_json` does
    (markers of older cleanwires: a string, maybe with surrogate escapes; the same path)."""
    path = entry[0] if isinstance(entry, list) else entry
    try:
        return path_from_json(path)
    except ValueError:
        return path


def _same_input(entry: Any) -> Any:
    """A marker input entry in a form that compares equal however its path was written."""
    return [_path_of(entry), *entry[1:]] if isinstance(entry, list) else _path_of(entry)


class RunState:
    """The markers and manifest of the runs an output directory holds."""

    def __init__(self, layout: OutputLayout) -> None:
        self.layout = layout

    # --- what earlier runs left -------------------------------------------------------------

    def has_markers(self) -> bool:
        """Whether any shard is marked finished."""
        return bool(self.layout.markers())

    def recorded_files(self) -> list[Path]:
        """What runs of cleanwire wrote here, and nothing else: the part files named by the
        manifest and by the shards' markers, the manifest, the rejects and dropped files."""
        layout = self.layout
        return self._named(
            layout.manifest, layout.markers(), {layout.MANIFEST, layout.REJECTS, layout.DROPPED}
        )

    def legacy_recorded_files(self) -> list[Path]:
        """The part files an older cleanwire's manifest and markers (``manifest.json``,
        ``_state/*.done.json`` at the top of the directory) name."""
        root = self.layout.root
        manifest = root / "manifest.json"
        markers = sorted((root / "_state").glob("*.done.json"))
        return [p for p in self._named(manifest, markers, set()) if p.name.endswith(".parquet")]

    def _named(self, manifest: Path, markers: list[Path], names: set[str]) -> list[Path]:
        """``names`` and the files a manifest (its ``outputs``) and markers (``files``) name,
        those that exist inside the directory."""
        names = set(names)
        if manifest.is_file():
            names |= set(json.loads(manifest.read_text(encoding="utf-8")).get("outputs", {}))
        for marker in markers:
            names |= set(json.loads(marker.read_text(encoding="utf-8")).get("files", []))
        root = self.layout.root.resolve()
        paths = (self.layout.root / name for name in sorted(names))
        return [p for p in paths if p.is_file() and p.resolve().is_relative_to(root)]

    def clear(self) -> None:
        """Remove the whole state (markers and the shards' side files)."""
        shutil.rmtree(self.layout.state_dir, ignore_errors=True)

    def forget_shards(self) -> None:
        """Remove the markers: no shard counts as finished any more."""
        for marker in self.layout.markers():
            marker.unlink(missing_ok=True)

    # --- may this run resume here? ----------------------------------------------------------

    def check_config(self, run_hash: str, settings: Mapping[str, Any] | None = None) -> None:
        """Refuse a directory that holds a run made with another configuration (or chain), naming
        the settings that differ (``dedup.enabled: true → false``) when the markers or the
        manifest recorded theirs (``settings``: the run's :meth:`Config.content_dict
        <pipeline.core.config.Config.content_dict>`) and ``settings`` gives this run's."""
        records = [json.loads(p.read_text(encoding="utf-8")) for p in self.layout.markers()]
        if self.layout.manifest.exists():
            records.append(json.loads(self.layout.manifest.read_text(encoding="utf-8")))
        others = [r for r in records if r.get("config_hash") != run_hash]
        if not others:
            return
        theirs = next((r["settings"] for r in others if isinstance(r.get("settings"), dict)), None)
        added = None
        if theirs is not None and settings is not None:
            changes = settings_diff(theirs, settings)
            added = added_setting_hint(changes)
            what = (
                "; ".join(changes)
                if changes
                else "the same settings, but another chain of stages (custom stages, or another order)"
            )
        else:  # written by an older cleanwire, whose markers did not record the settings
            hashes = sorted({str(r.get("config_hash")) for r in others})
            what = f"config hash {', '.join(hashes)}; this one is {run_hash}"
        raise OutputError(
            f"{self.layout.root} holds a run made with another configuration: {what}",
            hint="rerun with the settings it was made with to resume it"
            + (f" ({added})" if added else "")
            + ", choose another output directory, or pass --overwrite to replace it",
        )

    def check_plan(self, plan: Mapping[str, list[Any]]) -> None:
        """Refuse to resume into a directory whose finished shards were made from other inputs
        (shard names are positions in the plan, so other inputs would mix two runs), or from
        inputs that changed since (``[path, size, mtime_ns]`` entries)."""
        for path in self.layout.markers():
            marker = json.loads(path.read_text(encoding="utf-8"))
            shard, inputs = marker.get("shard"), marker.get("inputs")
            now = plan.get(shard)
            if inputs is None or (
                now is not None and [_same_input(i) for i in now] == [_same_input(i) for i in inputs]
            ):
                continue
            if now is not None and [_path_of(i) for i in now] == [_path_of(i) for i in inputs]:
                raise OutputError(
                    f"an input of finished shard {shard} in {self.layout.root} changed since it was "
                    "written (size or modification time)",
                    hint="pass --overwrite to redo the run, or choose another output directory",
                )
            paths = [display_path(str(_path_of(i))) for i in inputs]
            raise OutputError(
                f"{self.layout.root} holds a run over other inputs (shard {shard} was made from "
                f"{paths[:3]}{'...' if len(paths) > 3 else ''})",
                hint="rerun with the same inputs to resume, choose another output directory, "
                "or pass --overwrite to replace it",
            )

    def finished_run(self, shards: list[str], run_hash: str) -> dict[str, Any] | None:
        """The manifest, if this directory already holds this run, finished (then a rerun does
        nothing and changes no byte)."""
        path = self.layout.manifest
        if not path.exists():
            return None
        manifest: dict[str, Any] = json.loads(path.read_text(encoding="utf-8"))
        if manifest.get("config_hash") != run_hash or sorted(manifest.get("shards", {})) != sorted(shards):
            return None
        outputs = manifest.get("outputs", {})
        if not all((self.layout.root / name).exists() for name in outputs):
            return None
        return manifest if all(self.done(s) is not None for s in shards) else None

    # --- one shard --------------------------------------------------------------------------

    def _finished(self, shard: str) -> tuple[dict[str, Any], list[Path]] | None:
        """A finished shard's marker and the part files it names, or None if it is not done
        (no marker, or a part file missing)."""
        path = self.layout.marker(shard)
        if not path.exists():
            return None
        marker: dict[str, Any] = json.loads(path.read_text())
        files = [self.layout.root / name for name in marker.get("files", [part_name(shard, 0)])]
        return (marker, files) if all(f.exists() for f in files) else None

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
        """The content hashes of the records a finished shard kept (none if it is not done)."""
        finished = self._finished(shard)
        files = finished[1] if finished is not None else []
        return [
            str(h)
            for path in files
            for h in pq.read_table(path, columns=["content_hash"]).column(0).to_pylist()
        ]

    def kept_records(self, shard: str, columns: Sequence[str]) -> pa.Table:
        """Those columns of the records a finished shard kept (none if it is not done), file by
        file in the order the marker names them (the order they were written)."""
        finished = self._finished(shard)
        files = finished[1] if finished is not None else []
        schema = pa.schema([OUTPUT_SCHEMA.field(c) for c in columns])
        tables = [pq.ParquetFile(path).read(columns=list(columns)).select(list(columns)) for path in files]
        return pa.concat_tables([schema.empty_table(), *(t.cast(schema) for t in tables)])

    def mark_done(
        self,
        shard: str,
        *,
        run_hash: str,
        settings: Mapping[str, Any] | None = None,
        inputs: Sequence[Any],
        files: list[str],
        tally: Tally,
        stages: Mapping[str, StageStats],
    ) -> None:
        """Write the marker of a shard whose files are all final (the last write of a shard)."""
        marker = {
            "shard": shard,
            "config_hash": run_hash,
            "settings": dict(settings) if settings is not None else None,
            "inputs": list(inputs),
            "files": files,
            "tally": tally.to_dict(),
            "stages": {name: st.to_dict() for name, st in stages.items()},
        }
        write_json_atomic(self.layout.marker(shard), marker)
