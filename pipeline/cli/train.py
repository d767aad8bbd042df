"""``cleanwire train``: fit the boilerplate model on labelled data; ``--cv`` cross-validates it."""

from __future__ import annotations

import dataclasses
import errno
import os
import time
from functools import partial
from pathlib import Path
from typing import Literal

import click

from pipeline.cli.io_options import check_writable_file, write_error
from pipeline.cli.options import build_config
from pipeline.core.config import BoilerplateConfig
from pipeline.evaluation.data import find_data_dir
from pipeline.training.crossval import SchemeReport
from pipeline.training.run import (
    DEFAULT_SETS,
    THRESHOLD,
    VERSION,
    SetStats,
    Trained,
    cross_validate,
    default_sets,
    file_digest,
    load,
    train,
)
from pipeline.training.synth import TRAIN_RECIPE
from stages.boilerplate.features import FeatureSpec

#: Progress lines of loading and cross-validation, to standard error (stdout holds the report).
_stderr = partial(click.echo, err=True)


@click.command("train")
@click.option(
    "-o",
    "--output",
    type=click.Path(dir_okay=False),
    help="Where to write the model (default: line-model-<version>.npz here).",
)
@click.option(
    "--data",
    "extra",
    multiple=True,
    type=click.Path(exists=True, dir_okay=False),
    help="Your own labelled documents (JSONL in newsboiler's schema: id, url, format, raw, gold_text, "
    "boilerplate=[{category, text}]); repeatable. Added to the default sets.",
)
@click.option(
    "--without",
    multiple=True,
    type=click.Choice(DEFAULT_SETS),
    help="Leave a default set out (repeatable): newsboiler's dev set, WCXB's training pages, the synthetic corpus.",
)
@click.option(
    "--synthetic-part",
    type=click.Choice(["train", "fit"]),
    default="train",
    show_default=True,
    help="The synthetic corpus's part to train on: 'train' (the shipped model's), or 'fit', the "
    "tuning split's: it leaves out the phrasings, stories and sites of the 'dev' part, so that "
    "settings can be chosen on 'dev' documents as unseen as the held-out 'test' part.",
)
@click.option(
    "--eval-data",
    "data_dir",
    type=click.Path(file_okay=False),
    help="The directory holding newsboiler/ and wcxb-train/ (default: ../shared/eval, as `eval`).",
)
@click.option(
    "--cv", is_flag=True, help="Also cross-validate (whole sites/domains held out) and print the numbers."
)
@click.option(
    "--threshold",
    type=click.FloatRange(0, 1, min_open=True),
    default=THRESHOLD,
    show_default=True,
    help="The threshold the model file recommends, and the one --cv scores at.",
)
@click.option(
    "--version",
    "version",
    default=VERSION,
    show_default=True,
    help="The model's version (model:<version> in the ledger).",
)
@click.option(
    "-w",
    "--workers",
    type=click.IntRange(min=0),
    default=1,
    show_default=True,
    help="Processes for extracting the pages.",
)
@click.option(
    "--cache",
    type=click.Path(file_okay=False),
    help="Keep the extracted texts here and reuse them (keyed by the inputs, the extract and encoding "
    "settings and cleanwire's version).",
)
@click.option(
    "--config",
    "config_file",
    type=click.Path(dir_okay=False),
    help="TOML config (extract and encoding settings).",
)
def train_cmd(
    output: str | None,
    extra: tuple[str, ...],
    without: tuple[str, ...],
    synthetic_part: Literal["train", "fit"],
    data_dir: str | None,
    cv: bool,
    threshold: float,
    version: str,
    workers: int,
    cache: str | None,
    config_file: str | None,
) -> None:
    """Train the boilerplate model from labelled data and write it as a model file.

    \b
    Default data (each when present): newsboiler's dev set and WCXB's training pages under
    ../shared/eval, and the synthetic corpus (generated, seeded); plus --data files. Same data,
    same settings: the same file, byte for byte. Use it with `--model FILE` or
    `boilerplate.model = "FILE"`.
    """
    # train reads the config's extract and encoding settings; no boilerplate model is loaded (the
    # one it makes is the new model, and cross-validation scores with each fold's), so a missing
    # or broken model file does not keep a new one from being trained
    cfg = build_config(config_file, options={"model": "none"})
    out = check_writable_file(output or f"line-model-{version}.npz")  # before hours of work
    if extra and version == VERSION:
        _stderr(
            f"note: the model will be labelled {VERSION}, as the shipped one (model:{VERSION} in the "
            "ledger): pass --version to tell yours apart"
        )
    if cache:  # the cache is written after each set's preparation: refuse it before any
        try:
            Path(cache).mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            raise write_error(cache, exc) from exc
        if not os.access(cache, os.W_OK | os.X_OK):
            raise write_error(cache, PermissionError(errno.EACCES, "not writable"))
    root = find_data_dir(data_dir)
    recipe = dataclasses.replace(TRAIN_RECIPE, part=synthetic_part, sites=synthetic_part)
    sets = default_sets(root, without=without, extra=[Path(p) for p in extra], synthetic=recipe)
    if not sets:
        raise click.UsageError("no training data: every default set is left out and no --data given")
    for missing in (n for n in DEFAULT_SETS if n not in without and n not in {s.name for s in sets}):
        _stderr(f"train: {missing} not found under {root or '../shared/eval'} (left out)")
    spec = FeatureSpec(version=version)
    t0 = time.perf_counter()
    exs, stats = load(
        sets, cfg, spec=spec, workers=workers, cache=Path(cache) if cache else None, log=_stderr
    )
    trained = train(exs, sets, stats, spec=spec, threshold=threshold)
    try:
        trained.model.save(out)
    except OSError as exc:
        raise write_error(out, exc) from exc
    click.echo(render_training(stats, trained, out, time.perf_counter() - t0))
    if cv:
        _stderr("train: cross-validating ...")
        reports = cross_validate(exs, trained.matrix, cfg, threshold=threshold, log=_stderr)
        click.echo("\n" + render_cv(reports, threshold))


