"""``cleanwire eval``: score the configured pipeline on the labelled evaluation sets."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import click

from pipeline import __version__
from pipeline.cli.io_options import check_writable_file, write_error
from pipeline.cli.options import build_config, config_options
from pipeline.core.config import Config
from pipeline.evaluation.data import DEFAULT_SETS, PAGE_SETS, SET_NAMES, find_data_dir, set_present
from pipeline.evaluation.neardup import NeardupResult, eval_neardup, render_neardup
from pipeline.evaluation.neardup_set import RESIDUE, SPLITS
from pipeline.evaluation.render import (
    langid_dict,
    newsboiler_dict,
    page_set_dict,
    render_langid,
    render_newsboiler,
    render_page_set,
)
from pipeline.evaluation.report_html import ReportInput, render_report
from pipeline.evaluation.suite import (
    LangidResult,
    NewsboilerResult,
    PageSetResult,
    eval_langid,
    eval_newsboiler,
    eval_page_set,
)


def save_predictions(
    out: Path,
    newsboiler: NewsboilerResult | None,
    page_sets: list[PageSetResult],
    langid: LangidResult | None,
) -> None:
    """Write predictions in the reference scorers' formats (JSONL ``{id, text}``; AEB json)."""
    out.mkdir(parents=True, exist_ok=True)
    if newsboiler is not None:
        with (out / "newsboiler.jsonl").open("w", encoding="utf-8") as fh:
            for doc in newsboiler.docs:
                row = {"id": doc.id, "text": newsboiler.predictions.get(doc.id, "")}
                fh.write(json.dumps(row, ensure_ascii=False) + "\n")
    for ps in page_sets:
        output = {pid: {"articleBody": body} for pid, body in ps.bodies.items()}
        data = {"version": __version__, "output": output}
        (out / f"{ps.name}.json").write_text(json.dumps(data, ensure_ascii=False, indent=1), encoding="utf-8")
    if langid is not None:
        with (out / "langid.jsonl").open("w", encoding="utf-8") as fh:
            for sent, got in zip(langid.sentences, langid.predicted, strict=True):
                row = {"text": sent.text, "expected": sent.expected, "predicted": got}
                fh.write(json.dumps(row, ensure_ascii=False) + "\n")


@dataclass
class _Results:
    """What the sets that ran gave: one field per kind of set."""

    newsboiler: NewsboilerResult | None = None
    page_sets: list[PageSetResult] = field(default_factory=list)
    langid: LangidResult | None = None
    neardup: NeardupResult | None = None

    def payload(self) -> dict[str, Any]:
        out: dict[str, Any] = {}
        if self.newsboiler is not None:
            out["newsboiler"] = newsboiler_dict(self.newsboiler)
        for ps in self.page_sets:
            out[ps.name] = page_set_dict(ps)
        if self.langid is not None:
            out["langid"] = langid_dict(self.langid)
        if self.neardup is not None:
            out["neardup"] = self.neardup.to_dict()
        return out

    def text(self) -> str:
        parts = [render_newsboiler(self.newsboiler)] if self.newsboiler is not None else []
        parts += [render_page_set(ps) for ps in self.page_sets]
        if self.langid is not None:
            parts.append(render_langid(self.langid))
        if self.neardup is not None:
            parts.append(render_neardup(self.neardup))
        return "\n\n".join(parts)


def _run_sets(
    root: Path, names: list[str], cfg: Config, workers: int, n_bootstrap: int, into: _Results
) -> None:
    for name in names:
        if name == "neardup":
            continue  # not a run of the pipeline's stages over pages: see eval_neardup
        click.echo(f"eval: running {name} ...", err=True)
        if name == "newsboiler":
            into.newsboiler = eval_newsboiler(root, cfg, workers=workers)
        elif name in PAGE_SETS:
            into.page_sets.append(eval_page_set(root, name, cfg, workers=workers, n_bootstrap=n_bootstrap))
        elif name == "langid":
            into.langid = eval_langid(root, cfg, workers=workers)


def _present(root: Path | None, wanted: list[str], data_dir: str | None) -> list[str]:
    """The wanted sets found under ``root``, saying which are skipped and why."""
    if root is None:
        click.echo(
            f"eval: no evaluation data at {data_dir or '../shared/eval'}; nothing to do (skipped)", err=True
        )
        return []
    present = [n for n in wanted if set_present(root, n)]
    for name in wanted:
        if name not in present:
            click.echo(f"eval: set {name!r} not found under {root} (skipped)", err=True)
    return present


