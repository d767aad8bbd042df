"""A labelled near-duplicate set built from the evaluation data at run time (seeded, reproducible).

Nothing derived is stored: :func:`streams` reads the gold article bodies of ``../shared/eval``
(newsboiler dev ``gold_text``, WCXB and WCXB-train ``main_content``, AEB ``articleBody``) and
builds the documents and labelled pairs in memory. Two splits by source, so that parameters are
chosen on one and reported on the other: ``tune`` (WCXB-train bodies) and ``test`` (newsboiler,
WCXB and AEB bodies).

Every generated document is rendered as cleaned text would look after cleanwire with imperfect
boilerplate removal: ``headline``, an optional byline/dateline, the site's residual template lines
(prefix), the body paragraphs, residual template lines (suffix). Every body word carries its
provenance (base body, word index) or none (new words), so the share of two documents is exact:

    share(A, B) = |provenance(A) & provenance(B)| / max(body words of A, body words of B)

and a pair is ``positive`` when share >= 0.8, ``negative`` when share < 0.5 and ``gray`` in between
(excluded from precision and recall).

* clusters: an original on its site plus 1-4 copies, each made independently from the original:
  ``exact`` (same page under another URL), ``syndicated`` (another site's template, other
  headline/byline/dateline, trimmed tail or lead, an added paragraph, agency trailer, 0-3 % word
  edits), ``update`` (same site, an update paragraph, small edits);
* hard negatives, each from bases used nowhere else: ``same_template`` (two different bodies on one
  site with all of its template lines), ``shared_quote`` (two bodies quoting the same long
  passage), ``shared_paragraph`` (same topic: B reuses one background paragraph of A),
  ``same_site_natural`` (newsboiler articles of one site with its real boilerplate strings) and
  ``same_domain_natural`` (WCXB pages of one domain). Natural pairs are labelled by a word-level
  diff of their bodies (two real pages of one site can carry the same article).

Residue models: ``light`` (half the sites fully cleaned, the others keep 5-40 % of their template
lines) and ``heavy`` (every site keeps 20-90 %: a cleaner that knows none of the sites).
"""

from __future__ import annotations

import difflib
import itertools
import json
import random
import re
from collections import defaultdict
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import urlparse

from pipeline.core.errors import InputError
from pipeline.evaluation.data import load_news_file

Word = tuple[str, tuple[int, int] | None]

#: Bodies shorter than this many words are not used.
MIN_WORDS = 25
SEED = 23
#: The residue models (:data:`RESIDUE`) and splits.
SPLITS = ("test", "tune")  # surface, (base, index) or None for a new word


@dataclass
class Base:
    bid: int
    source: str
    site: str
    title: str | None
    paragraphs: list[list[Word]]
    boilerplate: list[str] = field(default_factory=list)
    page_type: str = "article"

    @property
    def n_words(self) -> int:
        return sum(len(p) for p in self.paragraphs)


@dataclass
class GenDoc:
    id: str
    kind: str
    headline: str
    top: list[str]
    prefix: list[str]
    body: list[list[Word]]
    suffix: list[str]

    def text(self) -> str:
        blocks = [self.headline, *self.top, *self.prefix]
        blocks += [" ".join(w for w, _ in para) for para in self.body if para]
        blocks += self.suffix
        return "\n\n".join(b for b in blocks if b)

    def provenance(self) -> set[tuple[int, int]]:
        return {p for para in self.body for _, p in para if p is not None}

    @property
    def n_body(self) -> int:
        return sum(len(p) for p in self.body)


def share(a: GenDoc, b: GenDoc) -> float:
    inter = len(a.provenance() & b.provenance())
    return inter / max(a.n_body, b.n_body, 1)


def diff_share(a: GenDoc, b: GenDoc) -> float:
    """Word-level share of two bodies by a diff (difflib), for pairs of *different* real pages,
    whose provenance says nothing: two pages of one site can carry the same article."""
    wa = [w.casefold() for para in a.body for w, _ in para]
    wb = [w.casefold() for para in b.body for w, _ in para]
    sm = difflib.SequenceMatcher(None, wa, wb, autojunk=False)
    return sum(m.size for m in sm.get_matching_blocks()) / max(len(wa), len(wb), 1)


