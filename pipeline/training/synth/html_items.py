"""The HTML of a page's boilerplate items (menus, cookie banners, boxes, lists, media, footers
and the single lines: bylines, timestamps, ad markers, prompts ...), in the markup of the page's
site: its skin's class names on a semantic site, generic or no classes on the others.
:class:`HtmlItems` holds what every item's markup depends on (the site, the document's random
generator, the noise settings); :mod:`.page` lays the items out around the article. Every draw
from the generator is part of the corpus: the order of the calls here is the corpus's bytes.
"""

from __future__ import annotations

import random
from collections.abc import Callable

from . import textops as T
from .compose import Item, Plan, slugify

#: The e-mail field's placeholder of a newsletter box, by language.
EMAIL_PLACEHOLDER = {
    "en": "Email address",
    "de": "E-Mail-Adresse",
    "fr": "Adresse e-mail",
    "es": "Correo electr\u00f3nico",
    "it": "Indirizzo email",
    "nl": "E-mailadres",
    "pt": "Endere\u00e7o de e-mail",
}

#: The skin key of an item glued onto a paragraph, by category (``signup`` for the others).
GLUE_SKIN_KEY = {
    "signup_notice": "signup",
    "ad_marker": "ad",
    "newsletter_cta": "newsletter",
    "share_prompt": "share",
    "source_link": "source",
    "paywall_notice": "paywall",
    "promo_block": "promo",
}


