"""trafilatura's extraction cascade, split where cleanwire decides whether a page needs all of it.

trafilatura's full cascade is its fast cascade (main extractor, baseline rescue, recall escalation)
plus ``compare_extraction`` (readability and jusText) after the main extractor and a jusText
candidate in the recall escalation. That comparison costs about a third of the extraction time
and changes little on article pages, but it is what service, forum, listing and collection pages
need. :func:`main_text` runs the fast cascade, and the full one only when the fast text is
*doubtful*: under ``extract.slow_share_below`` (0.35) of the page's visible text
(:func:`visible_chars`: non-whitespace characters of the body, with scripts, styles, SVG, ``aside``
and ``footer`` left out).

The two paths share the work they have in common: :func:`main_text` runs trafilatura's own
steps (the same functions in the same order as ``trafilatura.core.trafilatura_sequence`` with
comments off) once, so the tree copy, pruning, cleaning and main extraction of the fast pass are
reused by the slow path, which adds only the comparison and the full-mode rescues. The result is
the text ``trafilatura.bare_extraction`` gives in fast mode (aside and footer detached) or in full
mode (trafilatura's default MIN_EXTRACTED_SIZE, 250, on the whole tree), byte for byte
(``tests/stages/extract/test_cascade.py``). The slow path uses 250 rather than cleanwire's 25
because trafilatura's baseline rescue, wild-text recovery and jusText threshold, all gated on it,
are what listing, collection and forum pages need; the fast path keeps 25, which is better on
short articles.

trafilatura's seven heaviest XPath selectors (its ``re:test`` pruning and content XPaths) run as
exact Python stand-ins that select the same elements (:mod:`stages.extract.selectors`).

The reuse rests on trafilatura 2.3's code: :data:`CHECKED_SEQUENCE` pins the source of the steps
replayed here. With any other trafilatura version, and with comments, precision or recall
switched on, :func:`main_text` takes the same decision with two ``bare_extraction`` calls
(:func:`_two_pass`): the same output, at the cost of extracting a doubtful page twice.
"""

from __future__ import annotations

import hashlib
import importlib
import inspect
from configparser import ConfigParser
from copy import copy
from dataclasses import dataclass
from functools import lru_cache
from typing import Any

from pipeline.core.blocks import nonspace
from pipeline.core.config import ExtractConfig
from stages.extract import selectors

#: Subtrees trafilatura's fast path never keeps (its tree cleaning deletes them), but its full
#: cascade reads (readability, the baseline rescue and the recall escalation see the raw tree: a
#: product description in an ``<aside>`` was lost when they were dropped). Detached for the fast
#: path and the doubt signal, put back for the slow path.
DETACHED_TAGS = ("aside", "footer")

#: trafilatura's own MIN_EXTRACTED_SIZE, used on the slow path (see the module docstring).
SLOW_MIN_EXTRACTED_SIZE = 250


@dataclass(frozen=True, slots=True)
class MainText:
    """What :func:`main_text` found: the text (None: nothing), whether the page took trafilatura's
    full cascade, and the fast text's share of the page's visible text (None when not measured)."""

    text: str | None
    full_cascade: bool
    share: float | None = None


# --- detaching and restoring subtrees -------------------------------------------------------


class Detached:
    """Subtrees taken out of a tree as ``drop_tree`` takes them (the tail of each joins the text
    before it), with what is needed to put them back exactly (:meth:`restore`)."""

    def __init__(self, tree: Any, tags: tuple[str, ...]) -> None:
        self._undo: list[tuple[Any, Any, int, Any, str | None, str | None]] = []
        for el in list(tree.iter(*tags)):
            parent = el.getparent()
            if parent is None:
                continue
            index = parent.index(el)
            prev = el.getprevious()
            tail = el.tail
            holder, old = (prev, prev.tail) if prev is not None else (parent, parent.text)
            if tail:
                if prev is not None:
                    prev.tail = (prev.tail or "") + tail
                else:
                    parent.text = (parent.text or "") + tail
            el.tail = None
            parent.remove(el)
            self._undo.append((el, parent, index, holder, old, tail))

    def __len__(self) -> int:
        return len(self._undo)

    def restore(self) -> None:
        """Put every subtree back where it was (a second call does nothing)."""
        for el, parent, index, holder, old, tail in reversed(self._undo):
            if holder is parent:
                parent.text = old
            else:
                holder.tail = old
            parent.insert(index, el)
            el.tail = tail
        self._undo.clear()


