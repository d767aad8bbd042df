"""extract: HTML pages to text + metadata; caps; text records pass through."""

from __future__ import annotations

import dataclasses

import pytest

import pipeline  # noqa: F401 - import order: pipeline before stages
from pipeline.core.config import ExtractConfig
from pipeline.core.record import Doc
from pipeline.core.stage import DropRecord, RejectRecord
from stages.extract.extractor import (
    REDIRECT_STUB,
    Extract,
    drop_inert,
    drop_self_links,
    extract_html,
    max_depth,
    parse_html,
    place_title,
    repair_c1_mojibake,
    same_headline,
    title_of_text,
)

PARAS = [
    "Der Bürgermeister von Nordstadt eröffnete am Montag die neue Brücke über die Weißach.",
    "Die Bauarbeiten hatten zwei Jahre gedauert und kosteten rund vier Millionen Euro.",
    "Anwohner begrüßten, dass der Umweg über die Landstraße nun entfällt.",
]


def page(head: str = "", title: str = "Neue Brücke über die Weißach eröffnet") -> str:
    body = "".join(f"<p>{p}</p>" for p in PARAS)
    return (
        f"<!doctype html><html><head>{head}<title>{title} | Anzeiger</title></head><body>"
        "<nav><a href='/'>Start</a> <a href='/lokales'>Lokales</a></nav>"
        f"<article><h1>{title}</h1>{body}</article>"
        "<footer><p>Impressum · Datenschutz</p></footer></body></html>"
    )


@pytest.mark.parametrize(
    "head",
    [
        "",  # no declared charset: the str is Unicode already, nothing to guess
        '<meta charset="iso-8859-1">',  # a stale declaration from the original bytes must be ignored
        '<meta http-equiv="Content-Type" content="text/html; charset=windows-1252">',
    ],
)
def test_non_ascii_survives_parsing_whatever_the_page_declares(head: str) -> None:
    got = extract_html(page(head))
    for para in PARAS:
        assert para in got.text
    assert "Ã" not in got.text  # no UTF-8-read-as-Latin-1 mojibake
    assert got.title == "Neue Brücke über die Weißach eröffnet"


def test_title_first_then_body_without_navigation_or_footer() -> None:
    got = extract_html(page())
    lines = [ln for ln in got.text.splitlines() if ln.strip()]
    assert lines[0] == "Neue Brücke über die Weißach eröffnet"
    assert lines[1:] == PARAS
    assert "Impressum" not in got.text and "Lokales" not in got.text


def test_caps_reject_oversized_and_too_deep_pages() -> None:
    with pytest.raises(RejectRecord) as big:
        extract_html(page(), config=ExtractConfig(max_html_bytes=100))
    assert big.value.reason == "too_large"
    deep = "<html><body>" + "<div>" * 60 + "<p>x</p>" + "</div>" * 60 + "</body></html>"
    with pytest.raises(RejectRecord) as nested:
        extract_html(deep, config=ExtractConfig(max_depth=50))
    assert nested.value.reason == "too_deep"
    assert max_depth(parse_html(deep)) > 60


def test_the_depth_cap_is_extract_max_depth_not_the_parsers() -> None:
    """libxml2 stops at 256 levels without an error: the rest of the page, the article with it,
    was dropped (``no_content``, or a page cut short), and ``too_deep`` (400) never fired."""
    article = "".join(f"<p>{p}</p>" for p in PARAS)

    def nested(levels: int) -> str:
        return f"<html><body>{'<div>' * levels}{article}{'</div>' * levels}<p>{PARAS[0]}</p></body></html>"

    got = extract_html(nested(300))  # within extract.max_depth
    assert all(p in got.text for p in PARAS)
    for levels in (500, 100_000):
        with pytest.raises(RejectRecord) as deep:
            extract_html(nested(levels))
        assert deep.value.reason == "too_deep"


@pytest.mark.parametrize("html", ["", "   \n", "<html><body><div> </div><p></p></body></html>"])
def test_pages_without_content_are_rejected_with_a_reason(html: str) -> None:
    with pytest.raises(RejectRecord) as exc:
        extract_html(html)
    assert exc.value.reason in {"empty", "no_content"}


