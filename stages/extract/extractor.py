"""extract: HTML to text + metadata with trafilatura; text records pass through.

:func:`extract_html` is the per-document function. It parses once with lxml (no network, no
entity resolution), checks the nesting depth, reads the metadata (:mod:`stages.extract.pagemeta`), drops
what trafilatura deletes on every path (:func:`drop_inert`: scripts, styles, inline SVG), detaches
``aside`` and ``footer`` (only trafilatura's full cascade reads them), with ``extract.prune_widgets``
removes widget subtrees by their class/id tokens from the rest (:mod:`stages.extract.widgets`;
their text still counts as visible in the doubt signal), and hands the parsed tree to
trafilatura's fast cascade, and to its full cascade when the fast text is under
``extract.slow_share_below`` of the page's visible text (:mod:`stages.extract.cascade`).
A meta-refresh redirect stub (a quick refresh to another page, and next to no text of its own:
:func:`redirect_target`) is dropped as :data:`REDIRECT_STUB`.
The wall-clock timeout is enforced by the runner's supervised workers, not here.
"""

from __future__ import annotations

import re
import unicodedata
from configparser import ConfigParser
from dataclasses import dataclass
from difflib import SequenceMatcher
from functools import lru_cache
from typing import Any
from urllib.parse import urljoin

from pipeline.core.config import ExtractConfig
from pipeline.core.record import Doc
from pipeline.core.stage import DocStage, DropRecord, RejectRecord
from stages.extract.cascade import DETACHED_TAGS, Detached, main_text
from stages.extract.orphans import drop_orphan_labels, label_lines, link_list_labels, link_lists
from stages.extract.pagemeta import deeper_than, page_metadata
from stages.extract.widgets import load_table, prune_widgets


@dataclass(frozen=True, slots=True)
class Extracted:
    text: str
    title: str | None = None
    author: str | None = None
    date: str | None = None
    sitename: str | None = None
    #: whether the page took trafilatura's full cascade (see :mod:`stages.extract.cascade`)
    full_cascade: bool = False
    #: how many widget subtrees ``extract.prune_widgets`` removed (:mod:`stages.extract.widgets`)
    widgets_pruned: int = 0
    #: how many lines labelling a link list that extraction left out went (:mod:`stages.extract.orphans`)
    orphan_labels: int = 0


#: The flag of a record whose page took trafilatura's full cascade (``Doc.flags``; the manifest
#: counts flags in ``counts.flags``).
FULL_CASCADE_FLAG = "extract_full_cascade"
#: The flag added once per widget subtree ``extract.prune_widgets`` removed from a page (so the
#: manifest's ``counts.flags`` counts the elements and ``cleanwire explain`` shows them per page).
WIDGET_FLAG = "extract_widget_pruned"
#: The flag added once per orphan label line dropped (``extract.drop_orphan_labels``).
ORPHAN_FLAG = "extract_orphan_label"


_TITLE_END = re.compile(r"[.;,]$")
_QUOTES = str.maketrans({"\u2018": "'", "\u2019": "'", "\u201c": '"', "\u201d": '"', "\u201e": '"'})
_SPACE_RUN = re.compile(r"\s+")
_KEY_STRIP = " .:;,!?-\u2013\u2014|"
_SITE_SUFFIX = re.compile(r"\s*[|\-\u2013\u2014:\u00b7\u00bb/]\s*\S")
_FUZZY_MIN_CHARS = 20
_FUZZY_RATIO = 0.85


def max_depth(root: object) -> int:
    """Deepest element nesting below ``root`` (iterative, so deep trees cannot blow the stack)."""
    deepest = 0
    stack: list[tuple[object, int]] = [(root, 1)]
    while stack:
        node, depth = stack.pop()
        deepest = max(deepest, depth)
        stack.extend((child, depth + 1) for child in node)  # type: ignore[attr-defined]
    return deepest


# A UTF-8 lead byte read as Latin-1 followed by continuation bytes read the same way. Only runs
# that contain a C1 control character (U+0080-U+009F, never real text) are touched.
_C1_MOJIBAKE = re.compile("[\u00c2-\u00f4][\u0080-\u00bf]+")
_C1 = re.compile("[\u0080-\u009f]")


def _undo_latin1(m: re.Match[str]) -> str:
    run = m.group(0)
    if not _C1.search(run):
        return run
    try:
        return run.encode("latin-1").decode("utf-8")
    except UnicodeDecodeError:
        return run


