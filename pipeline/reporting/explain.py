"""``cleanwire explain``: run one document stage by stage and say what each stage did."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from pipeline.core.config import Config
from pipeline.core.record import Doc, Removal, make_id, raw_format
from pipeline.core.terminal import terminal_safe
from stages.near_dedup import NearDedup
from stages.near_dedup.minhash import unpack_sketch
from stages.registry import build_stages


@dataclass
class Step:
    stage: str
    text_before: str
    text_after: str
    removed: list[Removal] = field(default_factory=list)
    fixes: list[str] = field(default_factory=list)
    notes: dict[str, Any] = field(default_factory=dict)
    status: str = "ok"
    reason: str | None = None

    def to_dict(self) -> dict[str, Any]:
        return {
            "stage": self.stage,
            "status": self.status,
            "reason": self.reason,
            "removed": [r._asdict() for r in self.removed],
            "fixes": self.fixes,
            "notes": self.notes,
            "chars_before": len(self.text_before),
            "chars_after": len(self.text_after),
            "text": self.text_after,
        }


def explain_document(
    raw: str,
    *,
    fmt: str = "text",
    url: str | None = None,
    config: Config | None = None,
    source: str = "<explain>",
    doc_id: str | None = None,
) -> list[Step]:
    """What each stage does to ``raw``. ``source`` and ``doc_id``: the record's, as ``run`` gives
    them (default: a document of its own); with ``dedup.index`` the index's entry for that very
    record is then not its duplicate, as in ``run``."""
    cfg = config or Config()
    fmt = raw_format(raw, fmt)
    doc = Doc(id=doc_id or make_id(source, 0), source=source, raw=raw, format=fmt, url=url)
    steps: list[Step] = []
    for stage in build_stages(cfg):
        before_text = doc.text if stage.name != "extract" else raw
        n_removed, n_fixes, n_flags = len(doc.removed), len(doc.encoding_fixes), len(doc.flags)
        detail_before = doc.detail
        stage.process_docs([doc])
        step = Step(
            stage.name,
            before_text,
            doc.text,
            list(doc.removed[n_removed:]),
            list(doc.encoding_fixes[n_fixes:]),
            status=doc.status.value,
            reason=doc.reason,
        )
        if stage.name == "extract":
            step.notes = {"format": fmt} | {
                k: v
                for k, v in (
                    ("title", doc.title),
                    ("author", doc.author),
                    ("date", doc.date),
                    ("sitename", doc.sitename),
                )
                if v
            }
        elif stage.name == "language":
            step.notes = {"lang": doc.lang, "lang_prob": round(doc.lang_prob, 4)}
        elif stage.name == "near_dedup_sign":
            step.notes = _sketch_notes(doc.sketch)
        elif isinstance(stage, NearDedup):
            step.notes = _near_dedup_notes(doc, stage)
        elif stage.name == "boilerplate":
            step.notes = {k: v for k, v in (("author", doc.author), ("date", doc.date)) if v}
            if doc.detail != detail_before and doc.detail:  # over the budget: the share, the rules
                step.notes["detail"] = doc.detail
        if doc.flags[n_flags:]:  # e.g. extract_full_cascade, removal_budget_exceeded
            step.notes["flags"] = list(doc.flags[n_flags:])
        steps.append(step)
        if not doc.ok:
            break
    return steps


def _sketch_notes(sketch: bytes | None) -> dict[str, Any]:
    packed = unpack_sketch(sketch) if sketch is not None else None
    if packed is None:
        return {}
    if not len(packed.signature):
        return {"words": packed.n_words, "signature": "none: too few words, exact copies only"}
    return {"words": packed.n_words, "signature": f"{len(packed.signature)} MinHash values"}


def _near_dedup_notes(doc: Doc, stage: NearDedup) -> dict[str, Any]:
    """Whose copy the document is (with ``--dedup-index``: among the records of earlier runs)."""
    if doc.dup_of is not None:
        return {"dup_of": doc.dup_of, "similarity": doc.similarity}
    counters = stage.deduper.counters
    where = (
        f"the index {stage.index}"
        if stage.index
        else "this one document (give --dedup-index DIR to look in an index)"
    )
    notes: dict[str, Any] = {"copy of": f"nothing in {where}"}
    if counters.candidates:
        notes["candidates checked"] = f"{counters.candidates}, none with Jaccard >= {stage.params.threshold}"
    return notes


def render_explanation(steps: list[Step], *, color: bool = False) -> str:
    import click

    def style(s: str, **kw: Any) -> str:
        return click.style(s, **kw) if color else s

    out: list[str] = []
    for step in steps:
        head = f"[{step.stage}] {len(step.text_before)} -> {len(step.text_after)} chars"
        if step.status != "ok":
            head += f"  {step.status.upper()}: {terminal_safe(str(step.reason))}"
        out.append(style(head, bold=True))
        for r in step.removed:
            snippet = r.snippet if len(r.snippet) <= 100 else r.snippet[:97] + "..."
            why = terminal_safe(r.rule) + ("" if r.score is None else f" p={r.score:.2f}")
            out.append(
                f"  - removed {style(terminal_safe(r.category), fg='yellow')} by {why} "
                f"[{r.start}:{r.end}]: " + style(terminal_safe(repr(snippet)), fg="red")
            )
        for fix in step.fixes:
            out.append(f"  - fix {terminal_safe(fix)}")
        for key, value in step.notes.items():
            out.append(f"  - {key}: {terminal_safe(str(value))}")
    final = steps[-1] if steps else None
    if final is not None:
        out.append(style("\n--- final text ---", bold=True))
        out.append(terminal_safe(final.text_after))
    return "\n".join(out)