def label_of(s: float) -> str:
    return "positive" if s >= 0.8 else ("negative" if s < 0.5 else "gray")


# --- loading ---------------------------------------------------------------------------------


def _paragraphs(text: str, bid: int, sep: str) -> list[list[Word]]:
    out: list[list[Word]] = []
    i = 0
    for block in re.split(sep, text):
        words = block.split()
        if words:
            out.append([(w, (bid, i + k)) for k, w in enumerate(words)])
            i += len(words)
    return out


def load_bases(root: Path, min_words: int = MIN_WORDS) -> dict[str, list[Base]]:
    bases: dict[str, list[Base]] = {"tune": [], "test": []}
    bid = 0

    def add(split: str, **kw: object) -> None:
        nonlocal bid
        text = str(kw.pop("text"))
        paras = _paragraphs(text, bid, str(kw.pop("sep")))
        base = Base(bid=bid, paragraphs=paras, **kw)  # type: ignore[arg-type]
        if base.n_words >= min_words:
            bases[split].append(base)
            bid += 1

    for doc in load_news_file(root / "newsboiler" / "dev.jsonl"):  # checked: a bad row is an InputError
        blocks = doc.gold_text.split("\n\n")
        title = None
        if len(blocks) > 1 and len(blocks[0].split()) <= 25 and not blocks[0].rstrip().endswith("."):
            title, blocks = blocks[0], blocks[1:]
        add(
            "test",
            source="newsboiler",
            site=urlparse(doc.url or "").netloc,
            title=title,
            text="\n\n".join(blocks),
            sep=r"\n\n",
            boilerplate=[b.text for b in doc.boilerplate],
        )
    for name, split in (("wcxb", "test"), ("wcxb-train", "tune")):
        if not (root / name / "metadata.json").is_file():
            continue  # wcxb-train: only the tune split needs it (streams says so when it is absent)
        meta = json.loads((root / name / "metadata.json").read_text(encoding="utf8"))
        for path in sorted((root / name / "ground-truth").glob("*.json")):
            gt = json.loads(path.read_text(encoding="utf8"))["ground_truth"]
            m = meta.get(path.stem, {})
            body = gt.get("main_content") or ""
            title = gt.get("title") or None
            if title and body.startswith(title):
                body = body[len(title) :]
            add(
                split,
                source=name,
                site=m.get("domain", "?"),
                title=title,
                text=body,
                sep=r"\n\s*\n",
                page_type=m.get("page_type", "article"),
            )
    aeb = json.loads((root / "aeb" / "ground-truth.json").read_text(encoding="utf8"))
    for key in sorted(aeb):
        add(
            "test",
            source="aeb",
            site=urlparse(aeb[key]["url"]).netloc,
            title=None,
            text=aeb[key]["articleBody"],
            sep=r"\n+",
        )
    return bases


# --- sites and templates -----------------------------------------------------------------------

_SITE_WORDS = [
    "Daily",
    "Herald",
    "Post",
    "Courier",
    "Gazette",
    "Ledger",
    "Times",
    "Tribune",
    "Observer",
    "Mirror",
    "Chronicle",
    "Echo",
    "Star",
    "Wire",
    "Journal",
    "Express",
    "Record",
    "Sentinel",
    "Bulletin",
    "Monitor",
]
_PLACES = [
    "Northfield",
    "Westgate",
    "Brightwater",
    "Capital",
    "Coast",
    "Harbour",
    "Valley",
    "Lakeside",
    "Riverside",
    "Hillcrest",
    "Eastbrook",
    "Oakham",
    "Redmere",
    "Ashford",
    "Kingsport",
]
_FIRST = [
    "Anna",
    "Tom",
    "Maria",
    "Jonas",
    "Sara",
    "Paul",
    "Lena",
    "Omar",
    "Chloe",
    "Ravi",
    "Ines",
    "Marek",
    "Julia",
    "Kofi",
    "Elena",
    "Sam",
]
_LAST = [
    "Keller",
    "Belling",
    "Novak",
    "Okafor",
    "Laurent",
    "Moreau",
    "Rossi",
    "Silva",
    "Jansen",
    "Walsh",
    "Patel",
    "Garcia",
    "Nowak",
    "Berg",
    "Costa",
]
_AGENCIES = ["Reuters", "AP", "AFP", "PA Media", "dpa", "EFE", "ANSA", "Bloomberg", "Press Association"]


