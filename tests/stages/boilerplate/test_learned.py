"""The learned model in the boilerplate stage: what it removes, how the ledger records it, and the
settings, budget and config hash around it."""

from __future__ import annotations

import dataclasses
import json
import re
from pathlib import Path

import numpy as np
import pyarrow.parquet as pq
import pytest
from click.testing import CliRunner
from hypothesis import given, settings
from hypothesis import strategies as st

import pipeline
from pipeline.cli import cli
from pipeline.cli.options import overrides
from pipeline.core.config import BoilerplateConfig, Config
from pipeline.core.errors import ConfigError
from pipeline.core.record import Doc, Removal, docs_from_batch, docs_to_batch
from pipeline.core.schema import REMOVAL_TYPE
from stages.boilerplate.engine import Found, find_removals
from stages.boilerplate.learned import (
    BUILTIN_MODEL,
    ISOLATED_MIN_P,
    Pending,
    Thresholds,
    WordCounts,
    _mostly_lower,
    above_title,
    content_words,
    ends_sentence,
    gates,
    grown,
    has_words,
    heading_like,
    latin_script,
    load_model,
    model_rule,
    off_topic,
    on_topic,
    pending,
    removals,
    run_bests,
    runs,
    taken_units,
    touched,
)
from stages.boilerplate.model import LineModel
from stages.boilerplate.siterules import SiteLine, SiteRules
from stages.boilerplate.stage import Boilerplate
from stages.boilerplate.units import text_units

#: A call to action in a phrasing of our own: no rule matches it, and it is in no training set.
CTA = "Love local news? Get it delivered every morning, free. Join now »"
ARTICLE = f"""Lifeboat volunteers rescue two walkers cut off by the tide

Two walkers were rescued from the rocks below Kestrel Head on Sunday afternoon after the incoming tide cut them off from the beach.

Volunteers from the Kestrel Bay station launched the inshore boat at 3.40pm and reached the pair within twenty minutes, the crew said.

{CTA}

Both walkers were brought ashore safely and were checked over by paramedics, who said they were cold but unhurt.

Source: Read Full Article"""
PARAGRAPHS = [b for b in ARTICLE.split("\n\n") if b not in (CTA, "Source: Read Full Article")]


def rules_only() -> Config:
    return Config().with_overrides({"boilerplate.model": "none"})


def test_the_model_removes_an_unseen_call_to_action_and_the_ledger_says_so() -> None:
    assert CTA in pipeline.clean_text(ARTICLE, config=rules_only()).text  # no rule takes it
    result = pipeline.clean_text(ARTICLE)
    assert result.text.split("\n\n") == PARAGRAPHS
    by_model, by_rule = result.removed  # in text order
    assert by_rule.rule == "source.read_full_article" and by_rule.score is None
    model = load_model("builtin")
    assert model is not None
    assert by_model.rule == f"model:{model.version}" and by_model.snippet == CTA
    assert ARTICLE[by_model.start : by_model.end] == CTA
    assert by_model.score is not None and 0.85 <= by_model.score <= 1.0
    named = model.category_head.categories if model.category_head else ("model",)
    assert by_model.category in named


def test_a_notice_glued_onto_a_paragraph_goes_and_the_paragraph_stays() -> None:
    """A scrape that lost the break between a paragraph and a notice glues them ("said.You can
    ..."): the notice is a unit of its own, which the model can take without the sentence."""
    notice = "Thanks for signing up! Check your inbox to confirm your subscription."
    glued = ARTICLE.replace("the crew said.", "the crew said." + notice).replace(f"{CTA}\n\n", "")
    assert notice in pipeline.clean_text(glued, config=rules_only()).text  # no rule takes it
    result = pipeline.clean_text(glued)
    assert (
        notice not in result.text and "reached the pair within twenty minutes, the crew said." in result.text
    )
    (taken,) = [r for r in result.removed if r.snippet == notice]
    assert taken.rule.startswith("model:") and glued[taken.start : taken.end] == notice


def test_threshold_and_none_are_honoured() -> None:
    result = pipeline.clean_text(ARTICLE)
    score = next(r.score for r in result.removed if r.score is not None)
    above = Config().with_overrides({"boilerplate.model_threshold": min(1.0, score + 0.001)})
    assert CTA in pipeline.clean_text(ARTICLE, config=above).text
    at = Config().with_overrides({"boilerplate.model_threshold": score - 0.00005})  # the ledger rounds to 4
    assert CTA not in pipeline.clean_text(ARTICLE, config=at).text
    assert all(r.score is None for r in pipeline.clean_text(ARTICLE, config=rules_only()).removed)


def test_an_html_extraction_has_its_own_threshold() -> None:
    def cleaned(fmt: str, config: Config) -> Doc:
        doc = Doc(id="a", source="s", raw=ARTICLE, text=ARTICLE, format=fmt)
        Boilerplate(config.boilerplate).process_docs([doc])
        return doc

    model = load_model("builtin")
    assert model is not None

    def score(html: bool) -> float:
        units = text_units(ARTICLE, html=html)
        p = model.scores_many([([u.text for u in units], html)], [np.ones(len(units), bool)])[0]
        return float(p[next(i for i, u in enumerate(units) if u.text == CTA)])

    html, text = score(True), score(False)
    assert Config().boilerplate.threshold_for(True) == Config().boilerplate.threshold_for(False) == 0.9
    lenient_html = Config().with_overrides(
        {"boilerplate.model_threshold": min(1.0, text + 0.001), "boilerplate.model_threshold_html": html}
    )
    assert CTA not in cleaned("html", lenient_html).text and CTA in cleaned("text", lenient_html).text
    strict_html = Config().with_overrides(
        {"boilerplate.model_threshold": text, "boilerplate.model_threshold_html": min(1.0, html + 0.001)}
    )
    assert CTA in cleaned("html", strict_html).text and CTA not in cleaned("text", strict_html).text
    # the command line's --model-threshold is one threshold for both
    assert overrides({"model_threshold": 0.9}) == {
        "boilerplate.model_threshold": 0.9,
        "boilerplate.model_threshold_html": 0.9,
    }


