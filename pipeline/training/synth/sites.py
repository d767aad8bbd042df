"""The invented sites: each has its own recurring boilerplate (:class:`Site`), drawn once from
the seed and its host by :func:`build_site`: how likely each category is on a page of its
archetype, its staff, the phrasings it repeats, its markup skin (class names) and its style
(caps, separators, positions, bullets). Every draw is part of the corpus: the order of the calls
here is its bytes.
"""

from __future__ import annotations

import random
from dataclasses import dataclass, field
from typing import Any

from . import textops as T
from .data import CATEGORIES, LangData, stable_hash

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
    """The site of ``spec`` (name, host, language, archetype), drawn from ``seed`` and its host:
    its category probabilities, staff, fixed phrasings, markup skin and style."""
    rng = random.Random(seed * 1000003 + stable_hash(spec["host"]))
    lex = L.lex
    probs = _category_probs(rng, spec["archetype"])
    pairs = T.QUOTE_PAIRS[L.code]
    staff = _staff(rng, lex)
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
    site.fixed = _fixed_phrasings(rng, L)
    site.style = _style(rng, L)
    return site


def _category_probs(rng: random.Random, archetype: str) -> dict[str, float]:
    """How likely a document of the site carries each category: its archetype's, varied."""
    base = ARCHETYPES[archetype]
    probs: dict[str, float] = {}
    for c in CATEGORIES:
        p = base.get(c, rng.choice([0.0, 0.03, 0.06, 0.1]))
        probs[c] = min(0.97, p * rng.uniform(0.75, 1.15))
    return probs


def _staff(rng: random.Random, lex: dict[str, Any]) -> list[str]:
    staff: list[str] = []
    while len(staff) < rng.randint(3, 7):
        who = f"{rng.choice(lex['first_names'])} {rng.choice(lex['last_names'])}"
        if who not in staff:
            staff.append(who)
    return staff


def _fixed_phrasings(rng: random.Random, L: LangData) -> dict[str, Any]:
    """The phrasings the site uses again and again (taken with its ``fidelity``)."""
    lex = L.lex
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
    return fx


def _style(rng: random.Random, L: LangData) -> dict[str, Any]:
    """How the site writes and lays out its boilerplate (caps, endings, positions, bullets ...)."""
    B = L.boiler
    return {
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
