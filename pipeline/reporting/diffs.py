"""The diffs ``cleanwire explain --diff`` and ``cleanwire report`` show: a document with what each
stage took out, as segments (kept, removed by a rule, replaced), rendered for a terminal or as
HTML."""

from __future__ import annotations

import dataclasses
import difflib
from collections.abc import Sequence
from dataclasses import dataclass
from enum import StrEnum

from pipeline.core.record import Removal
from pipeline.core.terminal import terminal_safe
from pipeline.reporting.explain import Step
from pipeline.reporting.htmlplots import esc, page, table_html

# --- diffs: the document with what each stage took out ---------------------------------------


class SegKind(StrEnum):
    KEEP = "keep"
    REMOVED = "removed"
    INSERTED = "inserted"


@dataclass(frozen=True)
class Segment:
    """A run of text in a diff; removed runs carry the rule and category that took them."""

    kind: SegKind
    text: str
    rule: str | None = None
    category: str | None = None


@dataclass(frozen=True)
class StageDiff:
    """What one stage changed, as segments over the text that entered it."""

    stage: str
    segments: list[Segment]
    exact: bool  # True: from recorded removal offsets; False: computed by a text diff

    @property
    def n_removed(self) -> int:
        return sum(len(s.text) for s in self.segments if s.kind is SegKind.REMOVED)

    @property
    def n_inserted(self) -> int:
        return sum(len(s.text) for s in self.segments if s.kind is SegKind.INSERTED)


def rule_label(r: Removal) -> str:
    """What a removal is labelled with: its rule, and the model's score for a model removal."""
    return r.rule if r.score is None else f"{r.rule} p={r.score:.2f}"


def removal_segments(text: str, removals: Sequence[Removal]) -> list[Segment] | None:
    """``text`` split into kept and removed runs by the removals' offsets.

    ``None`` when the offsets do not fit ``text`` (out of range or overlapping), so callers can
    fall back to a text diff instead of showing wrong spans.
    """
    out: list[Segment] = []
    pos = 0
    for r in sorted(removals, key=lambda r: (r.start, r.end)):
        if r.start < pos or r.end < r.start or r.end > len(text):
            return None
        if r.start > pos:
            out.append(Segment(SegKind.KEEP, text[pos : r.start]))
        out.append(Segment(SegKind.REMOVED, text[r.start : r.end], rule_label(r), r.category))
        pos = r.end
    if pos < len(text):
        out.append(Segment(SegKind.KEEP, text[pos:]))
    return out


def diff_segments(before: str, after: str) -> list[Segment]:
    """A character diff of ``before`` -> ``after`` (line-level first, so long texts stay fast)."""
    out: list[Segment] = []
    a_lines, b_lines = before.splitlines(keepends=True), after.splitlines(keepends=True)
    lines = difflib.SequenceMatcher(None, a_lines, b_lines, autojunk=False)
    for op, i1, i2, j1, j2 in lines.get_opcodes():
        a, b = "".join(a_lines[i1:i2]), "".join(b_lines[j1:j2])
        if op == "equal":
            out.append(Segment(SegKind.KEEP, a))
        elif op == "replace" and len(a) * len(b) <= 4_000_000:
            out.extend(_char_diff(a, b))
        else:
            out += [Segment(SegKind.REMOVED, a)] if a else []
            out += [Segment(SegKind.INSERTED, b)] if b else []
    return _merge(out)


def _char_diff(a: str, b: str) -> list[Segment]:
    out: list[Segment] = []
    for op, i1, i2, j1, j2 in difflib.SequenceMatcher(None, a, b, autojunk=False).get_opcodes():
        if op == "equal":
            out.append(Segment(SegKind.KEEP, a[i1:i2]))
            continue
        if i2 > i1:
            out.append(Segment(SegKind.REMOVED, a[i1:i2]))
        if j2 > j1:
            out.append(Segment(SegKind.INSERTED, b[j1:j2]))
    return out


def _merge(segments: list[Segment]) -> list[Segment]:
    """Join neighbouring runs of the same kind (and rule)."""
    out: list[Segment] = []
    for s in segments:
        if not s.text:
            continue
        if out and out[-1].kind is s.kind and out[-1].rule == s.rule and out[-1].category == s.category:
            out[-1] = dataclasses.replace(out[-1], text=out[-1].text + s.text)
        else:
            out.append(s)
    return out


