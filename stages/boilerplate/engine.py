"""boilerplate: remove boilerplate lines and blocks, recording every removal.

:func:`find_removals` is the engine: it runs rules (see :mod:`stages.boilerplate.rulepack`) over the text
*as it entered the stage* and returns removals with exact offsets, so ``text[start:end] ==
snippet`` always holds. :func:`apply_removals` cuts them out. :func:`clean` does both.
Bylines and timestamps found by ``meta`` rules become the record's ``author``/``date``.

The result is that of offering every line to every rule in rule order; :class:`RuleSet` only
skips the rules that cannot match a line (by its first characters, and by literals every match
must contain). ``tests/stages/boilerplate/test_boilerplate_speed.py`` holds a plain reference engine and checks that
both find the same removals.
"""

from __future__ import annotations

import heapq
import re
from bisect import bisect_left, bisect_right
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from functools import cached_property
from typing import AnyStr, NamedTuple, TypeAlias

from pipeline.core.blocks import stripped_lines
from pipeline.core.prefilter import (
    START_CHARS,
    LineFilter,
    ascii_folded,
    foldable,
    line_filter,
)
from pipeline.core.record import Removal
from stages.boilerplate.dates import parse_date
from stages.boilerplate.normalise import typographic_view
from stages.boilerplate.rulepack import (
    LIST_MARKER,
    SITE_PREFIX,
    Rule,
)
from stages.boilerplate.units import glued_pieces


@dataclass(slots=True)  # not frozen: a frozen dataclass is slow to build, and texts have many lines
class Line:
    index: int
    start: int  # offset of the first non-blank char
    end: int  # offset after the last non-blank char
    text: str  # stripped content
    body: str  # what line rules match: ``text`` without a leading list marker


@dataclass
class Cleaned:
    """What :func:`clean` found: the new text, the removals, and metadata lifted from the text."""

    text: str
    removed: list[Removal]
    author: str | None = None
    date: str | None = None
    meta_rules: list[str] = field(default_factory=list)


_MARKER_CHARS = "-*•·"  # what LIST_MARKER can start with: other lines skip the substitution


def split_lines(text: str) -> list[Line]:
    """Non-blank lines with the offsets of their stripped content."""
    out: list[Line] = []
    for start, stripped in stripped_lines(text):
        if stripped:
            body = LIST_MARKER.sub("", stripped, count=1) if stripped[0] in _MARKER_CHARS else stripped
            out.append(Line(len(out), start, start + len(stripped), stripped, body))
    return out


# A headline tag at the end of a promo item: "[NEWS]", "(VIDEO)".
_ITEM_TAG = re.compile(r"\s*(?:\[[A-Z][A-Z ]{1,20}\]|\([A-Z][A-Z ]{1,20}\))\s*[|•·]?$")


def _is_tagged(line: str) -> bool:
    return _ITEM_TAG.search(line) is not None


def block_end(rule: Rule, lines: Sequence[Line], i: int, free: Callable[[Line], bool]) -> int:
    """Index after the last item of the block whose header is ``lines[i]`` (``i + 1`` if none).

    Items must all have the tag style of the first one: a tagged promo list ("… [NEWS]") stops
    at the first untagged line, so the article paragraph after it is never taken.
    """
    assert rule.item is not None
    n = len(lines)
    j = i + 1
    style: bool | None = None
    while j < n and j - i <= rule.max_items and free(lines[j]) and rule.item.fullmatch(lines[j].body):
        tagged = _is_tagged(lines[j].body)
        if style is None:
            style = tagged
        elif tagged != style:
            break
        j += 1
    return j


def _in_window(rule: Rule, i: int, n: int) -> bool:
    if rule.where == "head":
        return i < rule.window
    if rule.where == "tail":
        return i >= n - rule.window
    return True


#: One removal with the rule that made it and its match (``None`` for blocks).
Found: TypeAlias = tuple[Removal, Rule, re.Match[str] | None]