def render_training(stats: list[SetStats], trained: Trained, out: Path, seconds: float) -> str:
    m = trained.model
    lines = [
        f"model {m.version} -> {out} ({out.stat().st_size / 1e6:.2f} MB, sha256 {file_digest(out)[:16]}...)",
        f"{'set':<16} {'documents':>9} {'ok':>6} {'boilerplate':>12} {'content':>8} {'unlabelled':>10}",
    ]
    for st in stats:
        u = st.units
        lines.append(
            f"{st.name:<16} {st.documents:>9} {st.ok:>6} {u['boilerplate']:>12} {u['content']:>8} {u['unlabelled']:>10}"
        )
    head = m.category_head
    lines += [
        f"features: 2**{m.spec.bits} hashed + {len(m.spec.dense)} dense; units of at most "
        f"{m.spec.max_line_chars} characters are scored",
        f"category head: {len(head.categories)} categories"
        if head
        else "category head: none (category 'model')",
        f"fitted in {trained.seconds:.0f} s ({seconds:.0f} s in all); recommended threshold {m.threshold}",
        f"on its own training data (a training number, not a held-out one): unit precision "
        f"{trained.train_precision:.3f}, recall {trained.train_recall:.3f} at {m.threshold}",
    ]
    in_force = BoilerplateConfig.model_threshold
    if m.threshold != in_force:  # run, eval and explain take the config's threshold, not the file's
        lines.append(
            f"note: run, eval and explain remove at boilerplate.model_threshold ({in_force} unless set), "
            f"not at the file's {m.threshold}: pass --model-threshold {m.threshold} with --model {out}"
        )
    return "\n".join(lines)


def _f(x: float | None, digits: int = 3) -> str:
    return "  n/a" if x is None else f"{x:.{digits}f}"


def render_cv(reports: list[SchemeReport], threshold: float) -> str:
    out = [
        "Cross-validation: every number below comes from models that did not see the documents "
        "(their site or domain) they are reported on."
    ]
    if not reports:
        out.append(
            "Nothing was held out: the documents of every set are on one site or domain (their url's "
            "host). Label documents of two or more sites to cross-validate."
        )
    for r in reports:
        out += ["", f"== {r.scheme} ({r.documents} documents held out)"]
        out.append(
            "units (model alone): "
            + "  ".join(f"t={t}: P {u.precision:.3f} R {u.recall:.3f}" for t, u in r.units.items())
        )
        right, total = r.category_right
        if total:
            out.append(
                f"category head: {right}/{total} boilerplate units taken at {threshold} named right ({right / total:.3f})"
            )
        if r.news:
            if r.scheme.startswith("newsboiler:"):
                out.append(
                    "(the rules were written from these documents: 'rules alone' and the rules' share of "
                    "'rules + model' are training numbers; 'model alone' is held out)"
                )
            out.append(f"{'end to end':<26} {'removal':>8} {'preserv':>8} {'exact':>7}")
            names = {
                "rules": "rules alone",
                "rules+model": f"rules + model @{threshold}",
                "model": f"model alone @{threshold}",
            }
            for key, s in r.news.items():
                out.append(
                    f"{names[key]:<26} {_f(s.removal_recall):>8} {_f(s.preservation, 4):>8} {_f(s.exact):>7}"
                )
            out.append(
                "rules + model at other thresholds: "
                + "  ".join(f"{t}: {_f(a)}/{_f(b, 4)}/{_f(c)}" for t, (a, b, c) in r.sweep.items())
            )
            rules, both = r.news["rules"], r.news["rules+model"]
            out.append(f"{'category':<18} {'items':>6} {'rules':>6} {'+model':>7}")
            base = {c.category: c for c in rules.categories}
            for c in both.categories:
                out.append(f"{c.category:<18} {c.items:>6} {base[c.category].recall:>6.3f} {c.recall:>7.3f}")
            out.append(f"{'group (+model)':<18} {'docs':>6} {'removal':>8} {'preserv':>8} {'exact':>7}")
            for g in both.groups:
                out.append(
                    f"{g.group:<18} {g.docs:>6} {_f(g.removal):>8} {g.preservation:>8.4f} {g.exact:>7.3f}"
                )
        for key in ("rules", "rules+model"):
            rates = r.pages.get(key)
            if rates:
                label = "rules alone" if key == "rules" else f"rules + model @{threshold}"
                out.append(f"{label}: 'with' kept / 'without' left")
                out += [
                    f"  {k:<14} {v.with_kept:.3f} / {v.without_left:.3f} ({v.pages} pages)"
                    for k, v in rates.items()
                ]
    return "\n".join(out)