def test_the_score_survives_arrow_and_parquet(tmp_path: Path) -> None:
    doc = Doc(id="a", source="s", raw=ARTICLE, text=ARTICLE)
    Boilerplate().process_docs([doc])
    batch = docs_to_batch([doc])
    assert "score" in [f.name for f in REMOVAL_TYPE]
    assert docs_from_batch(batch)[0].removed == doc.removed
    dump = tmp_path / "in"
    dump.mkdir()
    (dump / "a.txt").write_text(ARTICLE, encoding="utf-8")
    res = CliRunner().invoke(cli, ["run", str(dump), "-o", str(tmp_path / "out"), "-w", "1"])
    assert res.exit_code == 0, res.output
    (row,) = pq.read_table(tmp_path / "out" / "part-00000.parquet").to_pylist()
    scores = {r["rule"].split(":")[0]: r["score"] for r in row["removed"]}
    assert scores["source.read_full_article"] is None and scores["model"] >= 0.85


def test_a_batch_decides_as_one_document_at_a_time() -> None:
    texts = [ARTICLE, ARTICLE.replace("Sunday", "Monday"), "Short note.\n\n" + CTA, "Story\nBody."]
    one = [Doc(id=str(i), source="s", raw=t, text=t) for i, t in enumerate(texts)]
    many = [dataclasses.replace(d, removed=[], flags=[]) for d in one]
    stage = Boilerplate()
    for d in one:
        stage.process_docs([d])
    stage.process_docs(many)
    assert [(d.text, d.removed) for d in one] == [(d.text, d.removed) for d in many]


def test_the_model_alone_never_empties_a_short_document() -> None:
    """The toy 'Story / Body.' scores like a menu; the model may not take more than
    max_removed_share of a document, however short, so it takes nothing there."""
    doc = Doc(id="a", source="s", raw="Story\nBody.", text="Story\nBody.")
    stage = Boilerplate()
    model = stage.model
    assert model is not None and (model.scores(["Story", "Body."]) >= 0.85).all()
    stage.process_docs([doc])
    assert doc.text == "Story\nBody." and doc.removed == []


def test_model_removals_count_against_the_budget() -> None:
    promo = (
        "DON'T MISS:\nCouncil confirms dates for new bin collection rounds\n"
        "Roadworks to cause months of delays on the ring road\n"
        "Huge queues as new discount store opens on the high street"
    )
    text = "\n\n".join([PARAGRAPHS[1], CTA, promo])  # 109 + 54 + 146 non-blank characters

    def run(model: str) -> Doc:
        doc = Doc(id="a", source="s", raw=text, text=text)
        cfg = BoilerplateConfig(max_removed_share=0.5, budget_min_chars=100, model=model)
        Boilerplate(cfg).process_docs([doc])
        return doc

    rules_alone = run("none")  # the promo list is under half of the text: cleaned
    assert rules_alone.flags == [] and [r.rule for r in rules_alone.removed] == ["promo.header.block"]
    both = run("builtin")  # with the call to action it is over half: kept whole and flagged
    assert both.flags == ["removal_budget_exceeded"] and both.text == text and both.removed == []
    assert both.detail is not None and both.detail.startswith("rules and the model would remove")


# --- the gates ------------------------------------------------------------------------------------------

CHROME = ["Accept all", "Open menu", "Sign in"]
TITLE = "New footbridge opens over the river"  # a headline of our own the raw model takes as a teaser
PROSE = (
    "Want the latest updates? Residents can sign up for free text alerts about the closures on the "
    "council website, and the harbour office will also post notices."
)
SCORE_LINE = "Valdemora 2 - Robledal 1"
GATED = (
    "\n".join([*CHROME, TITLE, "By Hannah Coombes"])
    + "\n\n"
    + "\n\n".join(
        [PARAGRAPHS[1], PARAGRAPHS[2], SCORE_LINE, PARAGRAPHS[3], PROSE, CTA, "The slipway stays open."]
    )
)


def raw_scores(text: str) -> dict[str, float]:
    model = load_model("builtin")
    assert model is not None
    units = text_units(text, html=False)
    return {u.text: float(q) for u, q in zip(units, model.scores([u.text for u in units]), strict=True)}


def test_the_gates_keep_what_the_raw_model_would_take_and_chrome_still_goes() -> None:
    raw = raw_scores(GATED)
    # the situation the gates are for: the model alone would take these (lm-3 took PROSE too, at
    # 0.85 and above; lm-4 scores it 0.68: the prose gate's own test is test_protected_units_are_not_scored)
    threshold = Config().boilerplate.model_threshold
    assert raw[TITLE] >= threshold and raw[SCORE_LINE] >= threshold
    result = pipeline.clean_text(GATED)
    blocks = result.text.split("\n\n")
    assert blocks[0] == TITLE  # the title after the menu and log-in lines
    assert PROSE in blocks  # twenty words ending like a sentence: body text, not scored
    assert CTA not in result.text  # a call to action of eleven words next to prose still goes
    assert not any(line in result.text for line in CHROME)  # the page chrome still goes
    gone = {r.snippet for r in result.removed}
    assert CTA in gone and "Sign in" in " ".join(gone)


