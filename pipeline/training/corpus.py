"""The labelled documents a model is trained and cross-validated on, as the boilerplate stage sees
them.

Two kinds of set:

* **news** - JSON lines in newsboiler's schema (``id, url, format, raw, gold_text, lang,
  boilerplate=[{category, text[, raw_text]}], notes``): newsboiler's dev set, the synthetic corpus
  (:mod:`pipeline.training.synth`), a user's own file. Grouped by host for cross-validation.
* **pages** - a WCXB-style directory (``metadata.json``, ``ground-truth/<id>.json``,
  ``html/<id>.html.gz``): ``wcxb-train``. Grouped by domain.

:func:`prepare` runs the stages before ``boilerplate`` (extract, encoding, as the config sets them)
on every document and keeps what the boilerplate stage would receive; :func:`examples` adds the
units, their labels (:mod:`pipeline.training.labels`) and the rules' removals.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

import numpy as np

from pipeline import __version__
from pipeline.core.config import Config
from pipeline.core.errors import InputError
from pipeline.core.record import Doc, make_id
from pipeline.evaluation.data import news_docs, page_html_path, read_page_html
from pipeline.evaluation.newsboiler import NewsDoc
from pipeline.evaluation.predict import run_docs
from pipeline.execution.engines import Engine, SerialEngine, make_engine
from pipeline.training.labelled import read_news_file
from pipeline.training.labels import Label, label_news, label_page
from pipeline.training.synth import TRAIN_RECIPE, Recipe, generate_recipe
from stages.boilerplate.codes import Bools
from stages.boilerplate.engine import Found, find_removals
from stages.boilerplate.learned import candidates
from stages.boilerplate.siterules import host_of
from stages.boilerplate.stage import Boilerplate
from stages.boilerplate.units import Unit, text_units
from stages.registry import STAGE_FACTORIES

Kind = Literal["news", "pages", "synthetic"]


@dataclass(frozen=True)
class SetSpec:
    """A labelled set: its name, kind, where it is (a file or directory; the generator's recipe
    for the synthetic corpus), and the weight of its units in training."""

    name: str
    kind: Kind
    path: Path | None = None
    weight: float = 1.0
    recipe: Recipe | None = None

    def describe(self) -> dict[str, Any]:
        where: Any = (
            self.recipe.to_json() if self.recipe is not None else (self.path.name if self.path else None)
        )
        return {"name": self.name, "kind": self.kind, "source": where, "weight": self.weight}


@dataclass(frozen=True)
class PageGold:
    """A WCXB page's gold: main content, title, type, and its snippet checks."""

    main_content: str
    title: str | None
    page_type: str
    with_snippets: tuple[str, ...]
    without_snippets: tuple[str, ...]


@dataclass
class Item:
    """One labelled input document, before the stages."""

    set: str
    id: str
    raw: str
    format: str
    url: str | None
    group: str
    news: NewsDoc | None = None
    page: PageGold | None = None


def read_set(spec: SetSpec) -> list[Item]:
    """The documents of a set, in file order."""
    if spec.kind == "pages":
        assert spec.path is not None
        return list(_read_pages(spec.name, spec.path))
    if spec.kind == "synthetic":
        docs = news_docs(generate_recipe(spec.recipe or TRAIN_RECIPE))
    else:
        assert spec.path is not None
        docs = news_docs(read_news_file(spec.path))  # checked: a bad record is an InputError
    return [Item(spec.name, d.id, d.raw, d.format, d.url, host_of(d.url) or "?", news=d) for d in docs]


