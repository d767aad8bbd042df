"""Cheap necessary conditions for a regular expression to match a line, read off its parse tree.

The boilerplate engine offers every line to every line rule, so on an ordinary paragraph most
rules fail; page metadata runs trafilatura's XPath expressions whose literals may not occur in a
page. Two facts about a pattern let a caller skip it without running it: which characters a match
can start with (:class:`LineFilter`), and a few literals one of which every match contains
(:func:`required_atoms`: "Share this article" cannot match a line without "share"). When a
pattern uses a construct the analysis does not know, it gives up and the pattern is always run.
``tests/stages/boilerplate/test_boilerplate_speed.py`` checks that filtered and unfiltered
matching agree.
"""

from __future__ import annotations

import importlib
import re
import string
from collections.abc import Callable
from dataclasses import dataclass
from functools import cached_property, lru_cache
from typing import Any

# --- Line prefilters: cheap necessary conditions for a line rule to match ----------------------
#
# The engine offers every line to every line rule, so on an ordinary paragraph most rules fail.
# Two facts about a pattern, read off its parse tree, let the engine skip a rule without running
# it: which characters a match can start with, and a few literals one of which every match
# contains ("Share this article" cannot match a line without "share"). When a pattern uses a
# construct the analysis does not know, it gives up (``None``) and the rule is simply always run.
# tests/stages/boilerplate/test_boilerplate_speed.py checks that filtered and unfiltered matching agree.

#: CPython's own regex parser (the front end of ``re.compile``); typed loosely, it has no stubs.
_SRE_PARSER: Any = importlib.import_module("re._parser")

#: One node of a parsed pattern: (operator, argument), e.g. (LITERAL, 97).
_Node = tuple[Any, Any]
#: A literal every match contains, and whether the pattern matches it ignoring case.
_Atom = tuple[str, bool]

_CLASS_ESCAPES = {
    "CATEGORY_DIGIT": r"\d",
    "CATEGORY_NOT_DIGIT": r"\D",
    "CATEGORY_SPACE": r"\s",
    "CATEGORY_NOT_SPACE": r"\S",
    "CATEGORY_WORD": r"\w",
    "CATEGORY_NOT_WORD": r"\W",
}
_REPEATS = ("MAX_REPEAT", "MIN_REPEAT", "POSSESSIVE_REPEAT")
_MAX_CLASS_ATOMS = 4  # a class of at most this many single characters counts as literals
_MAX_NEEDS = 4  # a literals test with more than this is not worth it
_PROBE = string.ascii_letters + string.digits  # what "most first characters" is counted on

#: The characters beyond ASCII that match an ASCII letter ignoring case ("ſ" matches s, "ı" and
#: "İ" match i, the Kelvin sign "\u212a" matches k; "İ".lower() is even two characters). In a
#: text without them, the regex engine finds an ASCII literal ignoring case exactly where
#: ``text.lower()`` holds the literal lower-cased, and where :func:`ascii_folded` does, at the
#: same offsets.
FOLD_UNSAFE = ("\u0130", "\u0131", "\u017f", "\u212a")
_ASCII_RUN = re.compile(r"[\x00-\x7f]+")


def foldable(text: str) -> bool:
    """Can ASCII literals matched ignoring case be looked for in ``text.lower()`` (or in
    :func:`ascii_folded`)?"""
    return text.isascii() or not any(c in text for c in FOLD_UNSAFE)


def ascii_folded(text: str) -> bytes:
    """``text`` with its ASCII letters lower-cased and every other character a ``?``: one byte a
    character, so offsets are the text's. For looking for lower-cased ASCII literals in a whole
    text: ~3 times quicker than ``str.lower`` on a 4 KB text with accented letters."""
    return text.encode("ascii", "replace").lower()


#: Lines are told apart by their first characters: rules are picked per beginning of a line.
START_CHARS = 3