def test_a_unit_alone_below_the_isolated_gate_goes_only_when_it_is_off_topic() -> None:
    # nothing is removed either side of the score line, and the model is not sure enough of it
    assert 0.85 <= raw_scores(GATED)[SCORE_LINE] < ISOLATED_MIN_P
    # in an article that never names either team it is not the article's: it goes, alone
    result = pipeline.clean_text(GATED)
    assert SCORE_LINE not in result.text
    assert [r.snippet for r in result.removed if SCORE_LINE in r.snippet] == [SCORE_LINE]
    # where the article talks about the match, the same line is kept
    about = PARAGRAPHS[2] + " The crew had been watching Valdemora play Robledal at the harbour ground."
    match = GATED.replace(PARAGRAPHS[2], about)
    assert 0.85 <= raw_scores(match)[SCORE_LINE] < ISOLATED_MIN_P
    assert SCORE_LINE in pipeline.clean_text(match).text.split("\n\n")


#: A consent banner's sentence of our own that no rule takes and the built-in model doubts
BANNER = "Your privacy matters to us, so we only measure visits with your permission."
CHROME_LINES = ["Accept all", "Home", "News", "Sport", "Weather", "Sign in"]


def test_the_rest_of_the_chrome_above_a_title_goes_once_most_of_it_is_gone() -> None:
    text = "\n".join([BANNER, *CHROME_LINES]) + "\n\n" + "\n\n".join(PARAGRAPHS)
    assert raw_scores(text)[BANNER] < Config().boilerplate.model_threshold
    result = pipeline.clean_text(text)
    assert result.text.split("\n\n") == PARAGRAPHS
    [first] = [r for r in result.removed if BANNER in r.snippet]
    assert first.rule.startswith("model:") and first.snippet.startswith(BANNER)
    # above a title with no chrome around it, the model judges it alone, and doubts it
    assert BANNER in pipeline.clean_text(BANNER + "\n\n" + "\n\n".join(PARAGRAPHS)).text


def _above(
    taken: list[int],
    scored: list[int] | None = None,
    texts: dict[int, str] | None = None,
    ruled: tuple[str, ...] = (),
    kept: list[int] | None = None,
) -> list[int]:
    """The units :func:`above_title` takes over a title at index ``len(taken)``, given the
    model's removals ``taken`` (``texts``: the units above it that are not "Line <i>";
    ``scored``: which of them the model reads, default all; ``ruled``: snippets a rule removed;
    ``kept``: which of them the gates keep, default: those the model does not read)."""
    above = [(texts or {}).get(i, f"Line {i}") for i in range(len(taken))]
    text = "\n\n".join([*above, PARAGRAPHS[0], *PARAGRAPHS[1:3]])
    units = text_units(text, html=False)
    rest = [0] * (len(units) - len(taken))
    ok = np.array([1] * len(taken) if scored is None else scored, dtype=bool)
    found = sorted((_rule_removal(text, snippet) for snippet in ruled), key=lambda f: f[0].start)
    scored_all = np.concatenate([ok, np.array(rest, dtype=bool)])
    gated = ~scored_all if kept is None else np.array(kept + [1] * len(rest), dtype=bool)
    todo = Pending(text, False, found, units, scored_all, kept=gated, title=len(taken))
    return np.flatnonzero(above_title(todo, np.array(taken + rest, dtype=bool))).tolist()


def test_above_title_takes_the_units_above_the_last_removed_one() -> None:
    assert _above([0, 1, 1, 1]) == [0]
    assert _above([0, 1, 1]) == [0]  # two of three
    assert _above([1, 0, 1, 1]) == [1]
    assert _above([0, 1, 1, 1], scored=[0, 1, 1, 1]) == []  # a unit the gates keep stays
    # the units between the chrome and the title stay (the story's first sentences when the
    # title found is a video's)
    assert _above([1, 1, 1, 0]) == []
    assert _above([1, 1, 0, 0, 1, 1, 1, 1, 0]) == [2, 3]
    # less than two thirds of the units above the title removed: nothing more
    assert _above([0, 1, 0, 1]) == []
    assert _above([0, 0, 1, 1, 1]) == []  # three of five
    # two sentences left above the last removed unit, the gates' body prose among them: the
    # story starts above the title found (a teaser's under a label)
    first, second = PARAGRAPHS[1], "Both were unhurt."
    assert _above([0, 1, 1, 1, 1, 1], texts={0: first}) == [0]
    assert _above([0, 1, 0, 1, 1, 1, 1, 1, 1], texts={0: first, 2: second}) == []
    kept = [0, 1, 1, 1, 1, 1, 1, 1, 1]
    assert _above([0, 0, 1, 1, 1, 1, 1, 1, 1], scored=kept, texts={0: first, 1: second}) == []
    assert _above([0, 0, 1, 1, 1, 1, 1, 1, 1], scored=kept, texts={1: second}) == [1]


def test_above_title_takes_a_unit_too_long_for_the_model_that_the_gates_leave_to_it() -> None:
    banner = "We and our partners use technologies to personalise content. " * 4  # over 200 characters
    assert _above([1, 0, 1, 1], scored=[1, 0, 1, 1], kept=[0, 0, 0, 0], texts={1: banner}) == [1]
    assert _above([1, 0, 1, 1], scored=[1, 0, 1, 1], kept=[0, 1, 0, 0], texts={1: banner}) == []


