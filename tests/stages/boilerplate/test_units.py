"""The model's units: blocks as normalize joins them, with exact offsets into the stage's input."""

from __future__ import annotations

from itertools import pairwise

import pytest
from hypothesis import example, given, settings
from hypothesis import strategies as st

from pipeline.core.blocks import (
    SPACES,
    SPLIT_BELOW,
    WHITE_SPACE,
    block_groups,
    join_blocks,
    layout_lines,
    nonspace,
    stripped_lines,
)
from pipeline.core.record import Removal
from stages.boilerplate.engine import split_lines
from stages.boilerplate.learned import touched
from stages.boilerplate.rulepack import code_rule
from stages.boilerplate.units import Units, bounds, glue_points, text_units
from stages.normalize import normalize_layout, strip_extracted_bullets

WRAPPED = (
    "Council approves budget\n"
    "\n"
    "The council approved the budget on Tuesday night after a debate that\n"
    "lasted for more than four hours, with several members asking for a\n"
    "delay until the spring so that residents could be consulted again.\n"
    "\n"
    "Sign up to our daily newsletter\n"
    "\n"
    "Officers said the shortfall had grown to six million pounds once the\n"
    "higher energy costs of the leisure centres and the libraries were\n"
    "included in the figures presented to the committee this week.\n"
)


def test_a_wrapped_paragraph_is_one_unit_with_exact_offsets() -> None:
    units = text_units(WRAPPED, html=False)
    assert [u.text[:24] for u in units] == [
        "Council approves budget",
        "The council approved the",
        "Sign up to our daily new",
        "Officers said the shortf",
    ]
    for u in units:
        lines = [WRAPPED[ln.start : ln.end] for ln in split_lines(WRAPPED) if ln.index in u.lines]
        assert WRAPPED[u.start : u.end] == "\n".join(lines)
        assert u.text == " ".join(lines)
    assert [u.lines for u in units] == [(0,), (1, 2, 3), (4,), (5, 6, 7)]


def test_units_are_the_blocks_normalize_writes() -> None:
    units = text_units(WRAPPED, html=False)
    assert normalize_layout(WRAPPED).split("\n\n") == [u.text for u in units]


def test_html_units_ignore_the_extracted_list_markers() -> None:
    text = "Title\n- First item of a list\n- lower-case item\nBody text."
    units = text_units(text, html=True)
    # the marker hides the lower case: "lower-case item" continues the line before, as in normalize
    assert [u.text for u in units] == ["Title", "- First item of a list - lower-case item", "Body text."]
    assert normalize_layout(strip_extracted_bullets(text)).split("\n\n") == [
        "Title",
        "First item of a list lower-case item",
        "Body text.",
    ]
    assert [u.text for u in text_units(text, html=False)][1] == "- First item of a list"


def test_no_units_in_a_blank_text() -> None:
    assert text_units(" \n\t\n", html=False) == []


@given(st.text(alphabet="ab Cd.\n\t-•é\u00a0", max_size=120))
@example("Ca.C\na")  # a hard-wrapped paragraph cut at a glue point inside its first line
def test_units_cover_every_line_once_in_order(text: str) -> None:
    lines = split_lines(text)
    units = text_units(text, html=False)
    # a line cut into glued pieces is the line of each of its pieces
    assert list(dict.fromkeys(k for u in units for k in u.lines)) == [ln.index for ln in lines]
    for u in units:
        assert text[u.start : u.end].strip() == text[u.start : u.end]
        assert u.start <= u.end
    for ln in lines:
        # the units a line is in: its block's, whole or in pieces cut at glue points (a piece of a
        # hard-wrapped paragraph may hold the end of one line and the next lines) that follow
        # each other and cover the line
        covering = [u for u in units if ln.index in u.lines]
        assert all(a.end == b.start for a, b in pairwise(covering))
        assert covering[0].start <= ln.start and covering[-1].end >= ln.end
        if all(u.lines == (ln.index,) for u in covering):  # a one-line unit, whole or in pieces
            assert (covering[0].start, covering[-1].end) == (ln.start, ln.end)


@pytest.mark.parametrize(
    ("line", "pieces"),
    [
        (
            "Work starts in March, the council said.You can unsubscribe at any time.",
            ["Work starts in March, the council said.", "You can unsubscribe at any time."],
        ),
        ("Is it over?Yes! Sign up now.Thanks", ["Is it over?", "Yes! Sign up now.", "Thanks"]),
        # not a glued sentence: initials, a capital before the stop, a space, a number, an ellipsis
        (
            "J.R.R. Tolkien and the U.S.A. at 3.5 per cent… More info",
            ["J.R.R. Tolkien and the U.S.A. at 3.5 per cent… More info"],
        ),
        ("See example.com.Or call us", ["See example.com.", "Or call us"]),
        # the quotes or brackets that close the sentence stay with it (French sets a space first)
        (
            "« Impossible d’y entrer avec un tracteur. »Sponsorisé",
            ["« Impossible d’y entrer avec un tracteur. »", "Sponsorisé"],
        ),
        (
            "“It is over,” she said. “We lost.”Sign up now",
            ["“It is over,” she said. “We lost.”", "Sign up now"],
        ),
        ("The vote was close (it was a tie.)Read more", ["The vote was close (it was a tie.)", "Read more"]),
        # a straight quote may open the next sentence: not cut
        ('He said "it is over."Next', ['He said "it is over."Next']),
        # a one-letter abbreviation before a name is no sentence's end
        ("Τέλος, ο κ.Στρατάκης ζήτησε από τον Υπ.", ["Τέλος, ο κ.Στρατάκης ζήτησε από τον Υπ."]),
        ("a.Bc", ["a.Bc"]),
    ],
)
def test_a_line_is_cut_where_a_sentence_was_glued_on(line: str, pieces: list[str]) -> None:
    assert [u.text for u in text_units(line, html=False)] == pieces


