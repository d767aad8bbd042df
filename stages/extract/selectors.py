"""Exact stand-ins for trafilatura's heaviest XPath selectors.

trafilatura prunes and locates content with XPath expressions that test ids and classes with
EXSLT regular expressions (``re:test``). lxml runs each ``re:test`` as a Python callback, for
every candidate element, even one without the attribute: the seven selectors below cost ~7 ms of
a news page's ~23 ms extraction, most of it in those callbacks. Each stand-in selects the same
elements in the same (document) order with the same Python regular expressions, but reads only
the attributes it tests (``el.get``) and runs a regex only on an attribute that is there: ~2 ms
for all seven on the same pages.

Each stand-in is bound to the exact text of the XPath it replaces (its sha256 in
:data:`PINNED`): :func:`install` swaps it into trafilatura's selector list only where that
list still holds that very XPath, so another trafilatura version keeps its own selectors. The
swap is in place (trafilatura's modules share the lists), happens once per process, and changes
no output: ``tests/stages/extract/test_selectors.py`` checks each stand-in against its XPath on
the fixture pages and on attribute edge cases (both attributes present in either order, empty
values, missing ones); on the 1,478 pages of aeb, wcxb and wcxb-train every stand-in selected
exactly what its XPath did.

The semantics reproduced: ``re:test(@a, p)`` is ``re.search(p, value)`` on the attribute's value
('' when absent: none of the patterns matches ''); ``@a|@b`` is the value of whichever of the two
comes first in the element's attribute list; ``.//*[...][1]`` is, per parent, the first child
that matches.
"""

from __future__ import annotations

import hashlib
import importlib
import re
import threading
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any

#: What a stand-in tests: an element (its attributes read with ``el.get``, no ``attrib`` proxy).
Test = Callable[[Any], bool]


def first_of(el: Any, a: str, b: str) -> str:
    """The XPath string value of ``@a|@b``: the value of whichever comes first in the element's
    attribute list ('' when neither is there)."""
    va, vb = el.get(a), el.get(b)
    if va is None or vb is None:
        return str(va if va is not None else vb if vb is not None else "")
    keys = el.keys()
    return str(va if keys.index(a) < keys.index(b) else vb)


def _search(pattern: str, flags: int = 0) -> Callable[[str | None], bool]:
    """``re:test(@a, pattern)`` on an attribute's value (None: absent, which never matches)."""
    search = re.compile(pattern, flags).search
    if search("") is not None:  # the stand-ins skip absent attributes: only sound if '' fails
        raise ValueError(f"pattern {pattern!r} matches the empty string")

    def test(value: str | None) -> bool:
        return value is not None and search(value) is not None

    return test


@dataclass(frozen=True, slots=True)
class StandIn:
    """The elements below the context node whose tag is one of ``tags`` (any element when
    empty) and that ``test`` accepts, in document order; with ``first_per_parent`` only each
    parent's first such child (XPath's ``.//*[...][1]``)."""

    name: str
    tags: tuple[str, ...]
    test: Test
    first_per_parent: bool = False

    def __call__(self, tree: Any) -> list[Any]:
        from lxml import etree

        found: list[Any] = []
        parents: set[Any] = set()
        candidates: Iterator[Any] = (
            tree.iterdescendants(*self.tags) if self.tags else tree.iterdescendants(etree.Element)
        )
        for el in candidates:
            if not self.test(el):
                continue
            if self.first_per_parent:
                parent = el.getparent()
                if parent in parents:
                    continue
                parents.add(parent)
            found.append(el)
        return found


# --- RAW_TREE_PRUNE_XPATH ----------------------------------------------------------------------

_SCROLL = _search("mvp-post-add-(?:box|wrap)|infinite-?scroll")
_MVP = _search("mvp-post-add-(?:box|wrap)")


def _infinite_scroll(el: Any) -> bool:
    i, c = el.get("id"), el.get("class")
    if not (_SCROLL(i) or _SCROLL(c)):
        return False
    return el.find(".//h1") is None or _MVP(i) or _MVP(c)


def _elementor_share(el: Any) -> bool:
    return "elementor-share-buttons" in el.get("class", "")


# --- REMOVE_COMMENTS_AND_LISTS_XPATH -----------------------------------------------------------


