"""Evaluate the pipeline on each set: predictions in, typed results out (no printing here)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from pipeline import __version__
from pipeline.core.config import Config
from pipeline.evaluation import aeb, wcxb
from pipeline.evaluation.data import (
    PLAIN_BASELINE_SETS,
    TUNED_ON,
    WCXB_SETS,
    Baseline,
    Page,
    PageSet,
    load_langid,
    load_newsboiler,
    load_page_set,
)
from pipeline.evaluation.langid import LangidScore, LangSentence, score_langid
from pipeline.evaluation.newsboiler import NewsboilerScore, NewsDoc, score_set
from pipeline.evaluation.plain import plain_baseline
from pipeline.evaluation.predict import InputDoc, Prediction, article_body, detect_languages, predict

SYSTEM = "cleanwire"
N_BOOTSTRAP = 1000


@dataclass(frozen=True)
class NewsboilerResult:
    docs: tuple[NewsDoc, ...]
    predictions: dict[str, str]
    score: NewsboilerScore


@dataclass(frozen=True)
class SystemScore:
    """One extractor's numbers on a page set (cleanwire or a baseline)."""

    name: str
    version: str
    aeb: aeb.SetScore
    wcxb: wcxb.WcxbSetScore | None  # WCXB's own metric, for the sets with its annotations only


@dataclass(frozen=True)
class PageResult:
    page: Page
    body: str
    aeb: aeb.PageScore
    status: str
    reason: str | None


@dataclass(frozen=True)
class TypeResult:
    """The systems' numbers on the pages of one page type (wcxb-train's service, forum, ...)."""

    page_type: str
    n: int
    systems: tuple[SystemScore, ...]  # in the order of PageSetResult.systems


@dataclass(frozen=True)
class PageSetResult:
    name: str
    pages: tuple[PageResult, ...]
    systems: tuple[SystemScore, ...]  # cleanwire first, then the baselines
    by_type: tuple[TypeResult, ...] = ()  # when the set holds more than one page type
    #: why the set's numbers are not a held-out measurement (a setting was tuned on it), or None
    tuned: str | None = None

    @property
    def bodies(self) -> dict[str, str]:
        return {r.page.id: r.body for r in self.pages}

    def worst(self, n: int) -> list[PageResult]:
        return sorted(self.pages, key=lambda r: (r.aeb.f1, r.page.id))[:n]


@dataclass(frozen=True)
class LangidResult:
    sentences: tuple[LangSentence, ...]
    predicted: tuple[str, ...]
    score: LangidScore


def eval_newsboiler(root: Path, config: Config, *, workers: int) -> NewsboilerResult:
    docs = tuple(load_newsboiler(root))
    inputs = [InputDoc(d.id, d.raw, d.format, d.url) for d in docs]
    preds = {p.id: p.text for p in predict(inputs, config, workers=workers, source="eval:newsboiler")}
    return NewsboilerResult(docs, preds, score_set(docs, preds))


def _read_page(page: Page) -> str:
    try:
        return page.html()
    except OSError:
        return ""  # the extract stage rejects it as empty: scored as an empty prediction


def _wcxb_score(pages: Sequence[Page], bodies: dict[str, str]) -> wcxb.WcxbSetScore:
    texts = [bodies.get(p.id, "") for p in pages]
    return wcxb.aggregate_wcxb(
        [wcxb.score_bag(p.gold, t) for p, t in zip(pages, texts, strict=True)],
        [
            wcxb.snippet_hits(t, p.with_snippets, p.without_snippets)
            for p, t in zip(pages, texts, strict=True)
        ],
    )


def score_system(
    page_set: PageSet,
    name: str,
    version: str,
    bodies: dict[str, str],
    *,
    n_bootstrap: int,
    pages: Sequence[Page] | None = None,
) -> SystemScore:
    """One system's numbers on the set (or on ``pages`` of it)."""
    pages = page_set.pages if pages is None else pages
    per_page = [aeb.score_page(p.gold, bodies.get(p.id, "")) for p in pages]
    return SystemScore(
        name,
        version,
        aeb.aggregate(per_page, n_bootstrap=n_bootstrap),
        _wcxb_score(pages, bodies) if page_set.name in WCXB_SETS else None,
    )


def _by_type(page_set: PageSet, systems: Sequence[tuple[str, str, dict[str, str]]]) -> tuple[TypeResult, ...]:
    types = sorted({p.page_type for p in page_set.pages if p.page_type})
    if len(types) < 2:
        return ()
    out = []
    for page_type in types:
        pages = [p for p in page_set.pages if p.page_type == page_type]
        scores = tuple(
            score_system(page_set, name, version, bodies, n_bootstrap=0, pages=pages)
            for name, version, bodies in systems
        )
        out.append(TypeResult(page_type, len(pages), scores))
    return tuple(out)


def _page_result(page: Page, pred: Prediction) -> PageResult:
    body = article_body(pred.text, pred.title)
    return PageResult(page, body, aeb.score_page(page.gold, body), pred.status, pred.reason)


def eval_page_set(
    root: Path, name: str, config: Config, *, workers: int, n_bootstrap: int = N_BOOTSTRAP
) -> PageSetResult:
    page_set = load_page_set(root, name)
    inputs = [InputDoc(p.id, _read_page(p), "html", p.url) for p in page_set.pages]
    preds: list[Prediction] = predict(inputs, config, workers=workers, source=f"eval:{name}")
    results = tuple(_page_result(page, pred) for page, pred in zip(page_set.pages, preds, strict=True))
    baselines: list[Baseline] = list(page_set.baselines)
    if name in PLAIN_BASELINE_SETS:
        baselines.append(plain_baseline(page_set.pages, workers=workers))
    named = [(SYSTEM, __version__, {r.page.id: r.body for r in results})]
    named += [(b.name, b.version, b.bodies) for b in baselines]
    systems = tuple(
        score_system(page_set, sys_name, version, bodies, n_bootstrap=n_bootstrap)
        for sys_name, version, bodies in named
    )
    return PageSetResult(name, results, systems, _by_type(page_set, named), TUNED_ON.get(name))


def eval_langid(root: Path, config: Config, *, workers: int) -> LangidResult:
    sentences = tuple(load_langid(root))
    predicted = tuple(detect_languages([s.text for s in sentences], config, workers=workers))
    return LangidResult(sentences, predicted, score_langid(sentences, predicted))
