"""Line shapes: masking, generalising lines of one skeleton, and the shape's pattern."""

from __future__ import annotations

import re

import pytest

from stages.boilerplate.shapes import (
    generalise,
    is_shaped,
    literal_text,
    mask,
    name_run,
    parse_shape,
    shape_regex,
)


@pytest.mark.parametrize(
    ("line", "skeleton", "fills"),
    [
        ("Updated 3 hours ago by Jane Doe", "Updated {NUM} hours ago by {NAME}", ("3", "Jane Doe")),
        ("Fact-checked on 3 March 2024, 14:05", "Fact-checked on {DATE}, {TIME}", ("3 March 2024", "14:05")),
        ("Stand: 12.03.2024", "Stand: {DATE}", ("12.03.2024",)),
        ("© 2024 Harbour Gazette", "© {NUM} {NAME}", ("2024", "Harbour Gazette")),
        # a capitalised word alone at the start of a line is no name; a line in capitals has none
        ("Photo credit", "Photo credit", ()),
        ("MOST READ 2024", "MOST READ {NUM}", ("2024",)),
        ("Prices {from} 9,99", "Prices {{from}} {NUM}", ("9,99",)),
    ],
)
def test_mask(line: str, skeleton: str, fills: tuple[str, ...]) -> None:
    masked = mask(line)
    assert (masked.skeleton, masked.fills) == (skeleton, fills)


def test_generalise_keeps_what_never_changed() -> None:
    assert (
        generalise([mask("© 2024 Harbour Gazette"), mask("© 2025 Harbour Gazette")])
        == "© {NUM} Harbour Gazette"
    )
    lines = ["By Jane Doe for The Gazette", "By John Smith for The Gazette"]
    assert generalise([mask(ln) for ln in lines]) == "By {NAME} for The Gazette"
    lines = ["Updated 3 hours ago by Jane Doe", "Updated 11 hours ago by John Smith"]
    assert generalise([mask(ln) for ln in lines]) == "Updated {NUM} hours ago by {NAME}"


def test_shape_regex_matches_each_kind_only_where_its_placeholder_stands() -> None:
    rx = re.compile(shape_regex("Updated {NUM} hours ago by {NAME}"))
    assert rx.fullmatch("updated 7 hours  ago by Karl Heinz Berg")  # case and spaces are free
    assert not rx.fullmatch("Updated 7 hours ago by the editor")  # no capitalised name
    assert not rx.fullmatch("Updated seven hours ago by Jane Doe")  # no number
    date = re.compile(shape_regex("Fact-checked on {DATE}, {TIME}"))
    assert date.fullmatch("Fact-checked on 9 August 2025, 10:10")
    assert not date.fullmatch("Fact-checked on Monday at noon, 10:10")


def test_braces_are_text_in_a_shape() -> None:
    assert parse_shape("Prices {{from}} {NUM}") == (("Prices {from} ", ""), ("NUM",))
    assert re.fullmatch(shape_regex("Prices {{from}} {NUM}"), "Prices {from} 12")
    assert is_shaped("a {DATE}") and not is_shaped("a {{DATE}}") and not is_shaped("a {OTHER}")
    assert literal_text("Edition {NUM} of {{the}} week") == "Edition  of {the} week"


@pytest.mark.parametrize(
    ("shape", "run"),
    [
        ("By {NAME}", 1),
        ("{NAME} {NAME} {NAME}", 3),
        ("{NAME} and {NAME} {NAME}", 2),
        ("{NAME} {NUM} {NAME}", 1),
        ("Updated {TIME} by {NAME} {NAME}", 2),
        ("No placeholder", 0),
    ],
)
def test_name_run_counts_names_in_a_row(shape: str, run: int) -> None:
    assert name_run(shape) == run
