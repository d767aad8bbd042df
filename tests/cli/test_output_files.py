"""Files the commands write besides a run's output directory (learn-sites' rules, train's model,
eval's report, explain's HTML page, run --learn-sites' rules): an unwritable path is exit 4 before
the work starts, a write that fails at the end is exit 4 too, and a run refused writes no learned
rules."""

from __future__ import annotations

import errno
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner, Result

from pipeline.cli import cli
from pipeline.io.sinks.lock import DirectoryLock
from pipeline.training.synth import generate, write_jsonl
from tests.conftest import FIXTURES

DUMP = FIXTURES / "boilerplate" / "sites.jsonl"
NO_DEFAULTS = ["--without", "newsboiler", "--without", "wcxb-train", "--without", "synthetic"]


def invoke(*args: str) -> Result:
    return CliRunner().invoke(cli, list(args))


def assert_output_error(res: Result, path: Path, why: str) -> None:
    """Exit 4, one ``error:`` line naming ``path`` (and a hint), no traceback."""
    assert res.exit_code == 4, res.output
    assert not isinstance(res.exception, OSError)
    errors = [line for line in res.output.splitlines() if line.startswith("error:")]
    assert errors == [f"error: cannot write {path}: {why}"], res.output
    assert "hint:" in res.output and "Traceback" not in res.output


def never(name: str) -> Any:
    def called(*args: object, **kwargs: object) -> None:
        raise AssertionError(f"{name} ran although the output cannot be written")

    return called


def disk_full(*args: object, **kwargs: object) -> None:
    raise OSError(errno.ENOSPC, "No space left on device")


def test_learn_sites_refuses_an_unwritable_output_before_it_learns(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr("pipeline.cli.sites.learn_from_inputs", never("learning"))
    target = tmp_path / "missing" / "rules.toml"
    assert_output_error(
        invoke("learn-sites", str(DUMP), "-o", str(target)), target, f"{target.parent} does not exist"
    )


def test_learn_sites_that_cannot_write_at_the_end_is_an_output_error(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr("pipeline.cli.sites.save_site_rules", disk_full)
    target = tmp_path / "rules.toml"
    assert_output_error(
        invoke("learn-sites", str(DUMP), "-o", str(target)), target, "No space left on device"
    )


@pytest.fixture(scope="module")
def labelled(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("data") / "mine.jsonl"
    write_jsonl(generate(12, seed=5, part="all", sites="all", id_prefix="mine"), str(path))
    return path


def test_train_refuses_an_unwritable_output_before_it_loads(
    labelled: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr("pipeline.cli.train.load", never("loading"))
    target = tmp_path / "missing" / "m.npz"
    res = invoke("train", *NO_DEFAULTS, "--data", str(labelled), "-o", str(target))
    assert_output_error(res, target, f"{target.parent} does not exist")


def test_train_that_cannot_write_the_model_is_an_output_error(
    labelled: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr("stages.boilerplate.model.LineModel.save", disk_full)
    target = tmp_path / "m.npz"
    res = invoke("train", *NO_DEFAULTS, "--data", str(labelled), "-o", str(target))
    assert_output_error(res, target, "No space left on device")


def test_eval_refuses_an_unwritable_report_before_it_runs(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr("pipeline.cli.eval._run_sets", never("the evaluation"))
    target = tmp_path / "missing" / "r.html"
    res = invoke("eval", "--data", str(FIXTURES / "eval"), "--set", "aeb", "--report", str(target))
    assert_output_error(res, target, f"{target.parent} does not exist")


def test_eval_that_cannot_write_its_report_is_an_output_error(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr("pipeline.cli.eval._run_sets", lambda *args: None)
    monkeypatch.setattr("pipeline.cli.eval.check_writable_file", lambda path: Path(path))
    target = tmp_path / "gone" / "r.html"  # as if the directory went away while the sets ran
    res = invoke("eval", "--data", str(FIXTURES / "eval"), "--set", "aeb", "--report", str(target))
    assert_output_error(res, target, "No such file or directory")


@pytest.fixture()
def story(tmp_path: Path) -> Path:
    path = tmp_path / "story.txt"
    path.write_text("Harbour wall repairs\n\nThe council set aside money for the repairs.", encoding="utf-8")
    return path


def explain_html(story: Path, target: Path) -> Result:
    return invoke("explain", str(story), "--model", "none", "--html", str(target))


def test_explain_refuses_an_unwritable_html_page_before_it_explains(
    story: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr("pipeline.cli.explain.explain_document", never("explaining"))
    target = tmp_path / "missing" / "x.html"
    assert_output_error(explain_html(story, target), target, f"{target.parent} does not exist")


def test_explain_that_cannot_write_its_html_page_is_an_output_error(
    story: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr("pipeline.cli.explain.Path.write_text", disk_full)
    target = tmp_path / "x.html"
    assert_output_error(explain_html(story, target), target, "No space left on device")


def learn_run(out: Path, *extra: str) -> Result:
    return invoke("run", str(DUMP), "-o", str(out), "--learn-sites", "-w", "1", *extra)


def test_run_learn_sites_refuses_an_unwritable_rules_file_before_it_learns(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr("pipeline.cli.sites.learn_from_inputs", never("learning"))
    target = tmp_path / "missing" / "s.toml"
    res = learn_run(tmp_path / "out", "--site-rules", str(target))
    assert_output_error(res, target, f"{target.parent} does not exist")
    assert not (tmp_path / "out").exists()


def test_a_run_refused_leaves_the_rules_file_as_it_was(tmp_path: Path) -> None:
    out, rules = tmp_path / "out", tmp_path / "out-site-rules.toml"
    res = learn_run(out)
    assert res.exit_code == 0, res.output
    assert "learned 3 line(s) for 2 site(s)" in res.output
    reviewed = b"# reviewed\n" + rules.read_bytes()
    rules.write_bytes(reviewed)  # a reviewer's edit, which a refused run must keep
    lock = DirectoryLock(out / "_cleanwire" / "lock", f"the output directory {out}")
    lock.acquire()  # another run writes the output directory
    try:
        busy = learn_run(out)
    finally:
        lock.release()
    assert busy.exit_code == 4 and "is in use by" in busy.output, busy.output
    assert rules.read_bytes() == reviewed
    other = learn_run(out, "--min-chars", "7")  # a run made with another configuration
    assert other.exit_code == 4 and "another configuration" in other.output, other.output
    assert rules.read_bytes() == reviewed
    assert sorted(p.name for p in tmp_path.iterdir()) == ["out", "out-site-rules.toml"]


def test_a_run_refused_creates_no_rules_file(tmp_path: Path) -> None:
    out = tmp_path / "out"
    (out / "_cleanwire").mkdir(parents=True)
    lock = DirectoryLock(out / "_cleanwire" / "lock", f"the output directory {out}")
    lock.acquire()
    try:
        res = learn_run(out)
    finally:
        lock.release()
    assert res.exit_code == 4, res.output
    assert sorted(p.name for p in tmp_path.iterdir()) == ["out"]


def test_learned_rules_make_the_same_run_as_the_file_they_are_written_to(tmp_path: Path) -> None:
    """A --learn-sites run is the one made with the file its rules are written to: a rerun with
    --site-rules FILE finds it up to date, not another configuration."""
    out, rules = tmp_path / "out", tmp_path / "out-site-rules.toml"
    assert learn_run(out).exit_code == 0
    res = invoke("run", str(DUMP), "-o", str(out), "--site-rules", str(rules), "-w", "1")
    assert res.exit_code == 0, res.output
    res = learn_run(out)  # the same rules learned again: the run is up to date
    assert res.exit_code == 0, res.output
