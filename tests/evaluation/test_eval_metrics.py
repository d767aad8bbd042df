"""The evaluation metrics: worked examples from the eval README, edge cases, and agreement with
the reference scorers (``../shared/eval/reference``, imported by path) on real predictions."""

from __future__ import annotations

import importlib.util
import json
from pathlib import Path
from types import ModuleType
from typing import Any

import pytest

from pipeline.evaluation import aeb, newsboiler, wcxb
from pipeline.evaluation.data import load_newsboiler, load_page_set
from pipeline.evaluation.langid import LangSentence, score_langid
from pipeline.evaluation.predict import article_body
from pipeline.evaluation.suite import score_system

# --- AEB ----------------------------------------------------------------------------------------


def test_aeb_worked_example_from_the_readme() -> None:
    page = aeb.score_page("a b c d e", "a b c d")
    assert (page.tp, page.fp, page.fn) == (0.5, 0.0, 0.5)
    assert page.precision == 1.0 and page.recall == 0.5 and not page.exact


def test_aeb_tokens_keep_case_and_split_on_punctuation() -> None:
    assert aeb.tokenize("Don't stop, Ünïcode") == ["Don", "t", "stop", "Ünïcode"]
    assert aeb.score_page("The cat", "the cat").precision == 0.0  # case matters
    assert aeb.score_page("one, two!", "one two").exact


@pytest.mark.parametrize(
    ("gold", "pred", "precision", "recall"),
    [
        ("", "", 1.0, 1.0),  # nothing to find, nothing found
        ("a b c d e", "", 0.0, 0.0),  # empty prediction: tp = fp = 0
        ("", "x y z", 0.0, 0.0),  # nothing to find, something predicted: tp = fn = 0
        ("a b", "a b", 1.0, 1.0),  # short texts are one shingle
        ("a b c", "a b", 0.0, 0.0),  # ... so a shorter prediction shares none
    ],
)
def test_aeb_special_cases(gold: str, pred: str, precision: float, recall: float) -> None:
    page = aeb.score_page(gold, pred)
    assert (page.precision, page.recall) == (precision, recall)


def test_aeb_set_means_skip_empty_predictions_and_f1_comes_from_the_means() -> None:
    pages = [aeb.score_page("a b c d e", "a b c d"), aeb.score_page("p q r s", ""), aeb.score_page("x", "x")]
    got = aeb.aggregate(pages)
    assert got.precision == pytest.approx(1.0)  # the empty prediction is left out
    assert got.recall == pytest.approx((0.5 + 0.0 + 1.0) / 3)
    assert got.f1 == pytest.approx(2 * got.precision * got.recall / (got.precision + got.recall))
    assert got.accuracy == pytest.approx(1 / 3)


def test_aeb_bootstrap_is_seeded_and_nonzero_on_varied_pages() -> None:
    pages = [aeb.score_page("a b c d e f g", "a b c d e f g"[: 2 * i + 1]) for i in range(1, 7)]
    one, two = aeb.aggregate(pages, n_bootstrap=200, seed=3), aeb.aggregate(pages, n_bootstrap=200, seed=3)
    assert one == two and one.recall_std > 0
    assert aeb.aggregate(pages).recall_std == 0.0


# --- WCXB ---------------------------------------------------------------------------------------


def test_wcxb_bag_of_words_is_lowercased_multiset_overlap() -> None:
    got = wcxb.score_bag("The cat sat on the mat", "the cat the dog")
    assert got.precision == pytest.approx(3 / 4) and got.recall == pytest.approx(3 / 6)
    assert got.f1 == pytest.approx(2 * 0.75 * 0.5 / 1.25)
    assert wcxb.score_bag("", "") == wcxb.BagScore(1.0, 1.0, 1.0)
    assert wcxb.score_bag("gold", "") == wcxb.BagScore(0.0, 0.0, 0.0)


def test_wcxb_snippets_are_case_insensitive_substrings() -> None:
    hits = wcxb.snippet_hits(
        "Body TEXT here. Share on Facebook", ["body text", "missing"], ["share on facebook"]
    )
    assert hits == wcxb.SnippetHits(1, 2, 1, 1)
    total = wcxb.aggregate_wcxb([wcxb.BagScore(1, 1, 1)], [hits])
    assert (total.with_rate, total.without_rate) == (0.5, 1.0)


# --- newsboiler ---------------------------------------------------------------------------------