def test_stage_sets_metadata_on_html_and_passes_text_through() -> None:
    stage = Extract(dataclasses.replace(ExtractConfig()))
    html_doc = Doc(id="h", source="t", raw=page(), format="html")
    text_doc = Doc(id="t", source="t", raw="Short headline\nA body sentence follows here.", format="text")
    empty = Doc(id="e", source="t", raw="  ", format="text")
    stage.process_docs([html_doc, text_doc, empty])
    assert html_doc.ok and html_doc.title == "Neue Brücke über die Weißach eröffnet"
    assert PARAS[1] in html_doc.text
    assert text_doc.text == text_doc.raw and text_doc.title == "Short headline"
    assert empty.status.value == "rejected" and empty.reason == "empty"


@pytest.mark.parametrize(
    ("text", "title"),
    [
        ("Council tax to rise\n\nBody.", "Council tax to rise"),
        ("This first line is a sentence, not a headline.\nMore.", None),
        ("\n\n  Indented headline  \nBody", "Indented headline"),
        ("", None),
    ],
)
def test_title_of_text(text: str, title: str | None) -> None:
    assert title_of_text(text) == title


@pytest.mark.parametrize(
    ("line", "title", "same"),
    [
        ("Ferry service resumes", "Ferry service resumes", True),
        ("Ferry  service resumes", "ferry service resumes.", True),
        ("Remake de “Zodiaco” per Netflix", 'Remake de "Zodiaco" per Netflix - Remember 80/90', True),
        ("Kindle for PCの方法", "Kindle for PCの方法 | ノート100YEN.com", True),
        ("Week 2018 | Michael Anastassiades’ light show", "Week 2018 | Anastassiades' light show", True),
        ("Ferry service resumes", "Ferry service resumes after storm cancels sailings", False),
        ("Storm closes the harbour", "Ferry service resumes", False),
        ("", "Ferry", False),
    ],
)
def test_same_headline(line: str, title: str, same: bool) -> None:
    assert same_headline(line, title) is same


def test_place_title_never_duplicates_the_headline() -> None:
    body = "Ferry service resumes\nThe ferry sailed on Thursday."
    assert place_title(body, "Ferry service resumes | Coast News", prepend=True) == (
        body,
        "Ferry service resumes",
    )
    other = "The ferry sailed on Thursday."
    assert place_title(other, "Ferry service resumes", prepend=True) == (
        "Ferry service resumes\nThe ferry sailed on Thursday.",
        "Ferry service resumes",
    )
    assert place_title(other, "Ferry service resumes", prepend=False) == (other, "Ferry service resumes")
    assert place_title(other, None, prepend=True) == (other, None)


def test_page_with_site_suffixed_title_gets_the_visible_headline_once() -> None:
    html = page(title="Neue Brücke eröffnet").replace(
        "<title>Neue Brücke eröffnet | Anzeiger</title>",
        "<title>Neue Brücke eröffnet - Nordstädter Anzeiger</title>",
    )
    got = extract_html(html)
    lines = [ln for ln in got.text.splitlines() if ln.strip()]
    assert got.title == "Neue Brücke eröffnet"
    assert lines[0] == "Neue Brücke eröffnet" and lines.count("Neue Brücke eröffnet") == 1


def test_lines_that_are_only_the_page_url_are_dropped() -> None:
    url = "https://www.example.test/news/bridge-opens-123.php"
    body = f"Para one.\n  {url}  \nhttp://example.test/news/bridge-opens-123.php/\nSee https://other.test/x\n{url}x"
    assert drop_self_links(body, url).splitlines() == ["Para one.", "See https://other.test/x", f"{url}x"]
    assert drop_self_links(body, None) == body


def test_short_article_keeps_its_own_extraction_not_a_glued_fallback() -> None:
    """A one-paragraph item: trafilatura's main extraction is kept (MIN_EXTRACTED_SIZE), so the
    byline, time and caption are not glued onto the body line by a whole-page fallback."""
    html = (
        "<!doctype html><html><head><title>Lift reopens | Coast Post</title></head><body>"
        "<nav><ul><li><a href='/'>Home</a></li><li><a href='/local'>Local</a></li></ul></nav>"
        "<main><article><h1>Lift reopens</h1><p class='byline'>By <a href='/a/hp'>Helen Pryor</a></p>"
        "<time datetime='2021-05-20'>Published: 21:30, Thu, May 20, 2021</time>"
        "<figure><img src='/i.jpg' alt='x'><figcaption>File photo (Image: Coast Post)</figcaption></figure>"
        "<div class='article-body'><p>The cliff lift on the seafront is running again after six months of repairs.</p>"
        "</div></article></main><footer><p>© 2023 Coast Post</p></footer></body></html>"
    )
    got = extract_html(html)
    lines = [ln.strip() for ln in got.text.splitlines() if ln.strip()]
    assert "The cliff lift on the seafront is running again after six months of repairs." in lines
    assert lines[0] == "Lift reopens"


