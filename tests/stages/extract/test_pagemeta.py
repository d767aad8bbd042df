"""pagemeta and the extract stage's cheaper steps give trafilatura's own answers.

Every test compares with the upstream function on the same input (``extract_author``,
``extract_metadata``, lxml.html's parser, the str-level C1 repair), on a fixture page of our own
(``fixtures/extract/author_fallback.html``: no author in meta tags or JSON-LD, decoy bylines in
a sidebar, a figure and the comments, a ``<time>`` inside the byline, a newsletter form) and on
small generated variants.
"""

from __future__ import annotations

import re
from datetime import UTC, datetime, tzinfo
from pathlib import Path
from typing import Any

import pytest

import pipeline  # noqa: F401 - import order: pipeline before stages
from pipeline.core.config import ExtractConfig
from stages.extract.extractor import extract_html, parse_html, repair_c1_mojibake, utf8_page
from stages.extract.pagemeta import (
    _author_search,
    fallback_author,
    guarded_path,
    page_metadata,
    required_literals,
)

FIXTURE = Path(__file__).resolve().parents[3] / "fixtures" / "extract" / "author_fallback.html"
URL = "https://courier.example/local/harbour-ferry-returns"


@pytest.fixture(scope="module")
def fixture_html() -> str:
    return FIXTURE.read_text(encoding="utf-8")


def lxml_html_parser() -> Any:
    """lxml.html's own parser (Python class lookup) with the options of stages.extract.extractor.parse_html."""
    from lxml import html as lxml_html

    from stages.extract.extractor import PARSER_OPTIONS

    return lxml_html.HTMLParser(**PARSER_OPTIONS)


def tree_of(html: str) -> Any:
    return parse_html(utf8_page(html))


def upstream_author(html: str) -> str | None:
    from trafilatura.metadata import extract_author

    author: str | None = extract_author(tree_of(html))
    return author


def test_fixture_page_takes_the_author_fallback_and_gets_trafilaturas_answer(fixture_html: str) -> None:
    from trafilatura import metadata as tm

    tree = tree_of(fixture_html)
    assert tm.extract_meta_json(tree, tm.examine_meta(tree)).author is None  # the fallback runs
    author = fallback_author(tree)
    assert author == upstream_author(fixture_html)
    assert author is not None and author.startswith("Mara Lind")
    for decoy in ("Ingrid Solvang", "Per Aasen", "Courier archive", "Harbour Fan"):
        assert decoy not in author  # sidebar, figure and comments are pruned first


def test_page_metadata_equals_trafilaturas_extract_metadata(fixture_html: str) -> None:
    from trafilatura.metadata import extract_metadata
    from trafilatura.settings import set_date_params

    got = page_metadata(tree_of(fixture_html), URL, extensive_dates=True)
    ref = extract_metadata(tree_of(fixture_html), URL, set_date_params(True))
    assert (got.title, got.author, got.date, got.sitename) == (ref.title, ref.author, ref.date, ref.sitename)
    assert got.date == "2021-03-12"  # not in the head or the URL: found by htmldate's page search


@pytest.mark.parametrize("fast", [False, True])
def test_extract_html_fields_on_the_fixture(fixture_html: str, fast: bool) -> None:
    got = extract_html(fixture_html, url=URL, config=ExtractConfig(fast=fast))
    assert got.author is not None and got.author.startswith("Mara Lind")
    assert got.date == "2021-03-12"
    assert got.title == "Harbour ferry returns after winter repairs"
    assert "Islanders had relied on a passenger boat" in got.text
    assert "Most read" not in got.text and "Finally!" not in got.text


def article(byline: str, before: str = "", after: str = "") -> str:
    body = "<p>The council approved the new cycle lane along the river on Tuesday evening.</p>" * 3
    return (
        f"<html><head><title>Cycle lane approved</title></head><body>{before}"
        f"<article><h1>Cycle lane approved</h1>{byline}{body}</article>{after}</body></html>"
    )


