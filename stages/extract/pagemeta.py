"""Speed helpers for the extract stage: page metadata without the parts cleanwire drops, and a
nesting-depth check done by libxml2 instead of a Python walk.

:func:`page_metadata` is trafilatura's ``extract_metadata`` step by step (same functions, same
order, same date settings but for htmldate's ``max_date``, :func:`~pipeline.core.clock.latest_date`, same
final ``clean_and_trim``) for the fields cleanwire keeps - title,
author, date, sitename - without categories, tags and licence, which cost about two thirds of its
time on news pages and are not in cleanwire's output.

The author fallback (:func:`fallback_author`) gives ``trafilatura.metadata.extract_author``'s
answer without its deepcopy and pruning of the whole page; see there.
"""

from __future__ import annotations

import hashlib
import re
from copy import deepcopy
from dataclasses import dataclass
from functools import lru_cache
from typing import Any

from pipeline.core.clock import latest_date
from pipeline.core.prefilter import (
    required_atoms,
)


@dataclass(frozen=True, slots=True)
class PageMeta:
    title: str | None
    author: str | None
    date: str | None
    sitename: str | None
    url: str | None  # the page's canonical URL when it declares one, else the given URL


@lru_cache(maxsize=8)
def _depth_probe(limit: int) -> Any:
    from lxml import etree

    return etree.XPath("boolean(" + "/*" * (limit + 1) + ")")


def deeper_than(tree: Any, limit: int) -> bool:
    """Whether some element is nested more than ``limit`` levels deep (the root is level 1).

    One compiled XPath (``/*/*/...``, ``limit + 1`` steps) evaluated in C; the same answer as
    ``max_depth(tree) > limit`` without visiting every element from Python.
    """
    return bool(_depth_probe(limit)(tree.getroottree()))


def page_metadata(tree: Any, url: str | None, *, extensive_dates: bool) -> PageMeta:
    """trafilatura's metadata for ``tree`` (not modified), restricted to the fields cleanwire keeps.

    A field whose library code raises on this page is left empty (None), and a value that is not
    a string is dropped: metadata never costs the article (htmldate raised on an
    ``article:published_time`` with a ``+99:00`` offset, which rejected the whole page)."""
    from htmldate import find_date
    from trafilatura import metadata as tm
    from trafilatura.settings import set_date_params

    meta = _safely(tm.examine_meta, tree)
    if meta is None:
        meta = tm.Document()
    if meta.author and " " not in meta.author:
        meta.author = None
    try:
        meta = tm.extract_meta_json(tree, meta)
    except Exception:  # noqa: BLE001 - as trafilatura does: a JSON-LD parser bug costs the JSON-LD only
        tm.LOGGER.warning("error in JSON metadata extraction")
    if not meta.title:
        meta.title = _safely(tm.extract_title, tree)
    if not meta.author:
        meta.author = _safely(fallback_author, tree)
    if not meta.url:
        meta.url = _safely(tm.extract_url, tree, url)
    dates = set_date_params(extensive_dates)
    # trafilatura passes the machine's local date, and htmldate takes a page date after it for a
    # future one and answers the first of its month instead (2026-12-08T00:30+14:00 read an hour
    # later on a UTC machine came out 2026-12-01, and a rerun the next day 2026-12-08)
    dates["max_date"] = latest_date().isoformat()
    dates["url"] = meta.url if isinstance(meta.url, str) else url
    meta.date = _safely(find_date, tree, **dates)
    if not meta.sitename:
        meta.sitename = _safely(tm.extract_sitename, tree)
    if isinstance(meta.sitename, str) and meta.sitename:
        meta.sitename = meta.sitename.lstrip("@")
        if meta.sitename and "." not in meta.sitename and not meta.sitename[0].isupper():
            meta.sitename = meta.sitename.title()
    elif isinstance(meta.url, str) and meta.url:
        found = tm.META_URL.match(meta.url)
        if found:
            meta.sitename = found[1]
    meta.filedate = dates.get("max_date")
    for name in ("title", "author", "date", "sitename", "url"):
        if not isinstance(getattr(meta, name), str | None):
            setattr(meta, name, None)
    _safely(meta.clean_and_trim)
    return PageMeta(*(_text(getattr(meta, n)) for n in ("title", "author", "date", "sitename", "url")))


def _safely(fn: Any, *args: Any, **kwargs: Any) -> Any:
    """``fn(...)``, or None when it raises (a library's bug on one page's metadata)."""
    try:
        return fn(*args, **kwargs)
    except Exception:  # noqa: BLE001 - the field is lost, not the record
        return None


def _text(value: Any) -> str | None:
    return value if isinstance(value, str) and value else None