def test_utf8_read_as_latin1_with_c1_controls_is_repaired_before_extraction() -> None:
    """``don’t`` stored as ``donâ\\x80\\x99t``: the extractor would drop the controls and leave
    ``donât`` behind, so the run is repaired before parsing; runs without C1 controls are left
    to the encoding stage."""
    assert repair_c1_mojibake("you don\u00e2\u0080\u0099t need") == "you don\u2019t need"
    assert repair_c1_mojibake("Caf\u00c3\u00a9 costs \u00a33") == "Caf\u00c3\u00a9 costs \u00a33"
    assert (
        repair_c1_mojibake("broken \u00e2\u0080 tail") == "broken \u00e2\u0080 tail"
    )  # not valid UTF-8: kept
    html = page().replace(
        "Anwohner begrüßten", "Anwohner sagten: \u00e2\u0080\u009ewir sind froh\u00e2\u0080\u009c,"
    )
    got = extract_html(html)
    assert "Anwohner sagten: \u201ewir sind froh\u201c," in got.text


@pytest.mark.parametrize("stray", ["\x08", "\x1b[31m", "\x01", "\x1f", "\ufffe", "\uffff"])
def test_a_stray_control_character_costs_the_page_nothing(stray: str) -> None:
    """lxml keeps a backspace or an escape in the tree and trafilatura cannot store it back: one
    such byte in a paragraph lost the whole article (``no_content``)."""
    html = page().replace("Anwohner begrüßten", f"Anwohner{stray} begrüßten")
    got = extract_html(html)
    assert PARAS[0] in got.text and PARAS[1] in got.text
    assert "begrüßten, dass der Umweg" in got.text
    assert stray not in got.text


SCRIPTED = (
    "<html><head><title>Harbour reopens</title><style>p{color:red}</style>"
    '<script type="application/ld+json">{"@context": "https://schema.org", "@type": "NewsArticle", "author": {"@type": "Person", "name": "Ann Lee"}}</script>'
    "<script>var ads = [1, 2, 3];</script></head><body><article><h1>Harbour reopens</h1>"
    f"<p>{PARAS[0]}<script>track()</script> after the script</p>"
    '<svg viewBox="0 0 1 1"><title>icon</title><path d="M0 0"/></svg>'
    f"<p>{PARAS[1]}</p><p>{PARAS[2]}</p>"
    "<aside><h3>Most read</h3><ul><li><a href='/a'>Council votes on the budget</a></li></ul></aside>"
    "</article><footer><p>By Ann Lee. Published 3 March 2024.</p><p>Copyright Harbour News</p></footer>"
    "</body></html>"
)


def test_drop_inert_removes_inert_subtrees_but_keeps_json_ld_and_following_text() -> None:
    tree = parse_html(SCRIPTED)
    assert drop_inert(tree) == 4
    tags = [el.tag for el in tree.iter()]  # type: ignore[attr-defined]
    assert not {"style", "svg"} & set(tags) and tags.count("script") == 1
    assert {"aside", "footer"} <= set(tags)  # the full cascade reads them: detached, not dropped
    assert tree.find(".//script").get("type") == "application/ld+json"  # type: ignore[attr-defined]
    first = tree.find(".//p").text_content()  # type: ignore[attr-defined]
    assert first == f"{PARAS[0]} after the script"


def test_dropping_inert_subtrees_changes_neither_text_nor_metadata(monkeypatch: pytest.MonkeyPatch) -> None:
    from stages.extract import extractor as extract

    dropped = extract_html(SCRIPTED, url="https://news.example.com/harbour")
    monkeypatch.setattr(extract, "drop_inert", lambda tree: 0)
    kept = extract_html(SCRIPTED, url="https://news.example.com/harbour")
    assert dropped == kept
    assert dropped.author == "Ann Lee"  # read from the JSON-LD script
    assert "track()" not in dropped.text and "after the script" in dropped.text
    assert "Most read" not in dropped.text and "Copyright" not in dropped.text