def test_above_title_counts_a_rule_removal_that_covers_a_unit_whole() -> None:
    glued = "Line 3 and the story goes on"
    assert _above([0, 1, 1, 0], ruled=("Line 3",)) == [0]
    # a paragraph a notice is glued onto is not removed
    assert _above([0, 1, 1, 0], texts={3: glued}, ruled=("Line 3",)) == []


def test_off_topic_compares_content_words_with_the_rest_of_the_document() -> None:
    document = content_words("Watch now\n\nThe harbour wall was repaired. Watch the harbour.")
    assert off_topic("Watch now", content_words("Watch now\n\nThe wall was repaired."))
    assert not off_topic("Watch now", document)  # "watch" occurs again
    assert not off_topic("Harbour", document)
    assert not off_topic("» 1 2 3", document)  # no content word: nothing to judge by
    assert off_topic("Watch now", WordCounts("Watch now\n\nThe wall was repaired."))
    assert not off_topic(
        "Watch now", WordCounts("Watch now\n\nThe harbour wall was repaired. Watch the harbour.")
    )


@settings(max_examples=300, deadline=None)
@given(
    st.lists(
        st.sampled_from(["abcd", "Abcd", "ab", "abcdabcd", " ", "\n", "1", "_", "-", "é", "İ", "ΣΟΦΟΣ", "ς"])
    )
)
def test_word_counts_count_as_content_words(parts: list[str]) -> None:
    # a word counts where no letter stands either side of it, as the runs content_words finds
    text = "".join(parts)
    counts, lazy = content_words(text), WordCounts(text)
    for word in [*counts, "abcd", "bcda", "abcdabcd", "σοφος"]:
        assert lazy[word] == counts[word], word


MULTILINGUAL = """Council approves harbour budget

The council approved the harbour budget on Tuesday night after a long debate about the costs of the new sea wall.

市議会は火曜日の夜、長い議論の末に港の予算を承認した。

Ο δήμαρχος είπε ότι τα έργα θα ξεκινήσουν τον Μάρτιο.

Officers said the shortfall had grown once energy costs were included in the plan."""


def test_the_model_decides_only_on_text_in_the_script_it_was_trained_on() -> None:
    units = [u.text for u in text_units(MULTILINGUAL, html=False)]
    japanese = units[2]
    # the raw model, which never saw Japanese, would take the sentence (lm-5: 0.97, an "ad_marker")
    assert raw_scores(MULTILINGUAL)[japanese] >= ISOLATED_MIN_P
    model = load_model("builtin")
    assert model is not None
    todo = pending(MULTILINGUAL, False, [], model)
    assert not todo.scored[2] and not todo.scored[3]  # Japanese, Greek: not read
    result = pipeline.clean_text(MULTILINGUAL)
    assert not result.removed and japanese in result.text and units[3] in result.text


@pytest.mark.parametrize(
    ("text", "latin"),
    [
        ("Sign up now", True),
        ("Très bientôt : l’été à Paris, ça ne s’invente pas", True),
        ("Tiếng Việt có dấu", True),  # Latin Extended Additional
        ("市議会は港の予算を承認した", False),
        ("Ο δήμαρχος είπε", False),
        ("Новости дня", False),
        ("Watch: 市議会 meeting tonight at the town hall", True),  # mostly Latin letters
        ("», 12 — 3 «", True),  # no letters
    ],
)
def test_latin_script(text: str, latin: bool) -> None:
    assert latin_script(text) is latin


def test_protected_units_are_not_scored() -> None:
    model = load_model("builtin")
    assert model is not None
    todo = pending(GATED, False, [], model)
    texts = [u.text for u in todo.units]
    assert not todo.scored[texts.index(TITLE)] and not todo.scored[texts.index(PROSE)]
    assert todo.scored[texts.index(CTA)] and todo.scored[texts.index("Open menu")]
    # the score line is scored; the isolated-unit gate decides after scoring
    assert todo.scored[texts.index(SCORE_LINE)]


@pytest.mark.parametrize(
    ("text", "heading"),
    [
        (TITLE, True),
        ("Unwetter: Keller laufen voll", True),  # a colon inside; only a trailing one is a label's
        ("Sign in", False),  # too few words
        ("Skip to main content now", True),  # a headline's shape: the rules' job to take it first
        ("Home | News | Sport | Weather", False),
        ("Updated 23 February 2023 - 17:35", False),
        ("BREAKING NEWS FROM THE VALLEY TODAY", False),
        ("Read more about this story here:", False),
        ("The council said the work would start soon.", False),
    ],
)
def test_heading_like(text: str, heading: bool) -> None:
    assert heading_like(text) is heading


@pytest.mark.parametrize("text", ["", "one", "a b ", "  a\u00a0b\n\nc  ", "x " * 25, "word " * 19 + "end."])
def test_has_words_as_split_counts(text: str) -> None:
    for n in range(1, 30):
        assert has_words(text, n) is (len(text.split()) >= n)


@pytest.mark.parametrize(
    "text",
    [
        "".join(map(chr, range(128))),
        "Fußball-WM: Die Mannschaft überzeugt",  # not ASCII: each character tested
        "ALL CAPS HEADLINE with some lower",
        "Mostly lower case, A FEW CAPS",
        "1234 !?",
    ],
)
def test_mostly_lower_counts_as_str_does(text: str) -> None:
    # an ASCII text's letters are counted by deleting bytes: the same counts as islower/isalpha
    lower, letters = sum(map(str.islower, text)), sum(map(str.isalpha, text))
    assert _mostly_lower(text) is (2 * lower >= letters)
    for c in map(chr, range(128)):
        assert _mostly_lower(c) is (2 * c.islower() >= c.isalpha())


