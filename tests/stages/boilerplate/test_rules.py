"""Rule packs: every built-in rule's own examples and counterexamples, pack validation, user packs."""

from __future__ import annotations

from pathlib import Path

import pytest
from click.testing import CliRunner

from pipeline.cli import cli
from pipeline.core.errors import RuleError
from stages.boilerplate.engine import find_removals
from stages.boilerplate.neighbours import RULES as STRUCTURE_RULES
from stages.boilerplate.rulecheck import check_rules, removes
from stages.boilerplate.rulepack import CATEGORIES, Rule, builtin_pack_path, load_pack, load_rules

BUILTIN = load_pack(builtin_pack_path("builtin")).rules

EXAMPLES = [pytest.param(r, ex, id=f"{r.id}:{i}") for r in BUILTIN for i, ex in enumerate(r.examples)]
COUNTER = [pytest.param(r, ex, id=f"{r.id}:{i}") for r in BUILTIN for i, ex in enumerate(r.counterexamples)]


@pytest.mark.parametrize(("rule", "example"), EXAMPLES)
def test_rule_removes_its_example(rule: Rule, example: str) -> None:
    assert removes(rule, example, BUILTIN)


@pytest.mark.parametrize(("rule", "example"), COUNTER)
def test_rule_keeps_its_counterexample(rule: Rule, example: str) -> None:
    assert not removes(rule, example, BUILTIN)


def test_adjacent_examples_are_checked_next_to_their_anchor() -> None:
    buttons = next(r for r in BUILTIN if r.id == "cookie.buttons")
    assert removes(buttons, "Accept Manage settings", BUILTIN)
    # Without a cookie notice next to it, the same line stays.
    text = "Headline\nAccept Manage settings\nThe council accepted the plan."
    assert find_removals(text, BUILTIN) == []


def _only(rule: Rule, *, examples: tuple[str, ...] = (), counterexamples: tuple[str, ...] = ()) -> Rule:
    from dataclasses import replace

    return replace(rule, examples=examples, counterexamples=counterexamples)


def test_every_builtin_rule_is_documented_and_tested() -> None:
    assert len(BUILTIN) >= 25
    for rule in BUILTIN:
        assert rule.category in CATEGORIES
        assert rule.description, rule.id
        assert rule.examples, f"{rule.id} has no examples"
        if rule.kind != "adjacent":
            assert rule.counterexamples, f"{rule.id} has no counterexamples"


def test_builtin_pack_covers_the_news_categories() -> None:
    covered = {r.category for r in BUILTIN}
    assert CATEGORIES - covered == {"site_repeated"}


def test_check_rules_reports_a_wrong_example() -> None:
    rule = _only(BUILTIN[0], examples=("Nothing to see here.",))
    failures = check_rules([rule])
    assert len(failures) == 1 and "example not removed" in failures[0]


def _write(tmp_path: Path, body: str) -> Path:
    path = tmp_path / "pack.toml"
    path.write_text('[pack]\nname = "mine"\n' + body, encoding="utf-8")
    return path


