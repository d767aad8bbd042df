"""Output layout: bounded part files, row groups by bytes, hive partitions, JSONL on stdout,
and the same rows in the same order whatever the number of workers."""

from __future__ import annotations

import dataclasses
import hashlib
import json
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from click.testing import CliRunner

from pipeline import Config, Pipeline
from pipeline.cli import cli
from pipeline.core.config import OutputConfig, RunConfig
from pipeline.core.schema import OUTPUT_SCHEMA
from pipeline.core.typed import parse_size
from pipeline.execution.engines import SerialEngine
from pipeline.io.layout import MISSING_PARTITION, OutputLayout, escape_value, partition_dirs
from pipeline.io.left_records import read_left
from pipeline.io.readers import Source
from pipeline.io.sinks import ParquetSink
from pipeline.io.sinks.part_files import PartFiles

SENTENCES = {
    "en": "The harbour committee met on Tuesday evening to discuss the repairs to the old sea wall.",
    "de": "Der Gemeinderat hat am Dienstag beschlossen, die Brücke über den Fluss neu zu bauen.",
    "fr": "Le conseil municipal a voté mardi soir la rénovation complète de la bibliothèque du quartier.",
    "es": "El ayuntamiento aprobó el martes la construcción de un nuevo puente sobre el río principal.",
}


def write_dump(path: Path, n: int, *, start: int = 0, noise: int = 0) -> list[dict[str, str]]:
    """``n`` records in four languages; ``noise`` adds that many hard-to-compress tokens each."""
    langs = sorted(SENTENCES)
    rows = []
    for i in range(start, start + n):
        tokens = " ".join(hashlib.sha256(f"{i}/{k}".encode()).hexdigest()[:12] for k in range(noise))
        text = f"{SENTENCES[langs[i % 4]]} ({i})\n\n" + SENTENCES[langs[i % 4]] * 12 + tokens
        rows.append({"id": f"d{i:04d}", "text": text})
    path.write_text("".join(json.dumps(r, ensure_ascii=False) + "\n" for r in rows), encoding="utf-8")
    return rows


def config(**output: object) -> Config:
    run = {k: output.pop(k) for k in ("row_group_bytes", "compression") if k in output}
    # the records of a language repeat one sentence: near-duplicates by design, so exact copies only
    cfg = Config().with_overrides({"near_dedup.enabled": False})
    return dataclasses.replace(
        cfg,
        output=dataclasses.replace(OutputConfig(), **output),  # type: ignore[arg-type]
        run=dataclasses.replace(RunConfig(), **run),  # type: ignore[arg-type]
    )


def run(cfg: Config, inputs: list[Path], out: Path) -> list[Path]:
    Pipeline.from_config(cfg).run(Source(inputs, cfg.reader), ParquetSink(out, cfg), engine=SerialEngine())
    return OutputLayout(out).part_files()


def test_part_files_are_bounded_and_row_groups_sized_by_bytes(tmp_path: Path) -> None:
    rows = write_dump(tmp_path / "d.jsonl", 240, noise=100)
    cfg = config(part_bytes=30_000, row_group_bytes=20_000)
    parts = run(cfg, [tmp_path / "d.jsonl"], tmp_path / "out")
    assert len(parts) > 2
    assert parts[0].name == "part-00000.parquet" and parts[1].name == "part-00000_0001.parquet"
    metas = [pq.ParquetFile(p).metadata for p in parts]
    for part, meta in zip(parts, metas, strict=True):
        group = meta.row_group(meta.num_row_groups - 1)
        last_group = sum(group.column(c).total_compressed_size for c in range(group.num_columns))
        before_last = part.stat().st_size - last_group - meta.serialized_size
        assert before_last < 30_000  # closed at the first row group that takes it past the size
        if part != parts[-1]:
            assert part.stat().st_size >= 30_000  # ...and not before
    assert sum(m.num_rows for m in metas) == len(rows)
    assert any(m.num_row_groups > 1 for m in metas)
    for m in metas:
        for g in range(m.num_row_groups - 1):
            assert m.row_group(g).total_byte_size > 0
        assert m.row_group(0).column(0).compression == "ZSTD"  # the default
    ids = [i for p in parts for i in pq.read_table(p, columns=["id"]).column(0).to_pylist()]
    assert ids == [r["id"] for r in rows]  # file names sort in write order