def test_only_the_first_heading_before_the_body_is_the_title() -> None:
    units = text_units(
        "\n\n".join([TITLE, "Second headline of the same shape", "x " * 150 + "end."]), html=False
    )
    scored = np.ones(len(units), dtype=bool)
    scored[2] = False  # too long for the model: body text
    assert gates(units, scored, False)[0].tolist() == [True, False, False]
    assert gates(units, scored, True)[0].tolist() == [False, False, False]  # HTML: its first unit
    body_first = text_units("\n\n".join(["x " * 150 + "end.", TITLE]), html=False)
    assert gates(body_first, np.array([False, True]), False)[0].tolist() == [False, False]


def test_explain_shows_the_model_and_its_score(tmp_path: Path) -> None:
    path = tmp_path / "a.txt"
    path.write_text(ARTICLE, encoding="utf-8")
    res = CliRunner().invoke(cli, ["explain", str(path)])
    assert res.exit_code == 0, res.output
    line = next(ln for ln in res.stdout.splitlines() if "by model:" in ln)
    assert re.search(r"p=(0\.9\d|1\.00)\b", line) and repr(CTA)[:20] in line
    res = CliRunner().invoke(cli, ["explain", str(path), "--json"])
    boiler = next(s for s in json.loads(res.stdout) if s["stage"] == "boilerplate")
    assert [r["score"] is None for r in boiler["removed"]] == [False, True]
    res = CliRunner().invoke(cli, ["explain", str(path), "--diff", "--no-color"])
    assert re.search(r"p=(0\.9\d|1\.00)\b", res.stdout)
    res = CliRunner().invoke(cli, ["explain", str(path), "--model", "none"])
    assert "by model:" not in res.stdout and CTA in res.stdout


def test_the_config_hash_covers_the_model_file(tmp_path: Path) -> None:
    builtin, none = Config(), rules_only()
    copy = tmp_path / "m.npz"
    copy.write_bytes(BUILTIN_MODEL.read_bytes())
    by_path = Config().with_overrides({"boilerplate.model": str(copy)})
    assert len({builtin.hash, none.hash, by_path.hash}) == 3
    assert by_path.content_dict()["model_digest"] == builtin.content_dict()["model_digest"]
    before = by_path.hash
    model = LineModel.load(copy)
    dataclasses.replace(model, bias=model.bias + 1.0).save(copy)
    assert by_path.hash != before  # the same path, another file: another run
    threshold = Config().with_overrides({"boilerplate.model_threshold": 0.95})
    assert threshold.hash != builtin.hash


def test_a_model_file_of_ones_own_is_used(tmp_path: Path) -> None:
    copy = tmp_path / "m.npz"
    model = LineModel.load(BUILTIN_MODEL)
    dataclasses.replace(model, bias=model.bias - 50.0).save(copy)  # takes nothing
    cfg = Config().with_overrides({"boilerplate.model": str(copy)})
    assert CTA in pipeline.clean_text(ARTICLE, config=cfg).text
    assert np.isclose(LineModel.load(copy).bias, model.bias - 50.0)


@pytest.mark.parametrize("value", [0, -0.5, 1.5])
def test_the_threshold_is_range_checked(value: float) -> None:
    with pytest.raises(ConfigError, match=r"boilerplate\.model_threshold"):
        Config().with_overrides({"boilerplate.model_threshold": value})


def test_a_missing_or_bad_model_file_fails_before_any_output(tmp_path: Path) -> None:
    doc = tmp_path / "d.txt"
    doc.write_text(ARTICLE, encoding="utf-8")
    bad = tmp_path / "bad.npz"
    bad.write_text("no model")
    for model in (str(tmp_path / "missing.npz"), str(bad)):
        res = CliRunner().invoke(cli, ["run", str(doc), "-o", str(tmp_path / "o"), "--model", model])
        assert res.exit_code == 2, res.output
        assert "boilerplate model" in res.stderr
    assert not (tmp_path / "o").exists()
    res = CliRunner().invoke(cli, ["run", str(doc), "-o", str(tmp_path / "o"), "--model-threshold", "2"])
    assert res.exit_code == 2 and "model_threshold" in res.stderr
    # bytes that are no archive: numpy's advice to load a pickle "unsafely" is not passed on
    noise = tmp_path / "noise.npz"
    noise.write_bytes(bytes(range(256)) * 8)
    res = CliRunner().invoke(cli, ["run", str(doc), "-o", str(tmp_path / "o"), "--model", str(noise)])
    assert res.exit_code == 2 and "not a numpy .npz archive" in res.stderr and "unsafe" not in res.stderr
    # from Python too: building the pipeline fails, not every record
    for model in (str(tmp_path / "missing.npz"), str(bad)):
        cfg = Config().with_overrides({"boilerplate.model": model})
        with pytest.raises(ConfigError, match="boilerplate model"):
            pipeline.Pipeline.from_config(cfg)
        with pytest.raises(ConfigError, match="boilerplate model"):
            pipeline.clean_text(ARTICLE, config=cfg)


# --- the title in a record that opens with a consent notice ------------------------------------------

CONSENT = (
    "This site uses cookies to remember your preferences and to measure how people use it. "
    "You can change your settings at any time."
)
BUTTONS = "Accept all cookies Manage your choices"  # a headline's shape, but not the story's words
SCHOOL = "Primary school rated outstanding for the first time"
SCHOOL_BODY = [
    "A primary school in Upwold has been rated outstanding by inspectors for the first time in its history.",
    "Inspectors praised the reading programme and the school's work with families.",
]