# --- author fallback -------------------------------------------------------------------------
#
# trafilatura's extract_author(tree) deep-copies the page, prunes AUTHOR_DISCARD_XPATHS from the
# copy (comments, sidebars, <time>, <figure>, ...) and returns the first AUTHOR_XPATHS match of the
# pruned copy whose text is a plausible name. Those XPaths are a tag test and-ed with or-ed tests
# of the element's own attributes (plus ``//author``; the one other test, ``rel='me'``, looks at
# child elements named ``rel``), so pruning cannot create a match, only remove one. Hence:
#
# 1. The matches in the pruned copy are the matches in the page with no pruned element among
#    their ancestors-or-self, in the same order; the text of such a match is the text of a copy of
#    that match alone, pruned the same way. No copy of the page is needed.
# 2. A match carries one of the XPath's literal substrings (``attribute_needles``) in that
#    attribute. A needle absent from all the page's values of its attribute cannot contribute:
#    the XPath is skipped when no needle occurs, and otherwise first narrowed to the elements
#    carrying a needle that does occur (``_narrowed``).
# 3. lxml runs EXSLT ``re:test`` as a Python callback per element; a C-level ``contains`` before
#    it (``guarded_path``) leaves the result unchanged and skips most callbacks.
#
# That reasoning was checked against the XPaths fingerprinted below; with any other trafilatura
# XPaths, or on a page with a ``<rel>`` element, trafilatura's own extract_author runs.

#: sha256 of trafilatura's AUTHOR_XPATHS + AUTHOR_DISCARD_XPATHS (trafilatura 2.3) that the
#: reasoning above was checked against.
CHECKED_AUTHOR_XPATHS = "bd5f280624916a837f627a558a6f87d6ebde80d97a00908c8a856c7b7b9eae82"

_RE_TEST = re.compile(r"re:test\((@[\w:-]+), '([^']*)'\)")


def required_literals(pattern: str) -> list[str] | None:
    """Substrings, one of which every match of the regex ``pattern`` contains (shortest first,
    ones containing another dropped); None when there is no such set an XPath ``contains()`` can
    test: none found, one matched ignoring case, or one with a quote.

    lxml runs EXSLT regexes with Python's :mod:`re`, so the rule prefilter's analysis of the
    parsed pattern (:func:`stages.boilerplate.rulepack.required_atoms`) applies as it is.
    """
    atoms = required_atoms(pattern)
    if not atoms or any(icase or "'" in text for text, icase in atoms):
        return None
    kept: list[str] = []
    for lit in sorted({text for text, _ in atoms}, key=len):
        if not any(k in lit for k in kept):
            kept.append(lit)
    return kept


def _guard(match: re.Match[str]) -> str:
    attr, pattern = match.group(1), match.group(2)
    literals = required_literals(pattern)
    if not literals:
        return match.group(0)
    precondition = " or ".join(f"contains({attr}, '{lit}')" for lit in literals)
    return f"(({precondition}) and {match.group(0)})"


def guarded_path(path: str) -> str:
    """``path`` with a C-level precondition before each ``re:test(@attr, 'regex')``.

    lxml runs EXSLT ``re:test`` as a Python callback for every element the step visits, which
    makes trafilatura's author XPaths cost milliseconds per page. ``contains(@attr, 'lit')`` over
    substrings that every regex match must contain is a necessary condition, so ``(pre and
    re:test(...))`` has the same value, and libxml2's ``and`` skips the callback when ``pre`` is
    false: the same node-set, computed mostly in C.
    """
    return _RE_TEST.sub(_guard, path)


def _ancestor_form(path: str) -> str | None:
    """The discard XPath as a test on a node's ancestors-or-self (None for other shapes).

    ``.//*[p]`` from the page root matches elements below the root, i.e. ancestors-or-self with
    an element parent; ``//a|//b`` matches any element named ``a`` or ``b``.
    """
    path = path.strip()
    if path.startswith(".//*["):
        return "ancestor-or-self::*[parent::*]" + path[len(".//*") :]
    names = path.split("|")
    if all(re.fullmatch(r"//[a-z][a-z0-9]*", n.strip()) for n in names):
        return " | ".join("ancestor-or-self::" + n.strip()[2:] for n in names)
    return None


_ATTRIBUTE_TEST = re.compile(r"@([\w:-]+)\s*=\s*'([^']*)'|contains\(@([\w:-]+),\s*'([^']*)'\)")
_ELEMENT_STEP = re.compile(r"//([a-z][\w-]*)")


def attribute_needles(path: str) -> list[tuple[str, str]] | None:
    """``(attribute, substring)`` pairs from the attribute tests of ``path``: ``@a='v'``,
    ``contains(@a, 'v')`` and ``re:test(@a, 'regex')`` (via :func:`required_literals`).

    For an XPath whose predicates are ``or``-ed attribute tests (tag tests aside), an element can
    only match when one of these substrings occurs in that attribute: a page where none occurs
    anywhere has no match. None when a regex gives no substring.
    """
    needles: list[tuple[str, str]] = []
    for match in _RE_TEST.finditer(path):
        literals = required_literals(match.group(2))
        if literals is None:
            return None
        needles.extend((match.group(1)[1:], lit) for lit in literals)
    for match in _ATTRIBUTE_TEST.finditer(_RE_TEST.sub("", path)):
        attr, value = (match.group(1), match.group(2)) if match.group(1) else (match.group(3), match.group(4))
        needles.append((attr, value))
    return sorted(set(needles))


