"""The plain trafilatura baseline, computed in the evaluation itself for sets that ship no
baseline file (``wcxb-train``): ``trafilatura.extract(html, include_comments=False)``, the recipe
of the AEB and WCXB baseline files, on the same pages and in the same run as cleanwire."""

from __future__ import annotations

import os
from collections.abc import Sequence
from concurrent.futures import ProcessPoolExecutor
from multiprocessing import get_context

from pipeline.evaluation.data import Baseline, Page

PLAIN_NAME = "trafilatura"
#: Below this many pages the baseline runs in process (a pool's start costs more).
_POOL_FROM = 32


def plain_text(html: str) -> str:
    """What the plain loop extracts from ``html`` ("" for nothing or a failure)."""
    import trafilatura

    try:
        text = trafilatura.extract(html, include_comments=False)
    except Exception:  # noqa: BLE001 - a page the library fails on is an empty prediction
        return ""
    return text or ""


def _page_text(page: Page) -> str:
    try:
        return plain_text(page.html())
    except OSError:
        return ""


def plain_baseline(pages: Sequence[Page], *, workers: int) -> Baseline:
    """The plain trafilatura baseline on ``pages``, over ``workers`` processes (0: one per core)."""
    import trafilatura

    n = workers or os.cpu_count() or 1
    if n <= 1 or len(pages) < _POOL_FROM:
        texts = [_page_text(p) for p in pages]
    else:
        with ProcessPoolExecutor(max_workers=n, mp_context=get_context("forkserver")) as pool:
            texts = list(pool.map(_page_text, pages, chunksize=8))
    version = str(getattr(trafilatura, "__version__", ""))
    return Baseline(PLAIN_NAME, version, {p.id: t for p, t in zip(pages, texts, strict=True)})
