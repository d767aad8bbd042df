"""Per-site learning: lines that repeat across the documents of one site are boilerplate there.

A first pass over a dump feeds ``(host, text)`` pairs to :func:`learn_site_rules`, a pure
function. A line is cut where a scrape glued a sentence onto the one before it
(:func:`~stages.boilerplate.units.glued_pieces`: "... on Monday.By registering you accept ..."),
and the learned rule takes such a piece out of the line it is glued into. Lines are compared
as the rule engine reads them (NFC, spaces folded, list marker dropped, the typographic view of :mod:`stages.boilerplate.normalise`), and also by *shape*
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
  two or more, and ``topical``, of its telling words, as a title or a quote does: a masthead that
  shares its town's name with the stories is no title) and not bound to one story: not
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

A line or shape that is neither topical nor bound to one story but misses the share tests (a
sign-up confirmation under a quarter of a site's articles, a sentence printed between two
paragraphs) is learned *soft* when it is in ``min_repeat`` documents and ``soft_share`` of them:
it removes nothing by itself, but where it stands the model's threshold is
``boilerplate.site_soft_threshold`` (the boilerplate stage, :mod:`stages.boilerplate.learned`). A
stock sentence that several articles share stays: the model scores it as prose.

The result, :class:`~stages.boilerplate.siterules.SiteRules` (the rules the boilerplate stage
runs, :mod:`stages.boilerplate.siterules`), is saved as TOML or JSON for review and reuse by
:mod:`stages.boilerplate.sitefile`. The documents' prose and the test of whether a line is bound
to one story live in :mod:`stages.boilerplate.sitestory`.
"""

from __future__ import annotations

import hashlib
import math
import re
from collections import Counter, defaultdict
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, replace
from functools import cached_property

from stages.boilerplate.normalise import typographic_view
from stages.boilerplate.shapes import (
    MAX_NAME_RUN,
    generalise,
    is_shaped,
    literal_text,
    mask,
    name_run,
    parse_shape,
    shape_regex,
)
from stages.boilerplate.siterules import (
    Block,
    LearnConfig,
    SiteLine,
    SiteRules,
    exact_regex,
    line_key,
    unmarked,
)
from stages.boilerplate.sitestory import Seen, Site
from stages.boilerplate.units import glued_pieces

_WORD = re.compile(r"[^\W\d_]{6,}")
_SENTENCE_END = re.compile(r"(?<!\.\.)[.!?…][\"')\]»]*$")


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
) -> tuple[list[Seen], set[str], frozenset[int], frozenset[int]]:
    """The candidate lines of one document (doc index 0: the caller sets it), the words of its
    prose lines, their skeletons (hashed), and those of its sentences of ``paragraph_words``.

    The *run* after a line is the short lines after it that start alike (all with the same
    mark, or all with a letter or digit); it stops at a line the packs already take (a block is
    learned from what is left). A line above the article's first two paragraphs has no run:
    what follows it holds the title."""
    keys = [typographic_view(line_key(raw[a:b])) for raw in text.splitlines() for a, b in glued_pieces(raw)]
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
        out.append(Seen(0, key, masked, embedded, words, tuple(keys[i + 1 : j])))
    stories = frozenset(hash(mask(k).skeleton) for k, p in zip(keys, prose, strict=True) if p)
    sentences = frozenset(
        hash(mask(k).skeleton) for k, p in zip(keys, prose, strict=True) if p and _is_paragraph(k, cfg)
    )
    return out, set(vocabulary), stories, sentences


def _telling(seen: Iterable[Seen], df: Mapping[str, int], n: int, cfg: LearnConfig) -> None:
    """Keep each line's telling words: those the site's documents do not all use (in at most
    ``generic_share`` of them, or ``min_repeat``: not "because" or "should")."""
    limit = max(cfg.generic_share * n, cfg.min_repeat)
    for s in seen:
        s.telling = tuple((w, shared) for w, shared in s.words if df.get(w, 0) <= limit)


