"""The encoding stage's speed path: a segment it skips is one ftfy would return unchanged, and
line-by-line repair gives the same text as repairing the whole document at once."""

from __future__ import annotations

import re
import re._parser  # type: ignore[import-not-found]  # the parser has no stubs
from typing import Literal

import ftfy
import ftfy.badness
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from pipeline.core.config import EncodingConfig
from stages.encoding import (
    BADNESS_REACH,
    _badness_window,
    _fix_segment,
    _ftfy_keeps,
    _segments,
    fix,
    ftfy_config,
    looks_bad,
)

CFG = EncodingConfig()

# Characters that matter to ftfy: ASCII, Latin-1, cp1252 mojibake material, controls, entities,
# line breaks, combining marks, curly quotes, CJK.
ALPHABET = st.sampled_from(
    [
        *"abcAB é’“”–€£ÃâÂ©®™\u0080\u0093\u009d\x00\x07\x1b\r\u2028\u0301&;#<>\n",
        *("&amp;", "&nbsp;", "Ã©", "â€™", "Ã¼", "中文", "ü", "\ufeff"),
    ]
)
TEXTS = st.lists(ALPHABET, max_size=40).map("".join)


@settings(max_examples=400, deadline=None)
@given(TEXTS)
def test_skipped_segments_are_ftfy_fixed_points(text: str) -> None:
    for segment in _segments(text, CFG):
        if _ftfy_keeps(segment, CFG):
            assert ftfy.fix_and_explain(segment, config=ftfy_config(CFG)).text == segment


def test_badness_patterns_reach_no_further_than_the_window() -> None:
    """looks_bad searches only BADNESS_REACH characters either side of non-ASCII text: right while
    no pattern of the installed ftfy is longer, and every pattern needs a non-ASCII character."""
    pattern = ftfy.badness.BADNESS_RE
    assert re._parser.parse(pattern.pattern, pattern.flags).getwidth()[1] <= BADNESS_REACH
    assert not any(ch.isascii() and ch.isalnum() for ch in "".join(ftfy.badness.MOJIBAKE_CATEGORIES.values()))
    assert not pattern.search("".join(map(chr, range(128))) * 2)
    assert _badness_window() is pattern  # the installed ftfy gets the windowed search


def test_an_ftfy_whose_patterns_reach_further_gets_its_own_is_bad(monkeypatch: pytest.MonkeyPatch) -> None:
    wide = re.compile(r"[Ã]a{20}|xyz")  # 21 characters: further than the window
    monkeypatch.setattr(ftfy.badness, "BADNESS_RE", wide)
    monkeypatch.setattr(ftfy.badness, "is_bad", lambda text: bool(wide.search(text)))
    _badness_window.cache_clear()
    try:
        assert _badness_window() is None
        assert looks_bad("Ã" + "a" * 20) and looks_bad("plain xyz") and not looks_bad("plain")
    finally:
        _badness_window.cache_clear()


# ftfy's mojibake material around ASCII letters, spaces and punctuation, at every distance
BADNESS_ALPHABET = st.sampled_from(
    [*"".join(ftfy.badness.MOJIBAKE_CATEGORIES.values()), *"ÃÂ×²°ØÙàвЂГўВΒΓΞΟā€√≈‚Ä", *"abcXY .,!?\t"]
)


@settings(max_examples=1000, deadline=None)
@given(st.lists(BADNESS_ALPHABET | st.just("plain ascii words "), max_size=40).map("".join))
def test_looks_bad_is_ftfys_is_bad(text: str) -> None:
    assert looks_bad(text) == ftfy.badness.is_bad(text)


@pytest.mark.parametrize(
    "line",
    [
        "The Vault CafÃ© keeps the bankâ€™s original safe door",  # cp1252 mojibake mid-line
        "Ã the start: only the real start of the text is ^",  # ^[ÃÂ][ ] at the very start
        "x" * 300 + " Ã©t" + "y" * 300,  # one spot in a long line
        "Straße, Öffnungszeiten, Überblick: nothing wrong here",
        "РџСЂРёРІРµС‚",  # Windows-1251 mojibake: all non-ASCII
    ],
)
def test_looks_bad_on_lines(line: str) -> None:
    assert looks_bad(line) == ftfy.badness.is_bad(line)


@settings(max_examples=200, deadline=None)
@given(TEXTS)
def test_segments_cover_the_text(text: str) -> None:
    assert "".join(_segments(text, CFG)) == text


def test_mixed_document_is_repaired_line_by_line() -> None:
    good = "Café “crème” – £4\nplain line\nnaïve résumé’s"
    broken = good.encode("utf-8").decode("cp1252", errors="replace").replace("\ufffd", "")
    mixed = "untouched ’ line\n" + broken.split("\n")[0] + "\nplain line\n"
    fixed, fixes = fix(mixed)
    assert fixed == "untouched ’ line\nCafé “crème” – £4\nplain line\n"
    assert fixes


@settings(max_examples=1500, deadline=None)
@given(TEXTS)
def test_a_segment_is_fixed_and_explained_as_ftfy_does(text: str) -> None:
    for segment in _segments(text, CFG):
        assert _fix_segment(segment, CFG) == ftfy.fix_and_explain(segment, config=ftfy_config(CFG))


@pytest.mark.parametrize(
    "segment",
    [
        "The Vault CafÃ© keeps the bankâ€™s original safe door\n",  # mojibake: one pass and done
        "Bus fares will&nbsp;be frozen for a further twelve months\n",  # an entity
        "AT&amp;amp;T: an entity that unescapes to another\n",  # ftfy needs its second pass
        "CafÃ© &lt;b&gt; in <b>bold</b>\n",  # "<": entities stay under "auto" only
        "a C1 control \u0093quoted\u0094 and CafÃ©\r\n",
        "déjà vu\u0301 and CafÃ©\n",  # not NFC after the repair
        "Ã©Ã©",  # mojibake of mojibake
    ],
)
@pytest.mark.parametrize("unescape", [True, False, "auto"])
def test_known_segments_match_ftfy(segment: str, unescape: bool | Literal["auto"]) -> None:
    config = EncodingConfig(unescape_html=unescape)
    assert _fix_segment(segment, config) == ftfy.fix_and_explain(segment, config=ftfy_config(config))
