"""Sites (fixed per-site boilerplate) and document plans (content blocks + labelled boilerplate items)."""

from __future__ import annotations

import random
import re
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from . import textops as T
from .data import CATEGORIES, LangData, stable_hash

SLOT_RE = re.compile(r"\{([A-Za-z_][A-Za-z0-9_]*)\}")

# base probability that a document of a site of this archetype carries the category
ARCHETYPES: dict[str, dict[str, float]] = {
    "tabloid": {
        "signup_notice": 0.7,
        "promo_block": 0.9,
        "video_caption": 0.45,
        "image_credit": 0.7,
        "timestamp_update": 0.9,
        "byline": 0.5,
        "share_prompt": 0.45,
        "newsletter_cta": 0.45,
        "ad_marker": 0.45,
        "comments_prompt": 0.3,
        "related_links": 0.25,
    },
    "regional": {
        "byline": 0.85,
        "timestamp_update": 0.85,
        "image_credit": 0.6,
        "promo_block": 0.5,
        "newsletter_cta": 0.5,
        "share_prompt": 0.5,
        "comments_prompt": 0.45,
        "ad_marker": 0.4,
        "author_bio_line": 0.25,
        "related_links": 0.3,
        "navigation": 0.25,
        "footer": 0.25,
        "signup_notice": 0.2,
    },
    "aggregator": {
        "cookie_notice": 0.9,
        "ad_marker": 0.8,
        "share_prompt": 0.8,
        "source_link": 0.95,
        "related_links": 0.25,
        "image_credit": 0.25,
        "timestamp_update": 0.35,
        "byline": 0.2,
    },
    "us_local": {
        "byline": 0.9,
        "video_caption": 0.45,
        "related_links": 0.6,
        "ad_marker": 0.6,
        "author_bio_line": 0.55,
        "share_prompt": 0.5,
        "comments_prompt": 0.25,
        "timestamp_update": 0.55,
        "image_credit": 0.5,
        "newsletter_cta": 0.4,
        "paywall_notice": 0.15,
    },
    "business": {
        "timestamp_update": 0.9,
        "paywall_notice": 0.55,
        "newsletter_cta": 0.6,
        "promo_block": 0.5,
        "byline": 0.65,
        "share_prompt": 0.35,
        "related_links": 0.4,
        "ad_marker": 0.3,
        "author_bio_line": 0.3,
        "signup_notice": 0.25,
    },
    "magazine": {
        "byline": 0.9,
        "author_bio_line": 0.6,
        "related_links": 0.7,
        "share_prompt": 0.6,
        "comments_prompt": 0.6,
        "image_credit": 0.8,
        "newsletter_cta": 0.5,
        "timestamp_update": 0.5,
        "paywall_notice": 0.2,
        "video_caption": 0.2,
    },
    "portal": {
        "navigation": 0.85,
        "cookie_notice": 0.6,
        "footer": 0.85,
        "ad_marker": 0.7,
        "related_links": 0.5,
        "timestamp_update": 0.7,
        "share_prompt": 0.4,
        "promo_block": 0.35,
        "video_caption": 0.3,
        "byline": 0.5,
        "comments_prompt": 0.3,
    },
}
HTML_MIN = {"navigation": 0.9, "footer": 0.9, "cookie_notice": 0.4}  # whole pages nearly always carry these

