"""extract: a page of several megabytes, most of it inline script data (a shop or app page), is
extracted with the default caps, as plain trafilatura extracts it; only a page over the cap is
rejected."""

from __future__ import annotations

import json

import pytest

import pipeline  # noqa: F401 - import order: pipeline before stages
from pipeline.core.config import ExtractConfig
from pipeline.core.stage import RejectRecord
from stages.extract.extractor import extract_html

STORY = [
    "The council approved the new cycle lanes on Tuesday after a two-hour debate in the town hall.",
    "Work on the first section along the river will start in March and should take six months.",
    "Shop owners on the high street asked for the loading bays to stay open in the mornings.",
]


def app_page(megabytes: float) -> str:
    """An article page whose ``__NEXT_DATA__`` script holds ``megabytes`` MB of product JSON."""
    items = [{"sku": f"SKU-{i:07d}", "price": i % 500, "tags": ["a", "b", "c"]} for i in range(80_000)]
    blob = json.dumps({"props": {"items": items}})
    blob = (blob * (int(megabytes * 1_000_000) // len(blob) + 1))[: int(megabytes * 1_000_000)]
    body = "".join(f"<p>{p}</p>" for p in STORY)
    return (
        "<!doctype html><html><head><title>Cycle lanes approved | Gazette</title></head><body>"
        f"<article><h1>Cycle lanes approved</h1>{body}</article>"
        f'<script id="__NEXT_DATA__" type="application/json">{blob}</script></body></html>'
    )


def test_a_page_of_six_megabytes_is_extracted_by_default() -> None:
    html = app_page(6)
    assert len(html) > 6_000_000
    got = extract_html(html)
    for para in STORY:
        assert para in got.text
    assert "SKU-" not in got.text


def test_a_page_over_the_cap_is_rejected_too_large() -> None:
    with pytest.raises(RejectRecord) as big:
        extract_html(app_page(1.2), config=ExtractConfig(max_html_bytes=1_000_000))
    assert big.value.reason == "too_large"
    assert big.value.detail is not None and "extract.max_html_bytes=1000000" in big.value.detail