#: A block or line rule, its position among them, and its filter if it is gated (see :class:`RuleSet`).
Candidate: TypeAlias = tuple[int, Rule, LineFilter | None]

_MAX_STARTS = 20_000  # line beginnings remembered per rule set (memory stays bounded)


class Offer(NamedTuple):
    """The block/line rules worth trying on a line with a given beginning, in rule order."""

    #: All of them; a gated rule carries its filter.
    rules: tuple[Candidate, ...]
    #: Without the gated rules (see :attr:`RuleSet.gated`): for a line holding none of their literals.
    ungated: tuple[Candidate, ...]


class RuleSet:
    """Rules prepared for :func:`find_removals`, once per rule list (rules are immutable).

    Rules keep their order. Block and line rules get a :class:`~stages.boilerplate.rulepack.LineFilter`: a
    line is offered only to the rules that can match a line with its first characters. A rule
    whose matches can begin almost anyhow but must contain a literal (a "(" for a photo credit,
    "newsletter" for a sign-up sentence) is *gated*: the text is searched once for its literals
    and the rule is offered only the lines that hold one.
    """

    def __init__(self, rules: Sequence[Rule]) -> None:
        self.rules = tuple(rules)
        #: Inline rules, each with the literals one of which its every match holds: a text with
        #: none of them is not searched (a pattern that does not begin with a literal, such as
        #: one that reaches back to its sentence's start, would be tried at every position).
        self.inline = tuple((r, line_filter(r.pattern)) for r in self.rules if r.kind == "inline")
        self.adjacent = tuple(r for r in self.rules if r.kind == "adjacent")
        #: Block (with an item pattern) and line rules, in rule order.
        self.claiming = tuple(
            (r, line_filter(r.pattern))
            for r in self.rules
            if r.kind == "line" or (r.kind == "block" and r.item is not None)
        )
        self.gated = {
            k: filt for k, (rule, filt) in enumerate(self.claiming) if filt.broad and filt.has_needs
        }
        #: Learned site lines, which also take a piece of a line that a scrape glued onto a paragraph
        #: (the site learner counts such pieces as lines: :func:`~.units.glued_pieces`).
        self.pieces = tuple(
            r for r in self.rules if r.kind == "line" and r.where == "any" and r.id.startswith(SITE_PREFIX)
        )
        #: Lines before ``head`` or in the last ``tail`` are in reach of some head/tail rule.
        self.head = max((r.window for r, _ in self.claiming if r.where == "head"), default=0)
        self.tail = max((r.window for r, _ in self.claiming if r.where == "tail"), default=0)
        #: Offers by line beginning: ``[False]`` away from the edge of the text, ``[True]`` at it.
        self.offers: tuple[dict[str, Offer], dict[str, Offer]] = ({}, {})

    def offer(self, start: str, edge: bool) -> Offer:
        """The rules that can match a line beginning with ``start`` (its first
        :data:`~stages.boilerplate.rulepack.START_CHARS` characters). Away from the ``edge`` of the text (the
        head/tail windows) only ``where = "any"`` rules. Also in :attr:`offers` once made."""
        known = self.offers[edge]
        found = known.get(start)
        if found is None:
            rules = tuple(
                (k, rule, filt if k in self.gated else None)
                for k, (rule, filt) in enumerate(self.claiming)
                if (edge or rule.where == "any") and filt.admits_start(start)
            )
            found = Offer(rules, tuple(c for c in rules if c[0] not in self.gated))
            if len(known) < _MAX_STARTS:
                known[start] = found
        return found


_RULE_SETS: dict[int, tuple[Sequence[Rule], RuleSet]] = {}
_MAX_RULE_SETS = 32