SKIN_CHOICES = {
    "header": [
        "site-header",
        "masthead",
        "top-bar",
        "header__main",
        "l-header",
        "page-header",
        "global-header",
    ],
    "nav": ["main-nav", "primary-menu", "nav__list", "menu-main", "site-navigation", "navbar", "c-nav"],
    "cookie": [
        "cookie-banner",
        "cc-window",
        "consent-bar",
        "gdpr-notice",
        "js-cookie-consent",
        "privacy-prompt",
        "cmp-dialog",
    ],
    "article": ["story", "article", "post", "entry", "c-article", "news-article", "article-page"],
    "h1": ["headline", "article-title", "entry-title", "post__title", "story-headline", "c-title"],
    "body": [
        "article-body",
        "entry-content",
        "story-body",
        "post-content",
        "rich-text",
        "article__content",
        "text-body",
    ],
    "byline": ["byline", "author", "article-author", "meta-author", "c-byline", "post-author"],
    "time": ["date", "timestamp", "published", "meta-date", "article-date", "c-time"],
    "ad": ["ad-slot", "advert", "dfp-ad", "adunit", "ad-container", "ad-wrapper", "sponsored-slot"],
    "newsletter": [
        "newsletter-box",
        "nl-signup",
        "inline-newsletter",
        "signup-widget",
        "newsletter-promo",
        "email-capture",
    ],
    "promo": [
        "read-more",
        "inline-promo",
        "also-read",
        "teaser-list",
        "related-inline",
        "promo-box",
        "story-promo",
    ],
    "share": ["share-tools", "social-share", "share-bar", "sharing", "c-share", "share-buttons"],
    "bio": ["author-bio", "author-box", "bio", "about-author", "c-author-card", "writer-info"],
    "paywall": ["paywall", "premium-wall", "subscribe-gate", "meter-wall", "regwall", "piano-offer"],
    "comments": ["comments", "comment-cta", "discussion", "comments-teaser", "c-comments"],
    "related": ["related", "more-stories", "recommended", "also-on", "read-next", "related-articles"],
    "footer": ["site-footer", "footer", "page-footer", "l-footer", "global-footer"],
    "video": ["video-embed", "player", "media-video", "jw-player", "video-wrapper", "vjs-container"],
    "figure": ["lead-image", "article-image", "media", "figure", "c-figure", "inline-image"],
    "source": ["source-link", "original-source", "via", "syndication", "source"],
    "signup": ["signup-disclaimer", "consent-text", "nl-legal", "privacy-note", "form-legal"],
    "crumbs": ["breadcrumbs", "breadcrumb", "crumbs", "c-breadcrumbs", "trail"],
}
URL_PATTERNS = [
    "/news/{section}/{slug}-{id}",
    "/{section}/{slug}-{id}",
    "/{yyyy}/{mm}/{dd}/{slug}/",
    "/{section}/{slug}.html",
    "/article/{id}/{slug}",
    "/{section}/{yyyy}/{mm}/{slug}-{id}.html",
    "/{slug}-{id}",
    "/local/{slug}-n{id}",
]


def slugify(s: str) -> str:
    s = T.straighten(s).lower()
    table = str.maketrans("àáâãäåçèéêëìíîïñòóôõöùúûüýÿß", "aaaaaaceeeeiiiinooooouuuuyys")
    s = s.translate(table)
    return re.sub(r"[^a-z0-9]+", "-", s).strip("-")[:70].strip("-")


