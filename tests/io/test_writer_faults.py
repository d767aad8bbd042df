"""The writer under faults (issue 22, cases 1, 5, 6): a second run into an output directory in
use, a full disk, the directory removed mid-run. Each fault ends with one error line (no
traceback), exit 4, no temporary file left, and a rerun once the fault is gone gives the same
bytes as a run that never met it. And what the writer makes of a file name that is not UTF-8
(case 10): valid UTF-8 JSON that still names the file exactly.

Runs are real ``cleanwire run`` processes. Where a test needs a run to wait at a known point, its
last (or first) input is ``-``: the run reads stdin only when it reaches that shard, so the test
decides when it goes on.
"""

from __future__ import annotations

import base64
import errno
import json
import os
import shutil
import signal
import subprocess
import sys
import textwrap
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pyarrow.parquet as pq
import pytest
from click.testing import CliRunner

from pipeline.cli import cli
from pipeline.core.config import Config
from pipeline.core.errors import OutputError
from pipeline.core.fsutil import atomic_path
from pipeline.core.pathnames import path_from_json, path_json
from pipeline.io.layout import OutputLayout
from pipeline.io.sinks.files import json_bytes
from pipeline.io.sinks.run_state import RunState
from tests.conftest import REPO
from tests.io.test_resume import make_dump

pytestmark = pytest.mark.slow

Run = subprocess.Popen[bytes]
Arg = str | bytes | Path


def start(*args: Arg) -> Run:
    argv: list[Arg] = [sys.executable, "-m", "pipeline", "run", *args, "--no-progress"]
    return subprocess.Popen(
        argv,
        cwd=REPO,
        env={**os.environ, "PYTHONHASHSEED": "0"},
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
    )


def finish(proc: Run, stdin: bytes = b"") -> tuple[int, str]:
    out, err = proc.communicate(stdin, timeout=600)
    return proc.returncode, (out + err).decode("utf-8", "replace")


def run_ok(*args: Arg, stdin: bytes = b"") -> str:
    code, output = finish(start(*args), stdin)
    assert code == 0, output
    return output


def wait_for(done: Callable[[], bool], proc: Run) -> None:
    deadline = time.monotonic() + 300
    while time.monotonic() < deadline and proc.poll() is None:
        if done():
            return
        time.sleep(0.02)
    pytest.fail(f"the run ended (or took 300 s) before the test could go on: {finish(proc)[1]}")


def assert_one_error(code: int, output: str, exit_code: int, says: str) -> None:
    """Exit ``exit_code``, and on stderr one ``error:`` line saying ``says`` (and its hint line)."""
    assert code == exit_code, output
    assert "Traceback" not in output, output
    lines = [line for line in output.splitlines() if line.strip() and not line.startswith("note:")]
    assert lines[0].startswith("error: ") and says in lines[0], output
    assert len(lines) == 1 or (len(lines) == 2 and lines[1].startswith("  hint: ")), output


def outputs(out: Path) -> dict[str, bytes]:
    """What must not depend on faults: the kept records, the rejects and the dropped records."""
    layout = OutputLayout(out)
    files = [*layout.part_files(), layout.left("rejects"), layout.left("dropped")]
    return {p.relative_to(out).as_posix(): p.read_bytes() for p in files}


def all_files(root: Path) -> dict[str, tuple[bytes, int]]:
    return {
        p.relative_to(root).as_posix(): (p.read_bytes(), p.stat().st_mtime_ns)
        for p in sorted(root.rglob("*"))
        if p.is_file()
    }


def assert_nothing_unfinished(out: Path) -> None:
    """No temporary file, no lock, and no part file that a shard's marker does not name."""
    assert not [p for p in out.rglob("*") if p.name.endswith(".tmp")]
    layout = OutputLayout(out)
    assert not layout.lock.exists()
    named = {n for m in layout.markers() for n in json.loads(m.read_text())["files"]}
    assert {p.relative_to(out).as_posix() for p in layout.part_files()} <= named