def _read_pages(name: str, root: Path) -> Iterator[Item]:
    """A WCXB-style directory's pages (``metadata.json``, ``ground-truth/<id>.json``,
    ``html/<id>.html.gz`` or, as the eval sets may have them, ``html/<id>.html``); a missing or
    damaged file is an :class:`InputError` naming it."""
    try:
        metadata: dict[str, dict[str, Any]] = json.loads((root / "metadata.json").read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        raise InputError(f"{root}: not a WCXB-style directory (metadata.json): {exc}") from exc
    if not isinstance(metadata, dict) or not all(isinstance(m, dict) for m in metadata.values()):
        raise InputError(f"{root / 'metadata.json'}: not an object of pages ({{id: {{page_type, domain}}}})")
    for pid in sorted(metadata):
        path = root / "ground-truth" / f"{pid}.json"
        try:
            truth = json.loads(path.read_text(encoding="utf-8"))
            if not isinstance(truth, dict) or not isinstance(truth.get("ground_truth") or {}, dict):
                raise ValueError("not an object with a ground_truth object")
            gold = truth.get("ground_truth") or {}
            path = page_html_path(root / "html", pid)
            html = read_page_html(path)
        except (OSError, ValueError, EOFError) as exc:  # ValueError: bad JSON or UTF-8
            raise InputError(
                f"cannot read training page {pid!r}: {path}: {' '.join(str(exc).split())[:200]}",
                hint=f"restore the page, or leave the set out (--without {name})"
                if name == "wcxb-train"
                else "restore the page",
            ) from exc
        page = PageGold(
            str(gold.get("main_content") or ""),
            gold.get("title"),
            str(metadata[pid].get("page_type") or "?"),
            tuple(gold.get("with") or ()),
            tuple(gold.get("without") or ()),
        )
        yield Item(
            name, pid, html, "html", truth.get("url"), str(metadata[pid].get("domain") or "?"), page=page
        )


def items_digest(items: Sequence[Item], config: Config) -> str:
    """What the prepared texts of ``items`` depend on: the inputs, the stages before boilerplate
    and their settings, and cleanwire's version (not the code of a development checkout)."""
    settings = {name: getattr(config, name, None) for name in pre_boilerplate(config)}
    h = hashlib.sha256(json.dumps([__version__, settings], sort_keys=True, default=repr).encode())
    for it in items:
        h.update(json.dumps([it.id, it.format, it.url, it.raw]).encode("utf-8", "surrogatepass"))
    return h.hexdigest()[:16]


@dataclass(frozen=True)
class Prepared:
    """A document as the boilerplate stage receives it (``ok`` False: an earlier stage refused it)."""

    text: str
    ok: bool


def pre_boilerplate(config: Config) -> list[str]:
    """The configured stages that run before ``boilerplate``."""
    names = list(config.stages)
    return names[: names.index("boilerplate")] if "boilerplate" in names else names


def engine(workers: int) -> Engine:
    """In process for 0 or 1 worker; else a pool whose record timeout is long enough never to
    trigger (a timed-out page would make training depend on the machine's load)."""
    return SerialEngine() if workers <= 1 else make_engine(workers, timeout_s=3600.0)


def prepare(
    items: Sequence[Item], config: Config, *, workers: int = 1, cache: Path | None = None, key: str = ""
) -> list[Prepared]:
    """Run the stages before ``boilerplate`` on ``items``; ``cache``: a directory where the result is
    kept under ``key`` (an :func:`items_digest`) and read back next time."""
    cached = cache / f"{key}.jsonl" if cache is not None and key else None
    if cached is not None and cached.is_file():
        try:
            rows = [json.loads(line) for line in cached.read_text(encoding="utf-8").splitlines()]
            if len(rows) == len(items):
                return [Prepared(str(r["text"]), bool(r["ok"])) for r in rows]
        except (OSError, ValueError, LookupError, TypeError):
            pass  # a damaged cache file (a run killed while writing it): prepared again, rewritten
    stages = [STAGE_FACTORIES[name](config) for name in pre_boilerplate(config)]
    docs = [
        Doc(id=make_id(it.set, i), source=it.set, raw=it.raw, format=it.format, url=it.url)
        for i, it in enumerate(items)
    ]
    run = engine(workers)
    try:
        done = run_docs(stages, docs, run, max_chars=config.run.batch_chars)
    finally:
        run.close()
    out = [Prepared(d.text if d.ok else "", d.ok) for d in done]
    if cached is not None:
        cached.parent.mkdir(parents=True, exist_ok=True)
        lines = (json.dumps({"text": p.text, "ok": p.ok}, ensure_ascii=False) for p in out)
        cached.write_text("".join(f"{line}\n" for line in lines), encoding="utf-8")
    return out


@dataclass
class Example:
    """A labelled document as the boilerplate stage sees it: its units, their labels, the rules'
    removals and the units the model may take."""

    item: Item
    text: str
    ok: bool
    weight: float
    units: list[Unit] = field(default_factory=list)
    labels: list[Label] = field(default_factory=list)
    found: list[Found] = field(default_factory=list)
    scored: Bools = field(default_factory=lambda: np.zeros(0, dtype=bool))

    @property
    def html(self) -> bool:
        return self.item.format == "html"

    @property
    def group(self) -> str:
        return f"{self.item.set}:{self.item.group}"


def examples(
    spec: SetSpec, items: Sequence[Item], prepared: Sequence[Prepared], stage: Boilerplate, max_chars: int
) -> list[Example]:
    """Units, labels, the rules' removals (with ``stage``'s rules) and the model's candidates."""
    out: list[Example] = []
    for item, prep in zip(items, prepared, strict=True):
        ex = Example(item, prep.text, prep.ok, spec.weight)
        if prep.ok:
            ex.units = text_units(prep.text, html=ex.html)
            if item.news is not None:
                ex.labels = label_news(ex.units, item.news.boilerplate)
            elif item.page is not None:
                ex.labels = label_page(ex.units, item.page.main_content, item.page.title)
            ex.found = find_removals(prep.text, stage.rule_set_for(item.url))
            ex.scored = candidates(ex.units, ex.found, ex.html, max_chars)
        out.append(ex)
    return out