def test_the_title_after_a_consent_notice_is_the_heading_on_the_story() -> None:
    model = load_model("builtin")
    assert model is not None
    text = "\n\n".join([CONSENT, BUTTONS, SCHOOL, *SCHOOL_BODY])
    todo = pending(text, False, [], model)
    texts = [u.text for u in todo.units]
    assert todo.kept is not None
    # prose came first, so "the first heading before any body text" finds nothing; the heading
    # whose words the story's sentences repeat is the title, the buttons line is not
    assert todo.kept[texts.index(SCHOOL)] and not todo.kept[texts.index(BUTTONS)]
    assert not todo.scored[texts.index(SCHOOL)] and todo.scored[texts.index(BUTTONS)]


def test_a_long_sentence_above_the_title_is_left_to_the_model() -> None:
    """A cookie banner's sentence reads as prose, but above the title it is no article text: the
    model reads it. Body prose below the title stays protected; so does prose above a "title"
    that three prose units precede (more likely a sub-heading of the body)."""
    banner = (
        "We and our partners use cookies to personalise content and ads, and to analyse our traffic, "
        "and you can change your choices at any time."
    )
    title = "Upwold school rated outstanding by inspectors"
    lede = "Inspectors have rated Upwold Primary School outstanding in every area, the school said on Monday after a two-day visit last month."
    units = text_units("\n\n".join([banner, "Accept all", title, lede]), html=False)
    kept = gates(units, np.ones(len(units), dtype=bool), False)[0]
    assert [u.text for u, k in zip(units, kept, strict=True) if k] == [title, lede]
    three = "\n\n".join(
        [banner, lede.replace("Monday", "Tuesday"), lede.replace("Monday", "Friday"), title, lede]
    )
    units = text_units(three, html=False)
    kept = gates(units, np.ones(len(units), dtype=bool), False)[0]
    assert kept[:3].all()
    # a long paragraph above (one the model does not read) is body text: the gate stays
    units = text_units("\n\n".join([banner, lede, title, lede]), html=False)
    scored = np.array([i != 1 for i in range(len(units))])
    kept = gates(units, scored, False, np.zeros(len(units), dtype=bool))[0]
    assert kept[0]


def test_a_headline_under_a_removed_label_is_no_title() -> None:
    """A promo block below the lede, its label removed by a rule: its first headline shares the
    town's name with the sentences below it, but a title never stands under "Most read:"."""
    lede = "Volunteers in Upwold have planted two hundred trees along the river this winter."
    promo = [
        "Most read:",
        "Upwold school rated outstanding by the river",
        "Rare butterfly returns to the county",
    ]
    body = "The trees along the river in Upwold will be watered by the school children of Upwold."
    text = "\n\n".join([lede, "\n".join(promo), body])
    units = text_units(text, html=False)
    scored = np.array([u.text not in ("Most read:",) for u in units])
    ruled = ~scored
    kept = gates(units, scored, False, ruled)[0]
    assert not kept[[u.text for u in units].index(promo[1])]
    # not removed, the label is text like any other, and the headline under it may be the title
    kept = gates(units, np.ones(len(units), dtype=bool), False, np.zeros(len(units), dtype=bool))[0]
    assert kept[[u.text for u in units].index(promo[1])]


def test_on_topic_needs_two_words_and_a_third_of_the_heading_in_the_sentences_below() -> None:
    below = set(content_words(" ".join(SCHOOL_BODY)))
    assert on_topic(SCHOOL, below)
    assert not on_topic(BUTTONS, below)
    assert not on_topic("Rated: the best bakeries of the county this summer", below)  # one word
    assert not on_topic(SCHOOL, set(content_words("Upwold council met on Monday.")))


# --- units next to the model's removals ------------------------------------------------------------------

NEXT = [
    "Sign up for our newsletter",
    "Daily headlines in your inbox",
    "Get our app",
    "The council met on Monday.",
    "Harbour lights",
]


def _taken(p: list[float], *, adjacent: float | None, ruled_first: bool = False) -> list[str]:
    text = "\n\n".join(NEXT)
    units = text_units(text, html=False)
    assert [u.text for u in units] == NEXT
    found = [_rule_removal(text, NEXT[0])] if ruled_first else []
    scored = np.array([not (ruled_first and i == 0) for i in range(len(units))])
    todo = Pending(text, False, found, units, scored)
    out = taken_units(todo, np.array(p), Thresholds(0.85, adjacent=adjacent))
    return [u.text for u, t in zip(units, out, strict=True) if t]


def _rule_removal(text: str, snippet: str) -> Found:
    start = text.index(snippet)
    rule = model_rule("test")
    return (Removal(rule.id, "newsletter_cta", start, start + len(snippet), snippet), rule, None)


def test_units_next_to_a_model_removal_go_at_the_lower_threshold_unless_they_are_sentences() -> None:
    p = [0.95, 0.7, 0.65, 0.7, 0.1]
    # the run of weak units below the removal goes with it; the sentence after them stays
    assert _taken(p, adjacent=0.6) == NEXT[:3]
    assert _taken(p, adjacent=0.68) == NEXT[:2]  # the run stops at the first unit below it
    assert _taken(p, adjacent=None) == NEXT[:1]
    assert _taken(p, adjacent=0.9) == NEXT[:1]  # at or above the threshold: off
    # a removal the model is less sure of does not grow (a false one in an article would spread)
    assert _taken([0.9, 0.7, 0.65, 0.7, 0.1], adjacent=0.6) == NEXT[:1]
    # next to a rule's removal nothing grows: a rule's match is exact
    assert _taken([0.0, 0.7, 0.65, 0.7, 0.1], adjacent=0.6, ruled_first=True) == []