@pytest.fixture(scope="module")
def dump(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return make_dump(tmp_path_factory.mktemp("writer"))


def files(dump: Path) -> list[Path]:
    return [dump / "feed-0.jsonl", dump / "feed-1.jsonl"]


def stdin_data(dump: Path) -> bytes:
    return (dump / "feed-2.jsonl").read_bytes()


@pytest.fixture(scope="module")
def clean(dump: Path, tmp_path_factory: pytest.TempPathFactory) -> Callable[..., Path]:
    """A run that met no fault, per arguments (``OUT`` stands for the output directory)."""
    made: dict[tuple[str, ...], Path] = {}

    def get(*args: str | Path) -> Path:
        key = tuple(map(str, args))
        if key not in made:
            out = tmp_path_factory.mktemp("clean") / "out"
            run_ok(*[out if a == "OUT" else a for a in args], stdin=stdin_data(dump))
            made[key] = out
        return made[key]

    return get


# --- 1: two runs into one output directory ------------------------------------------------------


@pytest.mark.parametrize("other", [(), ("--min-chars", "500")], ids=["same-config", "other-config"])
def test_a_second_run_into_a_directory_in_use_is_refused_at_once(
    dump: Path, clean: Callable[..., Path], tmp_path: Path, other: tuple[str, ...]
) -> None:
    out = tmp_path / "out"
    args: list[Arg] = ["-", *files(dump), "-o", out, "-w", "1"]
    first = start(*args)  # reads stdin first: it waits there, its lock held, until the test writes
    wait_for(OutputLayout(out).state_dir.is_dir, first)
    code, output = finish(start(*args, *other))
    assert_one_error(code, output, 4, f"is in use by pid {first.pid} on host ")
    assert "a cleanwire run started" in output
    assert first.poll() is None  # refused at once, not after the first run ended
    code, output = finish(first, stdin_data(dump))
    assert code == 0, output
    assert outputs(out) == outputs(clean("-", *files(dump), "-o", "OUT", "-w", "1"))
    assert_nothing_unfinished(out)
    # once the first run is over, the second may replace it
    run_ok(*args, "--overwrite", *other, stdin=stdin_data(dump))
    assert outputs(out) == outputs(clean("-", *files(dump), "-o", "OUT", "-w", "1", *other))
    assert_nothing_unfinished(out)


def test_a_lock_left_by_a_killed_run_is_taken_over(
    dump: Path, clean: Callable[..., Path], tmp_path: Path
) -> None:
    out = tmp_path / "out"
    args: list[Arg] = ["-", *files(dump), "-o", out, "-w", "1"]
    lock = OutputLayout(out).lock
    first = start(*args)
    wait_for(lambda: lock.is_file() and f'"pid": {first.pid}' in lock.read_text(), first)
    first.send_signal(signal.SIGKILL)
    first.wait()
    assert json.loads(lock.read_text())["pid"] == first.pid  # the file stays; the kernel's lock went
    run_ok(*args, stdin=stdin_data(dump))
    assert outputs(out) == outputs(clean("-", *files(dump), "-o", "OUT", "-w", "1"))
    assert_nothing_unfinished(out)


HOLD = textwrap.dedent(
    """
    import sys
    from pathlib import Path
    from pipeline.io.sinks.lock import DirectoryLock
    lock = DirectoryLock(Path(sys.argv[1]), "a test's directory")
    lock.acquire()
    print("locked", flush=True)
    sys.stdin.read()
    lock.release()
    """
)


def hold_lock(path: Path) -> Run:
    """Another process holding ``path``'s lock until its stdin closes."""
    proc = subprocess.Popen(
        [sys.executable, "-c", HOLD, str(path)],
        cwd=REPO,
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
    )
    assert proc.stdout is not None
    assert proc.stdout.readline() == b"locked\n", proc.communicate()
    return proc


def test_overwrite_takes_the_lock_before_it_removes_anything(dump: Path, tmp_path: Path) -> None:
    out = tmp_path / "out"
    run_ok(*files(dump), "-o", out)
    first = outputs(out)
    holder = hold_lock(OutputLayout(out).lock)
    before = all_files(out)
    code, output = finish(start(*files(dump), "-o", out, "--overwrite", "--min-chars", "500"))
    assert_one_error(code, output, 4, f"is in use by pid {holder.pid}")
    assert all_files(out) == before  # nothing removed, nothing written
    holder.communicate(b"")
    run_ok(*files(dump), "-o", out, "--overwrite")
    assert outputs(out) == first
    assert_nothing_unfinished(out)


# --- 5: the output disk full --------------------------------------------------------------------


@pytest.fixture()
def small_disk(tmp_path: Path) -> Iterator[Path]:
    """A 64 KiB tmpfs (the dump's output needs about twice that), or a skip where mounting is not
    permitted (the patched-write test below covers the same path everywhere)."""
    disk = tmp_path / "disk"
    disk.mkdir()
    if shutil.which("mount") is None:
        pytest.skip("no mount command: the patched ENOSPC test covers a full disk here")
    res = subprocess.run(
        ["mount", "-t", "tmpfs", "-o", "size=64k", "tmpfs", str(disk)], capture_output=True, text=True
    )
    if res.returncode != 0:
        pytest.skip(f"cannot mount a tmpfs here ({res.stderr.strip()}): the patched ENOSPC test covers it")
    try:
        yield disk
    finally:
        subprocess.run(["umount", "-l", str(disk)], check=False)


def test_a_full_disk_stops_the_run_with_exit_4_and_the_rerun_resumes_byte_identical(
    dump: Path, clean: Callable[..., Path], small_disk: Path
) -> None:
    out = small_disk / "out"
    inputs = sorted(dump.glob("feed-*.jsonl"))
    code, output = finish(start(*inputs, "-o", out))
    assert_one_error(code, output, 4, f"the output directory {out} is out of space: no space left on device")
    assert_nothing_unfinished(out)
    finished = len(OutputLayout(out).markers())
    assert finished < len(inputs)
    subprocess.run(["mount", "-o", "remount,size=8m", str(small_disk)], check=True)
    output = run_ok(*inputs, "-o", out)
    if finished:
        assert f"{finished} finished shard(s) skipped" in output
    assert outputs(out) == outputs(clean(*inputs, "-o", "OUT"))
    assert_nothing_unfinished(out)


def _fail_second(real: Callable[..., Any]) -> Callable[..., Any]:
    """``real``, raising ENOSPC on its second call (what a disk that fills up does)."""
    calls = 0

    def failing(*args: Any, **kwargs: Any) -> Any:
        nonlocal calls
        calls += 1
        if calls == 2:
            raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))
        return real(*args, **kwargs)

    return failing


