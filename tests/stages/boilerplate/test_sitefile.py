"""Hand-edited site-rules files: a typo, a missing key or a duplicated id is a clear
:class:`RuleError` (exit 2) naming where, never silently ignored nor a Python repr."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from click.testing import CliRunner

from pipeline.cli import cli
from pipeline.core.errors import RuleError
from stages.boilerplate.sitefile import load_site_rules, save_site_rules
from stages.boilerplate.sitelearn import learn_site_rules
from tests.conftest import FIXTURES


@pytest.fixture
def learned(tmp_path: Path) -> Path:
    """A file as `cleanwire learn-sites` writes it: harbourgazette.example (2 lines), then
    hilltop.example (1 line)."""
    path = tmp_path / "s.toml"
    res = CliRunner().invoke(
        cli, ["learn-sites", str(FIXTURES / "boilerplate" / "sites.jsonl"), "-o", str(path)]
    )
    assert res.exit_code == 0, res.output
    rules = load_site_rules(path)
    assert {h: len(lines) for h, lines in rules.lines.items()} == {
        "harbourgazette.example": 2,
        "hilltop.example": 1,
    }
    return path


def _edited(path: Path, old: str, new: str, count: int = 1) -> Path:
    text = path.read_text(encoding="utf-8")
    assert old in text
    path.write_text(text.replace(old, new, count), encoding="utf-8")
    return path


def _refused(path: Path, message: str) -> RuleError:
    with pytest.raises(RuleError) as caught:
        load_site_rules(path)
    assert str(caught.value).startswith(f"{path}: {message}"), str(caught.value)
    assert "Error(" not in str(caught.value)  # no Python repr
    res = CliRunner().invoke(cli, ["rules", "--site-rules", str(path), "--check"])
    assert res.exit_code == 2, res.output
    return caught.value


def test_a_misspelt_table_is_refused_not_ignored(learned: Path) -> None:
    # [[sites.line]] made the entry a "line" key of the site, silently dropped: --check said 0.
    err = _refused(
        _edited(learned, "[[sites.lines]]", "[[sites.line]]", 3), "site 1: unknown key(s) ['line']"
    )
    assert err.hint == "known keys: ['host', 'lines', 'n_docs']"


@pytest.mark.parametrize(
    ("old", "new", "message"),
    [
        ("\ntext = ", "\ntxt = ", "site 1, line 1: unknown key(s) ['txt']"),
        ("\nhost = ", "\nhots = ", "site 1: unknown key(s) ['hots']"),
        ("\nmin_docs = ", "\nmin_doc = ", "[learn]: unknown key(s) ['min_doc']"),
        ("\n[[sites]]\n", "\n[[sites]]\nnote = 'x'\n", "site 1: unknown key(s) ['note']"),
    ],
)
def test_a_misspelt_key_is_named_with_the_known_ones(learned: Path, old: str, new: str, message: str) -> None:
    err = _refused(_edited(learned, old, new), message)
    assert err.hint is not None and err.hint.startswith("known keys: [")


def test_a_missing_key_is_named_where_it_is_missing(learned: Path) -> None:
    text = learned.read_text(encoding="utf-8")
    hilltop = text.index('host = "hilltop.example"')
    entry = text.index("\ntext = ", hilltop)
    learned.write_text(text[:entry] + text[text.index("\n", entry + 1) :], encoding="utf-8")
    _refused(learned, "site 2, line 1: missing key 'text'")


def test_a_missing_host_is_named(learned: Path) -> None:
    _refused(_edited(learned, '\nhost = "hilltop.example"', ""), "site 2: missing key 'host'")


def test_two_entries_with_one_id_are_refused(learned: Path) -> None:
    text = learned.read_text(encoding="utf-8")
    first, second = [line for line in text.splitlines() if line.startswith('id = "site:harbourgazette')]
    rid = first.split('"')[1]
    learned.write_text(text.replace(second, first), encoding="utf-8")
    _refused(learned, f"duplicate rule id {rid!r} (site 1, line 1 and site 1, line 2)")


def _hilltop_entry(path: Path) -> tuple[str, str]:
    """The id and the ``text = ...`` line of hilltop.example's learned line."""
    text = path.read_text(encoding="utf-8")
    hilltop = text.index('host = "hilltop.example"')
    rid = text[text.index('id = "', hilltop) :].split('"')[1]
    return rid, text[text.index("\ntext = ", hilltop) + 1 :].split("\n")[0]


