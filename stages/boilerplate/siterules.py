"""Learned site rules as data and as engine rules: the learner's thresholds (:class:`LearnConfig`),
a learned line or shape (:class:`SiteLine`, with the :class:`Block` it may head), the lines of
every host (:class:`SiteRules`) and the :class:`~stages.boilerplate.rulepack.Rule` each becomes,
with rule id ``site:<host>:<hash>`` (the hash of its text or shape: the same line learned again
keeps its id) and category ``site_repeated``. Also the host of a URL (:func:`host_of`), the form
lines are compared in (:func:`line_key`) and :func:`covered_by`, the test of whether the rule
packs already take a line. The learning is :mod:`stages.boilerplate.sitelearn`'s.
"""

from __future__ import annotations

import hashlib
import re
import unicodedata
from collections.abc import Callable, Collection, Mapping, Sequence
from dataclasses import dataclass, field
from functools import cached_property
from urllib.parse import urlsplit

from pipeline.core.errors import RuleError
from stages.boilerplate.rulepack import LIST_MARKER, SITE_PREFIX, Rule
from stages.boilerplate.shapes import escape, shape_regex

_SPACES = re.compile(r"\s+")


@dataclass(frozen=True)
class LearnConfig:
    """Thresholds of the learner (see :mod:`stages.boilerplate.sitelearn`)."""

    min_docs: int = 3
    min_repeat: int = 3
    min_share: float = 0.3
    max_chars: int = 400
    max_words: int = 60
    sentence_words: int = 6
    sentence_share: float = 0.5
    max_embedded: float = 0.5
    long_words: int = 20
    prose_words: int = 5
    paragraph_words: int = 8
    topical: float = 0.5
    max_topical: float = 0.2
    generic_share: float = 0.5
    story_share: float = 0.6
    story_overlap: float = 0.4
    story_words: float = 0.25
    story_p: float = 0.05
    story_lift: float = 1.0
    min_letters: int = 4
    cross_repeat: int = 2
    cross_share: float = 0.2
    block_share: float = 0.5
    item_words: int = 20
    item_chars: int = 160
    max_items: int = 10
    #: A line that misses the tests above but is in ``min_repeat`` documents and this share of
    #: them is learned *soft*: it lowers the model's threshold where it stands
    #: (``boilerplate.site_soft_threshold``) and removes nothing by itself. 0: none.
    soft_share: float = 0.1

    def __post_init__(self) -> None:
        if self.min_docs < 2 or self.min_repeat < 2 or self.cross_repeat < 2:
            raise RuleError("site learning needs min_docs, min_repeat and cross_repeat >= 2")
        for name in (
            "min_share",
            "sentence_share",
            "cross_share",
            "block_share",
            "generic_share",
            "story_share",
            "story_words",
            "story_p",
        ):
            if not 0.0 < getattr(self, name) <= 1.0:
                raise RuleError(f"site learning needs 0 < {name} <= 1")
        for name in ("max_embedded", "soft_share"):
            if not 0.0 <= getattr(self, name) <= 1.0:
                raise RuleError(f"site learning needs 0 <= {name} <= 1")


def host_of(url: str | None) -> str | None:
    """``https://www.Example.com/a`` -> ``example.com``; ``None`` when there is no host."""
    if not url:
        return None
    try:
        host = urlsplit(url.strip()).hostname
    except ValueError:
        return None
    if not host:
        return None
    host = host.lower().rstrip(".")
    return host[4:] if host.startswith("www.") else host


def line_key(line: str) -> str:
    """The form a line is compared in: NFC, list marker dropped, whitespace collapsed, stripped."""
    key = _SPACES.sub(" ", unicodedata.normalize("NFC", line)).strip()
    return LIST_MARKER.sub("", key, count=1)


#: The mark a label ends in ("More news:", "Latest »", "See also…", "Top stories -"), as
#: :func:`~stages.boilerplate.normalise.typographic_view` writes it (an arrow is ``>``).
LABEL_MARK = r"(?:[:»›>|-]|…|\.\.\.)"
_LABEL_TAIL = re.compile(rf"(?:\s*{LABEL_MARK})+$")


def unmarked(key: str) -> str:
    """``key`` without the label marks it ends in (unless that leaves nothing): a site writes one
    header as "Most read:", "Most read »" and "Most read…", one line for the learner."""
    return _LABEL_TAIL.sub("", key) or key


def exact_regex(text: str) -> str:
    """The expression of an exact learned line: its words as :func:`unmarked` leaves them, then any
    label marks."""
    return shape_regex(escape(unmarked(line_key(text)))) + rf"(?:\s*{LABEL_MARK})*"


def line_hash(key: str) -> str:
    return hashlib.sha1(key.encode("utf-8", "surrogatepass")).hexdigest()[:10]


@dataclass(frozen=True)
class Block:
    """What follows a learned block header: up to ``items`` short lines."""

    items: int
    item_words: int
    item_chars: int
    #: Every item seen had at least this many words …
    min_words: int = 1
    #: … and started with this mark ("›", ">"; "" when they did not share one).
    marker: str = ""
    examples: tuple[str, ...] = ()

    @property
    def item_regex(self) -> str:
        """A short line: ``min_words`` to ``item_words`` words, at most ``item_chars``
        characters, after the ``marker``, and no sentence or lead-in (ending in a full stop or a
        colon; an ellipsis is fine)."""
        start = re.escape(self.marker) + r"\s*" if self.marker else ""
        words = rf"\S+(?:\s+\S+){{{self.min_words - 1},{self.item_words - 1}}}"
        return rf"(?!.*(?<!\.)[.:]$)(?=.{{1,{self.item_chars}}}$){start}{words}"