@dataclass
class Site:
    name: str
    prefix: list[str]
    suffix: list[str]
    residue: float  # probability that a template line survives cleaning


#: How much of a site's template survives cleaning (probability per line, drawn per site).
#: ``light``: half the sites fully cleaned, the others keep 5-40 % of their template lines;
#: ``heavy``: every site keeps 20-90 % (a cleaner that knows none of these sites).
RESIDUE: dict[str, Callable[[random.Random], float]] = {
    "light": lambda rng: 0.0 if rng.random() < 0.5 else rng.uniform(0.05, 0.4),
    "heavy": lambda rng: rng.uniform(0.2, 0.9),
}


def make_sites(rng: random.Random, pool: list[str], n: int, residue_model: str) -> list[Site]:
    sites = []
    for _ in range(n):
        name = f"The {rng.choice(_PLACES)} {rng.choice(_SITE_WORDS)}"
        own = [
            f"© {rng.randint(2015, 2025)} {name}. All rights reserved.",
            f"Follow {name} on Facebook, X and Instagram for the latest news.",
            f"Sign up to the {name} morning newsletter: the day's top stories in your inbox.",
            f"Home | News | {rng.choice(_PLACES)} | Sport | Business | Opinion | Lifestyle",
        ]
        lines = own + rng.sample(pool, min(len(pool), 6))
        rng.shuffle(lines)
        k = rng.randint(1, 3)
        survive = RESIDUE[residue_model](rng)
        sites.append(Site(name, lines[:k], lines[k : k + rng.randint(1, 4)], survive))
    return sites


def residue(rng: random.Random, site: Site, p: float | None = None) -> tuple[list[str], list[str]]:
    p = site.residue if p is None else p
    return [x for x in site.prefix if rng.random() < p], [x for x in site.suffix if rng.random() < p]


def byline(rng: random.Random) -> str:
    name = f"{rng.choice(_FIRST)} {rng.choice(_LAST)}"
    return rng.choice(
        [f"By {name}", f"By {name}, {rng.choice(_AGENCIES)}", f"{name} | {rng.choice(_AGENCIES)}"]
    )


def headline_of(rng: random.Random, base: Base) -> str:
    if base.title:
        return base.title
    words = [w for w, _ in base.paragraphs[0][:12]]
    return " ".join(words).rstrip(".,;:") if words else "News"


def rewrite_headline(rng: random.Random, title: str, vocab: list[str]) -> str:
    words = title.split()
    if not words or rng.random() < 0.3:
        return " ".join(rng.choice(vocab) for _ in range(rng.randint(6, 12))).capitalize()
    out = [rng.choice(vocab) if rng.random() < 0.5 else w for w in words]
    if rng.random() < 0.5:
        rng.shuffle(out)
    return " ".join(out)


# --- body edits --------------------------------------------------------------------------------


def copy_body(base: Base) -> list[list[Word]]:
    return [list(p) for p in base.paragraphs]


def trim_tail(rng: random.Random, body: list[list[Word]], frac: float) -> list[list[Word]]:
    """Drop trailing paragraphs (or, with one paragraph, trailing words) up to ``frac`` of words."""
    total = sum(len(p) for p in body)
    budget = int(total * frac)
    body = [list(p) for p in body]
    while len(body) > 1 and len(body[-1]) <= budget:
        budget -= len(body[-1])
        body.pop()
    if len(body) == 1 and budget > 0:
        body[0] = body[0][: max(1, len(body[0]) - budget)]
    return body


def trim_lead(body: list[list[Word]], frac: float) -> list[list[Word]]:
    total = sum(len(p) for p in body)
    if len(body) > 2 and len(body[0]) <= frac * total:
        return body[1:]
    return body


