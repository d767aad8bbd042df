"""Turn (site, story, rng) into a document Plan with labelled boilerplate Items."""

from __future__ import annotations

import random
import re
from collections.abc import Callable
from datetime import datetime, timedelta
from typing import Any

from . import textops as T
from .compose import HTML_MIN, Block, Filler, Item, Plan, Site, fmt_date
from .data import CATEGORIES, LangData, stable_hash

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


def drop_sentence(p: Any, rng: random.Random, prob: float = 0.35) -> Any:
    """Sometimes leave out one sentence of a multi-sentence paragraph (quotes must stay balanced)."""
    if not isinstance(p, str) or p.startswith(("## ", "> ")) or rng.random() >= prob:
        return p
    sents = T.sentences(p)
    if len(sents) < 2:
        return p
    i = rng.randrange(len(sents))
    kept = sents[:i] + sents[i + 1 :]
    if any(x.count('"') % 2 for x in kept) or sents[i].count('"') % 2:
        return p
    return " ".join(kept)


class NumberVariator:
    """Vary the numbers of an invented story per document (consistently within the document).

    Years, numbers glued to letters and one-digit numbers stay as they are."""

    NUM = re.compile(r"(?<![\w.,:\-\u2013])(\d{1,3}(?:[.,]\d{3})+|\d+(?:[.,]\d+)?)(?![\w:\u2013]|[.,]\d|-\d)")

    def __init__(self, rng: random.Random) -> None:
        self.rng = rng
        self.map: dict[str, str] = {}

    def _new(self, tok: str) -> str:
        digits = re.sub(r"\D", "", tok)
        if len(digits) < 2 or re.fullmatch(r"(19|20)\d\d", tok):
            return tok
        sep = None
        m = re.fullmatch(r"\d{1,3}([.,])\d{3}(?:\1\d{3})*", tok)
        if m:
            sep = m.group(1)
            val = int(digits)
        elif re.fullmatch(r"\d+[.,]\d+", tok):
            a, b = re.split(r"[.,]", tok)
            dec = tok[len(a)]
            v = float(a + "." + b) * self.rng.uniform(0.6, 1.6)
            return f"{v:.{len(b)}f}".replace(".", dec)
        else:
            val = int(tok)
        v = max(2, round(val * self.rng.uniform(0.6, 1.6)))
        mag = 10 ** max(0, len(str(val)) - 2)
        v = max(mag, round(v / mag) * mag)
        out = str(v)
        if sep and v >= 1000:
            out = f"{v:,}".replace(",", sep)
        return out

    def apply(self, s: str) -> str:
        def rep(m: re.Match[str]) -> str:
            t = m.group(0)
            if t not in self.map:
                self.map[t] = self._new(t)
            return self.map[t]

        return self.NUM.sub(rep, s)


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


class DocMaker:
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

    def pick(self, rng: random.Random, site: Site, fixed_key: str, cat: str, pool_key: str) -> Any:
        pool = self.L.boiler[cat][pool_key]
        fixed = site.fixed.get(fixed_key) or []
        if fixed and rng.random() < site.fidelity:
            return rng.choice(fixed)
        return rng.choice(pool)

    # -------------------------------------------------------------- main
    def make(self, rng: random.Random, site: Site) -> Plan:
        L = self.L = self.langs[site.lang]
        o = self.opts
        lex = L.lex
        fmt = "html" if rng.random() < min(0.95, site.html_p * self.html_scale) else "text"
        notes: list[str] = []
        # ---------------- dates and doc context
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
        F = Filler(rng, L, site, ctx, self.sites_by_lang)
        self.F, self.ctx, self.dt = F, ctx, dt
        # ---------------- story
        dev = False
        pool = L.stories
        if o.dev_share and self.dev_stories.get(site.lang) and rng.random() < o.dev_share:
            pool, dev = self.dev_stories[site.lang], True
        story = pool[self.next_story(site, len(pool), dev)]
        sctx = {
            "town": rng.choice(lex["towns"]),
            "name1": F.person(),
            "name2": F.person(),
            "name3": F.person(),
        }
        sctx["town2"] = rng.choice([t for t in lex["towns"] if t != sctx["town"]])
        sF = Filler(rng, L, site, sctx, self.sites_by_lang)
        numbers = NumberVariator(rng)
        days = lex["weekdays"]
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

        title = story.get("title")
        title = cont(title) if title else None
        paras = story["paras"] if dev else [drop_sentence(p, rng) for p in story["paras"]]
        blocks = self.story_blocks(paras, cont)
        if not dev and L.context and len(blocks) > 1 and rng.random() < 0.65:
            for ctx_p in rng.sample(L.context, min(len(L.context), rng.choice([1, 1, 2]))):
                pos = rng.randint(1, len(blocks))
                if blocks[pos - 1].kind in ("p", "quote") and (
                    pos == len(blocks) or blocks[pos].kind != "li"
                ):
                    blocks.insert(pos, Block("p", cont(ctx_p)))
        short = rng.random() < o.short_p
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
        if not short and L.hard_negatives and rng.random() < o.hard_negative_p:
            hn = rng.choice(L.hard_negatives)
            hb = self.story_blocks([hn["text"]], cont)
            for b in hb:
                b.hn = hn["what"]
            pos = rng.randint(1, len(blocks))
            blocks[pos:pos] = hb
            notes.append("hard_negative: " + hn["what"])
        if title and fmt == "text" and rng.random() > site.title_p:
            title = None
        if title is None and fmt == "html":
            title = cont(rng.choice(L.stories)["title"]) if not blocks else None
        # ---------------- headlines for promos / related lists
        others = [s["title"] for s in L.stories if s.get("title") != story.get("title")]
        heads = [sF.fill(h) for h in rng.sample(L.headlines, min(14, len(L.headlines)))]
        heads += [sF.fill(h) for h in rng.sample(others, min(4, len(others)))]
        heads = [T.curl(h, site.quote_pair) if site.curly else h for h in heads]
        norm_title = T.straighten(title or "").lower()
        heads = [h for h in heads if T.straighten(h).lower() != norm_title]
        rng.shuffle(heads)
        ctx["_headlines"] = list(dict.fromkeys(heads))
        # ---------------- boilerplate selection
        items: list[Item] = []
        if rng.random() < o.no_boiler_p:
            notes.append("no_boilerplate")
        else:
            probs = dict(site.probs)
            if fmt == "html":
                for c, p in HTML_MIN.items():
                    probs[c] = max(probs[c], p)
            if short:
                probs = {c: p * 0.6 for c, p in probs.items()}
            cats = [c for c in CATEGORIES if rng.random() < probs[c]]
            if rng.random() < o.extra_cat_p:
                rest = [c for c in CATEGORIES if c not in cats]
                if rest:
                    cats.append(rng.choice(rest))
            if not cats:
                cats = [rng.choice(CATEGORIES)]
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

    # -------------------------------------------------------------- category makers
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
