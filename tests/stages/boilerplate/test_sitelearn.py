"""Per-site learning: the pure learner, save/load for review, and both passes end to end."""

from __future__ import annotations

import json
import re
import tomllib
from pathlib import Path

import pyarrow.parquet as pq
import pytest
import tomli_w
from click.testing import CliRunner

from pipeline.cli import cli
from pipeline.cli.sites import describe
from pipeline.core.config import BoilerplateConfig
from pipeline.core.errors import RuleError
from pipeline.core.record import Doc
from stages.boilerplate.neighbours import RULES as STRUCTURE_RULES
from stages.boilerplate.normalise import typographic_view
from stages.boilerplate.rulepack import load_rules
from stages.boilerplate.sitefile import load_site_rules, save_site_rules
from stages.boilerplate.sitelearn import learn_site_rules
from stages.boilerplate.siterules import LearnConfig, SiteRules, covered_by, host_of, site_rule_id, unmarked
from stages.boilerplate.stage import Boilerplate
from tests.conftest import FIXTURES

DUMP = FIXTURES / "boilerplate" / "sites.jsonl"
#: These tests are about site rules: the learned model (which takes the tip line and a tiny site's
#: footer on its own) is off, so what is checked is what the site rules do.
RULES_ONLY = BoilerplateConfig(model="none")
TIP = "Tip us off: news@harbourgazette.example"
GROUP = "Harbour Gazette is part of the Coastline Media group"
PRINTED = "Printed and published by Hilltop Press Ltd"


#: Distinct stories (a title and a paragraph), for sites made up in the tests.
STORIES = [
    ("Ferry timetable changes", "The morning ferry will leave twenty minutes earlier from next week."),
    ("Lifeboat crew called out", "Volunteers were called out twice on Sunday to help stranded walkers."),
    ("New benches for the promenade", "Twelve benches will be installed along the seafront this spring."),
    ("Harbour fees to rise", "Mooring fees at the harbour will go up again in April, the board said."),
    ("School choir wins prize", "The choir of the primary school has won a regional singing prize."),
    ("Fish market opens on Saturdays", "Traders hope the change will bring more visitors to the quay."),
    ("Road closed for resurfacing", "Hill Road will be closed for resurfacing for a fortnight."),
    ("Library extends opening hours", "The town library will stay open later on Thursday evenings."),
]


def _site(lines: str, n: int = 6) -> list[str]:
    """``n`` stories, each followed by ``lines``."""
    return [f"{title}\n{body}\n{lines}" for title, body in STORIES[:n]]


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
    strict = learn_site_rules(_pairs(), LearnConfig(min_share=0.6, soft_share=0))
    assert GROUP not in {ln.text for ln in strict.lines["harbourgazette.example"]}  # 3 of 6 docs
    # under the share of a rule, in min_repeat documents: learned soft
    soft = learn_site_rules(_pairs(), LearnConfig(min_share=0.6))
    assert [ln.text for ln in soft.lines["harbourgazette.example"] if ln.soft] == [GROUP]
    short = learn_site_rules(_pairs(), LearnConfig(max_words=6))
    assert "hilltop.example" not in short.lines  # the printer's line has 7 words
    with pytest.raises(RuleError):
        LearnConfig(min_docs=1)
    with pytest.raises(RuleError):
        LearnConfig(min_share=0.0)


def test_a_label_is_one_line_whatever_mark_it_ends_in() -> None:
    """A site writes its promo header as "Most read:", "Most read »" and "Most read…": one line to
    learn, and its rule takes every variant (and the bare label)."""
    marks = [":", " »", "…", " ->", "...", ":", " |"]
    docs = [("m.example", f"{t}\n{b}\nMost read{m}") for (t, b), m in zip(STORIES, marks, strict=False)]
    (line,) = learn_site_rules(docs).lines["m.example"]
    assert line.text == "Most read:" and line.docs == 7
    rule = re.compile(line.regex)
    assert all(rule.fullmatch(typographic_view(f"Most read{m}")) for m in [*marks, "", " >", " →"])
    assert not rule.fullmatch("Most read today") and not rule.fullmatch("Most read.")
    assert unmarked("Most read »") == "Most read" and unmarked("»") == "»"


