"""Block headers and items left next to a removal (stages.boilerplate.neighbours), alone and in the stage."""

from __future__ import annotations

import pytest

from pipeline.core.config import BoilerplateConfig
from pipeline.core.errors import RuleError
from pipeline.core.record import Doc, Removal
from stages.boilerplate.engine import Found
from stages.boilerplate.neighbours import HEADER_RULE, ITEM_RULE, is_header, is_item, neighbours
from stages.boilerplate.stage import Boilerplate


def _removed(text: str, snippet: str, category: str) -> Found:
    start = text.index(snippet)
    return (Removal("r", category, start, start + len(snippet), snippet), HEADER_RULE, None)


@pytest.mark.parametrize(
    ("line", "header"),
    [
        ("Worth a read:", True),
        ("En ce moment »", True),
        ("Destaques >>", True),
        ("RECOMMENDED", True),
        ("More on this...", True),
        ("He said:", True),  # a label's shape: only what is removed below it decides
        ("The council said on Tuesday that it would review the plan:", False),  # too long
        ("Read on.", False),
        ("Pier reopens", False),  # a title: no label mark, not in capitals
    ],
)
def test_header_shape(line: str, header: bool) -> None:
    assert is_header(line) is header


@pytest.mark.parametrize(
    ("line", "item"),
    [
        ("› Bakery in the centre closes after 80 years", True),
        ("Council tax bills: full list of changes", True),
        ('"It is the greatest compliment we could receive."', False),  # a sentence in quotes
        ("The pier reopened on Monday.", False),
        ("Home", False),
    ],
)
def test_item_shape(line: str, item: bool) -> None:
    assert is_item(line) is item


def test_header_above_a_removed_block_goes_with_its_category() -> None:
    text = "Body text of the article.\n\nWorth a read:\nOne headline\nAnother headline\n\nMore body."
    found = [_removed(text, "One headline\nAnother headline", "promo_block")]
    (removal, rule, match), *rest = neighbours(text, found)
    assert not rest and match is None and rule is HEADER_RULE
    assert (removal.rule, removal.category, removal.snippet) == (
        "structure.block_header",
        "promo_block",
        "Worth a read:",
    )
    assert text[removal.start : removal.end] == removal.snippet


def test_item_between_two_removals_of_one_category() -> None:
    text = "Body.\n\n› First headline\n› Middle headline left behind\n› Last headline\n\nBody again."
    found = [
        _removed(text, "› First headline", "related_links"),
        _removed(text, "› Last headline", "related_links"),
    ]
    [(removal, rule, _)] = neighbours(text, found)
    assert rule is ITEM_RULE and removal.snippet == "› Middle headline left behind"
    assert removal.category == "related_links"


@pytest.mark.parametrize(
    "case",
    [
        "different categories",
        "a sentence between",
        "two lines between",
        "nothing removed below",
        "inline removal",
    ],
)
def test_what_is_left_alone(case: str) -> None:
    text = "Body.\n\nTop picks:\n› First headline\n› A middle line\n› Last headline\n\nBody again."
    first, last = "› First headline", "› Last headline"
    if case == "different categories":
        found = [_removed(text, first, "related_links"), _removed(text, last, "footer")]
        assert [f[0].rule for f in neighbours(text, found)] == ["structure.block_header"]
        return
    if case == "a sentence between":
        text = text.replace("› A middle line", "The council confirmed the plan on Tuesday.")
        found = [_removed(text, first, "related_links"), _removed(text, last, "related_links")]
        assert [f[0].snippet for f in neighbours(text, found)] == ["Top picks:"]
        return
    if case == "two lines between":
        text = text.replace("› A middle line", "› A middle line\n› And another")
        found = [_removed(text, first, "related_links"), _removed(text, last, "related_links")]
        assert [f[0].snippet for f in neighbours(text, found)] == ["Top picks:"]
        return
    if case == "nothing removed below":
        assert neighbours(text, []) == []
        return
    found = [_removed(text, "again.", "source_link")]  # starts inside "Body again."
    assert neighbours(text, found) == []


def test_stage_takes_the_header_of_a_block_a_rule_removed() -> None:
    """The built-in rules know "DON'T MISS" but not this site's label over it."""
    text = (
        "Pier reopens\nThe pier reopened on Monday after a winter of repairs.\nToday's picks »\n"
        "DON'T MISS:\nMortgage holders told to act before deadline [NEWS]\n"
        "Pub voted the cosiest in the county (VIDEO)\nThe café will open at weekends."
    )
    doc = Doc(id="d", source="s", raw=text, text=text)
    Boilerplate(BoilerplateConfig(model="none")).process_docs([doc])
    assert "Today's picks" not in doc.text and "DON'T MISS" not in doc.text
    assert "The pier reopened on Monday" in doc.text and "The café will open at weekends." in doc.text
    assert [r.rule for r in doc.removed][:1] == ["structure.block_header"]
    assert doc.removed[0].category == "promo_block"
    off = Boilerplate(BoilerplateConfig(model="none", disabled_rules=("structure.block_header",)))
    kept = Doc(id="d", source="s", raw=text, text=text)
    off.process_docs([kept])
    assert "Today's picks »" in kept.text and "DON'T MISS" not in kept.text


def test_disabled_structure_ids_are_checked_like_pack_ids() -> None:
    with pytest.raises(RuleError, match=r"did you mean \['structure.block_item'\]"):
        Boilerplate(BoilerplateConfig(disabled_rules=("structure.block_iten",)))
    stage = Boilerplate(BoilerplateConfig(disabled_rules=("structure.block_item",)))
    assert stage.disabled_structure == {"structure.block_item"}
