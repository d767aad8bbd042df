"""extract: HTML to text and metadata with trafilatura (:mod:`.extractor`), with the page
metadata read from the same parsed tree (:mod:`.pagemeta`). Text records pass through.

May import: ``pipeline.core`` only (and trafilatura, lxml).
"""

from stages.extract.extractor import Extract, extract_html, same_headline

__all__ = ["Extract", "extract_html", "same_headline"]