def test_a_labels_id_and_its_evidence_on_other_sites_ignore_the_end_mark() -> None:
    def site(host: str, marks: list[str]) -> list[tuple[str | None, str]]:
        return [(host, f"{t}\n{b}\nMost read{m}") for (t, b), m in zip(STORIES, marks, strict=False)]

    one = learn_site_rules(site("m.example", [":"] * 4 + [" »"] * 3)).lines["m.example"]
    other = learn_site_rules(site("m.example", [":"] * 3 + [" »"] * 4)).lines["m.example"]
    assert [site_rule_id("m.example", ln) for ln in one] == [site_rule_id("m.example", ln) for ln in other]
    # learned on its own on a.example as "Most read »", it carries over to b.example's "Most read:"
    # (2 of 8 documents: under the share a line needs on its own)
    b_docs = [
        ("b.example", f"{t}\n{b}" + ("\nMost read:" if i < 2 else "")) for i, (t, b) in enumerate(STORIES)
    ]
    rules = learn_site_rules([*site("a.example", [" »"] * 6), *b_docs], LearnConfig(soft_share=0))
    assert [ln.text for ln in rules.lines["b.example"]] == ["Most read:"]


# --- soft lines -------------------------------------------------------------------------------------

SIGNED = "Sie haben sich erfolgreich für Freizeit-Tipps angemeldet."


#: A second paragraph for each of :data:`STORIES`, in words of its own.
MORE = [
    "Commuters travelling towards Skellow complained that connecting buses still leave before arrival.",
    "Both stranded walkers were brought ashore safely, although coastguards criticised their footwear.",
    "Families sponsoring individual benches may choose engraved plaques commemorating relatives.",
    "Skippers threatened protests, arguing electricity charges already doubled since autumn.",
    "Teachers praised pupils rehearsing weekly throughout winter despite repeated heating failures.",
    "Stallholders selling smoked mackerel expect tourists arriving aboard weekend cruise vessels.",
    "Motorists should follow diversion signage through Orchard Lane while contractors resurface.",
    "Librarians hope students preparing examinations will appreciate quieter evening reading rooms.",
]


def _soft_site(every: int, n: int = 8) -> list[tuple[str | None, str]]:
    """``n`` stories of two long paragraphs; every ``every``-th has :data:`SIGNED` between them."""
    out: list[tuple[str | None, str]] = []
    for i, ((title, body), more) in enumerate(zip(STORIES[:n], MORE, strict=True)):
        notice = f"\n{SIGNED}" if i % every == 0 else ""
        out.append(("s.example", f"{title}\n{body} {more}{notice}\n{more} {body}"))
    return out


def test_a_sentence_between_paragraphs_on_a_few_pages_is_learned_soft() -> None:
    # in 4 of 8 documents, but always between two long paragraphs: no rule, a soft line
    (line,) = learn_site_rules(_soft_site(2)).lines["s.example"]
    assert (line.text, line.docs, line.soft) == (SIGNED, 4, True)
    assert SiteRules(lines={"s.example": (line,)}).rules_for("https://s.example/1") == ()
    assert [
        r.id for r in SiteRules(lines={"s.example": (line,)}).rules_for("https://s.example/1", soft=True)
    ] == [site_rule_id("s.example", line)]
    # in fewer than min_repeat documents, or with soft lines off: nothing
    assert learn_site_rules(_soft_site(3)).lines["s.example"][0].docs == 3
    assert "s.example" not in learn_site_rules(_soft_site(4)).lines  # 2 documents
    assert "s.example" not in learn_site_rules(_soft_site(2), LearnConfig(soft_share=0)).lines


def test_the_stage_hands_the_model_where_a_soft_line_stands() -> None:
    stage = Boilerplate(BoilerplateConfig(), site_rules=learn_site_rules(_soft_site(2)))
    _, text = _soft_site(2)[0]
    item = stage.prepare(Doc(id="a", source="s", raw=text, text=text, url="https://www.s.example/1"))
    assert item is not None and [item.units[i].text for i in item.soft] == [SIGNED]
    item = stage.prepare(Doc(id="b", source="s", raw=text, text=text, url="https://other.example/1"))
    assert item is not None and not item.soft


def test_soft_lines_round_trip_and_can_be_disabled(tmp_path: Path) -> None:
    rules = learn_site_rules(_soft_site(2))
    path = save_site_rules(rules, tmp_path / "r.toml")
    assert "soft = true" in path.read_text(encoding="utf-8")
    assert describe(rules, path).startswith(
        "learned 1 line(s) (1 soft: they lower the model's threshold, no rule) for 1 site(s)"
    )
    assert load_site_rules(path).lines == rules.lines
    (rid,) = rules.ids
    stage = Boilerplate(BoilerplateConfig(disabled_rules=(rid,)), site_rules=rules)
    assert stage.soft_set_for("https://s.example/1") is None


