"""Per-site learning: lines that repeat across the documents of one site are boilerplate there.

A first pass over a dump feeds ``(host, text)`` pairs to :func:`learn_site_rules`, a pure
function. Lines are compared as the rule engine reads them (NFC, spaces folded, list marker
dropped, the typographic view of :mod:`stages.boilerplate.normalise`), and also by *shape*
(:mod:`stages.boilerplate.shapes`): with numbers, dates, times and capitalised names masked,
"Updated 3 hours ago by Jane Doe" and "Updated 11 hours ago by John Smith" are one candidate,
learned as ``Updated {NUM} hours ago by {NAME}``; a part that never changed stays text. A line or
shape becomes a rule for its host when

* the host has at least ``min_docs`` distinct documents (exact duplicates count once);
* it is short (``max_chars`` characters, ``max_words`` words) and no pack rule already takes it;
* it occurs in at least ``min_repeat`` documents of the host **and** in ``min_share`` of them.
  A line that reads like a sentence (``sentence_words`` words or more, ending in ``.``, ``!``,
  ``?`` or ``…``) needs ``sentence_share`` of them and must not stand between two long paragraphs
  (``long_words`` words) in more than ``max_embedded`` of its occurrences: a quote or a stock
  sentence that a few articles share is text, a notice printed under every article is not;
* it is not topical (in more than ``max_topical`` of its occurrences the article's prose uses
  ``topical`` of its telling words, as a title or a quote does) and not bound to one story: not
  in reprints of one story (``story_share``, ``story_overlap``), nor, more often than chance
  gives, in all the rewrites of one story (documents sharing ``story_words`` of their telling
  words; ``story_p``, ``story_lift``): the title of a story printed four times, or also listed as
  a teaser on other pages, is text;
* a shape keeps ``min_letters`` letters of text of its own (``{NAME}`` alone is no template; a
  line of dates and times is); where the text is short, a changing ``{NAME}`` must mostly be a
  name of two words or more ("By {NAME}", not the German "Die {NAME}" of two sub-heads);
* a short line (not a sentence) learned on another site of the same dump needs only
  ``cross_repeat`` documents and ``cross_share`` of its site: the evidence that a skeleton is a
  template carries over from site to site, and small sites need it most.

A learned line that, in at least ``block_share`` of its occurrences, heads a run of two or more
short lines that change from document to document ("Most read" over three headlines) is learned
as the header of a *block*: the rule takes the header and up to as many short lines after it as
were seen (``item_words``/``item_chars`` as long as the longest seen, none ending in a full stop).

The result, :class:`SiteRules`, is saved as TOML (or JSON, by extension) for review and reuse
(``cleanwire learn-sites DUMP -o site-rules.toml``; ``cleanwire run --site-rules FILE``): an exact
line as ``text``, a shape as ``shape`` with its placeholders and the ``examples`` it was learned
from, a block header with its ``block`` table. A reviewer deletes an entry to stop it. In the
second pass the boilerplate stage removes a learned line wherever it is a whole line of a
document of that host, recorded with rule id ``site:<host>:<hash>`` (the hash of its text or
shape: the same line learned again keeps its id) and category ``site_repeated``.
"""

from __future__ import annotations

import hashlib
import json
import math
import re
import tomllib
import unicodedata
from collections import Counter, defaultdict
from collections.abc import Callable, Collection, Iterable, Mapping, Sequence
from dataclasses import asdict, dataclass, field, replace
from functools import cached_property
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import tomli_w

from pipeline.core.errors import RuleError
from stages.boilerplate.normalise import typographic_view
from stages.boilerplate.rulepack import LIST_MARKER, SITE_PREFIX, Rule
from stages.boilerplate.shapes import (
    Masked,
    escape,
    generalise,
    is_shaped,
    literal_text,
    mask,
    parse_shape,
    shape_regex,
)

_SPACES = re.compile(r"\s+")
_WORD = re.compile(r"[^\W\d_]{6,}")
_SENTENCE_END = re.compile(r"(?<!\.\.)[.!?…][\"')\]»]*$")


