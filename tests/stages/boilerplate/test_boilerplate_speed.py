"""The boilerplate engine's shortcuts change nothing.

The engine skips rules that cannot match a line (by the line's first characters and by literals
every match contains, see ``stages.boilerplate.rulepack.LineFilter``) and visits only the lines an adjacent
rule can take. A plain reference engine below (every line offered to every rule in order, as the
engine did before the shortcuts) must find exactly the same removals - rule, category, span,
snippet and captured groups - on real texts and on generated documents built from the rules' own
examples. The shortcuts' building blocks are tested on their own too.
"""

from __future__ import annotations

import json
import random
import re
import sys
from bisect import bisect_left, bisect_right
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from bench.corpus import fallback_pool, paragraph_pool, synth_text
from pipeline.core.blocks import nonspace
from pipeline.core.config import BoilerplateConfig
from pipeline.core.prefilter import (
    FOLD_UNSAFE,
    ascii_folded,
    foldable,
    line_filter,
)
from stages.boilerplate.engine import (
    Line,
    block_end,
    find_removals,
    rule_set,
    split_lines,
)
from stages.boilerplate.normalise import typographic_view
from stages.boilerplate.rulepack import (
    LIST_MARKER,
    Rule,
    load_rules,
)
from stages.boilerplate.sitelearn import learn_site_rules
from stages.boilerplate.siterules import host_of
from stages.boilerplate.stage import Boilerplate, budget_use
from tests.conftest import FIXTURES

RULES = load_rules(("builtin",))
SETTINGS = settings(
    max_examples=150, deadline=None, derandomize=True, suppress_health_check=[HealthCheck.too_slow]
)

#: One removal as compared: rule id, category, start, end, snippet, captured groups.
Seen = tuple[str, str, int, int, str, dict[str, str | Any] | None]


# --- the reference engine: plain loops, no shortcuts ---------------------------------------------


def reference_lines(text: str) -> list[Line]:
    out: list[Line] = []
    pos = 0
    for raw in text.splitlines(keepends=True):
        content = raw.rstrip("\r\n")
        stripped = content.strip()
        if stripped:
            lead = len(content) - len(content.lstrip())
            body = LIST_MARKER.sub("", stripped, count=1)
            out.append(Line(len(out), pos + lead, pos + lead + len(stripped), stripped, body))
        pos += len(raw)
    return out


def _in_window(rule: Rule, i: int, n: int) -> bool:
    if rule.where == "head":
        return i < rule.window
    if rule.where == "tail":
        return i >= n - rule.window
    return True


def reference_removals(text: str, rules: Sequence[Rule]) -> list[Seen]:
    """Rules match the text's typographic view (same offsets); removals record the text itself."""
    view = typographic_view(text)
    lines = reference_lines(view)
    n = len(lines)
    found: list[tuple[int, int, Rule, re.Match[str] | None]] = []
    taken: dict[int, str] = {}
    touched: set[int] = set()

    def add(rule: Rule, start: int, end: int, match: re.Match[str] | None, covered: range) -> None:
        found.append((start, end, rule, match))
        for j in covered:
            taken[j] = rule.category

    def free(ln: Line) -> bool:
        return ln.index not in taken and ln.index not in touched

    starts = [ln.start for ln in lines]
    ends = [ln.end for ln in lines]
    for rule in rules:  # inline rules anywhere
        if rule.kind != "inline":
            continue
        for m in rule.pattern.finditer(view):
            if m.end() > m.start():
                near = range(bisect_right(ends, m.start()), bisect_left(starts, m.end()))
                touched.update(near)
                inside = [j for j in near if starts[j] >= m.start() and ends[j] <= m.end()]
                add(rule, m.start(), m.end(), m, range(inside[0], inside[-1] + 1) if inside else range(0))
    for ln in lines:  # every free line to every block/line rule, in order
        if not free(ln):
            continue
        for rule in rules:
            if rule.kind not in ("block", "line") or not _in_window(rule, ln.index, n):
                continue
            if rule.kind == "block" and rule.item is not None:
                if not rule.pattern.fullmatch(ln.body):
                    continue
                j = block_end(rule, lines, ln.index, free)
                if j - ln.index - 1 >= rule.min_items:
                    add(rule, ln.start, lines[j - 1].end, None, range(ln.index, j))
                    break
            elif rule.kind == "line":
                match = rule.pattern.fullmatch(ln.body)
                if match:
                    add(rule, ln.start, ln.end, match, range(ln.index, ln.index + 1))
                    break
    adjacent = [r for r in rules if r.kind == "adjacent"]
    changed = bool(adjacent)
    while changed:  # adjacent rules, every line, until nothing changes
        changed = False
        for ln in lines[1:]:
            before = taken.get(ln.index + 1) if ln.index + 1 < n else None
            after = taken.get(ln.index - 1)
            if (before is None and after is None) or not free(ln):
                continue
            for rule in adjacent:
                hit = (rule.direction in ("before", "either") and before == rule.anchor) or (
                    rule.direction in ("after", "either") and after == rule.anchor
                )
                if not hit or not _in_window(rule, ln.index, n):
                    continue
                match = rule.pattern.fullmatch(ln.body)
                if match:
                    add(rule, ln.start, ln.end, match, range(ln.index, ln.index + 1))
                    changed = True
                    break
    kept: list[Seen] = []
    last_end = -1
    for start, end, rule, match in sorted(found, key=lambda f: f[0]):
        if kept and start < last_end:
            continue
        kept.append((rule.id, rule.category, start, end, text[start:end], _groups(match)))
        last_end = end
    return kept