DOC = newsboiler.NewsDoc(
    id="d1",
    format="text",
    lang="en",
    raw="",
    gold_text="Headline here\n\nThe mayor said: \u201cDon\u2019t miss it.\u201d Then she left.",
    boilerplate=(
        newsboiler.BoilerItem("promo_block", "DON'T MISS:\nCouncil votes on budget [NEWS]"),
        newsboiler.BoilerItem("ad_marker", "Advertisement"),
    ),
)


def test_newsboiler_item_counts_as_removed_only_when_no_line_survives() -> None:
    clean = 'Headline here\n\nThe mayor said: "Don\'t miss it." Then she left.'
    got = newsboiler.score_doc(DOC, clean)
    assert got.removed == (True, True)  # "Don't miss" also occurs in gold: not held against us
    assert got.exact and got.preservation == 1.0
    tag_only = clean + "\nCouncil votes on budget"
    assert newsboiler.score_doc(DOC, tag_only).removed == (False, True)


def test_newsboiler_lost_sentences_and_exact() -> None:
    got = newsboiler.score_doc(DOC, "Headline here\nAdvertisement")
    assert got.missing == ('The mayor said: "Don\'t miss it."', "Then she left.")
    assert got.preservation == pytest.approx(1 / 3) and not got.exact
    assert got.removed == (True, False)


def test_newsboiler_mojibake_check() -> None:
    gold = "Caf\u00e9 prices rose \u00a32."
    assert newsboiler.mojibake_fixed(gold, gold, newsboiler.norm_text(gold))
    bad = "Caf\u00c3\u00a9 prices rose \u00c2\u00a32."
    assert not newsboiler.mojibake_fixed(gold, bad, newsboiler.norm_text(bad))


def test_newsboiler_set_without_documents_has_no_preservation() -> None:
    empty = newsboiler.score_set([], {})
    assert empty.preservation is None and empty.removal_recall is None and empty.exact is None
    one = newsboiler.score_set([DOC], {"d1": "Headline here"})
    assert one.preservation == pytest.approx(1 / 3)


# --- langid -------------------------------------------------------------------------------------


def test_langid_accuracy_per_language_and_confusions() -> None:
    sents = [LangSentence("a", "da", "da"), LangSentence("b", "da", "da"), LangSentence("c", "no", "no")]
    got = score_langid(sents, ["da", "no", "da"])
    assert got.accuracy == pytest.approx(1 / 3)
    assert [(r.lang, r.n, r.correct) for r in got.per_lang] == [("da", 2, 1), ("no", 1, 0)]
    assert [(c.expected, c.predicted, c.count) for c in got.confusions] == [("da", "no", 1), ("no", "da", 1)]


# --- title handling -----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "title", "body"),
    [
        ("Big  news\n\nFirst para.\n\nSecond.", "Big news", "First para.\n\nSecond."),
        ("Big news\nFirst para.", "big news", "First para."),
        ("First para.\n\nSecond.", "Big news", "First para.\n\nSecond."),
        ("Big news is here.\n\nMore.", "Big news", "Big news is here.\n\nMore."),
        ("Only text", None, "Only text"),
    ],
)
def test_article_body_drops_only_a_leading_title_line(text: str, title: str | None, body: str) -> None:
    assert article_body(text, title) == body


# --- agreement with the reference scorers on the real sets --------------------------------------


def _reference(eval_dir: Path, name: str) -> ModuleType:
    path = eval_dir / "reference" / f"{name}.py"
    spec = importlib.util.spec_from_file_location(f"ref_{name}", path)
    if spec is None or spec.loader is None or not path.is_file():
        pytest.skip(f"reference scorer {name} not present")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


# README rows: (set, baseline) -> (F1, precision, recall, accuracy)
README_AEB_ROWS = {
    ("aeb", "trafilatura"): (0.964, 0.952, 0.975, 0.317),
    ("aeb", "readability"): (0.916, 0.914, 0.917, 0.325),
    ("aeb", "justext"): (0.789, 0.856, 0.731, 0.092),
    ("aeb", "html-text"): (0.672, 0.507, 0.994, 0.000),
    ("wcxb", "trafilatura"): (0.921, 0.916, 0.927, 0.087),
}


@pytest.mark.eval
@pytest.mark.parametrize(("set_name", "baseline"), sorted(README_AEB_ROWS))
def test_aeb_metric_reproduces_the_readme_baseline_rows(eval_dir: Path, set_name: str, baseline: str) -> None:
    page_set = load_page_set(eval_dir, set_name)
    (base,) = [b for b in page_set.baselines if b.name == baseline]
    got = score_system(page_set, base.name, base.version, base.bodies, n_bootstrap=0).aeb
    rounded = tuple(round(x, 3) for x in (got.f1, got.precision, got.recall, got.accuracy))
    assert rounded == README_AEB_ROWS[set_name, baseline]


