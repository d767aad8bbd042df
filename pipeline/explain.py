"""``cleanwire explain``: run one document stage by stage and say what each stage did."""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field
from typing import Any

from pipeline.config import Config
from pipeline.record import Doc, Removal, make_id
from pipeline.registry import build_stages


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
            "removed": [dataclasses.asdict(r) for r in self.removed],
            "fixes": self.fixes,
            "notes": self.notes,
            "chars_before": len(self.text_before),
            "chars_after": len(self.text_after),
            "text": self.text_after,
        }


def explain_document(
    raw: str, *, fmt: str = "text", url: str | None = None, config: Config | None = None
) -> list[Step]:
    cfg = config or Config()
    doc = Doc(id=make_id("<explain>", 0), source="<explain>", raw=raw, format=fmt, url=url)
    steps: list[Step] = []
    for stage in build_stages(cfg):
        before_text = doc.text if stage.name != "extract" else raw
        n_removed, n_fixes = len(doc.removed), len(doc.encoding_fixes)
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
            step.notes = {
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
        elif stage.name == "boilerplate":
            step.notes = {k: v for k, v in (("author", doc.author), ("date", doc.date)) if v}
            if doc.flags:
                step.notes["flags"] = list(doc.flags)
        steps.append(step)
        if not doc.ok:
            break
    return steps


def render_explanation(steps: list[Step], *, color: bool = False) -> str:
    import click

    def style(s: str, **kw: Any) -> str:
        return click.style(s, **kw) if color else s

    out: list[str] = []
    for step in steps:
        head = f"[{step.stage}] {len(step.text_before)} -> {len(step.text_after)} chars"
        if step.status != "ok":
            head += f"  {step.status.upper()}: {step.reason}"
        out.append(style(head, bold=True))
        for r in step.removed:
            snippet = r.snippet if len(r.snippet) <= 100 else r.snippet[:97] + "..."
            out.append(
                f"  - removed {style(r.category, fg='yellow')} by {r.rule} [{r.start}:{r.end}]: "
                + style(repr(snippet), fg="red")
            )
        for fix in step.fixes:
            out.append(f"  - fix {fix}")
        for key, value in step.notes.items():
            out.append(f"  - {key}: {value}")
    final = steps[-1] if steps else None
    if final is not None:
        out.append(style("\n--- final text ---", bold=True))
        out.append(final.text_after)
    return "\n".join(out)
