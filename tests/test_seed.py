"""The product owner's seed: one scraped express-style record, cleaned end to end."""

from __future__ import annotations

from pathlib import Path

import pyarrow.parquet as pq
from click.testing import CliRunner

import pipeline
from pipeline.cli import cli

BOILERPLATE = {
    "video_caption": "Ukraine: Woman appears to confront Russian soldier",
    "signup_notice": "We use your sign-up to provide content",
    "promo_block": "DON’T MISS",
    "source_link": "Source: Read Full Article",
}
HEADLINES = ["BRILLIANT takedown [INSIGHT]", "terrifying war [NEWS]", "chilling invasion [EXPLAINED]"]


def _paragraphs(seed: str) -> list[str]:
    """The title and every body paragraph of the seed, in order (what a perfect cleaner keeps)."""
    blocks = [b.strip() for b in seed.split("\n\n") if b.strip()]
    return [b for b in blocks if not any(marker in b for marker in BOILERPLATE.values())]


def test_clean_text_keeps_article_and_removes_all_four_pieces(seed_text: str) -> None:
    result = pipeline.clean_text(seed_text)
    assert result.ok
    for marker in [*BOILERPLATE.values(), *HEADLINES]:
        assert marker not in result.text
    kept = _paragraphs(seed_text)
    assert len(kept) == 22  # the title + 21 body paragraphs
    assert result.text.split("\n\n") == kept
    assert result.lang == "en" and result.lang_prob > 0.9
    assert {r.category for r in result.removed} == set(BOILERPLATE)
    for removal in result.removed:
        assert removal.snippet.startswith(
            next(v for k, v in BOILERPLATE.items() if k == removal.category)[:9]
        )


def test_promo_block_is_one_removal_with_its_headlines(seed_text: str) -> None:
    result = pipeline.clean_text(seed_text)
    promo = [r for r in result.removed if r.category == "promo_block"]
    assert len(promo) == 1
    assert all(h in promo[0].snippet for h in HEADLINES)


def test_cli_run_on_seed_yields_one_clean_row(seed_text: str, tmp_path: Path) -> None:
    dump = tmp_path / "dump"
    dump.mkdir()
    (dump / "seed.txt").write_text(seed_text, encoding="utf-8")
    out = tmp_path / "out"
    res = CliRunner().invoke(cli, ["run", str(dump), "-o", str(out), "--workers", "1"])
    assert res.exit_code == 0, res.output
    rows = pq.read_table(out / "part-00000.parquet").to_pylist()
    assert len(rows) == 1
    row = rows[0]
    assert row["title"] == seed_text.splitlines()[0]
    assert row["text"].split("\n\n") == _paragraphs(seed_text)
    assert row["lang"] == "en" and row["lang_prob"] > 0.9
    assert sorted(r["category"] for r in row["removed"]) == sorted(BOILERPLATE)