# --- the doubt signal -----------------------------------------------------------------------


def visible_chars(tree: Any) -> int:
    """Non-whitespace characters of the page's body text (``text_content``, computed in C; about
    0.3 ms per page). Called on the tree trafilatura's fast path reads, so scripts, styles, SVG,
    ``aside`` and ``footer`` are already out."""
    body = tree.find("body")
    return nonspace((tree if body is None else body).text_content())


def is_doubtful(share: float, share_below: float) -> bool:
    """The rule: the fast text is doubtful when it is under ``share_below`` of the visible text."""
    return share < share_below


def is_blob(text: str | None) -> bool:
    """Whether a slow-path text is one line of at least :data:`SLOW_MIN_EXTRACTED_SIZE`
    characters: what trafilatura's baseline rescue gives when it takes an ``<article>``'s whole
    ``text_content`` (byline, captions, sign-up boxes and all, on one line, where the line-based
    boilerplate stage cannot take them out)."""
    body = (text or "").strip()
    return len(body) >= SLOW_MIN_EXTRACTED_SIZE and "\n" not in body


# --- trafilatura's cascade, split at the decision -------------------------------------------

#: sha256 of the trafilatura 2.3.1 source that :func:`main_text` replays (see
#: :func:`sequence_fingerprint`).
CHECKED_SEQUENCE = "fd5bb8e28c079ff73a962bc537866bf8cde285a270c47607a2421a9b2182727d"


@lru_cache(maxsize=1)
def sequence_fingerprint() -> str:
    """sha256 of the trafilatura functions whose steps :func:`main_text` replays: the sequence,
    the main extractor (the reuse condition rests on where it reads its minimum size) and
    ``html2txt`` (the bound in :meth:`_Raw.page_len_bound` rests on what it does)."""
    from trafilatura import core, main_extractor

    baseline = importlib.import_module("trafilatura.baseline")
    parts = [
        inspect.getsource(core.trafilatura_sequence),
        inspect.getsource(core._extract_and_compare),
        inspect.getsource(core._prepare_tree),
        inspect.getsource(core._recall_retry),
        inspect.getsource(core.bare_extraction),
        inspect.getsource(main_extractor.extract_content),
        inspect.getsource(main_extractor._extract),
        inspect.getsource(main_extractor.recover_wild_text),
        inspect.getsource(baseline.html2txt),
        inspect.getsource(baseline._spaced_text),
        str(sorted(baseline._BLOCK_ELEMS)),
    ]
    return hashlib.sha256("".join(parts).encode()).hexdigest()


def _settings(min_extracted_size: int) -> ConfigParser:
    from trafilatura.settings import use_config

    settings: ConfigParser = use_config()
    settings.set("DEFAULT", "MIN_EXTRACTED_SIZE", str(min_extracted_size))
    return settings


@lru_cache(maxsize=1)
def slow_settings() -> ConfigParser:
    """trafilatura's settings for the slow path (its defaults, built once per process)."""
    return _settings(SLOW_MIN_EXTRACTED_SIZE)


def options(cfg: ExtractConfig, url: str | None, *, fast: bool, settings: ConfigParser) -> Any:
    """trafilatura's ``Extractor`` for ``cfg``: plain text, no metadata (read separately)."""
    from trafilatura.settings import Extractor

    return Extractor(
        config=settings,
        output_format="python",
        fast=fast,
        precision=cfg.favor_precision,
        recall=cfg.favor_recall,
        comments=cfg.include_comments,
        tables=cfg.include_tables,
        url=url,
        with_metadata=False,
    )


