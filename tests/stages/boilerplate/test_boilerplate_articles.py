"""End to end on authored articles (fixtures/boilerplate/articles): raw scrape in, exact gold out.

These were written after the rules, in forms the rules were not tuned on (other sites, other tag
styles, other languages), so they check that the packs describe forms rather than one data set.
"""

from __future__ import annotations

from pathlib import Path

import pytest

import pipeline
from tests.conftest import FIXTURES

ARTICLES = FIXTURES / "boilerplate" / "articles"
RAWS = sorted(p for p in ARTICLES.iterdir() if not p.name.endswith(".gold.txt"))


@pytest.mark.parametrize("raw", RAWS, ids=[p.name for p in RAWS])
def test_article_comes_out_as_gold(raw: Path) -> None:
    gold = raw.with_name(f"{raw.stem}.gold.txt").read_text(encoding="utf-8").strip()
    fmt = "html" if raw.suffix == ".html" else "text"
    result = pipeline.clean_text(raw.read_text(encoding="utf-8"), url="https://example.org/a/1", fmt=fmt)
    assert result.ok and result.flags == ()
    assert result.text == gold


def test_metadata_lifted_from_the_lines() -> None:
    result = pipeline.clean_text((ARTICLES / "lifeboat.txt").read_text(encoding="utf-8"))
    assert (result.author, result.date) == ("Marcus Hale", "2024-03-02T07:12")
    categories = [r.category for r in result.removed]
    for category in (
        "byline",
        "timestamp_update",
        "video_caption",
        "signup_notice",
        "promo_block",
        "ad_marker",
        "image_credit",
        "related_links",
        "share_prompt",
        "comments_prompt",
        "source_link",
    ):
        assert category in categories
    german = pipeline.clean_text((ARTICLES / "bibliothek.txt").read_text(encoding="utf-8"))
    assert (german.author, german.date) == ("Jana Roth", "2022-05-03T11:10")


def test_hard_negative_article_loses_only_its_ad_marker_and_byline() -> None:
    result = pipeline.clean_text((ARTICLES / "bakery.txt").read_text(encoding="utf-8"))
    assert [r.category for r in result.removed] == ["byline", "ad_marker"]