@dataclass(frozen=True)
class SiteLine:
    """One learned line: its exact text, or (``shaped``) its shape with placeholders."""

    text: str
    docs: int
    share: float
    shaped: bool = False
    examples: tuple[str, ...] = ()
    block: Block | None = None
    #: A soft line (:attr:`LearnConfig.soft_share`): site evidence for the model, not a rule.
    soft: bool = False
    #: The id a reviewed file gives the line when it is not the one made from its text (the
    #: reviewer edited the text or shape and kept the id): the file's id stays the rule's id.
    given_id: str | None = field(default=None, compare=False)

    @property
    def hash(self) -> str:
        """Of the shape, or of the exact line without its end marks (one id for all its variants)."""
        return line_hash(line_key(self.text) if self.shaped else unmarked(line_key(self.text)))

    @property
    def regex(self) -> str:
        """What the rule matches: the shape's expression (an exact line is a shape without
        placeholders: spaces match any white space, letters ignore case, and it may end in any
        label marks: :func:`unmarked`)."""
        return shape_regex(self.text) if self.shaped else exact_regex(self.text)


@dataclass(frozen=True)
class SiteRules:
    """Learned lines per host, with the document counts they were learned from."""

    lines: Mapping[str, tuple[SiteLine, ...]] = field(default_factory=dict)
    n_docs: Mapping[str, int] = field(default_factory=dict)
    config: LearnConfig = field(default_factory=LearnConfig)

    def __len__(self) -> int:
        return sum(len(v) for v in self.lines.values())

    @cached_property
    def _rules(self) -> dict[bool, dict[str, tuple[Rule, ...]]]:
        """The rules of the lines (False) and of the soft lines (True), per host."""
        return {
            soft: {
                host: rules
                for host, lines in self.lines.items()
                if (rules := tuple(_rule_for(host, ln) for ln in lines if bool(ln.soft) == soft))
            }
            for soft in (False, True)
        }

    @property
    def rules(self) -> tuple[Rule, ...]:
        """The rules of every host (soft lines' among them)."""
        return tuple(r for per_host in self._rules.values() for rules in per_host.values() for r in rules)

    def rules_for(self, url: str | None, *, soft: bool = False) -> tuple[Rule, ...]:
        """The line rules learned for the host of ``url`` (empty for unknown hosts); ``soft``:
        those of its soft lines, which the boilerplate stage runs apart (they only lower the
        model's threshold)."""
        host = host_of(url)
        return self._rules[soft].get(host, ()) if host else ()

    @cached_property
    def ids(self) -> frozenset[str]:
        """The rule id of every learned line (``site:<host>:<hash>``)."""
        return frozenset(site_rule_id(host, ln) for host, lines in self.lines.items() for ln in lines)

    def without(self, ids: Collection[str]) -> SiteRules:
        """These rules minus the lines whose rule id is in ``ids`` (``boilerplate.disabled_rules``)."""
        if not self.ids & set(ids):
            return self
        kept = {
            h: tuple(ln for ln in lines if site_rule_id(h, ln) not in ids) for h, lines in self.lines.items()
        }
        kept = {h: lines for h, lines in kept.items() if lines}
        n_docs = {h: n for h, n in self.n_docs.items() if h in kept}
        return SiteRules(lines=kept, n_docs=n_docs, config=self.config)


def site_rule_id(host: str, line: SiteLine) -> str:
    """``site:<host>:<hash of the line's text or shape>``, or the id a reviewed file gave it."""
    return line.given_id or f"{SITE_PREFIX}{host}:{line.hash}"


def _rule_for(host: str, line: SiteLine) -> Rule:
    """The engine's rule for a learned line. Its examples (``cleanwire rules --site-rules FILE
    --check``) are the lines it was learned from: the text of an exact line, the examples of a
    shape, a block header over the items seen under it."""
    seen = f"learned: repeats in {line.docs} documents ({line.share:.0%}) of {host}"
    if line.soft:
        seen += "; soft: removed where the model scores it boilerplate at the site threshold"
    heads = line.examples if line.shaped else (line.text,)
    if line.block is None:
        return Rule(
            id=site_rule_id(host, line),
            category="site_repeated",
            kind="line",
            pattern=re.compile(line.regex),
            description=seen + (f" as {line.text!r}" if line.shaped else ""),
            examples=heads,
            pack="site",
        )
    items = line.block.examples[: line.block.items]
    return Rule(
        id=site_rule_id(host, line),
        category="site_repeated",
        kind="block",
        pattern=re.compile(line.regex),
        item=re.compile(line.block.item_regex),
        min_items=0,
        max_items=line.block.items,
        description=f"{seen}, heading up to {line.block.items} short lines",
        examples=tuple("\n".join([head, *items]) for head in heads[:1]),
        pack="site",
    )


def covered_by(rules: Sequence[Rule]) -> Callable[[str], bool]:
    """A predicate: does one of ``rules`` (line or inline) already take this whole line out,
    wherever it stands? (A rule for the first or last lines only does not count.)"""
    usable = [r for r in rules if r.kind in ("line", "inline") and r.where == "any"]

    def known(line: str) -> bool:
        for rule in usable:
            m = rule.pattern.fullmatch(line) if rule.kind == "line" else rule.pattern.search(line)
            if m and m.end() - m.start() == len(line):
                return True
        return False

    return known