@dataclass(frozen=True)
class LineFilter:
    """Cheap tests a line must pass before ``pattern.fullmatch(line)`` can succeed.

    ``start`` matches (``re.match``) the first :data:`START_CHARS` characters of every line the
    pattern can match. Every match contains one of the literals in ``needs`` (compared with case)
    or in ``needs_folded`` (lower-cased ASCII stretches of literals the pattern matches ignoring
    case, looked for in the lower-cased line, see :func:`foldable`). ``None``/empty: no such test.
    """

    start: re.Pattern[str] | None = None
    needs: tuple[str, ...] = ()
    needs_folded: tuple[str, ...] = ()
    #: Matches can begin with most letters and digits: ``start`` lets most lines through.
    broad: bool = True

    @property
    def has_needs(self) -> bool:
        return bool(self.needs or self.needs_folded)

    @cached_property
    def literals(self) -> tuple[tuple[str, bool], ...]:
        """Every literal with whether it is looked for in the lower-cased text."""
        return tuple((t, False) for t in self.needs) + tuple((t, True) for t in self.needs_folded)

    def admits_start(self, line: str) -> bool:
        return self.start is None or self.start.match(line[:START_CHARS]) is not None

    def may_contain(self, line: str, folded: Callable[[], bytes | None] | None = None) -> bool:
        """False only when no match can fit in ``line``. ``folded``: gives ``line`` as
        :func:`ascii_folded` does (None when it is not :func:`foldable`), for a caller that looks
        for many filters' literals in one long text and folds it once; without it ``line`` is
        lower-cased here, when a literal is looked for ignoring case."""
        if not self.has_needs or (folded is None and self.needs_folded and not foldable(line)):
            return True
        if any(t in line for t in self.needs):
            return True
        if not self.needs_folded:
            return False
        if folded is not None:
            view = folded()
            return view is None or any(t.encode("ascii") in view for t in self.needs_folded)
        lowered = line.lower()
        return any(t in lowered for t in self.needs_folded)

    def admits(self, line: str) -> bool:
        """False only when ``pattern.fullmatch(line)`` is certain to fail."""
        return self.admits_start(line) and self.may_contain(line)


def _wrap(fragment: str, icase: bool) -> str:
    return f"(?i:{fragment})" if icase else fragment


def _group(av: Any, icase: bool) -> tuple[list[_Node], bool]:
    """A group's content and case mode (``(?i:...)``/``(?-i:...)`` override the outer one)."""
    _index, add_flags, del_flags, content = av
    if add_flags & re.IGNORECASE:
        icase = True
    if del_flags & re.IGNORECASE:
        icase = False
    return content, icase


def _char_class(items: list[_Node]) -> str | None:
    """A parsed ``[...]`` back as source, or None for an item kind we do not know."""
    out: list[str] = []
    for op, av in items:
        name = op.name
        if name == "NEGATE" and not out:
            out.append("^")
        elif name == "LITERAL":
            out.append(re.escape(chr(av)))
        elif name == "RANGE":
            out.append(f"{re.escape(chr(av[0]))}-{re.escape(chr(av[1]))}")
        elif name == "CATEGORY" and av.name in _CLASS_ESCAPES:
            out.append(_CLASS_ESCAPES[av.name])
        else:
            return None
    return "[" + "".join(out) + "]"


#: One way a match can begin: a fragment per character (each matches one character), and whether
#: the part of the pattern analysed so far has ended there (so what follows it comes next).
_Start = tuple[tuple[str, ...], bool]
_STOP: list[_Start] = [((), False)]  # nothing known from here on
_MAX_STARTS = 512  # beginnings kept per pattern; beyond that the analysis gives up


def _starts(seq: list[_Node], icase: bool, room: int) -> list[_Start]:
    """How matches of ``seq`` can begin, up to ``room`` characters: every match begins with the
    characters of one of the returned beginnings (open ones may be followed by anything that can
    follow ``seq``; closed ones by anything at all)."""
    out: list[_Start] = [((), True)]
    for op, av in seq:
        grown: list[_Start] = []
        for chars, is_open in out:
            if not is_open or len(chars) >= room:
                grown.append((chars, False))
            else:
                grown += [(chars + more, o) for more, o in _starts_of(op.name, av, icase, room - len(chars))]
        out = list(dict.fromkeys(grown))
        if len(out) > _MAX_STARTS:
            return _STOP
    return out


def _starts_of(name: str, av: Any, icase: bool, room: int) -> list[_Start]:
    if name == "LITERAL":
        return [((_wrap(re.escape(chr(av)), icase),), True)]
    if name == "NOT_LITERAL":
        return [((_wrap(f"[^{re.escape(chr(av))}]", icase),), True)]
    if name == "IN":
        cls = _char_class(av)
        return _STOP if cls is None else [((_wrap(cls, icase),), True)]
    if name == "ANY":
        return [(("(?s:.)",), True)]
    if name == "BRANCH":
        return [start for alt in av[1] for start in _starts(alt, icase, room)]
    if name == "SUBPATTERN":
        content, sub_icase = _group(av, icase)
        return _starts(content, sub_icase, room)
    if name == "ATOMIC_GROUP":
        return _starts(av, icase, room)
    if name in _REPEATS:
        low, high, content = av
        item = list(content)
        if low > room:  # more copies must follow whatever fits: close every beginning
            return [(chars, False) for chars, _ in _starts(item * room, icase, room)]
        # j copies for j up to ``room``: more copies than characters add nothing new in reach
        return [start for j in range(low, min(high, room) + 1) for start in _starts(item * j, icase, room)]
    if name in ("AT", "ASSERT", "ASSERT_NOT"):  # zero-width: look past it (a looser test)
        return [((), True)]
    return _STOP  # group references, conditionals: nothing known from here on