@dataclass(frozen=True)
class LearnConfig:
    """Thresholds of the learner (see the module docstring)."""

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
        if not 0.0 <= self.max_embedded <= 1.0:
            raise RuleError("site learning needs 0 <= max_embedded <= 1")


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

    @property
    def hash(self) -> str:
        return line_hash(line_key(self.text))

    @property
    def regex(self) -> str:
        """What the rule matches: the shape's expression (an exact line is a shape without
        placeholders: spaces match any white space, letters ignore case)."""
        return shape_regex(self.text if self.shaped else escape(line_key(self.text)))


@dataclass(frozen=True)
class SiteRules:
    """Learned lines per host, with the document counts they were learned from."""

    lines: Mapping[str, tuple[SiteLine, ...]] = field(default_factory=dict)
    n_docs: Mapping[str, int] = field(default_factory=dict)
    config: LearnConfig = field(default_factory=LearnConfig)

    def __len__(self) -> int:
        return sum(len(v) for v in self.lines.values())

    @cached_property
    def _rules(self) -> dict[str, tuple[Rule, ...]]:
        return {host: tuple(_rule_for(host, ln) for ln in lines) for host, lines in self.lines.items()}

    @property
    def rules(self) -> tuple[Rule, ...]:
        """The rules of every host."""
        return tuple(r for rules in self._rules.values() for r in rules)

    def rules_for(self, url: str | None) -> tuple[Rule, ...]:
        """The line rules learned for the host of ``url`` (empty for unknown hosts)."""
        host = host_of(url)
        return self._rules.get(host, ()) if host else ()

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
    return f"{SITE_PREFIX}{host}:{line.hash}"


def _rule_for(host: str, line: SiteLine) -> Rule:
    """The engine's rule for a learned line. Its examples (``cleanwire rules --site-rules FILE
    --check``) are the lines it was learned from: the text of an exact line, the examples of a
    shape, a block header over the items seen under it."""
    seen = f"learned: repeats in {line.docs} documents ({line.share:.0%}) of {host}"
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


# --- learning --------------------------------------------------------------------------------------


@dataclass(slots=True)
class _Seen:
    """One occurrence of a candidate line in one document."""

    doc: int
    key: str
    masked: Masked
    embedded: bool  # between two long paragraphs
    #: Its words (6 letters or more, as stems), each with whether another prose line of the
    #: document uses it too.
    words: tuple[tuple[str, bool], ...]
    run: tuple[str, ...]  # the short lines right after it that look alike (see _doc_lines)
    #: The stems of its telling words (see _telling), each with whether another prose line of
    #: the document uses it too.
    telling: tuple[tuple[str, bool], ...] = ()


def _words(text: str) -> int:
    return text.count(" ") + 1 if text else 0


def _is_sentence(text: str, cfg: LearnConfig) -> bool:
    return _words(text) >= cfg.sentence_words and _SENTENCE_END.search(text) is not None


def _is_paragraph(text: str, cfg: LearnConfig) -> bool:
    return _words(text) >= cfg.paragraph_words and _SENTENCE_END.search(text) is not None


def _is_item(key: str, cfg: LearnConfig) -> bool:
    return (
        len(key) <= cfg.item_chars
        and _words(key) <= cfg.item_words
        and not key.endswith(":")
        and not (key.endswith(".") and not key.endswith(".."))
    )


def _stem(word: str) -> str:
    """A word's first five letters, lower case: a stem good enough to see that a title and its
    article speak of the same thing ("familia", "familiar")."""
    return word[:5].lower()


def _style(line: str) -> str:
    """The mark an item of a list starts with ("›", ">", "["), or "" for a letter or digit."""
    return "" if line[0].isalnum() else line[0]