class _Raw:
    """``trafilatura_sequence``'s prologue on a copy of ``tree``: the pruned raw tree and, with
    ``clean``, the cleaned tree and its pre-conversion backup."""

    def __init__(self, tree: Any, opts: Any, url: str | None, *, clean: bool = True) -> None:
        from trafilatura import core
        from trafilatura.htmlprocessing import prune_unwanted_nodes
        from trafilatura.xpaths import RAW_TREE_PRUNE_XPATH, REMOVE_COMMENTS_AND_LISTS_XPATH

        raw = copy(tree)
        is_forum = core._forum_thread_page(raw)
        raw = prune_unwanted_nodes(raw, RAW_TREE_PRUNE_XPATH)
        if not opts.comments and (opts.focus == "precision" or not is_forum):
            raw = prune_unwanted_nodes(raw, REMOVE_COMMENTS_AND_LISTS_XPATH)
        self.raw = raw
        self._page_len: int | None = None
        self.cleaned: Any = None
        self.backup: Any = None
        if clean:
            self.cleaned, self.backup = core._prepare_tree(raw, opts, url)

    def page_len(self) -> int:
        """``len(html2txt(raw))``: the page length trafilatura's recall escalation compares with."""
        from trafilatura.baseline import html2txt

        if self._page_len is None:
            self._page_len = len(html2txt(self.raw))
        return self._page_len

    def page_len_bound(self) -> int:
        """An upper bound of :meth:`page_len` without html2txt's copy and cleaning: html2txt only
        removes subtrees and control characters, collapses whitespace, and adds at most two
        spaces per block element (before its text and after its tail). A text that is not under
        20 % of this bound is not under 20 % of the page either, so most pages skip html2txt."""
        body = self.raw.find(".//body")
        if body is None:
            body = self.raw
        return len(body.text_content()) + 2 * int(_block_count()(body))


@lru_cache(maxsize=1)
def _block_count() -> Any:
    from lxml import etree
    from trafilatura.baseline import _BLOCK_ELEMS

    return etree.XPath("count(" + " | ".join(f"descendant-or-self::{t}" for t in sorted(_BLOCK_ELEMS)) + ")")


def _rescues(raw: _Raw, opts: Any, url: str | None, body: Any, text: str) -> tuple[Any, str]:
    """``trafilatura_sequence``'s stages 3 (baseline rescue) and 4 (recall escalation), comments off."""
    from trafilatura import core
    from trafilatura.baseline import baseline
    from trafilatura.external import justext_rescue

    if len(text) < opts.min_extracted_size and opts.focus != "precision":
        b_body, b_text, b_len = baseline(raw.raw)
        if b_len > len(text):
            body, text = b_body, b_text
    if (
        opts.focus == "balanced"
        and 0 < len(text) < core.ESCALATION_MAX_LENGTH
        and len(text) < core.ESCALATION_PAGE_SHARE * raw.page_len_bound()
        and len(text) < core.ESCALATION_PAGE_SHARE * raw.page_len()
    ):
        r_opts = copy(opts)
        r_opts.focus = "recall"
        r_text = j_text = ""
        r_body = j_body = None
        try:
            r_body, r_text = core._recall_retry(raw.raw, r_opts, url)
        except Exception:  # noqa: BLE001 - as trafilatura: a failed retry keeps the first result
            r_text = ""
        if not opts.fast:
            try:
                j_body, j_text = justext_rescue(copy(raw.raw), opts)
            except Exception:  # noqa: BLE001 - as trafilatura
                j_text = ""
        len_text, r_len, j_len = len(text), len(r_text), len(j_text)
        if j_len > r_len and j_len > core.ESCALATION_JUSTEXT_RATIO * len_text:
            body, text = j_body, j_text
        elif r_len >= opts.min_extracted_size and r_len > core.ESCALATION_ACCEPT_RATIO * len_text:
            body, text = r_body, r_text
    return body, text


def _finish(opts: Any, body: Any, text: str) -> str | None:
    """``bare_extraction``'s last steps for plain text: the minimum output size, then the text."""
    from trafilatura.xml import xmltotxt

    if len(text) < opts.min_output_size and opts.min_output_comm_size > 0:
        return None
    out: str = xmltotxt(body, opts.formatting)
    return out


