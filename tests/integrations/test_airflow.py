"""The Airflow adapters: stage-per-task partitions that add up to the CLI's output, idempotent
``dt=`` partitions, fsspec stores, and the example DAG under a real Airflow 3 (DagBag import and
``dag.test()`` end to end, against a SQLite metadata database this test creates)."""

from __future__ import annotations

import io
import json
import os
import random
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from click.testing import CliRunner

from pipeline.cli import cli
from pipeline.core.errors import ConfigError, OutputError
from pipeline.integrations import airflow as cw
from pipeline.integrations.partitions import OUTPUT_STEP, partition_lock_path
from pipeline.io.formats import compression
from pipeline.io.layout import OutputLayout
from pipeline.io.left_records import read_left
from tests.io.test_writer_faults import hold_lock
from tests.stages.near_dedup.corpus import syndicated_copy
from tests.stages.near_dedup.test_run import news, write_feed

pytestmark = pytest.mark.airflow

REPO = Path(__file__).resolve().parents[2]
DAG_FOLDER = REPO / "examples" / "airflow"
DAY = "2024-05-01"
DATA_FILES = (OutputLayout.REJECTS, OutputLayout.DROPPED)


def cli_run(inputs: Path, out: Path) -> dict[str, Any]:
    res = CliRunner().invoke(cli, ["run", str(inputs), "-o", str(out), "--workers", "1", "--json"])
    assert res.exit_code == 0, res.output
    manifest: dict[str, Any] = json.loads(OutputLayout(out).manifest.read_text())
    return manifest


def chain(store: str, day: str, inputs: Path) -> dict[str, Any]:
    """Every configured stage as its own task, then publish: what the example DAG runs."""
    manifest: dict[str, Any] | None = None
    for name in cw.stage_names():
        manifest = cw.run_stage(name, store=store, day=day, upstream=manifest, inputs=[str(inputs)])
    assert manifest is not None
    return cw.publish(store=store, day=day, upstream=manifest)


def test_publish_refuses_an_upstream_that_is_not_the_end_of_the_chain(dump: Path, tmp_path: Path) -> None:
    store = str(tmp_path / "store")
    first = cw.run_stage("extract", store=store, day=DAY, inputs=[str(dump)])
    with pytest.raises(ConfigError, match="every configured stage") as info:
        cw.publish(store=store, day=DAY, upstream=first)
    assert "'near_dedup'" in (info.value.hint or "")  # the last stage of the default chain
    assert not (tmp_path / "store" / "output").exists()


def without_seconds(stages: dict[str, dict[str, Any]]) -> dict[str, dict[str, Any]]:
    return {name: {k: v for k, v in st.items() if k != "seconds"} for name, st in stages.items()}


def table(read: Callable[[str], bytes], name: str) -> pa.Table:
    data = read(name)
    got = read_left(io.BytesIO(data)) if name in DATA_FILES else pq.read_table(pa.BufferReader(data))
    return got.replace_schema_metadata(None)


def assert_same_output(got: Callable[[str], bytes], expected: Path) -> None:
    parts = sorted(p.name for p in expected.glob("part-*.parquet"))
    assert parts
    for name in [*parts, *DATA_FILES]:
        assert table(got, name).equals(table(lambda n: (expected / n).read_bytes(), name)), name


@pytest.fixture()
def dump(demo_dump: Path) -> Path:
    return demo_dump