def _topical(seen: Sequence[Seen], text: str, shaped: bool, cfg: LearnConfig) -> bool:
    """Is the line (or shape) ``text`` topical, as a title or a quote is: does the prose of its
    document use two or more, and ``topical``, of its telling words, in more than ``max_topical``
    of its occurrences? Only the words of the shape count, not the names or numbers it masks."""
    own = {_stem(w) for w in _WORD.findall(literal_text(text) if shaped else text)}
    hits = 0
    for s in seen:
        telling = list({w: shared for w, shared in s.telling if w in own}.values())  # each word once
        hits += len(telling) > 1 and sum(telling) >= max(2, cfg.topical * len(telling))
    return hits > cfg.max_topical * len(seen)


@dataclass
class _Candidate:
    text: str
    shaped: bool
    seen: list[Seen]
    #: :func:`_verdict`'s: ``strong``, ``weak`` or ``no``
    verdict: str
    #: learned soft when not learned as a rule (:func:`_verdict`)
    soft: bool = False

    @property
    def strong(self) -> bool:
        return self.verdict == "strong"

    @property
    def rank(self) -> int:
        return ("no", "weak", "strong").index(self.verdict)

    @property
    def docs(self) -> int:
        return len({s.doc for s in self.seen})

    @cached_property
    def pattern(self) -> re.Pattern[str]:
        return re.compile(shape_regex(self.text) if self.shaped else exact_regex(self.text))

    @cached_property
    def skeleton(self) -> str:
        """The skeleton most of its lines have, case folded and without end marks (where other
        sites' rules are looked up)."""
        return Counter(unmarked(s.masked.skeleton.casefold()) for s in self.seen).most_common(1)[0][0]


def _at_least(docs: int, share: float, n: int, floor: int) -> bool:
    return share > 0 and docs >= max(floor, math.ceil(share * n - 1e-9))


def _verdict(text: str, shaped: bool, seen: Sequence[Seen], site: Site, cfg: LearnConfig) -> tuple[str, bool]:
    """``strong`` (learned on its own), ``weak`` (learned if another site has it) or ``no``, and
    whether it may be learned soft when it is not learned so (``soft_share``; a sentence between
    two long paragraphs too: the model judges it where it stands)."""
    docs, n = len({s.doc for s in seen}), site.n
    if _topical(seen, text, shaped, cfg):
        return "no", False
    soft = _at_least(docs, cfg.soft_share, n, cfg.min_repeat)
    if _is_sentence(text, cfg):
        embedded = sum(s.embedded for s in seen) > cfg.max_embedded * len(seen)
        verdict = (
            "strong" if not embedded and _at_least(docs, cfg.sentence_share, n, cfg.min_repeat) else "no"
        )
    elif _at_least(docs, cfg.min_share, n, cfg.min_repeat):
        verdict = "strong"
    else:
        verdict = "weak" if _at_least(docs, cfg.cross_share, n, cfg.cross_repeat) else "no"
    if (verdict != "no" or soft) and site.story_bound(seen, cfg):
        return "no", False
    return verdict, soft


def _valid_shape(shape: str, seen: Sequence[Seen], cfg: LearnConfig) -> bool:
    """Does ``shape`` keep enough text of its own to be a template (see the module docstring)?"""
    if name_run(shape) > MAX_NAME_RUN:  # a line of capitalised words: no template, and slow to match
        return False
    letters = sum(c.isalpha() for c in literal_text(shape))
    holes = set(parse_shape(shape)[1])
    if letters < cfg.min_letters and not (holes <= {"DATE", "TIME"} and holes):
        return False
    if "NAME" in holes and letters < 2 * cfg.min_letters:
        names = [f for s in seen for f, k in zip(s.masked.fills, s.masked.kinds, strict=True) if k == "NAME"]
        if sum(" " in f for f in names) * 2 < len(names):
            return False
    return True


