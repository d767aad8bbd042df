"""``cleanwire eval`` through click's CliRunner: on the tiny authored sets under fixtures/eval, on
missing data (skips, exit 0), and (marked ``eval``) on ../shared/eval/aeb against the baselines."""

from __future__ import annotations

import importlib.util
import json
import random
import shutil
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from types import ModuleType
from typing import Any

import pytest
from click.testing import CliRunner, Result

from pipeline.cli import cli

FIXTURE = Path(__file__).resolve().parents[2] / "fixtures" / "eval"


def invoke(*args: str) -> Result:
    return CliRunner().invoke(cli, ["eval", "-w", "1", *args], catch_exceptions=False)


@dataclass(frozen=True)
class FullRun:
    result: Result
    report: Path
    preds: Path


@pytest.fixture(scope="module")
def full_run(tmp_path_factory: pytest.TempPathFactory) -> FullRun:
    """One run over every fixture set, with a report and saved predictions (shared by the tests)."""
    out = tmp_path_factory.mktemp("eval")
    report, preds = out / "eval.html", out / "preds"
    result = invoke(
        "--data", str(FIXTURE), "--bootstrap", "0", "--report", str(report), "--save-predictions", str(preds)
    )
    return FullRun(result, report, preds)


def _reference(name: str) -> ModuleType:
    path = Path(__file__).resolve().parents[3] / "shared" / "eval" / "reference" / f"{name}.py"
    spec = importlib.util.spec_from_file_location(f"ref_{name}", path)
    if spec is None or spec.loader is None or not path.is_file():
        pytest.skip("reference scorers (../shared/eval/reference) not present")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_text_output_has_every_set(full_run: FullRun) -> None:
    r = full_run.result
    assert r.exit_code == 0, r.output
    out = r.stdout
    for heading in (
        "== newsboiler: 3 documents",
        "== aeb: 2 pages",
        "== wcxb: 1 pages",
        "== langid: 6 sentences",
    ):
        assert heading in out
    assert "video_caption" in out and "overall: removal_recall=" in out
    assert "halfway" in out and "everything" in out  # baselines printed beside cleanwire
    assert "WCXB metric" in out


def test_wcxb_aeb_table_shows_with_and_without_beside_the_metric(full_run: FullRun) -> None:
    """The WCXB-style set's AEB table carries the 'with' recall and 'without' leak (the same numbers as
    the WCXB table below it); AEB's own set has no snippets, so no such columns."""
    out = full_run.result.stdout
    wcxb = out.split("== wcxb")[1].split("\n\n")[0].splitlines()
    assert wcxb[0].endswith("'without' snippets left)") and wcxb[1].split()[-2:] == ["with", "without"]
    aeb_row = next(ln.split() for ln in wcxb if ln.startswith("cleanwire"))
    metric = out.split("WCXB metric")[1].splitlines()
    metric_row = next(ln.split() for ln in metric if ln.startswith("cleanwire"))
    assert aeb_row[-2:] == metric_row[-2:]
    aeb = out.split("== aeb")[1].split("\n\n")[0].splitlines()
    assert "without" not in aeb[1] and "snippets" not in aeb[0]


def test_baseline_rows_are_scored_by_the_metric(full_run: FullRun) -> None:
    rows = {
        ln.split()[0]: ln.split() for ln in full_run.result.stdout.splitlines() if ln.startswith("halfway")
    }
    # p-ferry: half of the body, all correct; p-rail: null (left out of precision, recall 0)
    f1, precision, recall, accuracy = map(float, rows["halfway"][2:6])
    assert precision == 1.0 and accuracy == 0.0
    assert 0.0 < recall < 0.5 and f1 == pytest.approx(2 * recall / (1 + recall), abs=1e-3)


def test_report_is_self_contained_and_lists_the_misses(full_run: FullRun) -> None:
    html = full_run.report.read_text(encoding="utf-8")
    assert html.startswith("<!doctype html>")
    assert "<script" not in html and "<link" not in html and "src=" not in html  # no network
    assert "fx-001" in html and "survived <b>video_caption</b>" in html
    assert "The audio edition of this report, read aloud, lasts roughly three minutes." in html
    for section in ("newsboiler (3 documents)", "aeb (2 pages)", "wcxb (1 pages)", "langid (6 sentences)"):
        assert section in html
    assert "p-ferry" in html  # worst pages are listed by id


