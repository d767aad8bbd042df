"""Plain-text tables and JSON for evaluation results."""

from __future__ import annotations

from typing import Any

from pipeline.evaluation.aeb import SetScore
from pipeline.evaluation.suite import LangidResult, NewsboilerResult, PageSetResult, SystemScore


def fmt(x: float | None) -> str:
    return "  n/a" if x is None else f"{x:.3f}"


def render_newsboiler(res: NewsboilerResult) -> str:
    s = res.score
    lines = [
        f"== newsboiler: {len(s.docs)} documents",
        f"{'category':<18} {'items':>6} {'removed':>8} {'recall':>7}",
    ]
    lines += [f"{c.category:<18} {c.items:>6} {c.removed:>8} {c.recall:>7.3f}" for c in s.categories]
    n_items = sum(c.items for c in s.categories)
    n_removed = sum(c.removed for c in s.categories)
    lines.append(f"{'ALL (micro)':<18} {n_items:>6} {n_removed:>8} {fmt(s.removal_recall):>7}")
    lines.append(f"{'ALL (cat. macro)':<18} {'':>6} {'':>8} {fmt(s.removal_macro):>7}")
    lines += ["", f"{'group':<14} {'docs':>5} {'removal':>8} {'preserv':>8} {'exact':>7}"]
    lines += [
        f"{g.group:<14} {g.docs:>5} {fmt(g.removal):>8} {fmt(g.preservation):>8} {fmt(g.exact):>7}"
        for g in s.groups
    ]
    fixed, total = s.mojibake
    lines += [
        "",
        f"preservation (sentence micro): {s.preservation_micro:.3f}",
        f"mojibake fixed: {fmt(fixed / total if total else None)} ({fixed}/{total})",
        f"overall: removal_recall={fmt(s.removal_recall).strip()} "
        f"preservation={fmt(s.preservation).strip()} exact={fmt(s.exact).strip()}",
    ]
    return "\n".join(lines)


def _pm(value: float, std: float) -> str:
    return f"{value:.3f} ± {std:.3f}" if std else f"{value:.3f}        "


def render_page_set(res: PageSetResult) -> str:
    snippets = any(s.wcxb is not None for s in res.systems)
    head = f"{'':<14} {'version':<12} {'F1':<13}  {'precision':<13}  {'recall':<13}  {'accuracy':<13}"
    lines = [
        f"== {res.name}: {len(res.pages)} pages, AEB metric"
        + (
            " (with: share of the 'with' snippets kept; without: share of the 'without' snippets left)"
            if snippets
            else ""
        )
    ]
    if res.tuned:
        lines.append(f"   ({res.tuned}; not a held-out measurement)")
    lines += [
        head + (f"  {'with':>6} {'without':>8}" if snippets else ""),
    ]
    for sys_ in res.systems:
        a = sys_.aeb
        row = (
            f"{sys_.name:<14} {sys_.version:<12} {_pm(a.f1, a.f1_std)}  {_pm(a.precision, a.precision_std)}  "
            f"{_pm(a.recall, a.recall_std)}  {_pm(a.accuracy, a.accuracy_std)}"
        )
        if sys_.wcxb is not None:
            row += f"  {sys_.wcxb.with_rate:>6.3f} {sys_.wcxb.without_rate:>8.3f}"
        lines.append(row)
    with_wcxb = [s for s in res.systems if s.wcxb is not None]
    if with_wcxb:
        lines += [
            "",
            "WCXB metric (bag of words; snippets: 'with' found, higher is better; 'without' found, lower is better)",
        ]
        lines.append(f"{'':<14} {'P':>6} {'R':>6} {'F1':>6} {'with':>6} {'without':>8}")
        for sys_ in with_wcxb:
            w = sys_.wcxb
            assert w is not None
            lines.append(
                f"{sys_.name:<14} {w.precision:>6.3f} {w.recall:>6.3f} {w.f1:>6.3f} "
                f"{w.with_rate:>6.3f} {w.without_rate:>8.3f}"
            )
    if res.by_type:
        lines += [
            "",
            "per page type: AEB metric F1/P/R, WCXB metric F1, 'with' found, 'without' found"
            + (" (threshold tuned on this set)" if res.tuned else ""),
            f"{'page type':<14} {'pages':>5} {'system':<14} {'F1':>6} {'P':>6} {'R':>6} "
            f"{'WCXB F1':>7} {'with':>6} {'without':>8}",
        ]
        for t in res.by_type:
            for i, sys_ in enumerate(t.systems):
                a, w = sys_.aeb, sys_.wcxb
                head = f"{t.page_type:<14} {t.n:>5}" if i == 0 else f"{'':<14} {'':>5}"
                tail = f"{w.f1:>7.3f} {w.with_rate:>6.3f} {w.without_rate:>8.3f}" if w else f"{'n/a':>7}"
                lines.append(
                    f"{head} {sys_.name:<14} {a.f1:>6.3f} {a.precision:>6.3f} {a.recall:>6.3f} {tail}"
                )
    rejected = [r for r in res.pages if r.status != "ok"]
    if rejected:
        lines.append(
            f"\n{len(rejected)} page(s) not ok: " + ", ".join(f"{r.page.id} ({r.reason})" for r in rejected)
        )
    return "\n".join(lines)


