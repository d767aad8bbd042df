"""Self-contained HTML pages and inline-SVG charts, generated in Python (no JavaScript, no network).

Every chart is an ``<svg class="plot">`` element with a ``data-plot`` name, drawn with plain
``rect``/``text`` elements, so a page renders the same offline, in any browser, and in tests.
Reusable by any report: :func:`hbar_chart`, :func:`stacked_hbar_chart`, :func:`histogram_chart`
and :func:`page`.
"""

from __future__ import annotations

import html
from collections.abc import Sequence
from dataclasses import dataclass

PALETTE = ("#3b6fb6", "#d9822b", "#4f9d69", "#c2473f", "#8a63b8", "#7a7a7a", "#c9a227", "#2a9d9d")
KEPT_COLOR, REJECTED_COLOR, DROPPED_COLOR = "#3b6fb6", "#c2473f", "#d9822b"
FONT = "font-family:system-ui,-apple-system,'Segoe UI',sans-serif"

BASE_CSS = """
body{font-family:system-ui,-apple-system,'Segoe UI',sans-serif;margin:0 auto;max-width:1100px;
  padding:1.5rem;color:#222;background:#fff;line-height:1.4}
h1{font-size:1.6rem;margin:.2rem 0 .5rem} h2{font-size:1.25rem;margin:2rem 0 .5rem;
  border-bottom:1px solid #ddd;padding-bottom:.2rem} h3{font-size:1rem;margin:1rem 0 .3rem}
table{border-collapse:collapse;margin:.5rem 0;font-size:.9rem}
th,td{padding:.2rem .6rem;border-bottom:1px solid #eee;text-align:left;vertical-align:top}
td.num,th.num{text-align:right;font-variant-numeric:tabular-nums}
svg.plot{display:block;max-width:100%;height:auto;margin:.5rem 0}
.muted{color:#666;font-size:.9rem}
pre.doc{white-space:pre-wrap;word-wrap:break-word;background:#fafafa;border:1px solid #e3e3e3;
  padding:.7rem;font-size:.85rem;max-height:32rem;overflow:auto}
del.rm{background:#fde2e0;color:#9b1c13;text-decoration:line-through}
ins.add{background:#dff3e4;color:#1d6b34;text-decoration:none}
.tag{font-size:.7rem;background:#9b1c13;color:#fff;border-radius:3px;padding:0 .25rem;margin:0 .2rem;
  text-decoration:none;font-family:system-ui,sans-serif}
.legend span{display:inline-block;margin-right:1rem}
.swatch{display:inline-block;width:.8rem;height:.8rem;margin-right:.3rem;vertical-align:middle}
"""


def esc(text: object) -> str:
    return html.escape(str(text), quote=True)


def fmt_num(value: float) -> str:
    if isinstance(value, int) or float(value).is_integer():
        return f"{int(value):,}"
    return f"{value:,.1f}"


def _clip(label: str, n: int) -> str:
    return label if len(label) <= n else label[: n - 1] + "…"


@dataclass(frozen=True)
class Bar:
    label: str
    value: float
    note: str = ""  # shown after the value, e.g. "12.5%"


@dataclass(frozen=True)
class StackedRow:
    label: str
    segments: tuple[float, ...]  # one value per series, in legend order


@dataclass(frozen=True)
class Series:
    name: str
    counts: tuple[int, ...]
    color: str = PALETTE[0]


@dataclass(frozen=True)
class ChartBox:
    """Layout of a horizontal bar chart: label column, plot area, value column (pixels)."""

    label_w: int = 220
    plot_w: int = 520
    value_w: int = 170
    row_h: int = 22
    top: int = 30
    label_chars: int = 34

    @property
    def width(self) -> int:
        return self.label_w + self.plot_w + self.value_w


