"""Per-site learning: the pure learner, save/load for review, and both passes end to end."""

from __future__ import annotations

import json
import tomllib
from pathlib import Path

import pyarrow.parquet as pq
import pytest
from click.testing import CliRunner

from pipeline.cli import cli
from pipeline.core.config import BoilerplateConfig
from pipeline.core.errors import RuleError
from pipeline.core.record import Doc
from stages.boilerplate.rulepack import load_rules
from stages.boilerplate.sitelearn import (
    LearnConfig,
    SiteRules,
    covered_by,
    host_of,
    learn_site_rules,
    load_site_rules,
    save_site_rules,
    site_rule_id,
)
from stages.boilerplate.stage import Boilerplate
from tests.conftest import FIXTURES

DUMP = FIXTURES / "boilerplate" / "sites.jsonl"
#: These tests are about site rules: the learned model (which takes the tip line and a tiny site's
#: footer on its own) is off, so what is checked is what the site rules do.
RULES_ONLY = BoilerplateConfig(model="none")
TIP = "Tip us off: news@harbourgazette.example"
GROUP = "Harbour Gazette is part of the Coastline Media group"
PRINTED = "Printed and published by Hilltop Press Ltd"


def _pairs() -> list[tuple[str | None, str]]:
    rows = [json.loads(line) for line in DUMP.read_text(encoding="utf-8").splitlines()]
    return [(host_of(r["url"]), r["text"]) for r in rows]


@pytest.mark.parametrize(
    ("url", "host"),
    [
        ("https://www.Example.com/a/b?c=1", "example.com"),
        ("http://news.example.co.uk.", "news.example.co.uk"),
        ("not a url", None),
        (None, None),
        ("", None),
        ("http://[::1", None),
    ],
)
def test_host_of(url: str | None, host: str | None) -> None:
    assert host_of(url) == host


def test_learner_takes_repeated_short_lines_per_host() -> None:
    rules = learn_site_rules(_pairs())
    learned = {h: {ln.text for ln in lines} for h, lines in rules.lines.items()}
    assert learned == {"harbourgazette.example": {TIP, GROUP}, "hilltop.example": {PRINTED}}
    # The exact duplicate counted once: 6 distinct harbour documents.
    assert rules.n_docs["harbourgazette.example"] == 6
    tip = next(ln for ln in rules.lines["harbourgazette.example"] if ln.text == TIP)
    assert (tip.docs, tip.share) == (6, 1.0)


def test_min_docs_guards_small_sites() -> None:
    assert "tiny.example" not in learn_site_rules(_pairs(), LearnConfig(min_docs=3, min_repeat=2)).lines
    assert "tiny.example" in learn_site_rules(_pairs(), LearnConfig(min_docs=2, min_repeat=2)).lines


def test_thresholds_share_and_length() -> None:
    strict = learn_site_rules(_pairs(), LearnConfig(min_share=0.6))
    assert GROUP not in {ln.text for ln in strict.lines["harbourgazette.example"]}  # 3 of 6 docs
    short = learn_site_rules(_pairs(), LearnConfig(max_words=6))
    assert "hilltop.example" not in short.lines  # the printer's line has 7 words
    with pytest.raises(RuleError):
        LearnConfig(min_docs=1)
    with pytest.raises(RuleError):
        LearnConfig(min_share=0.0)


def test_lines_known_to_the_packs_are_not_learned() -> None:
    docs = [
        ("s.example", f"Story {i}\nBody text number {i} of the story.\nShare this article") for i in range(6)
    ]
    assert learn_site_rules(docs).lines["s.example"][0].text == "Share this article"
    assert learn_site_rules(docs, known=covered_by(load_rules(("builtin",)))).lines == {}


@pytest.mark.parametrize("suffix", [".toml", ".json"])
def test_save_and_load_round_trip(tmp_path: Path, suffix: str) -> None:
    rules = learn_site_rules(_pairs())
    path = save_site_rules(rules, tmp_path / f"site-rules{suffix}")
    again = load_site_rules(path)
    assert again.lines == rules.lines and again.n_docs == rules.n_docs and again.config == rules.config