def test_stage_per_task_partitions_publish_exactly_the_cli_output(dump: Path, tmp_path: Path) -> None:
    expected = cli_run(dump, tmp_path / "cli")
    result = chain(str(tmp_path / "store"), DAY, dump)
    out = tmp_path / "store" / "output" / f"dt={DAY}"
    assert result["path"] == str(out)
    assert_same_output(lambda n: (out / n).read_bytes(), tmp_path / "cli")
    published = json.loads(OutputLayout(out).manifest.read_text())
    assert published["counts"] == expected["counts"]
    assert sorted(published["stages"]) == sorted(cw.stage_names())  # publish's used to be {}
    assert without_seconds(published["stages"]) == without_seconds(expected["stages"])
    assert published["stages"]["near_dedup"]["dropped"] == {"duplicate": 1}
    # the configured chain made these records, task by task: the same identity as the CLI's run
    assert published["config_hash"] == expected["config_hash"]
    assert published["stages_run"] == expected["stages_run"]
    assert result["counts"]["n_in"] == expected["counts"]["n_in"]
    assert result["counts"]["rejected"] == expected["counts"]["rejected"]
    for step in cw.stage_names():  # WORK partitions keep every record, status-marked
        files = sorted((tmp_path / "store" / step / f"dt={DAY}").glob("part-*.parquet"))
        assert sum(pq.ParquetFile(f).metadata.num_rows for f in files) == expected["counts"]["n_in"]


def test_a_repeated_id_is_rejected_by_the_first_task_as_the_cli_reader_does(tmp_path: Path) -> None:
    """The second record with an id is rejected ``read/duplicate_id`` before any stage, as in
    ``cleanwire run``. Left to ``publish``, it went through every stage task as ok, near_dedup
    kept it as the first copy of a story and dropped the story's only valid record, then publish
    rejected it: the story was lost and every stage counted one record too many."""
    (first, second, *_), _, _ = news(5, "d", stories=2)
    rows = [
        {"id": "x", "text": first["text"]},
        {"id": "x", "text": second["text"]},  # a repeated id: rejected, never a kept copy
        {"id": "y", "text": second["text"]},  # the only valid record of this story: kept
    ]
    write_feed(tmp_path / "in" / "feed.jsonl", rows)
    expected = cli_run(tmp_path / "in", tmp_path / "cli")
    assert expected["counts"]["rejected"] == {"read/duplicate_id": 1} and expected["counts"]["n_kept"] == 2
    chain(str(tmp_path / "store"), DAY, tmp_path / "in")
    out = tmp_path / "store" / "output" / f"dt={DAY}"
    published = json.loads(OutputLayout(out).manifest.read_text())
    assert published["counts"] == expected["counts"]
    assert_same_output(lambda n: (out / n).read_bytes(), tmp_path / "cli")
    assert without_seconds(published["stages"]) == without_seconds(expected["stages"])


def test_whole_pipeline_as_one_task_writes_the_cli_output_and_reruns_in_place(
    dump: Path, tmp_path: Path
) -> None:
    expected = cli_run(dump, tmp_path / "cli")
    store = str(tmp_path / "store")
    first = cw.run_partition(store=store, day=DAY, inputs=[str(dump)])
    again = cw.run_partition(store=store, day=DAY, inputs=[str(dump)])  # a retry: same result
    out = tmp_path / "store" / "output" / f"dt={DAY}"
    assert first["counts"] == again["counts"]
    assert first["counts"]["n_kept"] == expected["counts"]["n_kept"]
    assert_same_output(lambda n: (out / n).read_bytes(), tmp_path / "cli")
    assert [p.name for p in (tmp_path / "store" / "output").iterdir()] == [f"dt={DAY}"]