@pytest.mark.parametrize(
    "html",
    [
        article("<p>No byline at all.</p>"),  # no candidate anywhere: nothing is copied
        article('<span class="author">Lena Berg</span>'),  # first XPath
        article('<div class="post-author-name">Lena Berg</div>'),  # via re:test only
        article(
            '<p class="byline">By Lena Berg<time>Tuesday</time> in Nordby</p>'
        ),  # pruned child, tail kept
        article(
            '<p class="byline">By Lena Berg</p>',
            before='<div class="sidebar"><span class="author">Side Bar</span></div>',
        ),
        article(
            '<div class="comments"><span class="author">Ann Commenter</span></div>'
        ),  # only a pruned match
        article('<figure><span class="author">Photo Desk</span></figure><div class="writer">Lena Berg</div>'),
        article("<author>Lena Berg</author>"),  # a bare element step
        article('<a rel="author" href="/a/lb">Lena Berg</a>'),
        article('<span itemprop="author">Lena Berg</span>'),
        article('<div data-component="Byline">Lena Berg</div>'),
        article('<span class="author">X</span><span class="author">Lena Berg</span>'),  # too short, next one
        article('<div id="authorbox"><span>Lena Berg</span></div>'),
        article("<div><rel>me</rel><span class='author'>Lena Berg</span></div>"),  # <rel>: upstream runs
        # pruned inside the match, via the discard XPath's regex tests
        article('<div class="author-box"><div class="article-share">Share this</div>Lena Berg</div>'),
        article('<span class="author">Lena <span class="print-only">(print)</span>Berg</span>'),
    ],
)
def test_fallback_author_equals_extract_author(html: str) -> None:
    assert fallback_author(tree_of(html)) == upstream_author(html)


def test_fast_author_search_is_active_for_the_installed_trafilatura() -> None:
    """If trafilatura changed its author XPaths, the fast path switches itself off (answers stay
    right, the speed-up is lost): re-check the reasoning in stages/extract/pagemeta.py and update the
    fingerprint."""
    assert _author_search() is not None


@pytest.mark.parametrize(
    ("pattern", "literals"),
    [
        ("author|zuozhe", ["author", "zuozhe"]),
        ("[Aa]uthor|screenname|writer|[Bb]yline", ["uthor", "yline", "writer", "screenname"]),
        ("author-?name|AuthorName|authorName", ["author", "AuthorName"]),  # authorName contains author
        ("^comments|comment-?list", ["comment"]),
        ("article-(?:share|support)", ["article-s"]),  # the parser moves the common "s" out
        (r"ab+c\.d", ["c.d"]),  # the longest run every match contains
        ("(?i)author", None),  # matched ignoring case: contains() cannot test it
        ("a{2}uthor", ["uthor"]),
        ("^(?:post-?info|post-?meta)", ["post"]),  # the common prefix of both alternatives
        ("author|(?i:byline)", None),
        ("(?:x|y)+z?", ["x", "y"]),
        (".*", None),
    ],
)
def test_required_literals(pattern: str, literals: list[str] | None) -> None:
    got = required_literals(pattern)
    assert (sorted(got) if got else got) == (sorted(literals) if literals else literals)


def _samples(pattern: str) -> list[str]:
    """Strings around the pattern's own alternatives, plus near misses."""
    words = re.findall(r"[A-Za-z][\w-]*", pattern)
    out = ["", "x", "main-content", "AUTHOR", "Author", "by-line"]
    for w in words:
        out += [w, f"x {w} y", w.upper(), w[1:], w[:-1], w.replace("-", ""), f"{w}s", f"{w}-name"]
    return out


def _regexes_in_trafilatura_xpaths() -> list[str]:
    import trafilatura.xpaths as tx

    paths = [x.path for v in vars(tx).values() if isinstance(v, list) for x in v if hasattr(x, "path")]
    return sorted({m.group(1) for p in paths for m in re.finditer(r"re:test\(@[\w:-]+, '([^']*)'\)", p)})


@pytest.mark.parametrize("pattern", _regexes_in_trafilatura_xpaths())
def test_every_regex_match_contains_a_required_literal(pattern: str) -> None:
    literals = required_literals(pattern)
    for s in _samples(pattern):
        if re.search(pattern, s) and literals is not None:
            assert any(lit in s for lit in literals), (pattern, s)


def test_guarded_xpaths_select_the_same_nodes(fixture_html: str) -> None:
    """Every trafilatura XPath with a regex test, guarded, on the fixture and a variant page."""
    import trafilatura.xpaths as tx
    from lxml import etree

    xpaths = [
        x for v in vars(tx).values() if isinstance(v, list) for x in v if "re:test" in getattr(x, "path", "")
    ]
    assert xpaths
    for html in (fixture_html, article('<div class="post-author-name">Lena Berg</div>')):
        tree = tree_of(html)
        for x in xpaths:
            guarded = etree.XPath(guarded_path(x.path), namespaces={"re": tx.REGEXP_NS})
            assert guarded(tree) == x(tree), x.path


