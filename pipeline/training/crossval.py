"""Cross-validation with whole sites or domains held out, scored end to end.

Folds, per set (every fold trains on everything else, the other sets included):

* ``newsboiler``: one fold per host (leave-site-out);
* ``wcxb-train`` (and any WCXB-style set): 5 folds of whole domains (leave-domain-out);
* the synthetic corpus and a user's own sets: 4 folds of whole hosts.

Every unit gets the probability of the model that did not see its document ("out of fold"). With
it each held-out document goes through the boilerplate stage's own decision
(:func:`stages.boilerplate.learned.removals`, the stage's budget and cut), then ``normalize`` and the
length filter, and is scored: newsboiler's removal recall, preservation and exact match
(:mod:`pipeline.evaluation.newsboiler`, the reference scorer's definitions) per category, language
and format; for WCXB-style pages the share of ``with`` snippets kept and of ``without`` snippets left
(:mod:`pipeline.evaluation.wcxb`); and the units' precision and recall against their labels.
"""

from __future__ import annotations

import dataclasses
import time
from collections import defaultdict
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field, replace

import numpy as np
import numpy.typing as npt

from pipeline.core.errors import CleanwireError, InputError

try:  # the train extra, see pipeline.training.fit
    from sklearn.model_selection import GroupKFold
except ImportError as exc:  # pragma: no cover - the test extra installs it
    raise CleanwireError(
        f"training needs scikit-learn ({exc.name} is not installed)",
        hint="pip install 'cleanwire[train]'",
    ) from exc

from pipeline.core.config import Config
from pipeline.core.record import Doc
from pipeline.evaluation import wcxb
from pipeline.evaluation.newsboiler import NewsboilerScore, NewsDoc, score_set
from pipeline.training.corpus import Example
from pipeline.training.fit import Matrix, categories, fit_model, probabilities
from pipeline.training.labels import BOILERPLATE, CONTENT
from stages.boilerplate.codes import F64
from stages.boilerplate.engine import Found
from stages.boilerplate.learned import Pending, Thresholds, gates, model_rule, removals, taken_units, touched
from stages.boilerplate.sitename import SiteName
from stages.boilerplate.stage import Boilerplate
from stages.normalize import normalize_layout, strip_extracted_bullets

NEWSBOILER = "newsboiler"
#: Folds for the sets other than newsboiler's (which gets one per host).
PAGE_FOLDS = 5
NEWS_FOLDS = 4
#: Thresholds the report sweeps besides the configured one.
SWEEP = (0.5, 0.7, 0.8, 0.85, 0.9, 0.95)


@dataclass(frozen=True)
class Fold:
    scheme: str
    test: npt.NDArray[np.int64]


def folds(examples: Sequence[Example]) -> list[Fold]:
    """The held-out folds of every set (see the module docstring)."""
    by_set: dict[str, list[int]] = defaultdict(list)
    for k, ex in enumerate(examples):
        if ex.ok and ex.units:
            by_set[ex.item.set].append(k)
    out: list[Fold] = []
    for name, idx in by_set.items():
        groups = [examples[k].item.group for k in idx]
        kind = "pages" if examples[idx[0]].item.page is not None else "news"
        scheme = f"{name}: leave-{'domain' if kind == 'pages' else 'site'}-out"
        if name == NEWSBOILER:
            for g in sorted(set(groups)):
                out.append(Fold(scheme, np.asarray([k for k, h in zip(idx, groups, strict=True) if h == g])))
            continue
        n = min(PAGE_FOLDS if kind == "pages" else NEWS_FOLDS, len(set(groups)))
        if n < 2:
            continue  # one site: nothing can be held out
        arr = np.asarray(idx, dtype=np.int64)
        for _, te in GroupKFold(n).split(arr, groups=groups):
            out.append(Fold(scheme, arr[te]))
    return out


def one_group_sets(examples: Sequence[Example]) -> dict[str, list[str]]:
    """The sets (with documents to score) whose documents all share one site or domain: their
    :func:`folds` hold nothing out."""
    by_set: dict[str, set[str]] = defaultdict(set)
    for ex in examples:
        if ex.ok and ex.units:
            by_set[ex.item.set].add(ex.item.group)
    return {name: sorted(g) for name, g in by_set.items() if len(g) < 2 and name != NEWSBOILER}


@dataclass
class OutOfFold:
    """Every unit's out-of-fold probability (NaN: not held out anywhere) and, for the units at or
    above the threshold, the category head's answer."""

    p: F64
    category: dict[int, str] = field(default_factory=dict)
    schemes: dict[str, npt.NDArray[np.int64]] = field(default_factory=dict)