def test_a_soft_site_line_lowers_the_threshold_where_it_stands() -> None:
    text = "\n\n".join(NEXT)
    units = text_units(text, html=False)
    line = SiteLine("Get our app", docs=3, share=0.25, soft=True)
    (soft,) = SiteRules(lines={"s.example": (line,)}).rules_for("https://s.example/1", soft=True)
    scored = np.ones(len(units), dtype=bool)
    todo = Pending(text, False, [], units, scored, soft={2: soft})
    p = np.array([0.1, 0.1, 0.65, 0.1, 0.1])
    # alone between two units the model keeps, at 0.65: kept without the site's word
    assert not taken_units(Pending(text, False, [], units, scored), p, Thresholds(0.85)).any()
    assert not taken_units(todo, p, Thresholds(0.85)).any()
    assert not taken_units(todo, p, Thresholds(0.85, soft=0.7)).any()
    taken = taken_units(todo, p, Thresholds(0.85, soft=0.6))
    assert [u.text for u, t in zip(units, taken, strict=True) if t] == ["Get our app"]

    def ledger(p: list[float]) -> list[tuple[str, str, float | None]]:
        """What ``decide`` records: under the soft line what only it had the model take."""
        taken = taken_units(todo, np.array(p), Thresholds(0.85, soft=0.6))
        needed = taken & ~taken_units(todo, np.array(p), Thresholds(0.85))
        found = removals(model_rule("t"), todo, np.array(p), taken, None, 0, needed)
        return [(r.rule, r.snippet, r.score) for r, _, _ in found]

    # the ledger names the site line that made the difference, with the model's score: under the
    # threshold, or over it but alone (not sure enough, and not off topic: it has no content word)
    assert ledger([0.1, 0.1, 0.65, 0.1, 0.1]) == [(soft.id, "Get our app", 0.65)]
    assert ledger([0.1, 0.1, 0.9, 0.1, 0.1]) == [(soft.id, "Get our app", 0.9)]
    # what the model takes on its own is the model's
    assert ledger([0.1, 0.1, 0.98, 0.1, 0.1]) == [("model:t", "Get our app", 0.98)]


def test_a_soft_line_lowers_only_the_units_it_covers_whole() -> None:
    line = SiteLine("Get our app", docs=3, share=0.25, soft=True)
    rules = SiteRules(lines={"s.example": (line,)}).rules_for("https://s.example/1", soft=True)
    model = load_model("builtin")
    assert model is not None
    alone = "The harbour reopened.\n\nGet our app\n\nThe works start in April."
    joined = (
        "The harbour reopened.\n\nGet our app\nand the harbour master said the works would start in April."
    )
    for text, lowered in ((alone, ["Get our app"]), (joined, [])):
        todo = pending(text, False, [], model, find_removals(text, rules))
        assert [todo.units[i].text for i in todo.soft] == lowered


def test_grown_takes_whole_runs_of_weak_units_touching_a_seed() -> None:
    seeds = np.array([0, 0, 1, 0, 0, 0, 0, 1], dtype=bool)
    weak = np.array([1, 1, 0, 1, 1, 0, 1, 0], dtype=bool)
    assert grown(seeds, weak).tolist() == [True, True, False, True, True, False, True, False]
    assert not grown(seeds, np.array([0, 0, 0, 0, 0, 1, 0, 0], dtype=bool)).any()


#: A story on a site whose name its notices and a line about the author use; so does one of its
#: sentences ("told the Harbour Gazette"), which the model reads as prose.
NAMED = """Harbour fees to rise in April

Mooring fees at the harbour will go up again in April, the board said on Monday, the third rise in two years.

Boat owners said the increase would push some of them to moor elsewhere along the coast.

The board said the money would pay for new pontoons and dredging of the inner basin.

A spokesperson told the Harbour Gazette that the fees were still lower than in other ports.

Tom Fisher has covered the coast for the Harbour Gazette since 2015."""
BIO = "Tom Fisher has covered the coast for the Harbour Gazette since 2015."


def test_a_line_that_names_its_site_goes_at_the_lower_threshold() -> None:
    def clean(url: str | None, **settings: float) -> Doc:
        doc = Doc(id="a", source="s", raw=NAMED, text=NAMED, url=url)
        Boilerplate(BoilerplateConfig(**settings)).process_docs([doc])  # type: ignore[arg-type]
        return doc

    doc = clean("https://www.harbourgazette.co.uk/news/1")
    assert BIO not in doc.text and "A spokesperson told the Harbour Gazette" in doc.text
    (removal,) = doc.removed
    assert removal.snippet == BIO and removal.rule.startswith("model:")
    assert removal.score is not None and 0.3 <= removal.score < 0.9  # under the model's threshold
    assert BIO in clean(None).text  # no URL: no name to look for
    assert BIO in clean("https://www.elsewhere.example/1").text
    assert BIO in clean("https://www.harbourgazette.co.uk/news/1", model_threshold_site_name=1.0).text
    # a site whose own prose names it (a theatre's page about itself): its name is content there
    about = (
        "Harbour Gazette readers can now visit the newsroom on the quay every Saturday morning from May,"
        " the editor said, and see how the paper is made."
    )
    text = NAMED.replace(
        "Boat owners said the increase would push some of them to moor elsewhere along the coast.", about
    )
    doc = Doc(id="b", source="s", raw=text, text=text, url="https://www.harbourgazette.co.uk/news/2")
    Boilerplate(BoilerplateConfig()).process_docs([doc])
    assert BIO in doc.text
    # so does a paragraph too long for the model to read
    longer = (
        about
        + " The tours, which last an hour, start at the front desk and end in the print room downstairs."
    )
    text = text.replace(about, longer)
    doc = Doc(id="c", source="s", raw=text, text=text, url="https://www.harbourgazette.co.uk/news/3")
    Boilerplate(BoilerplateConfig()).process_docs([doc])
    assert len(longer) > 200 and BIO in doc.text