def stage_diffs(steps: Sequence[Step]) -> list[StageDiff]:
    """The stages that changed the text, each as a diff over the text that entered it.

    ``extract`` is left out for HTML (its input is markup, not text); a stage that recorded
    removals is shown exactly from their offsets, any other change by a text diff.
    """
    out: list[StageDiff] = []
    for step in steps:
        if step.stage == "extract" and step.notes.get("format") == "html":
            continue
        exact = removal_segments(step.text_before, step.removed) if step.removed else None
        if exact is not None:
            out.append(StageDiff(step.stage, exact, exact=True))
        elif step.text_before != step.text_after:
            out.append(StageDiff(step.stage, diff_segments(step.text_before, step.text_after), exact=False))
    return out


def place_removals(text: str, removals: Sequence[Removal]) -> list[Segment]:
    """Approximate inline view of removals in a *final* text (when the text that entered the stage
    is not stored, e.g. records in a run's output).

    Each removal goes where its offset lands once the earlier removals are taken out, snapped to
    the nearest line start (removals are whole lines or blocks in all but inline rules), and is
    shown on a line of its own.
    """
    cuts: list[tuple[int, Removal]] = []
    shift = 0
    for r in sorted(removals, key=lambda r: (r.start, r.end)):
        pos = _snap_to_line(text, min(max(r.start - shift, 0), len(text)))
        cuts.append((max(pos, cuts[-1][0] if cuts else 0), r))
        shift += r.end - r.start + 1
    out: list[Segment] = []
    prev = 0
    for i, (pos, r) in enumerate(cuts):
        if pos > prev or i == 0:
            out.append(Segment(SegKind.KEEP, text[prev:pos]))
            if pos > 0 and text[pos - 1] != "\n":
                out.append(Segment(SegKind.KEEP, "\n"))
        out.append(Segment(SegKind.REMOVED, r.snippet, rule_label(r), r.category))
        last_here = i == len(cuts) - 1 or cuts[i + 1][0] != pos
        if not (last_here and (pos == len(text) or text[pos] == "\n")):
            out.append(Segment(SegKind.KEEP, "\n"))
        prev = pos
    out.append(Segment(SegKind.KEEP, text[prev:]))
    return [s for s in out if s.text]


def _snap_to_line(text: str, pos: int, window: int = 80) -> int:
    """The line start nearest to ``pos`` within ``window`` characters, else ``pos``."""
    if pos <= 0 or pos >= len(text) or text[pos - 1] == "\n":
        return pos
    back = text.rfind("\n", max(0, pos - window), pos)
    fwd = text.find("\n", pos, pos + window)
    options = [p + 1 for p in (back, fwd) if p >= 0]
    return min(options, key=lambda p: abs(p - pos)) if options else pos


# --- rendering diffs --------------------------------------------------------------------------

CONTEXT_CHARS = 60
_VISIBLE = str.maketrans({" ": "·", "\t": "→", "\n": "⏎", "\r": "␍", "\u00a0": "⍽"})


def _visible(seg: Segment) -> str:
    """Whitespace-only changes drawn with visible symbols (an inserted line break still breaks)."""
    if seg.kind is SegKind.KEEP or seg.text.strip():
        return seg.text
    shown = seg.text.translate(_VISIBLE)
    return shown + "\n" if seg.kind is SegKind.INSERTED and seg.text.endswith("\n") else shown


def _shown(seg: Segment) -> str:
    """A segment's text as the terminal gets it: :func:`_visible`, controls escaped."""
    return terminal_safe(_visible(seg))


def with_context(segments: Sequence[Segment], context: int = CONTEXT_CHARS) -> list[Segment | None]:
    """Long unchanged runs cut down to ``context`` characters around each change; ``None`` marks a cut."""
    out: list[Segment | None] = []
    last = len(segments) - 1
    for i, seg in enumerate(segments):
        if seg.kind is not SegKind.KEEP or len(seg.text) <= 2 * context + 10:
            out.append(seg)
            continue
        head = seg.text[:context] if i > 0 else ""
        tail = seg.text[-context:] if i < last else ""
        out += [Segment(SegKind.KEEP, head)] if head else []
        out.append(None)
        out += [Segment(SegKind.KEEP, tail)] if tail else []
    return out