def _cascade(tree: Any, url: str | None, opts: Any) -> str | None:
    """trafilatura's whole cascade on ``tree`` (``bare_extraction(...).text`` for ``opts``)."""
    from trafilatura.external import compare_extraction
    from trafilatura.main_extractor import extract_content

    raw = _Raw(tree, opts, url)
    body, text = extract_content(raw.cleaned, opts)
    if not opts.fast:
        body, text = compare_extraction(raw.backup, copy(raw.raw), body, text, opts)
    return _finish(opts, *_rescues(raw, opts, url, body, text))


class _SizeProbe(int):
    """The fast pass's MIN_EXTRACTED_SIZE, noting each length the main extractor compares with it
    (``len(x) < size`` or ``len(x) < size * k``): ``other < probe`` calls the probe's reflected
    ``__gt__`` first, because it is an int subclass that overrides it."""

    seen: list[tuple[int, int]]
    factor: int

    def __new__(cls, value: int, seen: list[tuple[int, int]], factor: int = 1) -> _SizeProbe:
        probe = super().__new__(cls, value)
        probe.seen, probe.factor = seen, factor
        return probe

    def __mul__(self, k: object) -> Any:
        if isinstance(k, int):
            return _SizeProbe(int(self) * k, self.seen, self.factor * k)
        return int(self) * k  # type: ignore[operator]

    __rmul__ = __mul__

    def __gt__(self, other: object) -> bool:
        if isinstance(other, int):
            self.seen.append((int(other), self.factor))
        return int(self) > other  # type: ignore[operator]


def _reusable(seen: list[tuple[int, int]], fast_min: int, slow_min: int) -> bool:
    """Whether the fast pass's main extraction is the one the slow settings would give: every size
    test it made comes out the same with ``slow_min``, and it did not recover wild text (which it
    does when its own pass found nothing or less than the minimum, and which differs in fast mode)."""
    direct = [v for v, k in seen if k == 1]
    if not direct or any(v < fast_min for v in direct):
        return False
    return all((v < fast_min * k) == (v < slow_min * k) for v, k in seen)


def _bare(tree: Any, opts: Any) -> str | None:
    import trafilatura

    doc = trafilatura.bare_extraction(tree, options=opts)
    text = getattr(doc, "text", None) if doc is not None else None
    return text if isinstance(text, str) else None


def _share(tree: Any, text: str | None, pruned_chars: int = 0) -> float:
    return nonspace(text or "") / max(1, visible_chars(tree) + pruned_chars)


def main_text(
    tree: Any,
    url: str | None,
    cfg: ExtractConfig,
    *,
    fast_settings: ConfigParser,
    detached: Detached | None = None,
    pruned_chars: int = 0,
) -> MainText:
    """The page's main text: trafilatura's fast cascade (``fast_settings``), and its full cascade
    (trafilatura's default settings, ``detached`` subtrees restored) when ``cfg.fast`` is off or
    the fast text is doubtful (:func:`is_doubtful`). ``tree`` is not modified, but ``detached``
    subtrees are restored for the slow path and stay restored. ``pruned_chars`` (visible characters
    of widget subtrees already removed from ``tree``) count as visible text in the doubt signal, so
    pruning does not change which cascade a page takes. A page trafilatura's steps raise
    ``TypeError``/``ValueError`` on has no text, as ``bare_extraction`` decides (its baseline
    refuses a control character lxml cannot store, e.g. ``<p>\x1f``). trafilatura's heaviest
    selectors run as their exact stand-ins (:func:`stages.extract.selectors.install`)."""
    selectors.install()
    try:
        return _main_text(
            tree, url, cfg, fast_settings=fast_settings, detached=detached, pruned_chars=pruned_chars
        )
    except (TypeError, ValueError):
        return MainText(None, False)


