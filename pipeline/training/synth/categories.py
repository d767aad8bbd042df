"""The boilerplate of one category for one document: a ``mk_<category>`` method per category of
:data:`~.data.CATEGORIES` (where on the page the items go, which of the site's fixed phrasings or
the language's pool they take, how a list or a box is made up), and :func:`build_lines`, an item's
lines as a text scrape or a page shows them. :class:`CategoryMakers` is a part of
:class:`~.maker.DocMaker`, which sets the document's language pools, filler, context and date
before it calls them. Every draw from the document's generator is part of the corpus.
"""

from __future__ import annotations

import random
from datetime import datetime, timedelta
from typing import Any

from . import textops as T
from .compose import Block, Filler, Item, fmt_date
from .data import LangData, stable_hash
from .sites import Site


class CategoryMakers:
    """``mk_<category>(rng, site, fmt, blocks)``: the items of one category for one document."""

    L: LangData
    F: Filler
    ctx: dict[str, Any]
    dt: datetime

    def pick(self, rng: random.Random, site: Site, fixed_key: str, cat: str, pool_key: str) -> Any:
        pool = self.L.boiler[cat][pool_key]
        fixed = site.fixed.get(fixed_key) or []
        if fixed and rng.random() < site.fidelity:
            return rng.choice(fixed)
        return rng.choice(pool)

    def body_pos(self, rng: random.Random, blocks: list[Block], lo: int = 0) -> int:
        n = len(blocks)
        if n <= 1:
            return 0 if n else -1
        return (
            rng.randint(min(lo, n - 1), n - 1) if rng.random() < 0.15 else rng.randint(min(lo, n - 2), n - 2)
        )

    def line(self, cat: str, text: str, region: str, after: int = -1, order: float = 5, **kw: Any) -> Item:
        d: dict[str, Any] = {"text": text, "order": order}
        d.update(kw)
        return Item(cat, "line", [], region, d, after=after)

    def mk_signup_notice(self, rng: random.Random, site: Site, fmt: str, blocks: list[Block]) -> list[Item]:
        t = self.F.fill(self.pick(rng, site, "signup_notice", "signup_notice", "items"))
        pos = 0 if rng.random() < 0.65 else self.body_pos(rng, blocks, 1)
        return [self.line("signup_notice", t, "body", after=pos, order=2)]

    def promo_header(self, rng: random.Random, site: Site, ending: bool = True) -> str:
        st = site.style
        h = self.F.fill(self.pick(rng, site, "promo_headers", "promo_block", "headers"))
        end = (
            st["promo_ending"]
            if rng.random() < 0.75
            else rng.choice([":", "", "...", "\u2026", " \u2192", " >"])
        )
        if st["promo_caps"] and rng.random() < 0.9:
            h = h.upper()
        return (h + end).strip() if ending else h

    def mk_promo_block(self, rng: random.Random, site: Site, fmt: str, blocks: list[Block]) -> list[Item]:
        st = site.style
        out = []
        for _ in range(1 if rng.random() < 0.7 else 2):
            pos = self.body_pos(rng, blocks, 1)
            if rng.random() < st["promo_list_p"]:
                n = rng.choice([2, 3, 3, 4])
                tagged = st["promo_tagged"] if rng.random() < 0.85 else not st["promo_tagged"]
                entries = []
                for _ in range(n):
                    h = self.F.site_headline()
                    if tagged:
                        h += " [" + rng.choice(st["promo_tags"]) + "]"
                    entries.append(h)
                bullet = st["promo_bullet"] if rng.random() < 0.8 else rng.choice(["", rng.choice(T.BULLETS)])
                out.append(
                    Item(
                        "promo_block",
                        "promo_list",
                        [],
                        "body",
                        {
                            "header": self.promo_header(rng, site),
                            "entries": entries,
                            "bullet": bullet,
                            "order": 4,
                            "caps_done": True,
                        },
                        after=pos,
                    )
                )
            else:
                if rng.random() < 0.5:
                    t = self.F.fill(self.pick(rng, site, "promo_single", "promo_block", "single"))
                else:
                    h = self.promo_header(rng, site, ending=False)
                    sep = rng.choice([": ", ": ", " - ", " | ", " \u2013 ", " \u00bb ", " \u2192 "])
                    t = h + sep + self.F.site_headline()
                out.append(self.line("promo_block", t, "body", after=pos, order=4, caps_done=True))
        return out

    def mk_source_link(self, rng: random.Random, site: Site, fmt: str, blocks: list[Block]) -> list[Item]:
        t = self.F.fill(self.pick(rng, site, "source_link", "source_link", "items"))
        return [self.line("source_link", t, "post", order=9)]

    def mk_newsletter_cta(self, rng: random.Random, site: Site, fmt: str, blocks: list[Block]) -> list[Item]:
        box_p = 0.5 if fmt == "html" else 0.15
        region = "body" if rng.random() < 0.6 else "post"
        pos = self.body_pos(rng, blocks, 1)
        if rng.random() < box_p:
            hd, tx, bt = [
                self.F.fill(x)
                for x in (
                    site.fixed["newsletter_box"][0]
                    if rng.random() < site.fidelity
                    else rng.choice(self.L.boiler["newsletter_cta"]["boxes"])
                )
            ]
            return [
                Item(
                    "newsletter_cta",
                    "box",
                    [],
                    region,
                    {"heading": hd, "text": tx, "button": bt, "order": 2, "form": True},
                    after=pos,
                )
            ]
        t = self.F.fill(self.pick(rng, site, "newsletter_cta", "newsletter_cta", "items"))
        return [self.line("newsletter_cta", t, region, after=pos, order=2)]

    def mk_cookie_notice(self, rng: random.Random, site: Site, fmt: str, blocks: list[Block]) -> list[Item]:
        text = self.F.fill(self.pick(rng, site, "cookie_text", "cookie_notice", "texts"))
        buttons = (
            site.fixed["cookie_buttons"]
            if rng.random() < site.fidelity
            else rng.choice(self.L.boiler["cookie_notice"]["buttons"])
        )
        region = "pre" if site.style["cookie_pos"] == "top" else "footer"
        return [
            Item(
                "cookie_notice",
                "cookie",
                [],
                region,
                {
                    "text": text,
                    "buttons": list(buttons),
                    "inline": site.style["buttons_inline"],
                    "order": 0 if region == "pre" else 9,
                },
            )
        ]

    def mk_share_prompt(self, rng: random.Random, site: Site, fmt: str, blocks: list[Block]) -> list[Item]:
        out = []
        for _ in range(1 if rng.random() < 0.8 else 2):
            t = self.F.fill(self.pick(rng, site, "share_prompt", "share_prompt", "items"))
            region = "post" if rng.random() < 0.7 else "head"
            out.append(self.line("share_prompt", t, region, order=5 if region == "head" else 2))
        return out

    def mk_ad_marker(self, rng: random.Random, site: Site, fmt: str, blocks: list[Block]) -> list[Item]:
        out = []
        for _ in range(rng.choice([1, 1, 1, 2, 2, 3])):
            if rng.random() < 0.2:
                t = self.F.fill(
                    rng.choice(site.fixed["ad_commercial"] + self.L.boiler["ad_marker"]["commercial"])
                )
            else:
                t = self.F.fill(self.pick(rng, site, "ad_marker", "ad_marker", "items"))
            out.append(self.line("ad_marker", t, "body", after=self.body_pos(rng, blocks, 0), order=3))
        return out

    def mk_video_caption(self, rng: random.Random, site: Site, fmt: str, blocks: list[Block]) -> list[Item]:
        V = self.L.boiler["video_caption"]
        player = self.F.fill(self.pick(rng, site, "video_player", "video_caption", "players"))
        title = self.F.fill(rng.choice(V["titles"]))
        if site.curly:
            title = T.curl(title, site.quote_pair)
        extra = (
            self.F.fill(rng.choice(V["extras"])) if site.style["video_extra"] and rng.random() < 0.7 else None
        )
        region = "head" if rng.random() < 0.7 else "body"
        return [
            Item(
                "video_caption",
                "video",
                [],
                region,
                {
                    "player": player,
                    "title": title,
                    "extra": extra,
                    "order": 6,
                    "title_first": site.style["video_title_first"],
                },
                after=self.body_pos(rng, blocks, 0),
            )
        ]

    def mk_image_credit(self, rng: random.Random, site: Site, fmt: str, blocks: list[Block]) -> list[Item]:
        ic = self.L.boiler["image_credit"]
        out = []
        for k in range(1 if rng.random() < 0.8 else 2):
            cap = self.F.fill(rng.choice(ic["captions"]))
            credit = self.F.fill(self.pick(rng, site, "image_credit", "image_credit", "credits"))
            counter = (
                self.F.fill(rng.choice(ic["counters"])) if rng.random() < site.style["gallery_p"] else None
            )
            region = "head" if (k == 0 and rng.random() < 0.6) else "body"
            out.append(
                Item(
                    "image_credit",
                    "image",
                    [],
                    region,
                    {
                        "caption": cap,
                        "credit": credit,
                        "counter": counter,
                        "order": 7,
                        "newline": site.style["credit_newline"],
                    },
                    after=self.body_pos(rng, blocks, 0),
                )
            )
        return out

    def mk_comments_prompt(self, rng: random.Random, site: Site, fmt: str, blocks: list[Block]) -> list[Item]:
        t = self.F.fill(self.pick(rng, site, "comments_prompt", "comments_prompt", "items"))
        return [self.line("comments_prompt", t, "post", order=4)]

    def mk_related_links(self, rng: random.Random, site: Site, fmt: str, blocks: list[Block]) -> list[Item]:
        st = site.style
        if rng.random() < st["related_list_p"]:
            header = self.F.fill(self.pick(rng, site, "related_header", "related_links", "headers"))
            if rng.random() < 0.15:
                header = header.upper()
            if rng.random() < 0.2:
                header += rng.choice([":", " \u203a", "\u2026"])
            entries = [self.F.site_headline() for _ in range(rng.randint(2, 5))]
            region = "aside" if fmt == "html" else "post"
            return [
                Item(
                    "related_links",
                    "related_list",
                    [],
                    region,
                    {"header": header, "entries": entries, "bullet": st["related_bullet"], "order": 6},
                )
            ]
        t = self.F.fill(self.pick(rng, site, "related_single", "related_links", "single"))
        return [self.line("related_links", t, "body", after=self.body_pos(rng, blocks, 1), order=5)]

    def mk_paywall_notice(self, rng: random.Random, site: Site, fmt: str, blocks: list[Block]) -> list[Item]:
        t = self.F.fill(self.pick(rng, site, "paywall_notice", "paywall_notice", "items"))
        if rng.random() < 0.45:
            btn = (
                site.fixed["paywall_button"]
                if rng.random() < 0.7
                else rng.choice(self.L.boiler["paywall_notice"]["buttons"])
            )
            if btn.lower() not in t.lower():
                return [Item("paywall_notice", "box", [], "post", {"text": t, "button": btn, "order": 0})]
        return [self.line("paywall_notice", t, "post", order=0)]

    def mk_author_bio_line(self, rng: random.Random, site: Site, fmt: str, blocks: list[Block]) -> list[Item]:
        t = self.F.fill(self.pick(rng, site, "author_bio_line", "author_bio_line", "items"))
        return [self.line("author_bio_line", t, "post", order=rng.choice([1, 3]))]

    def mk_timestamp_update(
        self, rng: random.Random, site: Site, fmt: str, blocks: list[Block]
    ) -> list[Item]:
        TS = self.L.boiler["timestamp_update"]
        lex = self.L.lex
        tmpl = self.pick(rng, site, "ts_lines", "timestamp_update", "lines")
        pat = site.fixed["ts_dates"][0] if rng.random() < 0.85 else rng.choice(TS["dates"])
        ampm = lex["ampm"][stable_idx(site.host, len(lex["ampm"]))]
        tz = lex["tz"][stable_idx(site.host + "tz", len(lex["tz"]))]
        dt = self.dt
        dt2 = dt + timedelta(minutes=rng.randint(7, 30 * 60))
        vals = {
            "ts": fmt_date(pat, dt, lex, ampm, tz),
            "ts2": fmt_date(pat, dt2, lex, ampm, tz),
            "rel": self.F.fill(rng.choice(TS["relative"])),
        }
        t = self.F.fill(
            tmpl.replace("{ts}", vals["ts"]).replace("{ts2}", vals["ts2"]).replace("{rel}", vals["rel"])
        )
        if t and t[0].islower() and rng.random() < 0.8:
            t = t[0].upper() + t[1:]
        pos = site.style["ts_pos"]
        if pos == "end" and rng.random() < 0.8:
            return [self.line("timestamp_update", t, "post", order=8, _iso=dt.isoformat())]
        order = 1 if pos == "before_title" else (3.5 if pos == "after_byline" else 3)
        return [self.line("timestamp_update", t, "head", order=order, _iso=dt.isoformat())]

    def mk_byline(self, rng: random.Random, site: Site, fmt: str, blocks: list[Block]) -> list[Item]:
        t = self.F.fill(self.pick(rng, site, "byline", "byline", "items"))
        if site.style["byline_caps"] and rng.random() < 0.8:
            t = t.upper()
        order = 3.2 if site.style["byline_pos"] == "after_title" else 3.7
        return [self.line("byline", t, "head", order=order, author=self.ctx["author"], caps_done=True)]

    def mk_navigation(self, rng: random.Random, site: Site, fmt: str, blocks: list[Block]) -> list[Item]:
        st, fx, lex = site.style, site.fixed, self.L.lex
        out = []
        want_menu = fmt == "html" or rng.random() < 0.6
        if want_menu:
            secs = fx["nav_sections"] if rng.random() < 0.9 else rng.sample(lex["sections"], 5)
            out.append(
                Item(
                    "navigation",
                    "menu",
                    [],
                    "pre",
                    {"brand": site.name, "entries": list(secs), "inline": st["menu_inline"], "order": 1},
                )
            )
        if rng.random() < st["nav_utility_p"] or not out:
            ents = [self.F.fill(x) for x in fx["nav_utility"]]
            if rng.random() < 0.3:
                ents.append(self.F.fill(rng.choice(self.L.boiler["navigation"]["utility"])))
            out.append(
                Item("navigation", "utility", [], "pre", {"entries": list(dict.fromkeys(ents)), "order": 2})
            )
        if rng.random() < st["crumbs_p"]:
            ents = [
                lex["home"],
                *rng.sample(fx["nav_sections"], min(len(fx["nav_sections"]), rng.choice([1, 2]))),
            ]
            out.append(
                Item(
                    "navigation", "crumbs", [], "head", {"entries": ents, "sep": st["crumb_sep"], "order": 0}
                )
            )
        return out

    def mk_footer(self, rng: random.Random, site: Site, fmt: str, blocks: list[Block]) -> list[Item]:
        fx = site.fixed
        lines = [
            self.F.fill(
                fx["footer_copyright"][0]
                if rng.random() < 0.9
                else rng.choice(self.L.boiler["footer"]["copyright"])
            )
        ]
        lines += [self.F.fill(x) for x in fx["footer_lines"] if rng.random() < 0.8]
        links = fx["footer_links"] if rng.random() < 0.8 else []
        if rng.random() < 0.5:
            lines.reverse()
        return [Item("footer", "footer", [], "footer", {"lines": lines, "links": list(links), "order": 5})]