# ------------------------------------------------------------------ slot filling
class Filler:
    def __init__(
        self, rng: random.Random, L: LangData, site: Site, ctx: dict[str, Any], sites_by_lang: dict[str, Any]
    ):
        self.rng, self.L, self.site, self.ctx, self.sites_by_lang = rng, L, site, ctx, sites_by_lang

    def person(self) -> str:
        lex = self.L.lex
        return f"{self.rng.choice(lex['first_names'])} {self.rng.choice(lex['last_names'])}"

    def price(self) -> str:
        lex, rng = self.L.lex, self.rng
        p = rng.choice(["1", "2", "4.99", "9.99", "1.50", "3", "5", "0.99", "12", "29"])
        if lex.get("decimal_comma"):
            p = p.replace(".", ",")
        return str(rng.choice(lex["currency"]).format(p=p))

    def value(self, name: str) -> Any:
        ctx, rng, lex = self.ctx, self.rng, self.L.lex
        if name in ctx:
            return ctx[name]
        if name.isupper() and name.lower() != name:
            return self.value(name.lower()).upper()
        if name in ("town", "town2"):
            return rng.choice(lex["towns"])
        if name in ("name", "photographer", "person"):
            return self.person()
        if name == "n":
            return str(rng.randint(2, 9))
        if name == "n2":
            return str(rng.randint(10, 59))
        if name == "minutes":
            return str(rng.randint(2, 12))
        if name == "count":
            return str(rng.choice([rng.randint(2, 40), rng.randint(40, 900)]))
        if name == "year":
            return ctx.get("doc_year", str(rng.randint(2019, 2025)))
        if name == "price":
            return self.price()
        if name == "percent":
            return str(rng.choice([10, 15, 20, 25, 30, 40, 50]))
        if name == "code":
            return rng.choice(
                lex.get("code_words", ["SAVE", "READER", "NEWS", "WELCOME", "EXTRA", "DEAL"])
            ) + str(rng.choice([10, 15, 20, 25, 30]))
        if name == "day":
            return rng.choice(lex["weekdays"])
        if name == "month":
            return rng.choice(lex["months"])
        if name in ("brand", "newsletter", "topic", "agency", "section", "beat", "role"):
            key = {
                "brand": "brands",
                "newsletter": "newsletters",
                "topic": "topics",
                "agency": "agencies",
                "section": "sections",
                "beat": "beats",
                "role": "roles",
            }[name]
            return rng.choice(lex[key])
        if name == "social":
            return rng.choice(lex["socials"])
        if name == "social2":
            s1 = ctx.setdefault("social", rng.choice(lex["socials"]))
            return rng.choice([x for x in lex["socials"] if x != s1])
        if name == "handle":
            return re.sub(r"[^A-Za-z0-9]", "", T.straighten(self.site.name))[:15]
        if name == "email":
            who = ctx.get("author") or self.person()
            user = slugify(who).replace("-", ".")
            return f"{user}@{self.site.host.removeprefix('www.')}"
        if name in ("origin", "origin_host"):
            if "origin" not in ctx:
                others = [s for s in self.sites_by_lang.get(self.L.code, []) if s.host != self.site.host] or [
                    self.site
                ]
                o = rng.choice(others)
                ctx["origin"], ctx["origin_host"] = o.name, o.host
            return ctx[name]
        if name == "headline":
            return self.site_headline()
        if name in ("author", "author2"):
            return self.person()
        raise KeyError(name)

    def site_headline(self) -> str:
        h = self.ctx["_headlines"]
        return h.pop() if h else self.fill(self.rng.choice(self.L.headlines))

    def fill(self, template: str) -> str:
        return SLOT_RE.sub(lambda m: self.value(m.group(1)), template)


# ------------------------------------------------------------------ dates
def fmt_date(pattern: str, dt: datetime, lex: dict[str, Any], ampm: list[str], tz: str) -> str:
    d = dt.day
    if lex.get("ordinal") and not 10 < d % 100 < 14:
        ordsuf = {1: "st", 2: "nd", 3: "rd"}.get(d % 10, "th")
    elif lex.get("ordinal"):
        ordsuf = "th"
    else:
        ordsuf = lex.get("ordinal_suffix", "")
    vals = {
        "Dow": lex["weekdays"][dt.weekday()],
        "dow": lex["weekdays_abbr"][dt.weekday()],
        "Month": lex["months"][dt.month - 1],
        "Mon": lex["months_abbr"][dt.month - 1],
        "month": lex["months"][dt.month - 1].lower(),
        "d": str(d),
        "dd": f"{d:02d}",
        "m": str(dt.month),
        "mm": f"{dt.month:02d}",
        "yyyy": str(dt.year),
        "yy": f"{dt.year % 100:02d}",
        "HH": f"{dt.hour:02d}",
        "H": str(dt.hour),
        "h": str(dt.hour % 12 or 12),
        "MM": f"{dt.minute:02d}",
        "ampm": ampm[0] if dt.hour < 12 else ampm[1],
        "tz": tz,
        "ord": ordsuf,
    }
    out = SLOT_RE.sub(lambda m: vals[m.group(1)], pattern)
    return re.sub(r" {2,}", " ", out).strip(" ,")