class HtmlItems:
    """Markup of one page's items: ``item(it)`` for an item standing on its own."""

    def __init__(self, plan: Plan, rng: random.Random) -> None:
        site = plan.site
        self.plan, self.rng, self.site = plan, rng, site
        self.sk, self.st, self.sem = site.skin, site.style, site.semantic

    def esc(self, t: str) -> str:
        return T.html_escape(t, self.site.entities)

    def cls(self, key: str, generic: str = "") -> str:
        c = self.sk[key] if self.sem else generic
        return f' class="{c}"' if c else ""

    def glue_cls(self, it: Item) -> str:
        """The class of the span of an item glued onto a paragraph."""
        return self.sk[GLUE_SKIN_KEY.get(it.cat, "signup")] if self.sem else "inline-note"

    def item(self, it: Item) -> str:
        block = _BLOCKS.get(it.kind)
        return block(self, it) if block is not None else self.line(it)

    # ---- items of several lines, by kind
    def menu(self, it: Item) -> str:
        d, esc = it.data, self.esc
        lis = "\n".join(f'      <li><a href="/{slugify(e) or "x"}">{esc(e)}</a></li>' for e in d["entries"])
        return (
            f'  <a class="logo" href="/">{esc(d["brand"])}</a>\n  <nav{self.cls("nav", "menu")}>\n    <ul>\n'
            f"{lis}\n    </ul>\n  </nav>"
        )

    def utility(self, it: Item) -> str:
        links = " ".join(f'<a href="/{slugify(e) or "x"}">{self.esc(e)}</a>' for e in it.data["entries"])
        return f'  <div class="header-tools">{links}</div>'

    def crumbs(self, it: Item) -> str:
        lis = " ".join(
            f'<li><a href="/{slugify(e) or "x"}">{self.esc(e)}</a></li>' for e in it.data["entries"]
        )
        return f"  <ol{self.cls('crumbs')}>{lis}</ol>"

    def cookie(self, it: Item) -> str:
        d, esc = it.data, self.esc
        btns = " ".join(f"<button>{esc(b)}</button>" for b in d["buttons"])
        return (
            f'<div id="{self.sk["cookie"]}"{self.cls("cookie", "banner")} role="dialog">\n  <p>{esc(d["text"])}</p>\n'
            f"  {btns}\n</div>"
        )

    def box(self, it: Item) -> str:
        d, esc, cls = it.data, self.esc, self.cls
        if it.cat == "newsletter_cta":
            ph = EMAIL_PLACEHOLDER[self.plan.lang]
            return (
                f"    <div{cls('newsletter', 'box')}>\n      <h3>{esc(d['heading'])}</h3>\n"
                f'      <p>{esc(d["text"])}</p>\n      <form><input type="email" placeholder="{ph}"> '
                f"<button>{esc(d['button'])}</button></form>\n    </div>"
            )
        # paywall with a button
        return (
            f"  <div{cls('paywall')}>\n    <p>{esc(d['text'])}</p>\n"
            f'    <a class="btn" href="/subscribe">{esc(d["button"])}</a>\n  </div>'
        )

    def link_list(self, it: Item) -> str:
        d, esc, cls = it.data, self.esc, self.cls
        lis = "\n".join(
            f'      <li><a href="/news/{slugify(T.straighten(e)) or "x"}">{esc(e)}</a></li>'
            for e in d["entries"]
        )
        if it.kind == "related_list":
            h = self.rng.choice(["h2", "h3", "h4"])
            return (
                f"  <aside{cls('related')}>\n    <{h}>{esc(d['header'])}</{h}>\n    <ul>\n{lis}\n"
                f"    </ul>\n  </aside>"
            )
        head = (
            f'<p class="promo-title">{esc(d["header"])}</p>'
            if self.sem
            else f"<p><strong>{esc(d['header'])}</strong></p>"
        )
        return f"    <div{cls('promo')}>\n      {head}\n      <ul>\n{lis}\n      </ul>\n    </div>"

    def video(self, it: Item) -> str:
        d, esc = it.data, self.esc
        ps = [
            f'<p class="loading">{esc(d["player"])}</p>',
            f'<p class="video-title">{esc(d["title"])}</p>',
        ]
        if d["title_first"]:
            ps.reverse()
        if d.get("extra"):
            ps.insert(1, f'<p class="meta">{esc(d["extra"])}</p>')
        return (
            f'  <div{self.cls("video", "media")} data-player="v{self.rng.randint(1, 9)}">\n    '
            + "\n    ".join(ps)
            + "\n  </div>"
        )

    def image(self, it: Item) -> str:
        d, esc = it.data, self.esc
        cnt = f'\n    <div class="gallery-count">{esc(d["counter"])}</div>' if d.get("counter") else ""
        alt = T.attr_escape(T.straighten(d["caption"]))
        return (
            f'  <figure{self.cls("figure")}>{cnt}\n    <img src="/images/{self.rng.randint(100000, 9999999)}.jpg" '
            f'alt="{alt}" width="960" height="540">\n    <figcaption>{esc(d["caption"])} '
            f'<span class="credit">{esc(d["credit"])}</span></figcaption>\n  </figure>'
        )

    def footer(self, it: Item) -> str:
        d, esc = it.data, self.esc
        ps_text = "\n".join(f"  <p>{esc(x)}</p>" for x in d["lines"])
        if d["links"]:
            if self.rng.random() < 0.5:
                ps_text += "\n  <p>" + esc(" | ".join(d["links"])) + "</p>"
            else:
                ps_text += (
                    '\n  <ul class="footer-links">'
                    + "".join(f'<li><a href="/{slugify(x) or "x"}">{esc(x)}</a></li>' for x in d["links"])
                    + "</ul>"
                )
        return f"<footer{self.cls('footer', 'bottom')}>\n{ps_text}\n</footer>"

    # ---- single lines, by category
    def line(self, it: Item) -> str:
        t = self.esc(it.data["text"])
        render = _LINES.get(it.cat)
        if render is not None:
            return render(self, it, t)
        if it.cat in ("navigation", "footer"):
            return f"  <div>{t}</div>"
        return f"  <p>{t}</p>"

    def byline(self, it: Item, t: str) -> str:
        esc = self.esc
        a = it.data.get("author") or ""
        for cand in (a, a.upper()):
            if cand and esc(cand) in t:
                t = t.replace(esc(cand), f'<a href="/author/{slugify(a)}" rel="author">{esc(cand)}</a>', 1)
                break
        return f"  <p{self.cls('byline')}>{t}</p>"

    def timestamp(self, it: Item, t: str) -> str:
        iso = it.data.get("_iso", "")[:19]
        if self.rng.random() < 0.6:
            return f'  <time{self.cls("time")} datetime="{iso}">{t}</time>'
        return f"  <p{self.cls('time', 'meta')}>{t}</p>"

    def ad_marker(self, it: Item, t: str) -> str:
        if self.sem:
            return f'    <div class="{self.sk["ad"]}" data-slot="mpu-{self.rng.randint(1, 4)}"><span class="ad-label">{t}</span></div>'
        return f"    <p>{t}</p>"

    def signup(self, it: Item, t: str) -> str:
        return f"    <p{self.cls('signup')}>{t}</p>" if self.sem else f"    <p><small>{t}</small></p>"

    def promo(self, it: Item, t: str) -> str:
        return f'    <p{self.cls("promo")}><a href="/news/{self.rng.randint(1000, 99999)}">{t}</a></p>'

    def newsletter(self, it: Item, t: str) -> str:
        return f'    <p{self.cls("newsletter")}><a href="/newsletters">{t}</a></p>'

    def share(self, it: Item, t: str) -> str:
        icons = " ".join(
            f'<a class="{x}" href="#"></a>' for x in self.rng.sample(["fb", "tw", "wa", "li", "mail"], 3)
        )
        return f"  <div{self.cls('share')}><span>{t}</span> {icons}</div>"

    def comments(self, it: Item, t: str) -> str:
        return f"  <section{self.cls('comments')}><p>{t}</p></section>"

    def related_link(self, it: Item, t: str) -> str:
        return f'    <p class="related-link">{t}</p>' if self.sem else f"    <p><em>{t}</em></p>"

    def paywall(self, it: Item, t: str) -> str:
        return f"  <div{self.cls('paywall')}><p>{t}</p></div>"

    def bio(self, it: Item, t: str) -> str:
        return f"  <div{self.cls('bio')}><p>{t}</p></div>"

    def source(self, it: Item, t: str) -> str:
        return f'  <p{self.cls("source")}><a href="https://{self.plan.site.host}/out/{self.rng.randint(1000, 99999)}">{t}</a></p>'


_BLOCKS: dict[str, Callable[[HtmlItems, Item], str]] = {
    "menu": HtmlItems.menu,
    "utility": HtmlItems.utility,
    "crumbs": HtmlItems.crumbs,
    "cookie": HtmlItems.cookie,
    "box": HtmlItems.box,
    "promo_list": HtmlItems.link_list,
    "related_list": HtmlItems.link_list,
    "video": HtmlItems.video,
    "image": HtmlItems.image,
    "footer": HtmlItems.footer,
}

_LINES: dict[str, Callable[[HtmlItems, Item, str], str]] = {
    "byline": HtmlItems.byline,
    "timestamp_update": HtmlItems.timestamp,
    "ad_marker": HtmlItems.ad_marker,
    "signup_notice": HtmlItems.signup,
    "promo_block": HtmlItems.promo,
    "newsletter_cta": HtmlItems.newsletter,
    "share_prompt": HtmlItems.share,
    "comments_prompt": HtmlItems.comments,
    "related_links": HtmlItems.related_link,
    "paywall_notice": HtmlItems.paywall,
    "author_bio_line": HtmlItems.bio,
    "source_link": HtmlItems.source,
}