def _groups(match: re.Match[str] | None) -> dict[str, str | Any] | None:
    return None if match is None else {"span": match.span(), **match.groupdict()}


def engine_removals(text: str, rules: Sequence[Rule]) -> list[Seen]:
    return [
        (r.rule, r.category, r.start, r.end, r.snippet, _groups(m)) for r, _, m in find_removals(text, rules)
    ]


def assert_same(texts: Sequence[str], rules: Sequence[Rule] = RULES) -> int:
    """Engine and reference agree on every text; returns how many removals were compared."""
    compared = 0
    for text in texts:
        expected = reference_removals(text, rules)
        assert engine_removals(text, rules) == expected, text[:200]
        compared += len(expected)
    return compared


# --- real texts ------------------------------------------------------------------------------------


def _fixture_texts() -> list[str]:
    texts: list[str] = []
    for path in sorted(FIXTURES.rglob("*")):
        if path.suffix in (".txt", ".html"):
            texts.append(path.read_text(encoding="utf-8", errors="replace"))
        elif path.suffix == ".jsonl":
            for line in path.read_text(encoding="utf-8", errors="replace").splitlines():
                try:
                    record = json.loads(line)
                except ValueError:
                    continue  # the hostile fixtures hold broken lines on purpose
                if isinstance(record, dict):
                    texts += [
                        v for k, v in record.items() if k in ("text", "raw", "html") and isinstance(v, str)
                    ]
    return texts


def test_same_removals_on_the_fixtures() -> None:
    texts = _fixture_texts()
    assert len(texts) > 30
    assert assert_same(texts) > 20


@pytest.mark.eval
def test_same_removals_on_newsboiler_and_the_seed(eval_dir: Path, seed_text: str) -> None:
    records = [json.loads(line) for line in (eval_dir / "newsboiler" / "dev.jsonl").open(encoding="utf-8")]
    texts = [r["raw"] for r in records] + [seed_text]
    assert assert_same(texts) > 200


def _synth_texts(n: int) -> list[str]:
    from tests.conftest import EVAL

    pool = paragraph_pool(EVAL, None) if EVAL.is_dir() else fallback_pool()
    rng = random.Random(7)
    return [synth_text(rng, pool, 4000) for _ in range(n)]


def test_same_removals_on_benchmark_records() -> None:
    """The bench's text records (seed-like: title, paragraphs, boilerplate lines)."""
    assert assert_same(_synth_texts(150)) > 100


def test_same_removals_with_learned_site_rules() -> None:
    records = [json.loads(line) for line in (FIXTURES / "boilerplate" / "sites.jsonl").open(encoding="utf-8")]
    site_rules = learn_site_rules((host_of(r["url"]), r["text"]) for r in records)
    assert len(site_rules) > 0
    stage = Boilerplate(site_rules=site_rules)
    for r in records:
        rules = stage.rules_for(r["url"])
        assert engine_removals(r["text"], stage.rule_set_for(r["url"]).rules) == reference_removals(
            r["text"], rules
        )
        assert stage.rule_set_for(r["url"]) is stage.rule_set_for(r["url"])  # prepared once per host


def test_budget_check_counts_the_same() -> None:
    """The stage counts the text only when the removals could trip the budget: same verdicts."""
    config = BoilerplateConfig(max_removed_share=0.05, budget_min_chars=40)
    stage = Boilerplate(config)
    verdicts = []
    for text in _synth_texts(40) + _fixture_texts():
        found = find_removals(text, RULES)
        full = budget_use(text, found)
        verdicts.append(full.exceeds(config.max_removed_share, config.budget_min_chars))
        assert (stage.over_budget(text, found) is not None) == verdicts[-1]
        if verdicts[-1]:
            assert stage.over_budget(text, found) == full
    assert any(verdicts) and not all(verdicts)


# --- generated documents from the rules' own examples ----------------------------------------------


def _example_lines() -> list[str]:
    lines: list[str] = []
    for rule in RULES:
        for example in rule.examples + rule.counterexamples:
            lines += [ln for ln in example.splitlines() if ln.strip()]
    return lines