def _svg(name: str, title: str, width: int, height: int, body: list[str]) -> str:
    return (
        f'<svg class="plot" data-plot="{esc(name)}" xmlns="http://www.w3.org/2000/svg" '
        f'viewBox="0 0 {width} {height}" width="{width}" height="{height}" role="img" '
        f'aria-label="{esc(title)}" style="{FONT}">'
        f"<title>{esc(title)}</title>"
        f'<text x="0" y="16" font-size="14" font-weight="600" fill="#222">{esc(title)}</text>'
        + "".join(body)
        + "</svg>"
    )


def _empty(name: str, title: str, width: int = 600) -> str:
    msg = '<text x="0" y="44" font-size="12" fill="#666">nothing to show</text>'
    return _svg(name, title, width, 56, [msg])


def hbar_chart(name: str, title: str, bars: Sequence[Bar], *, color: str = PALETTE[0]) -> str:
    """Horizontal bars, longest value = full width; label left, value (and note) right."""
    if not bars or max(b.value for b in bars) <= 0:
        return _empty(name, title)
    box = ChartBox()
    hi = max(b.value for b in bars)
    body: list[str] = []
    for i, b in enumerate(bars):
        y = box.top + i * box.row_h
        w = max(box.plot_w * b.value / hi, 1.0 if b.value > 0 else 0.0)
        value = fmt_num(b.value) + (f"  {b.note}" if b.note else "")
        body.append(
            f'<text x="{box.label_w - 6}" y="{y + 15}" font-size="12" text-anchor="end" fill="#333">'
            f"<title>{esc(b.label)}</title>{esc(_clip(b.label, box.label_chars))}</text>"
            f'<rect class="bar" x="{box.label_w}" y="{y + 3}" width="{w:.1f}" height="{box.row_h - 6}" '
            f'fill="{color}"><title>{esc(b.label)}: {esc(value)}</title></rect>'
            f'<text x="{box.label_w + w + 6:.1f}" y="{y + 15}" font-size="12" fill="#333">{esc(value)}</text>'
        )
    return _svg(name, title, box.width, box.top + len(bars) * box.row_h + 8, body)


def stacked_hbar_chart(
    name: str,
    title: str,
    rows: Sequence[StackedRow],
    legend: Sequence[tuple[str, str]],
    *,
    centered: bool = False,
) -> str:
    """Bars split into segments (``legend`` gives each series' name and colour).

    With ``centered`` the bars are centred, which draws a funnel when each row is a stage.
    """
    totals = [sum(r.segments) for r in rows]
    if not rows or max(totals) <= 0:
        return _empty(name, title)
    box = ChartBox(top=48)
    hi = max(totals)
    body = [_legend_svg(legend, box.label_w, 34)]
    for i, (row, total) in enumerate(zip(rows, totals, strict=True)):
        y = box.top + i * box.row_h
        full = box.plot_w * total / hi
        x = box.label_w + ((box.plot_w - full) / 2 if centered else 0.0)
        body.append(
            f'<text x="{box.label_w - 6}" y="{y + 15}" font-size="12" text-anchor="end" fill="#333">'
            f"{esc(_clip(row.label, box.label_chars))}</text>"
        )
        for value, (series, color) in zip(row.segments, legend, strict=True):
            w = box.plot_w * value / hi
            if value > 0:
                body.append(
                    f'<rect class="bar" x="{x:.1f}" y="{y + 3}" width="{max(w, 1.0):.1f}" '
                    f'height="{box.row_h - 6}" fill="{color}"><title>{esc(row.label)} - {esc(series)}: '
                    f"{fmt_num(value)}</title></rect>"
                )
            x += w
        text = " / ".join(fmt_num(v) for v in row.segments)
        body.append(
            f'<text x="{box.label_w + box.plot_w + 6}" y="{y + 15}" font-size="12" fill="#333">{esc(text)}</text>'
        )
    return _svg(name, title, box.width, box.top + len(rows) * box.row_h + 8, body)


def _legend_svg(legend: Sequence[tuple[str, str]], x0: int, y: int) -> str:
    parts, x = [], float(x0)
    for series, color in legend:
        parts.append(
            f'<rect x="{x:.0f}" y="{y - 10}" width="10" height="10" fill="{color}"/>'
            f'<text x="{x + 14:.0f}" y="{y}" font-size="12" fill="#333">{esc(series)}</text>'
        )
        x += 24 + 7 * len(series)
    return "".join(parts)


