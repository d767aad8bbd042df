"""The written files have the documented schema and provenance metadata."""

from __future__ import annotations

from pathlib import Path

import pyarrow.parquet as pq
from click.testing import CliRunner

from pipeline import Config
from pipeline.cli import cli
from pipeline.core.schema import OUTPUT_SCHEMA, REJECT_SCHEMA, SCHEMA_VERSION


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
    for name in ("rejects.parquet", "dropped.parquet"):
        assert pq.read_schema(out / name).remove_metadata().equals(REJECT_SCHEMA)
    rows = [r for p in parts for r in pq.read_table(p).to_pylist()]
    for row in rows:
        assert row["n_chars_text"] == len(row["text"])
        for removal in row["removed"]:
            assert removal["end"] > removal["start"] >= 0
            assert removal["snippet"]