def _diff_header(d: StageDiff) -> str:
    spans = sum(1 for s in d.segments if s.kind is SegKind.REMOVED)
    how = "recorded offsets" if d.exact else "text diff"
    head = f"[{d.stage}] removed {d.n_removed:,} chars in {spans} span(s)"
    return head + (f", inserted {d.n_inserted:,}" if d.n_inserted else "") + f" ({how})"


def render_segments_terminal(segments: Sequence[Segment | None], *, color: bool) -> str:
    import click

    parts: list[str] = []
    for seg in segments:
        if seg is None:
            parts.append(click.style(" … ", dim=True) if color else " … ")
        elif seg.kind is SegKind.KEEP:
            parts.append(terminal_safe(seg.text))
        elif seg.kind is SegKind.REMOVED:
            label = f"«{terminal_safe(seg.rule)}»" if seg.rule else ""
            if color:
                parts.append(
                    click.style(label, fg="yellow") + click.style(_shown(seg), fg="red", strikethrough=True)
                )
            else:
                parts.append(f"{label}[-{_shown(seg)}-]")
        else:
            parts.append(
                click.style(_shown(seg), fg="green", underline=True) if color else f"{{+{_shown(seg)}+}}"
            )
    return "".join(parts)


def render_diff(steps: Sequence[Step], *, color: bool = False) -> str:
    """The document as each changing stage saw it, removed spans struck through (or ``[-…-]``)."""
    import click

    diffs = stage_diffs(steps)
    out: list[str] = []
    extracted = next((s for s in steps if s.stage == "extract" and s.notes.get("format") == "html"), None)
    if extracted is not None:  # not diffed (its input is markup): what it made of the page, in a line
        line = (
            f"extract: an HTML page of {len(extracted.text_before):,} characters -> "
            f"{len(extracted.text_after):,} characters of text (markup: not shown as a diff)"
        )
        out.append(click.style(line, bold=True) if color else line)
    for d in diffs:
        out.append(click.style(_diff_header(d), bold=True) if color else _diff_header(d))
        shown: Sequence[Segment | None] = d.segments if d.exact else with_context(d.segments)
        out.append(render_segments_terminal(shown, color=color).rstrip("\n") + "\n")
    if not diffs:
        out.append("no stage after extract changed the text" if extracted else "no stage changed the text")
    final = steps[-1] if steps else None
    if final is not None and final.status != "ok":
        out.append(f"{final.stage}: {final.status.upper()} ({terminal_safe(str(final.reason))})")
    legend = "legend: «rule»[-removed-] {+inserted+}; whitespace shown as · ⏎"
    out.append(click.style(legend, dim=True) if color else legend)
    return "\n".join(out)


def segments_html(segments: Sequence[Segment | None]) -> str:
    parts: list[str] = []
    for seg in segments:
        if seg is None:
            parts.append('<span class="muted"> … </span>')
        elif seg.kind is SegKind.KEEP:
            parts.append(esc(seg.text))
        elif seg.kind is SegKind.REMOVED:
            title = f"{seg.rule} ({seg.category})" if seg.rule else "removed"
            tag = f'<span class="tag">{esc(seg.rule)}</span>' if seg.rule else ""
            parts.append(f'{tag}<del class="rm" title="{esc(title)}">{esc(_visible(seg))}</del>')
        else:
            parts.append(f'<ins class="add">{esc(_visible(seg))}</ins>')
    return "".join(parts)


def render_diff_html(steps: Sequence[Step], *, title: str) -> str:
    """``explain --diff`` as a self-contained HTML page."""
    rows = [
        [
            s.stage,
            len(s.text_before),
            len(s.text_after),
            len(s.removed),
            s.status + (f": {s.reason}" if s.reason else ""),
        ]
        for s in steps
    ]
    body = [
        f"<h1>cleanwire explain: {esc(title)}</h1>",
        table_html(
            ["stage", "chars in", "chars out", "removals", "status"], rows, [False, True, True, True, False]
        ),
    ]
    for d in stage_diffs(steps):
        shown: Sequence[Segment | None] = d.segments if d.exact else with_context(d.segments)
        body.append(f"<h2>{esc(_diff_header(d))}</h2>")
        body.append(f'<pre class="doc" data-stage="{esc(d.stage)}">{segments_html(shown)}</pre>')
    final = steps[-1] if steps else None
    if final is not None:
        body.append("<h2>Final text</h2>")
        body.append(f'<pre class="doc final">{esc(final.text_after)}</pre>')
    return page(f"cleanwire explain: {title}", "\n".join(body))
