"""What the first pass of site learning keeps of a site, and whether a line is bound to one story.

:class:`Seen` is one occurrence of a candidate line; :class:`Site` holds a site's occurrences and
the prose of its documents (word stems, line skeletons), and answers whether the documents a line
stands in tell one story (:meth:`Site.story_bound`): reprints of one story, or rewrites of it in
other words more often than chance gives. A title or a quote printed again with its story is
text; a notice printed over different stories is boilerplate (:mod:`stages.boilerplate.sitelearn`).
"""

from __future__ import annotations

import math
from collections import Counter, defaultdict
from collections.abc import Sequence
from dataclasses import dataclass, field

from stages.boilerplate.shapes import Masked
from stages.boilerplate.siterules import LearnConfig


@dataclass(slots=True)
class Seen:
    """One occurrence of a candidate line in one document."""

    doc: int
    key: str
    masked: Masked
    embedded: bool  # between two long paragraphs
    #: Its words (6 letters or more, as stems), each with whether another prose line of the
    #: document uses it too.
    words: tuple[tuple[str, bool], ...]
    run: tuple[str, ...]  # the short lines right after it that look alike (see sitelearn._doc_lines)
    #: The stems of its telling words (see sitelearn._telling), each with whether another prose line of
    #: the document uses it too.
    telling: tuple[tuple[str, bool], ...] = ()


@dataclass
class Site:
    """What the first pass keeps of one site."""

    seen: list[Seen] = field(default_factory=list)
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
        self, seen: list[Seen], vocabulary: set[str], stories: frozenset[int], sentences: frozenset[int]
    ) -> None:
        for s in seen:
            s.doc = self.n
        self.seen += seen
        self.prose.append(stories)
        self.sentences |= sentences
        self.df.update(vocabulary)
        self.pf.update(stories)
        self.vocab.append(frozenset(vocabulary))

    def story_bound(self, seen: Sequence[Seen], cfg: LearnConfig) -> bool:
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
