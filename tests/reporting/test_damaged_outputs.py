"""``cleanwire stats`` and ``report`` on output directories that are damaged, unfinished or missing:
an input error (exit 3) naming the file, never a traceback; a run still going (or killed) counts
only its finished shards."""

from __future__ import annotations

import gzip
import json
import os
import shutil
from collections.abc import Callable
from pathlib import Path

import pytest
from click.testing import CliRunner

from pipeline.cli import cli
from pipeline.core.errors import InputError
from pipeline.io.layout import OutputLayout
from pipeline.reporting.stats import compute_stats
from tests.conftest import REPO

DUMP = REPO / "fixtures" / "dump"


def _run(out: Path, *args: str) -> Path:
    res = CliRunner().invoke(cli, ["run", str(DUMP), "-o", str(out), "-w", "1", "--no-progress", *args])
    assert res.exit_code == 0, res.output
    return out


@pytest.fixture(scope="module")
def run_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = _run(tmp_path_factory.mktemp("damaged") / "out")
    assert len(OutputLayout(out).part_files()) == len(OutputLayout(out).markers()) == 2
    return out


@pytest.fixture(scope="module")
def partitioned_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return _run(tmp_path_factory.mktemp("damaged-hive") / "out", "--partition-by", "lang,month")


def _cut_part(out: Path) -> Path:
    path = OutputLayout(out).part_files()[-1]  # not the first: read while the batches stream
    os.truncate(path, 100)
    return path


def _empty_part(out: Path) -> Path:
    path = OutputLayout(out).part_files()[0]  # the first: the dataset takes its schema from it
    path.write_bytes(b"")
    return path


def _cut_rejects(out: Path) -> Path:
    path = OutputLayout(out).left("rejects")
    os.truncate(path, 30)
    return path


def _bad_json_dropped(out: Path) -> Path:
    path = OutputLayout(out).left("dropped")
    path.write_bytes(gzip.compress(b'{"id": 1, bad\n'))
    return path


def _bad_marker_while_running(out: Path) -> Path:
    layout = OutputLayout(out)
    for path in (layout.manifest, layout.left("rejects"), layout.left("dropped")):
        path.unlink()
    marker = layout.markers()[0]
    marker.write_text('{"shard": ', encoding="utf-8")
    return marker


DAMAGES: dict[str, Callable[[Path], Path]] = {
    "part-cut-short": _cut_part,
    "part-emptied": _empty_part,
    "rejects-cut-short": _cut_rejects,
    "dropped-bad-json": _bad_json_dropped,
    "marker-bad-json": _bad_marker_while_running,
}


@pytest.mark.parametrize("command", ["stats", "report"])
@pytest.mark.parametrize("damage", sorted(DAMAGES))
def test_a_damaged_file_is_an_input_error_naming_it(
    run_dir: Path, tmp_path: Path, damage: str, command: str
) -> None:
    copy = tmp_path / "copy"
    shutil.copytree(run_dir, copy)
    damaged = DAMAGES[damage](copy)
    args = [command, str(copy)] + (["-o", str(tmp_path / "report.html")] if command == "report" else [])
    res = CliRunner().invoke(cli, args)
    assert res.exit_code == InputError.exit_code, (res.output, res.exception)
    lines = res.output.strip().splitlines()
    assert len(lines) == 2, res.output
    assert lines[0].startswith(f"error: cannot read {damaged}: ")
    assert lines[1].strip().startswith("hint:") and "--overwrite" in lines[1]
    if damage == "dropped-bad-json":  # the file's line, not a column inside the line
        assert lines[0].startswith(f"error: cannot read {damaged}: line 1 is not JSON")
    assert not (tmp_path / "report.html").exists()


def _stop_before_the_end(out: Path, unfinished: int) -> dict[str, int]:
    """The directory as a run killed before its end leaves it, with shard ``unfinished`` written
    (part files, its rejects and dropped files) but not marked; the finished shards' counts."""
    layout = OutputLayout(out)
    for path in (layout.manifest, layout.left("rejects"), layout.left("dropped")):
        path.unlink()
    markers = layout.markers()
    markers.pop(unfinished).unlink()
    tallies = [json.loads(m.read_text(encoding="utf-8"))["tally"] for m in markers]
    return {k: sum(t[k] for t in tallies) for k in ("n_in", "n_kept", "n_rejected", "n_dropped")}


def _counts(out: Path) -> dict[str, int]:
    st = compute_stats(out)
    return {"n_in": st.n_in, "n_kept": st.n_kept, "n_rejected": st.n_rejected, "n_dropped": st.n_dropped}


@pytest.mark.parametrize("layout", ["flat", "partitioned"])
@pytest.mark.parametrize("unfinished", [0, 1])
def test_a_run_in_progress_counts_only_its_finished_shards(
    run_dir: Path, partitioned_dir: Path, tmp_path: Path, layout: str, unfinished: int
) -> None:
    source = run_dir if layout == "flat" else partitioned_dir
    manifest = json.loads(OutputLayout(source).manifest.read_text(encoding="utf-8"))
    assert _counts(source) == {
        k: manifest["counts"][k] for k in ("n_in", "n_kept", "n_rejected", "n_dropped")
    }
    copy = tmp_path / "running"
    shutil.copytree(source, copy)
    expected = _stop_before_the_end(copy, unfinished)
    assert len(OutputLayout(copy).part_files()) > len(OutputLayout(copy).markers())  # an unmarked part
    assert 0 < expected["n_in"] < manifest["counts"]["n_in"]
    assert _counts(copy) == expected
    res = CliRunner().invoke(cli, ["stats", str(copy), "--json"])
    assert res.exit_code == 0, res.output
    assert json.loads(res.output)["counts"] == expected


@pytest.mark.parametrize(
    "args",
    [["stats", "{}"], ["report", "{}", "-o", "{}.html"], ["explain", "{}.html"]],
    ids=["stats", "report", "explain"],
)
def test_a_missing_path_is_an_input_error_as_for_run(tmp_path: Path, args: list[str]) -> None:
    missing = tmp_path / "nonexist"
    res = CliRunner().invoke(cli, [a.format(missing) for a in args])
    assert res.exit_code == InputError.exit_code, res.output
    assert res.output.startswith("error: input not found: ") and str(missing) in res.output
    assert "hint:" in res.output
