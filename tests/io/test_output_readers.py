"""Every common reader of an output directory gets exactly the kept records and the kept schema:
the part files are the directory's only Parquet files, and the rejects, dropped records, manifest
and resume state sit in ``_cleanwire/``, where those readers do not look, in files any tool opens.
A directory an older cleanwire wrote (side files beside the part files) is refused with a message
that says what to do, and ``--overwrite`` rewrites it."""

from __future__ import annotations

import gzip
import json
import logging
import shutil
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import duckdb
import pyarrow as pa
import pyarrow.dataset as ds
import pyarrow.parquet as pq
import pytest
from click.testing import CliRunner

from pipeline.cli import cli
from pipeline.core.schema import OUTPUT_SCHEMA, REJECT_SCHEMA
from pipeline.io.layout import OutputLayout
from tests.conftest import REPO

DUMP = REPO / "fixtures" / "dump"


@dataclass(frozen=True)
class Output:
    root: Path
    kept_ids: list[str]
    left_ids: dict[str, list[str]]  # rejects/dropped -> ids
    #: The kept schema as readers see it: the part files' columns, with the partition columns
    #: the directories hold (``lang`` is not in the files under ``lang=...``; ``day`` is derived).
    columns: dict[str, pa.DataType]


def _run(out: Path, *args: str) -> None:
    res = CliRunner().invoke(cli, ["run", str(DUMP), "-o", str(out), "-w", "1", "--no-progress", *args])
    assert res.exit_code == 0, res.output


