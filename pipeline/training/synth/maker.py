"""Turn (site, story, rng) into a document Plan with labelled boilerplate Items: the story's
blocks (:class:`DocMaker`), the variants of an item's wording and where it is glued on; the
items of each category are :mod:`.categories`."""

from __future__ import annotations

import random
import re
from collections.abc import Callable
from datetime import datetime, timedelta
from typing import Any

from . import textops as T
from .categories import CategoryMakers, build_lines
from .compose import Block, Filler, Item, Plan
from .data import CATEGORIES, LangData
from .sites import HTML_MIN, Site
from .storyops import NumberVariator, drop_sentence

CTA_CATS = {
    "newsletter_cta",
    "paywall_notice",
    "source_link",
    "share_prompt",
    "comments_prompt",
    "promo_block",
    "related_links",
    "ad_marker",
    "author_bio_line",
}
GLUE_CATS = {
    "signup_notice": None,
    "ad_marker": 0.03,
    "newsletter_cta": 0.03,
    "share_prompt": 0.03,
    "source_link": 0.04,
    "paywall_notice": 0.03,
    "promo_block": 0.02,
}
REGION_ORDER = {"pre": 0, "head": 1, "body": 2, "post": 3, "aside": 4, "footer": 5}


class Options:
    def __init__(self, **kw: Any) -> None:
        self.html_share = 0.25
        self.mojibake_p = 0.13
        self.short_p = 0.07
        self.no_boiler_p = 0.06
        self.hard_negative_p = 0.14
        self.dev_share = 0.0
        self.extra_cat_p = 0.2
        self.noise_p = 0.10
        self.__dict__.update(kw)


