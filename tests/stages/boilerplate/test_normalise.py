"""Rules match a typographic view of the text: one pattern covers every variant of a phrase."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from pipeline.core.errors import RuleError
from stages.boilerplate.engine import clean, find_removals
from stages.boilerplate.normalise import PLAIN, typographic_view
from stages.boilerplate.rulepack import load_rules, parse_rule

BODY = "The ferry returns to its summer timetable on Saturday, the operator said."


def _rule(**fields: object) -> list:  # type: ignore[type-arg]
    data = {"id": "t.rule", "category": "share_prompt", "kind": "line", **fields}
    try:
        return [parse_rule(data, pack="test", origin="test")]
    except RuleError as exc:  # pragma: no cover - a bad test rule
        raise AssertionError(exc) from exc


def test_the_view_has_the_same_length_and_changes_only_typography() -> None:
    text = "DON’T MISS – “Big” news…\u00a0Read more → • item · “é”"
    view = typographic_view(text)
    assert len(view) == len(text)
    assert view == 'DON\'T MISS - "Big" news… Read more > • item • "é"'
    assert typographic_view("plain ascii") == "plain ascii"
    assert typographic_view("« Le maire » ‹ oui ›") == "« Le maire » ‹ oui ›"  # guillemets stay


@pytest.mark.parametrize(
    "variant",
    [
        "Don't miss our weekend edition - sign up now",
        "Don’t miss our weekend edition – sign up now",
        "Don‘t miss our weekend edition — sign up now",
        "Don′t miss our weekend edition ― sign up now",
        "Don't miss our weekend edition\u00a0-\u202fsign up now",
    ],
)
def test_a_rule_written_with_plain_characters_covers_typographic_variants(variant: str) -> None:
    rules = _rule(pattern=r"(?i)don't miss our weekend edition - sign up now")
    text = f"{BODY}\n\n{variant}"
    (removal, _, _) = find_removals(text, rules)[0]
    assert removal.snippet == variant  # the ledger holds the text as it was, not the view
    assert text[removal.start : removal.end] == variant
    assert clean(text, rules).text.strip() == BODY


def test_arrows_and_bullets_read_as_one_character() -> None:
    rules = _rule(pattern=r"Read more >")
    for arrow in "→⇒➔➜➡▶►▸":
        text = f"{BODY}\nRead more {arrow}"
        assert clean(text, rules).text.strip() == BODY, arrow


def test_metadata_lifted_from_a_byline_keeps_the_original_characters() -> None:
    rules = load_rules(("builtin",))
    text = f"Harbour wall to be rebuilt\n\nBy Siobhán O’Brien\n\n{BODY}"
    result = clean(text, rules)
    assert result.author == "Siobhán O’Brien"
    assert "O’Brien" not in result.text


@given(st.text(alphabet=st.sampled_from([*PLAIN, "a", " ", "é", "«", "\n", "ß", "\U0001f600"])))
def test_the_view_is_a_character_for_character_mapping(text: str) -> None:
    """Only the listed variants change, each to its representative, wherever it stands."""
    assert typographic_view(text) == text.translate({ord(k): v for k, v in PLAIN.items()})