def test_hive_partitions_by_language(tmp_path: Path) -> None:
    rows = write_dump(tmp_path / "d.jsonl", 40)
    parts = run(config(partition_by=("lang",)), [tmp_path / "d.jsonl"], tmp_path / "out")
    dirs = sorted({p.parent.name for p in parts})
    assert dirs == ["lang=de", "lang=en", "lang=es", "lang=fr"]
    seen = []
    for part in parts:
        table = pq.read_table(part, partitioning=None)
        assert "lang" not in table.column_names  # held by the directory, as hive readers expect
        ids = table.column("id").to_pylist()
        assert ids == sorted(ids)  # input order within a partition
        seen += ids
    assert sorted(seen) == [r["id"] for r in rows]
    table = pq.read_table(tmp_path / "out")
    langs = dict(zip(table.column("id").to_pylist(), table.column("lang").to_pylist(), strict=True))
    assert {langs[r["id"]] for r in rows[:4]} == set(SENTENCES)  # the 4 languages, one each
    assert all(langs[r["id"]] == langs[rows[i % 4]["id"]] for i, r in enumerate(rows))
    manifest = json.loads(OutputLayout(tmp_path / "out").manifest.read_text())
    assert {f"lang={lang}/part-00000.parquet" for lang in SENTENCES} <= set(manifest["outputs"])


def test_rerun_of_a_partitioned_run_skips_finished_shards(tmp_path: Path) -> None:
    write_dump(tmp_path / "a.jsonl", 12)
    write_dump(tmp_path / "b.jsonl", 12, start=12)
    cfg = config(partition_by=("lang",))
    out = tmp_path / "out"
    first = {p: p.read_bytes() for p in run(cfg, [tmp_path / "a.jsonl", tmp_path / "b.jsonl"], out)}
    OutputLayout(out).manifest.unlink()  # not finished: the rerun must look at each shard's files
    sink = ParquetSink(out, cfg)
    assert sink.done("00000") is not None and sink.done("00001") is not None
    assert len(sink.kept_hashes("00001")) == 12
    next(iter(first)).unlink()
    assert sink.done(next(iter(first)).name.split("-")[1].split(".")[0]) is None
    again = run(cfg, [tmp_path / "a.jsonl", tmp_path / "b.jsonl"], out)
    assert {p: p.read_bytes() for p in again} == first


def test_the_layout_names_and_lists_the_files_of_an_output_directory(tmp_path: Path) -> None:
    layout = OutputLayout(tmp_path)
    for rel in (
        "part-00000.parquet",
        "lang=en/part-00001.parquet",
        "lang=en/.part-00002.parquet.tmp",
        "_cleanwire/state/part-00003.parquet",
        ".snapshot/part-00004.parquet",
        "notes.txt",
    ):
        (tmp_path / rel).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / rel).write_bytes(b"")
    parts = [p.relative_to(tmp_path).as_posix() for p in layout.part_files()]
    assert parts == ["lang=en/part-00001.parquet", "part-00000.parquet"]
    assert [p.name for p in layout.temp_files()] == [".part-00002.parquet.tmp"]
    state = tmp_path / "_cleanwire" / "state"
    assert layout.marker("00007") == state / "00007.done.json"
    assert layout.shard_left("00007", "rejects") == state / "00007.rejects.jsonl.gz"
    assert [layout.manifest, layout.left("rejects"), layout.left("dropped")] == [
        tmp_path / "_cleanwire" / "manifest.json",
        tmp_path / "_cleanwire" / "rejects.jsonl.gz",
        tmp_path / "_cleanwire" / "dropped.jsonl.gz",
    ]
    written = [
        "part-00000.parquet",
        "lang=en/part-00001.parquet",
        "_cleanwire/state/00000.done.json",
        "_cleanwire/rejects.jsonl.gz",
        "rejects.parquet",  # an older cleanwire's: --overwrite replaces it too
    ]
    assert all(layout.is_output_file(Path(rel)) for rel in written)
    assert not layout.is_output_file(Path("notes.txt"))


def test_a_sink_takes_the_run_hash_from_prepare(tmp_path: Path) -> None:
    cfg = config()
    sink = ParquetSink(tmp_path / "out", cfg)
    with pytest.raises(RuntimeError, match="prepare"):
        sink.open_shard("00000")
    sink.prepare("0123456789abcdef")
    shard = sink.open_shard("00000")
    shard.commit()
    marker = json.loads(OutputLayout(tmp_path / "out").marker("00000").read_text())
    part = pq.ParquetFile(tmp_path / "out" / "part-00000.parquet")
    assert marker["config_hash"] == "0123456789abcdef"
    assert part.schema_arrow.metadata[b"cleanwire.config_hash"] == b"0123456789abcdef"