def test_a_dedup_index_drops_copies_of_earlier_days_and_a_rerun_of_a_day_changes_nothing(
    tmp_path: Path,
) -> None:
    """Daily partitions sharing ``dedup_index``: the whole pipeline as one task and the stage-per-task
    chain drop the same copies of yesterday's stories, and a retried day leaves the index as it was."""
    day1, _, _ = news(21, "d1", stories=6)
    write_feed(tmp_path / "d1" / "feed.jsonl", day1)
    day2, copies, _ = news(22, "d2", stories=4)
    day2.append(
        {
            "id": "d2-late",
            "url": "https://herald.example/late",
            "text": syndicated_copy(random.Random(3), day1[2]["text"], "herald"),
        }
    )
    write_feed(tmp_path / "d2" / "feed.jsonl", day2)
    index = str(tmp_path / "index")
    store = str(tmp_path / "store")
    cw.run_partition(store=store, day="2024-05-01", inputs=[str(tmp_path / "d1")], dedup_index=index)
    second = cw.run_partition(store=store, day="2024-05-02", inputs=[str(tmp_path / "d2")], dedup_index=index)
    assert second["counts"]["dropped"] == {"near_dedup/near_duplicate": len(copies) + 1}
    out = tmp_path / "store" / "output" / "dt=2024-05-02"
    rows = {r["id"]: r for r in read_left(OutputLayout(out).left("dropped")).to_pylist()}
    assert rows["d2-late"]["dup_of"] == "d1-g2"
    before = {p.name: p.read_bytes() for p in Path(index).iterdir() if p.is_file()}
    again = cw.run_partition(store=store, day="2024-05-02", inputs=[str(tmp_path / "d2")], dedup_index=index)
    assert again["counts"] == second["counts"]
    assert {p.name: p.read_bytes() for p in Path(index).iterdir() if p.is_file()} == before
    # the same day as one task per stage, with the same index: the same records dropped
    manifest: dict[str, Any] | None = None
    for name in cw.stage_names():
        manifest = cw.run_stage(
            name, store=str(tmp_path / "tasks"), day="2024-05-02", upstream=manifest,
            inputs=[str(tmp_path / "d2")], dedup_index=index,
        )  # fmt: skip
    assert manifest is not None and manifest["dropped"] == {"near_duplicate": len(copies) + 1}
    published = cw.publish(store=str(tmp_path / "tasks"), day="2024-05-02", upstream=manifest)
    assert published["counts"] == second["counts"]


def test_tasks_take_settings_as_the_cli_and_python_callers_do(dump: Path, tmp_path: Path) -> None:
    settings = {"stages": ["extract", "encoding", "filter"], "filter.min_chars": 10**6}
    assert cw.stage_names(settings=settings) == ["extract", "encoding", "filter"]
    result = cw.run_partition(store=str(tmp_path / "s"), day=DAY, inputs=[str(dump)], settings=settings)
    counts = result["counts"]
    assert counts["n_kept"] == 0 and counts["dropped"].get("filter/too_short", 0) > 0
    with pytest.raises(ConfigError, match=r"run\.wrkers"):
        cw.stage_names(settings={"run.wrkers": 2})


def test_xcom_manifest_is_small_json_with_counts_and_no_document_text(dump: Path, tmp_path: Path) -> None:
    m = cw.run_stage("extract", store=str(tmp_path / "s"), day=DAY, inputs=[str(dump)])
    text = json.dumps(m)
    assert len(text) < 2000
    assert "bridge" not in text.lower() and "<html" not in text.lower()
    back = cw.StepManifest.from_xcom(json.loads(text))
    assert back.step == "extract" and back.day == DAY
    assert back.n_in == back.n_ok + sum(back.rejected.values()) + sum(back.dropped.values())
    assert back.n_records >= back.n_in and back.shards == ("00000", "00001")
    extract = back.stages["extract"]  # the per-stage counts publish puts in the manifest
    assert list(back.stages) == ["extract"]
    assert (extract["n_in"], extract["n_ok"], extract["rejected"]) == (back.n_in, back.n_ok, back.rejected)
    m2 = cw.run_stage("encoding", store=str(tmp_path / "s"), day=DAY, upstream=m)
    assert list(m2["stages"]) == ["extract", "encoding"] and m2["stages"]["extract"] == extract