@pytest.mark.parametrize(
    ("body", "message"),
    [
        ("[[rules]]\nid = 'a'\ncategory = 'nope'\npattern = 'x'\n", "unknown category"),
        ("[[rules]]\nid = 'a'\ncategory = 'ad_marker'\npattern = '('\n", "bad regular expression"),
        ("[[rules]]\nid = 'a'\ncategory = 'ad_marker'\nkind = 'block'\npattern = 'x'\n", "item pattern"),
        ("[[rules]]\nid = 'a'\ncategory = 'ad_marker'\npattern = 'x'\ncolour = 1\n", "unknown key"),
        ("[[rules]]\nid = 'a'\ncategory = 'ad_marker'\npattern = 'x'\nconfidence = 'sure'\n", "confidence"),
        ("[[rules]]\nid = 'a'\ncategory = 'ad_marker'\npattern = 'x'\nwhere = 'middle'\n", "where"),
        ("[[rules]]\nid = 'a'\ncategory = 'byline'\npattern = 'By .+'\nmeta = 'author'\n", "named group"),
        ("[[rules]]\nid = 'site:x:1'\ncategory = 'ad_marker'\npattern = 'x'\n", "reserved"),
        ("[[rules]]\nid = 'a'\ncategory = 'ad_marker'\npattern = 'x'\nexamples = 'x'\n", "list of strings"),
        (
            "[[rules]]\nid = 'a'\ncategory = 'ad_marker'\npattern = 'x'\n"
            "[[rules]]\nid = 'a'\ncategory = 'ad_marker'\npattern = 'y'\n",
            "duplicate",
        ),
        # an inline 'x*' took every letter x out of the text ("e[x]pected", "ta[x]")
        ("[[rules]]\nid = 'a'\ncategory = 'ad_marker'\nkind = 'inline'\npattern = 'x*'\n", "empty string"),
        # a meta the engine does not know was accepted and did nothing
        ("[[rules]]\nid = 'a'\ncategory = 'byline'\npattern = 'By (?P<who>.+)'\nmeta = 'who'\n", "meta must"),
        (
            "[[rules]]\nid = 'a'\ncategory = 'ad_marker'\nkind = 'block'\npattern = 'x'\nitem = 'y'\n"
            "min_items = true\n",
            "min_items must be a non-negative integer, got True",
        ),
        (
            "[[rules]]\nid = 'a'\ncategory = 'ad_marker'\nkind = 'block'\npattern = 'x'\nitem = 'y'\n"
            "min_items = 5\nmax_items = 2\n",
            "can never match",
        ),
        # kind defaults to "line": the item was ignored and the rule took the header line alone
        (
            "[[rules]]\nid = 'a'\ncategory = 'ad_marker'\npattern = 'x'\nitem = 'y'\n",
            r"\['item'\] only apply",
        ),
        ("[[rules]]\nid = 'a'\ncategory = 'ad_marker'\npattern = 'x'\nanchor = 'ad_marker'\n", "only apply"),
        # a misspelt table or key loaded the pack without its rules, without a word
        ("[[rule]]\nid = 'a'\ncategory = 'ad_marker'\npattern = 'x'\n", r"unknown key\(s\) \['rule'\]"),
        ("versoin = '2'\n", r"\[pack\]: unknown key\(s\) \['versoin'\]"),
    ],
)
def test_bad_packs_fail_with_a_clear_message(tmp_path: Path, body: str, message: str) -> None:
    with pytest.raises(RuleError, match=message):
        load_pack(_write(tmp_path, body))


@pytest.mark.parametrize(
    ("content", "message"),
    [
        ("pack = 'mine'\n", r"\[pack\] must be a table, not str"),
        ("rules = ['a', 'b']\n", r"'rules' must be a list of tables \(\[\[rules\]\]\)"),
        ("[rules]\nid = 'a'\n", r"'rules' must be a list of tables"),
    ],
)
def test_a_pack_of_the_wrong_shape_is_refused_not_a_traceback(
    tmp_path: Path, content: str, message: str
) -> None:
    # these were AttributeError tracebacks (exit 1) from `cleanwire rules --rules FILE`
    path = tmp_path / "pack.toml"
    path.write_text(content, encoding="utf-8")
    with pytest.raises(RuleError, match=message):
        load_pack(path)
    res = CliRunner().invoke(cli, ["rules", "--rules", str(path)])
    assert res.exit_code == 2 and "Traceback" not in res.output, res.output


def test_a_rule_file_in_latin_1_is_named_as_not_utf_8(tmp_path: Path) -> None:
    path = tmp_path / "pack.toml"
    path.write_bytes("[pack]\nname = 'März'\n".encode("latin-1"))
    with pytest.raises(RuleError, match=r"is not UTF-8 \(as TOML must be\)"):
        load_pack(path)


def test_a_rule_file_that_cannot_be_read_is_a_config_error(tmp_path: Path) -> None:
    # a directory named in boilerplate.rule_files was an IsADirectoryError traceback
    (tmp_path / "rules.toml").mkdir()
    with pytest.raises(RuleError, match="cannot be read"):
        load_pack(tmp_path / "rules.toml")
    cfg = tmp_path / "c.toml"
    cfg.write_text(f"[boilerplate]\nrule_files = ['{tmp_path / 'rules.toml'}']\n")
    res = CliRunner().invoke(cli, ["rules", "--config", str(cfg)])
    assert res.exit_code == 2 and "cannot be read" in res.stderr, res.output


def test_user_pack_adds_rules_and_clashing_ids_are_refused(tmp_path: Path) -> None:
    pack = _write(
        tmp_path,
        "[[rules]]\nid = 'mine.tip'\ncategory = 'promo_block'\npattern = 'Got a story\\\\? Email us.*'\n"
        "examples = ['Got a story? Email us at news@example.org']\n",
    )
    rules = load_rules(("builtin",), (str(pack),))
    assert rules[-1].id == "mine.tip" and rules[-1].pack == "mine"
    clash = tmp_path / "clash.toml"
    clash.write_text("[[rules]]\nid = 'ad.marker'\ncategory = 'ad_marker'\npattern = 'x'\n")
    with pytest.raises(RuleError, match="defined in both"):
        load_rules(("builtin",), (str(clash),))
    assert "ad.marker" not in {r.id for r in load_rules(("builtin",), (), ("ad.marker",))}