def word_edits(rng: random.Random, body: list[list[Word]], rate: float, vocab: list[str]) -> list[list[Word]]:
    out = []
    for para in body:
        new: list[Word] = []
        for w in para:
            r = rng.random()
            if r < rate / 3:  # substitute
                new.append((rng.choice(vocab), None))
            elif r < 2 * rate / 3:  # delete
                continue
            elif r < rate:  # insert
                new.append(w)
                new.append((rng.choice(vocab), None))
            else:
                new.append(w)
        out.append(new)
    return out


def foreign_paragraph(rng: random.Random, donor: Base, max_words: int) -> list[Word]:
    para = rng.choice(donor.paragraphs)
    n = max(5, min(len(para), max_words))
    start = rng.randint(0, max(0, len(para) - n))
    return para[start : start + n]


# --- generation --------------------------------------------------------------------------------


@dataclass
class Generator:
    rng: random.Random
    split: str
    sites: list[Site]
    vocab: list[str]
    donors: list[Base]
    docs: list[GenDoc] = field(default_factory=list)
    pairs: list[tuple[str, str, str]] = field(default_factory=list)  # constructed (a, b, category)
    n: int = 0

    def new_id(self) -> str:
        self.n += 1
        return f"{self.split}-{self.n:05d}"

    def render(self, kind: str, base: Base, site: Site, body: list[list[Word]], **kw: object) -> GenDoc:
        rng = self.rng
        pre, suf = residue(rng, site, kw.get("p_residue"))  # type: ignore[arg-type]
        top = [byline(rng)] if rng.random() < float(kw.get("p_byline", 0.2)) else []  # type: ignore[arg-type]
        doc = GenDoc(
            self.new_id(), kind, str(kw.get("headline") or headline_of(rng, base)), top, pre, body, suf
        )
        self.docs.append(doc)
        return doc

    def cluster(self, base: Base) -> None:
        rng = self.rng
        site = rng.choice(self.sites)
        original = self.render("original", base, site, copy_body(base))
        n_copies = min(4, 1 + int(rng.expovariate(1.0)))
        for _ in range(n_copies):
            r = rng.random()
            if r < 0.1:  # the same page under another URL
                doc = GenDoc(self.new_id(), "exact", original.headline, original.top, original.prefix,
                          original.body, original.suffix)  # fmt: skip
                self.docs.append(doc)
                self.pairs.append((original.id, doc.id, "exact"))
            elif r < 0.25:
                self.update(base, original, site)
            else:
                self.syndicate(base, original, site)

    def syndicate(self, base: Base, original: GenDoc, site: Site) -> None:
        rng = self.rng
        other = rng.choice([s for s in self.sites if s is not site])
        body = copy_body(base)
        if rng.random() < 0.5:
            body = trim_tail(rng, body, rng.uniform(0.02, 0.2))
        if rng.random() < 0.1:
            body = trim_lead(body, 0.1)
        if rng.random() < 0.3:
            added = foreign_paragraph(rng, rng.choice(self.donors), max(5, int(0.15 * base.n_words)))
            added = [(w, None) for w, _ in added]  # new text, shared with nobody
            body = [*body, added] if rng.random() < 0.6 else [added, *body]
        body = word_edits(rng, body, rng.uniform(0.0, 0.03), self.vocab)
        if rng.random() < 0.3 and body and body[0]:
            place = rng.choice(_PLACES).upper()
            body[0] = [(f"{place} ({rng.choice(_AGENCIES)}) —", None), *body[0]]
        if rng.random() < 0.2:
            body.append(
                [
                    (w, None)
                    for w in f"Reporting by {byline(rng)[3:]}; editing by {rng.choice(_FIRST)} {rng.choice(_LAST)}".split()
                ]
            )
        headline = (
            original.headline if rng.random() < 0.3 else rewrite_headline(rng, original.headline, self.vocab)
        )
        doc = self.render("syndicated", base, other, body, headline=headline, p_byline=0.4)
        self.pairs.append((original.id, doc.id, "syndicated"))

    def update(self, base: Base, original: GenDoc, site: Site) -> None:
        rng = self.rng
        body = word_edits(rng, copy_body(base), rng.uniform(0.0, 0.01), self.vocab)
        update = foreign_paragraph(rng, rng.choice(self.donors), max(5, int(0.1 * base.n_words)))
        body = [[("Update:", None), *[(w, None) for w, _ in update]], *body]
        doc = self.render("update", base, site, body, headline=original.headline)
        self.pairs.append((original.id, doc.id, "update"))

    # hard negatives: a and b are different bases, used nowhere else

    def same_template(self, a: Base, b: Base) -> None:
        site = self.rng.choice(self.sites)
        da = self.render("neg_same_template", a, site, copy_body(a), p_residue=1.0, p_byline=0.0)
        db = self.render("neg_same_template", b, site, copy_body(b), p_residue=1.0, p_byline=0.0)
        self.pairs.append((da.id, db.id, "same_template"))

    def shared_quote(self, a: Base, b: Base) -> None:
        rng = self.rng
        donor = rng.choice(self.donors)
        n = max(15, int(0.4 * min(a.n_words, b.n_words)))
        quote = foreign_paragraph(rng, donor, min(n, 120))
        who = f"said {rng.choice(_FIRST)} {rng.choice(_LAST)}."
        qpara = [*quote, (who, None)]
        docs = []
        for base in (a, b):
            body = copy_body(base)
            at = rng.randint(0, len(body))
            body.insert(at, qpara)
            docs.append(self.render("neg_shared_quote", base, rng.choice(self.sites), body))
        self.pairs.append((docs[0].id, docs[1].id, "shared_quote"))

    def shared_paragraph(self, a: Base, b: Base) -> None:
        rng = self.rng
        site = rng.choice(self.sites)
        da = self.render("neg_shared_paragraph", a, site, copy_body(a))
        borrowed = foreign_paragraph(rng, a, max(10, int(0.3 * b.n_words)))
        body = copy_body(b)
        body.insert(rng.randint(1, len(body)), borrowed)
        db = self.render("neg_shared_paragraph", b, site, body)
        self.pairs.append((da.id, db.id, "shared_paragraph"))

    def natural_site(self, group: list[Base], kind: str, with_boilerplate: bool) -> None:
        docs = []
        for base in group:
            site = Site(base.site, [], [], 1.0)
            doc = self.render(kind, base, site, copy_body(base), p_byline=0.0)
            if with_boilerplate:
                doc.suffix = list(base.boilerplate)
            docs.append(doc)
        for x, y in itertools.combinations(docs, 2):
            self.pairs.append((x.id, y.id, kind.removeprefix("neg_")))