@pytest.fixture(scope="module", params=["flat", "partitioned"])
def output(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Output:
    out = tmp_path_factory.mktemp(request.param) / "out"
    columns = {f.name: f.type for f in OUTPUT_SCHEMA}
    if request.param == "partitioned":
        _run(out, "--partition-by", "lang,date")
        columns["day"] = pa.string()  # day=2023-01-01/ ... and day=undated/
    else:
        _run(out)
    layout = OutputLayout(out)
    manifest = json.loads(layout.manifest.read_text())
    kept = sorted(i for p in layout.part_files() for i in pq.read_table(p, columns=["id"])["id"].to_pylist())
    assert len(kept) == manifest["counts"]["n_kept"] > 0
    left = {}
    for kind in ("rejects", "dropped"):
        with gzip.open(layout.left(kind)) as fh:
            left[kind] = sorted(json.loads(line)["id"] for line in fh)
    assert len(left["rejects"]) == manifest["counts"]["n_rejected"] > 0
    assert len(left["dropped"]) == manifest["counts"]["n_dropped"] > 0
    return Output(out, kept, left, columns)


def plain(t: pa.DataType) -> pa.DataType:
    """A type as the schema names it: large/view strings and lists as plain ones, no field names
    or nullability inside lists and maps (each reader spells those its own way)."""
    if pa.types.is_large_string(t) or pa.types.is_string_view(t):
        return pa.string()
    if pa.types.is_list(t) or pa.types.is_large_list(t) or pa.types.is_list_view(t):
        return pa.list_(plain(t.value_type))
    if pa.types.is_struct(t):
        return pa.struct([pa.field(f.name, plain(f.type)) for f in t])
    if pa.types.is_map(t):
        return pa.map_(plain(t.key_type), plain(t.item_type))
    if pa.types.is_dictionary(t):
        return plain(t.value_type)
    return t


def assert_kept(output: Output, table: pa.Table, reader: str) -> None:
    assert sorted(table.column("id").to_pylist()) == output.kept_ids, reader
    got = {f.name: plain(f.type) for f in table.schema}
    assert got == {name: plain(t) for name, t in output.columns.items()}, reader


def test_pyarrow_dataset_reads_exactly_the_kept_records(output: Output) -> None:
    assert_kept(output, ds.dataset(output.root, partitioning="hive").to_table(), "pyarrow.dataset")


def test_pq_read_table_reads_exactly_the_kept_records(output: Output) -> None:
    assert_kept(output, pq.read_table(output.root), "pq.read_table")


def test_pandas_reads_exactly_the_kept_records(output: Output) -> None:
    pd = pytest.importorskip("pandas")
    frame = pd.read_parquet(output.root)
    assert sorted(frame["id"]) == output.kept_ids
    assert set(frame.columns) == set(output.columns)


def test_duckdb_glob_reads_exactly_the_kept_records(output: Output) -> None:
    # `**` descends into _cleanwire/ too: nothing there ends in .parquet
    glob = f"{output.root}/**/*.parquet"
    con = duckdb.connect()
    rel = con.sql(f"SELECT * FROM read_parquet('{glob}', hive_partitioning=true)")
    assert rel is not None
    table = rel.arrow()  # a Table, or in newer DuckDB a RecordBatchReader
    assert_kept(output, table.read_all() if isinstance(table, pa.RecordBatchReader) else table, "duckdb")
    union = con.execute(f"SELECT count(*) FROM read_parquet('{glob}', union_by_name=true)").fetchall()
    assert union == [(len(output.kept_ids),)]


def test_polars_glob_reads_exactly_the_kept_records(output: Output) -> None:
    pl = pytest.importorskip("polars")
    frame = pl.scan_parquet(f"{output.root}/**/*.parquet", hive_partitioning=True).collect()
    assert_kept(output, frame.to_arrow(), "polars")


@pytest.fixture(scope="module")
def spark() -> Iterator[Any]:
    pytest.importorskip("pyspark", reason="pyspark is not installed")
    if shutil.which("java") is None:
        pytest.skip("no Java runtime on PATH: Spark cannot start")
    from pyspark.sql import SparkSession

    session = (
        SparkSession.builder.master("local[1]")
        .appName("cleanwire-test")
        .config("spark.ui.enabled", "false")
        .config("spark.sql.shuffle.partitions", "1")
        .config("spark.driver.memory", "512m")
        .getOrCreate()
    )
    session.sparkContext.setLogLevel("ERROR")
    yield session
    session.stop()
    # py4j logs from __del__ at interpreter exit, when pytest has closed the streams
    logging.getLogger("py4j").setLevel(logging.CRITICAL)


@pytest.mark.slow
@pytest.mark.filterwarnings("ignore:PySpark does not yet fully support pandas:FutureWarning")
def test_spark_reads_exactly_the_kept_records(output: Output, spark: Any) -> None:
    frame = spark.read.parquet(str(output.root))
    assert sorted(r["id"] for r in frame.select("id").collect()) == output.kept_ids
    assert set(frame.columns) == set(output.columns)
    rejects = spark.read.json(str(OutputLayout(output.root).left("rejects")))
    assert sorted(r["id"] for r in rejects.select("id").collect()) == output.left_ids["rejects"]


def test_rejects_dropped_and_manifest_are_easy_to_read(output: Output) -> None:
    layout = OutputLayout(output.root)
    assert sorted(output.root.rglob("*.parquet")) == layout.part_files()
    assert sorted(p.relative_to(output.root).as_posix() for p in layout.meta_dir.iterdir()) == [
        "_cleanwire/dropped.jsonl.gz",
        "_cleanwire/manifest.json",
        "_cleanwire/rejects.jsonl.gz",
        "_cleanwire/state",
    ]
    pd = pytest.importorskip("pandas")
    for kind in ("rejects", "dropped"):
        path = layout.left(kind)
        frame = pd.read_json(path, lines=True, dtype=False)
        assert sorted(frame["id"]) == output.left_ids[kind]
        assert list(frame.columns) == REJECT_SCHEMA.names
        count = duckdb.connect().execute(f"SELECT count(*) FROM '{path}'").fetchall()
        assert count == [(len(output.left_ids[kind]),)]
    pl = pytest.importorskip("polars")
    assert sorted(pl.read_ndjson(layout.left("rejects"))["id"]) == output.left_ids["rejects"]
    assert json.loads(layout.manifest.read_text())["counts"]["n_kept"] == len(output.kept_ids)


def test_an_output_directory_as_input_gives_its_kept_records(output: Output, tmp_path: Path) -> None:
    """The walk of an input directory leaves ``_cleanwire/`` out: its rejects are no input."""
    out = tmp_path / "again"
    res = CliRunner().invoke(
        cli, ["run", str(output.root), "-o", str(out), "-w", "1", "--no-progress", "--json"]
    )
    assert res.exit_code == 0, res.output
    manifest = json.loads(OutputLayout(out).manifest.read_text())
    assert manifest["counts"]["n_in"] == len(output.kept_ids)
    assert all("_cleanwire" not in path for paths in manifest["shards"].values() for path in paths)


# --- an output that kept no record ----------------------------------------------------------------


EMPTY_INPUTS = {
    "no input file": {},
    "every record rejected": {"all.jsonl": '{"id": "a", "text": ""}\n{"id": "b", "text": "  "}\n'},
}


@pytest.mark.parametrize("partition_by", ["", "lang,date"])
@pytest.mark.parametrize("inputs", sorted(EMPTY_INPUTS))
def test_an_output_that_kept_nothing_reads_as_no_rows_with_the_schema(
    tmp_path: Path, inputs: str, partition_by: str
) -> None:
    # a partitioned run that kept nothing (or any run of no shard) wrote no part file at all:
    # DuckDB's and Polars' globs failed ("No files found") and pandas/pyarrow read no column
    dump = tmp_path / "dump"
    dump.mkdir()
    for name, text in EMPTY_INPUTS[inputs].items():
        (dump / name).write_text(text, encoding="utf-8")
    out = tmp_path / "out"
    args = ["run", str(dump), "-o", str(out), "-w", "1", "--no-progress"]
    args += ["--partition-by", partition_by] if partition_by else []
    res = CliRunner().invoke(cli, args)
    assert res.exit_code == 0, res.output
    columns = {f.name: f.type for f in OUTPUT_SCHEMA} | ({"day": pa.string()} if partition_by else {})
    expected = Output(out, [], {}, columns)
    assert_kept(expected, ds.dataset(out, partitioning="hive").to_table(), "pyarrow.dataset")
    assert_kept(expected, pq.read_table(out), "pq.read_table")
    rel = duckdb.connect().sql(f"SELECT * FROM read_parquet('{out}/**/*.parquet', hive_partitioning=true)")
    assert rel is not None
    table = rel.arrow()
    assert_kept(expected, table.read_all() if isinstance(table, pa.RecordBatchReader) else table, "duckdb")
    pl = pytest.importorskip("polars")
    frame = pl.scan_parquet(f"{out}/**/*.parquet", hive_partitioning=True).collect()
    assert_kept(expected, frame.to_arrow(), "polars")
    layout = OutputLayout(out)
    manifest = json.loads(layout.manifest.read_text())
    parts = {p.relative_to(out).as_posix() for p in layout.part_files()}
    assert parts and parts <= set(manifest["outputs"])  # recorded: --overwrite removes it
    assert manifest["counts"]["n_kept"] == 0
    res = CliRunner().invoke(cli, [*args, "--overwrite"])
    assert res.exit_code == 0, res.output
    assert {p.relative_to(out).as_posix() for p in layout.part_files()} == parts


# --- a directory an older cleanwire wrote --------------------------------------------------------


def write_legacy_output(out: Path) -> None:
    """What cleanwire wrote before ``_cleanwire/``: everything at the top of the directory."""
    out.mkdir(parents=True)
    _run(out / "new")
    new = OutputLayout(out / "new")
    for part in new.part_files():
        shutil.copy(part, out / part.name)
    empty = pa.table({name: pa.array([], pa.string()) for name in REJECT_SCHEMA.names})
    pq.write_table(empty, out / "rejects.parquet")
    pq.write_table(empty, out / "dropped.parquet")
    manifest = json.loads(new.manifest.read_text())
    outputs: dict[str, dict[str, Any]] = {p.name: {} for p in new.part_files()}
    outputs |= {"rejects.parquet": {}, "dropped.parquet": {}}
    (out / "manifest.json").write_text(json.dumps({**manifest, "outputs": outputs}))
    (out / "_state").mkdir()
    for marker in new.markers():
        shutil.copy(marker, out / "_state" / marker.name)
    shutil.rmtree(out / "new")
    (out / "notes.txt").write_text("mine")


def test_a_directory_in_the_old_layout_is_refused_with_what_to_do(tmp_path: Path) -> None:
    out = tmp_path / "out"
    write_legacy_output(out)
    before = sorted(p.relative_to(out).as_posix() for p in out.rglob("*"))
    res = CliRunner().invoke(cli, ["run", str(DUMP), "-o", str(out), "-w", "1", "--no-progress"])
    assert res.exit_code == 4, res.output
    assert "older cleanwire" in res.output and "--overwrite" in res.output
    assert sorted(p.relative_to(out).as_posix() for p in out.rglob("*")) == before  # nothing written
    res = CliRunner().invoke(cli, ["stats", str(out)])
    assert res.exit_code == 3 and "older cleanwire" in res.output and "--overwrite" in res.output

    res = CliRunner().invoke(
        cli, ["run", str(DUMP), "-o", str(out), "-w", "1", "--no-progress", "--overwrite"]
    )
    assert res.exit_code == 0, res.output
    layout = OutputLayout(out)
    assert not layout.legacy_files()
    expected = ["_cleanwire", "notes.txt", *(p.name for p in layout.part_files())]
    assert sorted(p.name for p in out.iterdir()) == sorted(expected)
    assert (out / "notes.txt").read_text() == "mine"
    assert CliRunner().invoke(cli, ["stats", str(out)]).exit_code == 0
