"""extract.prune_widgets: widget subtrees out by their class/id tokens, the main content never."""

from __future__ import annotations

from pathlib import Path

import pytest

import pipeline  # noqa: F401 - import order: pipeline before stages
from pipeline.core.config import Config, ExtractConfig
from pipeline.core.errors import ConfigError
from pipeline.core.record import Doc
from pipeline.training.widgets import PageVotes, fit
from stages.extract.extractor import WIDGET_FLAG, Extract, extract_html, parse_html
from stages.extract.widgets import (
    WidgetTable,
    attr_tokens,
    builtin_table,
    element_tokens,
    load_table,
    prune_widgets,
)

FIXTURES = Path(__file__).resolve().parents[3] / "fixtures" / "extract"
STORY = (FIXTURES / "widgets_story.html").read_text(encoding="utf-8")
WRAPPER = (FIXTURES / "widgets_share_wrapper.html").read_text(encoding="utf-8")
STORY_PARAS = (
    "four thousand visitors",
    "floating stage out of pallets",
    "lighting barges",
    "lighthouse a little",
)


def body_text(tree: object) -> str:
    return " ".join(tree.find("body").text_content().split())  # type: ignore[attr-defined]


def test_tokens_split_on_separators_and_camel_case() -> None:
    assert attr_tokens("postShare-box_2 related  x") == {"post", "share", "box", "related"}
    assert attr_tokens(None) == set()
    el = parse_html("<html><body><div id='newsletterBox' class='c-1'>x</div></body></html>").find(".//div")  # type: ignore[attr-defined]
    assert element_tokens(el) == {"newsletter", "box", "<div>"}


def test_score_is_the_strongest_widget_token_held_back_by_a_content_token() -> None:
    table = WidgetTable({"share": 3.0, "related": 2.0, "entry": -2.0}, threshold=2.5)
    assert table.score({"share", "related"}) == 3.0
    assert table.score({"share", "entry"}) == 1.0
    assert table.score({"unknown"}) == 0.0


def test_builtin_table_prunes_the_newsletter_box_not_the_story() -> None:
    tree = parse_html(STORY)
    pruned = prune_widgets(tree, builtin_table())
    text = body_text(tree)
    assert "morning newsletter" not in text and "Subscribe now" not in text
    assert "free reader account" not in text
    assert all(p in text for p in STORY_PARAS) and "Lantern festival returns" in text
    assert [tag for tag, _, _ in pruned.elements] == ["div", "div"]
    assert all("signup" in tokens for _, tokens, _ in pruned.elements)
    assert 0 < pruned.chars < 0.25 * pruned.visible
    # "related" carried main content on enough WCXB training domains that it weighs under the
    # threshold: the related-stories list stays for trafilatura and the boilerplate stage
    assert builtin_table().weights.get("related", 0.0) < builtin_table().threshold
    assert "Rowing club wins regional title" in text


def test_a_related_links_list_goes_when_the_table_says_so() -> None:
    tree = parse_html(STORY)
    table = WidgetTable({"related": 3.5, "signup": 4.0, "entry": -1.5}, threshold=3.0)
    pruned = prune_widgets(tree, table)
    text = body_text(tree)
    assert "Related stories" not in text and "Rowing club wins regional title" not in text
    assert "morning newsletter" not in text and all(p in text for p in STORY_PARAS)
    assert [toks for _, toks, _ in pruned.elements] == [("signup",), ("signup",), ("related",)]


def test_a_wrapper_named_like_a_share_bar_that_holds_the_body_stays() -> None:
    tree = parse_html(WRAPPER)
    before = body_text(tree)
    assert prune_widgets(tree, WidgetTable({"share": 9.0, "social": 9.0}, threshold=1.0)).elements == ()
    assert body_text(tree) == before
    tree = parse_html(WRAPPER)
    prune_widgets(tree, builtin_table())
    assert body_text(tree) == before