@pytest.mark.parametrize(
    ("paragraph", "text", "lines"),
    [
        ("The council met on Monday.", "The council met on Monday.", (1,)),
        # a hard-wrapped paragraph: the notice glued onto its last line
        (
            "Gusts of up to 112 mph brought down trees\nacross the region.",
            "Gusts of up to 112 mph brought down trees across the region.",
            (1, 2),
        ),
    ],
)
def test_a_glued_notice_is_a_unit_of_its_own(paragraph: str, text: str, lines: tuple[int, ...]) -> None:
    notice = "Please check your spam folder for our email."
    doc = f"Title here\n\n{paragraph}{notice}\n\nMore text."
    units = text_units(doc, html=False)
    assert [u.text for u in units] == ["Title here", text, notice, "More text."]
    assert doc[units[2].start : units[2].end] == notice
    assert (units[1].lines, units[2].lines) == (lines, (lines[-1],))


@given(st.text(alphabet="ab Cd.\n\t-•é", max_size=200))
def test_join_blocks_is_normalize_layout(text: str) -> None:
    lines = layout_lines(text)
    assert join_blocks(lines, block_groups(lines)) == normalize_layout(text)


@given(st.text(alphabet=st.sampled_from(list("ab \t\f\v\x1c\x85\u00a0\u2003\n\r.")), max_size=60))
def test_layout_lines_fast_path_is_the_substitution(text: str) -> None:
    # lines without a tab, \f, \v or two spaces skip the substitution: the same lines either way
    assert layout_lines(text) == [SPACES.sub(" ", raw).strip() for raw in text.splitlines()]


@given(st.text(alphabet="aZé É.!? \n1", max_size=60))
def test_glue_points_are_each_lower_mark_upper(text: str) -> None:
    expected = [
        i + 1
        for i, ch in enumerate(text)
        if ch in ".!?"
        and 1 < i < len(text) - 1
        and text[i - 1].islower()
        and text[i - 2].isalpha()  # a word of two letters or more: "κ.Στρατάκης" is not cut
        and text[i + 1].isupper()
    ]
    assert glue_points(text) == expected


#: Line breaks of every kind ``str.splitlines`` knows, blanks that ``str.strip`` takes, a list marker.
_LINES = st.text(
    alphabet=st.sampled_from(list("ab C\t\n\r\x0b\x0c\x1c\x85\u2028\u00a0\u2003-•")), max_size=80
)


@given(_LINES)
def test_split_lines_and_text_units_read_the_lines_as_stripped_lines_does(text: str) -> None:
    # both walk the lines themselves (no generator per line): the same offsets and contents
    lines = [(start, stripped) for start, stripped in stripped_lines(text) if stripped]
    assert [(ln.start, ln.text) for ln in split_lines(text)] == lines
    assert all(ln.end == ln.start + len(ln.text) for ln in split_lines(text))
    units = text_units(text, html=False)  # no sentence marks: no glued pieces
    assert sorted(k for u in units for k in u.lines) == list(range(len(lines)))
    for u in units:
        assert (u.start, u.end) == (lines[u.lines[0]][0], lines[u.lines[-1]][0] + len(lines[u.lines[-1]][1]))


def test_every_white_space_character_is_in_the_table() -> None:
    # nonspace looks long texts up in WHITE_SPACE: every code point (surrogates too) counted as split has it
    every = "".join(map(chr, range(0x110000)))
    assert nonspace(every) == len("".join(every.split())) == 0x110000 - int(WHITE_SPACE.sum())
    assert not WHITE_SPACE[-1]  # the entry for every code point above the table


@settings(max_examples=20)  # long examples are slow to draw; the table test covers every character
@given(
    st.lists(
        st.sampled_from(
            ["word", " ", "\n", "\t", "\r\n", "\xa0", "\u3000", "\u2028", "\x1f", "\u200b", "\ud800"]
        ),
        min_size=SPLIT_BELOW + 1,  # every piece is a character or more: longer than SPLIT_BELOW
        max_size=2 * SPLIT_BELOW,
    ).map("".join)
)
def test_a_long_text_is_counted_as_split_does(text: str) -> None:
    assert nonspace(text) == len("".join(text.split()))


def test_a_texts_units_give_their_offsets_once_and_touched_reads_them() -> None:
    units = text_units(WRAPPED + "\n\nSign up now\n\nLast line.", html=False)
    assert isinstance(units, Units) and bounds(units) is bounds(units)  # made once
    starts, ends = bounds(list(units))  # a plain list's are made each time, the same
    assert starts.tolist() == [u.start for u in units] and ends.tolist() == [u.end for u in units]
    rule = code_rule("t", "t", "t", "t")
    at = units[-2].start
    found = [(Removal("t", "t", at - 1, at + 4, "x"), rule, None)]
    assert (
        touched(units, found).tolist()
        == touched(list(units), found).tolist()
        == [False] * (len(units) - 2) + [True, False]
    )