EXAMPLE_LINES = _example_lines()
# Case changes and look-alike letters the regex engine matches ignoring case (the literal
# prefilter must not miss them), list markers, and ordinary prose.
MANGLE = st.sampled_from(
    [
        lambda s: s,
        str.upper,
        str.lower,
        str.swapcase,
        lambda s: s.replace("s", "ſ"),
        lambda s: s.replace("i", "ı"),
        lambda s: s.replace("I", "İ"),
        lambda s: s.replace("k", "\u212a"),
        lambda s: "- " + s,
        lambda s: "• " + s,
        lambda s: s + " (Photo: Jane Doe)",
        lambda s: s + " | Contact",
    ]
)
LINE = st.one_of(
    st.builds(lambda line, mangle: mangle(line), st.sampled_from(EXAMPLE_LINES), MANGLE),
    st.text(st.characters(codec=None, exclude_categories=()), max_size=60),
    st.sampled_from(["The council met on Tuesday.", "Headline of the day", "", "   ", "Newsletter"]),
)
BREAK = st.sampled_from(["\n", "\n\n", "\r\n", "\n \n", "\u2028", "\x0c", "\x85"])


@SETTINGS
@given(st.lists(st.tuples(LINE, BREAK), min_size=1, max_size=14))
def test_same_removals_on_generated_documents(parts: list[tuple[str, str]]) -> None:
    text = "".join(line + brk for line, brk in parts)
    assert engine_removals(text, RULES) == reference_removals(text, RULES)


@SETTINGS
@given(st.builds(lambda line, mangle: mangle(line), st.sampled_from(EXAMPLE_LINES), MANGLE))
def test_a_filter_never_rejects_a_line_its_rule_matches(line: str) -> None:
    body = line.strip()
    for rule in RULES:
        if body and rule.pattern.fullmatch(body):
            assert line_filter(rule.pattern).admits(body), (rule.id, body)


# --- building blocks -------------------------------------------------------------------------------


def test_every_builtin_line_rule_gets_a_prefilter() -> None:
    """A change to a pattern that defeats the analysis shows up here (it would only cost speed)."""
    for rule in RULES:
        if rule.kind in ("line", "block"):
            filt = line_filter(rule.pattern)
            assert filt.start is not None or filt.has_needs, rule.id


def _prose_lines() -> list[str]:
    """Long lines of running text: from the bench records when the eval data is there; else from
    the fixture articles (the stand-in pool's lines all begin alike, so they say nothing here)."""
    from tests.conftest import EVAL

    texts = (
        _synth_texts(20)
        if EVAL.is_dir()
        else [p.read_text(encoding="utf-8") for p in sorted(FIXTURES.rglob("*.txt"))]
    )
    return [ln for text in texts for ln in text.splitlines() if len(ln) > 120]


def test_examples_pass_their_rules_filter_and_prose_mostly_does_not() -> None:
    prose = _prose_lines()
    for rule in RULES:
        if rule.kind not in ("line", "block"):
            continue
        filt = line_filter(rule.pattern)
        for example in rule.examples:
            assert filt.admits(example.splitlines()[0].strip()), rule.id
        # away from the head and tail, the start test alone lets few long prose lines through
        passed = sum(filt.admits_start(ln) for ln in prose) / len(prose)
        assert filt.broad or rule.where != "any" or passed < 0.5, (rule.id, passed)


def test_filter_analysis() -> None:
    share = line_filter(re.compile(r"(?i)(?:Share|Teilen) (?:this|den) (?:article|Artikel)\s*:?"))
    assert share.start is not None
    assert share.admits("SHARE THIS ARTICLE") and share.admits("teilen den Artikel")
    assert not share.admits("The share price fell") and not share.admits_start("Shx")
    assert not share.broad and share.needs_folded  # letters looked for ignoring case
    caption = line_filter(re.compile(r"[^\n]{0,200}?\(\s*(?:Photo|Image)\s*:\s*[^()\n]{1,60}\)"))
    assert caption.broad and caption.needs == ("(",)
    assert not caption.admits("A line without a parenthesis")
    # a backreference at the start: nothing known, the rule is always tried
    unknown = line_filter(re.compile(r"(a)?(?(1)b|c)d"))
    assert unknown.start is None and unknown.admits("abd") and unknown.admits("cd")
    backref = line_filter(re.compile(r"(ab)\1x"))  # known up to the group reference only
    assert backref.admits("ababx") and not backref.admits("xab")
    optional = line_filter(re.compile(r"\[?Ad\]?"))  # can be shorter than the start window
    assert optional.admits("Ad") and optional.admits("[Ad]") and not optional.admits("Bd")


