"""A document plan as a small full HTML page: ``<head>`` with its metadata, the header with the
site's navigation and the banners before it, the article (head items, title, the byline and
date, the body's paragraphs, lists, subheads and quotes with the boilerplate placed among and
glued onto them) and the asides and footer after it. The items' own markup is
:mod:`.html_items`; a paragraph's inline links and emphasis are :func:`inline`. Every draw from
the document's generator is part of the corpus, so the order of the calls here is its bytes.
"""

from __future__ import annotations

import random
from collections.abc import Callable

from . import textops as T
from .compose import Block, Item, Plan, slugify
from .html_items import HtmlItems
from .render import Noise


def inline(text: str, rng: random.Random, esc: Callable[[str], str], nbsp: bool, wrap: bool) -> str:
    """``text`` escaped with a few words made links, bold or italic, words joined by spaces (now
    and then a line break when ``wrap``, a ``&nbsp;`` when ``nbsp``)."""
    words = text.split(" ")
    marks = _inline_marks(len(words), rng)
    return _join_words(_marked_words(words, marks, esc), rng, nbsp, wrap)


def _inline_marks(n: int, rng: random.Random) -> dict[int, tuple[str, int]]:
    """Non-overlapping runs of 1-3 words to mark: ``{first word: (tag, length)}``."""
    marks: dict[int, tuple[str, int]] = {}
    for tag, p in (("a", 0.35), ("strong", 0.15), ("em", 0.08)):
        if n > 6 and rng.random() < p:
            i = rng.randint(0, n - 4)
            j = i + rng.randint(1, 3)
            if any(k in marks or any(k <= e < k + L for e in range(i, j)) for k, (_, L) in marks.items()):
                continue
            if any(x in marks for x in range(i, j)):
                continue
            marks[i] = (tag, j - i)
    return marks


def _marked_words(
    words: list[str], marks: dict[int, tuple[str, int]], esc: Callable[[str], str]
) -> list[str]:
    out, i, n = [], 0, len(words)
    while i < n:
        if i in marks:
            tag, L = marks[i]
            inner = " ".join(esc(w) for w in words[i : i + L])
            if tag == "a":
                href = "/topic/" + (slugify(" ".join(words[i : i + L])) or "news")
                out.append(f'<a href="{href}">{inner}</a>')
            else:
                out.append(f"<{tag}>{inner}</{tag}>")
            i += L
        else:
            out.append(esc(words[i]))
            i += 1
    return out


def _join_words(out: list[str], rng: random.Random, nbsp: bool, wrap: bool) -> str:
    s = ""
    for k, w in enumerate(out):
        if k:
            if wrap and rng.random() < 0.04:
                s += "\n      "
            elif nbsp and rng.random() < 0.08:
                s += "&nbsp;"
            else:
                s += " "
        s += w
    return s


def render_html(plan: Plan, rng: random.Random, noise: Noise) -> str:
    """The page of ``plan``; ``plan.items`` become the items in the order the page shows them."""
    page = _Page(plan, rng, noise)
    page.head()
    page.header()
    page.article_head()
    page.article_body()
    page.after_body()
    return page.finish()