def repair_c1_mojibake(html: str) -> str:
    """Undo UTF-8-read-as-Latin-1 sequences that carry C1 controls (``donâ\x80\x99t`` -> ``don’t``).

    The extractor drops control characters, which would leave ``donât`` behind and take away the
    evidence the encoding stage needs, so these runs are repaired here, before parsing.
    """
    if not _C1.search(html):
        return html
    return _C1_MOJIBAKE.sub(_undo_latin1, html)


# A C1 control (U+0080-U+009F) in UTF-8. The bytes search is a fast literal scan; the str
# search in repair_c1_mojibake is a character-class scan of the whole page.
_C1_UTF8 = re.compile(b"\xc2[\x80-\x9f]")
#: Characters XML cannot hold (C0 controls; U+FFFE, U+FFFF), in UTF-8, but for the white space
#: lxml reads as such (tab, newline, vertical tab, form feed, carriage return) and NUL (lxml reads
#: it as U+FFFD): lxml's HTML parser keeps the others in the tree (backspace, escape), and
#: trafilatura's first text assignment then raises ``ValueError``, which lost the whole page
#: (``no_content``) for one stray byte. Bytes under 0x80 never occur inside a multi-byte sequence,
#: so they are dropped from the encoded page (``bytes.translate``: ~0.7 ms a megabyte, a regular
#: expression's search took 3 ms).
_XML_INVALID_C0 = bytes([*range(0x01, 0x09), *range(0x0E, 0x20)])
_XML_NONCHARACTERS = ("\ufffe".encode(), "\uffff".encode())


def drop_xml_invalid(data: bytes) -> bytes:
    """The UTF-8 page without the characters XML cannot hold (:data:`_XML_INVALID_C0`,
    :data:`_XML_NONCHARACTERS`), as trafilatura's ``remove_control_characters`` drops them from
    text: none of them is visible."""
    kept = data.translate(None, _XML_INVALID_C0)
    if len(kept) != len(data):
        data = kept
    for nonchar in _XML_NONCHARACTERS:
        if nonchar in data:
            data = data.replace(nonchar, b"")
    return data


def utf8_page(html: str) -> bytes:
    """The page as UTF-8 for the parser, after :func:`repair_c1_mojibake` when it has C1 controls,
    without the characters XML cannot hold (:func:`drop_xml_invalid`).

    The same bytes as ``drop_xml_invalid(repair_c1_mojibake(html).encode("utf-8", "surrogatepass"))``:
    the repair only runs when the encoded page shows a C1 control, and it returns the page
    unchanged without one.
    """
    data = html.encode("utf-8", "surrogatepass")
    if _C1_UTF8.search(data) is not None:
        data = repair_c1_mojibake(html).encode("utf-8", "surrogatepass")
    return drop_xml_invalid(data)


@lru_cache(maxsize=1)
def _html_class_lookup() -> Any:
    """lxml.html's element classes, chosen in C.

    ``lxml.html.HTMLParser`` picks the class of every element proxy with a Python callback
    (``HtmlElementClassLookup.lookup``), run thousands of times per page by trafilatura. This
    lookup gives the same ``HtmlElement``/``HtmlComment``/... classes without the callback; only
    the form-specific subclasses (``FormElement``, ``InputElement``, ...) become plain
    ``HtmlElement``, whose extra form properties nothing downstream uses.
    """
    from lxml import etree
    from lxml import html as lxml_html

    return etree.ElementDefaultClassLookup(
        element=lxml_html.HtmlElement,
        comment=lxml_html.HtmlComment,
        pi=lxml_html.HtmlProcessingInstruction,
        entity=lxml_html.HtmlEntity,
    )


#: The locked-down parser's options: no network, no DTD, comments and PIs dropped, input is UTF-8.
#: ``huge_tree`` lifts libxml2's nesting limit from 256 levels to 2,048, so that
#: ``extract.max_depth`` (400) is the cap: at 256, libxml2 stopped parsing and dropped the rest of
#: the page, the article too, without an error, and ``too_deep`` could never be reached. The sizes
#: the option also lifts are capped before parsing (``extract.max_html_bytes``).
PARSER_OPTIONS: dict[str, bool | str] = {
    "remove_comments": True,
    "remove_pis": True,
    "no_network": True,
    "collect_ids": False,
    "default_doctype": False,
    "huge_tree": True,
    "encoding": "utf-8",
}