def test_rerun_replaces_only_its_own_day_partition(dump: Path, tmp_path: Path) -> None:
    store = tmp_path / "store"
    other = tmp_path / "other"
    other.mkdir()
    (other / "one.txt").write_text("Ferry timetable changes\n\nThe ferry leaves at nine from May.\n")
    cw.run_stage("extract", store=str(store), day="2024-05-02", inputs=[str(dump)])
    before = {p: p.read_bytes() for p in (store / "extract" / "dt=2024-05-02").iterdir()}
    first = cw.run_stage("extract", store=str(store), day=DAY, inputs=[str(dump)])
    again = cw.run_stage("extract", store=str(store), day=DAY, inputs=[str(other)])  # a re-run
    assert first["n_records"] > 1 and again["n_records"] == 1
    day_dir = store / "extract" / f"dt={DAY}"
    assert [p.name for p in day_dir.iterdir()] == ["part-00000.parquet"]  # old shard 00001 gone
    assert pq.read_table(day_dir / "part-00000.parquet").num_rows == 1
    assert {p: p.read_bytes() for p in (store / "extract" / "dt=2024-05-02").iterdir()} == before
    assert sorted(p.name for p in (store / "extract").iterdir()) == ["dt=2024-05-01", "dt=2024-05-02"]


def test_a_failed_task_leaves_the_previous_partition_in_place(
    dump: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    store = str(tmp_path / "store")
    m = cw.run_stage("extract", store=store, day=DAY, inputs=[str(dump)])
    good = cw.run_stage("encoding", store=store, day=DAY, upstream=m)
    before = {p.name: p.read_bytes() for p in Path(good["path"]).iterdir()}

    def boom(*args: object, **kwargs: object) -> None:
        raise OSError("disk full")

    monkeypatch.setattr(cw, "replace_partition", boom)
    with pytest.raises(OSError, match="disk full"):
        cw.run_stage("encoding", store=store, day=DAY, upstream=m)
    assert {p.name: p.read_bytes() for p in Path(good["path"]).iterdir()} == before
    assert sorted(p.name for p in (tmp_path / "store" / "encoding").iterdir()) == [f"dt={DAY}"]


@pytest.mark.parametrize("step", ["extract", OUTPUT_STEP])
def test_a_second_attempt_at_a_partition_in_use_is_refused_and_touches_nothing(
    dump: Path, tmp_path: Path, step: str
) -> None:
    """A task holds its partition's lock (the one ``cleanwire run`` takes on an output directory)
    for its whole length: another attempt at the same partition (a real second process holds
    the lock here) stops before it removes anything, the running attempt's staging included."""
    store = str(tmp_path / "store")

    def task() -> dict[str, Any]:
        if step == OUTPUT_STEP:
            return cw.run_partition(store=store, day=DAY, inputs=[str(dump)])
        return cw.run_stage(step, store=store, day=DAY, inputs=[str(dump)])

    first = task()
    final = Path(cw.Store(store).partition(step, DAY))
    staging = final.parent / f".{final.name}.{'0' * 32}.tmp"  # what the running attempt writes into
    staging.mkdir()
    (staging / "part-00000.parquet").write_bytes(b"being written")
    before = {p: p.read_bytes() for p in sorted(final.parent.rglob("*")) if p.is_file()}
    holder = hold_lock(Path(partition_lock_path(str(final))))
    try:
        with pytest.raises(OutputError, match=f"the partition {final} is in use by pid {holder.pid}"):
            task()
    finally:
        holder.communicate(b"")
    after = {p: p.read_bytes() for p in sorted(final.parent.rglob("*")) if p.is_file()}
    assert after == before
    assert task()["path"] == first["path"]  # once the other attempt is over: a normal rerun
    assert not staging.exists()  # now a killed attempt's leftover, removed
    assert sorted(p.name for p in final.parent.iterdir()) == [final.name]  # no lock file left


@pytest.mark.skipif(not hasattr(os, "mkfifo"), reason="POSIX named pipes")
@pytest.mark.parametrize("step", ["extract", OUTPUT_STEP])
def test_a_task_that_never_reads_its_piped_input_closes_the_pipe(tmp_path: Path, step: str) -> None:
    """A first task's inputs are planned (a named pipe's format sniffed, its handle kept for the
    reader) before the task takes its partition's lock; a task refused there (a second attempt)
    used to leave that handle open in the Airflow worker until it exited."""
    fifo = tmp_path / "feed.jsonl"
    os.mkfifo(fifo)
    held = os.open(fifo, os.O_RDONLY | os.O_NONBLOCK)  # so the writer below opens at once
    with os.fdopen(os.open(fifo, os.O_WRONLY), "wb") as w:
        w.write(b'{"id": "a", "text": "A record read from a pipe."}\n')
    store = str(tmp_path / "store")
    final = Path(cw.Store(store).partition(step, DAY))
    final.parent.mkdir(parents=True)
    holder = hold_lock(Path(partition_lock_path(str(final))))
    try:
        with pytest.raises(OutputError, match="is in use"):
            if step == OUTPUT_STEP:
                cw.run_partition(store=store, day=DAY, inputs=[str(fifo)])
            else:
                cw.run_stage(step, store=store, day=DAY, inputs=[str(fifo)])
        assert not compression._PIPES  # the sniff's handle, released with the task's Source
    finally:
        holder.communicate(b"")
        os.close(held)


def test_tasks_refuse_an_upstream_written_with_another_config(dump: Path, tmp_path: Path) -> None:
    m = cw.run_stage("extract", store=str(tmp_path / "s"), day=DAY, inputs=[str(dump)])
    config = tmp_path / "c.toml"
    config.write_text("[filter]\nmin_chars = 500\n")
    with pytest.raises(ConfigError, match="same config"):
        cw.run_stage("encoding", store=str(tmp_path / "s"), day=DAY, upstream=m, config_file=str(config))


def test_partition_day_accepts_dates_and_rejects_junk() -> None:
    import datetime as dt

    assert cw.partition_day(dt.datetime(2024, 5, 1, 23, 59, tzinfo=dt.UTC)) == DAY
    assert cw.partition_day("2024-05-01T00:00:00+00:00") == DAY
    with pytest.raises(ConfigError):
        cw.partition_day("yesterday")
    with pytest.raises(ConfigError, match=r"not a logical date: '2024-13-45' \(month must be in 1\.\.12\)"):
        cw.partition_day("2024-13-45")
    with pytest.raises(ConfigError, match="not a logical date: '2024-02-30'"):
        cw.run_stage("extract", store="unused", day="2024-02-30", inputs=["unused"])


def test_the_published_days_read_as_one_dataset_of_exactly_the_kept_records(
    dump: Path, tmp_path: Path
) -> None:
    """``{store}/output/`` read whole, ``dt`` from the directories: the kept records of each day,
    nothing of the rejects, dropped records or manifests beside them (they used to be counted)."""
    import duckdb
    import pyarrow.dataset as ds

    store = tmp_path / "store"
    days = ["2024-05-01", "2024-05-02"]
    kept = [
        cw.run_partition(store=str(store), day=day, inputs=[str(dump)])["counts"]["n_kept"] for day in days
    ]
    output = store / "output"
    glob = f"{output}/**/*.parquet"
    rows = (
        duckdb.connect()
        .execute(
            f"SELECT dt, count(*) FROM read_parquet('{glob}', hive_partitioning=true, union_by_name=true) "
            "GROUP BY dt ORDER BY dt"
        )
        .fetchall()
    )
    assert [(str(dt), n) for dt, n in rows] == list(zip(days, kept, strict=True))
    table = ds.dataset(output, partitioning="hive").to_table()
    assert table.num_rows == sum(kept) and "dt" in table.schema.names


def test_an_fsspec_store_holds_the_same_partitions(dump: Path, tmp_path: Path) -> None:
    pytest.importorskip("fsspec")
    import fsspec

    root = f"memory://cleanwire-{tmp_path.name}"
    cli_run(dump, tmp_path / "cli")
    result = chain(root, DAY, dump)
    mem = fsspec.filesystem("memory")
    assert mem.exists(f"{result['path']}/{OutputLayout.MANIFEST}")
    assert_same_output(lambda n: bytes(mem.cat_file(f"{result['path']}/{n}")), tmp_path / "cli")


# --- the example DAG under Airflow -----------------------------------------------------------

DRIVER = """
import json, sys
import pendulum
try:
    from airflow.dag_processing.dagbag import DagBag  # Airflow >= 3.1
except ImportError:
    from airflow.models.dagbag import DagBag

bag = DagBag(dag_folder=sys.argv[1])
dag = bag.dags.get("cleanwire")
print("CLEANWIRE_DAGBAG " + json.dumps({
    "errors": {str(k): str(v) for k, v in bag.import_errors.items()},
    "dags": sorted(bag.dags),
    "tasks": [t.task_id for t in dag.topological_sort()] if dag else [],
}), flush=True)
run = dag.test(logical_date=pendulum.parse(sys.argv[2]))
print("CLEANWIRE_RUN " + json.dumps({"state": str(run.state)}), flush=True)
"""


def tagged(output: str, tag: str) -> dict[str, Any]:
    for line in output.splitlines():
        if line.startswith(tag + " "):
            found: dict[str, Any] = json.loads(line[len(tag) + 1 :])
            return found
    raise AssertionError(f"no {tag} line in the output:\n{output[-4000:]}")


@pytest.fixture(scope="module")
def dag_run(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, str]:
    """Migrate a fresh SQLite metadata DB, import the example DAG folder, ``dag.test()`` it."""
    pytest.importorskip("airflow", reason="needs the airflow extra: pip install 'cleanwire[airflow]'")
    tmp = tmp_path_factory.mktemp("airflow")
    home = tmp / "home"
    home.mkdir()
    env = {
        **{k: v for k, v in os.environ.items() if not k.startswith("AIRFLOW")},
        "AIRFLOW_HOME": str(home),
        "AIRFLOW__DATABASE__SQL_ALCHEMY_CONN": f"sqlite:///{home / 'airflow.db'}",
        "AIRFLOW__CORE__LOAD_EXAMPLES": "False",
        "AIRFLOW__CORE__DAGS_FOLDER": str(DAG_FOLDER),
        "AIRFLOW__CORE__UNIT_TEST_MODE": "False",
        "CLEANWIRE_STORE": str(tmp / "store"),
        "CLEANWIRE_INPUTS": str(REPO / "fixtures" / "dump"),
    }
    migrate = subprocess.run(
        [sys.executable, "-m", "airflow", "db", "migrate"],
        env=env,
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert migrate.returncode == 0, migrate.stdout[-3000:] + migrate.stderr[-3000:]
    proc = subprocess.run(
        [sys.executable, "-c", DRIVER, str(DAG_FOLDER), DAY],
        env=env,
        capture_output=True,
        text=True,
        timeout=900,
        cwd=tmp,
    )
    output = proc.stdout + "\n" + proc.stderr
    assert proc.returncode == 0, output[-6000:]
    return tmp / "store", output


def test_example_dag_imports_without_errors(dag_run: tuple[Path, str]) -> None:
    _, output = dag_run
    bag = tagged(output, "CLEANWIRE_DAGBAG")
    assert bag["errors"] == {}
    assert bag["dags"] == ["cleanwire"]
    assert bag["tasks"] == [*cw.stage_names(), "publish"]


def test_dag_test_end_to_end_equals_the_cli_and_logs_counts(
    dag_run: tuple[Path, str], tmp_path: Path
) -> None:
    store, output = dag_run
    assert tagged(output, "CLEANWIRE_RUN")["state"].endswith("success")
    expected = cli_run(REPO / "fixtures" / "dump", tmp_path / "cli")
    out = store / "output" / f"dt={DAY}"
    assert_same_output(lambda n: (out / n).read_bytes(), tmp_path / "cli")
    published = json.loads(OutputLayout(out).manifest.read_text())
    assert published["counts"] == expected["counts"]
    assert without_seconds(published["stages"]) == without_seconds(expected["stages"])
    c = expected["counts"]
    assert f"cleanwire publish dt={DAY}: {c['n_in']} in, {c['n_kept']} kept" in output
    for reason, n in c["rejected"].items():
        assert f"rejected {reason}: {n}" in output
    assert "cleanwire extract dt=" in output and "cleanwire reject " in output
