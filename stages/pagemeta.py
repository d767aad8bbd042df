"""Speed helpers for the extract stage: page metadata without the parts cleanwire drops, and a
nesting-depth check done by libxml2 instead of a Python walk.

:func:`page_metadata` is trafilatura's ``extract_metadata`` step by step (same functions, same
order, same date settings, same final ``clean_and_trim``) for the fields cleanwire keeps - title,
author, date, sitename - without categories, tags and licence, which cost about two thirds of its
time on news pages and are not in cleanwire's output.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache
from typing import Any


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
    """trafilatura's metadata for ``tree`` (not modified), restricted to the fields cleanwire keeps."""
    from courlan import extract_domain
    from htmldate import find_date
    from trafilatura import metadata as tm
    from trafilatura.settings import set_date_params

    meta = tm.examine_meta(tree)
    if meta.author and " " not in meta.author:
        meta.author = None
    try:
        meta = tm.extract_meta_json(tree, meta)
    except Exception:  # noqa: BLE001 - as trafilatura does: a JSON-LD parser bug costs the JSON-LD only
        tm.LOGGER.warning("error in JSON metadata extraction")
    if not meta.title:
        meta.title = tm.extract_title(tree)
    if not meta.author:
        meta.author = tm.extract_author(tree)
    if not meta.url:
        meta.url = tm.extract_url(tree, url)
    if meta.url:
        meta.hostname = extract_domain(meta.url, fast=True)
    dates = set_date_params(extensive_dates)
    dates["url"] = meta.url
    meta.date = find_date(tree, **dates)
    if not meta.sitename:
        meta.sitename = tm.extract_sitename(tree)
    if meta.sitename:
        meta.sitename = meta.sitename.lstrip("@")
        if meta.sitename and "." not in meta.sitename and not meta.sitename[0].isupper():
            meta.sitename = meta.sitename.title()
    elif meta.url:
        found = tm.META_URL.match(meta.url)
        if found:
            meta.sitename = found[1]
    meta.filedate = dates.get("max_date")
    meta.clean_and_trim()
    return PageMeta(meta.title, meta.author, meta.date, meta.sitename, meta.url)