def _candidates(site: Site, cfg: LearnConfig) -> list[_Candidate]:
    """The lines and shapes learned from the candidate lines of one site.

    Exact lines are counted ignoring case and the label marks they end in (the rule ignores
    both: :func:`~stages.boilerplate.siterules.unmarked`); shapes per skeleton. A
    shape is made from all the lines of its skeleton or, when that one is too general (two
    different menu items make ``{NAME}``), from those no exact line took."""
    by_key: dict[str, list[Seen]] = defaultdict(list)
    by_skeleton: dict[str, list[Seen]] = defaultdict(list)
    for s in site.seen:
        by_key[unmarked(s.key).casefold()].append(s)
        if s.masked.kinds:
            by_skeleton[s.masked.skeleton].append(s)
    exact = []
    for group in by_key.values():
        text = Counter(s.key for s in group).most_common(1)[0][0]
        verdict, soft = _verdict(text, False, group, site, cfg)
        if verdict != "no" or soft:
            exact.append(_Candidate(text, False, group, verdict, soft))
    taken = {s.key.casefold() for c in exact if c.strong for s in c.seen}
    shapes = []
    for group in by_skeleton.values():
        for pool in (group, [s for s in group if s.key.casefold() not in taken]):
            if not pool:
                break
            shape = generalise([s.masked for s in pool])
            if not is_shaped(shape) or not _valid_shape(shape, pool, cfg):
                continue
            verdict, soft = _verdict(shape, True, pool, site, cfg)
            if verdict != "no" or soft:
                shapes.append(_Candidate(shape, True, pool, verdict, soft))
                break
    # an exact line that a shape covers is left to the shape (one entry to review)
    exact = [c for c in exact if not any(sh.rank >= c.rank and sh.pattern.fullmatch(c.text) for sh in shapes)]
    return exact + shapes


def _block(cand: _Candidate, cfg: LearnConfig, learned: Callable[[str], bool]) -> Block | None:
    """The block that ``cand`` heads, if it heads one (see the module docstring). A run stops at
    a line the site learned on its own (a cookie button over the title, the byline and the
    date is no header)."""
    if _is_sentence(cand.text, cfg) or not _is_item(cand.text if cand.shaped else unmarked(cand.text), cfg):
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


def _line(c: _Candidate, n: int, soft: bool = False) -> SiteLine:
    examples = tuple(dict.fromkeys(s.key for s in c.seen))[:3] if c.shaped else ()
    return SiteLine(
        text=c.text, docs=c.docs, share=round(c.docs / n, 4), shaped=c.shaped, examples=examples, soft=soft
    )


def _site_lines(
    cands: Sequence[_Candidate], soft: Sequence[_Candidate], n: int, cfg: LearnConfig
) -> list[SiteLine]:
    """The learned lines of one site, block headers with their blocks, and its ``soft`` lines."""
    lines = [_line(c, n) for c in cands]
    patterns = [re.compile(ln.regex) for ln in lines]

    def learned(line: str) -> bool:
        return any(p.fullmatch(line) for p in patterns)

    out = [_line(c, n, soft=True) for c in soft]
    for cand, line in zip(cands, lines, strict=True):
        block = _block(cand, cfg, learned)
        out.append(line if block is None else replace(line, block=block))
    return sorted(out, key=lambda ln: (ln.soft, -ln.docs, ln.text))


def learn_site_rules(
    docs: Iterable[tuple[str | None, str]],
    config: LearnConfig | None = None,
    known: Callable[[str], bool] | None = None,
) -> SiteRules:
    """Learn repeated lines and shapes per host from ``(host, text)`` pairs (hosts as from
    :func:`~stages.boilerplate.siterules.host_of`).

    ``known`` (e.g. :func:`~stages.boilerplate.siterules.covered_by` of the rule packs in force)
    leaves out lines that a pack rule already removes, so the saved file holds only what is new
    and worth a review.
    """
    cfg = config or LearnConfig()
    seen_docs: set[tuple[str, str]] = set()
    sites: dict[str, Site] = defaultdict(Site)
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
        kept = [c for c in cands if c.strong or (c.verdict == "weak" and _elsewhere(c, host, strong))]
        ruled = {id(c) for c in kept}
        soft = [c for c in cands if c.soft and id(c) not in ruled]
        if kept or soft:
            learned[host] = tuple(_site_lines(kept, soft, sites[host].n, cfg))
    return SiteRules(lines=learned, n_docs={h: sites[h].n for h in learned}, config=cfg)


def _elsewhere(cand: _Candidate, host: str, strong: Mapping[str, list[tuple[str, re.Pattern[str]]]]) -> bool:
    """Does a rule learned on its own on another site take most of ``cand``'s lines?"""
    keys = [s.key for s in cand.seen]
    for other, pattern in strong.get(cand.skeleton, ()):
        if other != host and 2 * sum(pattern.fullmatch(k) is not None for k in keys) > len(keys):
            return True
    return False