# --- meta-refresh redirect stubs ---------------------------------------------------------------

STORY_URL = "https://anzeiger.example/lokales/bruecke"


def stub(refresh: str, body: str, title: str = "Weiterleitung") -> str:
    return (
        f'<!doctype html><html><head><meta http-equiv="refresh" content="{refresh}">'
        f"<title>{title}</title></head><body>{body}</body></html>"
    )


@pytest.mark.parametrize(
    "html",
    [
        stub("0; url=https://anzeiger.example/lokales/neue-bruecke", "<p>Redirecting...</p>"),
        stub(
            "3;URL='/lokales/neue-bruecke'",
            "<p>If you are not redirected automatically, <a href='/lokales/neue-bruecke'>click here</a>.</p>",
        ),
        stub("5, url=https://anzeiger.example/neu", "<h1>Moved</h1><p>This page has moved.</p>"),
        stub("0; url=https://anzeiger.example/neu", ""),  # no text at all: dropped, not no_content
        # the refresh in a noscript block, and Refresh capitalised: still a redirect
        '<html><head><noscript><META HTTP-EQUIV="Refresh" CONTENT="0;URL=https://anzeiger.example/x">'
        "</noscript></head><body><p>Redirecting to the new address...</p></body></html>",
    ],
)
def test_meta_refresh_redirect_stubs_are_dropped_with_a_reason(html: str) -> None:
    with pytest.raises(DropRecord) as exc:
        extract_html(html, url=STORY_URL)
    assert exc.value.reason == REDIRECT_STUB == "redirect_stub"
    assert exc.value.detail is not None and "anzeiger.example/" in exc.value.detail


@pytest.mark.parametrize(
    "head",
    [
        '<meta http-equiv="refresh" content="300">',  # a news home page reloading itself
        '<meta http-equiv="refresh" content="600; url=https://anzeiger.example/">',  # slow: not a redirect
        f'<meta http-equiv="refresh" content="0; url={STORY_URL}">',  # to itself: a reload
        # a quick refresh to elsewhere, but the page holds a whole article (a no-JS variant)
        '<noscript><meta http-equiv="refresh" content="0; url=/lokales/bruecke?nojs=1"></noscript>',
    ],
)
def test_articles_with_a_meta_refresh_that_is_no_redirect_stub_are_kept(head: str) -> None:
    got = extract_html(page(head), url=STORY_URL)
    assert all(p in got.text for p in PARAS)


@pytest.mark.parametrize(
    "refresh",
    [
        "300",
        "30; url=https://anzeiger.example/neu",
        f"1; url={STORY_URL}#top",
        "url=https://anzeiger.example/neu",
    ],
)
def test_a_short_page_with_a_slow_self_or_invalid_refresh_is_no_redirect_stub(refresh: str) -> None:
    got = extract_html(stub(refresh, "<p>Live: the bridge opens at noon.</p>"), url=STORY_URL)
    assert "the bridge opens at noon" in got.text


def test_the_stage_drops_a_redirect_stub_and_keeps_the_article() -> None:
    stage = Extract()
    stub_doc = Doc(
        id="s", source="t", raw=stub("0; url=/neu", "<p>Redirecting...</p>"), format="html", url=STORY_URL
    )
    story = Doc(id="a", source="t", raw=page('<meta http-equiv="refresh" content="300">'), format="html")
    stage.process_docs([stub_doc, story])
    assert stub_doc.status.value == "dropped" and stub_doc.stage == "extract"
    assert stub_doc.reason == "redirect_stub" and "https://anzeiger.example/neu" in (stub_doc.detail or "")
    assert story.ok and PARAS[0] in story.text
    assert stage.stats.dropped == {"redirect_stub": 1} and not stage.stats.rejected


def test_a_refresh_to_the_pages_own_canonical_url_is_a_reload_when_no_url_is_given() -> None:
    html = (
        f'<html><head><link rel="canonical" href="{STORY_URL}">'
        f'<meta http-equiv="refresh" content="5; url={STORY_URL}"></head>'
        "<body><p>Live: the bridge opens at noon.</p></body></html>"
    )
    assert "the bridge opens at noon" in extract_html(html).text  # no url: the canonical one is the page's
    with pytest.raises(DropRecord):
        extract_html(html.replace('rel="canonical"', 'rel="alternate"'))
