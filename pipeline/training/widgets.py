"""Learning the widget token table (``stages/extract/widget_tokens.json``) from WCXB's training pages.

Every element of a page's body (after the extractor's own parse and :func:`drop_inert`) is
labelled by its text: *boilerplate* when under :data:`BP_BELOW` of its word 4-grams occur in the
page's gold main content and it holds none of the annotators' ``with`` snippets, *content* when at
least :data:`CONTENT_FROM` of them do (or it holds a ``with`` snippet); elements of fewer than
:data:`MIN_WORDS` words and the ones in between are not counted. Per token
(:func:`stages.extract.widgets.element_tokens`), each domain votes once: content when more than
:data:`CONTENT_SHARE` of the labelled text of the token's elements there is content, boilerplate
otherwise (a token is a widget token only where it (almost) never carries main content).
A token's weight is ``log((bp + 1) / (content + 1))`` over the domains' votes, kept when at least
``min_domains`` domains voted (a tag only with a positive weight; positive weights under the
threshold, which never decide, are left out).

``--cv`` chooses ``min_domains`` and the threshold with 5 leave-domain-out folds, by what pruning
does to the held-out pages' DOM text (``with`` snippets lost, ``without`` snippets taken, gold words
lost); ``--write`` fits the table on all the pages with the chosen values; ``--cv-eval`` runs the
whole pipeline on wcxb-train with each page pruned by the table of the folds that did not see its
domain, beside pruning off and plain trafilatura, per page type; ``--time-aeb`` times extraction
with and without pruning. Deterministic: the same pages give the same file. Run::

    python -m pipeline.training.widgets --data ../shared/eval --cv
    python -m pipeline.training.widgets --data ../shared/eval --min-domains 10 --threshold 3 --write
"""

from __future__ import annotations

import argparse
import contextlib
import hashlib
import json
import math
import os
import re
import tempfile
import time
from collections import defaultdict
from collections.abc import Iterable, Sequence
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from pipeline.core.config import Config, ExtractConfig
from pipeline.core.stage import RejectRecord
from pipeline.evaluation.data import Page, load_page_set
from pipeline.evaluation.plain import plain_baseline
from pipeline.evaluation.predict import InputDoc, article_body, predict
from pipeline.evaluation.suite import score_system
from stages.extract.extractor import drop_inert, extract_html, parse_html, utf8_page
from stages.extract.widgets import TABLE_FILE, WidgetTable, element_tokens, prune_widgets

BP_BELOW = 0.2
CONTENT_FROM = 0.6
MIN_WORDS = 5
CONTENT_SHARE = 0.1
N_FOLDS = 5
_WORD = re.compile(r"\w+")
_SPACE = re.compile(r"\s+")


def _shingles(words: Sequence[str]) -> set[tuple[str, ...]]:
    return {tuple(words[i : i + 4]) for i in range(max(1, len(words) - 3))}


def _norm(text: str) -> str:
    return _SPACE.sub(" ", text).strip().lower()


@dataclass(frozen=True, slots=True)
class PageVotes:
    """One page's labelled text per token: ``{token: (boilerplate chars, content chars)}``."""

    id: str
    domain: str
    page_type: str
    chars: dict[str, tuple[int, int]]


def page_votes(page: Page, domain: str) -> PageVotes:
    tree: Any = parse_html(utf8_page(page.html()))
    drop_inert(tree)
    gold = _shingles(_WORD.findall(page.gold.lower()))
    withs = [_norm(s) for s in page.with_snippets if s.strip()]
    body = tree.find("body")
    chars: dict[str, list[int]] = defaultdict(lambda: [0, 0])
    for el in (tree if body is None else body).iter():
        if not isinstance(el.tag, str):
            continue
        text = _norm(el.text_content())
        words = _WORD.findall(text)
        if len(words) < MIN_WORDS:
            continue
        sh = _shingles(words)
        share = len(sh & gold) / len(sh)
        has_with = any(w in text for w in withs)
        if has_with or share >= CONTENT_FROM:
            side = 1
        elif share < BP_BELOW:
            side = 0
        else:
            continue
        for tok in element_tokens(el):
            chars[tok][side] += len(text)
    return PageVotes(page.id, domain, page.page_type or "", {k: (v[0], v[1]) for k, v in chars.items()})


