"""``cleanwire report``: a self-contained HTML page whose plots hold the run's numbers and render."""

from __future__ import annotations

import json
import re
import shutil
import struct
import subprocess
import xml.etree.ElementTree as ET
import zlib
from html.parser import HTMLParser
from pathlib import Path

import pytest
from click.testing import CliRunner

from pipeline.cli import cli
from pipeline.reporting.htmlplots import KEPT_COLOR, Bar, hbar_chart
from pipeline.reporting.report import ReportOptions, build_report
from tests.reporting.test_stats import CONSENT, TRAILER, cleaned_dump

PLOTS = (
    "funnel",
    "removed-by-category",
    "removed-by-rule",
    "removed-by-site",
    "languages",
    "lengths",
    "rejects",
)
SVG_NS = "{http://www.w3.org/2000/svg}"


@pytest.fixture(scope="module")
def run_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return cleaned_dump(tmp_path_factory.mktemp("report"))


@pytest.fixture(scope="module")
def report_html(run_dir: Path) -> str:
    return build_report(run_dir, ReportOptions(samples=3))


def _svgs(html: str) -> dict[str, ET.Element]:
    """Every inline SVG, parsed as XML (so each must be well-formed), by its data-plot name."""
    out = {}
    for match in re.finditer(r"<svg .*?</svg>", html, flags=re.S):
        root = ET.fromstring(match.group(0))
        out[root.attrib["data-plot"]] = root
    return out


def _bar_titles(svg: ET.Element) -> list[str]:
    return [str(r.findtext(f"{SVG_NS}title")) for r in svg.iter(f"{SVG_NS}rect") if r.get("class") == "bar"]


class _Refs(HTMLParser):
    """Collects every attribute that could make a browser fetch something."""

    def __init__(self) -> None:
        super().__init__()
        self.fetches: list[str] = []
        self.tags: set[str] = set()

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.tags.add(tag)
        for name, value in attrs:
            if name in ("src", "srcset", "data") or (name == "href" and not (value or "").startswith("#")):
                self.fetches.append(f"{tag} {name}={value}")


def test_page_is_self_contained(report_html: str) -> None:
    refs = _Refs()
    refs.feed(report_html)
    assert refs.fetches == []
    assert not refs.tags & {"script", "link", "iframe", "img", "object"}
    assert "url(" not in report_html and "@import" not in report_html


def test_every_plot_is_there_and_well_formed(report_html: str) -> None:
    svgs = _svgs(report_html)
    assert set(PLOTS) <= set(svgs)
    for name in PLOTS:
        assert _bar_titles(svgs[name]), f"plot {name} has no bars"


def test_plots_hold_the_runs_numbers(report_html: str) -> None:
    svgs = _svgs(report_html)
    funnel = _bar_titles(svgs["funnel"])
    assert "read - passed: 15" in funnel and "read - rejected: 1" in funnel
    assert "filter - passed: 13" in funnel and "near_dedup - dropped: 1" in funnel
    cats = _bar_titles(svgs["removed-by-category"])
    assert any(t.startswith(f"signup_notice: {4 * len(CONSENT):,}") for t in cats)
    sites = _bar_titles(svgs["removed-by-site"])
    assert sites[0].startswith(f"coast-watch.example: {4 * len(CONSENT) + 4 * len(TRAILER):,}")
    assert _bar_titles(svgs["languages"]) == ["en: 12  100.0%"]
    lengths = _bar_titles(svgs["lengths"])
    for series in ("raw input", "text before removal", "clean text"):
        counts = [int(t.rsplit(": ", 1)[1].replace(",", "")) for t in lengths if t.startswith(series + ",")]
        assert sum(counts) == 12, series


def test_sample_diffs_show_the_records_with_most_removals(report_html: str) -> None:
    ids = re.findall(r'<pre class="doc" data-id="([^"]+)">', report_html)
    # doc-0 and doc-2 lose the consent notice and the trailer; doc-1 and doc-3 only the notice
    assert ids == ["doc-2", "doc-0", "doc-3"]
    first = report_html[report_html.index('data-id="doc-2"') :]
    first = first[: first.index("</pre>")]
    assert '<del class="rm" title="signup.consent.en (signup_notice)">' in first
    assert (
        first.index("schedule for the ferry") < first.index("We use your sign-up") < first.index("patience")
    )


def test_rejects_are_listed_with_examples(report_html: str) -> None:
    assert "read/invalid_json" in report_html and "near_dedup/duplicate" in report_html
    assert "unterminated" in report_html  # the raw prefix of the broken JSON line


def test_cli_writes_the_page(run_dir: Path, tmp_path: Path) -> None:
    target = tmp_path / "r.html"
    res = CliRunner().invoke(cli, ["report", str(run_dir), "-o", str(target), "--samples", "1"])
    assert res.exit_code == 0, res.output
    html = target.read_text(encoding="utf-8")
    assert html.count('<pre class="doc" data-id=') == 1
    assert set(PLOTS) <= set(_svgs(html))


def test_empty_chart_says_so() -> None:
    svg = ET.fromstring(hbar_chart("x", "Nothing", []))
    assert "nothing to show" in "".join(svg.itertext())
    assert ET.fromstring(hbar_chart("y", "One", [Bar("a", 3)])).find(f"{SVG_NS}rect") is not None


