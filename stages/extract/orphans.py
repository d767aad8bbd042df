"""Labels whose link list extraction dropped: "Most read", "Le ultime -" over a ``<ul>`` of links.

trafilatura drops a list of links to other stories (its link density test), but keeps the short
paragraph or heading right above it, which then stands alone between two paragraphs of the
article: the label of a block that is no longer there. The page's DOM still shows what it was, so
the label goes before the text reaches the boilerplate stage, in any wording:

* a *link list* is a ``<ul>`` or ``<ol>`` of at least :data:`MIN_LINKS` items with a link whose
  links hold at least :data:`LINK_SHARE` of its text;
* its *label* is the element right before it (its previous sibling, or its parent's when the
  list is its parent's first child) if that is short: at most :data:`LABEL_WORDS` words and
  :data:`LABEL_CHARS` characters, and not the page's ``<h1>``, title or author (a byline or a
  headline over a share bar is no label);
* an extracted line that reads as a label (spaces folded) is an *orphan*, and is dropped, when
  none of its list's link texts is in the extracted text: once per such list, never the text's
  first line (its headline). Where the list was kept (a listing page's content, an article's
  further reading), its label stays with it.

:func:`link_lists` reads the lists and the elements before them off the parsed page (before
extraction detaches ``aside`` and ``footer``, and before widget pruning, which may take a list);
:func:`link_list_labels` reads the labels of those the extracted text may hold, and
:func:`drop_orphan_labels` drops the orphans from it.
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from pipeline.core.blocks import nonspace

#: A link list has at least this many items with a link...
MIN_LINKS = 2
#: ... whose links hold at least this share of its text (non-space characters).
LINK_SHARE = 0.7
#: A label has at most this many words and characters.
LABEL_WORDS = 6
LABEL_CHARS = 60

_SPACES = re.compile(r"\s+")


def _key(text: str) -> str:
    return _SPACES.sub(" ", text).strip()


@dataclass(frozen=True, slots=True)
class Label:
    """A link list's label (spaces folded) and the texts of its links."""

    text: str
    links: tuple[str, ...]


def _link_texts(el: Any) -> tuple[str, ...] | None:
    """The link texts of a link list (see the module docstring), or None if ``el`` is none."""
    items = [li for li in el if li.tag == "li"]
    links = [a for li in items for a in li.iter("a")]
    if sum(1 for li in items if li.find(".//a") is not None) < MIN_LINKS:
        return None
    texts = tuple(t for t in (_key(a.text_content()) for a in links) if t)
    if sum(map(nonspace, texts)) < LINK_SHARE * nonspace(el.text_content()):
        return None
    return texts


def _element_before(el: Any) -> Any:
    """The element right before ``el``, or before the first ancestor it opens (no text of the
    ancestor's own before it); None at ``body``, or with text between them."""
    while True:
        prev = el.getprevious()
        while prev is not None and not isinstance(prev.tag, str):  # comments, processing instructions
            prev = prev.getprevious()
        if prev is not None:
            return None if (prev.tail or "").strip() else prev
        el = el.getparent()
        if el is None or el.tag in ("body", "html") or (el.text or "").strip():
            return None


def _is_label(text: str) -> bool:
    return bool(text) and len(text) <= LABEL_CHARS and len(text.split()) <= LABEL_WORDS


def label_lines(text: str) -> frozenset[str]:
    """The lines of an extracted text (spaces folded) that could be a label, its first (the
    headline) left out: the only labels worth looking for on the page."""
    return frozenset(k for k in map(_key, text.split("\n")[1:]) if _is_label(k))


def link_lists(tree: Any) -> list[tuple[Any, Any]]:
    """Every ``<ul>``/``<ol>`` of a parsed page (lxml) with the element right before it (see
    :func:`_element_before`), in document order: read before extraction detaches ``aside`` and
    ``footer`` or widget pruning drops subtrees, so a list there keeps its label. No text is read."""
    pairs = []
    for el in tree.iter("ul", "ol"):
        prev = _element_before(el)
        if prev is not None and prev.tag != "h1":
            pairs.append((el, prev))
    return pairs


def link_list_labels(
    lists: list[tuple[Any, Any]], avoid: Iterable[str | None] = (), wanted: frozenset[str] | None = None
) -> list[Label]:
    """The labels of the link lists among ``lists`` (:func:`link_lists`), in document order; a
    label holding one of ``avoid`` (the page's title and author) is none; with ``wanted`` (e.g.
    :func:`label_lines` of the extracted text), only those are looked for."""
    if wanted is not None and not wanted:
        return []
    keep_out = frozenset(k for k in (_key(a) for a in avoid if a) if k)
    out = []
    for el, prev in lists:
        text = _key(prev.text_content())
        if not _is_label(text) or (wanted is not None and text not in wanted):
            continue
        if any(re.search(rf"(?<!\w){re.escape(a)}(?!\w)", text) for a in keep_out):
            continue
        links = _link_texts(el)
        if links is not None:
            out.append(Label(text, links))
    return out


def drop_orphan_labels(text: str, labels: list[Label]) -> tuple[str, int]:
    """``text`` without the lines that are orphan labels (see the module docstring), and how
    many lines went."""
    if not labels:
        return text, 0
    folded = _key(text)
    kept_lists = {lab.text for lab in labels if any(link in folded for link in lab.links)}
    orphans = Counter(lab.text for lab in labels if lab.text not in kept_lists)
    if not orphans:
        return text, 0
    lines = text.split("\n")
    out = lines[:1]
    for ln in lines[1:]:
        key = _key(ln)
        if orphans[key] > 0:
            orphans[key] -= 1
        else:
            out.append(ln)
    return "\n".join(out), len(lines) - len(out)
