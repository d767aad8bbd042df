"""``cleanwire train``: a tiny model trained from a user's own labelled file, reproducibly."""

from __future__ import annotations

import hashlib
import json
import tomllib
from pathlib import Path

import numpy as np
import pytest
from click.testing import CliRunner

import pipeline
from pipeline.cli import cli
from pipeline.core.config import Config
from pipeline.evaluation.newsboiler import BoilerItem
from pipeline.training.corpus import SetSpec
from pipeline.training.labels import BOILERPLATE, CONTENT, UNKNOWN, label_news, label_page
from pipeline.training.run import default_sets
from pipeline.training.synth import SITE_FOLDS, TRAIN_RECIPE, Recipe, generate, generate_recipe, write_jsonl
from pipeline.training.synth.data import DATA, load_lang, split_pool
from stages.boilerplate.learned import BUILTIN_MODEL
from stages.boilerplate.model import LineModel
from stages.boilerplate.units import text_units

NO_DEFAULTS = ["--without", "newsboiler", "--without", "wcxb-train", "--without", "synthetic"]


@pytest.fixture(scope="module")
def tiny(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """60 synthetic documents (text scrapes and pages, 7 languages) as a user's own file."""
    path = tmp_path_factory.mktemp("data") / "mine.jsonl"
    write_jsonl(generate(60, seed=5, part="all", sites="all", id_prefix="mine"), str(path))
    return path


def train(tmp: Path, data: Path, out: str, *extra: str) -> str:
    res = CliRunner().invoke(cli, ["train", *NO_DEFAULTS, "--data", str(data), "-o", str(tmp / out), *extra])
    assert res.exit_code == 0, res.output
    return res.stdout


def test_training_twice_on_the_same_data_writes_the_same_bytes(tiny: Path, tmp_path: Path) -> None:
    out = train(tmp_path, tiny, "a.npz")
    train(tmp_path, tiny, "b.npz")
    a, b = (tmp_path / "a.npz").read_bytes(), (tmp_path / "b.npz").read_bytes()
    assert a == b
    assert f"sha256 {hashlib.sha256(a).hexdigest()[:16]}" in out
    assert "mine" in out and "training number" in out
    model = LineModel.load(tmp_path / "a.npz")
    (trained_on,) = model.info["trained_on"]
    assert trained_on["name"] == "mine" and trained_on["documents"] == 60
    assert str(tmp_path) not in json.dumps(model.info)  # no paths: the same data trains the same file


def test_a_trained_model_file_runs_in_the_pipeline(tiny: Path, tmp_path: Path) -> None:
    train(tmp_path, tiny, "m.npz", "--version", "mine-1")
    cfg = Config().with_overrides({"boilerplate.model": str(tmp_path / "m.npz")})
    doc = json.loads(tiny.read_text(encoding="utf-8").splitlines()[0])
    result = pipeline.clean_text(doc["raw"], fmt=doc["format"], config=cfg)
    assert result.ok
    assert any(r.rule == "model:mine-1" for r in result.removed)
    assert all(doc["raw"][r.start : r.end] == r.snippet for r in result.removed if doc["format"] == "text")


def test_cross_validation_prints_held_out_numbers(tiny: Path, tmp_path: Path) -> None:
    out = train(tmp_path, tiny, "m.npz", "--cv")
    assert "== mine: leave-site-out (60 documents held out)" in out
    assert "rules + model @0.9" in out and "model alone @0.9" in out and "category head:" in out


def test_no_data_at_all_is_a_usage_error(tmp_path: Path) -> None:
    res = CliRunner().invoke(cli, ["train", *NO_DEFAULTS, "-o", str(tmp_path / "m.npz")])
    assert res.exit_code == 2 and "no training data" in res.output


def test_the_default_recipe_names_its_sets_in_order(tmp_path: Path) -> None:
    (tmp_path / "newsboiler").mkdir()
    (tmp_path / "newsboiler" / "dev.jsonl").write_text("")
    own = tmp_path / "own.jsonl"
    own.write_text("")
    sets = default_sets(tmp_path, extra=[own])
    assert [(s.name, s.weight) for s in sets] == [("newsboiler", 20.0), ("synthetic", 1.0), ("own", 1.0)]
    assert [s.name for s in default_sets(None, without=["synthetic"])] == []


def test_the_synthetic_corpus_is_the_same_every_time() -> None:
    first = [
        json.dumps(d, ensure_ascii=False)
        for d, _ in zip(generate_recipe(TRAIN_RECIPE), range(40), strict=False)
    ]
    again = [
        json.dumps(d, ensure_ascii=False)
        for d, _ in zip(generate_recipe(TRAIN_RECIPE), range(40), strict=False)
    ]
    assert first == again
    digest = hashlib.md5("\n".join(first).encode()).hexdigest()
    assert digest == SYNTHETIC_40


#: The first 40 documents of the shipped model's synthetic corpus: a change to the generator or its
#: pools changes the training data, so the shipped model would no longer be reproducible.
SYNTHETIC_40 = "7cc4a25aaeeea7deb3234aee0c980160"


def test_news_labels_cover_whole_units_and_leave_glued_ones_out() -> None:
    text = (
        "Title of the story\nSign up to our newsletter\nA paragraph of the story. Sign up to our newsletter\n"
    )
    units = text_units(text, html=False)
    items = [BoilerItem("newsletter_cta", "Sign up to our newsletter")] * 2
    labels = label_news(units, items)
    assert [(lb.value, lb.category) for lb in labels] == [
        (CONTENT, "content"),
        (BOILERPLATE, "newsletter_cta"),
        (UNKNOWN, "mixed"),
    ]


def test_page_labels_follow_the_gold_main_content() -> None:
    text = "Harbour wall repairs\nHome | News | Sport\nRepairs to the old harbour wall will begin in March.\n"
    units = text_units(text, html=True)
    main = "Repairs to the old harbour wall will begin in March."
    labels = label_page(units, main, "Harbour wall repairs")
    assert [lb.value for lb in labels] == [CONTENT, BOILERPLATE, CONTENT]


def test_the_shipped_model_records_how_it_was_trained() -> None:
    model = LineModel.load(BUILTIN_MODEL)
    assert [s["name"] for s in model.info["trained_on"]] == ["newsboiler", "wcxb-train", "synthetic"]
    synthetic = model.info["trained_on"][2]["source"]
    assert synthetic == TRAIN_RECIPE.to_json()
    assert model.threshold == 0.9 and np.isfinite(model.bias)


def test_the_tuning_split_divides_the_train_part_and_leaves_the_test_part_alone() -> None:
    pool = [f"phrase {i}" for i in range(30)]
    part = {p: split_pool(pool, "en|x|y", p) for p in ("all", "train", "test", "fit", "dev")}
    assert part["all"] == pool and len(part["test"]) == len(part["dev"]) == 6
    assert sorted(part["fit"] + part["dev"]) == sorted(part["train"])
    assert not set(part["test"]) & set(part["train"]) and not set(part["fit"]) & set(part["dev"])
    assert split_pool(pool[:3], "k", "dev") == split_pool(pool[:3], "k", "train")  # too small to split again
    folds = {p: SITE_FOLDS[p] for p in ("train", "fit", "dev", "test")}
    assert folds["fit"] | folds["dev"] == folds["train"] and not folds["test"] & folds["train"]
    dev = list(generate(30, seed=3, part="dev", sites="dev"))
    fit_hosts = {d["url"].split("/")[2] for d in generate(200, seed=3, part="fit", sites="fit")}
    assert dev and not {d["url"].split("/")[2] for d in dev} & fit_hosts


def test_train_can_fit_on_the_tuning_split(monkeypatch: pytest.MonkeyPatch) -> None:
    asked: list[Recipe] = []

    def sets(*_: object, synthetic: Recipe = TRAIN_RECIPE, **__: object) -> list[SetSpec]:
        asked.append(synthetic)
        return []  # then train stops: no data

    monkeypatch.setattr("pipeline.cli.train.default_sets", sets)
    for args, part in (([], "train"), (["--synthetic-part", "fit"], "fit")):
        result = CliRunner().invoke(cli, ["train", *args])
        assert result.exit_code == 2 and "no training data" in result.output
        assert (asked[-1].part, asked[-1].sites) == (part, part)
        assert asked[-1].n == TRAIN_RECIPE.n and asked[-1].seed == TRAIN_RECIPE.seed


def test_the_train_only_phrasings_reach_the_train_and_fit_parts_only() -> None:
    parts = {p: load_lang("de", p) for p in ("all", "train", "fit", "dev", "test")}
    extra = tomllib.loads((DATA / "de" / "boiler_extra.toml").read_text(encoding="utf-8"))["signup_notice"][
        "items"
    ]
    assert len(extra) >= 10
    pools = {p: parts[p].pool("signup_notice", "items") for p in parts}
    for p in ("all", "train", "fit"):
        assert set(extra) <= set(pools[p])
    for p in ("dev", "test"):
        assert not set(extra) & set(pools[p])
    # the held-out and tuning parts are what they were without the extra phrasings
    base = tomllib.loads((DATA / "de" / "boiler.toml").read_text(encoding="utf-8"))["signup_notice"]["items"]
    for p in ("dev", "test"):
        assert pools[p] == split_pool(base, "de|signup_notice|items", p)
    assert pools["train"] == split_pool(base, "de|signup_notice|items", "train") + extra


def test_training_does_not_need_a_working_boilerplate_model(tiny: Path, tmp_path: Path) -> None:
    config = tmp_path / "c.toml"
    config.write_text('[boilerplate]\nmodel = "no-such-model.npz"\n', encoding="utf-8")
    train(tmp_path, tiny, "a.npz", "--config", str(config))
    train(tmp_path, tiny, "b.npz")
    assert (tmp_path / "a.npz").read_bytes() == (tmp_path / "b.npz").read_bytes()


def test_train_reads_the_eval_layout_with_plain_html_pages(tmp_path: Path) -> None:
    """fixtures/eval keeps its pages as ``html/<id>.html`` (eval reads them): train does too."""
    fixture = Path(__file__).resolve().parents[2] / "fixtures" / "eval"
    args = ["train", "--without", "synthetic", "--eval-data", str(fixture), "-o", str(tmp_path / "m.npz")]
    res = CliRunner().invoke(cli, args)
    assert res.exit_code == 0, res.output  # was a FileNotFoundError for html/0001.html.gz
    info = LineModel.load(tmp_path / "m.npz").info
    assert [s["name"] for s in info["trained_on"]] == ["newsboiler", "wcxb-train"]


def test_a_missing_training_page_is_an_input_error_naming_it(tmp_path: Path) -> None:
    (tmp_path / "wcxb-train" / "ground-truth").mkdir(parents=True)
    (tmp_path / "wcxb-train" / "metadata.json").write_text('{"0001": {"page_type": "article"}}')
    (tmp_path / "wcxb-train" / "ground-truth" / "0001.json").write_text('{"ground_truth": {}}')
    args = ["train", "--without", "synthetic", "--eval-data", str(tmp_path), "-o", str(tmp_path / "m.npz")]
    res = CliRunner().invoke(cli, args)
    assert res.exit_code == 3, res.output
    assert "error: cannot read training page '0001'" in res.stderr and "html/0001.html" in res.stderr
    assert "--without wcxb-train" in res.stderr and "Traceback" not in res.output


def test_a_threshold_of_ones_own_says_how_to_use_it(tiny: Path, tmp_path: Path) -> None:
    """run/eval/explain take boilerplate.model_threshold, not the file's: the report says so, and
    the file does not credit the shipped threshold's tuning split for a threshold given by hand."""
    out = train(tmp_path, tiny, "m.npz", "--threshold", "0.5")
    assert "pass --model-threshold 0.5 with --model" in out
    assert LineModel.load(tmp_path / "m.npz").info["threshold_from"] == "cleanwire train --threshold"
    assert "--model-threshold" not in train(tmp_path, tiny, "d.npz")  # the default: nothing to say


def test_a_model_of_ones_own_data_is_told_to_take_a_version_of_its_own(tiny: Path, tmp_path: Path) -> None:
    """Without --version it is labelled as the shipped model is (model:lm-6 in the ledger)."""
    args = ["train", *NO_DEFAULTS, "--data", str(tiny)]
    res = CliRunner().invoke(cli, [*args, "-o", str(tmp_path / "a.npz")])
    assert res.exit_code == 0, res.output
    assert "pass --version to tell yours apart" in res.stderr
    res = CliRunner().invoke(cli, [*args, "-o", str(tmp_path / "b.npz"), "--version", "mine-1"])
    assert res.exit_code == 0, res.output
    assert "--version" not in res.stderr
    assert LineModel.load(tmp_path / "b.npz").version == "mine-1"