def _comments_or_lists(comments_id: str, comments_class: str) -> Test:
    """From trafilatura's own ``_COMMENTS_ID`` and ``_COMMENTS_CLASS`` patterns."""
    container_id = _search(f"^(?:{comments_id}|disqus_thread|dsq-comments)")
    list_id = _search(f"^(?:{comments_id})")
    by_class = _search(comments_class)

    def test(el: Any) -> bool:
        i, c = el.get("id"), el.get("class")
        if not (container_id(i) or by_class(c)):
            return False
        return el.tag not in ("ol", "ul") or list_id(i) or by_class(c)

    return test


# --- OVERALL_DISCARD_XPATH ---------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class _Tokens:
    """Regex alternations built from trafilatura's own token vocabularies (see :func:`stand_ins`)."""

    consent: str = ""
    by_id: str = ""
    by_class: str = ""


def _overall_discard(tokens: _Tokens) -> Test:
    consent = _search(tokens.consent)
    by_id = _search(tokens.by_id)
    by_class = _search(tokens.by_class)

    def test(el: Any) -> bool:
        return (
            el.get("data-lp-replacement-content") is not None
            or "nav" in el.get("role", "").replace("N", "n")
            or "MostPopularStories" in el.get("data-component", "")
            or consent(first_of(el, "id", "class") or None)
            or by_id(el.get("id"))
            or by_class(el.get("class"))
        )

    return test


_HIDDEN = _search("hidden")
_REPLY_HIDDEN_ID = _search("reader-comments|akismet")
_HIDDEN_CLASS = _search(
    "^hide-|comments-title|nocomments|-reply-|message|akismet|suggest-links|-hide-|hide-print| hidden| hide|noprint|notloaded"
)


def _hidden_or_reply(el: Any) -> bool:
    c, i, style = el.get("class"), el.get("id"), el.get("style")
    return (
        c == "comments-title"
        or first_of(el, "id", "class").startswith("reply-")
        or _HIDDEN(first_of(el, "id", "style") or None)
        or (style is not None and ("display:none" in style or "display: none" in style))
        or _REPLY_HIDDEN_ID(i)
        or _HIDDEN_CLASS(c)
        or el.get("aria-hidden") == "true"
    )


# --- BODY_XPATH[0] -------------------------------------------------------------------------------


def _article_body(tokens: _Tokens) -> Test:
    by_id = _search(tokens.by_id)
    by_class = _search(tokens.by_class)

    def test(el: Any) -> bool:
        c, i = el.get("class"), el.get("id")
        return (
            c == "post"
            or c == "entry"
            or el.get("itemprop") == "articleBody"
            or i == "articleContent"
            or by_id(i)
            or by_class(c)
        )

    return test


# --- BASIC_CLEAN_XPATH (trafilatura's baseline and html2txt) ------------------------------------

_BASIC_CLEAN_TAGS = frozenset(("aside", "fencedframe", "footer", "script", "style", "svg", "template"))


def _basic_clean(cookie_pattern: str) -> Test:
    cookie = _search(cookie_pattern, re.IGNORECASE)

    def test(el: Any) -> bool:
        tag = el.tag
        return (
            tag in _BASIC_CLEAN_TAGS
            or (tag == "div" and "footer" in first_of(el, "class", "id"))
            or cookie(el.get("class"))
            or cookie(el.get("id"))
        )

    return test


@dataclass(frozen=True, slots=True)
class Slot:
    """Where trafilatura keeps a selector: ``module.attribute``, or its ``index``-th item when
    the attribute is a list."""

    module: str
    attribute: str
    index: int | None = None

    def get(self) -> Any:
        """The selector in the slot (None when there is no such slot)."""
        value = getattr(importlib.import_module(self.module), self.attribute, None)
        if self.index is None:
            return value
        return value[self.index] if isinstance(value, list) and self.index < len(value) else None

    def set(self, selector: Any) -> None:
        module = importlib.import_module(self.module)
        if self.index is None:
            setattr(module, self.attribute, selector)
        else:
            getattr(module, self.attribute)[self.index] = selector


def _xp(attribute: str, index: int) -> Slot:
    return Slot("trafilatura.xpaths", attribute, index)