def test_unknown_disabled_rule_ids_are_refused_and_user_pack_rules_can_be_disabled(tmp_path: Path) -> None:
    # a typo in disabled_rules was ignored: the rule stayed on without a word
    with pytest.raises(RuleError, match=r"unknown rule id\(s\) \['no\.such\.rule'\]") as err:
        load_rules(("builtin",), (), ("ad.marker", "no.such.rule"))
    assert err.value.hint is not None and "cleanwire rules" in err.value.hint
    with pytest.raises(RuleError, match=r"did you mean \['source\.read_full_article'\]"):
        load_rules(("builtin",), (), ("source.read_full_articel",))
    pack = _write(
        tmp_path,
        "[[rules]]\nid = 'mine.tip'\ncategory = 'promo_block'\npattern = 'Got a story\\\\? Email us.*'\n",
    )
    assert "mine.tip" not in {r.id for r in load_rules(("builtin",), (str(pack),), ("mine.tip",))}
    with pytest.raises(RuleError, match=r"mine\.tip"):  # the pack that defines it is not loaded
        load_rules(("builtin",), (), ("mine.tip",))


def test_cli_refuses_an_unknown_disabled_rule_before_any_output(tmp_path: Path) -> None:
    cfg = tmp_path / "c.toml"
    cfg.write_text("[boilerplate]\ndisabled_rules = ['no.such.rule']\n")
    doc = tmp_path / "d.txt"
    # (a title first: in a text record without one, the first headline-shaped line, here the
    # source line, would be kept from the model as the title)
    doc.write_text(
        "Tram line extension approved\n\nThe tram line extension was approved by the council on Tuesday.\n\n"
        "Source: Read Full Article\n"
    )
    for args in (["run", str(doc), "-o", str(tmp_path / "o"), "-w", "1"], ["rules"], ["explain", str(doc)]):
        res = CliRunner().invoke(cli, [*args, "--config", str(cfg)])
        assert res.exit_code == RuleError.exit_code == 2, (args, res.output)
        assert "unknown rule id(s) ['no.such.rule']" in res.stderr and "cleanwire rules" in res.stderr
    assert not (tmp_path / "o").exists()
    cfg.write_text("[boilerplate]\ndisabled_rules = ['source.read_full_article']\n")
    res = CliRunner().invoke(cli, ["explain", str(doc), "--config", str(cfg), "--model", "none"])
    assert res.exit_code == 0 and "Read Full Article" in res.stdout.rstrip().splitlines()[-1]
    # with the learned model on, the line still goes: the model takes what the disabled rule left
    res = CliRunner().invoke(cli, ["explain", str(doc), "--config", str(cfg)])
    assert res.exit_code == 0 and "Read Full Article" not in res.stdout.rstrip().splitlines()[-1]
    assert "by model:" in res.stdout


def test_cli_rules_check_runs_every_example(tmp_path: Path) -> None:
    res = CliRunner().invoke(cli, ["rules", "--check"])
    assert res.exit_code == 0, res.output
    assert f"{len(BUILTIN) + len(STRUCTURE_RULES)} rules, 0 failing" in res.output
    bad = _write(
        tmp_path,
        "[[rules]]\nid = 'mine.bad'\ncategory = 'ad_marker'\npattern = 'Advert'\nexamples = ['Sponsored']\n",
    )
    res = CliRunner().invoke(cli, ["rules", "--check", "--rules", str(bad)])
    assert res.exit_code == 2
    assert "mine.bad: example not removed" in res.output


def test_a_user_rule_that_takes_every_line_trips_the_budget_and_explain_names_it(tmp_path: Path) -> None:
    # explain said only `flags: ['removal_budget_exceeded']` (and `REJECTED: removal_budget`):
    # neither the share nor the rule that would have gutted the document
    pack = _write(tmp_path, "[[rules]]\nid = 'mine.everything'\ncategory = 'footer'\npattern = '.+'\n")
    doc = tmp_path / "d.txt"
    doc.write_text(
        "Tram line extension approved\n\n"
        "The tram line extension was approved by the council on Tuesday after a long debate.\n\n"
        "Work on the new stops starts in the spring and should be finished within two years.\n\n"
        "Residents along the route will be consulted on the design of the stops in March.\n"
    )
    args = ["explain", str(doc), "--rules", str(pack), "--model", "none"]
    res = CliRunner().invoke(cli, args)
    assert res.exit_code == 0, res.output
    assert "removal_budget_exceeded" in res.output and "most by mine.everything" in res.output
    assert "in March." in res.output.rstrip().splitlines()[-1]  # kept unchanged
    cfg = tmp_path / "c.toml"
    cfg.write_text("[boilerplate]\non_budget_exceeded = 'reject'\n")
    res = CliRunner().invoke(cli, [*args, "--config", str(cfg)])
    assert "REJECTED: removal_budget" in res.output and "most by mine.everything" in res.output