def parse_html(html: str | bytes) -> object:
    """Parse with a locked-down lxml parser: no network, no DTD loading, no entity expansion.

    ``html`` is the page as text, or as its UTF-8 encoding (see :func:`utf8_page`).
    """
    from lxml import etree
    from lxml import html as lxml_html

    parser = etree.HTMLParser(**PARSER_OPTIONS)
    parser.set_element_class_lookup(_html_class_lookup())
    data = html if isinstance(html, bytes) else html.encode("utf-8", "surrogatepass")
    try:
        return lxml_html.document_fromstring(data, parser=parser)
    except (etree.ParserError, ValueError) as exc:
        raise RejectRecord("unparseable_html", str(exc)[:200]) from exc


#: Elements whose whole subtree is never article text: trafilatura deletes each of them in its
#: tree cleaning (main extractor) and in its ``basic_cleaning`` (the baseline, jusText, and the
#: page-length measure that decides a recall retry); dropping them first left the text unchanged
#: on the 303 eval pages in the fast, full, recall and precision settings. ``nav`` is not here:
#: ``basic_cleaning`` keeps it, and its text counts in that page length. ``aside`` and ``footer``
#: are not here either: the full cascade reads them (:data:`stages.extract.cascade.DETACHED_TAGS`).
INERT_TAGS = ("script", "style", "svg")
_JSON_LD = "application/ld+json"


def drop_inert(tree: Any) -> int:
    """Remove the :data:`INERT_TAGS` subtrees (keeping the text that follows each one), except
    JSON-LD scripts, which trafilatura reads. Returns how many were removed.

    Called once the metadata has been read, so that trafilatura's many passes over the tree
    (pruning XPaths, copies, ``text_content``) do not walk subtrees that it would delete anyway:
    scripts, styles and SVG saved about 15 % of its time on news pages. The text is the same on
    all 303 HTML pages of the eval sets.
    """
    inert = [
        el
        for el in tree.iter(*INERT_TAGS)
        if not (el.tag == "script" and (el.get("type") or "").strip().lower() == _JSON_LD)
    ]
    for el in inert:
        if el.getparent() is not None:
            el.drop_tree()
    return len(inert)


#: trafilatura keeps its own extraction when it has at least this many characters, else it falls
#: back to other algorithms. Upstream uses 250, which sends short news items (one or two
#: paragraphs) to the fallbacks, whose output glues title, byline, captions and body into one
#: line. 25 measured better on WCXB and newsboiler, and neutral on AEB (README, Evaluation).
MIN_EXTRACTED_SIZE = 25


@lru_cache(maxsize=1)
def trafilatura_settings() -> ConfigParser:
    """trafilatura's settings with our :data:`MIN_EXTRACTED_SIZE` (built once per process)."""
    from trafilatura.settings import use_config

    settings: ConfigParser = use_config()
    settings.set("DEFAULT", "MIN_EXTRACTED_SIZE", str(MIN_EXTRACTED_SIZE))
    return settings


#: The drop reason of a meta-refresh redirect stub (:func:`redirect_target`): a page that sends
#: the browser elsewhere at once and holds no article of its own. Valid input without content,
#: so dropped (``_cleanwire/dropped.jsonl.gz``), not rejected.
REDIRECT_STUB = "redirect_stub"
#: The longest refresh delay (seconds) that counts as a redirect. Redirect stubs ("Redirecting...",
#: "You will be redirected in 5 seconds") use 0 to 10 s; a page that reloads itself to stay
#: current (news home pages, live blogs) waits minutes (60 to 900 s, e.g. ``content="300"``),
#: and WCAG asks that any refresh under 20 s be one the reader cannot miss, so 10 s leaves a wide
#: gap on both sides.
REDIRECT_MAX_DELAY = 10
#: The most characters of extracted main text a redirect stub has. A stub's text is a sentence or
#: two ("If you are not redirected automatically, follow this link", "This page has moved to
#: <url>"), well under 200 characters even with a long target URL spelled out; the shortest real
#: news items (a one-paragraph brief) run longer. The delay and target already make the page a
#: redirect: this bound only keeps an article whose markup carries a quick refresh anyway (a
#: ``<noscript>`` refresh to a no-JavaScript variant, a template left over) from being dropped.
REDIRECT_MAX_CHARS = 200
# The content of a refresh (WHATWG "shared declarative refresh steps", loosely): a delay in
# whole seconds (a fraction ignored), then optionally ``;`` or ``,``, ``url=`` and the target,
# possibly quoted.
_REFRESH = re.compile(
    r"""\s*(?P<delay>\d+)[\d.]*\s*(?:[;,]\s*)?(?:url\s*=\s*)?(?P<target>.*)""", re.IGNORECASE | re.DOTALL
)