def fit(votes: Iterable[PageVotes], *, min_domains: int, threshold: float) -> WidgetTable:
    """The table from the pages' votes (one vote per token and domain)."""
    per_domain: dict[tuple[str, str], list[int]] = defaultdict(lambda: [0, 0])
    for pv in votes:
        for tok, (bp, ct) in pv.chars.items():
            acc = per_domain[(tok, pv.domain)]
            acc[0] += bp
            acc[1] += ct
    counts: dict[str, list[int]] = defaultdict(lambda: [0, 0])
    for (tok, _), (bp, ct) in per_domain.items():
        counts[tok][1 if ct > CONTENT_SHARE * (bp + ct) else 0] += 1
    weights = {
        tok: math.log((bp + 1) / (ct + 1))
        for tok, (bp, ct) in sorted(counts.items())
        if bp + ct >= min_domains
    }
    # a tag is evidence of a widget (<nav>, <form>), never of content: <div> and <p> hold content on
    # most pages, and as negative weights they would hold back every div.newsletter
    weights = {tok: w for tok, w in weights.items() if w > 0 or not tok.startswith("<")}
    # a positive weight under the threshold never decides (the score is the largest positive
    # weight plus the most negative one): left out of the file
    weights = {tok: w for tok, w in weights.items() if w >= threshold or w < 0}
    meta = {
        "min_domains": min_domains,
        "source": "wcxb-train",
        "label": f"bp<{BP_BELOW} content>={CONTENT_FROM}",
    }
    return WidgetTable(weights=weights, threshold=threshold, meta=meta)


def fold_of(domain: str) -> int:
    return int(hashlib.sha256(domain.encode()).hexdigest(), 16) % N_FOLDS


@dataclass(frozen=True, slots=True)
class Effect:
    """What pruning did to one page's DOM text."""

    with_before: int
    with_after: int
    without_before: int
    without_after: int
    gold_before: int
    gold_after: int
    pruned: int


def _found(text: str, snippets: Sequence[str]) -> int:
    return sum(_norm(s) in text for s in snippets if s.strip())


def _gold_words(text: str, gold: set[str]) -> int:
    return len(set(_WORD.findall(text)) & gold)


def effect(page: Page, table: WidgetTable) -> Effect:
    tree: Any = parse_html(utf8_page(page.html()))
    drop_inert(tree)
    body = tree.find("body")
    root = tree if body is None else body
    gold = set(_WORD.findall(page.gold.lower()))
    before = _norm(root.text_content())
    pruned = prune_widgets(tree, table)
    after = _norm(root.text_content())
    return Effect(
        _found(before, page.with_snippets),
        _found(after, page.with_snippets),
        _found(before, page.without_snippets),
        _found(after, page.without_snippets),
        _gold_words(before, gold),
        _gold_words(after, gold),
        len(pruned),
    )


def _effect_job(args: tuple[Page, str]) -> Effect:
    page, table_json = args
    return effect(page, WidgetTable.from_json(table_json))


def _votes_job(args: tuple[Page, str]) -> PageVotes:
    return page_votes(*args)


def load(root: Path) -> tuple[list[Page], dict[str, str]]:
    pages = list(load_page_set(root, "wcxb-train").pages)
    meta = json.loads((root / "wcxb-train" / "metadata.json").read_text(encoding="utf-8"))
    return pages, {pid: str(m["domain"]) for pid, m in meta.items()}


def summarize(effects: Sequence[Effect]) -> dict[str, float]:
    def tot(name: str) -> int:
        return sum(getattr(e, name) for e in effects)

    return {
        "with_lost": 1 - tot("with_after") / max(1, tot("with_before")),
        "without_taken": 1 - tot("without_after") / max(1, tot("without_before")),
        "gold_words_lost": 1 - tot("gold_after") / max(1, tot("gold_before")),
        "pages_touched": sum(e.pruned > 0 for e in effects) / max(1, len(effects)),
        "pruned_per_page": tot("pruned") / max(1, len(effects)),
    }


def cv_eval(
    root: Path,
    votes: Sequence[PageVotes],
    *,
    min_domains: int,
    threshold: float,
    workers: int,
    systems: Sequence[str] = ("plain", "off", "on_cv"),
) -> None:
    """The whole pipeline (``cleanwire eval``'s predictions and scorers) on wcxb-train: plain
    trafilatura, cleanwire without pruning, and cleanwire with pruning by tables that did not see
    the page's domain (5 leave-domain-out folds), per page type. Prints one JSON line per row."""
    page_set = load_page_set(root, "wcxb-train")
    domain = {v.id: v.domain for v in votes}

    def bodies(pages: Sequence[Page], cfg: Config) -> dict[str, str]:
        inputs = [InputDoc(p.id, p.html(), "html", p.url) for p in pages]
        preds = predict(inputs, cfg, workers=workers, source="eval:wcxb-train")
        return {p.id: article_body(r.text, r.title) for p, r in zip(pages, preds, strict=True)}

    base = Config()
    got: dict[str, dict[str, str]] = {}
    if "off" in systems:
        got["off"] = bodies(page_set.pages, base)
    on: dict[str, str] = {}
    with tempfile.TemporaryDirectory() as tmp:
        for k in range(N_FOLDS if "on_cv" in systems else 0):
            table = fit(
                [v for v in votes if fold_of(v.domain) != k], min_domains=min_domains, threshold=threshold
            )
            path = Path(tmp) / f"fold{k}.json"
            path.write_text(table.to_json(), encoding="utf-8")
            cfg = base.with_overrides({"extract.prune_widgets": True, "extract.widget_table": str(path)})
            on.update(bodies([p for p in page_set.pages if fold_of(domain[p.id]) == k], cfg))
    if on:
        got["on_cv"] = on
    if "plain" in systems:
        got["plain"] = plain_baseline(page_set.pages, workers=workers).bodies
    types = [*sorted({p.page_type or "" for p in page_set.pages}), "all"]
    for page_type in types:
        subset = [p for p in page_set.pages if page_type in ("all", p.page_type)]
        for name in systems:
            sc = score_system(page_set, name, "", got[name], n_bootstrap=0, pages=subset)
            w = sc.wcxb
            row = {"type": page_type, "n": len(subset), "system": name, "aeb_f1": round(sc.aeb.f1, 4)}
            if w is not None:
                row |= {
                    "wcxb_f1": round(w.f1, 4),
                    "with": round(w.with_rate, 4),
                    "without": round(w.without_rate, 4),
                }
            print(json.dumps(row), flush=True)