@click.command("eval")
@click.option(
    "--data",
    "data_dir",
    type=click.Path(file_okay=False),
    help="Evaluation directory (default: ../shared/eval from here, then from the repository).",
)
@click.option(
    "--set",
    "sets",
    multiple=True,
    type=click.Choice(SET_NAMES),
    help="Set(s) to run (repeatable; default: every set present but wcxb-train).",
)
@config_options
@click.option(
    "-w", "--workers", type=click.IntRange(min=0), help="Worker processes (default: run.workers, 0 = cores)."
)
@click.option(
    "--timeout",
    "timeout_s",
    type=float,
    help="Per-record wall-clock limit in seconds (default: run.record_timeout_s, 30). Raise it on a loaded "
    "machine: a page that times out is scored as an empty prediction.",
)
@click.option(
    "--bootstrap",
    "n_bootstrap",
    type=click.IntRange(min=0),
    default=1000,
    show_default=True,
    help="Bootstrap resamples for the ± of AEB numbers (0: none).",
)
@click.option(
    "--neardup-split",
    type=click.Choice(SPLITS),
    default="test",
    show_default=True,
    help="neardup: the test split (what is reported) or the tune split (what chose the parameters).",
)
@click.option(
    "--neardup-residue",
    type=click.Choice(sorted(RESIDUE)),
    default="light",
    show_default=True,
    help="neardup: how much of the sites' template lines the documents keep (light: half the sites none).",
)
@click.option("--json", "as_json", is_flag=True, help="Print the metrics as JSON.")
@click.option("--report", type=click.Path(dir_okay=False), help="Write a self-contained HTML report here.")
@click.option(
    "--save-predictions",
    "save_dir",
    type=click.Path(file_okay=False),
    help="Write cleanwire's outputs here (newsboiler.jsonl, aeb.json, wcxb.json, langid.jsonl, wcxb-train.json).",
)
def eval_cmd(
    data_dir: str | None,
    sets: tuple[str, ...],
    config_file: str | None,
    rule_files: tuple[str, ...],
    stages: str | None,
    model: str | None,
    model_threshold: float | None,
    workers: int | None,
    timeout_s: float | None,
    n_bootstrap: int,
    neardup_split: str,
    neardup_residue: str,
    as_json: bool,
    report: str | None,
    save_dir: str | None,
) -> None:
    """Score the pipeline (same stages and config as `run`) on the labelled evaluation sets.

    \b
    newsboiler  boilerplate removal recall per category, preservation, exact match, mojibake
    aeb, wcxb   article extraction: AEB F1/precision/recall/accuracy beside the baselines
                (wcxb also with the share of its 'with' snippets kept and 'without' snippets
                left, and WCXB's bag-of-words metric)
    langid      language stage accuracy per language, with the confusions
    wcxb-train  (only when named) WCXB's 1,208 training pages per page type, beside plain
                trafilatura run on them in the same evaluation; extract.slow_share_below was
                tuned on this set, so its numbers are not held out
    neardup     near_dedup's precision and recall (exact dedup's beside) on syndicated copies and
                hard negatives built from the newsboiler, aeb and wcxb bodies at run time
    Sets that are not present are skipped (exit 0). The boilerplate model was trained on
    newsboiler's dev set (and the rules written from it): its numbers there are training numbers;
    `cleanwire train --cv` prints held-out ones (whole sites and domains left out).
    """
    cfg = build_config(
        config_file,
        rule_files,
        {"stages": stages, "timeout_s": timeout_s, "model": model, "model_threshold": model_threshold},
    )
    if report:
        check_writable_file(report)  # before the sets run, not after
    root = find_data_dir(data_dir)
    wanted = list(dict.fromkeys(sets)) if sets else list(DEFAULT_SETS)
    present = _present(root, wanted, data_dir)
    results = _Results()
    if root is not None and "neardup" in present:
        click.echo(f"eval: running neardup ({neardup_split} split, {neardup_residue} residue) ...", err=True)
        results.neardup = eval_neardup(root, cfg, split=neardup_split, residue=neardup_residue)
    if root is not None and present:
        n_workers = cfg.run.workers if workers is None else workers
        _run_sets(root, present, cfg, n_workers, n_bootstrap, results)
        if save_dir:
            try:
                save_predictions(Path(save_dir), results.newsboiler, results.page_sets, results.langid)
            except OSError as exc:
                raise write_error(exc.filename or save_dir, exc) from exc
        if report:
            html = render_report(
                ReportInput(str(root), cfg.hash, results.newsboiler, tuple(results.page_sets), results.langid)
            )
            try:
                Path(report).write_text(html, encoding="utf-8")
            except OSError as exc:
                raise write_error(report, exc) from exc
            click.echo(f"eval: report written to {report}", err=True)
    if as_json:  # always a JSON object, also when no set ran: a caller parses stdout
        head = {"data": str(root) if root is not None else None, "config_hash": cfg.hash, "sets": present}
        skipped = [n for n in wanted if n not in present]
        click.echo(
            json.dumps({**head, "skipped": skipped, **results.payload()}, indent=2, ensure_ascii=False)
        )
    elif text := results.text():
        click.echo(text)
