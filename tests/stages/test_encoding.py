"""Encoding repair: mojibake, entities, invisible characters, odd spaces; typography kept."""

from __future__ import annotations

import signal
from collections.abc import Iterator
from contextlib import contextmanager

import pytest

from pipeline.core.config import EncodingConfig
from pipeline.core.errors import ConfigError
from stages.encoding import FixEncoding, _chunks, fix


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


@contextmanager
def _deadline(seconds: float) -> Iterator[None]:
    """Turn a hang into a failure: SIGALRM raises TimeoutError in the test after ``seconds``."""

    def expire(signum: int, frame: object) -> None:
        raise TimeoutError(f"still running after {seconds} s")

    previous = signal.signal(signal.SIGALRM, expire)
    signal.setitimer(signal.ITIMER_REAL, seconds)
    try:
        yield
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, previous)


def test_chunks_refuse_a_size_below_one_instead_of_looping() -> None:
    # size 0 took nothing off the text each turn and appended "" forever (memory growing)
    with _deadline(2):
        for size in (0, -5):
            with pytest.raises(ValueError, match="chunk size must be >= 1"):
                _chunks("ab\ncd\nef", size)
        assert _chunks("ab\ncd\nef", 1) == list("ab\ncd\nef")
        assert _chunks("ab\ncd\nef", 3) == ["ab\n", "cd\n", "ef"]


def test_a_stage_given_max_chars_below_one_is_refused_not_hung() -> None:
    for bad in (0, -1):
        with _deadline(2), pytest.raises(ConfigError, match=r"encoding\.max_chars must be >= 1, got"):
            FixEncoding(EncodingConfig(max_chars=bad))
    with _deadline(10):  # the smallest allowed size ends (a 1-char piece cannot hold the mojibake)
        assert fix("CafÃ© is open.\nHello.", EncodingConfig(max_chars=1))[0] == "CafÃ© is open.\nHello."
        assert fix("CafÃ© is open.\nHello.", EncodingConfig(max_chars=3))[0] == "Café is open.\nHello."