def stable_idx(key: str, n: int) -> int:
    return stable_hash(key) % n


def build_lines(it: Item, fmt: str) -> list[str]:
    d, k = it.data, it.kind
    if k == "line":
        return [d["text"]]
    if k == "menu":
        if fmt == "html":
            return [" | ".join([d["brand"]] + d["entries"])]
        return [" | ".join(d["entries"])] if d["inline"] else list(d["entries"])
    if k == "utility":
        return [" | ".join(d["entries"])] if fmt == "html" else list(d["entries"])
    if k == "crumbs":
        return [d["sep"].join(d["entries"])]
    if k == "cookie":
        if fmt == "html" or d["inline"]:
            return [d["text"], " ".join(d["buttons"])]
        return [d["text"], *d["buttons"]]
    if k == "box":
        return [x for x in (d.get("heading"), d.get("text"), d.get("button")) if x]
    if k in ("promo_list", "related_list"):
        b = "" if fmt == "html" else d.get("bullet", "")
        return ([d["header"]] if d.get("header") else []) + [b + e for e in d["entries"]]
    if k == "video":
        seq = [d["title"], d["player"]] if d["title_first"] else [d["player"], d["title"]]
        if d.get("extra"):
            seq.insert(1, d["extra"])
        return seq
    if k == "image":
        body = (
            [d["caption"] + " " + d["credit"]]
            if (fmt == "html" or not d["newline"])
            else [d["caption"], d["credit"]]
        )
        return ([d["counter"]] if d.get("counter") else []) + body
    if k == "footer":
        return list(d["lines"]) + ([" | ".join(d["links"])] if d["links"] else [])
    raise ValueError(k)
