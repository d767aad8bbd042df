"""The encoding stage's speed path: a segment it skips is one ftfy would return unchanged, and
line-by-line repair gives the same text as repairing the whole document at once."""

from __future__ import annotations

import ftfy
from hypothesis import given, settings
from hypothesis import strategies as st

from pipeline.core.config import EncodingConfig
from stages.encoding import _ftfy_keeps, _segments, fix, ftfy_config

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