def _doc_lines(
    text: str, cfg: LearnConfig, known: Callable[[str], bool] | None
) -> tuple[list[_Seen], set[str], frozenset[int], frozenset[int]]:
    """The candidate lines of one document (doc index 0: the caller sets it), the words of its
    prose lines, their skeletons (hashed), and those of its sentences of ``paragraph_words``.

    The *run* after a line is the short lines after it that start alike (all with the same
    mark, or all with a letter or digit); it stops at a line the packs already take (a block is
    learned from what is left). A line above the article's first two paragraphs has no run:
    what follows it holds the title."""
    keys = [typographic_view(line_key(raw)) for raw in text.splitlines()]
    keys = [k for k in keys if k]
    short = [len(k) <= cfg.max_chars and _words(k) <= cfg.max_words for k in keys]
    taken = [s and known is not None and known(k) for k, s in zip(keys, short, strict=True)]
    long = [_words(k) >= cfg.long_words for k in keys]
    prose = [_words(k) >= cfg.prose_words and not t for k, t in zip(keys, taken, strict=True)]
    vocabulary = Counter(_stem(w) for k, p in zip(keys, prose, strict=True) if p for w in _WORD.findall(k))
    # where the article starts (two prose lines in a row): above it a run would hold the title
    body = next((i for i in range(len(keys) - 1) if prose[i] and prose[i + 1]), len(keys))
    out = []
    for i, key in enumerate(keys):
        if not short[i] or taken[i]:
            continue
        embedded = 0 < i < len(keys) - 1 and long[i - 1] and long[i + 1]
        j = i + 1
        if i > body and j < len(keys):
            style = _style(keys[j])
            while (
                j < len(keys)
                and j - i <= cfg.max_items
                and not taken[j]
                and _is_item(keys[j], cfg)
                and _style(keys[j]) == style
            ):
                j += 1
        masked = mask(key)
        own = Counter(map(_stem, _WORD.findall(key))) if prose[i] else Counter()
        words = tuple((w, vocabulary[w] > own[w]) for w in map(_stem, _WORD.findall(key)))
        out.append(_Seen(0, key, masked, embedded, words, tuple(keys[i + 1 : j])))
    stories = frozenset(hash(mask(k).skeleton) for k, p in zip(keys, prose, strict=True) if p)
    sentences = frozenset(
        hash(mask(k).skeleton) for k, p in zip(keys, prose, strict=True) if p and _is_paragraph(k, cfg)
    )
    return out, set(vocabulary), stories, sentences


@dataclass
class _Site:
    """What the first pass keeps of one site."""

    seen: list[_Seen] = field(default_factory=list)
    prose: list[frozenset[int]] = field(default_factory=list)  # per document: its prose skeletons
    df: Counter[str] = field(default_factory=Counter)  # prose word stems: in how many documents
    pf: Counter[int] = field(default_factory=Counter)  # prose skeletons: in how many documents
    sentences: set[int] = field(default_factory=set)  # the prose skeletons of paragraph sentences
    vocab: list[frozenset[str]] = field(default_factory=list)  # per document: its prose word stems
    _telling: list[frozenset[str]] = field(default_factory=list)  # per document: its telling words
    _index: dict[str, list[int]] | None = None  # telling prose word stem -> the documents using it
    _partners: dict[int, frozenset[int]] = field(default_factory=dict)

    @property
    def n(self) -> int:
        return len(self.prose)

    def partners(self, doc: int, cfg: LearnConfig) -> frozenset[int]:
        """The other documents that tell the story of ``doc`` in other words: ``story_words`` of
        their telling prose words (used in at most ``generic_share`` of the site's documents)
        are the same (Jaccard). A story rewritten, shortened, or with other places and numbers."""
        if doc not in self._partners:
            if self._index is None:
                limit = max(cfg.generic_share * self.n, cfg.min_repeat + 1)
                self._telling = [frozenset(w for w in v if self.df[w] <= limit) for v in self.vocab]
                self._index = defaultdict(list)
                for d, words in enumerate(self._telling):
                    for w in words:
                        self._index[w].append(d)
            telling = self._telling
            mine = telling[doc]
            common = Counter(e for w in mine for e in self._index[w] if e != doc)
            self._partners[doc] = frozenset(
                e for e, k in common.items() if k >= cfg.story_words * len(mine | telling[e])
            )
        return self._partners[doc]

    def rewritten(self, docs: set[int], cfg: LearnConfig) -> bool:
        """Does a line in ``docs`` go with one story told in other words? A document is bound
        to the line when more of its rewrites (:meth:`partners`) have the line than chance
        gives (each with the line's share of the other documents: a binomial tail of at most
        ``story_p``); the line goes with one story when ``story_lift`` more documents are bound
        than chance gives, and two standard deviations more. A headline that is also a teaser
        on other pages is still the title of its own story."""
        bound, chance, spread = 0, 0.0, 0.0
        for d in docs:
            rewrites = self.partners(d, cfg)
            hits, others = len(rewrites & docs), self.n - len(rewrites) - 1
            share = (len(docs) - hits - 1) / others if others else 1.0
            rare = _rare(len(rewrites), share, cfg.story_p)
            if rare is not None:
                bound += hits >= rare[0]
                chance, spread = chance + rare[1], spread + rare[1] * (1 - rare[1])
        return bound - chance >= cfg.story_lift + 2 * math.sqrt(spread)

    def add(
        self, seen: list[_Seen], vocabulary: set[str], stories: frozenset[int], sentences: frozenset[int]
    ) -> None:
        for s in seen:
            s.doc = self.n
        self.seen += seen
        self.prose.append(stories)
        self.sentences |= sentences
        self.df.update(vocabulary)
        self.pf.update(stories)
        self.vocab.append(frozenset(vocabulary))

    def story_bound(self, seen: Sequence[_Seen], cfg: LearnConfig) -> bool:
        """Do the documents of ``seen`` tell one story? A title, a quote or a stock paragraph
        printed again with its story is text; a notice printed over different stories is not
        (and a notice on every page of the site is no story). They do

        * when the line goes with rewrites of one story (see :meth:`rewritten`), or
        * when most of them are reprints of each other: the lines of a reprint stand in
          ``story_share`` of these documents and seldom elsewhere on the site; a document is a
          reprint when two of its prose lines and ``story_overlap`` of them are, or two of its
          paragraph sentences (the line of ``seen`` itself not counted: a notice and one shared
          quote make no reprint)."""
        docs = {s.doc for s in seen}
        if self.rewritten(docs, cfg):
            return True
        need = max(2, math.ceil(cfg.story_share * len(docs) - 1e-9))
        together = Counter(p for doc in docs for p in self.prose[doc])
        own = {hash(s.masked.skeleton) for s in seen}
        shared = {p for p, k in together.items() if k >= need and self.pf[p] <= 1.5 * k} - own
        if len(shared) < 2:
            return False
        told = shared & self.sentences
        reprints = 0
        for doc in docs:
            prose = self.prose[doc]
            common = len(prose & shared)
            reprints += (common >= 2 and common >= cfg.story_overlap * len(prose)) or len(prose & told) >= 2
        return 2 * reprints >= len(docs)