def out_of_fold(
    examples: Sequence[Example],
    m: Matrix,
    threshold: float,
    *,
    log: Callable[[str], None] = lambda _: None,
) -> OutOfFold:
    """Fit one model per fold on everything else; score the fold's units."""
    every = np.arange(len(examples), dtype=np.int64)
    oof = OutOfFold(np.full(m.X.shape[0], np.nan))
    t0 = time.perf_counter()
    all_folds = folds(examples)
    held = {f.scheme.split(": leave-")[0] for f in all_folds}
    for name, groups in one_group_sets(examples).items():
        if name not in held:
            log(
                f"train: --cv: every document of {name} is on one site or domain ({', '.join(groups)}): "
                "nothing of it can be held out, so it is not cross-validated"
            )
    for i, fold in enumerate(all_folds, 1):
        try:
            model = fit_model(m, np.setdiff1d(every, fold.test), threshold=threshold, info={})
        except InputError as exc:  # e.g. every boilerplate item is on the held-out sites
            raise InputError(
                f"cross-validation fold {i}/{len(all_folds)} ({fold.scheme}, {len(fold.test)} documents held "
                f"out): {exc.message}",
                hint="the model file is written; to cross-validate, label boilerplate and content on more sites",
            ) from exc
        rows = m.rows_of(fold.test)
        oof.p[rows] = probabilities(model, m, rows, masked=False)
        picked = rows[(oof.p[rows] >= min((*SWEEP, threshold))) | (m.y[rows] == BOILERPLATE)]
        oof.category.update(zip(picked.tolist(), categories(model, m, picked), strict=True))
        have = oof.schemes.get(fold.scheme)
        oof.schemes[fold.scheme] = fold.test if have is None else np.concatenate([have, fold.test])
        log(
            f"fold {i}/{len(all_folds)} ({fold.scheme}): {len(fold.test)} documents, {time.perf_counter() - t0:.0f} s"
        )
    return oof


# --- end to end --------------------------------------------------------------------------------------


def cleaned(
    ex: Example,
    p: F64 | None,
    threshold: float,
    stage: Boilerplate,
    config: Config,
    category: dict[int, str] | None = None,
    offset: int = 0,
    *,
    rules: bool = True,
) -> str:
    """The text the pipeline would output for ``ex`` (before language and dedup): the rules'
    removals (``rules``), the model's at ``threshold`` (``p`` None: none), the budget and cut,
    ``normalize``, the length filter."""
    if not ex.ok:
        return ""
    found: list[Found] = list(ex.found) if rules else []
    by_model: list[Found] = []
    kept, title = None, None
    if p is not None:
        if rules:  # as the stage decides: the gates keep prose and the title from the model
            kept, title = gates(ex.units, ex.scored, ex.html, touched(ex.units, found))
            scored = ex.scored & ~kept
        else:  # the model alone: every unit it reads, the HTML headline excepted
            scored = np.asarray([not (ex.html and u.index == 0) for u in ex.units], dtype=bool)
        site = SiteName.of(ex.item.url) if rules else None  # the URL's name (no page metadata here)
        todo = Pending(ex.text, ex.html, found, ex.units, scored, kept=kept, title=title, site=site)
        # as the stage decides, at this threshold (no learned site lines here); the model alone: at it only
        limits = (
            replace(Thresholds.of(config.boilerplate, ex.html), base=threshold, soft=None)
            if rules
            else Thresholds(threshold)
        )
        taken = taken_units(todo, p, limits)
        by_model = removals(model_rule("cv"), todo, p, taken, category, offset)
    doc = Doc(id=ex.item.id, source=ex.item.set, raw="", format=ex.item.format, url=ex.item.url, text=ex.text)
    stage.apply(doc, found, by_model, ex.units, kept)
    text = strip_extracted_bullets(doc.text) if ex.html else doc.text
    text = normalize_layout(text)
    return text if len(text) >= config.filter.min_chars else ""


@dataclass(frozen=True)
class UnitScore:
    precision: float
    recall: float


def unit_score(y: npt.NDArray[np.int8], p: F64, threshold: float) -> UnitScore:
    pred = p >= threshold
    tp = int((pred & (y == BOILERPLATE)).sum())
    fp = int((pred & (y == CONTENT)).sum())
    fn = int((~pred & (y == BOILERPLATE)).sum())
    return UnitScore(tp / max(1, tp + fp), tp / max(1, tp + fn))


@dataclass(frozen=True)
class SnippetRates:
    with_kept: float
    without_left: float
    pages: int