#: Each slot with the sha256 of the XPath text its stand-in reproduces (trafilatura 2.3.1's).
PINNED: dict[Slot, str] = {
    _xp("RAW_TREE_PRUNE_XPATH", 0): "01e7c660fd6406f29932819d2dbd7530e2f3bdac11dde83565e977e391303444",
    _xp("RAW_TREE_PRUNE_XPATH", 1): "3c7afe92279543d5530365aa7b921c6e5b51243033e5622cae1dc85e08976f87",
    _xp(
        "REMOVE_COMMENTS_AND_LISTS_XPATH", 0
    ): "9cc18d34e6e2d258172b5df02bc44e578c95ef709b8e06722846c7a410c3a46f",
    _xp("OVERALL_DISCARD_XPATH", 0): "a837e58a1b1ea116ce1dada53d856dec093fe9f64b37dc503698e30f96a87dd3",
    _xp("OVERALL_DISCARD_XPATH", 1): "c1d5b70b8cd03783545d6b715c69062ae6967c222b2d8f4e2399762362d426c0",
    _xp("BODY_XPATH", 0): "caaa561ceca17064773e97bf7c610f55e6c6a64a2477328c060642912d489b3b",
    # imported by name into trafilatura.baseline, which is where it is read
    Slot(
        "trafilatura.baseline", "BASIC_CLEAN_XPATH"
    ): "db6c25acd08aef99afbf1be38c751d8c7cf7132256d1a013d1d2e4e4fe86651f",
}


def stand_ins() -> dict[Slot, StandIn]:
    """The stand-in for each :data:`PINNED` slot. The token alternations are trafilatura's own,
    the ones its XPaths are built from."""
    from trafilatura import settings
    from trafilatura import xpaths as x

    overall = _Tokens(
        consent=x._alt(x._CONSENT_ID_CLASS_TOKENS),
        by_id=x._alt(x._OVERALL_DISCARD_BOTH_TOKENS + x._OVERALL_DISCARD_ID_TOKENS),
        by_class=x._alt(x._OVERALL_DISCARD_BOTH_TOKENS + x._OVERALL_DISCARD_CLASS_TOKENS),
    )
    article = _Tokens(
        by_id=x._alt(x._ARTICLE_CONTENT_ID_TOKENS), by_class=x._alt(x._ARTICLE_CONTENT_CLASS_TOKENS)
    )
    blocks = ("div", "section", "aside")
    return {
        _xp("RAW_TREE_PRUNE_XPATH", 0): StandIn("infinite_scroll", blocks, _infinite_scroll),
        _xp("RAW_TREE_PRUNE_XPATH", 1): StandIn("elementor_share", blocks, _elementor_share),
        _xp("REMOVE_COMMENTS_AND_LISTS_XPATH", 0): StandIn(
            "comments_and_lists",
            ("div", "list", "section", "details", "ol", "ul"),
            _comments_or_lists(x._COMMENTS_ID, x._COMMENTS_CLASS),
        ),
        _xp("OVERALL_DISCARD_XPATH", 0): StandIn(
            "overall_discard", ("div", "item", "list", "p", "section", "span"), _overall_discard(overall)
        ),
        _xp("OVERALL_DISCARD_XPATH", 1): StandIn("hidden_or_reply", (), _hidden_or_reply),
        _xp("BODY_XPATH", 0): StandIn(
            "article_body", ("article", "div", "main", "section"), _article_body(article), True
        ),
        Slot("trafilatura.baseline", "BASIC_CLEAN_XPATH"): StandIn(
            "basic_clean", (), _basic_clean(settings._COOKIE_CONSENT_RE)
        ),
    }


def xpath_digest(selector: Any) -> str:
    """sha256 of an lxml ``XPath``'s expression text."""
    return hashlib.sha256(str(getattr(selector, "path", "")).encode()).hexdigest()


_LOCK = threading.Lock()
#: What :func:`install` replaced: ``(slot, trafilatura's selector)``.
_REPLACED: list[tuple[Slot, Any]] = []
_DONE = False


def install() -> int:
    """Put the stand-ins into trafilatura's selector lists, each where the list still holds the
    XPath it is pinned to (:data:`PINNED`); returns how many are in place. Once per process:
    later calls return at once. Called by the extract stage before its first page."""
    global _DONE
    if _DONE:
        return len(_REPLACED)
    with _LOCK:
        if not _DONE:
            for slot, stand_in in stand_ins().items():
                original = slot.get()
                if xpath_digest(original) == PINNED[slot]:
                    _REPLACED.append((slot, original))
                    slot.set(stand_in)
            _DONE = True
    return len(_REPLACED)


def uninstall() -> None:
    """Give trafilatura its own selectors back (tests compare the two); :func:`install` may be
    called again."""
    global _DONE
    with _LOCK:
        for slot, original in reversed(_REPLACED):
            slot.set(original)
        _REPLACED.clear()
        _DONE = False