@pytest.mark.eval
@pytest.mark.parametrize("set_name", ["aeb", "wcxb"])
def test_aeb_metric_equals_the_reference_scorer_including_bootstrap(eval_dir: Path, set_name: str) -> None:
    import random

    ref = _reference(eval_dir, "aeb_score")
    gold = json.loads((eval_dir / set_name / "ground-truth.json").read_text(encoding="utf-8"))
    page_set = load_page_set(eval_dir, set_name)
    for base in page_set.baselines:
        pred = {k: {"articleBody": base.bodies.get(k, "")} for k in gold}
        want: dict[str, Any] = ref.evaluate(gold, pred, 50, random.Random(7))
        got = aeb.aggregate(
            [aeb.score_page(g["articleBody"], pred[k]["articleBody"]) for k, g in gold.items()],
            n_bootstrap=50,
            seed=7,
        )
        for key in (
            "f1",
            "precision",
            "recall",
            "accuracy",
            "f1_std",
            "precision_std",
            "recall_std",
            "accuracy_std",
        ):
            assert getattr(got, key) == pytest.approx(want[key], abs=1e-12), (base.name, key)


@pytest.mark.eval
def test_wcxb_metric_reproduces_the_readme_trafilatura_numbers(eval_dir: Path) -> None:
    page_set = load_page_set(eval_dir, "wcxb")
    (base,) = [b for b in page_set.baselines if b.name == "trafilatura"]
    got = score_system(page_set, base.name, base.version, base.bodies, n_bootstrap=0).wcxb
    assert got is not None
    assert (round(got.precision, 3), round(got.recall, 3), round(got.f1, 3)) == (0.934, 0.943, 0.924)
    assert got.with_rate > 0.8 and got.without_rate < 0.3  # snippets are read and matched


@pytest.mark.eval
@pytest.mark.parametrize("kind", ["identity", "naive", "oracle"])
def test_newsboiler_metric_equals_the_reference_scorer(
    eval_dir: Path, kind: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    from pipeline.evaluation.render import render_newsboiler
    from pipeline.evaluation.suite import NewsboilerResult

    ref = _reference(eval_dir, "newsboiler_score")
    set_path = eval_dir / "newsboiler" / "dev.jsonl"
    pred_path = tmp_path / "pred.jsonl"
    ref.main([str(set_path), "--baseline", kind, "--write-pred", str(pred_path)])
    want = capsys.readouterr().out.splitlines()
    preds = {r["id"]: r["text"] for r in map(json.loads, pred_path.read_text(encoding="utf-8").splitlines())}
    docs = tuple(load_newsboiler(eval_dir))
    score = newsboiler.score_set(docs, preds)
    ours = render_newsboiler(NewsboilerResult(docs, preds, score)).splitlines()[1:]  # drop our heading
    assert ours == want[1:]  # same tables, rows and overall line, character for character
    if kind == "identity":
        text_docs = [d for d in docs if d.format == "text"]
        sub = newsboiler.score_set(text_docs, preds)
        assert (
            round(sub.removal_recall or 0, 3),
            round(sub.preservation or 0, 3),
            round(sub.exact or 0, 3),
        ) == (
            0.0,
            0.852,
            0.103,
        )


@pytest.mark.eval
@pytest.mark.slow
def test_aeb_metric_reproduces_the_local_trafilatura_2_3_1_run(eval_dir: Path) -> None:
    """The eval README: trafilatura 2.3.1 with upstream's recipe scores 0.964 / 0.953 / 0.976 / 0.317."""
    import trafilatura

    if trafilatura.__version__ != "2.3.1":
        pytest.skip(f"the README's local numbers are for trafilatura 2.3.1, not {trafilatura.__version__}")
    page_set = load_page_set(eval_dir, "aeb")
    bodies = {p.id: trafilatura.extract(p.html(), include_comments=False) or "" for p in page_set.pages}
    got = score_system(page_set, "trafilatura", "2.3.1", bodies, n_bootstrap=0).aeb
    rounded = tuple(round(x, 3) for x in (got.f1, got.precision, got.recall, got.accuracy))
    assert rounded == (0.964, 0.953, 0.976, 0.317)