def _rare(n: int, p: float, alpha: float) -> tuple[int, float] | None:
    """The fewest successes ``k`` of ``n`` draws (each ``p``) whose upper tail ``P(X >= k)`` is at
    most ``alpha``, with that tail; ``None`` when no ``k`` is that rare."""
    tail = 0.0
    for k in range(n, 0, -1):
        more = tail + math.comb(n, k) * p**k * (1 - p) ** (n - k)
        if more > alpha:
            return (k + 1, tail) if k < n else None
        tail = more
    return (1, tail) if n else None


def _telling(seen: Iterable[_Seen], df: Mapping[str, int], n: int, cfg: LearnConfig) -> None:
    """Keep each line's telling words: those the site's documents do not all use (in at most
    ``generic_share`` of them, or ``min_repeat``: not "because" or "should")."""
    limit = max(cfg.generic_share * n, cfg.min_repeat)
    for s in seen:
        s.telling = tuple((w, shared) for w, shared in s.words if df.get(w, 0) <= limit)


def _topical(seen: Sequence[_Seen], text: str, shaped: bool, cfg: LearnConfig) -> bool:
    """Is the line (or shape) ``text`` topical, as a title or a quote is: does the prose of its
    document use ``topical`` of its telling words, in more than ``max_topical`` of its
    occurrences? Only the words of the shape count, not the names or numbers it masks."""
    own = {_stem(w) for w in _WORD.findall(literal_text(text) if shaped else text)}
    hits = 0
    for s in seen:
        telling = [shared for w, shared in s.telling if w in own]
        hits += len(telling) > 1 and sum(telling) >= cfg.topical * len(telling)
    return hits > cfg.max_topical * len(seen)


@dataclass
class _Candidate:
    text: str
    shaped: bool
    seen: list[_Seen]
    strong: bool

    @property
    def docs(self) -> int:
        return len({s.doc for s in self.seen})

    @cached_property
    def pattern(self) -> re.Pattern[str]:
        return re.compile(shape_regex(self.text if self.shaped else escape(self.text)))

    @cached_property
    def skeleton(self) -> str:
        """The skeleton most of its lines have, case folded (where other sites' rules are looked up)."""
        return Counter(s.masked.skeleton.casefold() for s in self.seen).most_common(1)[0][0]


