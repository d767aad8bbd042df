"""Issue 22, the input side: bytes and settings an adversarial user gives cleanwire become records,
rejects or a clear error before anything is written; never a traceback, never a lost run.

One test (or group) per case of the issue's table; the fuzz tests in ``test_fuzz_readers.py``
cover the general guarantee behind them."""

from __future__ import annotations

from pathlib import Path

import pytest
from click.testing import CliRunner

from pipeline.cli import cli
from pipeline.core.config import SIZE_MAX, Config, parse_size
from pipeline.core.errors import ConfigError

# --- 13: sizes out of any sane range are refused by the config check -----------------------------


@pytest.mark.parametrize(
    "value",
    ['"99999999999999999999999GB"', '"1e400"', "9" * 30, "9" * 5000, '"' + "9" * 5000 + '"'],
    ids=["huge-size-string", "exponent", "30-digit-int", "5000-digit-int", "5000-digit-string"],
)
def test_a_huge_size_exits_2_before_anything_is_written(tmp_path: Path, value: str) -> None:
    (tmp_path / "in.jsonl").write_text('{"text": "A record."}\n')
    conf = tmp_path / "c.toml"
    conf.write_text(f"[reader]\nmax_record_bytes = {value}\n")
    res = CliRunner().invoke(
        cli, ["run", str(tmp_path / "in.jsonl"), "-o", str(tmp_path / "out"), "--config", str(conf)]
    )
    assert res.exit_code == 2, res.output
    assert "Traceback" not in res.output
    assert "max_record_bytes" in res.output or "not valid TOML" in res.output
    assert not (tmp_path / "out").exists()


def test_sizes_are_exact_and_bounded() -> None:
    assert parse_size("1.5k") == 1536 and parse_size("1PiB") == SIZE_MAX
    with pytest.raises(ConfigError, match=r"reader.max_record_bytes must be in \[1, 1125899906842624\]"):
        Config.from_dict({"reader": {"max_record_bytes": "99999999999999999999999GB"}})
    with pytest.raises(ConfigError, match=r"output\.part_bytes must be in"):
        Config().with_overrides({"output.part_bytes": 2**63})
    with pytest.raises(ConfigError, match="a number of about"):
        Config.from_dict({"run": {"row_group_bytes": 10**5000}})
    assert Config.from_dict({"reader": {"max_record_bytes": "1PB"}}).reader.max_record_bytes == SIZE_MAX