def rule_set(rules: Sequence[Rule] | RuleSet) -> RuleSet:
    """``rules`` prepared; the same sequence object (``load_rules`` caches its tuples) is
    prepared once."""
    if isinstance(rules, RuleSet):
        return rules
    cached = _RULE_SETS.get(id(rules))
    if cached is not None and cached[0] is rules:
        return cached[1]
    prepared = RuleSet(rules)
    if isinstance(rules, tuple):  # immutable: safe to reuse while we hold it (so its id is not reused)
        if len(_RULE_SETS) >= _MAX_RULE_SETS:
            _RULE_SETS.pop(next(iter(_RULE_SETS)))
        _RULE_SETS[id(rules)] = (rules, prepared)
    return prepared


def _offsets(haystack: AnyStr, needle: AnyStr) -> Iterator[int]:
    """Where ``needle`` starts in ``haystack``, overlapping occurrences included."""
    at = haystack.find(needle)
    while at >= 0:
        yield at
        at = haystack.find(needle, at + 1)


class _Scan:
    """One pass of the rules over one text: which lines are taken, by which category."""

    def __init__(self, text: str) -> None:
        self.text = text
        #: What the rules match: the text's typographic view (same offsets); removals record ``text``.
        self.view = typographic_view(text)
        self.lines = split_lines(self.view)
        self.found: list[Found] = []
        self.taken: dict[int, str] = {}  # line index -> category of the removal covering it
        self.touched: set[int] = set()  # lines an inline span overlaps: not free for line rules

    @cached_property
    def folded(self) -> bytes | None:
        """The view with its ASCII letters lower-cased and every other character ``?``, one byte a
        character (:func:`~pipeline.core.prefilter.ascii_folded`: a literal holding ``?`` may be
        "found" where it is not, and its rule then runs for nothing; None when literals matched
        ignoring case cannot be looked for that way, see :func:`~pipeline.core.prefilter.foldable`).
        Made once per text, when a literal is first looked for ignoring case: the inline rules'
        literals (:meth:`LineFilter.may_contain` with it) and the gated rules' are all looked for
        in it, not each in ``str.lower`` of the whole text."""
        return ascii_folded(self.view) if foldable(self.view) else None

    def add(self, rule: Rule, start: int, end: int, match: re.Match[str] | None, covered: range) -> None:
        removal = Removal(rule.id, rule.category, start, end, self.text[start:end])
        self.found.append((removal, rule, match))
        for j in covered:
            self.taken[j] = rule.category

    def free(self, ln: Line) -> bool:
        return ln.index not in self.taken and ln.index not in self.touched

    def inline(self, rules: Sequence[tuple[Rule, LineFilter]]) -> None:
        """Spans anywhere (notices glued to paragraphs); lines they cover whole count as taken.
        A rule whose literals (:attr:`LineFilter.needs`) the text lacks is not searched."""
        starts: list[int] = []
        ends: list[int] = []
        for rule, literals in rules:
            if not literals.may_contain(self.view, lambda: self.folded):
                continue
            for m in rule.pattern.finditer(self.view):
                if m.end() > m.start():
                    if not ends:  # the first span: line offsets are needed now
                        starts = [ln.start for ln in self.lines]
                        ends = [ln.end for ln in self.lines]
                    near = range(bisect_right(ends, m.start()), bisect_left(starts, m.end()))
                    self.touched.update(near)
                    inside = [j for j in near if starts[j] >= m.start() and ends[j] <= m.end()]
                    self.add(
                        rule, m.start(), m.end(), m, range(inside[0], inside[-1] + 1) if inside else range(0)
                    )

    def holders(self, gated: Mapping[int, LineFilter]) -> dict[int, frozenset[int]]:
        """For each gated rule, the lines whose body holds one of its literals (all lines when
        the text cannot be searched lower-cased), found by searching the whole text at once."""
        body_starts = [ln.end - len(ln.body) for ln in self.lines]
        folded = self.folded  # same offsets as the view
        held: dict[int, frozenset[int]] = {}
        for k, filt in gated.items():
            if filt.needs_folded and folded is None:
                held[k] = frozenset(range(len(self.lines)))
                continue
            lines: set[int] = set()
            for literal, is_folded in filt.literals:
                if is_folded and folded is not None:
                    found = _offsets(folded, literal.encode("ascii"))
                else:
                    found = _offsets(self.view, literal)
                for at in found:
                    j = bisect_right(body_starts, at) - 1
                    if j >= 0 and at + len(literal) <= self.lines[j].end:
                        lines.add(j)
            held[k] = frozenset(lines)
        return held

    def claim_all(self, rules: RuleSet) -> None:
        """Offer each free line to the block and line rules that can match it."""
        n = len(self.lines)
        middle = range(rules.head, n - rules.tail)
        held = self.holders(rules.gated)
        gated_lines = frozenset().union(*held.values())
        taken, touched, offers = self.taken, self.touched, rules.offers
        for ln in self.lines:
            i = ln.index
            if i in taken or i in touched:
                continue
            start, edge = ln.body[:START_CHARS], i not in middle
            offer = offers[edge].get(start) or rules.offer(start, edge)
            candidates = offer.rules if i in gated_lines else offer.ungated
            if candidates:
                self.claim(ln, candidates, held)

    def claim(self, ln: Line, rules: Sequence[Candidate], held: Mapping[int, frozenset[int]]) -> None:
        """Blocks and whole lines, in rule order: the first rule to claim ``ln`` wins.

        A gated rule (it carries its filter) is tried only on the lines ``held`` says hold one of
        its literals.
        """
        i, n, body = ln.index, len(self.lines), ln.body
        for k, rule, filt in rules:
            if filt is not None and i not in held[k]:
                continue
            if rule.where != "any" and not _in_window(rule, i, n):
                continue
            if rule.kind == "block":
                if not rule.pattern.fullmatch(body):
                    continue
                j = block_end(rule, self.lines, i, self.free)
                if j - i - 1 >= rule.min_items:
                    self.add(rule, ln.start, self.lines[j - 1].end, None, range(i, j))
                    return
            else:
                match = rule.pattern.fullmatch(body)
                if match:
                    self.add(rule, ln.start, ln.end, match, range(i, i + 1))
                    return

    def claim_pieces(self, rules: Sequence[Rule]) -> None:
        """Pieces of free lines cut at their glue points ("... on Monday.Sign up to ..."), each
        offered to ``rules`` (learned site lines) whole; a line a piece is taken from is touched."""
        text = self.text
        for ln in self.lines:
            if not self.free(ln):
                continue
            at = ln.end - len(ln.body)
            pieces = glued_pieces(text[at : ln.end])
            if len(pieces) < 2:
                continue
            for a, b in pieces:
                piece = self.view[at + a : at + b]
                for rule in rules:
                    match = rule.pattern.fullmatch(piece)
                    if match:
                        self.add(rule, at + a, at + b, match, range(0))
                        self.touched.add(ln.index)
                        break

    def adjacent(self, rules: Sequence[Rule]) -> bool:
        """Lines next to a removal of a rule's anchor category; True when one was taken.

        Lines are visited in order; only those next to a removal of an anchor category can be
        taken (the next line too, once a line is taken on the way).
        """
        n = len(self.lines)
        anchors = {rule.anchor for rule in rules}
        near = [j for i, cat in self.taken.items() if cat in anchors for j in (i - 1, i + 1) if 0 < j < n]
        heapq.heapify(near)
        changed = False
        last = 0  # never the first line: it is the title
        while near:
            ln = self.lines[heapq.heappop(near)]
            if ln.index == last:
                continue
            last = ln.index
            before = self.taken.get(ln.index + 1) if ln.index + 1 < n else None
            after = self.taken.get(ln.index - 1)
            if (before is None and after is None) or not self.free(ln):
                continue
            for rule in rules:
                hit = (rule.direction in ("before", "either") and before == rule.anchor) or (
                    rule.direction in ("after", "either") and after == rule.anchor
                )
                if not hit or not _in_window(rule, ln.index, n):
                    continue
                match = rule.pattern.fullmatch(ln.body)
                if match:
                    self.add(rule, ln.start, ln.end, match, range(ln.index, ln.index + 1))
                    changed = True
                    if ln.index + 1 < n and rule.category in anchors:
                        heapq.heappush(near, ln.index + 1)
                    break
        return changed

    def result(self) -> list[Found]:
        """In text order; a span inside an earlier one (overlapping inline matches) is dropped."""
        kept: list[Found] = []
        for item in sorted(self.found, key=lambda f: f[0].start):
            if kept and item[0].start < kept[-1][0].end:
                continue
            kept.append(item)
        return kept