# ------------------------------------------------------------------ site
@dataclass
class Site:
    name: str
    host: str
    lang: str
    archetype: str
    fold: int
    probs: dict[str, Any]
    html_p: float
    sep: str
    wrap: int
    curly: bool
    quote_pair: tuple[Any, ...]
    entities: bool
    semantic: bool
    fidelity: float
    title_p: float
    url_pattern: str
    staff: list[Any]
    roles: dict[str, Any]
    fixed: dict[str, Any] = field(default_factory=dict)
    style: dict[str, Any] = field(default_factory=dict)
    skin: dict[str, Any] = field(default_factory=dict)

    def summary(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "host": self.host,
            "lang": self.lang,
            "archetype": self.archetype,
            "fold": self.fold,
            "html_p": round(self.html_p, 3),
            "sep": repr(self.sep),
            "wrap": self.wrap,
            "curly": self.curly,
            "entities": self.entities,
            "semantic_classes": self.semantic,
            "staff": self.staff,
            "probs": {k: round(v, 3) for k, v in self.probs.items()},
            "fixed": self.fixed,
            "style": self.style,
            "skin": self.skin,
        }


def build_site(spec: dict[str, Any], L: LangData, seed: int) -> Site:
    rng = random.Random(seed * 1000003 + stable_hash(spec["host"]))
    lex = L.lex
    base = ARCHETYPES[spec["archetype"]]
    probs: dict[str, float] = {}
    for c in CATEGORIES:
        p = base.get(c, rng.choice([0.0, 0.03, 0.06, 0.1]))
        probs[c] = min(0.97, p * rng.uniform(0.75, 1.15))
    pairs = T.QUOTE_PAIRS[L.code]
    staff: list[str] = []
    while len(staff) < rng.randint(3, 7):
        who = f"{rng.choice(lex['first_names'])} {rng.choice(lex['last_names'])}"
        if who not in staff:
            staff.append(who)
    site = Site(
        name=spec["name"],
        host=spec["host"],
        lang=spec["lang"],
        archetype=spec["archetype"],
        fold=stable_hash("fold|" + spec["host"]) % 5,
        probs=probs,
        html_p=rng.uniform(0.05, 0.45),
        sep=rng.choice(["\n", "\n\n", "\n\n"]),
        wrap=rng.choice([0] * 9 + [rng.randint(64, 82)]),
        curly=rng.random() < 0.6,
        quote_pair=rng.choice(pairs),
        entities=rng.random() < 0.3,
        semantic=rng.random() < 0.75,
        fidelity=rng.uniform(0.72, 0.92),
        title_p=rng.uniform(0.85, 1.0),
        url_pattern=rng.choice(URL_PATTERNS),
        staff=staff,
        roles={who: rng.choice(lex["roles"]) for who in staff},
    )
    site.skin = {k: rng.choice(v) for k, v in SKIN_CHOICES.items()}
    B = L.boiler
    fx: dict[str, Any] = {}

    def some(cat: str, key: str, k: int = 1) -> list[Any]:
        pool = B[cat][key]
        return rng.sample(pool, min(k, len(pool)))

    for cat in (
        "signup_notice",
        "source_link",
        "share_prompt",
        "comments_prompt",
        "paywall_notice",
        "author_bio_line",
    ):
        fx[cat] = some(cat, "items", rng.choice([1, 1, 2]))
    fx["newsletter_cta"] = some("newsletter_cta", "items", rng.choice([1, 2]))
    fx["newsletter_box"] = some("newsletter_cta", "boxes", 1)
    fx["newsletter_name"] = rng.choice(lex["newsletters"])
    fx["ad_marker"] = some("ad_marker", "items", rng.choice([1, 1, 2]))
    fx["ad_commercial"] = some("ad_marker", "commercial", 2)
    fx["promo_headers"] = some("promo_block", "headers", rng.choice([1, 2]))
    fx["promo_single"] = some("promo_block", "single", 1)
    fx["cookie_text"] = some("cookie_notice", "texts", 1)
    fx["cookie_buttons"] = rng.choice(B["cookie_notice"]["buttons"])
    fx["video_player"] = some("video_caption", "players", 1)
    fx["image_credit"] = some("image_credit", "credits", rng.choice([1, 2]))
    fx["related_header"] = some("related_links", "headers", 1)
    fx["related_single"] = some("related_links", "single", 1)
    fx["ts_lines"] = some("timestamp_update", "lines", rng.choice([1, 2]))
    fx["ts_dates"] = some("timestamp_update", "dates", 1)
    fx["byline"] = some("byline", "items", rng.choice([1, 2]))
    fx["paywall_button"] = rng.choice(B["paywall_notice"]["buttons"])
    secs = lex["sections"]
    fx["nav_sections"] = rng.sample(secs, rng.randint(4, min(9, len(secs))))
    fx["nav_utility"] = some("navigation", "utility", rng.randint(1, 3))
    fx["footer_copyright"] = some("footer", "copyright", 1)
    fx["footer_lines"] = some("footer", "lines", rng.randint(1, 2))
    fx["footer_links"] = rng.sample(B["footer"]["links"], rng.randint(3, min(7, len(B["footer"]["links"]))))
    site.fixed = fx
    site.style = {
        "promo_caps": rng.random() < (0.7 if L.code == "en" else 0.35),
        "promo_ending": rng.choice(
            [":", ":", ":", "", "...", "\u2026", " \u2192", " >>", " \u00bb", " -", "!"]
        ),
        "promo_tagged": rng.random() < (0.55 if L.code == "en" else 0.2),
        "promo_tags": rng.sample(B["promo_block"]["tags"], min(6, len(B["promo_block"]["tags"]))),
        "promo_bullet": rng.choice([""] * 4 + T.BULLETS[:6]),
        "promo_list_p": rng.uniform(0.2, 0.8),
        "related_list_p": rng.uniform(0.3, 0.9),
        "related_bullet": rng.choice(["", "", "\u2022 ", "- ", "\u203a "]),
        "crumb_sep": rng.choice(B["navigation"]["breadcrumb_seps"]),
        "crumbs_p": rng.uniform(0.0, 0.7),
        "menu_inline": rng.random() < 0.5,
        "cookie_pos": rng.choice(["top", "top", "bottom"]),
        "buttons_inline": rng.random() < 0.5,
        "ts_pos": rng.choice(["after_title"] * 6 + ["before_title", "after_byline", "end"]),
        "byline_pos": rng.choice(["after_title", "after_title", "after_ts"]),
        "byline_caps": rng.random() < 0.12,
        "video_title_first": rng.random() < 0.2,
        "video_extra": rng.random() < 0.3,
        "credit_newline": rng.random() < 0.2,
        "gallery_p": rng.choice([0.0, 0.0, 0.3]),
        "items_joined_by_sep": rng.random() < 0.3,
        "meta_inline": rng.random() < 0.35,
        "plain_signup_glue": rng.uniform(0.2, 0.6),
        "nav_utility_p": rng.uniform(0.2, 0.8),
        "subhead_tag": rng.choice(["h2", "h2", "h3"]),
    }
    return site


# ------------------------------------------------------------------ document plan
@dataclass
class Block:
    kind: str  # title | p | h2 | li | quote
    text: str  # clean text (gold form)
    hn: str | None = None


@dataclass
class Item:
    cat: str
    kind: str
    lines: list[Any]  # label lines exactly as rendered in a text scrape / visible in html
    region: str  # pre | head | body | post | aside | footer
    data: dict[str, Any] = field(default_factory=dict)
    glue: str | None = None
    after: int = -1  # body insertion point: after body block index (-1 = before first)


@dataclass
class Plan:
    site: Site
    lang: str
    fmt: str
    title: str | None
    blocks: list[Any]  # body Blocks
    items: list[Any]  # Items
    notes: list[Any]
    dt: datetime
    story_key: str
    dev_text: bool = False