def test_folding_is_exact_outside_the_few_unsafe_characters() -> None:
    """``foldable`` texts: the regex engine matches ASCII ignoring case exactly where ``lower()``
    does, and only at ASCII characters (so ``ascii_folded`` turning the rest into "?" loses none)."""
    any_ascii = re.compile(r"(?i)[\x00-\x7f]")
    for code in range(sys.maxunicode + 1):
        char = chr(code)
        if char in FOLD_UNSAFE:
            continue
        lowered = char.lower()
        assert len(lowered) == 1, hex(code)
        assert code < 128 or not any_ascii.fullmatch(char), hex(code)
        if code < 128 or lowered.isascii():
            for a in map(chr, range(128)):
                regex_says = re.fullmatch("(?i)" + re.escape(a), char) is not None
                assert regex_says == (lowered == a.lower()), (hex(code), a)
    assert not foldable("Şanlıurfa") and foldable("Ærø og Straße") and not foldable("5 \u212a")
    text = "Ærø: Sign up to the NEWSletter — ‘Straße’"
    assert ascii_folded(text).find(b"newsletter") == text.lower().find("newsletter") == 20
    assert len(ascii_folded(text)) == len(text)


@SETTINGS
@given(
    st.lists(
        st.sampled_from(
            [
                "a",
                "b c",
                " ",
                "\t",
                "\n",
                "\r",
                "\r\n",
                "\x0b",
                "\x0c",
                "\x1c",
                "\x1d",
                "\x1e",
                "\x1f",
                "\x85",
                "\u2028",
                "\u2029",
                "\xa0",
                "\u3000",
                "- ",
                "• x",
            ]
        ),
        max_size=30,
    ).map("".join)
)
def test_split_lines_matches_the_reference(text: str) -> None:
    assert split_lines(text) == reference_lines(text)


def test_rule_lists_are_prepared_once() -> None:
    assert rule_set(RULES) is rule_set(RULES)
    assert rule_set(list(RULES)).rules == RULES


# --- patterns of a shape the built-in pack does not use (user rule files may) ----------------------

ODD_PATTERNS = [
    r"(?x) read \s+ more \s* : \s* \S.*",  # verbose
    r"(?s)Ad.*",
    r"(?ai)kelvin\s+\w+",  # ASCII-only case folding
    r"(\w+) \1",  # a group reference
    r"(?>Atomic)\s+group",
    r"a++b",  # possessive
    r"(?<=x)y|(?<!\d)Photo: \w+",
    r"\bShare\b.{0,10}",
    r"[^\W\d_]+ only",
    r"(?i:ſign) up",  # matches "sign up" ignoring case
    r"(?i)İstanbul.*",
    r"x{0}abc|(?:)def|(?:gh|)ij",
    r"a{2,}b",
    r"^Ad$|\AAds\Z",
    r"(?P<q>\")?Quote(?(q)\")",
    r"\d+\s+Comments?",
    r"[»›] .+",
]
ODD_RULES = tuple(
    Rule(id=f"odd.{i}", category="promo_block", kind="line", pattern=re.compile(p))
    for i, p in enumerate(ODD_PATTERNS)
)
ODD_WORDS = st.sampled_from(
    [
        "read",
        "READ",
        "more",
        ":",
        " ",
        "  ",
        "Ad",
        "Ads",
        "ad",
        "kelvin",
        "KELVIN",
        "\u212aelvin",
        "word",
        "Atomic",
        "group",
        "aaab",
        "ab",
        "x",
        "y",
        "1",
        "Photo: ",
        "Share",
        "only",
        "sign",
        "SIGN",
        "ſign",
        "up",
        "İstanbul",
        "istanbul",
        "ISTANBUL",
        "abc",
        "def",
        "ij",
        "ghij",
        '"',
        "Quote",
        "12",
        "Comments",
        "» ",
        "› ",
        "é",
        "\u0131",
    ]
)
ODD_LINE = st.lists(ODD_WORDS, max_size=6).map("".join)


@SETTINGS
@given(st.lists(st.tuples(ODD_LINE, BREAK), min_size=1, max_size=10))
def test_same_removals_with_unusual_patterns(parts: list[tuple[str, str]]) -> None:
    text = "".join(line + brk for line, brk in parts)
    assert engine_removals(text, ODD_RULES) == reference_removals(text, ODD_RULES)
    for line, _ in parts:
        body = line.strip()
        for rule in ODD_RULES:
            if body and rule.pattern.fullmatch(body):
                assert line_filter(rule.pattern).admits(body), (rule.pattern.pattern, body)


@SETTINGS
@given(
    st.lists(
        st.sampled_from(["word", " ", "\n", "\t", "\r\n", "\xa0", "\u3000", "\u2028", "\x1f", "\u200b", "é"]),
        max_size=300,
    ).map("".join)
)
def test_the_budget_counts_non_blank_characters_as_split_does(text: str) -> None:
    assert nonspace(text) == len("".join(text.split()))
