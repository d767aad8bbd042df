"""An output directory's lifecycle, the same for every sink that writes one: creating it and
taking its lock (one run at a time: :mod:`pipeline.io.sinks.lock`) before anything else (with
``--overwrite``, then removing what earlier runs wrote there, and only that; without it,
refusing a directory in an older cleanwire's layout), refusing inputs it would overwrite,
sweeping what a killed run left under temporary names, committing each shard (its kept rows, its
rejects and dropped records, then its marker), at the end gathering the rejects and dropped
records of every shard and writing the manifest, last, and releasing the lock.

A write that fails (a full disk, the directory removed while the run goes on, no permission)
stops the run with one :class:`~pipeline.core.errors.OutputError` (exit 4) naming the cause; the
shard in progress is discarded whole (its temporary files, and part files it had renamed into
place before its marker), so a rerun once the cause is gone resumes from the finished shards. A
removed directory is never made again: before each batch and each commit the run checks that the
directory still holds its lock file (:meth:`DirectoryLock.intact
<pipeline.io.sinks.lock.DirectoryLock.intact>`).
"""

from __future__ import annotations

import contextlib
import errno
import os
import shutil
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq

from pipeline.core.accounting import Tally, rows_where
from pipeline.core.config import Config
from pipeline.core.errors import OutputError
from pipeline.core.record import Status, reject_rows
from pipeline.core.schema import OUTPUT_SCHEMA
from pipeline.core.stage import StageStats
from pipeline.io.layout import OutputLayout
from pipeline.io.left_records import gather_left, write_left
from pipeline.io.sinks.base import KeptOutput
from pipeline.io.sinks.files import sha256_file, write_json_atomic
from pipeline.io.sinks.lock import DirectoryLock
from pipeline.io.sinks.run_state import RunState