def test_reviewer_can_delete_an_entry(tmp_path: Path) -> None:
    path = save_site_rules(learn_site_rules(_pairs()), tmp_path / "r.toml")
    text = path.read_text(encoding="utf-8")
    block = text[text.index("[[sites.lines]]", text.index(GROUP) - 80) :]
    block = block[: block.index("share =")]
    edited = text.replace(block, "").replace("share = 0.5\n", "", 1)
    path.write_text(edited, encoding="utf-8")
    assert GROUP not in {ln.text for ln in load_site_rules(path).lines["harbourgazette.example"]}


def test_any_learned_text_round_trips_through_toml(tmp_path: Path) -> None:
    odd = 'Promo\x7f "quoted" \\ backslash end'
    docs = [("odd.example", f"Story {i}\nBody text number {i} of the story.\n{odd}") for i in range(6)]
    rules = learn_site_rules(docs)
    assert odd in {ln.text for ln in rules.lines["odd.example"]}
    path = save_site_rules(rules, tmp_path / "r.toml")
    tomllib.loads(path.read_text(encoding="utf-8"))  # readable by any TOML reader
    assert load_site_rules(path).lines == rules.lines


@pytest.mark.parametrize(
    "content", ["[[sites]]\nlines = 3\n", "not = [toml", "[[sites]]\nhost = 'a'\nlines = [{docs = 1}]\n"]
)
def test_bad_site_rules_files_are_config_errors(tmp_path: Path, content: str) -> None:
    path = tmp_path / "bad.toml"
    path.write_text(content, encoding="utf-8")
    with pytest.raises(RuleError):
        load_site_rules(path)
    with pytest.raises(RuleError, match="not found"):
        load_site_rules(tmp_path / "missing.toml")


def test_stage_removes_learned_lines_only_on_their_site() -> None:
    stage = Boilerplate(RULES_ONLY, site_rules=learn_site_rules(_pairs()))
    text = f"Story\n\nFirst paragraph here.\n\n{TIP}\n\nSecond paragraph here."
    on_site = Doc(id="a", source="s", raw=text, text=text, url="https://harbourgazette.example/x")
    elsewhere = Doc(id="b", source="s", raw=text, text=text, url="https://hilltop.example/x")
    stage.process_docs([on_site, elsewhere])
    assert TIP not in on_site.text and TIP in elsewhere.text
    (removal,) = on_site.removed
    assert removal.category == "site_repeated"
    assert removal.rule.startswith("site:harbourgazette.example:")
    assert text[removal.start : removal.end] == TIP
    assert elsewhere.removed == []


def test_learned_site_rules_can_be_disabled_by_id_and_unknown_site_ids_are_refused() -> None:
    learned = learn_site_rules(_pairs())
    tip_id = next(site_rule_id(h, ln) for h, lines in learned.lines.items() for ln in lines if ln.text == TIP)
    assert tip_id in learned.ids and tip_id.startswith("site:harbourgazette.example:")
    stage = Boilerplate(BoilerplateConfig(disabled_rules=(tip_id,), model="none"), site_rules=learned)
    text = f"Story\n\nFirst paragraph here.\n\n{TIP}\n\n{GROUP}\n\nSecond paragraph here."
    doc = Doc(id="a", source="s", raw=text, text=text, url="https://harbourgazette.example/x")
    stage.process_docs([doc])
    assert TIP in doc.text and GROUP not in doc.text  # the other learned line still goes
    for bad in ("site:harbourgazette.example:0000000000", "site:nowhere.example:abc"):
        with pytest.raises(RuleError, match="unknown rule id"):
            Boilerplate(BoilerplateConfig(disabled_rules=(bad,)), site_rules=learned)
    with pytest.raises(RuleError, match="unknown rule id"):  # no site rules at all
        Boilerplate(BoilerplateConfig(disabled_rules=(tip_id,)))


