"""extract: HTML pages to text + metadata; caps; text records pass through."""

from __future__ import annotations

import dataclasses

import pytest

import pipeline  # noqa: F401 - import order: pipeline before stages
from pipeline.config import ExtractConfig
from pipeline.record import Doc
from pipeline.stage import RejectRecord
from stages.extract import Extract, extract_html, max_depth, parse_html, title_of_text

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