def find_removals(text: str, rules: Sequence[Rule] | RuleSet) -> list[Found]:
    """Every span the rules take out of ``text``, non-overlapping, in text order.

    Order of play: inline rules first (anywhere), then each line is offered to the block and line
    rules in rule order, then learned site lines take what a scrape glued into a line
    (:meth:`_Scan.claim_pieces`), then adjacent rules grow removals until nothing changes.
    """
    prepared = rule_set(rules)
    scan = _Scan(text)
    scan.inline(prepared.inline)
    scan.claim_all(prepared)
    if prepared.pieces:
        scan.claim_pieces(prepared.pieces)
    while prepared.adjacent and scan.adjacent(prepared.adjacent):
        pass
    return scan.result()


def apply_removals(text: str, removals: Sequence[Removal]) -> str:
    """Cut the (sorted, non-overlapping) spans out of ``text``.

    A span that is a whole line takes its line break with it; a span with text on both sides on
    its line (a notice glued between two paragraphs) becomes a line break; otherwise the span
    simply goes.
    """
    out: list[str] = []
    pos = 0
    for r in removals:
        line_start = text.rfind("\n", 0, r.start) + 1
        line_end = text.find("\n", r.end)
        line_end = len(text) if line_end < 0 else line_end
        text_before = text[max(pos, line_start) : r.start].strip() != ""
        text_after = text[r.end : line_end].strip() != ""
        if not text_before and not text_after:
            out.append(text[pos : max(pos, line_start)])
            pos = min(len(text), line_end + 1)
        else:
            out.append(text[pos : r.start])
            if text_before and text_after:
                out.append("\n")
            pos = r.end
    out.append(text[pos:])
    return "".join(out)


