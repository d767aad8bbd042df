"""A bad option value names the option typed, not another whose setting's key begins the same
(``--model`` for ``--model-threshold``'s ``boilerplate.model_threshold``)."""

from __future__ import annotations

from pathlib import Path

from click.testing import CliRunner

from pipeline.cli import cli


def test_a_bad_model_threshold_names_model_threshold_when_model_is_given_too(tmp_path: Path) -> None:
    page = tmp_path / "page.txt"
    page.write_text("The council met on Tuesday.\n", encoding="utf-8")
    res = CliRunner().invoke(cli, ["explain", str(page), "--model", "none", "--model-threshold", "7"])
    assert res.exit_code != 0
    assert "error: --model-threshold: boilerplate.model_threshold" in res.stderr