class OutputDirectory:
    """The files of a run under ``root`` (named by :attr:`layout`, resume state in :attr:`state`)."""

    def __init__(self, root: Path, config: Config, *, overwrite: bool = False) -> None:
        self.root = root
        self.config = config
        self.overwrite = overwrite
        self.layout = OutputLayout(root)
        self.state = RunState(self.layout)
        #: Held from :meth:`prepare` to :meth:`release`: no other run writes here meanwhile.
        self.lock = DirectoryLock(self.layout.lock, f"the output directory {root}")
        self._run_hash: str | None = None
        #: What the config hash covers (:meth:`Config.content_dict`), recorded in every marker so
        #: that a rerun with other settings can be told which ones differ.
        self.settings: dict[str, Any] | None = None

    @property
    def run_hash(self) -> str:
        """What made the output (see :meth:`prepare`); markers, manifest and files carry it."""
        if self._run_hash is None:
            raise RuntimeError(f"the output directory {self.root} is not prepared: call prepare(run_hash)")
        return self._run_hash

    def prepare(self, run_hash: str) -> None:
        """Create the directory for a run identified by ``run_hash``: ``config.hash``, or the
        pipeline's :attr:`~pipeline.api.Pipeline.run_hash` (custom stages count); refuse one
        that holds a run made with another configuration."""
        self._run_hash = run_hash
        if self.root.exists() and not self.root.is_dir():
            raise OutputError(
                f"output path {self.root} exists and is not a directory",
                hint="pass a directory path to -o/--output",
            )
        self._take_lock()
        with self.io_errors():
            if self.overwrite:
                self._remove_own_files()
            self._refuse_legacy()
            self._refuse_foreign()
            state_dir = self.layout.state_dir
            state_dir.mkdir(parents=True, exist_ok=True)
            probe = state_dir / ".write-probe"
            probe.write_bytes(b"")
            probe.unlink()
            self.settings = self.config.content_dict()
            self.state.check_config(run_hash, self.settings)
            self._remove_temp_files()

    def _take_lock(self) -> None:
        """Create the directory and take its lock, before anything in it is read, written or
        removed; refuse (exit 4) while another run holds it."""
        try:
            self.layout.meta_dir.mkdir(parents=True, exist_ok=True)
            self.lock.acquire()
        except OSError as exc:
            raise self.write_error(exc) from exc

    def release(self) -> None:
        """The run is over, however it ended: remove the lock file and let the lock go (and
        ``_cleanwire/`` itself when nothing else is in it: a run refused before it wrote)."""
        if not self.lock.held:
            return
        self.lock.release()
        with contextlib.suppress(OSError):  # it holds the run's files (or another run's lock)
            self.layout.meta_dir.rmdir()

    def check_present(self) -> None:
        """Stop the run if its directory was removed or replaced since it took the lock (writing
        on would make it again, or write into another run's directory)."""
        if self.lock.held and not self.lock.intact():
            raise self._removed()

    def _removed(self) -> OutputError:
        return OutputError(
            f"the output directory {self.root} was removed (or replaced) while this run wrote to it",
            hint="nothing more was written there; rerun the same command to start again",
        )

    @contextmanager
    def io_errors(self) -> Iterator[None]:
        """Turn a failed read or write of the directory into one :class:`OutputError` (exit 4)
        that names the cause (the directory removed, no space left, another error) instead of a
        traceback."""
        try:
            yield
        except BrokenPipeError:  # stdout's reader went away (--format jsonl | head): not ours
            raise
        except OSError as exc:
            raise self.write_error(exc) from exc

    def write_error(self, exc: OSError) -> OutputError:
        """The :class:`OutputError` for an ``OSError`` raised while the run used the directory."""
        if self.lock.held and not self.lock.intact():
            return self._removed()
        if exc.errno in (errno.ENOSPC, errno.EDQUOT):
            return OutputError(
                f"the output directory {self.root} is out of space: {os.strerror(exc.errno).lower()}",
                hint="free some space there (this run removed its unfinished files), then rerun the "
                "same command: the shards already finished are kept",
            )
        # the file that failed, unless it is the directory itself
        where = f" ({exc.filename})" if exc.filename and Path(exc.filename) != Path(self.root) else ""
        hint = None
        if exc.errno in (errno.EROFS, errno.EACCES, errno.EPERM):
            hint = "choose an output directory you can write to (-o), or make this one writable"
        return OutputError(
            f"cannot write to output directory {self.root}: {exc.strerror or exc}{where}", hint=hint
        )

    def _refuse_legacy(self) -> None:
        """Refuse a directory an older cleanwire wrote (its manifest, rejects and state beside
        the part files): resuming into it would mix the two layouts."""
        legacy = self.layout.legacy_files()
        if legacy:
            names = ", ".join(p.name + ("/" if p.is_dir() else "") for p in legacy)
            raise OutputError(
                f"{self.root} holds the output of an older cleanwire ({names} beside the part files; "
                f"a run now keeps them under {self.layout.META_DIR}/), which this run cannot resume",
                hint=f"pass --overwrite to redo the run in {self.root} (it removes only the files "
                "cleanwire wrote there), or choose another output directory",
            )

    def _refuse_foreign(self) -> None:
        """Refuse a directory that holds Parquet files no run wrote (another tool's
        ``data.parquet``): every reader of the output would read them as kept records. Other
        files (notes, a README) stay, as ``--overwrite`` leaves them."""
        foreign = self.layout.foreign_parquet()
        if foreign:
            shown = ", ".join(str(p.relative_to(self.root)) for p in foreign[:3])
            more = f" and {len(foreign) - 3} more" if len(foreign) > 3 else ""
            raise OutputError(
                f"{self.root} holds Parquet files cleanwire did not write ({shown}{more}): readers "
                "of the output would take them for kept records",
                hint="choose another output directory, or move those files (--overwrite removes "
                "only cleanwire's own files)",
            )

    def _remove_temp_files(self) -> None:
        """Files a killed run left under temporary names (never final ones), in partition
        directories too."""
        for stale in self.layout.temp_files():
            stale.unlink(missing_ok=True)

    def _remove_own_files(self) -> None:
        """``--overwrite``: remove what runs wrote here (:meth:`RunState.recorded_files`), the
        state, temporary files and the partition directories left empty. Anything else stays."""
        for path in self.state.recorded_files():
            path.unlink()
        self.state.clear()
        self._remove_legacy_files()
        self._remove_temp_files()  # before the emptied partition directories are looked for
        for dirpath, _, _ in sorted(os.walk(self.root), key=lambda w: -len(w[0])):
            here = Path(dirpath)
            if here != self.root and "=" in here.name and not any(here.iterdir()):
                here.rmdir()

    def _remove_legacy_files(self) -> None:
        """``--overwrite`` of a directory an older cleanwire wrote: its part files (those its
        manifest and markers name), manifest, rejects, dropped records and state."""
        for path in self.state.legacy_recorded_files():
            path.unlink()
        for path in self.layout.legacy_files():
            if path.is_dir():
                shutil.rmtree(path)
            else:
                path.unlink()

    def check_inputs(self, inputs: Sequence[Path]) -> None:
        """Refuse inputs this directory would overwrite: the directory itself, or a file of a
        run's output in it (a part file, the side files, the state). An input directory that
        holds the output directory is fine: its walk leaves the output out."""
        root = self.root.resolve()
        for path in inputs:
            if str(path) == "-":
                continue
            full = path.resolve()
            if full == root:
                raise OutputError(
                    f"the output directory {self.root} is also an input",
                    hint=f"write the output elsewhere, e.g. -o {self.root.name}-clean",
                )
            if full.is_relative_to(root) and self.layout.is_output_file(full.relative_to(root)):
                raise OutputError(
                    f"input {path} is a file of the output directory {self.root}, which this run writes",
                    hint="read the output of an earlier run from another output directory",
                )

    def write_shard_left(self, shard: str, kind: str, tables: list[pa.Table]) -> None:
        """The ``rejects`` or ``dropped`` records of one shard, into the state until :meth:`finish`."""
        write_left(self.layout.shard_left(shard, kind), tables)

    def finish(self, shards: list[str], manifest: dict[str, Any]) -> Path:
        """Gather rejects/dropped of every shard, then write the manifest last."""
        self.check_present()
        with self.io_errors():
            return self._finish(shards, manifest)

    def _finish(self, shards: list[str], manifest: dict[str, Any]) -> Path:
        layout = self.layout
        rows = {path: pq.ParquetFile(path).metadata.num_rows for path in layout.part_files()}
        for kind in layout.LEFT:
            rows[layout.left(kind)] = gather_left(
                [layout.shard_left(s, kind) for s in shards], layout.left(kind)
            )
        outputs: dict[str, dict[str, Any]] = {}
        for path, n in rows.items():
            outputs[path.relative_to(self.root).as_posix()] = {
                "sha256": sha256_file(path),
                "rows": n,
                "bytes": path.stat().st_size,
            }
        write_json_atomic(layout.manifest, {**manifest, "outputs": outputs})
        return layout.manifest