def _verdict(text: str, shaped: bool, seen: Sequence[_Seen], site: _Site, cfg: LearnConfig) -> str:
    """``strong`` (learned on its own), ``weak`` (learned if another site has it) or ``no``."""
    docs, n = len({s.doc for s in seen}), site.n
    if _topical(seen, text, shaped, cfg):
        return "no"
    if _is_sentence(text, cfg):
        if sum(s.embedded for s in seen) > cfg.max_embedded * len(seen):
            return "no"
        verdict = "strong" if docs >= max(cfg.min_repeat, math.ceil(cfg.sentence_share * n - 1e-9)) else "no"
    elif docs >= max(cfg.min_repeat, math.ceil(cfg.min_share * n - 1e-9)):
        verdict = "strong"
    else:
        verdict = "weak" if docs >= max(cfg.cross_repeat, math.ceil(cfg.cross_share * n - 1e-9)) else "no"
    return "no" if verdict != "no" and site.story_bound(seen, cfg) else verdict


def _valid_shape(shape: str, seen: Sequence[_Seen], cfg: LearnConfig) -> bool:
    """Does ``shape`` keep enough text of its own to be a template (see the module docstring)?"""
    letters = sum(c.isalpha() for c in literal_text(shape))
    holes = set(parse_shape(shape)[1])
    if letters < cfg.min_letters and not (holes <= {"DATE", "TIME"} and holes):
        return False
    if "NAME" in holes and letters < 2 * cfg.min_letters:
        names = [f for s in seen for f, k in zip(s.masked.fills, s.masked.kinds, strict=True) if k == "NAME"]
        if sum(" " in f for f in names) * 2 < len(names):
            return False
    return True


def _candidates(site: _Site, cfg: LearnConfig) -> list[_Candidate]:
    """The lines and shapes learned from the candidate lines of one site.

    Exact lines are counted ignoring case (the rule ignores it too); shapes per skeleton. A
    shape is made from all the lines of its skeleton or, when that one is too general (two
    different menu items make ``{NAME}``), from those no exact line took."""
    by_key: dict[str, list[_Seen]] = defaultdict(list)
    by_skeleton: dict[str, list[_Seen]] = defaultdict(list)
    for s in site.seen:
        by_key[s.key.casefold()].append(s)
        if s.masked.kinds:
            by_skeleton[s.masked.skeleton].append(s)
    exact = []
    for group in by_key.values():
        text = Counter(s.key for s in group).most_common(1)[0][0]
        verdict = _verdict(text, False, group, site, cfg)
        if verdict != "no":
            exact.append(_Candidate(text, False, group, verdict == "strong"))
    taken = {s.key.casefold() for c in exact if c.strong for s in c.seen}
    shapes = []
    for group in by_skeleton.values():
        for pool in (group, [s for s in group if s.key.casefold() not in taken]):
            if not pool:
                break
            shape = generalise([s.masked for s in pool])
            if not is_shaped(shape) or not _valid_shape(shape, pool, cfg):
                continue
            verdict = _verdict(shape, True, pool, site, cfg)
            if verdict != "no":
                shapes.append(_Candidate(shape, True, pool, verdict == "strong"))
                break
    # an exact line that a shape covers is left to the shape (one entry to review)
    exact = [
        c for c in exact if not any(sh.strong >= c.strong and sh.pattern.fullmatch(c.text) for sh in shapes)
    ]
    return exact + shapes


def _block(cand: _Candidate, cfg: LearnConfig, learned: Callable[[str], bool]) -> Block | None:
    """The block that ``cand`` heads, if it heads one (see the module docstring). A run stops at
    a line the site learned on its own (a cookie button over the title, the byline and the
    date is no header)."""
    if _is_sentence(cand.text, cfg) or not _is_item(cand.text, cfg):
        return None
    runs = []
    for s in cand.seen:
        cut = next((k for k, item in enumerate(s.run) if learned(item)), len(s.run))
        runs.append(s.run[:cut])
    if sum(len(r) >= 2 for r in runs) < max(2, cfg.block_share * len(runs)):
        return None
    items = [it for r in runs for it in r]
    if len(set(items)) * 2 < len(items):  # the same lines every time: lines of their own
        return None
    marks = {it[0] for it in items}
    marker = items[0][0] if len(marks) == 1 and not items[0][0].isalnum() else ""
    return Block(
        items=max(len(r) for r in runs),
        item_words=max(_words(it) for it in items),
        item_chars=max(len(it) for it in items),
        min_words=max(1, min(_words(it.removeprefix(marker).lstrip()) for it in items) - 1),
        marker=marker,
        examples=tuple(dict.fromkeys(items))[:3],
    )