def _marker_on_a_full_disk(path: Path, data: Any) -> None:
    with atomic_path(path) as tmp:
        tmp.write_bytes(b"{")
        raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))


@pytest.mark.parametrize("where", ["parquet-write", "parquet-close", "marker"])
def test_a_write_failing_with_enospc_stops_the_run_cleanly_wherever_it_fails(
    dump: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, where: str
) -> None:
    """The same as a full tmpfs, where no tmpfs can be mounted: a write of a part file (its data,
    or its footer when it closes) or of a shard's marker (after its part files were renamed into
    place) fails with ENOSPC."""
    inputs = [str(p) for p in sorted(dump.glob("feed-*.jsonl"))]
    runner = CliRunner()
    res = runner.invoke(cli, ["run", *inputs, "-o", str(tmp_path / "clean"), "--no-progress"])
    assert res.exit_code == 0, res.output
    if where == "parquet-write":
        monkeypatch.setattr(pq.ParquetWriter, "write_table", _fail_second(pq.ParquetWriter.write_table))
    elif where == "parquet-close":
        monkeypatch.setattr(pq.ParquetWriter, "close", _fail_second(pq.ParquetWriter.close))
    else:
        calls = {"n": 0}
        real = __import__("pipeline.io.sinks.run_state", fromlist=["write_json_atomic"]).write_json_atomic

        def marker(path: Path, data: Any) -> None:
            calls["n"] += 1
            (_marker_on_a_full_disk if calls["n"] >= 2 else real)(path, data)

        monkeypatch.setattr("pipeline.io.sinks.run_state.write_json_atomic", marker)
    out = tmp_path / "out"
    res = runner.invoke(cli, ["run", *inputs, "-o", str(out), "--no-progress"])
    assert isinstance(res.exception, SystemExit), res.exception
    assert_one_error(res.exit_code, res.output, 4, "is out of space: no space left on device")
    assert_nothing_unfinished(out)
    assert len(OutputLayout(out).markers()) == 1
    monkeypatch.undo()
    res = runner.invoke(cli, ["run", *inputs, "-o", str(out), "--no-progress"])
    assert res.exit_code == 0 and "1 finished shard(s) skipped" in res.output, res.output
    assert outputs(out) == outputs(tmp_path / "clean")
    assert_nothing_unfinished(out)


# --- 6: the output directory removed mid-run ----------------------------------------------------


@pytest.mark.parametrize("then", ["removed", "made-again"])
def test_an_output_directory_removed_mid_run_stops_it_and_is_not_made_again(
    dump: Path, clean: Callable[..., Path], tmp_path: Path, then: str
) -> None:
    out = tmp_path / "out"
    args: list[Arg] = [*files(dump), "-", "-o", out, "-w", "1"]
    proc = start(*args)  # two shards from files, then it waits for stdin
    wait_for(lambda: len(OutputLayout(out).markers()) == 2, proc)
    shutil.rmtree(out)
    if then == "made-again":  # by someone else: this run must not write into it either
        out.mkdir()
    code, output = finish(proc, stdin_data(dump))
    assert_one_error(code, output, 4, f"the output directory {out} was removed")
    if then == "removed":
        assert not out.exists()
    else:
        assert list(out.iterdir()) == []
    run_ok(*args, stdin=stdin_data(dump))
    assert outputs(out) == outputs(clean(*files(dump), "-", "-o", "OUT", "-w", "1"))
    assert_nothing_unfinished(out)


