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

from pipeline.core.config import BoilerplateConfig
from pipeline.core.prefilter import (
    START_CHARS,
    LineFilter,
    ascii_folded,
    foldable,
    line_filter,
)
from pipeline.core.record import Doc, Removal
from pipeline.core.stage import DocStage, RejectRecord
from stages.boilerplate.dates import parse_date
from stages.boilerplate.normalise import typographic_view
from stages.boilerplate.rulepack import (
    LIST_MARKER,
    SITE_PREFIX,
    Rule,
    check_disabled,
    load_rules,
)
from stages.boilerplate.sitelearn import SiteRules, load_site_rules


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
    pos = 0
    for raw in text.splitlines(keepends=True):
        stripped = raw.strip()  # the line break itself is whitespace: strip takes it too
        if stripped:
            start = pos + raw.index(stripped[0])  # only blanks come before it
            body = LIST_MARKER.sub("", stripped, count=1) if stripped[0] in _MARKER_CHARS else stripped
            out.append(Line(len(out), start, start + len(stripped), stripped, body))
        pos += len(raw)
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
        self.inline = tuple(r for r in self.rules if r.kind == "inline")
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

    def add(self, rule: Rule, start: int, end: int, match: re.Match[str] | None, covered: range) -> None:
        removal = Removal(rule.id, rule.category, start, end, self.text[start:end])
        self.found.append((removal, rule, match))
        for j in covered:
            self.taken[j] = rule.category

    def free(self, ln: Line) -> bool:
        return ln.index not in self.taken and ln.index not in self.touched

    def inline(self, rules: Sequence[Rule]) -> None:
        """Spans anywhere (notices glued to paragraphs); lines they cover whole count as taken."""
        starts: list[int] = []
        ends: list[int] = []
        for rule in rules:
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
        folded = ascii_folded(self.view) if foldable(self.view) else None  # same offsets
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
    rules in rule order, then adjacent rules grow removals until nothing changes.
    """
    prepared = rule_set(rules)
    scan = _Scan(text)
    scan.inline(prepared.inline)
    scan.claim_all(prepared)
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


def _group_text(text: str, removal: Removal, match: re.Match[str], group: str) -> str:
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
        value = _group_text(text, removal, match, rule.meta).strip()
        if rule.meta == "author" and value and result.author is None:
            result.author = author_name(value)
        elif rule.meta == "date" and value and result.date is None:
            result.date = parse_date(value)  # ISO 8601 or nothing: '3 hours ago' is no date
        result.meta_rules.append(removal.rule)
    return result


#: Removals smaller than this (non-blank characters, ``normal`` confidence) never trip the budget:
#: a one-sentence article under a three-headline promo list is cleaned, not flagged. A misfire that
#: guts a real article takes far more than this.
MIN_BUDGET_CHARS = BoilerplateConfig.budget_min_chars


@dataclass(frozen=True, slots=True)
class BudgetUse:
    """How much of a text the ``normal``-confidence removals would take (non-blank characters)."""

    risky: int
    size: int

    @property
    def share(self) -> float:
        return self.risky / self.size if self.size else 0.0

    def exceeds(self, max_share: float, min_chars: int = MIN_BUDGET_CHARS) -> bool:
        return self.risky >= min_chars and self.share > max_share


def _solid(text: str) -> int:
    """Non-whitespace characters (``str.split`` and ``str.isspace`` share one definition).

    Every whitespace character but the space is unprintable (``str.isprintable``), so in a text
    that is printable once its line breaks and tabs are gone, the rest is spaces: counting them is
    ~2x quicker than splitting a 4 KB text into words (a short snippet splits quicker).
    """
    if len(text) > _SPLIT_BELOW:
        rest = text.replace("\n", "").replace("\t", "")
        if rest.isprintable():
            return len(rest) - rest.count(" ")
    return len("".join(text.split()))


_SPLIT_BELOW = 256


def _risky(found: Sequence[Found]) -> int:
    return sum(_solid(removal.snippet) for removal, rule, _ in found if rule.confidence != "high")


def budget_use(text: str, found: Sequence[Found]) -> BudgetUse:
    """What the removals in ``found`` would spend of the removal budget.

    Removals by ``confidence = "high"`` rules (fixed, unambiguous forms such as a consent notice)
    do not count: a two-sentence article with a long cookie banner is cleaned, not flagged. What
    the budget guards against is a rule misfiring on article text, and only the flexible rules
    (headline lists, captions, learned site lines) can do that.
    """
    return BudgetUse(risky=_risky(found), size=_solid(text))


def clean_with_budget(text: str, rules: Sequence[Rule] | RuleSet) -> tuple[Cleaned, BudgetUse]:
    """:func:`clean`, plus what its removals would spend of the budget (see :func:`budget_use`)."""
    found = find_removals(text, rules)
    return _cleaned(text, found), budget_use(text, found)


class Boilerplate(DocStage):
    """Rule packs (built-in and ``rule_files``) plus optional learned site rules.

    A document whose removals would exceed ``max_removed_share`` of its text (and at least
    ``boilerplate.budget_min_chars`` characters; ``confidence = "high"`` rules do not count) is kept unchanged
    and flagged ``removal_budget_exceeded`` (or rejected with reason ``removal_budget`` when
    ``on_budget_exceeded = "reject"``).
    """

    name = "boilerplate"

    def __init__(self, config: BoilerplateConfig | None = None, site_rules: SiteRules | None = None) -> None:
        super().__init__()
        self.config = cfg = config or BoilerplateConfig()
        self.rules = load_rules(cfg.packs, cfg.rule_files, cfg.disabled_rules)
        if site_rules is None and cfg.site_rules_file:
            site_rules = load_site_rules(cfg.site_rules_file)
        site_rules = site_rules or SiteRules()
        disabled_sites = [rid for rid in cfg.disabled_rules if rid.startswith(SITE_PREFIX)]
        check_disabled(disabled_sites, site_rules.ids)  # pack rule ids: checked by load_rules
        self.site_rules = site_rules.without(disabled_sites)
        # per host with learned lines: (that host's learned rules, pack + learned rules prepared)
        self._site_sets: dict[int, tuple[tuple[Rule, ...], RuleSet]] = {}

    @cached_property
    def rule_set(self) -> RuleSet:
        """The rules prepared (shared by stages with the same rules). Built on first use: a
        coordinator that hands the stage to worker processes never needs it (~0.25 s)."""
        return rule_set(self.rules)

    def rules_for(self, url: str | None) -> tuple[Rule, ...]:
        """Pack rules first (they name the category precisely), then the site's learned lines."""
        site = self.site_rules.rules_for(url)
        return self.rules + site if site else self.rules

    def rule_set_for(self, url: str | None) -> RuleSet:
        """:meth:`rules_for`, prepared once per host (``SiteRules`` hands out one tuple per host)."""
        site = self.site_rules.rules_for(url)
        if not site:
            return self.rule_set
        cached = self._site_sets.get(id(site))
        if cached is None or cached[0] is not site:
            cached = (site, RuleSet(self.rules + site))
            self._site_sets[id(site)] = cached
        return cached[1]

    def over_budget(self, text: str, found: Sequence[Found]) -> BudgetUse | None:
        """The budget use when ``found`` exceeds the budget (see :class:`BudgetUse`), else None.

        The text's size is counted only when the removals are big enough to matter.
        """
        risky = _risky(found)
        if risky < self.config.budget_min_chars:
            return None
        use = BudgetUse(risky=risky, size=_solid(text))
        return use if use.exceeds(self.config.max_removed_share, self.config.budget_min_chars) else None

    def process(self, doc: Doc) -> None:
        found = find_removals(doc.text, self.rule_set_for(doc.url))
        if not found:
            return
        use = self.over_budget(doc.text, found)
        if use is not None:
            detail = (
                f"rules would remove {use.share:.0%} of the text ({use.risky} characters) > "
                f"boilerplate.max_removed_share={self.config.max_removed_share:.0%}"
            )
            if self.config.on_budget_exceeded == "reject":
                raise RejectRecord("removal_budget", detail)
            doc.flags.append("removal_budget_exceeded")
            doc.detail = detail
            return
        result = _cleaned(doc.text, found)
        doc.text = result.text
        doc.removed.extend(result.removed)
        if self.config.extract_metadata:
            doc.author = doc.author or result.author
            doc.date = doc.date or result.date