def _site_lines(cands: Sequence[_Candidate], n: int, cfg: LearnConfig) -> list[SiteLine]:
    """The learned lines of one site, block headers with their blocks."""
    lines = [
        SiteLine(
            text=c.text,
            docs=c.docs,
            share=round(c.docs / n, 4),
            shaped=c.shaped,
            examples=tuple(dict.fromkeys(s.key for s in c.seen))[:3] if c.shaped else (),
        )
        for c in cands
    ]
    patterns = [re.compile(ln.regex) for ln in lines]

    def learned(line: str) -> bool:
        return any(p.fullmatch(line) for p in patterns)

    out = []
    for cand, line in zip(cands, lines, strict=True):
        block = _block(cand, cfg, learned)
        out.append(line if block is None else replace(line, block=block))
    return sorted(out, key=lambda ln: (-ln.docs, ln.text))


def learn_site_rules(
    docs: Iterable[tuple[str | None, str]],
    config: LearnConfig | None = None,
    known: Callable[[str], bool] | None = None,
) -> SiteRules:
    """Learn repeated lines and shapes per host from ``(host, text)`` pairs (hosts as from
    :func:`host_of`).

    ``known`` (e.g. :func:`covered_by` of the rule packs in force) leaves out lines that a pack
    rule already removes, so the saved file holds only what is new and worth a review.
    """
    cfg = config or LearnConfig()
    seen_docs: set[tuple[str, str]] = set()
    sites: dict[str, _Site] = defaultdict(_Site)
    for host, text in docs:
        if not host:
            continue
        digest = hashlib.sha1(text.encode("utf-8", "surrogatepass")).hexdigest()
        if (host, digest) in seen_docs:  # an exact duplicate would make every line look repeated
            continue
        seen_docs.add((host, digest))
        sites[host].add(*_doc_lines(text, cfg, known))
    found: dict[str, list[_Candidate]] = {}
    for host in sorted(sites):
        site = sites[host]
        if site.n >= cfg.min_docs:
            _telling(site.seen, site.df, site.n, cfg)
            found[host] = _candidates(site, cfg)
    strong: dict[str, list[tuple[str, re.Pattern[str]]]] = defaultdict(list)
    for host, cands in found.items():
        for c in cands:
            if c.strong:
                strong[c.skeleton].append((host, c.pattern))
    learned: dict[str, tuple[SiteLine, ...]] = {}
    for host, cands in found.items():
        kept = [c for c in cands if c.strong or _elsewhere(c, host, strong)]
        if kept:
            learned[host] = tuple(_site_lines(kept, sites[host].n, cfg))
    return SiteRules(lines=learned, n_docs={h: sites[h].n for h in learned}, config=cfg)


def _elsewhere(cand: _Candidate, host: str, strong: Mapping[str, list[tuple[str, re.Pattern[str]]]]) -> bool:
    """Does a rule learned on its own on another site take most of ``cand``'s lines?"""
    keys = [s.key for s in cand.seen]
    for other, pattern in strong.get(cand.skeleton, ()):
        if other != host and 2 * sum(pattern.fullmatch(k) is not None for k in keys) > len(keys):
            return True
    return False


# --- save / load -----------------------------------------------------------------------------------


def _line_data(host: str, ln: SiteLine) -> dict[str, Any]:
    entry: dict[str, Any] = {"id": site_rule_id(host, ln)}
    entry["shape" if ln.shaped else "text"] = ln.text
    entry |= {"docs": ln.docs, "share": ln.share}
    if ln.examples:
        entry["examples"] = list(ln.examples)
    if ln.block is not None:
        b = ln.block
        entry["block"] = {
            "items": b.items,
            "item_words": b.item_words,
            "item_chars": b.item_chars,
            "min_words": b.min_words,
            "marker": b.marker,
        }
        if b.examples:
            entry["block"]["examples"] = list(b.examples)
    return entry


