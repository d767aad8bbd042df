"""Document plans (content blocks + labelled boilerplate items), the filling of a template's
slots (:class:`Filler`) and dates in a site's patterns (:func:`fmt_date`); the sites themselves
are :mod:`.sites`."""

from __future__ import annotations

import random
import re
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from . import textops as T
from .data import LangData
from .sites import Site

SLOT_RE = re.compile(r"\{([A-Za-z_][A-Za-z0-9_]*)\}")


def slugify(s: str) -> str:
    s = T.straighten(s).lower()
    table = str.maketrans("àáâãäåçèéêëìíîïñòóôõöùúûüýÿß", "aaaaaaceeeeiiiinooooouuuuyys")
    s = s.translate(table)
    return re.sub(r"[^a-z0-9]+", "-", s).strip("-")[:70].strip("-")


# ------------------------------------------------------------------ slot filling
#: Slots filled with a random entry of the language's lexicon list of that name.
LEXICON_SLOTS = {
    "town": "towns",
    "town2": "towns",
    "day": "weekdays",
    "month": "months",
    "brand": "brands",
    "newsletter": "newsletters",
    "topic": "topics",
    "agency": "agencies",
    "section": "sections",
    "beat": "beats",
    "role": "roles",
    "social": "socials",
}
#: Slots filled with a number (or a discount code) drawn for them.
NUMBER_SLOTS = {"n", "n2", "minutes", "count", "year", "price", "percent", "code"}


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
        """What fills the slot ``{name}``: the context's value, else one drawn for it
        (``{NAME}``: the same in capitals)."""
        if name in self.ctx:
            return self.ctx[name]
        if name.isupper() and name.lower() != name:
            return self.value(name.lower()).upper()
        if name in LEXICON_SLOTS:
            return self.rng.choice(self.L.lex[LEXICON_SLOTS[name]])
        if name in NUMBER_SLOTS:
            return self._number(name)
        return self._site_value(name)

    def _number(self, name: str) -> Any:
        """A count, a year, a price, a percentage or a discount code."""
        ctx, rng, lex = self.ctx, self.rng, self.L.lex
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
        # code
        return rng.choice(
            lex.get("code_words", ["SAVE", "READER", "NEWS", "WELCOME", "EXTRA", "DEAL"])
        ) + str(rng.choice([10, 15, 20, 25, 30]))

    def _site_value(self, name: str) -> Any:
        """A person, a social network, the site's handle or an address, the site a story came
        from, a headline."""
        ctx, rng, lex = self.ctx, self.rng, self.L.lex
        if name in ("name", "photographer", "person", "author", "author2"):
            return self.person()
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