@lru_cache(maxsize=256)
def _narrowed(path: str, present: tuple[tuple[str, str], ...]) -> Any:
    """``path`` with a first predicate ``[contains(@a, 'n') or ...]`` over the needles present.

    On a page where only these needles occur, every match of ``path`` carries one of them, so
    the predicate (evaluated first, cheaply) changes nothing but the work: the remaining tests
    run on a handful of elements instead of all of them.
    """
    from lxml import etree
    from trafilatura.xpaths import REGEXP_NS

    narrow = " or ".join(f"contains(@{attr}, '{needle}')" for attr, needle in present) or "false()"
    return etree.XPath(path.replace("//*[", f"//*[{narrow}][", 1), namespaces={"re": REGEXP_NS})


@dataclass(frozen=True, slots=True)
class _AuthorXPath:
    """One of trafilatura's AUTHOR_XPATHS, evaluated on the elements that can match."""

    path: str  # the XPath, guarded (guarded_path)
    needles: tuple[tuple[str, str], ...]  # attribute_needles of the XPath
    elements: Any  # boolean(//name | ...) for its bare element steps (``//author``), or None

    def select(self, tree: Any, values: dict[str, str]) -> list[Any]:
        """The XPath's matches in ``tree``; ``values`` maps attribute names to all their values
        on the page. Nothing to evaluate when no needle occurs and no bare element step exists."""
        present = tuple((attr, needle) for attr, needle in self.needles if needle in values.get(attr, ""))
        if not present and (self.elements is None or not self.elements(tree)):
            return []
        found: list[Any] = _narrowed(self.path, present)(tree)
        return found


@dataclass(frozen=True, slots=True)
class _AuthorSearch:
    find: tuple[_AuthorXPath, ...]
    attributes: tuple[tuple[str, Any], ...]  # (name, //*/@name) for every attribute the XPaths test
    pruned: Any  # is the context node or one of its ancestors pruned by AUTHOR_DISCARD_XPATHS?
    discard: tuple[Any, ...]  # AUTHOR_DISCARD_XPATHS, guarded, to prune a copy of a match
    has_rel: Any  # boolean(//rel)
    this: Any  # "." (the copy itself, for trafilatura's extract_metainfo)

    def attribute_values(self, tree: Any) -> dict[str, str]:
        return {name: "\n".join(values(tree)) for name, values in self.attributes}


def _author_xpath(path: str) -> _AuthorXPath | None:
    from lxml import etree

    needles = attribute_needles(path)
    if needles is None or not path.lstrip().startswith("//*["):
        return None
    names = _ELEMENT_STEP.findall(path)
    elements = etree.XPath("boolean(" + " | ".join(f"//{n}" for n in names) + ")") if names else None
    return _AuthorXPath(guarded_path(path), tuple(needles), elements)


@lru_cache(maxsize=1)
def _author_search() -> _AuthorSearch | None:
    """The compiled fast author search, or None when trafilatura's XPaths are not the checked ones."""
    from lxml import etree
    from trafilatura.xpaths import AUTHOR_DISCARD_XPATHS, AUTHOR_XPATHS, REGEXP_NS

    paths = [x.path for x in (*AUTHOR_XPATHS, *AUTHOR_DISCARD_XPATHS)]
    if hashlib.sha256("\n".join(paths).encode()).hexdigest() != CHECKED_AUTHOR_XPATHS:
        return None
    ns = {"re": REGEXP_NS}
    ancestors = [_ancestor_form(guarded_path(x.path)) for x in AUTHOR_DISCARD_XPATHS]
    find = [_author_xpath(x.path) for x in AUTHOR_XPATHS]
    if None in ancestors or None in find:
        return None
    attributes = sorted({attr for f in find if f for attr, _ in f.needles})
    return _AuthorSearch(
        find=tuple(f for f in find if f),
        attributes=tuple((a, etree.XPath(f"//*/@{a}", smart_strings=False)) for a in attributes),
        pruned=etree.XPath("boolean(" + " | ".join(f"({a})" for a in ancestors if a) + ")", namespaces=ns),
        discard=tuple(etree.XPath(guarded_path(x.path), namespaces=ns) for x in AUTHOR_DISCARD_XPATHS),
        has_rel=etree.XPath("boolean(//rel)"),
        this=etree.XPath("."),
    )


def fallback_author(tree: Any) -> str | None:
    """``trafilatura.metadata.extract_author(tree)``: the same answer, much cheaper (see above)."""
    from trafilatura import metadata as tm
    from trafilatura.htmlprocessing import prune_unwanted_nodes
    from trafilatura.json_metadata import normalize_authors

    search = _author_search()
    if search is None or search.has_rel(tree):
        author: str | None = tm.extract_author(tree)
        return author
    values = search.attribute_values(tree)
    for xpath in search.find:
        for elem in xpath.select(tree, values):
            if search.pruned(elem):
                continue
            alone = prune_unwanted_nodes(deepcopy(elem), list(search.discard))
            content = tm.extract_metainfo(alone, [search.this], len_limit=120)
            if content:
                found: str | None = normalize_authors(None, content)
                return found
    return None
