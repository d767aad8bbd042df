"""Render a Plan as a text scrape or as a small full HTML page; produce raw, gold_text and labels."""

from __future__ import annotations

import random
from collections.abc import Callable
from typing import Any

from . import textops as T
from .compose import Block, Item, Plan, slugify


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


# ------------------------------------------------------------------ html page
def _inline(text: str, rng: random.Random, esc: Callable[[str], str], nbsp: bool, wrap: bool) -> str:
    words = text.split(" ")
    n = len(words)
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
    out, i = [], 0
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
    site, sk, st = plan.site, plan.site.skin, plan.site.style
    sem = site.semantic
    nbsp = "nbsp" in noise.kinds
    if nbsp:
        noise.used.add("nbsp")

    def esc(t: str) -> str:
        return T.html_escape(t, site.entities)

    def para(t: str) -> str:
        return _inline(noise.content(t, html=True), rng, esc, nbsp, wrap=rng.random() < 0.5)

    def cls(key: str, generic: str = "") -> str:
        c = sk[key] if sem else generic
        return f' class="{c}"' if c else ""

    items = plan.items
    out: list[str] = []
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
    out.append(f"<style>.{sk['cookie']}{{position:fixed;bottom:0}}</style>")
    out.append("</head>")
    out.append("<body>")

    emitted: list[Item] = []

    def render_item(it: Item) -> str:
        emitted.append(it)
        return _render_item(it)

    def _render_item(it: Item) -> str:
        d, k, c = it.data, it.kind, it.cat
        if k == "menu":
            lis = "\n".join(
                f'      <li><a href="/{slugify(e) or "x"}">{esc(e)}</a></li>' for e in d["entries"]
            )
            return (
                f'  <a class="logo" href="/">{esc(d["brand"])}</a>\n  <nav{cls("nav", "menu")}>\n    <ul>\n'
                f"{lis}\n    </ul>\n  </nav>"
            )
        if k == "utility":
            links = " ".join(f'<a href="/{slugify(e) or "x"}">{esc(e)}</a>' for e in d["entries"])
            return f'  <div class="header-tools">{links}</div>'
        if k == "crumbs":
            lis = " ".join(f'<li><a href="/{slugify(e) or "x"}">{esc(e)}</a></li>' for e in d["entries"])
            return f"  <ol{cls('crumbs')}>{lis}</ol>"
        if k == "cookie":
            btns = " ".join(f"<button>{esc(b)}</button>" for b in d["buttons"])
            return (
                f'<div id="{sk["cookie"]}"{cls("cookie", "banner")} role="dialog">\n  <p>{esc(d["text"])}</p>\n'
                f"  {btns}\n</div>"
            )
        if k == "box" and c == "newsletter_cta":
            ph = {
                "en": "Email address",
                "de": "E-Mail-Adresse",
                "fr": "Adresse e-mail",
                "es": "Correo electr\u00f3nico",
                "it": "Indirizzo email",
                "nl": "E-mailadres",
                "pt": "Endere\u00e7o de e-mail",
            }[plan.lang]
            return (
                f"    <div{cls('newsletter', 'box')}>\n      <h3>{esc(d['heading'])}</h3>\n"
                f'      <p>{esc(d["text"])}</p>\n      <form><input type="email" placeholder="{ph}"> '
                f"<button>{esc(d['button'])}</button></form>\n    </div>"
            )
        if k == "box":  # paywall with a button
            return (
                f"  <div{cls('paywall')}>\n    <p>{esc(d['text'])}</p>\n"
                f'    <a class="btn" href="/subscribe">{esc(d["button"])}</a>\n  </div>'
            )
        if k in ("promo_list", "related_list"):
            lis = "\n".join(
                f'      <li><a href="/news/{slugify(T.straighten(e)) or "x"}">{esc(e)}</a></li>'
                for e in d["entries"]
            )
            if k == "related_list":
                h = rng.choice(["h2", "h3", "h4"])
                return (
                    f"  <aside{cls('related')}>\n    <{h}>{esc(d['header'])}</{h}>\n    <ul>\n{lis}\n"
                    f"    </ul>\n  </aside>"
                )
            head = (
                f'<p class="promo-title">{esc(d["header"])}</p>'
                if sem
                else f"<p><strong>{esc(d['header'])}</strong></p>"
            )
            return f"    <div{cls('promo')}>\n      {head}\n      <ul>\n{lis}\n      </ul>\n    </div>"
        if k == "video":
            ps = [
                f'<p class="loading">{esc(d["player"])}</p>',
                f'<p class="video-title">{esc(d["title"])}</p>',
            ]
            if d["title_first"]:
                ps.reverse()
            if d.get("extra"):
                ps.insert(1, f'<p class="meta">{esc(d["extra"])}</p>')
            return (
                f'  <div{cls("video", "media")} data-player="v{rng.randint(1, 9)}">\n    '
                + "\n    ".join(ps)
                + "\n  </div>"
            )
        if k == "image":
            cnt = f'\n    <div class="gallery-count">{esc(d["counter"])}</div>' if d.get("counter") else ""
            alt = T.attr_escape(T.straighten(d["caption"]))
            return (
                f'  <figure{cls("figure")}>{cnt}\n    <img src="/images/{rng.randint(100000, 9999999)}.jpg" '
                f'alt="{alt}" width="960" height="540">\n    <figcaption>{esc(d["caption"])} '
                f'<span class="credit">{esc(d["credit"])}</span></figcaption>\n  </figure>'
            )
        if k == "footer":
            ps_text = "\n".join(f"  <p>{esc(x)}</p>" for x in d["lines"])
            if d["links"]:
                if rng.random() < 0.5:
                    ps_text += "\n  <p>" + esc(" | ".join(d["links"])) + "</p>"
                else:
                    ps_text += (
                        '\n  <ul class="footer-links">'
                        + "".join(f'<li><a href="/{slugify(x) or "x"}">{esc(x)}</a></li>' for x in d["links"])
                        + "</ul>"
                    )
            return f"<footer{cls('footer', 'bottom')}>\n{ps_text}\n</footer>"
        # ---- single lines
        t = esc(d["text"])
        if c == "byline":
            a = d.get("author") or ""
            for cand in (a, a.upper()):
                if cand and esc(cand) in t:
                    t = t.replace(
                        esc(cand), f'<a href="/author/{slugify(a)}" rel="author">{esc(cand)}</a>', 1
                    )
                    break
            return f"  <p{cls('byline')}>{t}</p>"
        if c == "timestamp_update":
            iso = d.get("_iso", "")[:19]
            if rng.random() < 0.6:
                return f'  <time{cls("time")} datetime="{iso}">{t}</time>'
            return f"  <p{cls('time', 'meta')}>{t}</p>"
        if c == "ad_marker":
            if sem:
                return f'    <div class="{sk["ad"]}" data-slot="mpu-{rng.randint(1, 4)}"><span class="ad-label">{t}</span></div>'
            return f"    <p>{t}</p>"
        if c == "signup_notice":
            return f"    <p{cls('signup')}>{t}</p>" if sem else f"    <p><small>{t}</small></p>"
        if c == "promo_block":
            return f'    <p{cls("promo")}><a href="/news/{rng.randint(1000, 99999)}">{t}</a></p>'
        if c == "newsletter_cta":
            return f'    <p{cls("newsletter")}><a href="/newsletters">{t}</a></p>'
        if c == "share_prompt":
            icons = " ".join(
                f'<a class="{x}" href="#"></a>' for x in rng.sample(["fb", "tw", "wa", "li", "mail"], 3)
            )
            return f"  <div{cls('share')}><span>{t}</span> {icons}</div>"
        if c == "comments_prompt":
            return f"  <section{cls('comments')}><p>{t}</p></section>"
        if c == "related_links":
            return f'    <p class="related-link">{t}</p>' if sem else f"    <p><em>{t}</em></p>"
        if c == "paywall_notice":
            return f"  <div{cls('paywall')}><p>{t}</p></div>"
        if c == "author_bio_line":
            return f"  <div{cls('bio')}><p>{t}</p></div>"
        if c == "source_link":
            return f'  <p{cls("source")}><a href="https://{plan.site.host}/out/{rng.randint(1000, 99999)}">{t}</a></p>'
        if c in ("navigation", "footer"):
            return f"  <div>{t}</div>"
        return f"  <p>{t}</p>"

    def glue_cls(it: Item) -> str:
        key = {
            "signup_notice": "signup",
            "ad_marker": "ad",
            "newsletter_cta": "newsletter",
            "share_prompt": "share",
            "source_link": "source",
            "paywall_notice": "paywall",
            "promo_block": "promo",
        }.get(it.cat, "signup")
        return sk[key] if sem else "inline-note"

    pre = [it for it in items if it.region == "pre"]
    navs = [it for it in pre if it.cat == "navigation"]
    cookies_top = [it for it in pre if it.cat != "navigation"]
    if navs:
        out.append(f"<header{cls('header', 'top')}>")
        out += [render_item(it) for it in navs]
        out.append("</header>")
    out += [render_item(it) for it in cookies_top]
    out.append('<main id="main">')
    out.append(f"  <article{cls('article', '')}>")
    head = [it for it in items if it.region == "head"]
    out += [render_item(it) for it in head if it.data.get("order", 5) < 2]
    if plan.title:
        out.append(f"  <h1{cls('h1')}>{esc(noise.content(plan.title, html=True))}</h1>")
    rest = [it for it in head if it.data.get("order", 5) >= 2]
    i = 0
    while i < len(rest):
        it = rest[i]
        nxt = rest[i + 1] if i + 1 < len(rest) else None
        if (
            st["meta_inline"]
            and nxt
            and {it.cat, nxt.cat} == {"byline", "timestamp_update"}
            and it.kind == nxt.kind == "line"
        ):
            spans = " ".join(
                f'<span class="{"author" if x.cat == "byline" else "date"}">{esc(x.data["text"])}</span>'
                for x in (it, nxt)
            )
            emitted += [it, nxt]
            out.append(f'  <div class="article-meta">{spans}</div>')
            i += 2
            continue
        out.append(render_item(it))
        i += 1
    out.append(f"  <div{cls('body', 'content')}>")
    body = [it for it in items if it.region == "body"]
    glued_end = {it.after: it for it in body if it.glue == "end"}
    glued_start = {it.after + 1: it for it in body if it.glue == "start"}
    for it in body:
        if it.after < 0 and not it.glue:
            out.append(render_item(it))
    blocks = plan.blocks
    j = 0
    while j < len(blocks):
        b = blocks[j]
        if b.kind == "li":
            lis = []
            while j < len(blocks) and blocks[j].kind == "li":
                lis.append(f"      <li>{para(blocks[j].text)}</li>")
                j += 1
            out.append("    <ul>\n" + "\n".join(lis) + "\n    </ul>")
            idx = j - 1
        else:
            if b.kind == "h2":
                h = st["subhead_tag"]
                out.append(f'    <{h} class="subhead">{esc(noise.content(b.text, html=True))}</{h}>')
            elif b.kind == "quote":
                out.append(f"    <blockquote><p>{para(b.text)}</p></blockquote>")
            else:
                inner = para(b.text)
                if j in glued_start:
                    g = glued_start[j]
                    inner = f'<span class="{glue_cls(g)}">{esc(g.lines[0])}</span>' + inner
                    emitted.append(g)
                if j in glued_end:
                    g = glued_end[j]
                    inner = inner + f'<span class="{glue_cls(g)}">{esc(g.lines[0])}</span>'
                    emitted.append(g)
                cl = ' class="standfirst"' if j == 0 and sem and rng.random() < 0.2 else ""
                out.append(f"    <p{cl}>{inner}</p>")
            idx = j
            j += 1
        # items placed after any block index covered by this step (a list is one step)
        lo = idx if b.kind != "li" else j - len(lis)
        for it in body:
            if not it.glue and lo <= it.after <= idx:
                out.append(render_item(it))
    out.append("  </div>")
    out += [render_item(it) for it in items if it.region == "post"]
    out.append("  </article>")
    out += [render_item(it) for it in items if it.region == "aside"]
    out.append("</main>")
    out += [render_item(it) for it in items if it.region == "footer"]
    out.append("</body>")
    out.append("</html>")
    missing = [it for it in items if all(it is not e for e in emitted)]
    assert not missing, [m.cat for m in missing]
    plan.items = emitted
    return "\n".join(out) + "\n"
