"""The Ray Data engine on a local Ray (2 CPUs, no dashboard): same rows, schema, rejects and
manifest counts as the local engine, on the demo fixtures plus a generated dump with duplicates
and broken lines spread over several Ray windows."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from click.testing import CliRunner

from pipeline.api import Pipeline
from pipeline.cli import cli
from pipeline.core.config import Config, RunConfig
from pipeline.core.errors import OutputError
from pipeline.core.record import Doc, docs_to_batch
from pipeline.execution.engines import SerialEngine
from pipeline.io.readers import Source
from pipeline.io.sinks import ParquetSink

pytestmark = pytest.mark.ray
ray = pytest.importorskip("ray", reason="needs the ray extra: pip install 'cleanwire[ray]'")

from pipeline.core.stage import stats_from_batch  # noqa: E402
from pipeline.execution.ray import RayEngine, clean_dataset, write_dataset  # noqa: E402
from pipeline.io.layout import OutputLayout  # noqa: E402
from pipeline.io.left_records import read_left  # noqa: E402

REPO = Path(__file__).resolve().parents[2]
BODY = "The harbour authority said the new breakwater would protect the fishing fleet in winter storms."
# A headline: a two-word label such as "Harbour news" reads as a section name to the boilerplate model
TITLE = "Harbour authority approves new breakwater"


@pytest.fixture()
def dump(demo_dump: Path, tmp_path: Path) -> Path:
    """The demo fixtures plus a JSONL whose duplicates fall in different batches and windows."""
    root = tmp_path / "dump"
    shutil.copytree(demo_dump, root)
    lines = []
    for i in range(30):
        text = f"Story {i % 7}\n\n{BODY} Item {i % 7}."  # 7 distinct texts, the rest duplicates
        lines.append(json.dumps({"id": f"g{i}", "text": text}))
        if i % 10 == 3:
            lines.append("{not json")
    (root / "feeds" / "generated.jsonl").write_text("\n".join(lines) + "\n", encoding="utf-8")
    return root


def run_cli(*args: str) -> dict[str, Any]:
    res = CliRunner().invoke(cli, ["run", *args, "--json"])
    assert res.exit_code == 0, res.output
    manifest: dict[str, Any] = json.loads(Path(json.loads(res.stdout)["manifest"]).read_text())
    return manifest


def read(path: Path) -> pa.Table:
    return pq.read_table(path).replace_schema_metadata(None)


def without_seconds(stages: dict[str, dict[str, Any]]) -> dict[str, dict[str, Any]]:
    return {name: {k: v for k, v in st.items() if k != "seconds"} for name, st in stages.items()}


def test_cli_engine_ray_writes_what_the_local_engine_writes(
    local_ray: None, dump: Path, tmp_path: Path
) -> None:
    local = run_cli(str(dump), "-o", str(tmp_path / "local"), "--workers", "2", "--batch-size", "4")
    remote = run_cli(str(dump), "-o", str(tmp_path / "ray"), "--engine", "ray", "--batch-size", "4")
    assert remote["counts"] == local["counts"]
    assert remote["counts"]["n_dropped"] >= 23 and remote["counts"]["n_rejected"] >= 3
    assert without_seconds(remote["stages"]) == without_seconds(local["stages"])
    assert sorted(remote["outputs"]) == sorted(local["outputs"])
    for name in local["outputs"]:
        if name.endswith(".parquet"):
            assert read(tmp_path / "ray" / name).equals(read(tmp_path / "local" / name)), name
        else:  # the rejects and dropped records, byte for byte
            assert (tmp_path / "ray" / name).read_bytes() == (tmp_path / "local" / name).read_bytes(), name
        assert remote["outputs"][name]["rows"] == local["outputs"][name]["rows"]


def test_small_windows_cut_ray_blocks_back_into_the_runners_batches(
    local_ray: None, dump: Path, tmp_path: Path
) -> None:
    cfg = Config(run=RunConfig(batch_size=3))
    reports = {}
    for name, engine in (("serial", SerialEngine()), ("ray", RayEngine(window=2))):
        sink = ParquetSink(tmp_path / name, cfg)
        reports[name] = Pipeline.from_config(cfg).run(Source([dump], cfg.reader), sink, engine=engine)
    assert reports["ray"].tally.to_dict() == reports["serial"].tally.to_dict()
    for part in sorted((tmp_path / "serial").glob("*.parquet")):
        assert read(tmp_path / "ray" / part.name).equals(read(part)), part.name


def test_stats_recovered_from_status_columns_equal_the_stages_own_counters() -> None:
    cfg = Config()
    stages = Pipeline.from_config(cfg).stages
    docs = [Doc(id=f"d{i}", source="t", raw=f"Headline {i % 2}\n\n{BODY}", format="text") for i in range(5)]
    docs.append(Doc(id="html-empty", source="t", raw="<html><body></body></html>", format="html"))
    unreadable = Doc(id="bad", source="t", raw="")
    unreadable.reject("read", "undecodable")
    docs.append(unreadable)
    out, counted = next(SerialEngine().map(stages, [docs_to_batch(docs)]))
    recovered = stats_from_batch(stages, out)
    assert {k: v.to_dict() | {"seconds": 0} for k, v in recovered.items()} == {
        k: v.to_dict() | {"seconds": 0} for k, v in counted.items()
    }
    assert recovered["near_dedup"].dropped["duplicate"] == 3
    assert recovered["extract"].n_in == 6  # the reader's reject never entered a stage


def test_ray_native_dataset_path_matches_the_local_output(
    local_ray: None, dump: Path, tmp_path: Path
) -> None:
    cfg = Config()
    local = run_cli(str(dump), "-o", str(tmp_path / "local"), "--workers", "1")
    work = tmp_path / "work.parquet"  # the raw records as WORK rows, as the Airflow ingest writes them
    source = Source([dump], cfg.reader)
    docs = [d for shard in source.shards() for d in shard.docs(cfg.reader)]
    pq.write_table(pa.Table.from_batches([docs_to_batch(docs)]), work, row_group_size=5)
    ds = clean_dataset(ray.data.read_parquet(str(work)), cfg)
    got = written_as_local(write_dataset(ds, str(tmp_path / "native")), local, tmp_path)
    assert sorted(got.column("id").to_pylist()) == sorted(local_output(tmp_path).column("id").to_pylist())


def local_output(tmp_path: Path) -> pa.Table:
    return pa.concat_tables([read(p) for p in sorted((tmp_path / "local").glob("part-*.parquet"))])


def written_as_local(counts: dict[str, int], local: dict[str, Any], tmp_path: Path) -> pa.Table:
    """The Ray output under ``tmp_path/native``, checked against the CLI's under ``tmp_path/local``:
    the same counts, columns and rows."""
    assert counts == {
        "output": local["counts"]["n_kept"],
        "rejects": local["counts"]["n_rejected"],
        "dropped": local["counts"]["n_dropped"],
    }
    expected = local_output(tmp_path)
    got = read(tmp_path / "native")  # the directory: _cleanwire/ is not read
    native = OutputLayout(tmp_path / "native")
    assert sorted(p.relative_to(native.root) for p in native.meta_dir.iterdir()) == [
        Path("_cleanwire/dropped.jsonl.gz"),
        Path("_cleanwire/rejects.jsonl.gz"),
    ]
    assert read_left(native.left("rejects")).num_rows == local["counts"]["n_rejected"]
    assert got.schema.names == expected.schema.names
    assert got.sort_by("id").equals(expected.sort_by("id").cast(got.schema))
    return got


def test_readme_ray_data_example_reads_an_airflow_hive_partition(
    local_ray: None, dump: Path, tmp_path: Path
) -> None:
    from pipeline.integrations import airflow as cw

    local = run_cli(str(dump), "-o", str(tmp_path / "local"), "--workers", "1")
    step = cw.run_stage("extract", store=str(tmp_path / "store"), day="2024-05-01", inputs=[str(dump)])
    assert step["path"].endswith("/extract/dt=2024-05-01")
    ds = ray.data.read_parquet(step["path"])  # as the README says: Ray adds a `dt` column
    assert "dt" in ds.schema().names
    got = written_as_local(
        write_dataset(clean_dataset(ds, Config()), str(tmp_path / "native")), local, tmp_path
    )
    assert "dt" not in got.schema.names
    rejects = read_left(OutputLayout(tmp_path / "native").left("rejects")).sort_by("id")
    assert rejects.equals(read_left(OutputLayout(tmp_path / "local").left("rejects")).sort_by("id"))


def test_a_dataset_of_id_source_raw_is_cleaned_and_one_without_raw_is_refused_by_name(
    local_ray: None, tmp_path: Path
) -> None:
    rows = {
        "id": ["a", "b"],
        "source": ["user", "user"],
        "raw": [f"{TITLE}\n\n{BODY}\n\nSource: Read Full Article"] * 2,  # b: a duplicate
        "section": ["news", "sport"],  # not a work column: dropped
    }
    counts = write_dataset(
        clean_dataset(ray.data.from_arrow(pa.table(rows)), Config()), str(tmp_path / "out")
    )
    assert counts == {"output": 1, "rejects": 0, "dropped": 1}
    out = read(tmp_path / "out")
    assert out.column("text").to_pylist() == [f"{TITLE}\n\n{BODY}"]
    assert out.column("lang").to_pylist() == ["en"]
    without_raw = ray.data.from_arrow(pa.table({"id": ["a"], "source": ["user"], "text": [BODY]}))
    with pytest.raises(ValueError, match="the dataset has no 'raw' column"):
        clean_dataset(without_raw, Config())


def test_a_hanging_or_crashing_record_costs_one_record_under_ray_too(local_ray: None) -> None:
    from stages.extract.extractor import Extract
    from tests.hostile import CRASH, HANG, Misbehave

    texts = [BODY, f"{HANG} {BODY}", f"{CRASH} {BODY}", f"Another story\n\n{BODY}"]
    docs = [Doc(id=f"r{i}", source="t", raw=t, format="text") for i, t in enumerate(texts)]
    engine = RayEngine(window=2, timeout_s=2.0)
    ((out, stats),) = list(engine.map([Extract(), Misbehave()], [docs_to_batch(docs)]))
    got = list(zip(*(out.column(n).to_pylist() for n in ("status", "stage", "reason")), strict=True))
    assert got == [
        ("ok", None, None),
        ("rejected", "misbehave", "timeout"),
        ("rejected", "misbehave", "worker_crash"),
        ("ok", None, None),
    ]
    assert stats["misbehave"].rejected == {"timeout": 1, "worker_crash": 1}


def test_a_stage_plugs_into_ray_map_batches_as_it_is(local_ray: None) -> None:
    from pipeline.core.record import input_batch
    from stages import Boilerplate, Extract, NormalizeWhitespace

    rows = [
        {"id": f"r{i}", "source": "t", "raw": f"{BODY} ({i})\n\nSource: Read Full Article"} for i in range(6)
    ]
    ds = ray.data.from_arrow(pa.Table.from_batches([input_batch(rows)]))
    for stage in (Extract(), Boilerplate(), NormalizeWhitespace()):
        ds = ds.map_batches(stage, batch_format="pyarrow", batch_size=4)
    out = ds.to_arrow_refs()
    table = pa.concat_tables(ray.get(out))
    assert sorted(table.column("id").to_pylist()) == [f"r{i}" for i in range(6)]
    assert all(t == f"{BODY} ({i})" for i, t in enumerate(table.sort_by("id").column("text").to_pylist()))


def story_page(attributes: int = 0) -> str:
    """A news page; ``attributes`` on its wrapper slow extraction down without changing its text."""
    attrs = " ".join(f'a{i}="v"' for i in range(attributes))
    paragraphs = f"<p>{BODY}</p><p>{BODY} The work starts in May.</p>"
    return f"<html><body><div {attrs}><article><h1>{TITLE}</h1>{paragraphs}</article></div></body></html>"


def test_clean_dataset_keeps_the_first_copy_of_a_dataset_made_before_it_is_called(
    local_ray: None, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A dataset runs with the DataContext copied when it was made: clean_dataset used to set the
    current one, which such a dataset never sees, so its blocks came back as they finished and a
    slow original lost to its own copies (the README's ``ray.data.read_parquet`` → clean_dataset)."""
    current = ray.data.DataContext.get_current().execution_options
    monkeypatch.setattr(current, "preserve_order", False)  # a fresh session's (RayEngine sets it)
    rows = [
        {"id": f"p{i}", "source": "feed", "raw": story_page(30_000 if i == 0 else 0), "format": "html"}
        for i in range(6)
    ]
    ds = ray.data.from_items(rows, override_num_blocks=len(rows))
    cleaned = clean_dataset(ds, Config())
    assert cleaned.context.execution_options.preserve_order
    counts = write_dataset(cleaned, str(tmp_path / "out"))
    assert counts == {"output": 1, "rejects": 0, "dropped": 5}
    assert read(tmp_path / "out").column("id").to_pylist() == ["p0"]
    dropped = read_left(OutputLayout(tmp_path / "out").left("dropped"))
    assert dropped.column("id").to_pylist() == [f"p{i}" for i in range(1, 6)]


