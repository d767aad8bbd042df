"""Atomic, idempotent, resumable: a run killed with SIGKILL and rerun gives the same Parquet bytes
as an uninterrupted run; SIGTERM stops cleanly (exit 130, resumable); a rerun of a finished run
does nothing and changes no byte; the output does not depend on PYTHONHASHSEED."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from pipeline.io.layout import OutputLayout
from tests.conftest import REPO
from tests.hostile import article

pytestmark = pytest.mark.slow

SHARDS = 4
PER_SHARD = 100


def make_dump(root: Path) -> Path:
    dump = root / "dump"
    dump.mkdir(parents=True)
    for s in range(SHARDS):
        rows = []
        for i in range(PER_SHARD):
            n = s * PER_SHARD + i
            text = article(str(n)) if n % 17 else article(str(n - 1))  # some duplicates for dedup
            rows.append(json.dumps({"id": f"s{s}-{i}", "text": f"Headline {n}\n\n{text}"}))
        rows.insert(5, "{broken json")
        (dump / f"feed-{s}.jsonl").write_text("\n".join(rows) + "\n", encoding="utf-8")
    return dump


def cli(*args: str, seed: str = "0") -> subprocess.Popen[bytes]:
    env = {**os.environ, "PYTHONHASHSEED": seed}
    return subprocess.Popen(
        [sys.executable, "-m", "pipeline", "run", *args, "--no-progress"],
        cwd=REPO,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
    )


def finish(proc: subprocess.Popen[bytes]) -> tuple[int, str]:
    out, err = proc.communicate(timeout=600)
    return proc.returncode, (out + err).decode("utf-8", "replace")


def run_ok(*args: str, seed: str = "0") -> str:
    code, output = finish(cli(*args, seed=seed))
    assert code == 0, output
    return output


def parquet_bytes(out: Path) -> dict[str, bytes]:
    return {p.relative_to(out).as_posix(): p.read_bytes() for p in sorted(out.rglob("*.parquet"))}


def all_files(out: Path) -> dict[str, tuple[bytes, int]]:
    return {
        p.relative_to(out).as_posix(): (p.read_bytes(), p.stat().st_mtime_ns)
        for p in sorted(out.rglob("*"))
        if p.is_file()
    }


def wait_for_markers(out: Path, n: int, proc: subprocess.Popen[bytes]) -> None:
    deadline = time.monotonic() + 300
    while time.monotonic() < deadline and proc.poll() is None:
        if len(list(OutputLayout(out).state_dir.glob("*.done.json"))) >= n:
            return
        time.sleep(0.02)
    pytest.fail(f"no {n} finished shard(s) before the run ended: {finish(proc)[1]}")


@pytest.fixture(scope="module")
def clean_run(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    root = tmp_path_factory.mktemp("resume")
    dump = make_dump(root)
    run_ok(str(dump), "-o", str(root / "clean"), "-w", "2")
    return dump, root / "clean"


@pytest.mark.parametrize("after_shards", [0, 2])
def test_sigkill_midway_then_rerun_gives_byte_identical_parquet(
    clean_run: tuple[Path, Path], tmp_path: Path, after_shards: int
) -> None:
    dump, clean = clean_run
    out = tmp_path / "out"
    proc = cli(str(dump), "-o", str(out), "-w", "2")
    if after_shards:
        wait_for_markers(out, after_shards, proc)
    else:  # once the output has started, up to 1 s later but before the first shard is done
        while not OutputLayout(out).state_dir.exists() and proc.poll() is None:
            time.sleep(0.01)
        deadline = time.monotonic() + 1.0
        while time.monotonic() < deadline and not list(OutputLayout(out).state_dir.glob("*.done.json")):
            time.sleep(0.01)
    proc.send_signal(signal.SIGKILL)
    proc.wait()
    assert not OutputLayout(out).manifest.exists()
    output = run_ok(str(dump), "-o", str(out), "-w", "1")
    if after_shards:
        assert "skipped" in output
    assert parquet_bytes(out) == parquet_bytes(clean)
    manifest = json.loads(OutputLayout(out).manifest.read_text())
    whole = json.loads(OutputLayout(clean).manifest.read_text())
    assert manifest["counts"] == whole["counts"]
    # per-stage counters cover the shards a resumed run skipped too (their markers keep them)
    assert without_seconds(manifest["stages"]) == without_seconds(whole["stages"])
    assert manifest["timings"]["records_processed"] <= manifest["counts"]["n_in"]
    assert not list(out.rglob("*.tmp"))


def without_seconds(stages: dict[str, dict[str, object]]) -> dict[str, dict[str, object]]:
    return {name: {k: v for k, v in st.items() if k != "seconds"} for name, st in stages.items()}


def test_sigterm_stops_cleanly_with_exit_130_and_the_run_resumes(
    clean_run: tuple[Path, Path], tmp_path: Path
) -> None:
    dump, clean = clean_run
    out = tmp_path / "out"
    proc = cli(str(dump), "-o", str(out), "-w", "2")
    wait_for_markers(out, 1, proc)
    proc.send_signal(signal.SIGTERM)
    code, output = finish(proc)
    assert code == 130, output
    assert "SIGTERM" in output and "rerun the same command" in output
    assert not list(out.rglob("*.tmp"))  # the shard in progress was discarded, not left half-written
    assert not OutputLayout(out).manifest.exists()
    run_ok(str(dump), "-o", str(out), "-w", "2")
    assert parquet_bytes(out) == parquet_bytes(clean)


def test_rerunning_a_finished_run_does_no_work_and_changes_no_byte(clean_run: tuple[Path, Path]) -> None:
    dump, clean = clean_run
    before = all_files(clean)
    output = run_ok(str(dump), "-o", str(clean), "-w", "2")
    assert "skipped" in output or "up to date" in output
    assert all_files(clean) == before


def test_output_bytes_do_not_depend_on_pythonhashseed_or_worker_count(
    clean_run: tuple[Path, Path], tmp_path: Path
) -> None:
    dump, clean = clean_run
    run_ok(str(dump), "-o", str(tmp_path / "other"), "-w", "1", seed="12345")
    assert parquet_bytes(tmp_path / "other") == parquet_bytes(clean)


def test_sigkill_then_rerun_is_byte_identical_with_partitioned_output(
    clean_run: tuple[Path, Path], tmp_path: Path
) -> None:
    dump, _ = clean_run
    cfg = tmp_path / "partitioned.toml"
    cfg.write_text('[output]\npartition_by = ["lang"]\n', encoding="utf-8")
    run_ok(str(dump), "-o", str(tmp_path / "clean"), "-w", "2", "--config", str(cfg))
    out = tmp_path / "out"
    proc = cli(str(dump), "-o", str(out), "-w", "2", "--config", str(cfg))
    wait_for_markers(out, 1, proc)
    proc.send_signal(signal.SIGKILL)
    proc.wait()
    run_ok(str(dump), "-o", str(out), "-w", "1", "--config", str(cfg))
    got, want = parquet_bytes(out), parquet_bytes(tmp_path / "clean")
    assert any("=" in name for name in got)  # really partitioned
    assert got == want
    assert not list(out.rglob("*.tmp"))