class ShardWriter:
    """Receives the processed batches of one shard and commits them atomically: the kept rows to
    ``kept``, rejects and dropped records to the state, then the shard's marker."""

    def __init__(
        self,
        directory: OutputDirectory,
        shard: str,
        kept: KeptOutput,
        inputs: Sequence[Any] = (),
    ) -> None:
        self.directory = directory
        self.shard = shard
        self.kept = kept
        self.inputs = list(inputs)
        self.rejects: list[pa.Table] = []
        self.dropped: list[pa.Table] = []
        self.tally = Tally()
        #: per-stage counters of this shard, kept in its marker so a resumed run still reports them
        self.stages: dict[str, StageStats] = {}

    def count_stages(self, stats: Mapping[str, StageStats]) -> None:
        for name, st in stats.items():
            self.stages.setdefault(name, StageStats()).merge(st)

    def write(self, batch: pa.RecordBatch) -> None:
        self.directory.check_present()
        self.tally.add_batch(batch)
        status = batch.column("status")
        # the output columns only: a kept page's raw HTML is not copied to be thrown away
        out = pa.RecordBatch.from_arrays([batch.column(f.name) for f in OUTPUT_SCHEMA], schema=OUTPUT_SCHEMA)
        ok = rows_where(out, pc.equal(status, Status.OK.scalar()))
        if ok is not None:
            with self.directory.io_errors():
                self.kept.add(ok)
        for kind, kept in ((Status.REJECTED, self.rejects), (Status.DROPPED, self.dropped)):
            rows = rows_where(batch, pc.equal(status, kind.scalar()))
            if rows is not None:
                kept.append(reject_rows(rows))

    def commit(self) -> Tally:
        """Make the shard final, its marker last; if anything fails on the way, discard the
        shard whole (:meth:`abort`) and raise."""
        try:
            self.directory.check_present()
            with self.directory.io_errors():
                files = self.kept.commit()
                for kind, tables in (("rejects", self.rejects), ("dropped", self.dropped)):
                    self.directory.write_shard_left(self.shard, kind, tables)
                self.directory.state.mark_done(
                    self.shard,
                    run_hash=self.directory.run_hash,
                    settings=self.directory.settings,
                    inputs=self.inputs,
                    files=files,
                    tally=self.tally,
                    stages=self.stages,
                )
        except BaseException:
            self.abort()
            raise
        return self.tally

    def abort(self) -> None:
        """Discard what the shard wrote (never raises: it runs while another error is on its way)."""
        self.kept.abort()
