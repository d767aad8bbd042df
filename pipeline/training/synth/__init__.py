"""A seeded generator of synthetic labelled news documents, in newsboiler's schema
(``id, url, format, raw, gold_text, lang, boilerplate=[{category, text[, raw_text]}], notes``):
training material for the boilerplate model (:mod:`pipeline.training`).

Seven languages (en, de, fr, es, it, nl, pt), 17 categories, text scrapes and small HTML pages,
60 invented sites with their own recurring boilerplate. Every phrase pool, lexicon and article
under ``data/`` was written for this corpus (invented towns, people, brands, outlets, events).

Every pool is split deterministically: the ~20 % of entries with the lowest hash are the ``test``
part, the rest the ``train`` part; sites are split per language into 5 folds, fold 0 being the
``test`` sites. Training uses ``part="train", sites="train"`` (:data:`TRAIN_RECIPE`), so a held-out
synthetic set (``part="test", sites="test"``) has other phrasings, stories and sites. The train part
is split the same way once more, for tuning: ``part="fit", sites="fit"`` leaves out the phrasings,
stories and sites of ``part="dev", sites="dev"`` (the next ~20 % by hash, and the sites of fold 1),
so settings can be chosen on ``dev`` documents with a model fitted on ``fit``
(``cleanwire train --synthetic-part fit``) and the test part stays unseen.

The same arguments give the same documents, byte for byte::

    for doc in generate(3000, seed=19, part="train", sites="train", id_prefix="syntr"): ...

Modules: ``data`` (the pools under ``data/``), ``sites`` (the invented sites), ``compose`` (the
plan of a document, slot filling, dates), ``storyops`` (a story's per-document edits), ``maker``
and ``categories`` (a document's plan: story blocks and boilerplate items), ``render`` (the text
scrape, noise, gold and labels), ``page`` and ``html_items`` (the HTML page), ``textops``.

May import: the standard library only (it is data, not pipeline code).
"""

from __future__ import annotations

import json
import random
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any, Literal

from . import textops as T
from .compose import slugify
from .data import LANGS, load_lang, load_sites, stable_hash
from .maker import DocMaker, Options
from .page import render_html
from .render import Noise, gold_of, labels_of, render_text
from .sites import Site, build_site

Part = Literal["all", "train", "test", "fit", "dev"]

#: A site's fold (0-4, per language) by part: fold 0 is the held-out ``test`` sites, fold 1 the
#: ``dev`` sites of the tuning split, folds 2-4 its ``fit`` sites; ``train`` is folds 1-4.
SITE_FOLDS: dict[str, frozenset[int]] = {
    "all": frozenset(range(5)),
    "train": frozenset(range(1, 5)),
    "test": frozenset({0}),
    "fit": frozenset(range(2, 5)),
    "dev": frozenset({1}),
}


def site_in(fold: int, part: Part) -> bool:
    return fold in SITE_FOLDS[part]


DEFAULT_LANG_WEIGHTS = {"en": 0.4, "de": 0.1, "fr": 0.1, "es": 0.1, "it": 0.1, "nl": 0.1, "pt": 0.1}


@dataclass(frozen=True)
class Recipe:
    """The arguments of :func:`generate`."""

    n: int = 3000
    seed: int = 19
    part: Part = "train"
    sites: Part = "train"
    id_prefix: str = "syntr"

    def to_json(self) -> dict[str, Any]:
        return {
            "n": self.n,
            "seed": self.seed,
            "part": self.part,
            "sites": self.sites,
            "id_prefix": self.id_prefix,
        }


#: The synthetic corpus the shipped model was trained on.
#: The shipped model's synthetic corpus: 6,000 documents (lm-5, lm-6; lm-3 had 3,000). On the tuning split
#: (a model fitted on the ``fit`` part, scored on ``dev``) twice the documents took 0.011 more
#: boilerplate at equal preservation; 10,000 took no more than 6,000.
TRAIN_RECIPE = Recipe(n=6000)