@pytest.mark.parametrize(
    ("line", "p", "label", "taken"),
    [
        ("Contenido de marca", 0.85, 0.8, True),  # an ad label the model doubted, shares no word
        ("Contenido de marca", 0.85, None, False),  # off
        ("Contenido de marca", 0.75, 0.8, False),  # under it
        ("Get 40 percent off today", 0.85, 0.8, False),  # a digit: a score line, "Linie 210"
        ("Bring an umbrella.", 0.85, 0.8, False),  # a sentence
        ("Harbour works timetable", 0.85, 0.8, False),  # on topic: a sub-heading
        ("Sign in to read more of our stories today", 0.85, 0.8, False),  # more than five words
    ],
)
def test_a_short_off_topic_line_the_model_doubted_goes_at_the_label_threshold(
    line: str, p: float, label: float | None, taken: bool
) -> None:
    units = ["Harbour works start in April", "The harbour works will start in April, the council said.", line]
    units += ["The works will take two years and cost four million pounds, it said."]
    text = "\n\n".join(units)
    todo = Pending(text, False, [], text_units(text, html=False), np.array([False, False, True, False]))
    out = taken_units(todo, np.array([0.0, 0.0, p, 0.0]), Thresholds(0.9, label=label))
    assert out.tolist() == [False, False, taken, False]


def test_off_topic_is_judged_against_what_is_left() -> None:
    """A byline alone between two paragraphs shares its name only with its author's bio, which is
    removed too: it is off topic, as a line of another block is."""
    units = [
        "Harbour works start in April",
        "Adaeze Abbott, Science Correspondent",
        "The harbour works will start in April, the council said on Monday after a long debate.",
        "The works will take two years and cost four million pounds, the council said.",
        "Adaeze Abbott has covered science for the paper since 2019",
    ]
    text = "\n\n".join(units)
    todo = Pending(text, False, [], text_units(text, html=False), np.array([False, True, False, False, True]))
    p = np.array([0.0, 0.93, 0.0, 0.0, 0.99])  # the byline alone: under ISOLATED_MIN_P
    assert taken_units(todo, p, Thresholds(0.9)).tolist() == [False, True, False, False, True]
    p[4] = 0.1  # the bio stays: the name is the article's words then
    assert taken_units(todo, p, Thresholds(0.9)).tolist() == [False, False, False, False, False]
    # a rule's inline removal inside the bio leaves the rest of its words to count
    cut = Pending(text, False, [_rule_removal(text, "has covered")], todo.units, todo.scored)
    assert taken_units(cut, p, Thresholds(0.9)).tolist() == [False, False, False, False, False]
    assert taken_units(cut, p, Thresholds(1)).tolist() == [False] * 5  # an int base threshold works


def test_the_adjacent_threshold_is_a_checked_setting() -> None:
    assert Config().boilerplate.model_threshold_adjacent == 0.6
    off = Config().with_overrides({"boilerplate.model_threshold_adjacent": 1.0})
    assert off.hash != Config().hash
    with pytest.raises(ConfigError):
        Config().with_overrides({"boilerplate.model_threshold_adjacent": 1.5})


@pytest.mark.parametrize(
    ("text", "ends"),
    [
        ("It rained.", True),
        ("Was it?", True),
        ("Wait\u2026", True),
        ('He said "no."', True),
        ("(See below.)", True),
        ("\u00abC'est fini.\u00bb", True),
        ("\u00bbDas ist das sch\u00f6nste Kompliment.\u00ab", True),  # German quotes close with \u00ab
        ("\u201eDas ist gut.\u201c", True),  # and with \u201c
        ("Sign up now", False),
        ("Read more:", False),
        ('"quoted"', False),
        (".", True),
        (")", False),
        ("", False),
    ],
)
def test_ends_sentence_is_the_sentence_end_pattern(text: str, ends: bool) -> None:
    pattern = re.compile(
        r"[.!?\u2026][\"'\u201c\u201d\u2019\u00ab\u00bb)\]]*$"
    )  # what it computes, as a regex
    assert ends_sentence(text) is ends
    assert (pattern.search(text) is not None) is ends


def test_runs_and_the_unit_each_is_recorded_under() -> None:
    taken = np.array([True, True, False, True, False, False, True, True, True])
    p = np.array([0.91, 0.97, 0.2, 0.95, 0.1, 0.3, 0.99, 0.92, 0.99])
    assert runs(taken) == [(0, 1), (3, 3), (6, 8)]
    assert run_bests(p, runs(taken)) == [1, 3, 6]  # the highest, the first of equals
    assert runs(np.zeros(3, dtype=bool)) == []


def test_touched_is_any_overlap_with_a_rule_span() -> None:
    text = "Menu\n\nA story sentence here.\n\nSign up now\n\nMore text.\n\nEnd"
    units = text_units(text, html=False)
    rule = model_rule("t")

    def span(a: int, b: int) -> Found:
        return (Removal(rule.id, "x", a, b, text[a:b]), rule, None)

    sign = text.index("Sign")
    found = [span(0, 2), span(sign + 5, text.index("More") + 4)]  # inside "Menu"; "up now" to "More"
    expected = [any(r.start < u.end and u.start < r.end for r, _, _ in found) for u in units]
    assert touched(units, found).tolist() == expected == [True, False, True, True, False]
    assert touched(units, []).tolist() == [False] * len(units)