# --- rendering in a real browser ------------------------------------------------------------

PROBE = """<script>
const plots = {};
for (const svg of document.querySelectorAll('svg.plot')) {
  const box = svg.getBoundingClientRect();
  const bars = [...svg.querySelectorAll('rect.bar')].filter(r => {
    const b = r.getBoundingClientRect(); return b.width > 0 && b.height > 0; });
  plots[svg.dataset.plot] = {width: box.width, height: box.height, bars: bars.length,
                             total: svg.querySelectorAll('rect.bar').length};
}
const out = document.createElement('pre'); out.id = 'probe';
out.textContent = JSON.stringify(plots); document.body.appendChild(out);
</script>"""


def _chromium() -> str:
    for name in ("chromium", "chromium-browser", "google-chrome", "google-chrome-stable"):
        path = shutil.which(name)
        if path:
            return path
    pytest.skip("headless chromium is not installed")


def _headless(browser: str, profile: Path, *args: str) -> subprocess.CompletedProcess[str]:
    flags = [
        "--headless",
        "--no-sandbox",
        "--disable-gpu",
        "--no-first-run",
        "--disable-background-networking",
        "--disable-component-update",
        "--disable-sync",
        "--hide-scrollbars",
        f"--user-data-dir={profile}",
    ]
    return subprocess.run([browser, *flags, *args], capture_output=True, text=True, timeout=120, check=False)


@pytest.mark.browser
def test_plots_draw_in_headless_chromium(report_html: str, tmp_path: Path) -> None:
    browser = _chromium()
    page = tmp_path / "probe.html"
    page.write_text(report_html.replace("</body>", PROBE + "</body>"), encoding="utf-8")
    res = _headless(browser, tmp_path / "profile", "--dump-dom", page.as_uri())
    match = re.search(r'<pre id="probe">(.*?)</pre>', res.stdout, flags=re.S)
    assert match, res.stderr[-2000:]
    plots = json.loads(match.group(1).replace("&quot;", '"').replace("&amp;", "&"))
    for name in PLOTS:
        assert plots[name]["width"] > 300 and plots[name]["height"] > 40, (name, plots[name])
        assert plots[name]["bars"] == plots[name]["total"] > 0, (name, plots[name])


def _png_pixels(data: bytes) -> tuple[int, int, int, bytes]:
    """Width, height, bytes per pixel and unfiltered rows of an 8-bit RGB/RGBA PNG."""
    assert data[:8] == b"\x89PNG\r\n\x1a\n"
    pos, idat, width, height, bpp = 8, b"", 0, 0, 0
    while pos < len(data):
        (length,) = struct.unpack(">I", data[pos : pos + 4])
        kind, body = data[pos + 4 : pos + 8], data[pos + 8 : pos + 8 + length]
        if kind == b"IHDR":
            width, height, depth, color = struct.unpack(">IIBB", body[:10])
            assert depth == 8 and color in (2, 6) and body[12] == 0
            bpp = 3 if color == 2 else 4
        elif kind == b"IDAT":
            idat += body
        pos += 12 + length
    raw, stride = zlib.decompress(idat), width * bpp
    out, prev = bytearray(), bytearray(stride)
    for y in range(height):
        ftype, line = raw[y * (stride + 1)], bytearray(raw[y * (stride + 1) + 1 : (y + 1) * (stride + 1)])
        for i in range(stride):
            a = line[i - bpp] if i >= bpp else 0
            b, c = prev[i], prev[i - bpp] if i >= bpp else 0
            if ftype == 1:
                line[i] = (line[i] + a) & 255
            elif ftype == 2:
                line[i] = (line[i] + b) & 255
            elif ftype == 3:
                line[i] = (line[i] + (a + b) // 2) & 255
            elif ftype == 4:
                p = a + b - c
                pa, pb, pc = abs(p - a), abs(p - b), abs(p - c)
                line[i] = (line[i] + (a if pa <= pb and pa <= pc else b if pb <= pc else c)) & 255
        out += line
        prev = line
    return width, height, bpp, bytes(out)


@pytest.mark.browser
def test_funnel_is_painted_in_a_screenshot(report_html: str, tmp_path: Path) -> None:
    browser = _chromium()
    page = tmp_path / "shot.html"
    hide = "<style>h1,p,.kpis,nav,h2,details,section:not(#funnel){display:none}</style></head>"
    page.write_text(report_html.replace("</head>", hide, 1), encoding="utf-8")
    png = tmp_path / "shot.png"
    _headless(browser, tmp_path / "profile", "--window-size=800,400", f"--screenshot={png}", page.as_uri())
    assert png.exists()
    width, height, bpp, pixels = _png_pixels(png.read_bytes())
    rgb = bytes(int(KEPT_COLOR[i : i + 2], 16) for i in (1, 3, 5))
    painted = sum(1 for i in range(0, width * height * bpp, bpp) if pixels[i : i + 3] == rgb)
    assert painted > 20_000  # eight funnel bars of ~15 x 300+ px in the "passed" colour
