"""The stand-ins for trafilatura's heaviest selectors (``stages.extract.selectors``) select what
the XPaths they replace select, and extraction gives the same text with them.

``fixtures/extract/selector_cases.html`` is authored for this: ids before and after classes,
empty attributes, hidden and reply markers, comment lists, cookie banners in other cases, a
headline inside an infinite-scroll box, body blocks nested in body blocks.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from lxml import etree

import pipeline  # noqa: F401 - import order: pipeline before stages
from pipeline.core.config import ExtractConfig
from pipeline.core.stage import RejectRecord
from stages.extract import selectors
from stages.extract.extractor import Extracted, drop_inert, extract_html, parse_html, utf8_page
from stages.extract.selectors import PINNED, Slot, StandIn, first_of, stand_ins, xpath_digest

ROOT = Path(__file__).resolve().parents[3]
PAGES = sorted(p for p in (ROOT / "fixtures").rglob("*.html") if "fuzz" not in p.parts)
CASES = ROOT / "fixtures" / "extract" / "selector_cases.html"
INSTALL = selectors.install


@pytest.fixture
def originals() -> Iterator[dict[Slot, Any]]:
    """trafilatura's own selectors (the stand-ins out while the test runs)."""
    selectors.uninstall()
    try:
        yield {slot: slot.get() for slot in PINNED}
    finally:
        INSTALL()


def trees(path: Path) -> Iterator[Any]:
    """The page as the selectors meet it: parsed raw (the raw-tree prunes, the baseline's
    cleaning) and after trafilatura's tree cleaning and tag conversion (the main extractor's
    prunes, with its ``list``/``item`` elements)."""
    from trafilatura.htmlprocessing import convert_tags, tree_cleaning
    from trafilatura.settings import Extractor

    tree = parse_html(utf8_page(path.read_text(encoding="utf-8")))
    yield tree
    cleaned = parse_html(utf8_page(path.read_text(encoding="utf-8")))
    drop_inert(cleaned)
    opts = Extractor(output_format="txt")
    yield convert_tags(tree_cleaning(cleaned, opts), opts)


def same(a: list[Any], b: list[Any]) -> bool:
    return len(a) == len(b) and all(x is y for x, y in zip(a, b, strict=True))


def test_the_pins_are_trafilaturas_current_xpaths(originals: dict[Slot, Any]) -> None:
    assert {slot: xpath_digest(xp) for slot, xp in originals.items()} == PINNED


@pytest.mark.parametrize("path", PAGES, ids=lambda p: p.name)
def test_each_stand_in_selects_what_its_xpath_selects(path: Path, originals: dict[Slot, Any]) -> None:
    for tree in trees(path):
        for slot, stand_in in stand_ins().items():
            assert same(stand_in(tree), originals[slot](tree)), (path.name, stand_in.name)


def test_the_cases_page_exercises_every_stand_in(originals: dict[Slot, Any]) -> None:
    """The authored page is a real test: every stand-in selects something on it, and most
    reject something a careless reading of its XPath would take."""
    picked = {
        si.name: [el.text_content().strip()[:40] for t in trees(CASES) for el in si(t)]
        for si in stand_ins().values()
    }
    assert all(picked.values()), picked
    hidden = picked["hidden_or_reply"]
    assert "Hidden by id before style" in hidden and "Style before a hidden id: no match" not in hidden
    assert "A reply by class first" in hidden and "Class first, reply id second: no match" not in hidden
    basic = picked["basic_clean"]
    assert "Footer by class first" in basic and "Footer id second: class first, no match" not in basic
    assert "We use cookies. Accept" in basic and "A page about biscuits and cookies." not in basic
    assert "Commentary is not comments" not in " ".join(picked["comments_and_lists"])


def test_first_of_reads_the_attribute_that_comes_first() -> None:
    a = etree.fromstring('<div class="c" id="i"/>')
    b = etree.fromstring('<div id="i" class="c"/>')
    assert (first_of(a, "id", "class"), first_of(b, "id", "class"), first_of(a, "x", "y")) == ("c", "i", "")


def test_a_pattern_that_matches_nothing_is_required() -> None:
    with pytest.raises(ValueError, match="empty string"):
        selectors._search("x*")


def test_install_swaps_pinned_slots_and_uninstall_restores_them(originals: dict[Slot, Any]) -> None:
    assert INSTALL() == len(PINNED)
    assert all(isinstance(slot.get(), StandIn) for slot in PINNED)
    selectors.uninstall()
    assert all(slot.get() is xp for slot, xp in originals.items())


def test_a_changed_xpath_keeps_trafilaturas_selector(originals: dict[Slot, Any]) -> None:
    slot = Slot("trafilatura.xpaths", "BODY_XPATH", 0)
    changed = etree.XPath(".//article[@class='story']")
    slot.set(changed)
    try:
        assert INSTALL() == len(PINNED) - 1
        assert slot.get() is changed
        selectors.uninstall()
    finally:
        slot.set(originals[slot])


@pytest.mark.parametrize("path", PAGES, ids=lambda p: p.name)
def test_extraction_gives_the_same_text_with_the_stand_ins(
    path: Path, originals: dict[Slot, Any], monkeypatch: pytest.MonkeyPatch
) -> None:
    html = path.read_text(encoding="utf-8")
    with monkeypatch.context() as m:
        m.setattr(selectors, "install", lambda: 0)  # the extractor installs them on its first page
        without = outcome(html)
    assert isinstance(Slot("trafilatura.xpaths", "BODY_XPATH", 0).get(), etree.XPath)
    assert INSTALL() == len(PINNED)
    assert outcome(html) == without


def outcome(html: str) -> Extracted | str:
    """The extraction, or the reason the page was rejected."""
    try:
        return extract_html(html, config=ExtractConfig())
    except RejectRecord as exc:
        return exc.reason
