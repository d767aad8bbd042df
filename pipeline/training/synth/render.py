"""Render a Plan as a text scrape (:func:`render_text`; the HTML page is :mod:`.page`), the noise
put on its content strings (:class:`Noise`), and a plan's gold text and labels."""

from __future__ import annotations

import random
from typing import Any

from . import textops as T
from .compose import Block, Item, Plan


# ------------------------------------------------------------------ noise on content strings
class Noise:
    def __init__(self, kinds: set[str], rng: random.Random) -> None:
        self.kinds, self.rng = kinds, rng
        self.used: set[str] = set()

    def content(self, s: str, html: bool = False) -> str:
        rng = self.rng
        if "zero_width" in self.kinds:
            t = T.add_zero_width(s, rng, 0.025)
            if t != s:
                self.used.add("zero_width")
            s = t
        if "nbsp" in self.kinds and not html:
            t = T.add_nbsp(s, rng, 0.1)
            if t != s:
                self.used.add("nbsp")
            s = t
        if "html_entities" in self.kinds and not html:
            t = T.text_entities(s, rng)
            if t != s:
                self.used.add("html_entities")
            s = t
        return s


def gold_of(plan: Plan) -> str:
    parts = ([plan.title] if plan.title else []) + [b.text for b in plan.blocks]
    return "\n\n".join(parts)


def labels_of(plan: Plan) -> list[dict[str, Any]]:
    return [{"category": it.cat, "text": "\n".join(it.lines)} for it in plan.items]


# ------------------------------------------------------------------ text scrape
def render_text(plan: Plan, rng: random.Random, noise: Noise) -> str:
    site = plan.site
    sep = site.sep
    st = site.style
    items = plan.items
    units: list[str] = []

    def item_str(it: Item) -> str:
        return (sep if st["items_joined_by_sep"] else "\n").join(it.lines)

    def content_str(b: Block) -> str:
        s = noise.content(b.text)
        if site.wrap and b.kind in ("p", "quote") and "html_entities" not in noise.kinds:
            s = T.hard_wrap(s, site.wrap)
        return s

    pre = [it for it in items if it.region == "pre"]
    head = [it for it in items if it.region == "head"]
    units += [item_str(it) for it in pre]
    units += [item_str(it) for it in head if it.data.get("order", 5) < 2]
    if plan.title:
        units.append(noise.content(plan.title))
    units += [item_str(it) for it in head if it.data.get("order", 5) >= 2]
    body = [it for it in items if it.region == "body"]
    texts = [content_str(b) for b in plan.blocks]
    # glue: boilerplate written straight onto a paragraph, no separator
    for it in body:
        if it.glue == "end" and 0 <= it.after < len(texts):
            texts[it.after] = texts[it.after] + it.lines[0]
        elif it.glue == "start" and it.after + 1 < len(texts):
            texts[it.after + 1] = it.lines[0] + texts[it.after + 1]
    for it in body:
        if not it.glue and it.after < 0:
            units.append(item_str(it))
    for i, t in enumerate(texts):
        units.append(t)
        units += [item_str(it) for it in body if not it.glue and it.after == i]
    units += [item_str(it) for it in items if it.region in ("post", "aside", "footer")]
    raw = sep.join(u for u in units if u != "")
    if "messy_whitespace" in noise.kinds and not site.wrap:
        raw = T.messy_lines(raw, rng)
        noise.used.add("messy_whitespace")
    if "zero_width" in noise.used and rng.random() < 0.5:
        raw = "\ufeff" + raw
    return raw