def test_lines_known_to_the_packs_are_not_learned() -> None:
    docs = [("s.example", text) for text in _site("Share this article")]
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
    start = text.index("[[sites.lines]]", text.index(GROUP) - 80)
    end = text.index("\n\n", start)  # the entry: from its header to the next blank line
    path.write_text(text[:start] + text[end + 2 :], encoding="utf-8")
    kept = {ln.text for ln in load_site_rules(path).lines["harbourgazette.example"]}
    assert GROUP not in kept and TIP in kept


def test_any_learned_text_round_trips_through_toml(tmp_path: Path) -> None:
    odd = 'Promo\x7f "quoted" \\ backslash end'
    docs = [("odd.example", text) for text in _site(odd)]
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


def test_a_notice_glued_onto_paragraphs_is_learned_and_cut_out_where_glued() -> None:
    """A scrape that lost the break before a notice glues it onto a paragraph ("... board
    said.By registering ..."): the learner counts the piece as a line of its own, and the
    learned line takes it out of the line it is glued into, the paragraph left whole."""
    notice = "By registering you accept the terms of use of Harbour Gazette."
    docs = [
        (title, f"{title}\n\n{body}" + (notice if i % 3 else f"\n\n{notice}"))
        for i, (title, body) in enumerate(STORIES)
    ]
    rules = learn_site_rules([("harbourgazette.example", text) for _, text in docs])
    (line,) = rules.lines["harbourgazette.example"]
    assert (line.text, line.docs, line.soft) == (notice, 8, False)
    stage = Boilerplate(RULES_ONLY, site_rules=rules)
    text = docs[1][1]
    doc = Doc(id="a", source="s", raw=text, text=text, url="https://harbourgazette.example/x")
    stage.process_docs([doc])
    assert doc.text == f"{STORIES[1][0]}\n\n{STORIES[1][1]}"
    (removal,) = doc.removed
    assert text[removal.start : removal.end] == notice
    assert removal.rule == site_rule_id("harbourgazette.example", line)


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
    docs = [("a.example", text) for text in _site(f"- {TIP}", 5)]
    docs.append(("a.example", _site(TIP)[5]))
    rules = learn_site_rules(docs)
    (line,) = rules.lines["a.example"]
    assert (line.text, line.docs) == (TIP, 6)
    text = f"Story\nBody.\n• {TIP}"
    doc = Doc(id="a", source="s", raw=text, text=text, url="https://a.example/9")
    Boilerplate(RULES_ONLY, site_rules=rules).process_docs([doc])
    assert [r.snippet for r in doc.removed] == [f"• {TIP}"]


# --- shapes, block headers, small sites ------------------------------------------------------------

#: (checker, date, time) of a made-up site's update line: only these change from article to article.
CHECKS = [
    ("Jane Doe", "3 March 2024", "14:05"),
    ("John Smith", "11 April 2024", "09:30"),
    ("Maria Lopez", "2 May 2024", "18:45"),
    ("Peter Brown", "19 June 2024", "07:15"),
    ("Anna Weber", "5 July 2024", "12:00"),
]
HEADLINES = [
    "Council approves new budget",
    "Storm damages the pier",
    "Local team wins the cup",
    "Bakery closes after fifty years",
    "Bus route to change",
    "Museum reopens its doors",
    "Festival dates announced",
    "Bridge repairs delayed again",
    "Mayor visits the school",
    "Harbour dredging starts",
]
QUAY = "Around the quay"


def _templated(n: int) -> list[tuple[str | None, str]]:
    """``n`` stories of one site: an update line naming who checked it and when, a block of two
    headlines under a fixed header, and an edition number: none of them known to the packs."""
    docs: list[tuple[str | None, str]] = []
    for i, ((title, body), (name, date, time)) in enumerate(zip(STORIES, CHECKS[:n], strict=False)):
        lines = [title, f"Fact-checked by {name} on {date}, {time}", body, QUAY]
        lines += [*HEADLINES[2 * i : 2 * i + 2], f"Harbour Gazette edition {340 + i}"]
        docs.append(("hg.example", "\n".join(lines)))
    return docs


def _clean(rules: SiteRules, text: str, url: str = "https://hg.example/new") -> Doc:
    doc = Doc(id="n", source="s", raw=text, text=text, url=url)
    Boilerplate(RULES_ONLY, site_rules=rules).process_docs([doc])
    return doc


NEW = (
    "A new story\n"
    "Fact-checked by Karl Heinz Berg on 9 August 2025, 10:10\n"
    "The first paragraph of a story the learner never saw.\n"
    f"{QUAY}\nSomething new on the quay\nSomething else\n"
    "The last paragraph of the story.\n"
    "Harbour Gazette edition 999"
)


