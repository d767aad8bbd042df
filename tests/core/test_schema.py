"""The written files have the documented schema and provenance metadata."""

from __future__ import annotations

from pathlib import Path

import pyarrow.parquet as pq
from click.testing import CliRunner

from pipeline import Config
from pipeline.cli import cli
from pipeline.core.schema import OUTPUT_SCHEMA, REJECT_SCHEMA, SCHEMA_VERSION
from pipeline.io.layout import OutputLayout
from pipeline.io.left_records import read_left


def test_output_and_rejects_schema_and_metadata(demo_dump: Path, tmp_path: Path) -> None:
    out = tmp_path / "o"
    res = CliRunner().invoke(cli, ["run", str(demo_dump), "-o", str(out), "--workers", "1"])
    assert res.exit_code == 0, res.output
    parts = sorted(out.rglob("part-*.parquet"))
    assert parts
    for part in parts:
        schema = pq.read_schema(part)
        assert schema.remove_metadata().equals(OUTPUT_SCHEMA.remove_metadata(), check_metadata=False)
        meta = {k.decode(): v.decode() for k, v in (schema.metadata or {}).items()}
        assert meta["cleanwire.config_hash"] == Config().hash
        assert meta["cleanwire.schema_version"] == SCHEMA_VERSION
        for lib in ("cleanwire", "trafilatura", "ftfy", "langdetect", "pyarrow"):
            assert meta[f"cleanwire.{lib}"] not in ("", "unknown")
    layout = OutputLayout(out)
    assert sorted(out.rglob("*.parquet")) == parts  # the kept records are the only Parquet files
    for kind in ("rejects", "dropped"):
        left = read_left(layout.left(kind))
        assert left.schema.equals(REJECT_SCHEMA) and left.num_rows > 0
    rows = [r for p in parts for r in pq.read_table(p).to_pylist()]
    for row in rows:
        assert row["n_chars_text"] == len(row["text"])
        for removal in row["removed"]:
            assert removal["end"] > removal["start"] >= 0
            assert removal["snippet"]
