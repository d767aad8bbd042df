"""The progress bar has a total for every input format (bytes of the files for JSONL, CSV and
WARC, records for document files and Parquet), so it shows % and an ETA; a run whose inputs hold
no document says so."""

from __future__ import annotations

import gzip
import hashlib
import json
from pathlib import Path
from typing import Any, ClassVar

import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from click.testing import CliRunner

from pipeline import Config
from pipeline.cli import cli
from pipeline.core.config import RunConfig
from pipeline.execution.engines import SerialEngine
from pipeline.execution.runner import Runner
from pipeline.io.layout import OutputLayout
from pipeline.io.progress import ShardSize, shard_size
from pipeline.io.readers import Source
from pipeline.io.sinks import ParquetSink

BODY = "The harbour committee met on Tuesday evening to discuss the repairs to the old sea wall."


def noise(i: int, n: int = 40) -> str:
    """Text that compresses badly, so a .gz is read in many chunks too."""
    return " ".join(hashlib.sha256(f"{i}/{k}".encode()).hexdigest()[:10] for k in range(n))


def write_jsonl(path: Path, n: int) -> Path:
    lines = [json.dumps({"id": f"r{i}", "text": f"Story {i}\n\n{BODY} {noise(i)}"}) + "\n" for i in range(n)]
    data = "".join(lines).encode()
    path.write_bytes(gzip.compress(data) if path.suffix == ".gz" else data)
    return path


class Bar:
    """What the runner calls of tqdm, recorded."""

    made: ClassVar[list[Bar]] = []

    def __init__(self, total: int | None = None, unit: str = "it", **_: Any) -> None:
        self.total, self.unit, self.n = total, unit, 0
        self.seen: list[int] = []
        self.postfix = ""
        Bar.made.append(self)

    def update(self, n: int) -> None:
        assert n >= 0
        self.n += n
        self.seen.append(self.n)

    def set_postfix_str(self, text: str, refresh: bool = True) -> None:
        self.postfix = text

    def close(self) -> None:
        pass


def run(inputs: list[Path], out: Path, batch_size: int = 8) -> Bar:
    """A run without stages (what is read is what is kept): only the reading is measured."""
    cfg = Config(run=RunConfig(batch_size=batch_size))
    Bar.made = []
    runner = Runner([], cfg, engine=SerialEngine(), progress=Bar)
    runner.run(Source(inputs, cfg.reader), ParquetSink(out, cfg))
    (bar,) = Bar.made
    return bar


@pytest.mark.parametrize("name", ["dump.jsonl", "dump.jsonl.gz"])
def test_jsonl_progress_counts_bytes_of_the_file_with_a_total(tmp_path: Path, name: str) -> None:
    path = write_jsonl(tmp_path / name, 2000)
    bar = run([path], tmp_path / "out", batch_size=50)
    assert (bar.unit, bar.total) == ("B", path.stat().st_size)
    assert bar.n == bar.total and bar.postfix == "2,000 docs"
    # the file is read batch by batch: the bar moves through it, not from 0 to 100 % at the end
    assert len([n for n in bar.seen if 0 < n < bar.total]) >= 3, bar.seen


def test_csv_and_document_files_together_count_bytes(tmp_path: Path) -> None:
    csv = tmp_path / "a.csv"
    csv.write_text("id,text\n" + "".join(f'c{i},"{BODY} {noise(i)}"\n' for i in range(50)))
    (tmp_path / "b.txt").write_text(f"Headline\n\n{BODY}")
    bar = run([csv, tmp_path / "b.txt"], tmp_path / "out")
    assert (bar.unit, bar.total) == ("B", csv.stat().st_size + (tmp_path / "b.txt").stat().st_size)
    assert bar.n == bar.total and bar.postfix == "51 docs"


def test_parquet_and_document_files_count_records_from_the_metadata(tmp_path: Path) -> None:
    rows = [{"id": f"p{i}", "text": f"Story {i}\n\n{BODY} {noise(i, 4)}"} for i in range(30)]
    pq.write_table(pa.Table.from_pylist(rows), tmp_path / "a.parquet", row_group_size=7)
    (tmp_path / "b.txt").write_text(f"Headline\n\n{BODY}")
    assert shard_size([tmp_path / "a.parquet"], "parquet").records == 30
    bar = run([tmp_path / "a.parquet", tmp_path / "b.txt"], tmp_path / "out")
    assert (bar.unit, bar.total, bar.n) == ("doc", 31, 31)


def test_a_resumed_run_starts_the_bar_at_the_finished_shards(tmp_path: Path) -> None:
    a, b = write_jsonl(tmp_path / "a.jsonl", 20), write_jsonl(tmp_path / "b.jsonl", 30)
    out = tmp_path / "out"
    run([a, b], out)
    OutputLayout(out).manifest.unlink()  # as if stopped after both shards: the rerun skips them
    bar = run([a, b], out)
    assert bar.total == bar.n == a.stat().st_size + b.stat().st_size
    assert bar.postfix == "50 docs"


def test_sizes_of_what_has_no_known_size() -> None:
    assert shard_size([Path("-")], "jsonl") == ShardSize(records=None, nbytes=None)


def test_a_run_over_inputs_without_a_document_warns(tmp_path: Path) -> None:
    (tmp_path / "empty").mkdir()
    (tmp_path / "blank.jsonl").write_text("\n\n")
    (tmp_path / "empty" / "notes.json").write_text("{}")
    res = CliRunner().invoke(cli, ["run", str(tmp_path / "empty"), "-o", str(tmp_path / "o1")])
    assert res.exit_code == 0, res.output
    assert "warning: no document in the inputs (0 file(s) read); 1 file(s) in the input directories" in (
        res.output
    )
    res = CliRunner().invoke(
        cli, ["run", str(tmp_path / "blank.jsonl"), "-o", str(tmp_path / "o2"), "--json"]
    )
    assert res.exit_code == 0
    assert "warning: no document in the inputs (1 file(s) read)" in res.stderr
    assert json.loads(res.stdout)["warnings"] == ["no document in the inputs (1 file(s) read)"]