def test_write_dataset_refuses_a_directory_that_is_not_empty_and_leaves_it_as_it_was(
    local_ray: None, tmp_path: Path
) -> None:
    """Ray's write_parquet adds part files under new names: a second write_dataset into the same
    directory used to double its kept records (rejects and dropped replaced, counts of one run)."""
    ds = ray.data.from_arrow(pa.table({"id": ["a"], "source": ["user"], "raw": [f"{TITLE}\n\n{BODY}"]}))
    out = tmp_path / "out"
    assert write_dataset(clean_dataset(ds, Config()), str(out)) == {"output": 1, "rejects": 0, "dropped": 0}
    before = {p: p.read_bytes() for p in sorted(out.rglob("*")) if p.is_file()}
    with pytest.raises(OutputError, match="is not empty"):
        write_dataset(clean_dataset(ds, Config()), str(out))
    assert {p: p.read_bytes() for p in sorted(out.rglob("*")) if p.is_file()} == before
    assert read(out).num_rows == 1
    (tmp_path / "empty").mkdir()  # a new or empty directory is fine
    assert write_dataset(clean_dataset(ds, Config()), str(tmp_path / "empty"))["output"] == 1


# The engine starts its own Ray (as `cleanwire run --engine ray` does), inside the runner's
# handlers, then gets a SIGTERM: it must raise Stop (exit 130 in the CLI), not Ray's sys.exit(15).
SIGTERM_AFTER_RAY_STARTS = """
import os, signal
from pipeline.core import signals
from pipeline.core.record import docs_to_batch
from pipeline.execution.ray import RayEngine

engine = RayEngine(num_cpus=1)
with signals.stop_on_signals():
    try:
        next(engine.map([], iter([docs_to_batch([])])))  # starts Ray
        os.kill(os.getpid(), signal.SIGTERM)
        signal.pause()
    except signals.Stop as stop:
        print("STOPPED", stop.name, flush=True)
    finally:
        engine.close()
"""


def test_sigterm_still_stops_cleanly_once_the_engine_has_started_ray() -> None:
    """``ray.init`` replaces SIGTERM's handler with ``sys.exit(15)`` (and its core worker logs a
    stack dump): a SIGTERM during ``--engine ray`` killed the run with status 15 instead of
    ``error: stopped by SIGTERM`` and exit 130."""
    env = {k: v for k, v in os.environ.items() if k != "RAY_ADDRESS"}  # a Ray of its own
    proc = subprocess.run(
        [sys.executable, "-c", SIGTERM_AFTER_RAY_STARTS],
        env={**env, "PYTHONPATH": str(REPO)},
        capture_output=True,
        text=True,
        timeout=300,
        cwd=REPO,
    )
    assert proc.returncode == 0, proc.stderr[-3000:]
    assert "STOPPED SIGTERM" in proc.stdout
    assert "SIGTERM received" not in proc.stderr