def test_a_line_changing_per_article_is_learned_once_as_a_shape_and_removed() -> None:
    rules = learn_site_rules(_templated(5))
    shaped = {ln.text: ln for ln in rules.lines["hg.example"] if ln.shaped}
    assert set(shaped) == {"Fact-checked by {NAME} on {DATE}, {TIME}", "Harbour Gazette edition {NUM}"}
    check = shaped["Fact-checked by {NAME} on {DATE}, {TIME}"]
    assert (check.docs, check.share) == (5, 1.0)
    assert check.examples[0] == "Fact-checked by Jane Doe on 3 March 2024, 14:05"
    # a new name, date, time and number: the one rule still takes the line
    doc = _clean(rules, NEW)
    gone = {r.snippet for r in doc.removed if r.rule.startswith("site:hg.example:")}
    assert "Fact-checked by Karl Heinz Berg on 9 August 2025, 10:10" in gone
    assert "Harbour Gazette edition 999" in gone
    assert "The first paragraph of a story the learner never saw." in doc.text
    assert "The last paragraph of the story." in doc.text


def test_a_block_header_is_learned_with_the_short_lines_under_it() -> None:
    rules = learn_site_rules(_templated(5))
    (header,) = [ln for ln in rules.lines["hg.example"] if ln.block is not None]
    assert header.text == QUAY and not header.shaped
    assert header.block is not None and header.block.items == 2
    assert header.block.examples[:2] == tuple(HEADLINES[:2])
    assert not any(
        ln.text in HEADLINES for ln in rules.lines["hg.example"]
    )  # items are no lines of their own
    doc = _clean(rules, NEW)
    assert f"{QUAY}\nSomething new on the quay\nSomething else" in {r.snippet for r in doc.removed}
    assert "Something new" not in doc.text and "The last paragraph of the story." in doc.text


def test_a_small_site_of_three_documents_learns_its_template() -> None:
    rules = learn_site_rules(_templated(3))
    assert rules.n_docs["hg.example"] == 3
    texts = {ln.text for ln in rules.lines["hg.example"]}
    assert {QUAY, "Fact-checked by {NAME} on {DATE}, {TIME}", "Harbour Gazette edition {NUM}"} <= texts
    doc = _clean(rules, NEW)
    assert "Fact-checked" not in doc.text and "edition 999" not in doc.text
    assert learn_site_rules(_templated(2)).lines == {}  # two documents are not a template


#: Long paragraphs, a different one for each story.
PARAGRAPHS = [
    "Residents who spoke to the paper said they had waited for years and hoped that the work would "
    "finally begin before the busy summer season.",
    "Several shop owners on the quay welcomed the news, although some of them worried about their "
    "deliveries during the weeks of building work.",
    "A spokesperson for the county explained that the cost had been shared between three different "
    "public bodies and that the bill was already paid.",
    "Older visitors in particular had asked for the change, according to a survey that the tourist "
    "office carried out late last autumn among its guests.",
    "The plans were first presented at a public meeting in the town hall, which was attended by around "
    "eighty people from the harbour and the villages.",
    "Local councillors from all parties supported the proposal when it came to a vote at the end of "
    "the session, with only two members abstaining.",
    "Critics argued that the money could have been spent on repairing the roads in the villages outside "
    "the town centre, where potholes are common.",
]
QUOTE = "The harbour board will meet again on Thursday to discuss the plans."
NOTICE = "Letters to the editor may be shortened before they are printed."


def _quoting(n: int, quoted: int) -> list[tuple[str | None, str]]:
    """``n`` stories, each with a notice at the end; the first ``quoted`` of them share a
    sentence between two long paragraphs."""
    docs: list[tuple[str | None, str]] = []
    for i, (title, body) in enumerate(STORIES[:n]):
        lines = [
            title,
            f"{body} {PARAGRAPHS[i]}",
            *([QUOTE] if i < quoted else []),
            PARAGRAPHS[i + 1],
            NOTICE,
        ]
        docs.append(("q.example", "\n".join(lines)))
    return docs


@pytest.mark.parametrize(("n", "quoted"), [(3, 2), (4, 2), (6, 2), (6, 3)])
def test_a_sentence_some_articles_share_is_not_removed(n: int, quoted: int) -> None:
    rules = learn_site_rules(_quoting(n, quoted))
    assert [ln.text for ln in rules.lines["q.example"]] == [NOTICE]  # the notice under every article is
    text = _quoting(n, quoted)[0][1]
    doc = _clean(rules, text, "https://q.example/1")
    assert QUOTE in doc.text and NOTICE not in doc.text


