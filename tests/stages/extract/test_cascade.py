"""extract's cascade (``stages.extract.cascade``): the doubt rule, and trafilatura's own outputs.

The fixture pages are authored (CC0, invented town and shop, ``fixtures/extract/``):

* ``service_teaser.html``: a short ``<article>`` teaser (92 characters) and the service text in
  plain ``<div>`` s beside it. cleanwire's fast pass keeps the teaser (7 % of the visible text):
  the full cascade (readability) finds the service text. The fast main extraction is under the
  slow path's minimum size, so the slow path runs the whole cascade again.
* ``service_long_intro.html``: the same with an 840-character teaser (16 % of the page): the slow
  path reuses the fast pass's main extraction and adds only the comparison and the rescues.
* ``product_aside.html``: a product page whose description is an ``<aside>`` (detached for the
  fast path, put back for the slow one).
* ``short_story.html``: a one-paragraph news story in an ``<article>`` with a byline, a caption
  and a sign-up box: trafilatura's full cascade (baseline rescue) gives the whole ``<article>``
  on one line, so the slow path takes the full cascade with cleanwire's minimum size instead.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
import trafilatura
from click.testing import CliRunner
from lxml import etree

import pipeline  # noqa: F401 - import order: pipeline before stages
from pipeline.cli import cli
from pipeline.core.config import ExtractConfig
from pipeline.core.record import Doc
from pipeline.reporting.explain import explain_document
from stages.extract import cascade
from stages.extract.cascade import DETACHED_TAGS, Detached, main_text
from stages.extract.extractor import (
    FULL_CASCADE_FLAG,
    Extract,
    drop_inert,
    extract_html,
    parse_html,
    trafilatura_settings,
    utf8_page,
)
from tests.stages.extract.test_extract import PARAS, page

FIXTURES = Path(__file__).resolve().parents[3] / "fixtures" / "extract"
PAGES = ("service_teaser.html", "service_long_intro.html", "product_aside.html", "author_fallback.html")
URL = "https://eskerby.example/housing/roof-grant"


def html_of(name: str) -> str:
    return page() if name == "article" else (FIXTURES / name).read_text(encoding="utf-8")


def tree_of(name: str) -> Any:
    tree = parse_html(utf8_page(html_of(name)))
    drop_inert(tree)
    return tree


def bare(tree: Any, *, fast: bool) -> str | None:
    settings = trafilatura_settings() if fast else cascade.slow_settings()
    doc = trafilatura.bare_extraction(tree, url=URL, fast=fast, include_comments=False, config=settings)
    text = getattr(doc, "text", None)
    return text if isinstance(text, str) else None


def run(name: str, share_below: float, **kw: Any) -> cascade.MainText:
    tree = tree_of(name)
    cfg = ExtractConfig(slow_share_below=share_below, **kw)
    return main_text(
        tree, URL, cfg, fast_settings=trafilatura_settings(), detached=Detached(tree, DETACHED_TAGS)
    )


@pytest.mark.parametrize("name", [*PAGES, "article"])
def test_detaching_is_drop_tree_and_restoring_gives_the_tree_back(name: str) -> None:
    tree, dropped = tree_of(name), tree_of(name)
    before = etree.tostring(tree)
    detached = Detached(tree, DETACHED_TAGS)
    for el in list(dropped.iter(*DETACHED_TAGS)):
        el.drop_tree()
    assert etree.tostring(tree) == etree.tostring(dropped)
    assert next(tree.iter(*DETACHED_TAGS), None) is None
    detached.restore()
    detached.restore()  # a second call does nothing
    assert etree.tostring(tree) == before


def test_the_size_probe_notes_each_comparison() -> None:
    seen: list[tuple[int, int]] = []
    probe = cascade._SizeProbe(25, seen)
    # other < probe, as trafilatura writes its tests: the probe's reflected __gt__ notes ``other``
    assert 10 < probe and not (30 < probe) and 70 < probe * 3 and probe == 25 and probe * 2 == 50  # noqa: SIM300
    assert seen == [(10, 1), (30, 1), (70, 3)]


@pytest.mark.parametrize("name", [*PAGES, "article"])
def test_both_paths_are_trafilaturas_own_outputs_byte_for_byte(name: str) -> None:
    """The fast path is ``bare_extraction`` in fast mode (cleanwire's minimum size) on the tree
    without aside and footer; the slow path is ``bare_extraction`` in full mode (trafilatura's
    default settings) on the whole tree, whether it reuses the fast pass or not."""
    assert cascade.sequence_fingerprint() == cascade.CHECKED_SEQUENCE  # else the replay is not tested
    detached = tree_of(name)
    Detached(detached, DETACHED_TAGS)
    fast, slow = run(name, 0.0), run(name, 1.0)
    assert not fast.full_cascade and fast.text == bare(detached, fast=True)
    assert slow.full_cascade and slow.text == bare(tree_of(name), fast=False)


def test_the_slow_path_reuses_the_fast_main_extraction_only_when_it_is_the_same(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    again: list[str] = []
    real = cascade._cascade

    def spy(tree: Any, url: str | None, opts: Any) -> str | None:
        again.append("cascade")
        return real(tree, url, opts)

    monkeypatch.setattr(cascade, "_cascade", spy)
    assert run("service_teaser.html", 1.0).full_cascade and again == ["cascade"]  # 92 chars < 250
    again.clear()
    assert run("service_long_intro.html", 1.0).full_cascade and again == []  # reused


def test_a_page_whose_fast_text_is_a_small_share_takes_the_full_cascade_and_gets_its_body() -> None:
    for name in ("service_teaser.html", "service_long_intro.html"):
        got = extract_html(html_of(name), url=URL)
        assert got.full_cascade, name
        assert "The grant helps with dangerous conditions such as rotten joists" in got.text
        assert "Questions about the grant can be put to the housing office" in got.text
        fast = run(name, 0.0)
        assert "rotten joists" not in (fast.text or "")
    assert run("service_teaser.html", 0.35).share == pytest.approx(0.074, abs=0.005)


def test_an_article_page_stays_on_the_fast_path() -> None:
    got = run("article", 0.35)
    assert not got.full_cascade and got.share is not None and got.share > 0.9
    assert extract_html(page()).full_cascade is False
    assert all(p in (got.text or "") for p in PARAS)


def test_fast_off_is_the_full_cascade_on_every_page() -> None:
    for name in ("article", "service_teaser.html"):
        got = run(name, 0.35, fast=False)
        assert got.full_cascade and got.text == bare(tree_of(name), fast=False)


@pytest.mark.parametrize("share", [0.0, 0.35, 1.0])
def test_another_trafilatura_version_takes_the_same_decision_in_two_passes(
    monkeypatch: pytest.MonkeyPatch, share: float
) -> None:
    expected = {name: run(name, share) for name in (*PAGES, "article")}
    monkeypatch.setattr(cascade, "sequence_fingerprint", lambda: "another trafilatura")
    calls: list[bool] = []
    real = cascade._bare

    def spy(tree: Any, opts: Any) -> str | None:
        calls.append(opts.fast)
        return real(tree, opts)

    monkeypatch.setattr(cascade, "_bare", spy)
    for name, want in expected.items():
        calls.clear()
        got = run(name, share)
        assert got == want, name
        assert calls == ([True, False] if want.full_cascade else [True])


def test_other_trafilatura_settings_take_the_two_pass_route(monkeypatch: pytest.MonkeyPatch) -> None:
    calls: list[bool] = []
    real = cascade._bare

    def spy(tree: Any, opts: Any) -> str | None:
        calls.append(opts.fast)
        return real(tree, opts)

    monkeypatch.setattr(cascade, "_bare", spy)
    got = run("service_teaser.html", 0.35, favor_precision=True)
    assert calls[0] is True and got.full_cascade == (calls == [True, False])


def test_the_stage_flags_a_page_that_took_the_full_cascade() -> None:
    slow = Doc(id="s", source="t", raw=html_of("service_teaser.html"), format="html", url=URL)
    fast = Doc(id="f", source="t", raw=page(), format="html")
    Extract().process_docs([slow, fast])
    assert slow.ok and fast.ok
    assert slow.flags == [FULL_CASCADE_FLAG] and fast.flags == []


def test_the_manifest_counts_the_flag_and_explain_shows_the_path(tmp_path: Path) -> None:
    rows = [
        {"id": "service", "html": html_of("service_teaser.html"), "url": URL},
        {"id": "article", "html": page()},
    ]
    (tmp_path / "in.jsonl").write_text("".join(json.dumps(r) + "\n" for r in rows), encoding="utf-8")
    out = tmp_path / "out"
    res = CliRunner().invoke(
        cli, ["run", str(tmp_path / "in.jsonl"), "-o", str(out), "--workers", "1", "--no-dedup", "--json"]
    )
    assert res.exit_code == 0, res.output
    assert json.loads(res.output)["counts"]["flags"] == {FULL_CASCADE_FLAG: 1}
    steps = explain_document(html_of("service_teaser.html"), fmt="html", url=URL)
    assert steps[0].stage == "extract" and steps[0].notes["flags"] == [FULL_CASCADE_FLAG]
    assert all("flags" not in s.notes for s in steps[1:])
    assert "flags" not in explain_document(page(), fmt="html")[0].notes


def test_a_one_line_blob_from_the_slow_path_gives_way_to_the_full_cascade_with_the_small_minimum() -> None:
    blob = bare(tree_of("short_story.html"), fast=False)
    assert blob is not None and cascade.is_blob(blob) and "Sign up" in blob
    got = run("short_story.html", 0.35)
    assert got.full_cascade and got.text is not None and not cascade.is_blob(got.text)
    assert "harbour ferry between Eskerby and Holm" in got.text and "Sign up" not in got.text
    assert not cascade.is_blob("x" * 249) and not cascade.is_blob("x" * 300 + "\n" + "y")
    assert cascade.is_blob(" " + "x" * 250 + "\n")


def test_a_page_trafilaturas_steps_raise_on_has_no_text_as_bare_extraction_says() -> None:
    html = "<P>\x1f"  # found by hypothesis: trafilatura's baseline cannot store the control character
    assert trafilatura.bare_extraction(html) is None
    # parsed as it is: utf8_page drops the control character (extract_html's pages never hold one)
    got = main_text(parse_html(html), URL, ExtractConfig(), fast_settings=trafilatura_settings())
    assert got.text is None and not got.full_cascade