def build(
    name: str, bases: list[Base], pool: list[str], seed: int, residue_model: str = "light"
) -> Generator:
    """One stream of split ``name`` (``tune-r1``, ``test-r2``, ...)."""
    rng = random.Random(f"{seed}-{name}")
    split = name.split("-")[0]
    bases = list(bases)
    vocab = sorted({w for b in bases for p in b.paragraphs for w, _ in p if w.isalpha() and len(w) > 3})
    # natural groups first (they need specific bases), then a seeded partition of the rest
    natural_kind = "neg_same_site_natural" if split == "test" else "neg_same_domain_natural"
    by_site: dict[str, list[Base]] = defaultdict(list)
    for b in bases:
        if split == "test" and b.source != "newsboiler":
            continue
        by_site[b.site].append(b)
    used: set[int] = set()
    groups = []
    for site_name in sorted(by_site):
        group = by_site[site_name]
        if len(group) >= 2:
            take = group[: min(len(group), 4)]
            groups.append(take)
            used.update(b.bid for b in take)
    rest = [b for b in bases if b.bid not in used]
    rng.shuffle(rest)
    n = len(rest)
    if n < 10:  # a tenth of them lend paragraphs to the copies: none would be an IndexError
        raise InputError(
            f"neardup: the {split} split has too few bodies of {MIN_WORDS}+ words to build a stream from "
            f"({len(bases)}, {n} of them outside same-site groups; at least 10 needed)",
            hint="the test split is built from newsboiler/, aeb/ and wcxb/, the tune split from wcxb-train/",
        )
    donors = rest[: n // 10]
    neg = rest[n // 10 : n // 10 + int(0.45 * n)]
    pos = rest[n // 10 + int(0.45 * n) :]
    gen = Generator(rng, name, make_sites(rng, pool, 30, residue_model), vocab, donors)
    for g in groups:
        gen.natural_site(g, natural_kind, with_boilerplate=split == "test")
    for base in pos:
        gen.cluster(base)
    neg.sort(key=lambda b: b.n_words)  # pair bases of similar length: the hardest case for templates
    kinds = [gen.same_template, gen.shared_quote, gen.shared_paragraph]
    for i in range(0, len(neg) - 1, 2):
        kinds[(i // 2) % 3](neg[i], neg[i + 1])
    return gen


def all_pairs(gen: Generator) -> Iterator[dict[str, object]]:
    """Every pair sharing provenance, plus the constructed pairs (which may share none)."""
    by_base: dict[int, list[int]] = defaultdict(list)
    provs = [d.provenance() for d in gen.docs]
    for i, prov in enumerate(provs):
        for b in {p[0] for p in prov}:
            by_base[b].append(i)
    category = {(a, b): c for a, b, c in gen.pairs} | {(b, a): c for a, b, c in gen.pairs}
    seen: set[tuple[int, int]] = set()
    index = {d.id: i for i, d in enumerate(gen.docs)}
    candidates: set[tuple[int, int]] = {
        (min(index[a], index[b]), max(index[a], index[b])) for a, b, _ in gen.pairs
    }
    for members in by_base.values():
        candidates.update(itertools.combinations(sorted(members), 2))
    for i, j in sorted(candidates):
        if (i, j) in seen:
            continue
        seen.add((i, j))
        da, db = gen.docs[i], gen.docs[j]
        s = share(da, db)
        cat = category.get((da.id, db.id))
        if cat is not None and cat.endswith("_natural"):
            s = max(s, diff_share(da, db))
        if cat is None:
            cat = "copy_copy" if s >= 0.5 else "incidental"
        yield {"a": da.id, "b": db.id, "share": round(s, 4), "label": label_of(s), "category": cat}


@dataclass(frozen=True)
class Pair:
    a: str
    b: str
    share: float
    label: str  # positive | negative | gray
    category: str


@dataclass(frozen=True)
class Stream:
    """One stream of documents in the (seeded, shuffled) order the stage sees them, and the
    labelled pairs among them."""

    name: str
    docs: tuple[tuple[str, str, str], ...]  # (id, kind, text)
    pairs: tuple[Pair, ...]

    def shares(self) -> dict[tuple[str, str], float]:
        out: dict[tuple[str, str], float] = {}
        for p in self.pairs:
            out[(p.a, p.b)] = out[(p.b, p.a)] = p.share
        return out


def streams(
    root: Path, split: str = "test", residue: str = "light", *, rounds: int = 3, seed: int = SEED
) -> list[Stream]:
    """The ``rounds`` independent streams of ``split`` (other seeds), built from ``root``."""
    if split not in SPLITS or residue not in RESIDUE:
        raise ValueError(f"split must be one of {SPLITS} and residue one of {sorted(RESIDUE)}")
    bases = load_bases(root)
    if not bases[split]:
        raise InputError(
            f"neardup: no document for the {split} split under {root}",
            hint="the test split is built from newsboiler/, aeb/ and wcxb/, the tune split from wcxb-train/",
        )
    pool = sorted({b for base in bases["test"] for b in base.boilerplate if len(b) < 300})
    out = []
    for rnd in range(1, rounds + 1):
        name = f"{split}-r{rnd}"
        gen = build(name, bases[split], pool, seed + 1000 * (rnd - 1), residue)
        order = list(range(len(gen.docs)))
        random.Random(f"{seed}-order-{name}").shuffle(order)
        docs = tuple((gen.docs[i].id, gen.docs[i].kind, gen.docs[i].text()) for i in order)
        pairs = tuple(
            Pair(str(p["a"]), str(p["b"]), float(p["share"]), str(p["label"]), str(p["category"]))  # type: ignore[arg-type]
            for p in all_pairs(gen)
        )
        out.append(Stream(name, docs, pairs))
    return out