def test_learned_toml_round_trips_and_checks_as_rules(tmp_path: Path) -> None:
    rules = learn_site_rules([*_templated(5), *_pairs()])
    path = save_site_rules(rules, tmp_path / "site-rules.toml")
    data = tomllib.loads(path.read_text(encoding="utf-8"))
    entries = {ln.get("shape", ln.get("text")): ln for site in data["sites"] for ln in site["lines"]}
    check = entries["Fact-checked by {NAME} on {DATE}, {TIME}"]
    assert "text" not in check and len(check["examples"]) == 3
    assert entries[QUAY]["block"]["items"] == 2 and entries[TIP].keys() == {"id", "text", "docs", "share"}
    again = tmp_path / "again.toml"
    again.write_text(tomli_w.dumps(data), encoding="utf-8")  # another writer, same rules
    assert load_site_rules(again).lines == rules.lines
    # every learned rule takes the lines it was learned from (`cleanwire rules --check`)
    res = CliRunner().invoke(cli, ["rules", "--site-rules", str(path), "--check"])
    assert res.exit_code == 0, res.output
    assert (
        f"{len(load_rules(('builtin',))) + len(STRUCTURE_RULES) + len(rules)} rules, 0 failing" in res.output
    )
    listed = CliRunner().invoke(cli, ["rules", "--site-rules", str(path), "--json"])
    assert {r["id"] for r in json.loads(listed.output) if r["pack"] == "site"} == set(rules.ids)
    # a reviewer's edit that no longer fits its examples fails the check
    check["shape"] = "Fact-checked by {NAME} on {DATE}"
    again.write_text(tomli_w.dumps(data), encoding="utf-8")
    res = CliRunner().invoke(cli, ["rules", "--site-rules", str(again), "--check"])
    assert res.exit_code == 2 and "example not removed: 'Fact-checked by Jane Doe" in res.stderr


WALL = "Harbour wall to be rebuilt"
#: One story told five times in other words (as a site reprints a story it updates).
REWRITES = [
    "Engineers discovered extensive structural damage to the crumbling breakwater after winter storms, "
    "and the council decided the structure will be reconstructed completely.",
    "After the winter storms engineers found structural damage along the crumbling breakwater; the "
    "council now says the whole structure must be reconstructed.",
    "The council confirmed that the crumbling breakwater will be reconstructed, since engineers "
    "discovered serious structural damage following the winter storms.",
    "Winter storms left the crumbling breakwater with extensive structural damage, engineers reported, "
    "so the council approved plans to have it reconstructed.",
]


def test_a_masthead_that_shares_one_word_with_the_stories_is_learned() -> None:
    """The outlet's name holds its town's, which its stories use: one shared word makes no title
    (a title shares two or more of its telling words with its article)."""
    docs: list[tuple[str | None, str]] = [
        (
            "sk.example",
            f"Skellow Courier\n{title}\n{body}" + (" The Skellow harbour board agreed." if i < 2 else ""),
        )
        for i, (title, body) in enumerate(STORIES[:6])
    ]
    assert [ln.text for ln in learn_site_rules(docs).lines["sk.example"]] == ["Skellow Courier"]
    # a word the line holds twice is still one word
    twice = [(h, t.replace("Skellow Courier", "Skellow Courier, Skellow's paper")) for h, t in docs]
    assert [ln.text for ln in learn_site_rules(twice).lines["sk.example"]] == [
        "Skellow Courier, Skellow's paper"
    ]


def test_the_title_of_a_story_told_again_is_not_learned_though_other_pages_list_it() -> None:
    docs: list[tuple[str | None, str]] = [
        ("w.example", f"{WALL}\n{body}\nWeekend edition on sale Saturday") for body in REWRITES
    ]
    for i, (title, body) in enumerate(STORIES):  # other stories; two list the wall as a teaser
        teaser = [WALL] if i < 2 else []
        docs.append(("w.example", "\n".join([title, body, *teaser, "Weekend edition on sale Saturday"])))
    learned = {ln.text for ln in learn_site_rules(docs).lines["w.example"]}
    assert learned == {"Weekend edition on sale Saturday"}  # the title is in 7 of 13 documents
    # a line in as many documents, over different stories, is a template line
    docs = [(host, text.replace(f"{WALL}\n", "")) for host, text in docs]
    docs = [
        (host, f"Letters page\n{text}" if i in (0, 6, 7, 8, 9, 10, 11) else text)
        for i, (host, text) in enumerate(docs)
    ]
    assert "Letters page" in {ln.text for ln in learn_site_rules(docs).lines["w.example"]}
