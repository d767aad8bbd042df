"""Labels of link lists that extraction dropped (stages.extract.orphans), and through extract_html."""

from __future__ import annotations

import dataclasses

import pytest

from pipeline.core.config import ExtractConfig
from pipeline.core.record import Doc
from stages.extract.extractor import ORPHAN_FLAG, Extract, extract_html, parse_html
from stages.extract.orphans import Label, drop_orphan_labels, link_list_labels, link_lists

PARAS = [
    "The council approved the harbour budget on Monday after a long debate about the harbour walls.",
    "Engineers said the walls of the harbour had cracked in three places during the winter storms.",
    "Work on the north wall starts in April and should be finished before the summer season begins.",
    "Fishermen welcomed the plan but asked the council to keep the slipway open during the works.",
]
LINKS = ["Furti in serie a Fontecupa, indagano i carabinieri", "Il forno di famiglia compie cent'anni"]


def _page(block: str) -> str:
    paras = "".join(f"<p>{p}</p>" for p in PARAS[:2])
    more = "".join(f"<p>{p}</p>" for p in PARAS[2:])
    return (
        "<html><head><title>Harbour walls</title></head><body><article><h1>Harbour walls to be rebuilt</h1>"
        f'<div class="content">{paras}{block}{more}</div></article></body></html>'
    )


def _links(*texts: str) -> str:
    return "<ul>" + "".join(f'<li><a href="/news/{i}">{t}</a></li>' for i, t in enumerate(texts)) + "</ul>"


PROMO = f"<p><strong>Le ultime -</strong></p>{_links(*LINKS)}"


def _lists(html: str) -> list[tuple[object, object]]:
    return link_lists(parse_html(html))


def test_a_link_lists_label_is_read_off_the_page() -> None:
    assert link_list_labels(_lists(_page(PROMO))) == [Label("Le ultime -", tuple(LINKS))]
    # the list opens its parent: the label is the element before the parent
    nested = f"<div><h3>Most read</h3><div>{_links(*LINKS)}</div></div>"
    assert [lab.text for lab in link_list_labels(_lists(_page(nested)))] == ["Most read"]


@pytest.mark.parametrize(
    "block",
    [
        f"<p>{PARAS[0]}</p>{_links(*LINKS)}",  # a paragraph before the list is no label
        f"<p>Le ultime -</p><ul><li>{LINKS[0]}</li><li>{LINKS[1]}</li></ul>",  # no links: the article's list
        f'<p>Le ultime -</p><ul><li><a href="/a">{LINKS[0]}</a></li></ul>',  # one link
        '<p>See:</p><ul><li><a href="/a">Furti</a> in serie a Fontecupa, indagano</li>'
        '<li><a href="/b">Il forno</a> di famiglia compie cent\'anni</li></ul>',  # mostly not link text
        f"<p>Le ultime -</p>between{_links(*LINKS)}",  # text between them
    ],
)
def test_what_is_no_labelled_link_list(block: str) -> None:
    assert link_list_labels(_lists(_page(block))) == []


def test_an_orphan_label_goes_and_a_label_with_its_list_stays() -> None:
    label = Label("Le ultime -", tuple(LINKS))
    text = f"{PARAS[0]}\nLe ultime  -\n{PARAS[1]}"
    assert drop_orphan_labels(text, [label]) == (f"{PARAS[0]}\n{PARAS[1]}", 1)
    kept = f"{PARAS[0]}\nLe ultime -\n{LINKS[0]}\n{LINKS[1]}\n{PARAS[1]}"
    assert drop_orphan_labels(kept, [label]) == (kept, 0)
    # the same label over a kept list elsewhere on the page: both stay
    other = Label("Le ultime -", ("Aperta la nuova pista ciclabile",))
    assert drop_orphan_labels(kept, [other, label]) == (kept, 0)
    # only whole lines go
    inline = f"{PARAS[0]} Le ultime -\n{PARAS[1]}"
    assert drop_orphan_labels(inline, [label]) == (inline, 0)


def test_extraction_drops_the_orphan_label_and_flags_it() -> None:
    html = _page(PROMO)
    got = extract_html(html)
    assert "Le ultime" not in got.text and PARAS[3] in got.text
    assert got.orphan_labels == 1
    off = extract_html(html, config=ExtractConfig(drop_orphan_labels=False))
    assert "Le ultime -" in off.text.splitlines()
    doc = Doc(id="a", raw=html, format="html", source="t")
    Extract().process(doc)
    assert doc.flags.count(ORPHAN_FLAG) == 1


SHARE = _links("Facebook", "Twitter", "Email")


def test_a_headline_or_byline_over_a_share_bar_is_no_label() -> None:
    page = _page(f"<p>By Jane Doe</p>{SHARE}")
    assert [lab.text for lab in link_list_labels(_lists(page))] == ["By Jane Doe"]
    assert link_list_labels(_lists(page), ("Harbour walls", "Jane Doe")) == []  # the page's author
    assert link_list_labels(_lists(page), ("Jane D",)) != []  # a whole name, not part of one
    h1 = f"<html><body><article><h1>Harbour walls to be rebuilt</h1>{SHARE}<p>{PARAS[0]}</p></article></body></html>"
    assert link_list_labels(_lists(h1)) == []
    got = extract_html(
        _page(f"<p>By Jane Doe</p>{SHARE}").replace("<head>", '<head><meta name="author" content="Jane Doe">')
    )
    assert got.orphan_labels == 0 and got.author == "Jane Doe"


def test_an_orphan_goes_once_per_list_and_never_as_the_first_line() -> None:
    label = Label("The harbour walls", ("Other story one", "Other story two"))
    text = f"The harbour walls\n{PARAS[0]}\nThe harbour walls\n{PARAS[1]}\nThe harbour walls"
    assert drop_orphan_labels(text, [label]) == (
        f"The harbour walls\n{PARAS[0]}\n{PARAS[1]}\nThe harbour walls",
        1,
    )
    assert drop_orphan_labels(text, [label, label])[1] == 2


def test_a_deeply_nested_list_is_read_without_recursion() -> None:
    depth = 1500
    html = (
        "<html><body>"
        + "<div>" * depth
        + f"<p>Most read</p>{_links(*LINKS)}"
        + "</div>" * depth
        + "</body></html>"
    )
    deep = "<div>" * depth + _links(*LINKS) + "</div>" * depth
    assert [lab.text for lab in link_list_labels(_lists(html))] == ["Most read"]
    assert (
        link_list_labels(_lists(f"<html><body><p>Most read</p>{deep}</body></html>"))[0].text == "Most read"
    )


@pytest.mark.parametrize(
    ("block", "config"),
    [
        (f"<h3>Most read</h3><aside>{_links(*LINKS)}</aside>", ExtractConfig()),  # detached on the fast path
        (f"<h3>Most read</h3><footer>{_links(*LINKS)}</footer>", ExtractConfig()),
        (
            f'<h3>Most read</h3><div class="related-links">{_links(*LINKS)}</div>',
            ExtractConfig(prune_widgets=True),
        ),
    ],
)
def test_a_list_extraction_or_pruning_took_out_of_the_tree_still_leaves_an_orphan(
    block: str, config: ExtractConfig
) -> None:
    """The lists are read before extraction detaches aside and footer, or widget pruning drops a
    subtree: the label that reached the text still goes."""
    off = extract_html(_page(block), config=dataclasses.replace(config, drop_orphan_labels=False))
    assert "Most read" in off.text.splitlines()
    on = extract_html(_page(block), config=config)
    assert "Most read" not in on.text.splitlines() and on.orphan_labels == 1
