"""Line shapes: a line with its numbers, dates, times and capitalised names masked.

A site prints its update line, footer or photo credit in every article with only a name, a year
or a time changing: "Updated 3 hours ago by Jane Doe", "Updated 11 hours ago by John Smith".
:func:`skeleton` masks every such part of a line ("Updated {NUM} hours ago by {NAME}") and
returns what it masked (the *fills*); lines with the same skeleton are one candidate, and
:func:`generalise` puts back every fill that never changed among them, so the learned shape is as
specific as the evidence allows ("© {NUM} Harbour Gazette", not "© {NUM} {NAME}").

A shape is written as readable text: literal text with ``{{`` and ``}}`` for braces, and the
placeholders ``{NUM}``, ``{DATE}``, ``{TIME}`` and ``{NAME}``. :func:`shape_regex` turns it into
the pattern the rule engine matches against a line of the typographic view
(:mod:`stages.boilerplate.normalise`): each placeholder matches what :func:`skeleton` masks as
that kind, spaces match any run of white space, and the literal text ignores case.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Literal

Kind = Literal["DATE", "TIME", "NUM", "NAME"]


def _char_class(pred: object, stop: int = 0x530) -> str:
    """A regex character class of the characters below ``stop`` for which ``pred(ch)`` holds."""
    assert callable(pred)
    ranges: list[tuple[int, int]] = []
    for cp in range(stop):
        if pred(chr(cp)):
            if ranges and ranges[-1][1] == cp - 1:
                ranges[-1] = (ranges[-1][0], cp)
            else:
                ranges.append((cp, cp))
    parts = [re.escape(chr(a)) if a == b else f"{re.escape(chr(a))}-{re.escape(chr(b))}" for a, b in ranges]
    return "[" + "".join(parts) + "]"


#: Upper-case letters (Latin, Greek, Cyrillic): what a capitalised word starts with.
_UPPER = _char_class(str.isupper)
_LETTER = r"[^\W\d_]"

_MONTHS = (
    "january february march april may june july august september october november december "
    "jan feb mar apr jun jul aug sep sept oct nov dec "
    "januar februar märz maerz mai juni juli oktober dezember jän mär okt dez "
    "janvier février fevrier mars avril juin juillet août aout septembre octobre novembre décembre "
    "janv févr fevr avr juil déc "
    "enero febrero marzo abril mayo junio julio agosto septiembre setiembre octubre noviembre diciembre "
    "ene abr ago dic "
    "gennaio febbraio aprile maggio giugno luglio settembre ottobre dicembre gen mag giu lug ott "
    "januari februari maart augustus mrt mei okt "
    "janeiro fevereiro março abril maio junho julho setembro outubro novembro dezembro fev out dez"
)
_WEEKDAYS = (
    "monday tuesday wednesday thursday friday saturday sunday mon tue tues wed thu thur thurs fri sat sun "
    "montag dienstag mittwoch donnerstag freitag samstag sonntag "
    "lundi mardi mercredi jeudi vendredi samedi dimanche "
    "lunes martes miércoles miercoles jueves viernes sábado sabado domingo "
    "lunedì lunedi martedì martedi mercoledì mercoledi giovedì giovedi venerdì venerdi sabato domenica "
    "maandag dinsdag woensdag donderdag vrijdag zaterdag zondag "
    "segunda-feira terça-feira terca-feira quarta-feira quinta-feira sexta-feira segunda terça quarta "
    "quinta sexta"
)


def _words(names: str) -> str:
    unique = sorted(set(names.split()), key=lambda w: (-len(w), w))  # longest first: "sept" before "sep"
    return "(?:" + "|".join(re.escape(w) for w in unique) + ")"


_MON = rf"(?i:{_words(_MONTHS)})\.?"
_WD = rf"(?i:{_words(_WEEKDAYS)})\.?"
_DAY = r"\d{1,2}(?:st|nd|rd|th|er|º|ª)?\.?"
_YEAR = r"\d{4}"
_DATE = (
    r"(?<![\w.,/:-])(?:"
    rf"(?:{_WD},?\s)?{_DAY}\s(?:de\s)?{_MON}(?:,?\s(?:de\s)?{_YEAR})?"
    rf"|(?:{_WD},?\s)?{_MON}\s{_DAY}(?:,?\s{_YEAR})?"
    rf"|{_MON}\s{_YEAR}"
    r"|\d{4}-\d{2}-\d{2}"
    r"|\d{1,2}[./-]\d{1,2}[./-](?:\d{4}|\d{2})"
    rf"|{_WD}"
    r")(?![\w/-])"
)
_TIME = (
    r"(?<![\w.,:])(?:"
    r"(?:[01]?\d|2[0-3])[:h][0-5]\d(?::[0-5]\d)?(?:\s?[AaPp]\.?[Mm]\b\.?)?"
    r"|(?:1[0-2]|0?[1-9])(?:[.:][0-5]\d)?\s?[AaPp]\.?[Mm]\b\.?"
    r")(?![\w:])"
)
_NUM = r"(?<![\w.,])\d+(?:[.,'’]\d{3})*(?:[.,]\d+)?(?![\w])"
_NAME_WORD = rf"(?:{_UPPER}\.|{_UPPER}{_LETTER}*(?:['’-]{_LETTER}+)*)"
_CONNECTORS = (
    r"(?:de|da|do|dos|das|del|della|dei|di|du|des|la|le|van|von|der|den|ter|te|of|the|y|e|et|und|and|&)"
)
_NAME = rf"(?<![\w'’-]){_NAME_WORD}(?:\s(?:{_CONNECTORS}\s){{0,2}}{_NAME_WORD}){{0,5}}(?![\w'’-])"

#: What each placeholder matches (in a learned pattern; the masker uses the same expressions).
PLACEHOLDER_RX: dict[Kind, str] = {"DATE": _DATE, "TIME": _TIME, "NUM": _NUM, "NAME": _NAME}
_MASK = re.compile("|".join(f"(?P<{k}>{rx})" for k, rx in PLACEHOLDER_RX.items()))
_LINE_START = re.compile(r"[\W_]*")


@dataclass(frozen=True, slots=True)
class Masked:
    """A line split into literal text and masked parts: ``literals[0] fill[0] literals[1] ...``."""

    literals: tuple[str, ...]  # one more than kinds
    kinds: tuple[Kind, ...]
    fills: tuple[str, ...]

    @property
    def skeleton(self) -> str:
        """Every masked part as its placeholder: the key lines are grouped by."""
        return join_shape(self.literals, [f"{{{k}}}" for k in self.kinds])


def escape(literal: str) -> str:
    """Literal text as shape text (braces doubled)."""
    return literal.replace("{", "{{").replace("}", "}}")


def join_shape(literals: Sequence[str], holes: Sequence[str]) -> str:
    out = [escape(literals[0])]
    for hole, lit in zip(holes, literals[1:], strict=True):
        out += [hole, escape(lit)]
    return "".join(out)


def mask(line: str) -> Masked:
    """``line`` (one line, spaces folded) with its dates, times, numbers and names masked.

    A capitalised word that starts the line alone is no name ("Updated", "Photo"): only a run of
    two or more capitalised words is masked there ("Jane Doe | Harbour Gazette"). A line in
    capitals has no names ("MOST READ")."""
    literals: list[str] = []
    kinds: list[Kind] = []
    fills: list[str] = []
    pos = 0
    lead = _LINE_START.match(line)
    start = lead.end() if lead else 0
    shouting = not any(c.islower() for c in line)
    for m in _MASK.finditer(line):
        kind = m.lastgroup
        assert kind in PLACEHOLDER_RX
        if kind == "NAME" and (shouting or (m.start() == start and " " not in m.group())):
            continue
        literals.append(line[pos : m.start()])
        kinds.append(kind)
        fills.append(m.group())
        pos = m.end()
    literals.append(line[pos:])
    return Masked(tuple(literals), tuple(kinds), tuple(fills))


def generalise(masked: Sequence[Masked]) -> str:
    """The most specific shape of lines with one skeleton: a fill that is the same in every line
    goes back in as text; a name that changes keeps the words it always starts or ends with
    ("By {NAME} for The Gazette")."""
    first = masked[0]
    literals = list(first.literals)
    holes: list[str] = []
    out_literals = [literals[0]]
    for k, kind in enumerate(first.kinds):
        fills = [m.fills[k] for m in masked]
        after = literals[k + 1]
        if all(f == fills[0] for f in fills):
            out_literals[-1] += fills[0] + after
            continue
        head, tail = ("", "") if kind != "NAME" else _common_words(fills)
        out_literals[-1] += head
        holes.append(f"{{{kind}}}")
        out_literals.append(tail + after)
    return join_shape(out_literals, holes)


def _common_words(fills: Sequence[str]) -> tuple[str, str]:
    """The words every fill starts with and ends with (with their spaces), leaving each fill at
    least one word of its own."""
    split = [f.split(" ") for f in fills]
    shortest = min(len(s) for s in split)
    pre = 0
    while pre < shortest - 1 and all(s[pre] == split[0][pre] for s in split):
        pre += 1
    suf = 0
    while pre + suf < shortest - 1 and all(s[-1 - suf] == split[0][-1 - suf] for s in split):
        suf += 1
    head = " ".join(split[0][:pre]) + (" " if pre else "")
    tail = (" " if suf else "") + " ".join(split[0][len(split[0]) - suf :]) if suf else ""
    return head, tail


_SHAPE_TOKEN = re.compile(r"\{\{|\}\}|\{(DATE|TIME|NUM|NAME)\}|\{|\}|[^{}]+")


def parse_shape(shape: str) -> tuple[tuple[str, ...], tuple[Kind, ...]]:
    """``shape`` as (literals, kinds); a lone brace is taken as text."""
    literals = [""]
    kinds: list[Kind] = []
    for m in _SHAPE_TOKEN.finditer(shape):
        tok = m.group()
        if m.group(1):
            kinds.append(m.group(1))  # type: ignore[arg-type]
            literals.append("")
        elif tok in ("{{", "}}"):
            literals[-1] += tok[0]
        else:
            literals[-1] += tok
    return tuple(literals), tuple(kinds)


#: At most this many ``{NAME}`` placeholders in a row (white space between them): each takes one
#: to six words, so a line that does not match is tried in every way of sharing its capitalised
#: words among them, ~6x the time per placeholder (on a 60-word line: 4 in a row 0.6 ms, 6 20 ms,
#: 8 0.7 s, 10 25 s). Learning gives no longer run; a site-rules file with one is refused.
MAX_NAME_RUN = 4


def name_run(shape: str) -> int:
    """The most ``{NAME}`` placeholders of ``shape`` in a row, with only white space between them."""
    literals, kinds = parse_shape(shape)
    best = run = 0
    for i, kind in enumerate(kinds):
        run = (run + 1 if run and not literals[i].strip() else 1) if kind == "NAME" else 0
        best = max(best, run)
    return best


def is_shaped(shape: str) -> bool:
    """Does ``shape`` hold a placeholder?"""
    return bool(parse_shape(shape)[1])


def literal_text(shape: str) -> str:
    """The text of ``shape`` without its placeholders."""
    return "".join(parse_shape(shape)[0])


def _literal_rx(text: str) -> str:
    parts = re.split(r"(\s+)", text)
    rx = "".join(r"\s+" if p.isspace() else re.escape(p) for p in parts if p)
    return f"(?i:{rx})" if any(c.isalpha() for c in text) else rx


def shape_regex(shape: str) -> str:
    """The regular expression (for ``fullmatch`` on a line) of ``shape``."""
    literals, kinds = parse_shape(shape)
    out = [_literal_rx(literals[0])]
    for kind, lit in zip(kinds, literals[1:], strict=True):
        out += [f"(?:{PLACEHOLDER_RX[kind]})", _literal_rx(lit)]
    return "".join(out)
