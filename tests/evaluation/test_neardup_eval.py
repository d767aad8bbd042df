"""The near-duplicate evaluation set, built from ../shared/eval at run time: the issue's targets
hold on the test split (precision >= 0.99, recall >= 0.95 on copies sharing >= 80 % of their
body), and exact dedup's numbers come beside them. Skipped without the evaluation data."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from click.testing import CliRunner

from pipeline.cli import cli
from pipeline.core.config import Config
from pipeline.evaluation.neardup import eval_neardup
from pipeline.evaluation.neardup_set import streams

pytestmark = pytest.mark.eval


def test_the_set_is_built_the_same_every_time(eval_dir: Path) -> None:
    first, again = streams(eval_dir, "test", rounds=1), streams(eval_dir, "test", rounds=1)
    assert first == again
    (stream,) = first
    labels = {p.label for p in stream.pairs}
    assert labels == {"positive", "negative", "gray"} and len(stream.docs) > 400
    categories = {p.category for p in stream.pairs if p.label == "negative"}
    assert {"same_template", "shared_quote", "shared_paragraph", "same_site_natural"} <= categories


def test_targets_on_the_test_split(eval_dir: Path) -> None:
    result = eval_neardup(eval_dir, Config())
    assert result.stream_near.precision >= 0.99 and result.stream_near.recall >= 0.95
    assert result.pairs_near.precision >= 0.99 and result.pairs_near.recall >= 0.95
    assert result.stream_exact.recall < 0.2  # what exact dedup alone finds of the same copies
    assert result.false_positives == []


def test_cli_set_neardup(eval_dir: Path) -> None:
    res = CliRunner().invoke(cli, ["eval", "--data", str(eval_dir), "--set", "neardup", "--json"])
    assert res.exit_code == 0, res.output
    data = json.loads(res.stdout)["neardup"]
    assert data["split"] == "test" and data["params"]["threshold"] == 0.5
    assert set(data["stream"]) == {"near_dedup", "exact"}
    text = CliRunner().invoke(cli, ["eval", "--data", str(eval_dir), "--set", "neardup"]).stdout
    assert "stream near_dedup" in text and "stream exact only" in text