def histogram_chart(name: str, title: str, edges: Sequence[int], series: Sequence[Series]) -> str:
    """Grouped vertical bars over bins ``[edges[i], edges[i+1])`` (labels show the lower edge)."""
    n_bins = len(edges) - 1
    hi = max((max(s.counts, default=0) for s in series), default=0)
    if n_bins <= 0 or hi <= 0:
        return _empty(name, title)
    left, top, plot_h, bottom = 50, 48, 200, 44
    group_w = max(18, min(80, 860 // n_bins))
    bar_w = max((group_w - 4) / max(len(series), 1), 2.0)
    width = max(left + n_bins * group_w + 20, 460)
    body = [_legend_svg([(s.name, s.color) for s in series], left, 34)]
    base = top + plot_h
    body.append(f'<line x1="{left}" y1="{base}" x2="{width - 10}" y2="{base}" stroke="#999"/>')
    body.append(
        f'<text x="{left - 6}" y="{top + 10}" font-size="11" text-anchor="end" fill="#666">{fmt_num(hi)}</text>'
    )
    body.append(f'<text x="{left - 6}" y="{base}" font-size="11" text-anchor="end" fill="#666">0</text>')
    for b in range(n_bins):
        gx = left + b * group_w
        for j, s in enumerate(series):
            count = s.counts[b] if b < len(s.counts) else 0
            if count <= 0:
                continue
            h = max(plot_h * count / hi, 1.0)
            body.append(
                f'<rect class="bar" x="{gx + 2 + j * bar_w:.1f}" y="{base - h:.1f}" width="{bar_w:.1f}" '
                f'height="{h:.1f}" fill="{s.color}"><title>{esc(s.name)}, {fmt_num(edges[b])}-'
                f"{fmt_num(edges[b + 1] - 1)} chars: {fmt_num(count)}</title></rect>"
            )
        if b % max(1, n_bins // 12) == 0:
            body.append(
                f'<text x="{gx + group_w / 2:.1f}" y="{base + 14}" font-size="10" text-anchor="middle" '
                f'fill="#555">{_short(edges[b])}</text>'
            )
    body.append(
        f'<text x="{left + (width - left) / 2:.0f}" y="{base + 34}" font-size="11" text-anchor="middle" '
        'fill="#555">characters (log-spaced bins, lower edge)</text>'
    )
    return _svg(name, title, width, base + bottom, body)


def _short(n: int) -> str:
    for unit, suffix in ((1_000_000, "M"), (1_000, "k")):
        if n >= unit:
            v = n / unit
            return f"{v:.0f}{suffix}" if v >= 10 or v.is_integer() else f"{v:.1f}{suffix}"
    return str(n)


def table_html(header: Sequence[str], rows: Sequence[Sequence[object]], numeric: Sequence[bool]) -> str:
    """An HTML table; ``numeric`` marks right-aligned columns."""

    def cell(tag: str, value: object, num: bool) -> str:
        cls = ' class="num"' if num else ""
        text = fmt_num(value) if isinstance(value, int | float) else esc(value)
        return f"<{tag}{cls}>{text}</{tag}>"

    head = "".join(cell("th", h, n) for h, n in zip(header, numeric, strict=True))
    body = "".join(
        "<tr>" + "".join(cell("td", v, n) for v, n in zip(row, numeric, strict=True)) + "</tr>"
        for row in rows
    )
    return f"<table><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>"


def page(title: str, body: str, *, css: str = "") -> str:
    """A complete, self-contained HTML document (inline CSS, no scripts, no external resources)."""
    return (
        "<!DOCTYPE html>\n"
        '<html lang="en"><head><meta charset="utf-8">'
        '<meta name="viewport" content="width=device-width, initial-scale=1">'
        f"<title>{esc(title)}</title><style>{BASE_CSS}{css}</style></head>\n"
        f"<body>\n{body}\n</body></html>\n"
    )