def render_langid(res: LangidResult) -> str:
    s = res.score
    lines = [f"== langid: {s.n} sentences, accuracy {s.accuracy:.3f} ({s.correct}/{s.n})"]
    cells = [f"{r.lang:<6}{r.accuracy:.2f}" for r in s.per_lang]
    lines += ["  ".join(cells[i : i + 8]) for i in range(0, len(cells), 8)]
    if s.confusions:
        lines.append("confusions (expected -> predicted: count):")
        lines += [f"  {c.expected} -> {c.predicted}: {c.count}" for c in s.confusions]
    return "\n".join(lines)


def _set_score_dict(a: SetScore) -> dict[str, float | int]:
    return {
        "f1": a.f1,
        "precision": a.precision,
        "recall": a.recall,
        "accuracy": a.accuracy,
        "n": a.n,
        "f1_std": a.f1_std,
        "precision_std": a.precision_std,
        "recall_std": a.recall_std,
        "accuracy_std": a.accuracy_std,
    }


def _system_dict(s: SystemScore) -> dict[str, Any]:
    out: dict[str, Any] = {"name": s.name, "version": s.version, "aeb": _set_score_dict(s.aeb)}
    if s.wcxb is not None:
        w = s.wcxb
        out["wcxb"] = {
            "precision": w.precision,
            "recall": w.recall,
            "f1": w.f1,
            "with_rate": w.with_rate,
            "without_rate": w.without_rate,
            "n": w.n,
        }
    return out


def newsboiler_dict(res: NewsboilerResult) -> dict[str, Any]:
    s = res.score
    fixed, total = s.mojibake
    return {
        "documents": len(s.docs),
        "removal_recall": s.removal_recall,
        "removal_recall_category_macro": s.removal_macro,
        "preservation": s.preservation,
        "preservation_sentence_micro": s.preservation_micro,
        "exact": s.exact,
        "mojibake_fixed": {"fixed": fixed, "documents": total},
        "categories": {
            c.category: {"items": c.items, "removed": c.removed, "recall": c.recall} for c in s.categories
        },
        "groups": {
            g.group: {"docs": g.docs, "removal": g.removal, "preservation": g.preservation, "exact": g.exact}
            for g in s.groups
        },
    }


def page_set_dict(res: PageSetResult) -> dict[str, Any]:
    out: dict[str, Any] = {
        "pages": len(res.pages),
        "systems": [_system_dict(s) for s in res.systems],
        "not_ok": {r.page.id: r.reason for r in res.pages if r.status != "ok"},
    }
    if res.tuned:
        out["tuned_on_this_set"] = res.tuned
    if res.by_type:
        out["page_types"] = {
            t.page_type: {"pages": t.n, "systems": [_system_dict(s) for s in t.systems]} for t in res.by_type
        }
    return out


def langid_dict(res: LangidResult) -> dict[str, Any]:
    s = res.score
    return {
        "sentences": s.n,
        "accuracy": s.accuracy,
        "per_lang": {r.lang: {"n": r.n, "correct": r.correct, "accuracy": r.accuracy} for r in s.per_lang},
        "confusions": [
            {"expected": c.expected, "predicted": c.predicted, "count": c.count} for c in s.confusions
        ],
    }