class DocMaker(CategoryMakers):
    """Documents of the given sites: ``make(rng, site)`` is one document's plan."""

    def __init__(
        self,
        langs: dict[str, LangData],
        sites_by_lang: dict[str, list[Site]],
        opts: Options,
        dev_stories: dict[str, Any] | None = None,
    ) -> None:
        self.langs, self.sites_by_lang, self.opts = langs, sites_by_lang, opts
        self.dev_stories = dev_stories or {}
        self.decks: dict[tuple[str, bool, int], list[int]] = {}
        hp = [s.html_p for v in sites_by_lang.values() for s in v]
        self.html_scale = opts.html_share / (sum(hp) / len(hp)) if hp else 1.0

    # -------------------------------------------------------------- helpers
    def next_story(self, site: Site, n: int, dev: bool) -> int:
        """Deal stories per site from a shuffled deck, so that a site repeats an article as rarely as possible."""
        key = (site.host, dev, n)
        deck = self.decks.get(key)
        if not deck:
            deck = list(range(n))
            random.Random(f"{site.host}|{len(self.decks)}|{dev}").shuffle(deck)
            self.decks[key] = deck
        return deck.pop()

    # -------------------------------------------------------------- main
    def make(self, rng: random.Random, site: Site) -> Plan:
        """One document of ``site``: its story's blocks and its labelled boilerplate items."""
        L = self.L = self.langs[site.lang]
        fmt = "html" if rng.random() < min(0.95, site.html_p * self.html_scale) else "text"
        notes: list[str] = []
        dt, ctx = self._doc_context(rng, site)
        F = Filler(rng, L, site, ctx, self.sites_by_lang)
        self.F, self.ctx, self.dt = F, ctx, dt
        story, dev = self._pick_story(rng, site)
        sF = self._story_filler(rng, site, F)
        cont = self._content_filter(rng, site, sF, dev)
        title = story.get("title")
        title = cont(title) if title else None
        blocks = self._story_body(rng, story, dev, cont)
        blocks, short = self._cut(rng, blocks, notes)
        if not short and L.hard_negatives and rng.random() < self.opts.hard_negative_p:
            self._hard_negative(rng, blocks, cont, notes)
        if title and fmt == "text" and rng.random() > site.title_p:
            title = None
        if title is None and fmt == "html":
            title = cont(rng.choice(L.stories)["title"]) if not blocks else None
        ctx["_headlines"] = self._headlines(rng, site, story, sF, title)
        items, blocks = self._select_items(rng, site, fmt, blocks, short, notes)
        items = self._place_items(rng, site, fmt, items, blocks)
        return Plan(
            site=site,
            lang=site.lang,
            fmt=fmt,
            title=title,
            blocks=blocks,
            items=items,
            notes=notes,
            dt=dt,
            story_key=story.get("_src") or (story.get("title") or "")[:40],
            dev_text=dev,
        )

    def _doc_context(self, rng: random.Random, site: Site) -> tuple[datetime, dict[str, Any]]:
        """The document's date and the slots its boilerplate fills (outlet, author, year ...)."""
        lex = self.L.lex
        dt = datetime(2019, 1, 1) + timedelta(minutes=rng.randint(0, int(6.5 * 365 * 24 * 60)))
        author = rng.choice(site.staff)
        ctx = {
            "outlet": site.name,
            "host": site.host,
            "author": author,
            "role": site.roles[author],
            "author2": rng.choice([p for p in site.staff if p != author] or [author]),
            "doc_year": str(dt.year if rng.random() < 0.7 else min(2025, dt.year + 1)),
            "newsletter": site.fixed["newsletter_name"]
            if rng.random() < 0.7
            else rng.choice(lex["newsletters"]),
        }
        return dt, ctx

    def _pick_story(self, rng: random.Random, site: Site) -> tuple[dict[str, Any], bool]:
        """The next story of the site's deck, and whether it is a dev story (kept verbatim)."""
        o = self.opts
        dev = False
        pool = self.L.stories
        if o.dev_share and self.dev_stories.get(site.lang) and rng.random() < o.dev_share:
            pool, dev = self.dev_stories[site.lang], True
        return pool[self.next_story(site, len(pool), dev)], dev

    def _story_filler(self, rng: random.Random, site: Site, F: Filler) -> Filler:
        """The filler of the story's own slots: its towns and people."""
        lex = self.L.lex
        sctx = {
            "town": rng.choice(lex["towns"]),
            "name1": F.person(),
            "name2": F.person(),
            "name3": F.person(),
        }
        sctx["town2"] = rng.choice([t for t in lex["towns"] if t != sctx["town"]])
        return Filler(rng, self.L, site, sctx, self.sites_by_lang)

    def _content_filter(self, rng: random.Random, site: Site, sF: Filler, dev: bool) -> Callable[[str], str]:
        """What every content string of the story goes through: slots filled, numbers varied,
        weekdays rotated, quotes curled as the site writes them (a dev story stays as it is)."""
        numbers = NumberVariator(rng)
        days = self.L.lex["weekdays"]
        shift = rng.randint(1, 6)  # rotate weekdays so that "between Tuesday and Wednesday" stays consecutive
        day_map = {d: days[(i + shift) % 7] for i, d in enumerate(days)} if rng.random() < 0.6 else {}
        day_re = re.compile("|".join(map(re.escape, sorted(days, key=len, reverse=True))))

        def cont(s: str) -> str:
            if dev:
                return s
            s = numbers.apply(sF.fill(s))
            if day_map:
                s = day_re.sub(lambda m: day_map[m.group(0)], s)
            return T.curl(s, site.quote_pair) if site.curly else s

        return cont

    def _story_body(
        self, rng: random.Random, story: dict[str, Any], dev: bool, cont: Callable[[str], str]
    ) -> list[Block]:
        """The story's blocks, now and then with one or two context paragraphs of the language."""
        L = self.L
        paras = story["paras"] if dev else [drop_sentence(p, rng) for p in story["paras"]]
        blocks = self.story_blocks(paras, cont)
        if not dev and L.context and len(blocks) > 1 and rng.random() < 0.65:
            for ctx_p in rng.sample(L.context, min(len(L.context), rng.choice([1, 1, 2]))):
                pos = rng.randint(1, len(blocks))
                if blocks[pos - 1].kind in ("p", "quote") and (
                    pos == len(blocks) or blocks[pos].kind != "li"
                ):
                    blocks.insert(pos, Block("p", cont(ctx_p)))
        return blocks

    def _cut(self, rng: random.Random, blocks: list[Block], notes: list[str]) -> tuple[list[Block], bool]:
        """A short document (one or two sentences of the first paragraph), or the story's first
        half or more; and whether it is short."""
        short = rng.random() < self.opts.short_p
        if short:
            first = next(b for b in blocks if b.kind == "p")
            sents = T.sentences(first.text)
            blocks = [Block("p", " ".join(sents[: rng.choice([1, 2])]))]
            notes.append("short")
        else:
            n = len(blocks)
            keep = rng.randint(min(n, max(2, n // 2 + 1)), n)
            blocks = blocks[:keep]
            while blocks and blocks[-1].kind == "h2":
                blocks.pop()
        return blocks, short

    def _hard_negative(
        self, rng: random.Random, blocks: list[Block], cont: Callable[[str], str], notes: list[str]
    ) -> None:
        """Insert into ``blocks`` a content paragraph that looks like boilerplate (but is not)."""
        hn = rng.choice(self.L.hard_negatives)
        hb = self.story_blocks([hn["text"]], cont)
        for b in hb:
            b.hn = hn["what"]
        pos = rng.randint(1, len(blocks))
        blocks[pos:pos] = hb
        notes.append("hard_negative: " + hn["what"])

    def _headlines(
        self, rng: random.Random, site: Site, story: dict[str, Any], sF: Filler, title: str | None
    ) -> list[str]:
        """Headlines for the promos and related lists: not the document's own title."""
        L = self.L
        others = [s["title"] for s in L.stories if s.get("title") != story.get("title")]
        heads = [sF.fill(h) for h in rng.sample(L.headlines, min(14, len(L.headlines)))]
        heads += [sF.fill(h) for h in rng.sample(others, min(4, len(others)))]
        heads = [T.curl(h, site.quote_pair) if site.curly else h for h in heads]
        norm_title = T.straighten(title or "").lower()
        heads = [h for h in heads if T.straighten(h).lower() != norm_title]
        rng.shuffle(heads)
        return list(dict.fromkeys(heads))

    def _select_items(
        self, rng: random.Random, site: Site, fmt: str, blocks: list[Block], short: bool, notes: list[str]
    ) -> tuple[list[Item], list[Block]]:
        """The document's boilerplate items (none now and then), and its blocks (a paywall may
        cut the story short)."""
        items: list[Item] = []
        if rng.random() < self.opts.no_boiler_p:
            notes.append("no_boilerplate")
            return items, blocks
        cats = self._categories(rng, site, fmt, short)
        nb = len(blocks)
        truncated = False
        if "paywall_notice" in cats and nb > 2 and rng.random() < 0.6:
            blocks = blocks[: rng.randint(1, min(3, nb - 1))]
            while len(blocks) > 1 and blocks[-1].kind == "h2":
                blocks.pop()
            truncated = True
        for c in cats:
            items += getattr(self, "mk_" + c)(rng, site, fmt, blocks)
        if truncated:
            for it in items:
                if it.region == "body" and it.cat != "paywall_notice":
                    it.after = min(it.after, len(blocks) - 2) if len(blocks) > 1 else -1
        return items, blocks

    def _categories(self, rng: random.Random, site: Site, fmt: str, short: bool) -> list[str]:
        """The boilerplate categories of a document, drawn with the site's probabilities."""
        probs = dict(site.probs)
        if fmt == "html":
            for c, p in HTML_MIN.items():
                probs[c] = max(probs[c], p)
        if short:
            probs = {c: p * 0.6 for c, p in probs.items()}
        cats = [c for c in CATEGORIES if rng.random() < probs[c]]
        if rng.random() < self.opts.extra_cat_p:
            rest = [c for c in CATEGORIES if c not in cats]
            if rest:
                cats.append(rng.choice(rest))
        if not cats:
            cats = [rng.choice(CATEGORIES)]
        return cats

    def _place_items(
        self, rng: random.Random, site: Site, fmt: str, items: list[Item], blocks: list[Block]
    ) -> list[Item]:
        """The items at safe places, in their variants and lines, some glued onto paragraphs, in
        page order; an item left with a line of no letter or digit is left out."""
        for it in items:
            if it.region == "body":
                it.after = self.safe_pos(blocks, it.after)
            self.variants(rng, site, it)
            it.lines = build_lines(it, fmt)
        items = [it for it in items if all(any(ch.isalnum() for ch in ln) for ln in it.lines)]
        self.glue(rng, site, fmt, items, blocks)
        glue_rank = {"end": 0, None: 1, "start": 2}
        items.sort(
            key=lambda it: (
                REGION_ORDER[it.region],
                it.after if it.region == "body" else 0,
                glue_rank[it.glue],
                it.data.get("order", 5),
            )
        )
        return items

    def story_blocks(self, paras: list[Any], cont: Callable[[str], str]) -> list[Block]:
        out: list[Block] = []
        for p in paras:
            if isinstance(p, list):
                out += [Block("li", cont(x)) for x in p]
            elif p.startswith("## "):
                out.append(Block("h2", cont(p[3:])))
            elif p.startswith("> "):
                out.append(Block("quote", cont(p[2:])))
            else:
                out.append(Block("p", cont(p)))
        return out

    @staticmethod
    def safe_pos(blocks: list[Block], after: int) -> int:
        """Do not insert boilerplate inside a list or between a sub-heading and its paragraph."""
        n = len(blocks)
        while 0 <= after < n - 1 and (
            blocks[after].kind == "h2"
            or blocks[after + 1].kind == "li"
            or (blocks[after].kind == "p" and blocks[after].text.endswith(":"))
        ):
            after += 1
        return min(after, n - 1)

    # -------------------------------------------------------------- variants
    def variants(self, rng: random.Random, site: Site, it: Item) -> None:
        ops: list[Callable[[str], str]] = []
        if site.curly:
            ops.append(lambda s: T.curl(s, site.quote_pair))
        if rng.random() < 0.08:
            ops.append(T.straighten if site.curly else (lambda s: T.curl(s, site.quote_pair)))
        if rng.random() < 0.05 and not it.data.get("caps_done"):
            ops.append(T.upper)
        if rng.random() < 0.25:
            ops.append(lambda s: T.dash_variant(s, rng))
        if rng.random() < 0.3:
            ops.append(lambda s: T.ellipsis_variant(s, rng))
        dbl = rng.random() < 0.04
        for key, val in list(it.data.items()):
            if key.startswith("_") or key in (
                "order",
                "inline",
                "newline",
                "title_first",
                "caps_done",
                "sep",
                "author",
                "bullet",
                "hrefs",
            ):
                continue
            if isinstance(val, str):
                for op in ops:
                    val = op(val)
                it.data[key] = val
            elif isinstance(val, list) and all(isinstance(x, str) for x in val):
                new = []
                for x in val:
                    for op in ops:
                        x = op(x)
                    new.append(x)
                it.data[key] = new
        if dbl and isinstance(it.data.get("text"), str):
            it.data["text"] = T.double_space(it.data["text"], rng)
        if it.kind == "line" and it.cat in CTA_CATS:
            r = rng.random()
            if r < 0.05:
                it.data["text"] = rng.choice(T.BULLETS) + it.data["text"]
            elif r < 0.10:
                it.data["text"] = it.data["text"] + rng.choice(T.ARROW_SUFFIX)

    def glue(self, rng: random.Random, site: Site, fmt: str, items: list[Item], blocks: list[Block]) -> None:
        for it in items:
            if it.kind != "line" or it.region != "body" or it.cat not in GLUE_CATS:
                continue
            p = GLUE_CATS[it.cat]
            p = site.style["plain_signup_glue"] if p is None else p
            if fmt == "html":
                p *= 0.3
            if rng.random() >= p:
                continue
            prev_ok = 0 <= it.after < len(blocks) and blocks[it.after].kind == "p"
            next_ok = it.after + 1 < len(blocks) and blocks[it.after + 1].kind == "p"
            # gluing in front of a paragraph only when the item ends in punctuation: otherwise two words
            # would merge into one token and the item could not be told apart from the paragraph
            next_ok = next_ok and not it.lines[0][-1:].isalnum()
            side = rng.choice(["end", "end", "end", "start"])
            if side == "end" and prev_ok:
                it.glue = "end"
            elif next_ok:
                it.glue = "start"
            elif prev_ok:
                it.glue = "end"
        # at most one glued item per gap side
        seen = set()
        for it in items:
            if it.glue:
                key = (it.after, it.glue)
                if key in seen:
                    it.glue = None
                seen.add(key)
