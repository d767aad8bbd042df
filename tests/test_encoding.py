"""Encoding repair: mojibake, entities, invisible characters, odd spaces; typography kept."""

from __future__ import annotations

import pytest

from pipeline.config import EncodingConfig
from stages.encoding import fix


def _mojibake(text: str, codec: str = "cp1252") -> str:
    return text.encode("utf-8").decode(codec, errors="ignore")


@pytest.mark.parametrize("codec", ["cp1252", "latin-1"])
def test_mojibake_is_repaired_and_typography_kept(codec: str) -> None:
    good = "The café’s “best” crêpes cost £4 – or €5."
    fixed, fixes = fix(_mojibake(good, codec))
    assert fixed == good
    assert fixes


def test_lost_right_quote_byte_is_restored() -> None:
    # UTF-8 ” is E2 80 9D; cp1252 has no 0x9D, so a parser drops it and leaves "â€".
    broken = _mojibake("She called it “the town’s living room”. Others agreed.")
    assert "\x9d" not in broken
    fixed, fixes = fix(broken)
    assert fixed == "She called it “the town’s living room”. Others agreed."
    assert "replace:lost_c1_quote" in fixes


def test_entities_invisibles_and_spaces() -> None:
    fixed, fixes = fix("Fish&nbsp;&amp;&nbsp;chips\u200b cost &pound;5\u00a0today, co\u00adoperative")
    assert fixed == "Fish & chips cost £5 today, cooperative"
    assert "remove:invisible_chars" in fixes


def test_plain_ascii_is_untouched_and_straight_quotes_stay() -> None:
    text = 'It\'s "fine" - really.'
    assert fix(text) == (text, [])


def test_config_can_turn_repair_off() -> None:
    broken = _mojibake("café")
    assert fix(broken, EncodingConfig(fix_encoding=False))[0] == broken
