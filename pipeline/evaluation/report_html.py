"""``cleanwire eval --report eval.html``: one self-contained HTML page (inline CSS, no scripts,
no network) with the metrics per category and language and the misses a rule author should fix."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from html import escape

from pipeline.evaluation.render import fmt
from pipeline.evaluation.suite import LangidResult, NewsboilerResult, PageResult, PageSetResult

WORST_PAGES = 15
MAX_LINES = 4
_CSS = """
body{font:14px/1.45 system-ui,sans-serif;margin:2em auto;max-width:1100px;color:#222}
table{border-collapse:collapse;margin:.6em 0 1.2em}td,th{border:1px solid #ccc;padding:2px 8px;text-align:left}
th{background:#f0f0f0}td.n{text-align:right;font-variant-numeric:tabular-nums}
.bad{background:#fde2e2}.ok{background:#e3f5e3}details{margin:.3em 0}summary{cursor:pointer}
code,.snip{font:12px/1.35 ui-monospace,monospace;white-space:pre-wrap}.muted{color:#777}
"""


@dataclass(frozen=True)
class ReportInput:
    """Everything the page shows; any set may be absent."""

    data_dir: str
    config_hash: str
    newsboiler: NewsboilerResult | None = None
    page_sets: tuple[PageSetResult, ...] = ()
    langid: LangidResult | None = None


def _table(head: Sequence[str], rows: Iterable[Sequence[str]]) -> str:
    """A table from a header and rows of already-rendered ``<td>`` cells."""
    th = "".join(f"<th>{escape(h)}</th>" for h in head)
    body = "".join("<tr>" + "".join(cells) + "</tr>" for cells in rows)
    return f"<table><tr>{th}</tr>{body}</table>"


def _td(text: str, cls: str = "") -> str:
    return f'<td class="{cls}">{escape(text)}</td>' if cls else f"<td>{escape(text)}</td>"


def _num(x: float | None, *, good: float | None = None) -> str:
    cls = "n"
    if good is not None and x is not None:
        cls += " ok" if x >= good else " bad"
    return _td(fmt(x), cls)


def newsboiler_section(res: NewsboilerResult) -> str:
    s = res.score
    cats = _table(
        ["category", "items", "removed", "recall"],
        (
            [_td(c.category), _td(str(c.items), "n"), _td(str(c.removed), "n"), _num(c.recall, good=0.95)]
            for c in s.categories
        ),
    )
    groups = _table(
        ["group", "docs", "removal", "preservation", "exact"],
        (
            [
                _td(g.group),
                _td(str(g.docs), "n"),
                _num(g.removal, good=0.95),
                _num(g.preservation, good=0.98),
                _num(g.exact),
            ]
            for g in s.groups
        ),
    )
    fixed, total = s.mojibake
    overall = (
        f"<p><b>overall</b>: removal recall {fmt(s.removal_recall)}, preservation {fmt(s.preservation)} "
        f"(sentence micro {fmt(s.preservation_micro)}), exact {fmt(s.exact)}, mojibake fixed {fixed}/{total}</p>"
    )
    misses = []
    for d in s.docs:
        survivors, lost = d.survivors, d.missing
        if not survivors and not lost:
            continue
        items = "".join(
            f"<li>survived <b>{escape(it.category)}</b>: <span class=snip>{escape(it.text)}</span></li>"
            for it in survivors
        )
        items += "".join(f"<li>lost gold sentence: <span class=snip>{escape(x)}</span></li>" for x in lost)
        out = escape(res.predictions.get(d.doc.id, ""))
        misses.append(
            f"<details><summary><code>{escape(d.doc.id)}</code> {escape(d.doc.format)}/{escape(d.doc.lang)}: "
            f"{len(survivors)} survived, {len(lost)} lost</summary><ul>{items}</ul>"
            f"<details><summary class=muted>cleanwire output</summary><div class=snip>{out}</div></details></details>"
        )
    miss_html = "".join(misses) or "<p>No misses.</p>"
    return (
        f"<h2>newsboiler ({len(s.docs)} documents)</h2>{overall}<h3>Removal recall per category</h3>{cats}"
        f"<h3>Per format, language and group</h3>{groups}<h3>Misses ({len(misses)} documents)</h3>{miss_html}"
    )


def _lines(text: str) -> list[str]:
    return [ln.strip() for ln in text.splitlines() if ln.strip()]


def _page_misses(r: PageResult) -> str:
    """Gold lines absent from the output and output lines absent from gold (first few of each)."""
    body_lines, gold_lines = set(_lines(r.body)), set(_lines(r.page.gold))
    missed = [ln for ln in _lines(r.page.gold) if ln not in body_lines][:MAX_LINES]
    extra = [ln for ln in _lines(r.body) if ln not in gold_lines][:MAX_LINES]
    parts = [f"<li>missed: <span class=snip>{escape(x[:300])}</span></li>" for x in missed]
    parts += [f"<li>extra: <span class=snip>{escape(x[:300])}</span></li>" for x in extra]
    return f"<ul>{''.join(parts)}</ul>"


def page_set_section(res: PageSetResult) -> str:
    systems = _table(
        ["extractor", "version", "F1", "precision", "recall", "accuracy"],
        (
            [
                _td(s.name),
                _td(s.version),
                _num(s.aeb.f1),
                _num(s.aeb.precision),
                _num(s.aeb.recall),
                _num(s.aeb.accuracy),
            ]
            for s in res.systems
        ),
    )
    wcxb_rows = [s for s in res.systems if s.wcxb is not None]
    wcxb_table = ""
    if wcxb_rows:
        wcxb_table = "<h3>WCXB metric</h3>" + _table(
            ["extractor", "P", "R", "F1", "with found", "without found (lower is better)"],
            (
                [
                    _td(s.name),
                    _num(s.wcxb.precision),
                    _num(s.wcxb.recall),
                    _num(s.wcxb.f1),
                    _num(s.wcxb.with_rate),
                    _num(s.wcxb.without_rate),
                ]
                for s in wcxb_rows
                if s.wcxb is not None
            ),
        )
    by_type = ""
    if res.by_type:
        by_type = "<h3>Per page type" + (" (threshold tuned on this set)" if res.tuned else "") + "</h3>"
        by_type += _table(
            ["page type", "pages", "extractor", "F1", "P", "R", "WCXB F1", "with found", "without found"],
            (
                [
                    _td(t.page_type if i == 0 else ""),
                    _td(str(t.n) if i == 0 else "", "n"),
                    _td(s.name),
                    _num(s.aeb.f1),
                    _num(s.aeb.precision),
                    _num(s.aeb.recall),
                    _num(s.wcxb.f1 if s.wcxb else None),
                    _num(s.wcxb.with_rate if s.wcxb else None),
                    _num(s.wcxb.without_rate if s.wcxb else None),
                ]
                for t in res.by_type
                for i, s in enumerate(t.systems)
            ),
        )
    tuned = f"<p><b>{escape(res.tuned)}</b>: not a held-out measurement.</p>" if res.tuned else ""
    worst = "".join(
        f"<details><summary><code>{escape(r.page.id)}</code> F1 {r.aeb.f1:.3f} (P {r.aeb.precision:.3f} / "
        f"R {r.aeb.recall:.3f}) {escape(r.status if r.status != 'ok' else '')} "
        f"<span class=muted>{escape(r.page.url or '')}</span></summary>{_page_misses(r)}</details>"
        for r in res.worst(WORST_PAGES)
    )
    return (
        f"<h2>{escape(res.name)} ({len(res.pages)} pages)</h2>{tuned}<h3>AEB metric</h3>{systems}{wcxb_table}"
        f"{by_type}<h3>Worst {WORST_PAGES} pages (cleanwire)</h3>{worst}"
    )


def langid_section(res: LangidResult) -> str:
    s = res.score
    rows = _table(
        ["language", "sentences", "correct", "accuracy"],
        (
            [_td(r.lang), _td(str(r.n), "n"), _td(str(r.correct), "n"), _num(r.accuracy, good=0.95)]
            for r in s.per_lang
        ),
    )
    conf = _table(
        ["expected", "predicted", "count", "example"],
        ([_td(c.expected), _td(c.predicted), _td(str(c.count), "n"), _td(c.example)] for c in s.confusions),
    )
    return f"<h2>langid ({s.n} sentences): accuracy {s.accuracy:.3f}</h2>{rows}<h3>Confusions</h3>{conf}"


def render_report(inp: ReportInput) -> str:
    sections = []
    if inp.newsboiler is not None:
        sections.append(newsboiler_section(inp.newsboiler))
    sections += [page_set_section(p) for p in inp.page_sets]
    if inp.langid is not None:
        sections.append(langid_section(inp.langid))
    when = datetime.now(UTC).isoformat(timespec="seconds")
    return (
        "<!doctype html><html lang=en><head><meta charset=utf-8><title>cleanwire eval</title>"
        f"<style>{_CSS}</style></head><body><h1>cleanwire evaluation</h1>"
        f"<p class=muted>data {escape(inp.data_dir)} · config {escape(inp.config_hash)} · {escape(when)}</p>"
        + "".join(sections)
        + "</body></html>\n"
    )