def _needs(seq: list[_Node], icase: bool) -> frozenset[_Atom] | None:
    """Literals one of which every match of ``seq`` contains (the cheapest such set found)."""
    options: list[frozenset[_Atom]] = []
    run: list[str] = []
    for op, av in [*seq, (None, None)]:  # the sentinel ends the last run of literals
        if op is not None and op.name == "LITERAL":
            run.append(chr(av))
            continue
        if run and not "".join(run).isspace():  # a space is in every sentence: no use
            options.append(frozenset({("".join(run), icase)}))
        run = []
        need = _needs_of(op.name, av, icase) if op is not None else None
        if need:
            options.append(need)
    return min(options, key=_cost, default=None)


def _cost(atoms: frozenset[_Atom]) -> tuple[int, int]:
    """Fewer literals first, then longer ones: quicker to look for and rarer."""
    return len(atoms), -min(len(text) for text, _ in atoms)


def _needs_of(name: str, av: Any, icase: bool) -> frozenset[_Atom] | None:
    if name == "BRANCH":
        union: set[_Atom] = set()
        for alt in av[1]:
            need = _needs(alt, icase)
            if need is None:
                return None
            union |= need
        return frozenset(union)
    if name == "SUBPATTERN":
        return _needs(*_group(av, icase))
    if name in _REPEATS:
        return _needs(av[2], icase) if av[0] >= 1 else None
    if name == "ATOMIC_GROUP":
        return _needs(av, icase)
    if name == "ASSERT":  # a lookaround looks inside the same line
        return _needs(av[1], icase)
    if name == "IN" and len(av) <= _MAX_CLASS_ATOMS and all(op.name == "LITERAL" for op, _ in av):
        return frozenset((chr(c), icase) for _, c in av)
    return None


def _folded_part(text: str) -> str | None:
    """The longest ASCII stretch of a literal matched ignoring case, lower-cased (any part of a
    literal a match contains is contained too); None when there is no usable stretch."""
    run = max(_ASCII_RUN.findall(text), key=len, default="")
    return run.lower() if run.strip() else None


def _needs_filter(atoms: frozenset[_Atom]) -> tuple[tuple[str, ...], tuple[str, ...]]:
    """``atoms`` split into literals compared with case and lower-cased ones (see :class:`LineFilter`)."""
    exact: set[str] = set()
    folded: set[str] = set()
    for text, icase in atoms:
        if not icase or (text.isascii() and not any(c.isalpha() for c in text)):
            exact.add(text)  # matched with case, or without letters (so case cannot matter)
            continue
        part = _folded_part(text)
        if part is None:
            return (), ()  # one literal we cannot look for: no test at all
        folded.add(part)
    if len(exact) + len(folded) > _MAX_NEEDS:
        return (), ()  # slower to look for than a pattern that starts right takes to fail
    return tuple(sorted(exact)), tuple(sorted(folded))


#: What parsing or walking a parse tree of an unfamiliar shape raises: then no shortcut is taken.
_UNFAMILIAR = (AttributeError, TypeError, ValueError, RecursionError)


def _parsed(source: str, flags: int) -> tuple[list[_Node], bool]:
    """The regex's parse tree and whether it matches ignoring case (flags given or inline)."""
    tree = _SRE_PARSER.parse(source, flags)
    return tree.data, bool(tree.state.flags & re.IGNORECASE)


def required_atoms(source: str, flags: int = 0) -> frozenset[tuple[str, bool]] | None:
    """Literals, each with whether it is matched ignoring case, one of which every match of the
    regex ``source`` contains (the cheapest such set found); None when the analysis finds none."""
    try:
        return _needs(*_parsed(source, flags))
    except _UNFAMILIAR:
        return None


@lru_cache(maxsize=4096)
def _line_filter(source: str, flags: int) -> LineFilter:
    try:
        data, icase = _parsed(source, flags)
        starts = _starts(data, icase, START_CHARS)
        atoms = _needs(data, icase)
    except _UNFAMILIAR:
        return LineFilter()  # no shortcut: the rule always runs
    ascii_only = flags & re.ASCII
    alternatives = ["".join(chars) for chars, _ in starts]
    start = re.compile("|".join(alternatives), ascii_only) if all(alternatives) else None
    first = re.compile("|".join(chars[0] for chars, _ in starts), ascii_only) if start else None
    needs, needs_folded = _needs_filter(atoms) if atoms else ((), ())
    return LineFilter(
        start=start,
        needs=needs,
        needs_folded=needs_folded,
        broad=first is None or sum(first.fullmatch(c) is not None for c in _PROBE) > len(_PROBE) // 2,
    )


def line_filter(pattern: re.Pattern[str]) -> LineFilter:
    """The prefilter of a pattern used with ``fullmatch`` on single lines (cached per pattern)."""
    return _line_filter(pattern.pattern, pattern.flags)
