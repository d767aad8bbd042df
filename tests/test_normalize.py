"""Layout: one block per line, blocks separated by one blank line, hard wraps re-joined."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from pipeline.record import Doc
from stages.normalize import NormalizeWhitespace, normalize_layout, strip_extracted_bullets


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("Title\nFirst para.\nSecond para.", "Title\n\nFirst para.\n\nSecond para."),
        ("  Title  \n\n\n\nBody   text  here.\n\n", "Title\n\nBody text here."),
        (
            "A sentence that was hard\nwrapped by the scraper.",
            "A sentence that was hard wrapped by the scraper.",
        ),
        (
            "Ends a sentence.\nlower case start stays a block",
            "Ends a sentence.\n\nlower case start stays a block",
        ),
        ("Tabs\tand\t\tspaces", "Tabs and spaces"),
        (
            "Para one\n\ncontinues? no: a blank line ends a block",
            "Para one\n\ncontinues? no: a blank line ends a block",
        ),
        ("", ""),
        ("\n \n\t\n", ""),
    ],
)
def test_normalize_layout(text: str, expected: str) -> None:
    assert normalize_layout(text) == expected


@given(st.text(max_size=300))
def test_layout_is_idempotent_and_tidy(text: str) -> None:
    once = normalize_layout(text)
    assert normalize_layout(once) == once
    assert once == once.strip()
    assert "\n\n\n" not in once and "  " not in once


def test_extracted_bullets_are_dropped_for_html_only() -> None:
    assert (
        strip_extracted_bullets("Intro:\n- Oak trees\n- Hazel\n* Ash\n• Elm")
        == "Intro:\nOak trees\nHazel\nAsh\nElm"
    )
    assert (
        strip_extracted_bullets("Score - 2-1 to the visitors\n-5 degrees")
        == "Score - 2-1 to the visitors\n-5 degrees"
    )
    html = Doc(id="a", source="s", raw="", format="html", text="Title\n- First item.\n- Second item.")
    text = Doc(id="b", source="s", raw="", format="text", text="Title\n- First item.\n- Second item.")
    NormalizeWhitespace().process_docs([html, text])
    assert html.text == "Title\n\nFirst item.\n\nSecond item."
    assert text.text == "Title\n\n- First item.\n\n- Second item."