def generate(
    n: int,
    *,
    seed: int = 19,
    part: Part = "train",
    sites: Part = "train",
    id_prefix: str = "syn",
    langs: tuple[str, ...] = tuple(LANGS),
    lang_weights: dict[str, float] | None = None,
    html_share: float = 0.25,
    mojibake: float = 0.13,
    noise: float = 0.10,
) -> Iterator[dict[str, Any]]:
    """``n`` labelled documents (newsboiler schema), deterministic in the arguments."""
    weights = dict(DEFAULT_LANG_WEIGHTS if lang_weights is None else lang_weights)
    pools = {c: load_lang(c, part) for c in langs}
    specs = [s for s in load_sites() if s["lang"] in langs]
    all_sites = [build_site(s, pools[s["lang"]], seed) for s in specs]
    by_lang: dict[str, list[Site]] = {}
    for s in all_sites:
        by_lang.setdefault(s.lang, []).append(s)
    for group in by_lang.values():  # folds per language, so that every language has held-out sites
        for rank, s in enumerate(sorted(group, key=lambda x: stable_hash("fold|" + x.host))):
            s.fold = rank % 5
    use_sites = {c: [s for s in v if site_in(s.fold, sites)] for c, v in by_lang.items()}
    use_sites = {c: v for c, v in use_sites.items() if v}
    opts = Options(html_share=html_share, mojibake_p=mojibake, noise_p=noise, dev_share=0.0)
    maker = DocMaker(pools, by_lang, opts, None)
    rng = random.Random(seed)
    wl = [(c, weights.get(c, 0.0)) for c in use_sites]
    for i in range(n):
        lang = rng.choices([c for c, _ in wl], [w for _, w in wl])[0]
        site = rng.choice(use_sites[lang])
        drng = random.Random(rng.getrandbits(64))
        yield make_doc(maker, site, drng, opts, f"{id_prefix}-{i + 1:06d}")


def generate_recipe(recipe: Recipe) -> Iterator[dict[str, Any]]:
    return generate(
        recipe.n, seed=recipe.seed, part=recipe.part, sites=recipe.sites, id_prefix=recipe.id_prefix
    )


def write_jsonl(docs: Iterator[dict[str, Any]], path: str) -> int:
    """Write documents as JSON lines (as the newsboiler set is written); the number written."""
    n = 0
    with open(path, "w", encoding="utf-8") as fh:
        for doc in docs:
            fh.write(json.dumps(doc, ensure_ascii=False) + "\n")
            n += 1
    return n


def make_url(site: Site, title: str, dt: Any, rng: random.Random) -> str:
    sec = slugify(rng.choice(site.fixed["nav_sections"])) or "news"
    path = site.url_pattern.format(
        section=sec,
        slug=slugify(title) or "article",
        id=rng.randint(100000, 9999999),
        yyyy=dt.year,
        mm=f"{dt.month:02d}",
        dd=f"{dt.day:02d}",
    )
    return f"https://{site.host}{path}"


def make_doc(maker: DocMaker, site: Site, rng: random.Random, opts: Options, doc_id: str) -> dict[str, Any]:
    plan = maker.make(rng, site)
    moj = rng.random() < opts.mojibake_p
    kinds: set[str] = set()
    if not moj and rng.random() < opts.noise_p:
        pool = (
            ["nbsp", "zero_width", "html_entities", "messy_whitespace"]
            if plan.fmt == "text"
            else ["nbsp", "zero_width"]
        )
        kinds = set(rng.sample(pool, rng.choice([1, 1, 1, 2])))
    noise = Noise(kinds, rng)
    raw = render_text(plan, rng, noise) if plan.fmt == "text" else render_html(plan, rng, noise)
    gold = gold_of(plan)
    labels = labels_of(plan)
    notes = list(plan.notes)
    if moj:
        enc = "cp1252" if rng.random() < 0.75 else "latin1"
        m = T.mojibake(raw, enc)
        if m != raw:
            raw = m
            notes.insert(0, f"mojibake ({enc})")
            for lab in labels:
                rt = T.mojibake(lab["text"], enc)
                if rt != lab["text"]:
                    lab["raw_text"] = rt
    if plan.fmt == "text":
        exact_spans(raw, labels)
    for k in ("html_entities", "nbsp", "zero_width", "messy_whitespace"):
        if k in noise.used:
            notes.append(k)
    if any(it.glue for it in plan.items):
        notes.append("glued")
    if plan.dev_text:
        notes.append("dev_text")
    title = plan.title or (plan.blocks[0].text if plan.blocks else "article")
    return {
        "id": doc_id,
        "url": make_url(site, title, plan.dt, rng),
        "format": plan.fmt,
        "lang": plan.lang,
        "raw": raw,
        "gold_text": gold,
        "boilerplate": labels,
        "notes": "; ".join(notes) or None,
    }


def exact_spans(raw: str, labels: list[dict[str, Any]]) -> None:
    """Text scrapes: make sure (raw_text or text) occurs verbatim in raw.

    A multi-line item whose lines are separated by blank lines (or by messy whitespace) in raw gets
    the exact raw span as raw_text."""
    pos = 0
    for lab in labels:
        form = lab.get("raw_text") or lab["text"]
        i = raw.find(form, pos)
        if i < 0:
            i = raw.find(form)
        if i >= 0:
            pos = i + len(form)
            continue
        lines = form.split("\n")
        start = raw.find(lines[0], pos)
        if start < 0:
            start = raw.find(lines[0])
        end, p = start, start
        for ln in lines:
            p = raw.find(ln, p)
            if p < 0:
                raise ValueError(f"label line not found in raw: {ln!r}")
            end = p + len(ln)
            p = end
        lab["raw_text"] = raw[start:end]
        pos = end