def test_an_edited_line_keeps_the_id_its_file_gives(learned: Path, tmp_path: Path) -> None:
    # The id line was ignored and the id made again from the edited text: the rule ran (and the
    # ledger, explain and `rules` named it) under an id the file did not hold, and disabling the
    # file's id was refused as an "unknown rule id".
    rid, line = _hilltop_entry(learned)
    _edited(learned, line, 'text = "Edited by the reviewer"')
    listed = CliRunner().invoke(cli, ["rules", "--site-rules", str(learned), "--json"])
    assert listed.exit_code == 0, listed.output
    site = {r["id"]: r for r in json.loads(listed.output) if r["pack"] == "site"}
    assert rid in site and "Edited" in site[rid]["pattern"]
    doc = tmp_path / "d.txt"
    doc.write_text(
        "Hill road reopens\n\nThe hill road reopened on Monday after repairs.\n\nEdited by the reviewer\n"
    )
    url = "https://hilltop.example/a"
    args = ["explain", str(doc), "--url", url, "--model", "none", "--site-rules", str(learned)]
    res = CliRunner().invoke(cli, args)  # explain had no --site-rules: only a config file's
    assert res.exit_code == 0 and f"by {rid} " in res.output, res.output
    cfg = tmp_path / "c.toml"
    cfg.write_text(
        f"[boilerplate]\nsite_rules_file = '{learned}'\nmodel = 'none'\ndisabled_rules = [{rid!r}]\n"
    )
    res = CliRunner().invoke(cli, ["rules", "--config", str(cfg)])
    assert res.exit_code == 0 and rid not in res.output, res.output


def test_an_id_of_another_host_is_refused(learned: Path) -> None:
    rid, _ = _hilltop_entry(learned)
    moved = rid.replace("hilltop.example", "elsewhere.example")
    _refused(
        _edited(learned, rid, moved), f"site 2, line 1: id {moved!r} must start with 'site:hilltop.example:'"
    )


def test_text_and_shape_in_one_entry_are_refused(learned: Path) -> None:
    # the shape won and the text was dropped without a word
    _refused(
        _edited(learned, "\ntext = ", '\nshape = "{NAME} wrote"\ntext = '), "site 1, line 1: give either"
    )


def test_a_site_rules_file_that_cannot_be_read_is_a_rule_error(tmp_path: Path) -> None:
    (tmp_path / "s.toml").mkdir()  # was an IsADirectoryError traceback
    with pytest.raises(RuleError, match="cannot be read"):
        load_site_rules(tmp_path / "s.toml")
    res = CliRunner().invoke(cli, ["rules", "--site-rules", str(tmp_path / "s.toml")])
    assert res.exit_code == 2 and "Traceback" not in res.output, res.output


def test_a_shape_of_many_names_in_a_row_is_refused(tmp_path: Path) -> None:
    # each {NAME} takes 1-6 words: ten in a row took 25 s to fail on a 60-word capitalised line
    path = tmp_path / "r.toml"
    names = " ".join(["{NAME}"] * 5)
    path.write_text(f"[[sites]]\nhost = 'a.example'\nlines = [{{shape = '{names} wrote'}}]\n")
    with pytest.raises(RuleError, match=r"site 1, line 1: shape .* more than 4 \{NAME\} in a row"):
        load_site_rules(path)
    path.write_text("[[sites]]\nhost = 'a.example'\nlines = [{shape = '{NAME} {NAME} and {NAME} wrote'}]\n")
    assert load_site_rules(path).ids  # separated by text: fine


def test_the_same_line_twice_is_a_duplicate_id_too(tmp_path: Path) -> None:
    path = tmp_path / "r.toml"
    path.write_text("[[sites]]\nhost = 'a.example'\nlines = [{text = 'Share this'}, {text = 'Share this'}]\n")
    with pytest.raises(RuleError, match=r"duplicate rule id 'site:a\.example:"):
        load_site_rules(path)


@pytest.mark.parametrize(
    ("content", "message"),
    [
        ("[[sites]]\nhost = 'a'\nlines = 3\n", "site 1: 'lines' must be a list of tables"),
        ("sites = 'a'\n", "'sites' must be a list of tables"),
        ("[[sites]]\nhost = 'a'\nlines = [{text = 'x', docs = 'many'}]\n", "site 1, line 1: invalid literal"),
        (
            "[[sites]]\nhost = 'a'\nlines = [{text = 'x', block = {items = 2}}]\n",
            "site 1, line 1, block: missing",
        ),
        (
            "[[sites]]\nhost = 'a'\nlines = [{text = 'x', soft = 'yes'}]\n",
            "site 1, line 1: soft must be true",
        ),
        (
            "[[sites]]\nhost = 'a'\nlines = [{text = 'x', soft = true, block = {items = 2, item_words = 5, "
            "item_chars = 40}}]\n",
            "site 1, line 1: 'x': a soft line heads no block",
        ),
    ],
)
def test_bad_values_are_named_where_they_are(tmp_path: Path, content: str, message: str) -> None:
    path = tmp_path / "bad.toml"
    path.write_text(content, encoding="utf-8")
    with pytest.raises(RuleError) as caught:
        load_site_rules(path)
    assert str(caught.value).startswith(f"{path}: {message}"), str(caught.value)


def test_a_json_file_is_checked_alike(tmp_path: Path) -> None:
    rules = learn_site_rules([("a.example", f"Story {i}\n\nShare this article") for i in range(5)])
    path = save_site_rules(rules, tmp_path / "r.json")
    assert load_site_rules(path).lines == rules.lines
    _refused(_edited(path, '"text":', '"txt":'), "site 1, line 1: unknown key(s) ['txt']")