def time_aeb(root: Path, *, repeats: int = 3) -> dict[str, float]:
    """CPU time (this process, ``time.process_time``) of :func:`extract_html` per AEB page without
    and with pruning, interleaved page by page (order alternating), after one warm-up pass."""
    pages = load_page_set(root, "aeb").pages
    htmls = [(p.html(), p.url) for p in pages]
    configs = {"off": ExtractConfig(), "on": ExtractConfig(prune_widgets=True)}
    spent = {"off": 0.0, "on": 0.0}
    for rep in range(repeats + 1):
        for i, (html, url) in enumerate(htmls):
            for name in ("off", "on") if (i + rep) % 2 == 0 else ("on", "off"):
                t0 = time.process_time()
                with contextlib.suppress(RejectRecord):
                    extract_html(html, url=url, config=configs[name])
                if rep:
                    spent[name] += time.process_time() - t0
    n = repeats * len(htmls)
    off, on = spent["off"] / n * 1000, spent["on"] / n * 1000
    return {
        "pages": len(htmls),
        "repeats": repeats,
        "off_ms": round(off, 2),
        "on_ms": round(on, 2),
        "added_ms": round(on - off, 2),
    }


def main(argv: Sequence[str] | None = None) -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--data", type=Path, default=Path("../shared/eval"))
    ap.add_argument("--cv", action="store_true", help="leave-domain-out grid over min-domains x threshold")
    ap.add_argument("--min-domains", type=int, default=10)
    ap.add_argument("--threshold", type=float, default=3.0)
    ap.add_argument("--write", action="store_true", help=f"write stages/extract/{TABLE_FILE}")
    ap.add_argument("--workers", type=int, default=os.cpu_count() or 1)
    ap.add_argument("--folds-out", type=Path, help="with --cv: write each fold's table here")
    ap.add_argument(
        "--cv-eval",
        action="store_true",
        help="the whole pipeline, pruning by out-of-fold tables, per page type",
    )
    ap.add_argument("--systems", default="plain,off,on_cv", help="with --cv-eval: which of plain,off,on_cv")
    ap.add_argument("--time-aeb", action="store_true", help="CPU ms per AEB page of extraction, off vs on")
    args = ap.parse_args(argv)
    if args.time_aeb:
        print(json.dumps(time_aeb(args.data)))
        return

    pages, domains = load(args.data)
    with ProcessPoolExecutor(args.workers) as pool:
        votes = list(pool.map(_votes_job, [(p, domains[p.id]) for p in pages], chunksize=8))
        if args.cv:
            grid = [(m, t) for m in (5, 10) for t in (2.0, 2.5, 3.0, 3.5)]
            for m, t in grid:
                jobs = []
                for k in range(N_FOLDS):
                    table = fit([v for v in votes if fold_of(v.domain) != k], min_domains=m, threshold=t)
                    if args.folds_out:
                        args.folds_out.mkdir(parents=True, exist_ok=True)
                        (args.folds_out / f"m{m}_t{t}_fold{k}.json").write_text(
                            table.to_json(), encoding="utf-8"
                        )
                    tj = table.to_json()
                    jobs += [(p, tj) for p in pages if fold_of(domains[p.id]) == k]
                res = summarize(list(pool.map(_effect_job, jobs, chunksize=8)))
                print(
                    json.dumps({"min_domains": m, "threshold": t, **{k: round(v, 4) for k, v in res.items()}})
                )
    if args.write:
        table = fit(votes, min_domains=args.min_domains, threshold=args.threshold)
        out = Path(__file__).resolve().parents[2] / "stages" / "extract" / TABLE_FILE
        out.write_text(table.to_json(), encoding="utf-8")
        print(f"wrote {out}: {len(table.weights)} tokens", flush=True)
    if args.cv_eval:
        cv_eval(
            args.data,
            votes,
            min_domains=args.min_domains,
            threshold=args.threshold,
            workers=args.workers,
            systems=args.systems.split(","),
        )


if __name__ == "__main__":
    main()
