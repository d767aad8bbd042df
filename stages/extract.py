"""extract: HTML to text + metadata with trafilatura; text records pass through.

:func:`extract_html` is the per-document function. It parses once with lxml (no network, no
entity resolution), checks the nesting depth, and hands the parsed tree to trafilatura.
The wall-clock timeout is enforced by the runner's supervised workers, not here.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

from pipeline.config import ExtractConfig
from pipeline.record import Doc
from pipeline.stage import DocStage, RejectRecord


@dataclass(frozen=True, slots=True)
class Extracted:
    text: str
    title: str | None = None
    author: str | None = None
    date: str | None = None
    sitename: str | None = None


_TITLE_END = re.compile(r"[.;,]$")


def max_depth(root: object) -> int:
    """Deepest element nesting below ``root`` (iterative, so deep trees cannot blow the stack)."""
    deepest = 0
    stack: list[tuple[object, int]] = [(root, 1)]
    while stack:
        node, depth = stack.pop()
        deepest = max(deepest, depth)
        stack.extend((child, depth + 1) for child in node)  # type: ignore[attr-defined]
    return deepest


def parse_html(html: str) -> object:
    """Parse with a locked-down lxml parser: no network, no DTD loading, no entity expansion."""
    from lxml import etree
    from lxml import html as lxml_html

    parser = lxml_html.HTMLParser(
        remove_comments=True,
        remove_pis=True,
        no_network=True,
        collect_ids=False,
        default_doctype=False,
        encoding="utf-8",
    )
    data = html.encode("utf-8", "surrogatepass")
    try:
        return lxml_html.document_fromstring(data, parser=parser)
    except (etree.ParserError, ValueError) as exc:
        raise RejectRecord("unparseable_html", str(exc)[:200]) from exc


def extract_html(html: str, *, url: str | None = None, config: ExtractConfig | None = None) -> Extracted:
    """Extract the main text and metadata of one HTML page. Raises :class:`RejectRecord`."""
    import trafilatura

    cfg = config or ExtractConfig()
    if len(html) > cfg.max_html_bytes:
        raise RejectRecord("too_large", f"{len(html)} chars > extract.max_html_bytes={cfg.max_html_bytes}")
    if not html.strip():
        raise RejectRecord("empty", "no content")
    tree = parse_html(html)
    depth = max_depth(tree)
    if depth > cfg.max_depth:
        raise RejectRecord("too_deep", f"HTML nesting depth {depth} > extract.max_depth={cfg.max_depth}")
    result: Any = trafilatura.bare_extraction(
        tree,
        url=url,
        fast=cfg.fast,
        include_comments=cfg.include_comments,
        include_tables=cfg.include_tables,
        favor_precision=cfg.favor_precision,
        favor_recall=cfg.favor_recall,
        with_metadata=True,
    )
    if result is None or not (result.text or "").strip():
        raise RejectRecord("no_content", "trafilatura found no main text")
    body = str(result.text)
    title = (result.title or "").strip() or None
    if cfg.prepend_title and title and not body.lstrip().startswith(title):
        body = f"{title}\n{body}"
    return Extracted(
        text=body,
        title=title,
        author=result.author or None,
        date=result.date or None,
        sitename=result.sitename or None,
    )


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