def test_partition_values() -> None:
    batch = pa.RecordBatch.from_pylist(
        [
            {"lang": "en", "date": "2024-05-01T10:30"},
            {"lang": "zh-cn", "date": None},
            {"lang": "und", "date": "yesterday"},
            {"lang": "a/b", "date": "2023-12"},
        ]
    )
    assert partition_dirs(batch, ("lang", "date")) == [
        "lang=en/day=2024-05-01",
        f"lang=zh-cn/day={MISSING_PARTITION}",
        f"lang=und/day={MISSING_PARTITION}",
        f"lang=a%2Fb/day={MISSING_PARTITION}",
    ]
    assert partition_dirs(batch, ("month",))[::3] == ["month=2024-05", "month=2023-12"]
    assert partition_dirs(batch, ()) == [""] * 4
    assert escape_value("") == MISSING_PARTITION


def test_sizes_parse() -> None:
    assert [parse_size(s) for s in ("1024", "64MB", "64MiB", "1.5k", "2G")] == [
        1024,
        64 << 20,
        64 << 20,
        1536,
        2 << 30,
    ]


def _cli(*args: str, input: bytes | None = None) -> tuple[str, str]:
    # write_dump's records repeat one sentence per language: near-duplicates, so exact copies only
    res = CliRunner().invoke(cli, ["run", *args, "--no-progress", "--no-near-dedup"], input=input)
    assert res.exit_code == 0, res.output
    return res.stdout, res.stderr


def test_jsonl_to_stdout_matches_parquet_and_keeps_rejects_in_the_directory(tmp_path: Path) -> None:
    write_dump(tmp_path / "d.jsonl", 10)
    with open(tmp_path / "d.jsonl", "a", encoding="utf-8") as fh:
        fh.write("{not json\n")
    _cli(str(tmp_path / "d.jsonl"), "-o", str(tmp_path / "pq"), "-w", "1")
    stdout, stderr = _cli(
        str(tmp_path / "d.jsonl"), "--format", "jsonl", "-o", str(tmp_path / "js"), "-w", "1"
    )
    records = [json.loads(line) for line in stdout.splitlines()]
    table = pq.read_table(OutputLayout(tmp_path / "pq").part_files()[0])
    expected = json.loads(json.dumps(table.to_pylist()))  # float32 lang_prob as JSON sees it
    for row in expected:
        row["extra"] = dict(row["extra"])
    assert records == expected
    assert "records in" in stderr
    assert (
        f"output: records on stdout; {tmp_path / 'js'}/ "
        "(_cleanwire/: rejects.jsonl.gz, dropped.jsonl.gz, manifest.json)" in stderr
    )
    js = OutputLayout(tmp_path / "js")
    assert not js.part_files()
    assert read_left(js.left("rejects")).column("reason").to_pylist() == ["invalid_json"]
    manifest = json.loads(js.manifest.read_text())
    assert manifest["counts"]["n_in"] == 11
    _, stderr = _cli(str(tmp_path / "d.jsonl"), "--format", "jsonl", "-w", "1")
    assert "output: records on stdout (rejects, dropped records and the manifest are not kept" in stderr
    # a Parquet run into that directory is not fooled into skipping shards
    stdout, _ = _cli(str(tmp_path / "d.jsonl"), "-o", str(tmp_path / "js"), "-w", "1")
    assert "part-*.parquet" in stdout
    assert pq.ParquetFile(OutputLayout(tmp_path / "js").part_files()[0]).metadata.num_rows == 10


def test_jsonl_refuses_partitions_and_parquet_needs_a_directory(tmp_path: Path) -> None:
    write_dump(tmp_path / "d.jsonl", 1)
    res = CliRunner().invoke(
        cli, ["run", str(tmp_path / "d.jsonl"), "--format", "jsonl", "--partition-by", "lang"]
    )
    assert res.exit_code == 2 and "partition" in res.output
    res = CliRunner().invoke(cli, ["run", str(tmp_path / "d.jsonl")])
    assert res.exit_code == 2 and "-o/--output" in res.output
    res = CliRunner().invoke(
        cli, ["run", str(tmp_path / "d.jsonl"), "-o", str(tmp_path / "o"), "--partition-by", "x"]
    )
    assert res.exit_code == 2


@pytest.mark.slow
def test_same_rows_same_order_same_bytes_whatever_the_workers(tmp_path: Path) -> None:
    write_dump(tmp_path / "a.jsonl", 30)
    (tmp_path / "pages").mkdir()
    for i in range(12):
        (tmp_path / "pages" / f"p{i:02d}.txt").write_text(f"Page {i}\n\n" + SENTENCES["en"] * (i + 1))
    digests = []
    for workers in ("1", "2"):
        out = tmp_path / f"w{workers}"
        _cli(
            str(tmp_path / "a.jsonl"),
            str(tmp_path / "pages"),
            "-o",
            str(out),
            "-w",
            workers,
            "--batch-size",
            "4",
            "--partition-by",
            "lang",
        )
        digests.append(
            {
                p.relative_to(out).as_posix(): hashlib.sha256(p.read_bytes()).hexdigest()
                for p in OutputLayout(out).part_files()
            }
        )
    assert digests[0] == digests[1]
    assert len(digests[0]) >= 5