def test_run_with_a_disabled_site_rule_from_the_file(tmp_path: Path) -> None:
    rules_file = tmp_path / "site-rules.toml"
    save_site_rules(learn_site_rules(_pairs()), rules_file)
    tip_id = next(
        ln["id"]
        for site in tomllib.loads(rules_file.read_text(encoding="utf-8"))["sites"]
        for ln in site["lines"]
        if ln["text"] == TIP
    )
    cfg = tmp_path / "c.toml"
    cfg.write_text(f"[boilerplate]\ndisabled_rules = [{tip_id!r}]\nmodel = 'none'\n")
    out = tmp_path / "out"
    args = ["run", str(DUMP), "-o", str(out), "--site-rules", str(rules_file), "-w", "1", "--no-dedup"]
    res = CliRunner().invoke(cli, [*args, "--config", str(cfg)])
    assert res.exit_code == 0, res.output
    rows = _rows(out)
    assert TIP in str(rows["hg-1"]["text"]) and PRINTED not in str(rows["ht-0"]["text"])
    cfg.write_text(f"[boilerplate]\ndisabled_rules = [{tip_id[:-1] + 'x'!r}]\n")
    res = CliRunner().invoke(cli, [*args, "--config", str(cfg), "--overwrite"])
    assert res.exit_code == 2 and "unknown rule id" in res.stderr


def test_empty_site_rules_change_nothing() -> None:
    assert SiteRules().rules_for("https://harbourgazette.example/") == ()
    assert len(SiteRules()) == 0


def _rows(out: Path) -> dict[str, dict[str, object]]:
    rows = [r for f in sorted(out.glob("part-*.parquet")) for r in pq.read_table(f).to_pylist()]
    return {str(r["id"]): r for r in rows}


def test_learn_sites_then_run_with_site_rules(tmp_path: Path) -> None:
    runner = CliRunner()
    rules_file = tmp_path / "site-rules.toml"
    res = runner.invoke(cli, ["learn-sites", str(DUMP), "-o", str(rules_file)])
    assert res.exit_code == 0, res.output
    assert "learned 3 line(s) for 2 site(s)" in res.output
    assert TIP in rules_file.read_text(encoding="utf-8")
    out = tmp_path / "out"
    res = runner.invoke(
        cli,
        [
            *("run", str(DUMP), "-o", str(out), "--site-rules", str(rules_file)),
            *("--workers", "1", "--no-dedup", "--model", "none"),
        ],
    )
    assert res.exit_code == 0, res.output
    rows = _rows(out)
    assert TIP not in str(rows["hg-1"]["text"]) and PRINTED not in str(rows["ht-0"]["text"])
    assert "Tiny Times, Nowhere" in str(rows["tiny-0"]["text"])
    removed = rows["hg-0"]["removed"]
    assert isinstance(removed, list)
    assert {r["category"] for r in removed} == {"site_repeated"}
    assert "Ferry timetable changes from Monday" in str(rows["hg-0"]["text"])


def test_run_learn_sites_does_both_passes(tmp_path: Path) -> None:
    out = tmp_path / "out"
    res = CliRunner().invoke(cli, ["run", str(DUMP), "-o", str(out), "--learn-sites", "--workers", "1"])
    assert res.exit_code == 0, res.output
    assert (tmp_path / "out-site-rules.toml").is_file()
    assert all(TIP not in str(r["text"]) for r in _rows(out).values())


def test_run_with_a_missing_site_rules_file_fails_before_output(tmp_path: Path) -> None:
    out = tmp_path / "out"
    res = CliRunner().invoke(
        cli, ["run", str(DUMP), "-o", str(out), "--site-rules", str(tmp_path / "no.toml")]
    )
    assert res.exit_code == 2
    assert not out.exists()


def test_list_markers_do_not_hide_a_repeated_line() -> None:
    docs = [("a.example", f"Story {i}\nBody {i} of the story.\n- {TIP}") for i in range(5)]
    docs.append(("a.example", f"Story 5\nBody 5 of the story.\n{TIP}"))
    rules = learn_site_rules(docs)
    (line,) = rules.lines["a.example"]
    assert (line.text, line.docs) == (TIP, 6)
    text = f"Story\nBody.\n• {TIP}"
    doc = Doc(id="a", source="s", raw=text, text=text, url="https://a.example/9")
    Boilerplate(RULES_ONLY, site_rules=rules).process_docs([doc])
    assert [r.snippet for r in doc.removed] == [f"• {TIP}"]