def _to_data(rules: SiteRules) -> dict[str, Any]:
    return {
        "learn": asdict(rules.config),
        "sites": [
            {
                "host": host,
                "n_docs": rules.n_docs.get(host, 0),
                "lines": [_line_data(host, ln) for ln in lines],
            }
            for host, lines in rules.lines.items()
        ],
    }


_TOML_HEADER = (
    "# Lines learned by `cleanwire learn-sites`: each repeats across many documents of one site.\n"
    "# `text` is an exact line; `shape` a line with placeholders ({NUM}, {DATE}, {TIME}, {NAME}; {{ and }}\n"
    "# for braces) and the `examples` it was learned from; a `block` takes up to `items` short lines after it.\n"
    "# Review before use: delete an entry to keep that line. Use with `cleanwire run --site-rules FILE`.\n"
)


def to_toml(rules: SiteRules) -> str:
    """``rules`` as a TOML document (written by tomli-w, so any text round-trips)."""
    return _TOML_HEADER + tomli_w.dumps(_to_data(rules))


def save_site_rules(rules: SiteRules, path: str | Path) -> Path:
    """Write ``rules`` as TOML (``.toml``) or JSON (any other extension)."""
    target = Path(path)
    if target.suffix.lower() == ".toml":
        text = to_toml(rules)
    else:
        text = json.dumps(_to_data(rules), indent=2, ensure_ascii=False) + "\n"
    target.write_text(text, encoding="utf-8")
    return target


def _line_from(entry: Mapping[str, Any]) -> SiteLine | None:
    shaped = "shape" in entry
    text = str(entry["shape"] if shaped else entry["text"])
    if not text.strip():
        return None
    if shaped and not is_shaped(text):  # a shape left without placeholders is an exact line
        text, shaped = literal_text(text), False
    block = None
    if "block" in entry:
        b = entry["block"]
        block = Block(
            items=int(b["items"]),
            item_words=int(b["item_words"]),
            item_chars=int(b["item_chars"]),
            min_words=int(b.get("min_words", 1)),
            marker=str(b.get("marker", "")),
            examples=tuple(str(x) for x in b.get("examples", ())),
        )
        if min(block.items, block.item_words, block.item_chars, block.min_words) < 1:
            raise ValueError(f"block of {text!r}: items, item_words, item_chars, min_words must be >= 1")
        if block.min_words > block.item_words:
            raise ValueError(f"block of {text!r}: min_words > item_words")
    line = SiteLine(
        text=text,
        docs=int(entry.get("docs", 0)),
        share=float(entry.get("share", 0.0)),
        shaped=shaped,
        examples=tuple(str(x) for x in entry.get("examples", ())),
        block=block,
    )
    re.compile(line.regex)
    return line


def _from_data(data: dict[str, Any], origin: str) -> SiteRules:
    try:
        cfg = LearnConfig(**data.get("learn", {}))
        lines: dict[str, tuple[SiteLine, ...]] = {}
        n_docs: dict[str, int] = {}
        for site in data.get("sites", []):
            host = str(site["host"])
            lines[host] = tuple(ln for ln in map(_line_from, site.get("lines", [])) if ln is not None)
            n_docs[host] = int(site.get("n_docs", 0))
    except (KeyError, TypeError, ValueError, AttributeError, re.error) as exc:
        raise RuleError(f"site rules file {origin} is malformed: {exc!r}") from exc
    return SiteRules(lines=lines, n_docs=n_docs, config=cfg)


def load_site_rules(path: str | Path) -> SiteRules:
    """Read a file written by :func:`save_site_rules` (possibly edited by a reviewer)."""
    origin = str(path)
    try:
        text = Path(path).read_text(encoding="utf-8")
    except FileNotFoundError as exc:
        raise RuleError(f"site rules file not found: {origin}") from exc
    except UnicodeDecodeError as exc:
        raise RuleError(f"site rules file {origin} is not UTF-8: {exc}") from exc
    try:
        data = json.loads(text) if Path(path).suffix.lower() == ".json" else tomllib.loads(text)
    except (tomllib.TOMLDecodeError, json.JSONDecodeError) as exc:
        raise RuleError(f"site rules file {origin} cannot be parsed: {exc}") from exc
    if not isinstance(data, dict):
        raise RuleError(f"site rules file {origin} must hold a table/object")
    return _from_data(data, origin)