@dataclass(frozen=True, slots=True)
class Refresh:
    """A page's ``<meta http-equiv="refresh">``: the delay in seconds and the target (None: the
    page reloads itself)."""

    delay: int
    target: str | None


def meta_refresh(tree: Any) -> Refresh | None:
    """The page's first valid ``<meta http-equiv="refresh" content="...">``, or None."""
    for meta in tree.iter("meta"):
        if (meta.get("http-equiv") or "").strip().lower() != "refresh":
            continue
        found = _REFRESH.match(meta.get("content") or "")
        if found is None:
            continue  # no delay: browsers ignore such a refresh
        target = found["target"].strip()
        if len(target) >= 2 and target[0] in "'\"" and target[0] == target[-1]:
            target = target[1:-1].strip()
        elif target[:1] in ("'", '"'):
            target = target[1:].strip()
        return Refresh(min(int(found["delay"][:9]), 10**9), target or None)
    return None


def redirect_target(refresh: Refresh | None, url: str | None) -> str | None:
    """Where a quick refresh (at most :data:`REDIRECT_MAX_DELAY` seconds) sends the reader, when
    that is another page than ``url`` (the page's own address, when known); None otherwise (no
    refresh, a slow one, or one that reloads the page itself)."""
    if refresh is None or refresh.target is None or refresh.delay > REDIRECT_MAX_DELAY:
        return None
    target = urljoin(url, refresh.target) if url else refresh.target
    if url and _url_key(target.split("#", 1)[0]) == _url_key(url.split("#", 1)[0]):
        return None
    return target


def extract_html(html: str, *, url: str | None = None, config: ExtractConfig | None = None) -> Extracted:
    """Extract the main text and metadata of one HTML page. Raises :class:`RejectRecord`, and
    :class:`DropRecord` (:data:`REDIRECT_STUB`) for a meta-refresh redirect stub."""

    cfg = config or ExtractConfig()
    if len(html) > cfg.max_html_bytes:
        raise RejectRecord("too_large", f"{len(html)} chars > extract.max_html_bytes={cfg.max_html_bytes}")
    if not html or html.isspace():
        raise RejectRecord("empty", "no content")
    tree = parse_html(utf8_page(html))
    if deeper_than(tree, cfg.max_depth):
        depth = max_depth(tree)
        raise RejectRecord("too_deep", f"HTML nesting depth {depth} > extract.max_depth={cfg.max_depth}")
    refresh = meta_refresh(tree)
    meta = page_metadata(tree, url, extensive_dates=cfg.extensive_dates)
    redirect = redirect_target(refresh, url or meta.url)  # the page's canonical URL when not given
    drop_inert(tree)
    lists = link_lists(tree) if cfg.drop_orphan_labels else []  # before aside/footer/widgets go
    detached = Detached(tree, DETACHED_TAGS)
    pruned = prune_widgets(tree, load_table(cfg.widget_table)) if cfg.prune_widgets else None
    got = main_text(
        tree,
        url or meta.url,
        cfg,
        fast_settings=trafilatura_settings(),
        detached=detached,
        pruned_chars=pruned.chars if pruned else 0,
    )
    widgets = len(pruned) if pruned else 0
    if refresh is not None and redirect is not None:
        n = len((got.text or "").strip())
        if n <= REDIRECT_MAX_CHARS:
            raise DropRecord(
                REDIRECT_STUB,
                f"meta refresh after {refresh.delay} s to {redirect[:300]}; {n} chars of text "
                f"<= {REDIRECT_MAX_CHARS}",
            )
    if not (got.text or "").strip():
        raise RejectRecord("no_content", "trafilatura found no main text")
    body, orphans = drop_self_links(str(got.text), url), 0
    if lists:
        labels = link_list_labels(lists, (meta.title, meta.author), label_lines(body))
        body, orphans = drop_orphan_labels(body, labels)
    body, title = place_title(body, (meta.title or "").strip() or None, prepend=cfg.prepend_title)
    return Extracted(
        text=body,
        title=title,
        author=meta.author or None,
        date=meta.date or None,
        sitename=meta.sitename or None,
        full_cascade=got.full_cascade,
        widgets_pruned=widgets,
        orphan_labels=orphans,
    )