# --- 10: a file name that is not UTF-8, in the manifest and the state ---------------------------


def test_a_non_utf8_file_name_is_valid_utf8_json_that_names_the_file_exactly(
    dump: Path, tmp_path: Path
) -> None:
    base = os.fsencode(tmp_path)
    os.mkdir(base + b"/in")
    with open(base + b"/in/caf\xe9.jsonl", "wb") as fh:
        fh.write((dump / "feed-0.jsonl").read_bytes())
    with open(base + b"/in/notes\xff.bin", "wb") as fh:
        fh.write(b"not read: no format")
    named = base + b"/d\xe9p\xf4t.jsonl"
    with open(named, "wb") as fh:
        fh.write((dump / "feed-1.jsonl").read_bytes())
    out = tmp_path / "out"
    output = run_ok(base + b"/in", named, "-o", out)
    assert "notes\\xff.bin" in output  # the summary shows the bytes UTF-8 cannot read as \xNN
    layout = OutputLayout(out)
    documents = {}
    for path in [layout.manifest, *layout.markers()]:
        raw = path.read_bytes()
        text = raw.decode("utf-8")  # strict: valid UTF-8
        assert "\\ud" not in text.lower(), text  # no lone-surrogate escape for a strict reader to refuse
        documents[path.name] = json.loads(text)

    def exact(value: Any) -> bytes:
        return os.fsencode(path_from_json(value))

    manifest = documents["manifest.json"]
    assert [exact(p) for p in manifest["inputs"]] == [base + b"/in", named]
    assert manifest["inputs"][1] == {
        "display": os.fsdecode(base) + "/d\\xe9p\\xf4t.jsonl",
        "bytes_b64": base64.b64encode(named).decode(),
    }
    assert [[exact(p) for p in paths] for paths in manifest["shards"].values()] == [
        [base + b"/in/caf\xe9.jsonl"],
        [named],
    ]
    assert [exact(p) for p in manifest["skipped_files"]["first"]] == [base + b"/in/notes\xff.bin"]
    marked = sorted(exact(m["inputs"][0][0]) for name, m in documents.items() if name.endswith(".done.json"))
    assert marked == sorted([os.path.abspath(base + b"/in/caf\xe9.jsonl"), os.path.abspath(named)])
    # a rerun reads the markers back and finds the same inputs: it resumes, it does not refuse
    layout.manifest.unlink()
    output = run_ok(base + b"/in", named, "-o", out)
    assert "2 finished shard(s) skipped" in output


def test_json_files_never_carry_lone_surrogate_escapes() -> None:
    raw = json_bytes({"name": "caf\udce9", "odd": "\ud800"})
    assert json.loads(raw.decode("utf-8")) == {"name": "caf\\xe9", "odd": "\\xed\\xa0\\x80"}


def test_a_marker_of_an_older_cleanwire_still_matches_a_non_utf8_input(tmp_path: Path) -> None:
    """Older markers wrote such a name as a string with ``\\udcNN`` escapes: the same file."""
    name = os.fsdecode(os.fsencode(tmp_path) + b"/caf\xe9.jsonl")
    layout = OutputLayout(tmp_path / "out")
    layout.state_dir.mkdir(parents=True)
    old = json.dumps({"shard": "00000", "inputs": [[name, 10, 20]]}, ensure_ascii=True)
    layout.marker("00000").write_text(old, encoding="ascii")
    state = RunState(layout)
    state.check_plan({"00000": [[path_json(name), 10, 20]]})  # resumes: no error
    with pytest.raises(OutputError, match=r"changed since.*\(size or modification time\)"):
        state.check_plan({"00000": [[path_json(name), 11, 20]]})


def test_a_read_only_output_directory_is_named_once_with_a_hint(tmp_path: Path) -> None:
    from pipeline.io.sinks.directory import OutputDirectory

    root = tmp_path / "out"
    out = OutputDirectory(root, Config())
    error = out.write_error(OSError(errno.EROFS, "Read-only file system", str(root)))
    assert str(error).count(str(root)) == 1
    assert error.hint is not None and "writable" in error.hint
    inner = out.write_error(OSError(errno.EACCES, "Permission denied", str(root / "part-00000.parquet")))
    assert "part-00000.parquet" in str(inner)