def test_c_level_class_lookup_leaves_trafilatura_output_unchanged(fixture_html: str) -> None:
    """The fixture has a form (label, input, select, textarea): lxml.html gives those their own
    classes, our parser plain HtmlElement. trafilatura's result must not notice."""
    import trafilatura
    from lxml import html as lxml_html

    reference_parser = lxml_html_parser()
    data = utf8_page(fixture_html)
    ours: Any = parse_html(data)
    theirs: Any = lxml_html.document_fromstring(data, parser=reference_parser)
    assert type(theirs.find(".//form")).__name__ == "FormElement"
    assert type(ours.find(".//form")) is lxml_html.HtmlElement
    for fast in (False, True):
        a: Any = trafilatura.bare_extraction(ours, url=URL, fast=fast, with_metadata=True)
        b: Any = trafilatura.bare_extraction(theirs, url=URL, fast=fast, with_metadata=True)
        assert (a.text, a.title, a.author, a.date) == (b.text, b.title, b.author, b.date)


@pytest.mark.parametrize(
    "html",
    [
        "plain ASCII",
        "Caf\u00c3\u00a9 \u00a33 \u0080",  # a lone C1 control, not a mojibake run
        "you don\u00e2\u0080\u0099t need",  # repaired
        "\ud800 lone surrogate",
        "\u00c2\u0080\u00c2",
    ],
)
def test_utf8_page_is_the_repaired_page_encoded(html: str) -> None:
    assert utf8_page(html) == repair_c1_mojibake(html).encode("utf-8", "surrogatepass")


@pytest.mark.eval
def test_fallback_author_equals_extract_author_on_every_eval_page(eval_dir: Path) -> None:
    from bench.corpus import eval_pages

    pages = eval_pages(eval_dir, ("aeb", "wcxb", "newsboiler"))
    assert pages
    differ = [p.id for p in pages if fallback_author(tree_of(p.html)) != upstream_author(p.html)]
    assert differ == []


@pytest.mark.eval
@pytest.mark.slow
def test_c_level_class_lookup_on_eval_pages(eval_dir: Path) -> None:
    """trafilatura on our parser's tree and on lxml.html's, every 8th eval page, both modes."""
    import trafilatura
    from lxml import html as lxml_html

    from bench.corpus import eval_pages

    reference_parser = lxml_html_parser()
    for page in eval_pages(eval_dir, ("aeb", "wcxb", "newsboiler"))[::8]:
        data = utf8_page(page.html)
        for fast in (False, True):
            a: Any = trafilatura.bare_extraction(parse_html(data), url=page.url, fast=fast)
            b: Any = trafilatura.bare_extraction(
                lxml_html.document_fromstring(data, parser=reference_parser), url=page.url, fast=fast
            )
            assert (a and a.text) == (b and b.text), page.id


class _ClockAt1130UTC(datetime):
    """The machine's clock (local time UTC) at 2026-12-07 11:30."""

    @classmethod
    def now(cls, tz: tzinfo | None = None) -> _ClockAt1130UTC:
        at = cls(2026, 12, 7, 11, 30, tzinfo=UTC)
        return at.astimezone(tz) if tz is not None else at.replace(tzinfo=None)


@pytest.mark.parametrize("published", ["2026-12-08T00:30:00+14:00", "2026-12-08T00:15:00+13:00"])
def test_a_page_dated_tomorrow_in_a_zone_ahead_of_the_machine_keeps_its_date(
    monkeypatch: pytest.MonkeyPatch, published: str
) -> None:
    # published an hour (Kiribati) and a quarter hour (Auckland, summer time) before the machine's
    # 11:30 UTC, on the next local day: trafilatura's max_date, the machine's date, made it a
    # future date, and htmldate answered the first of the month instead (2026-12-01)
    monkeypatch.setattr("trafilatura.settings.datetime", _ClockAt1130UTC)
    monkeypatch.setattr("pipeline.core.clock.datetime", _ClockAt1130UTC)
    html = article("", before="").replace(
        "<title>", f'<meta property="article:published_time" content="{published}"><title>'
    )
    assert page_metadata(tree_of(html), URL, extensive_dates=True).date == "2026-12-08"