class _Page(HtmlItems):
    """One page being written, line by line, into ``out``; ``emitted`` the items in page order."""

    def __init__(self, plan: Plan, rng: random.Random, noise: Noise) -> None:
        super().__init__(plan, rng)
        self.noise = noise
        self.nbsp = "nbsp" in noise.kinds
        if self.nbsp:
            noise.used.add("nbsp")
        self.out: list[str] = []
        self.emitted: list[Item] = []

    def para(self, t: str) -> str:
        return inline(
            self.noise.content(t, html=True), self.rng, self.esc, self.nbsp, wrap=self.rng.random() < 0.5
        )

    def render_item(self, it: Item) -> str:
        self.emitted.append(it)
        return self.item(it)

    def regions(self, *names: str) -> list[Item]:
        return [it for it in self.plan.items if it.region in names]

    def head(self) -> None:
        plan, rng, esc, site, out = self.plan, self.rng, self.esc, self.site, self.out
        title = plan.title or ""
        desc = plan.blocks[0].text[:150] if plan.blocks else title
        lang_attr = {
            "en": rng.choice(["en", "en-GB", "en-US"]),
            "de": rng.choice(["de", "de-DE"]),
            "fr": "fr",
            "es": "es",
            "it": "it",
            "nl": "nl",
            "pt": rng.choice(["pt", "pt-PT", "pt-BR"]),
        }
        out.append("<!DOCTYPE html>")
        out.append(f'<html lang="{lang_attr[plan.lang]}">')
        out.append("<head>")
        out.append('<meta charset="utf-8">')
        out.append('<meta name="viewport" content="width=device-width, initial-scale=1">')
        out.append(f"<title>{esc(title)} | {esc(site.name)}</title>")
        out.append(f'<meta name="description" content="{T.attr_escape(desc)}">')
        out.append(f'<meta property="og:site_name" content="{T.attr_escape(site.name)}">')
        out.append(f'<link rel="stylesheet" href="/assets/css/app.{rng.randrange(16**6):06x}.css">')
        out.append(
            f'<script>window.__PAGE__ = {{"section": "news", "id": {rng.randint(10000, 999999)}}};</script>'
        )
        out.append(f"<style>.{self.sk['cookie']}{{position:fixed;bottom:0}}</style>")
        out.append("</head>")
        out.append("<body>")

    def header(self) -> None:
        """The navigation in a ``<header>``, then the other items before the article (banners)."""
        pre = self.regions("pre")
        navs = [it for it in pre if it.cat == "navigation"]
        cookies_top = [it for it in pre if it.cat != "navigation"]
        if navs:
            self.out.append(f"<header{self.cls('header', 'top')}>")
            self.out += [self.render_item(it) for it in navs]
            self.out.append("</header>")
        self.out += [self.render_item(it) for it in cookies_top]

    def article_head(self) -> None:
        """``<main>``, the article, the head items before the title, the title, the others (a
        byline next to a date shares one line on sites with ``meta_inline``)."""
        out = self.out
        out.append('<main id="main">')
        out.append(f"  <article{self.cls('article', '')}>")
        head = self.regions("head")
        out += [self.render_item(it) for it in head if it.data.get("order", 5) < 2]
        if self.plan.title:
            out.append(
                f"  <h1{self.cls('h1')}>{self.esc(self.noise.content(self.plan.title, html=True))}</h1>"
            )
        rest = [it for it in head if it.data.get("order", 5) >= 2]
        i = 0
        while i < len(rest):
            it = rest[i]
            nxt = rest[i + 1] if i + 1 < len(rest) else None
            if (
                self.st["meta_inline"]
                and nxt
                and {it.cat, nxt.cat} == {"byline", "timestamp_update"}
                and it.kind == nxt.kind == "line"
            ):
                out.append(self.meta_line(it, nxt))
                i += 2
                continue
            out.append(self.render_item(it))
            i += 1

    def meta_line(self, it: Item, nxt: Item) -> str:
        spans = " ".join(
            f'<span class="{"author" if x.cat == "byline" else "date"}">{self.esc(x.data["text"])}</span>'
            for x in (it, nxt)
        )
        self.emitted += [it, nxt]
        return f'  <div class="article-meta">{spans}</div>'

    def article_body(self) -> None:
        """The body's blocks, with each body item after the block it follows (a list is one
        step) or glued onto its paragraph."""
        out = self.out
        out.append(f"  <div{self.cls('body', 'content')}>")
        body = self.regions("body")
        glued_end = {it.after: it for it in body if it.glue == "end"}
        glued_start = {it.after + 1: it for it in body if it.glue == "start"}
        for it in body:
            if it.after < 0 and not it.glue:
                out.append(self.render_item(it))
        blocks = self.plan.blocks
        j = 0
        while j < len(blocks):
            if blocks[j].kind == "li":
                lo = j
                html, j = self.list_block(blocks, j)
                idx = j - 1
            else:
                html = self.block(blocks[j], j, glued_start, glued_end)
                lo = idx = j
                j += 1
            out.append(html)
            # items placed after any block index covered by this step (a list is one step)
            for it in body:
                if not it.glue and lo <= it.after <= idx:
                    out.append(self.render_item(it))
        out.append("  </div>")

    def list_block(self, blocks: list[Block], j: int) -> tuple[str, int]:
        """The run of list items from ``blocks[j]`` as one ``<ul>``, and the index after it."""
        lis = []
        while j < len(blocks) and blocks[j].kind == "li":
            lis.append(f"      <li>{self.para(blocks[j].text)}</li>")
            j += 1
        return "    <ul>\n" + "\n".join(lis) + "\n    </ul>", j

    def block(self, b: Block, j: int, glued_start: dict[int, Item], glued_end: dict[int, Item]) -> str:
        """A subhead, a quote or a paragraph (with the items glued onto its start or end)."""
        if b.kind == "h2":
            h = self.st["subhead_tag"]
            return f'    <{h} class="subhead">{self.esc(self.noise.content(b.text, html=True))}</{h}>'
        if b.kind == "quote":
            return f"    <blockquote><p>{self.para(b.text)}</p></blockquote>"
        inner = self.para(b.text)
        if j in glued_start:
            g = glued_start[j]
            inner = f'<span class="{self.glue_cls(g)}">{self.esc(g.lines[0])}</span>' + inner
            self.emitted.append(g)
        if j in glued_end:
            g = glued_end[j]
            inner = inner + f'<span class="{self.glue_cls(g)}">{self.esc(g.lines[0])}</span>'
            self.emitted.append(g)
        cl = ' class="standfirst"' if j == 0 and self.sem and self.rng.random() < 0.2 else ""
        return f"    <p{cl}>{inner}</p>"

    def after_body(self) -> None:
        out = self.out
        out += [self.render_item(it) for it in self.regions("post")]
        out.append("  </article>")
        out += [self.render_item(it) for it in self.regions("aside")]
        out.append("</main>")
        out += [self.render_item(it) for it in self.regions("footer")]
        out.append("</body>")
        out.append("</html>")

    def finish(self) -> str:
        missing = [it for it in self.plan.items if all(it is not e for e in self.emitted)]
        assert not missing, [m.cat for m in missing]
        self.plan.items = self.emitted
        return "\n".join(self.out) + "\n"