def test_saved_predictions_score_the_same_with_the_reference_scorers(
    full_run: FullRun, capsys: pytest.CaptureFixture[str]
) -> None:
    preds = full_run.preds
    lines = (preds / "newsboiler.jsonl").read_text(encoding="utf-8").splitlines()
    assert [json.loads(ln)["id"] for ln in lines] == ["fx-001", "fx-002", "fx-003"]
    saved = json.loads((preds / "aeb.json").read_text(encoding="utf-8"))
    assert sorted(saved["output"]) == ["p-ferry", "p-rail"]
    assert (preds / "langid.jsonl").is_file() and (preds / "wcxb.json").is_file()

    ref_nb = _reference("newsboiler_score")
    ref_nb.main([str(FIXTURE / "newsboiler" / "dev.jsonl"), str(preds / "newsboiler.jsonl")])
    want_overall = capsys.readouterr().out.splitlines()[-1]
    assert want_overall in full_run.result.stdout.splitlines()

    ref_aeb = _reference("aeb_score")
    gold = json.loads((FIXTURE / "aeb" / "ground-truth.json").read_text(encoding="utf-8"))
    m: dict[str, Any] = ref_aeb.evaluate(gold, saved["output"], 0, random.Random(0))
    row = next(
        ln for ln in full_run.result.stdout.split("== aeb")[1].splitlines() if ln.startswith("cleanwire")
    )
    assert [float(x) for x in row.split()[2:6]] == [
        round(m[k], 3) for k in ("f1", "precision", "recall", "accuracy")
    ]


def _empty_newsboiler(root: Path) -> Path:
    dev = root / "newsboiler" / "dev.jsonl"
    dev.parent.mkdir(parents=True)
    dev.write_text("", encoding="utf-8")
    return dev


def _eval_empty(root: Path, *args: str) -> Result:
    """``eval`` of the empty newsboiler set under ``root`` (rules only: no document reaches a model)."""
    return invoke("--data", str(root), "--set", "newsboiler", "--model", "none", *args)


def _overall(stdout: str) -> dict[str, str]:
    """The ``overall:`` line's ``name=value`` pairs."""
    line = next(ln for ln in stdout.splitlines() if ln.startswith("overall: "))
    return dict(kv.split("=", 1) for kv in line.removeprefix("overall: ").split())


def test_an_empty_newsboiler_set_has_no_preservation(tmp_path: Path) -> None:
    """0 documents: preservation and exact (means over documents) are n/a, and null in JSON, not 0.000."""
    _empty_newsboiler(tmp_path)
    text = _eval_empty(tmp_path)
    assert text.exit_code == 0, text.output
    assert "== newsboiler: 0 documents" in text.stdout
    assert _overall(text.stdout)["preservation"] == _overall(text.stdout)["exact"] == "n/a"
    as_json = _eval_empty(tmp_path, "--json")
    assert as_json.exit_code == 0, as_json.output
    data = json.loads(as_json.stdout)["newsboiler"]
    assert data["documents"] == 0 and data["preservation"] is None and data["exact"] is None


