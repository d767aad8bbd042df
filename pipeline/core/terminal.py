"""Text from the inputs made safe to print on a terminal: a document's characters, a file or tar
member name from a dump, must not retitle, recolour or reorder the reader's terminal."""

from __future__ import annotations

import re

#: Characters a terminal acts on instead of showing: C0 controls but tab and line feed, DEL, C1
#: controls (U+009B is a CSI on some terminals) and the bidirectional overrides and isolates,
#: which reorder what is shown around them.
_TERMINAL_CONTROLS = re.compile("[\x00-\x08\x0b-\x1f\x7f-\x9f\u202a-\u202e\u2066-\u2069]")
#: Lone surrogates: a name's bytes UTF-8 cannot read (``os.fsdecode``'s U+DC80-U+DCFF), or
#: what a JSON ``\\ud800`` gives; no terminal encoding can write them.
_SURROGATES = re.compile("[\ud800-\udfff]")


def _escaped(m: re.Match[str]) -> str:
    code = ord(m.group())
    return f"\\x{code:02x}" if code < 0x100 else f"\\u{code:04x}"


def terminal_safe(text: str) -> str:
    """``text`` with the characters a terminal would act on written as escapes (``\\x1b``,
    ``\\u202e``): a document's bytes must not retitle, recolour or reorder the reader's terminal.
    Everything explain prints goes through this (``--json`` escapes them the JSON way)."""
    return _TERMINAL_CONTROLS.sub(_escaped, text)


def json_safe(text: str) -> str:
    """JSON text (``ensure_ascii=False``) with the C1 controls and bidirectional overrides, which
    JSON leaves as they are, written as ``\\uXXXX`` escapes: the same JSON value."""
    return _TERMINAL_CONTROLS.sub(lambda m: f"\\u{ord(m.group()):04x}", text)


def _unsurrogated(m: re.Match[str]) -> str:
    code = ord(m.group())
    return f"\\x{code - 0xDC00:02x}" if 0xDC80 <= code <= 0xDCFF else f"\\u{code:04x}"


def printable(text: str) -> str:
    """A message that may name input files, as a terminal line: each byte of a name that UTF-8
    cannot read as ``\\xNN`` (as :func:`~pipeline.core.pathnames.display_path` writes it), other
    lone surrogates as ``\\uXXXX``, controls escaped (:func:`terminal_safe`)."""
    return terminal_safe(_SURROGATES.sub(_unsurrogated, text))