def _headline_key(text: str) -> str:
    """A comparison key for headlines: NFKC, casefold, straight quotes, single spaces."""
    folded = unicodedata.normalize("NFKC", text).translate(_QUOTES).casefold()
    return _SPACE_RUN.sub(" ", folded).strip(_KEY_STRIP)


def same_headline(line: str, title: str) -> bool:
    """Whether ``line`` is the page's headline ``title`` as shown on the page.

    True when they are equal up to case, quotes and spacing; when the title is the line plus a
    site suffix ("Headline | Site", "Headline - Site"); or when the two differ by a few characters
    (e.g. a name the ``<title>`` shortened).
    """
    a, b = _headline_key(line), _headline_key(title)
    if not a or not b:
        return False
    if a == b:
        return True
    if b.startswith(a) and _SITE_SUFFIX.match(b[len(a) :]):
        return True
    if min(len(a), len(b)) < _FUZZY_MIN_CHARS:
        return False
    # real_quick_ratio() and quick_ratio() are upper bounds of ratio(), computed without
    # matching: a line far longer than the title (a paragraph) is ruled out for free.
    matcher = SequenceMatcher(None, a, b)
    return (
        matcher.real_quick_ratio() >= _FUZZY_RATIO
        and matcher.quick_ratio() >= _FUZZY_RATIO
        and matcher.ratio() >= _FUZZY_RATIO
    )


def place_title(body: str, title: str | None, *, prepend: bool) -> tuple[str, str | None]:
    """Return ``(text, title)`` with the headline as the first line, exactly once.

    trafilatura often starts the body with the page's own ``h1``. When that first line is the
    metadata title (see :func:`same_headline`), it *is* the title line: nothing is prepended and
    the visible headline becomes the title (it carries no site suffix). Otherwise the title is put
    in front of the body (when ``prepend``).
    """
    first = next((ln.strip() for ln in body.splitlines() if ln.strip()), "")
    if title is None:
        return body, None
    if first and same_headline(first, title):
        return body, first
    return (f"{title}\n{body}" if prepend else body), title


def _url_key(url: str) -> str:
    return url.strip().split("://", 1)[-1].removeprefix("www.").rstrip("/")


def drop_self_links(body: str, url: str | None) -> str:
    """Remove lines that are nothing but the page's own URL (permalink/share residue)."""
    if not url or _url_key(url) == "":
        return body
    own = _url_key(url)
    lines = body.splitlines()
    if own not in body:  # a line's key is a substring of the line
        return "\n".join(lines)
    kept = [ln for ln in lines if not (ln.strip() and _url_key(ln) == own)]
    return "\n".join(kept)


def title_of_text(text: str) -> str | None:
    """The first line of a text scrape, when it reads like a headline (short, not a sentence)."""
    for line in text.splitlines():
        line = line.strip()
        if line:
            if len(line) <= 250 and len(line.split()) <= 30 and not _TITLE_END.search(line):
                return line
            return None
    return None


class Extract(DocStage):
    name = "extract"

    def __init__(self, config: ExtractConfig | None = None) -> None:
        super().__init__()
        self.config = config or ExtractConfig()

    def process(self, doc: Doc) -> None:
        if doc.format != "html":
            if not doc.raw.strip():
                raise RejectRecord("empty", "empty or whitespace-only record")
            doc.text = doc.raw
            doc.title = doc.title or title_of_text(doc.raw)
            return
        got = extract_html(doc.raw, url=doc.url, config=self.config)
        doc.text = got.text
        doc.title = doc.title or got.title
        doc.author = doc.author or got.author
        doc.date = doc.date or got.date
        doc.sitename = doc.sitename or got.sitename
        if got.full_cascade:
            doc.flags.append(FULL_CASCADE_FLAG)
        doc.flags.extend([WIDGET_FLAG] * got.widgets_pruned)
        doc.flags.extend([ORPHAN_FLAG] * got.orphan_labels)