def _main_text(
    tree: Any,
    url: str | None,
    cfg: ExtractConfig,
    *,
    fast_settings: ConfigParser,
    detached: Detached | None,
    pruned_chars: int = 0,
) -> MainText:
    slow_opts = options(cfg, url, fast=False, settings=slow_settings())
    if not cfg.fast:
        if detached is not None:
            detached.restore()
        return MainText(_bare(tree, slow_opts), True)
    fast_opts = options(cfg, url, fast=True, settings=fast_settings)
    simple = not (cfg.include_comments or cfg.favor_precision or cfg.favor_recall)
    if not simple or sequence_fingerprint() != CHECKED_SEQUENCE:
        return _two_pass(tree, url, cfg, fast_opts, slow_opts, detached, fast_settings, pruned_chars)

    from trafilatura.external import compare_extraction
    from trafilatura.main_extractor import extract_content

    raw = _Raw(tree, fast_opts, url)
    seen: list[tuple[int, int]] = []
    fast_min = fast_opts.min_extracted_size
    fast_opts.min_extracted_size = _SizeProbe(fast_min, seen)
    try:
        first_body, first_text = extract_content(raw.cleaned, fast_opts)
    finally:
        fast_opts.min_extracted_size = fast_min
    fast_text = _finish(fast_opts, *_rescues(raw, fast_opts, url, first_body, first_text))
    if cfg.slow_share_below <= 0:
        return MainText(fast_text, False)
    share = _share(tree, fast_text, pruned_chars)
    if not is_doubtful(share, cfg.slow_share_below):
        return MainText(fast_text, False, share)
    restored = detached is not None and len(detached) > 0
    if detached is not None:
        detached.restore()
    if not _reusable(seen, fast_min, slow_opts.min_extracted_size):
        slow_text = _cascade(tree, url, slow_opts)
    else:
        # aside/footer are back: a new raw tree for readability and the rescues; the same main
        # extraction and the same cleaned tree for jusText (tree cleaning deletes aside and footer)
        raw2 = _Raw(tree, slow_opts, url, clean=False) if restored else raw
        body, text = compare_extraction(raw.backup, copy(raw2.raw), first_body, first_text, slow_opts)
        slow_text = _finish(slow_opts, *_rescues(raw2, slow_opts, url, body, text))
    if is_blob(slow_text):
        return MainText(_small_full(tree, url, cfg, fast_settings), True, share)
    return MainText(slow_text, True, share)


def _small_full(tree: Any, url: str | None, cfg: ExtractConfig, settings: ConfigParser) -> str | None:
    """The full cascade with cleanwire's own minimum size (``settings``) and ``aside``/``footer``
    detached: the slow path's answer when its own is a one-line blob (:func:`is_blob`). Below
    250 characters trafilatura's baseline rescue is not tried, so a short article stays short and
    keeps its lines. On the 1,478 aeb/wcxb/wcxb-train pages this concerns 6 pages (3 listings,
    2 articles, 1 WCXB article): no page type loses, train articles gain 0.001-0.002 F1; on
    newsboiler's HTML pages it keeps bylines, captions and sign-up lines removable."""
    opts = options(cfg, url, fast=False, settings=settings)
    detached = Detached(tree, DETACHED_TAGS)
    try:
        return _cascade(tree, url, opts)
    finally:
        detached.restore()


def _two_pass(
    tree: Any,
    url: str | None,
    cfg: ExtractConfig,
    fast_opts: Any,
    slow_opts: Any,
    detached: Detached | None,
    fast_settings: ConfigParser,
    pruned_chars: int = 0,
) -> MainText:
    """The same decision with trafilatura's public API: the slow path extracts again."""
    fast_text = _bare(tree, fast_opts)
    if cfg.slow_share_below <= 0:
        return MainText(fast_text, False)
    share = _share(tree, fast_text, pruned_chars)
    if not is_doubtful(share, cfg.slow_share_below):
        return MainText(fast_text, False, share)
    if detached is not None:
        detached.restore()
    slow_text = _bare(tree, slow_opts)
    if is_blob(slow_text):
        return MainText(_small_full(tree, url, cfg, fast_settings), True, share)
    return MainText(slow_text, True, share)
