"""The ``removed`` ledger is exact: offsets refer to the text as it entered the stage and
``text[start:end] == snippet`` for every removal, whatever the mix of content and boilerplate."""

from __future__ import annotations

from itertools import pairwise

from hypothesis import given, settings
from hypothesis import strategies as st

from pipeline.core.record import Doc
from stages.boilerplate.engine import apply_removals, find_removals
from stages.boilerplate.rulepack import load_rules
from stages.boilerplate.stage import Boilerplate

RULES = load_rules(("builtin",))

CONTENT = [
    "The council approved the plan on Tuesday.",
    "Work will start in April, officials said.",
    "“Don’t miss it,” said the chair of the society.",
    "Source: Office for Regional Statistics, January figures.",
    "Ashby Athletic 2 Canal Street 1",
    "Residents can sign up for text alerts through the council.",
    "What happens next",
]
BOILERPLATE = [
    "Advertisement",
    "Share this article",
    "READ MORE: Warning over new text message scam",
    "DON’T MISS:\nHuge queues as new discount store opens [NEWS]\nPub voted the cosiest in the county [POLL]",
    "Lesen Sie auch:\nPolizei sucht Zeugen nach Unfall",
    "Video player loading\nStorm: Waves crash over harbour wall",
    "By Jane Doe, Chief Reporter",
    "Updated: 16:56, Mon, Dec 20, 2021",
    "File photo (Image: Getty)",
    "Source: Read Full Article",
    "We use your sign-up to provide content in ways you’ve consented to and to improve our "
    "understanding of you. You can unsubscribe at any time. More info",
]
GLUE = st.sampled_from(["\n", "\n\n", " \n", "\n \n", "\r\n", "\n\t\n", ""])

pieces = st.lists(st.sampled_from(CONTENT + BOILERPLATE), min_size=1, max_size=12)
noise = st.text(alphabet=st.characters(codec="utf-8"), max_size=40)


@st.composite
def documents(draw: st.DrawFn) -> str:
    parts = draw(pieces)
    out = [draw(noise) if draw(st.booleans()) else "Headline of the day"]
    for part in parts:
        out.append(draw(GLUE))
        out.append(part)
    return "".join(out)


def _check_ledger(text: str) -> None:
    found = [r for r, _, _ in find_removals(text, RULES)]
    for r in found:
        assert 0 <= r.start < r.end <= len(text)
        assert text[r.start : r.end] == r.snippet
    assert all(a.end <= b.start for a, b in pairwise(found))
    cleaned = apply_removals(text, found)
    assert len(cleaned) <= len(text)
    # Every word outside the removed spans survives.
    pos = 0
    for r in found:
        for word in text[pos : r.start].split():
            assert word in cleaned
        pos = r.end
    for word in text[pos:].split():
        assert word in cleaned


@settings(max_examples=150, deadline=None)
@given(documents())
def test_ledger_offsets_and_snippets_match(text: str) -> None:
    _check_ledger(text)


@settings(max_examples=100, deadline=None)
@given(st.text(max_size=300))
def test_ledger_holds_on_arbitrary_text(text: str) -> None:
    _check_ledger(text)


@settings(max_examples=100, deadline=None)
@given(documents())
def test_stage_ledger_refers_to_the_text_as_it_entered(text: str) -> None:
    doc = Doc(id="d", source="s", raw=text, text=text)
    Boilerplate().process_docs([doc])
    assert doc.ok
    for r in doc.removed:
        assert text[r.start : r.end] == r.snippet
    if doc.removed:
        assert doc.text == apply_removals(text, doc.removed)
    else:
        assert doc.text == text