def promo_page(main_words: int) -> str:
    words = " ".join(["word"] * 40)  # 160 visible characters
    return (
        f"<html><body><article class='promo'><p>{words}</p></article>"
        + "".join(f"<div class='promo'>{words}</div>" for _ in range(4))
        + "<main class='promo'><p>"
        + " ".join(["main"] * main_words)
        + "</p></main></body></html>"
    )


def test_protected_tags_and_the_page_budget() -> None:
    table = WidgetTable({"promo": 5.0}, threshold=1.0)
    tree = parse_html(promo_page(1000))
    pruned = prune_widgets(tree, table)
    assert [tag for tag, _, _ in pruned.elements] == ["div"] * 4  # article and main never
    assert tree.find(".//article") is not None and tree.find(".//main") is not None  # type: ignore[attr-defined]
    # 160 + 4 * 160 + 400 visible characters: the budget (half) stops after three divs
    pruned = prune_widgets(parse_html(promo_page(100)), table)
    assert len(pruned) == 3 and pruned.chars <= 0.5 * pruned.visible


def test_extract_html_prunes_only_when_asked_and_counts_in_flags() -> None:
    plain = extract_html(STORY, config=ExtractConfig())
    assert plain.widgets_pruned == 0
    got = extract_html(STORY, config=ExtractConfig(prune_widgets=True))
    # trafilatura's own class/id XPaths already drop the newsletter box ("newsletter"); the
    # account sign-up panel is what pruning adds
    assert got.widgets_pruned == 2
    assert "free reader account" in plain.text and "free reader account" not in got.text
    assert "morning newsletter" not in plain.text and "morning newsletter" not in got.text
    assert all(p in " ".join(got.text.split()) for p in STORY_PARAS)
    doc = Doc(id="x", source="t", raw=STORY, format="html")
    Extract(ExtractConfig(prune_widgets=True)).process(doc)
    assert doc.flags.count(WIDGET_FLAG) == got.widgets_pruned


def test_config_hash_and_table_path(tmp_path: Path) -> None:
    on = Config().with_overrides({"extract.prune_widgets": True})
    assert on.hash != Config().hash
    with pytest.raises(ConfigError, match="widget_table"):
        Config().with_overrides(
            {"extract.prune_widgets": True, "extract.widget_table": str(tmp_path / "no.json")}
        )
    path = tmp_path / "t.json"
    path.write_text(WidgetTable({"promo": 2.0}, 1.5).to_json(), encoding="utf-8")
    assert load_table(str(path)) == WidgetTable({"promo": 2.0}, 1.5, {})


def test_fit_is_deterministic_and_votes_once_per_domain() -> None:
    votes = [
        PageVotes("1", "a.example", "article", {"promo": (500, 0), "entry": (0, 900)}),
        PageVotes("2", "a.example", "article", {"promo": (400, 0), "entry": (10, 800)}),
        PageVotes("3", "b.example", "article", {"promo": (300, 5), "entry": (0, 700)}),
        PageVotes("4", "c.example", "listing", {"promo": (0, 600)}),
    ]
    table = fit(votes, min_domains=2, threshold=0.4)
    assert table.weights["promo"] == pytest.approx(0.405, abs=1e-3)  # log((2+1)/(1+1))
    assert table.weights["entry"] == pytest.approx(-1.099, abs=1e-3)  # log(1/3)
    assert fit(list(reversed(votes)), min_domains=2, threshold=0.4).to_json() == table.to_json()
    assert "promo" not in fit(votes, min_domains=4, threshold=0.4).weights
    assert "promo" not in fit(votes, min_domains=2, threshold=1.0).weights  # under it: never decides


def test_pruned_text_counts_as_visible_in_the_doubt_signal() -> None:
    from stages.extract.cascade import main_text
    from stages.extract.extractor import trafilatura_settings

    cfg = ExtractConfig()
    plain = main_text(parse_html(STORY), None, cfg, fast_settings=trafilatura_settings())
    more = main_text(parse_html(STORY), None, cfg, fast_settings=trafilatura_settings(), pruned_chars=1000)
    assert plain.share is not None and more.share is not None
    assert more.share < plain.share