def snippet_rates(pages: Sequence[Example], texts: Sequence[str]) -> dict[str, SnippetRates]:
    """``with`` kept and ``without`` left (micro over snippets), overall and per page type."""
    hits: dict[str, list[wcxb.SnippetHits]] = defaultdict(list)
    for ex, text in zip(pages, texts, strict=True):
        assert ex.item.page is not None
        h = wcxb.snippet_hits(text, ex.item.page.with_snippets, ex.item.page.without_snippets)
        hits["ALL"].append(h)
        hits[ex.item.page.page_type].append(h)
    out = {}
    for key, hs in sorted(hits.items()):
        w = wcxb.aggregate_wcxb([wcxb.BagScore(0, 0, 0)] * len(hs), hs)
        out[key] = SnippetRates(w.with_rate, w.without_rate, len(hs))
    return out


@dataclass
class SchemeReport:
    """One cross-validation scheme's held-out numbers."""

    scheme: str
    documents: int
    units: dict[float, UnitScore]
    #: news sets: (rules alone, rules + model at the threshold, model alone at the threshold)
    news: dict[str, NewsboilerScore] = field(default_factory=dict)
    #: the rules + model sweep: threshold -> (removal, preservation, exact)
    sweep: dict[float, tuple[float | None, float | None, float | None]] = field(default_factory=dict)
    #: WCXB-style sets: rules alone / rules + model -> rates
    pages: dict[str, dict[str, SnippetRates]] = field(default_factory=dict)
    #: the category head: right / units at or above the threshold that are labelled boilerplate
    category_right: tuple[int, int] = (0, 0)


@dataclass(frozen=True)
class _Scorer:
    """Held-out documents through the stage's decision at a threshold."""

    examples: Sequence[Example]
    oof: OutOfFold
    stage: Boilerplate
    config: Config
    #: The first row of each (ok, non-empty) example in the matrix.
    offset: dict[int, int]

    def texts(self, idx: Sequence[int], t: float | None, *, rules: bool = True) -> list[str]:
        out = []
        for k in idx:
            ex, at = self.examples[k], self.offset.get(k)
            p = None if t is None or at is None else self.oof.p[at : at + len(ex.units)]
            out.append(
                cleaned(ex, p, t or 1.0, self.stage, self.config, self.oof.category, at or 0, rules=rules)
            )
        return out


def _news_score(news: Sequence[NewsDoc], texts: Sequence[str]) -> NewsboilerScore:
    return score_set(news, {d.id: t for d, t in zip(news, texts, strict=True)})


def evaluate(
    examples: Sequence[Example],
    m: Matrix,
    oof: OutOfFold,
    threshold: float,
    config: Config,
    *,
    sweep: Sequence[float] = SWEEP,
) -> list[SchemeReport]:
    """Every scheme's held-out numbers at ``threshold`` (and the ``sweep``, for news sets)."""
    offset: dict[int, int] = {}
    row = 0
    for k, ex in enumerate(examples):  # the matrix holds the units of the ok examples, in order
        if ex.ok and ex.units:
            offset[k] = row
            row += len(ex.units)
    scorer = _Scorer(
        examples, oof, Boilerplate(dataclasses.replace(config.boilerplate, model="none")), config, offset
    )
    reports = []
    for scheme, held in oof.schemes.items():
        idx = np.sort(held).tolist()
        rows = m.rows_of(idx)
        y, p = m.y[rows], oof.p[rows]
        rep = SchemeReport(scheme, len(idx), {t: unit_score(y, p, t) for t in sorted({*sweep, threshold})})
        bp = rows[(y == BOILERPLATE) & (p >= threshold)]
        named = [r for r in bp.tolist() if m.category[r] not in ("boilerplate", "unknown", "mixed")]
        rep.category_right = (sum(oof.category.get(r) == m.category[r] for r in named), len(named))
        exs = [examples[k] for k in idx]
        news = [ex.item.news for ex in exs if ex.item.news is not None]
        if news:
            rep.news["rules"] = _news_score(news, scorer.texts(idx, None))
            rep.news["rules+model"] = _news_score(news, scorer.texts(idx, threshold))
            rep.news["model"] = _news_score(news, scorer.texts(idx, threshold, rules=False))
            for t in sweep:
                s = rep.news["rules+model"] if t == threshold else _news_score(news, scorer.texts(idx, t))
                rep.sweep[t] = (s.removal_recall, s.preservation, s.exact)
        else:
            rep.pages["rules"] = snippet_rates(exs, scorer.texts(idx, None))
            rep.pages["rules+model"] = snippet_rates(exs, scorer.texts(idx, threshold))
        reports.append(rep)
    return reports