def test_stdin_is_never_resumed(tmp_path: Path) -> None:
    line = json.dumps({"id": "a", "text": SENTENCES["en"]}) + "\n"
    _cli("-", "-o", str(tmp_path / "o"), "-w", "1", input=line.encode())
    res = CliRunner().invoke(cli, ["run", "-", "-o", str(tmp_path / "o"), "-w", "1"], input=line.encode())
    assert res.exit_code == 4 and "cannot be resumed" in res.output
    _cli("-", "-o", str(tmp_path / "o"), "-w", "1", "--overwrite", input=line.encode())


def kept_rows(days: list[str | None]) -> pa.RecordBatch:
    """Kept rows (:data:`OUTPUT_SCHEMA`) dated ``days``, ids ``r0000``... in that order."""
    rows: list[dict[str, object]] = [
        {
            "id": f"r{i:04d}",
            "source": "dump.jsonl",
            "date": day,
            "text": f"Story {i}",
            "lang": "en",
            "lang_prob": 1.0,
            "removed": [],
            "encoding_fixes": [],
            "n_chars_raw": 7,
            "n_chars_text": 7,
            "content_hash": f"{i:016x}",
            "extra": [],
        }
        for i, day in enumerate(days)
    ]
    return pa.RecordBatch.from_pylist(rows, schema=OUTPUT_SCHEMA)


@pytest.mark.skipif(not Path("/proc/self/fd").is_dir(), reason="counts open files in /proc/self/fd")
def test_a_shard_over_more_partitions_than_files_it_may_open_keeps_every_row(tmp_path: Path) -> None:
    resource = pytest.importorskip("resource")
    # 300 days, each over the row-group size: a file per partition opened in turn, all of them
    # kept open until the shard commits, ran out of file descriptors (the run lost)
    days = [f"2022-{1 + d // 28:02d}-{1 + d % 28:02d}" for d in range(300)]
    batch = kept_rows([day for day in days for _ in range(2)])
    cfg = config(partition_by=("date",), row_group_bytes=1)
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    in_use = len(list(Path("/proc/self/fd").iterdir()))
    resource.setrlimit(resource.RLIMIT_NOFILE, (max(2 * in_use + 16, 64), hard))
    try:
        parts = PartFiles(tmp_path, "00000", cfg, {})
        parts.add(batch.slice(0, 300))
        parts.add(batch.slice(300))
        written = parts.commit()
    finally:
        resource.setrlimit(resource.RLIMIT_NOFILE, (soft, hard))
    assert len({Path(w).parent for w in written}) == 300
    table = pq.read_table(tmp_path, partitioning="hive")
    assert sorted(table.column("id").to_pylist()) == batch.column("id").to_pylist()
    for w in written:  # every file holds its own day's rows
        assert set(pq.read_table(tmp_path / w, partitioning=None).column("date").to_pylist()) == {
            Path(w).parent.name.removeprefix("day=")
        }
    ids = [
        i for w in sorted(written) for i in pq.read_table(tmp_path / w, columns=["id"]).column(0).to_pylist()
    ]
    assert ids == batch.column("id").to_pylist()  # within a partition, files sort in write order


def test_a_shard_keeps_at_most_its_limit_of_files_open(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr("pipeline.io.sinks.part_files.open_file_limit", lambda: 3)
    days = ["2024-05-01", "2024-05-02", "2024-05-03", None, "2024-05-01", "2024-05-04", "2024-05-02"]
    parts = PartFiles(tmp_path, "00007", config(partition_by=("date",), row_group_bytes=1), {})
    for i in range(len(days)):
        parts.add(kept_rows(days).slice(i, 1))
        assert sum(p.writer is not None for p in parts.partitions.values()) <= 3
    written = parts.commit()
    assert written == [
        "day=2024-05-01/part-00007.parquet",
        "day=2024-05-01/part-00007_0001.parquet",  # closed for day=undated, reopened
        "day=2024-05-02/part-00007.parquet",
        "day=2024-05-02/part-00007_0001.parquet",
        "day=2024-05-03/part-00007.parquet",
        "day=2024-05-04/part-00007.parquet",
        "day=undated/part-00007.parquet",
    ]
    table = pq.read_table(tmp_path, partitioning="hive")
    assert sorted(table.column("id").to_pylist()) == [f"r{i:04d}" for i in range(7)]
