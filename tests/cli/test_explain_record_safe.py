"""explain FILE --id reads a record as run does: a NUL or a lone surrogate of a JSONL record is
sanitized as run's batch boundary sanitizes it (the JSONL reader leaves that to the batch)."""

from __future__ import annotations

import json
from pathlib import Path

from click.testing import CliRunner

from pipeline.cli import cli

PAGE = "<html><body><p>The council met on Tuesday and the wor{}ld watched the vote on the new tram line.</p></body></html>"


def _final_text(dump: Path, record_id: str) -> str:
    res = CliRunner().invoke(cli, ["explain", str(dump), "--id", record_id, "--stages", "extract", "--json"])
    assert res.exit_code == 0, res.output
    return str(json.loads(res.stdout)[-1]["text"])


def test_explain_id_sanitizes_a_nul_as_run_does(tmp_path: Path) -> None:
    dump = tmp_path / "dump.jsonl"
    rows = [{"id": "nul", "html": PAGE.format("\x00")}, {"id": "sur", "html": PAGE.format("\ud800")}]
    dump.write_text("\n".join(json.dumps(r) for r in rows) + "\n", encoding="utf-8")
    assert _final_text(dump, "nul") == _final_text(dump, "sur").replace("\ufffd", "") != ""
    assert "world watched" in _final_text(dump, "nul")
    assert "wor\ufffdld watched" in _final_text(dump, "sur")