def test_an_empty_newsboiler_set_prints_preservation_as_the_reference_scorer(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    ref = _reference("newsboiler_score")
    dev = _empty_newsboiler(tmp_path)
    ref.main([str(dev), "--baseline", "oracle"])
    want = capsys.readouterr().out
    got = _eval_empty(tmp_path)
    assert got.exit_code == 0, got.output
    assert _overall(got.stdout)["preservation"] == _overall(want)["preservation"] == "n/a"
    assert _overall(got.stdout)["exact"] == _overall(want)["exact"] == "n/a"
    micro = "preservation (sentence micro): "  # the reference's micro share is 0/max(1, 0) here
    assert [ln for ln in got.stdout.splitlines() if ln.startswith(micro)] == [
        ln for ln in want.splitlines() if ln.startswith(micro)
    ]


def test_json_output_and_absent_sets_are_skipped(tmp_path: Path) -> None:
    shutil.copytree(FIXTURE / "langid", tmp_path / "langid")
    r = invoke("--data", str(tmp_path), "--json")
    assert r.exit_code == 0
    assert "set 'newsboiler' not found" in r.stderr and "set 'aeb' not found" in r.stderr
    data = json.loads(r.stdout)
    assert set(data) == {"data", "config_hash", "sets", "skipped", "langid"}
    assert data["sets"] == ["langid"] and data["skipped"] == ["newsboiler", "aeb", "wcxb", "neardup"]
    lang = data["langid"]
    assert lang["sentences"] == 6 and set(lang["per_lang"]) == {"de", "en", "es", "fr", "it", "nl"}
    correct = sum(v["correct"] for v in lang["per_lang"].values())
    assert lang["accuracy"] == correct / 6


def test_missing_data_directory_skips_with_exit_0(tmp_path: Path) -> None:
    r = invoke("--data", str(tmp_path / "nowhere"))
    assert r.exit_code == 0
    assert "no evaluation data" in r.stderr and "skipped" in r.stderr
    assert r.stdout == ""


def test_json_is_printed_when_no_set_runs(tmp_path: Path) -> None:
    # an eval directory without sets (or none at all) printed nothing: a caller's JSON parse failed
    (tmp_path / "empty").mkdir()
    r = invoke("--data", str(tmp_path / "empty"), "--json")
    assert r.exit_code == 0 and "(skipped)" in r.stderr
    data = json.loads(r.stdout)
    assert data["data"] == str((tmp_path / "empty").resolve()) and isinstance(data["config_hash"], str)
    assert data["sets"] == [] and data["skipped"] == ["newsboiler", "aeb", "wcxb", "langid", "neardup"]
    r = invoke("--data", str(tmp_path / "nowhere"), "--set", "aeb", "--json")
    assert r.exit_code == 0 and "no evaluation data" in r.stderr
    assert json.loads(r.stdout) == {
        "data": None,
        "config_hash": data["config_hash"],
        "sets": [],
        "skipped": ["aeb"],
    }
    r = invoke("--data", str(tmp_path / "empty"))
    assert r.exit_code == 0 and r.stdout == ""


def test_wcxb_train_runs_when_named_per_page_type_beside_plain_trafilatura(tmp_path: Path) -> None:
    """Not in the default run (training material); named, it prints each page type with plain
    trafilatura computed in the same run, says the threshold was tuned on it, and its saved
    predictions score the same with the reference scorer."""
    preds = tmp_path / "preds"
    r = invoke(
        "--data", str(FIXTURE), "--set", "wcxb-train", "--bootstrap", "0", "--save-predictions", str(preds)
    )
    assert r.exit_code == 0, r.output
    out = r.stdout
    assert "== wcxb-train: 2 pages" in out and "threshold tuned on this set" in out
    table = out.split("per page type")[1].splitlines()
    article = next(i for i, ln in enumerate(table) if ln.startswith("article "))
    service = next(i for i, ln in enumerate(table) if ln.startswith("service "))
    for at in (article, service):
        assert table[at].split()[2] == "cleanwire" and table[at + 1].split()[0] == "trafilatura"
    assert len(table[service].split()) == 2 + 1 + 6  # type, pages, system, F1 P R, WCXB F1, with, without

    saved = json.loads((preds / "wcxb-train.json").read_text(encoding="utf-8"))
    gold = json.loads((FIXTURE / "wcxb-train" / "ground-truth.json").read_text(encoding="utf-8"))
    m: dict[str, Any] = _reference("aeb_score").evaluate(gold, saved["output"], 0, random.Random(0))
    row = next(ln for ln in out.split("== wcxb-train")[1].splitlines() if ln.startswith("cleanwire"))
    assert [float(x) for x in row.split()[2:6]] == [
        round(m[k], 3) for k in ("f1", "precision", "recall", "accuracy")
    ]

    data = json.loads(
        invoke("--data", str(FIXTURE), "--set", "wcxb-train", "--bootstrap", "0", "--json").stdout
    )
    train = data["wcxb-train"]
    assert "tuned_on_this_set" in train and set(train["page_types"]) == {"article", "service"}
    names = [s["name"] for s in train["page_types"]["service"]["systems"]]
    assert names == ["cleanwire", "trafilatura"]
    assert all("wcxb" in s for s in train["page_types"]["service"]["systems"])


def test_the_default_run_leaves_wcxb_train_out(full_run: FullRun) -> None:
    assert "wcxb-train" not in full_run.result.stdout and "wcxb-train" not in full_run.result.stderr


@pytest.mark.parametrize(
    "args", [["--set", "bogus"], ["--timeout", "0"], ["--bootstrap", "-5"], ["--workers", "-1"]]
)
def test_bad_options_are_usage_errors(args: list[str]) -> None:
    r = CliRunner().invoke(cli, ["eval", "--data", str(FIXTURE), *args])
    assert r.exit_code == 2


@pytest.mark.eval
@pytest.mark.slow
def test_cleanwire_beats_every_aeb_baseline(eval_dir: Path, tmp_path: Path) -> None:
    """The issue's target: AEB F1 above every baseline extractor, precision not bought with recall."""
    r = CliRunner().invoke(
        cli,
        ["eval", "--data", str(eval_dir), "--set", "aeb", "--json", "--bootstrap", "0"],
        catch_exceptions=False,
    )
    assert r.exit_code == 0, r.output
    systems = {s["name"]: s["aeb"] for s in json.loads(r.stdout)["aeb"]["systems"]}
    ours = systems.pop("cleanwire")
    assert set(systems) == {"trafilatura", "readability", "justext", "html-text"}
    assert all(ours["f1"] > s["f1"] for s in systems.values())
    assert ours["recall"] >= systems["trafilatura"]["recall"] - 0.005


@pytest.mark.parametrize(
    ("set_name", "damaged", "damage"),
    [
        ("aeb", "aeb/ground-truth.json", lambda b: b[: len(b) // 2]),  # cut short
        ("newsboiler", "newsboiler/dev.jsonl", lambda b: b + b'{"id": "x", bad\n'),  # a bad line
        # files that are JSON but not in the set's schema: each was a traceback (exit 1)
        ("newsboiler", "newsboiler/dev.jsonl", lambda b: b + b'{"id": "x", "gold_text": "G"}\n'),
        (
            "newsboiler",
            "newsboiler/dev.jsonl",
            lambda b: b + b'{"id": "x", "raw": "R", "gold_text": "G", "url": 5}\n',
        ),
        (
            "newsboiler",
            "newsboiler/dev.jsonl",
            lambda b: b + b'{"id": "x", "raw": "R", "gold_text": "G", "format": "pdf"}\n',
        ),
        (
            "newsboiler",
            "newsboiler/dev.jsonl",
            lambda b: b + b'{"id": "x", "raw": "R", "gold_text": "G", "boilerplate": ["R"]}\n',
        ),
        ("newsboiler", "newsboiler/dev.jsonl", lambda b: b + b"\xff\xfe not UTF-8\n"),
        ("langid", "langid/sentences.jsonl", lambda b: b + b'{"lang": "en"}\n'),
        ("aeb", "aeb/ground-truth.json", lambda b: b"[1, 2]"),
        ("aeb", "aeb/ground-truth.json", lambda b: b'{"p-ferry": "the body"}'),
        ("aeb", "aeb/baselines/halfway.json", lambda b: b'{"output": {"p-ferry": "the body"}}'),
    ],
)
def test_a_damaged_set_file_is_an_input_error_naming_it(
    tmp_path: Path, set_name: str, damaged: str, damage: Callable[[bytes], bytes]
) -> None:
    data = tmp_path / "eval"
    shutil.copytree(FIXTURE, data)
    path = data / damaged
    path.write_bytes(damage(path.read_bytes()))
    r = CliRunner().invoke(
        cli, ["eval", "-w", "1", "--data", str(data), "--set", set_name, "--bootstrap", "0"]
    )
    assert r.exit_code == 3, r.output
    assert f"cannot read evaluation file {path}" in r.stderr and "Traceback" not in r.output


@pytest.mark.parametrize(
    ("split", "without_wcxb_train", "expected"),
    [
        # too few bodies was an IndexError; without wcxb-train a FileNotFoundError
        ("test", False, "error: neardup: the test split has too few bodies of 25+ words"),
        ("test", True, "error: neardup: the test split has too few bodies"),
        ("tune", True, "error: neardup: no document for the tune split"),
    ],
)
def test_a_neardup_set_too_small_to_build_is_an_input_error(
    tmp_path: Path, split: str, without_wcxb_train: bool, expected: str
) -> None:
    data = tmp_path / "eval"
    shutil.copytree(FIXTURE, data)
    (data / "wcxb" / "metadata.json").write_text('{"0001": {"page_type": "article", "domain": "a.example"}}')
    if without_wcxb_train:
        shutil.rmtree(data / "wcxb-train")
    r = CliRunner().invoke(
        cli, ["eval", "-w", "1", "--data", str(data), "--set", "neardup", "--neardup-split", split]
    )
    assert r.exit_code == 3, r.output
    assert expected in r.stderr and "hint: " in r.stderr and "Traceback" not in r.output