def clean(text: str, rules: Sequence[Rule] | RuleSet) -> Cleaned:
    """Find and cut boilerplate; lift bylines/timestamps into ``author``/``date``."""
    return _cleaned(text, find_removals(text, rules))


_NAME_PART = re.compile(r"(^|[\s'’-])(\w)")


def author_name(name: str) -> str:
    """A byline name as a name: ``"AISHA RAHMAN"`` -> ``"Aisha Rahman"`` (mixed case is kept)."""
    name = " ".join(name.split())
    if not name.isupper():
        return name
    return _NAME_PART.sub(lambda m: m.group(1) + m.group(2).upper(), name.lower())


def group_text(text: str, removal: Removal, match: re.Match[str], group: str) -> str:
    """What ``group`` of ``match`` holds in ``text`` itself (rules match the typographic view).

    An inline rule matches the whole view; a line rule matches the line's body, which ends where
    its removal ends."""
    start, end = match.span(group)
    if start < 0:
        return ""
    base = 0 if len(match.string) == len(text) else removal.end - len(match.string)
    return text[base + start : base + end]


def _cleaned(text: str, found: Sequence[Found]) -> Cleaned:
    removed = [r for r, _, _ in found]
    result = Cleaned(text=apply_removals(text, removed), removed=removed)
    for removal, rule, match in found:
        if rule.meta is None or match is None:
            continue
        value = group_text(text, removal, match, rule.meta).strip()
        if rule.meta == "author" and value and result.author is None:
            result.author = author_name(value)
        elif rule.meta == "date" and value and result.date is None:
            result.date = parse_date(value)  # ISO 8601 or nothing: '3 hours ago' is no date
        result.meta_rules.append(removal.rule)
    return result
