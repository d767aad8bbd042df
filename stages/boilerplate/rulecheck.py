"""Check rules against their own examples and counterexamples (``cleanwire rules --check``).

Each example is run through the real engine in the setting its rule needs: an ``adjacent`` rule's
example is put next to an example of its anchor category (taken from the rules being checked),
a ``head``/``tail`` rule's example is put where its window reaches.
"""

from __future__ import annotations

from collections.abc import Sequence

from stages.boilerplate.engine import find_removals
from stages.boilerplate.rulepack import Rule

_TITLE = "Headline of the test document"


def _anchor_example(rule: Rule, rules: Sequence[Rule]) -> tuple[Rule, str] | None:
    for other in rules:
        if other.category == rule.anchor and other.kind != "adjacent" and other.examples:
            return other, other.examples[0]
    return None


def removes(rule: Rule, example: str, rules: Sequence[Rule]) -> bool:
    """Does ``rule`` take ``example`` out, in the setting its kind needs?"""
    if rule.kind == "adjacent":
        anchor = _anchor_example(rule, rules)
        if anchor is None:
            return bool(rule.pattern.fullmatch(example.strip()))
        anchor_rule, anchor_text = anchor
        pair = [anchor_text, example] if rule.direction in ("after", "either") else [example, anchor_text]
        text = "\n".join([_TITLE, *pair])
        found = find_removals(text, [anchor_rule, rule])
        return any(r.rule == rule.id and r.snippet == example.strip() for r, _, _ in found)
    if rule.kind == "line" and rule.where != "any":
        text = example if rule.where == "head" else f"{_TITLE}\n{example}"
        found = find_removals(text, [rule])
        return any(r.snippet == example.strip() for r, _, _ in found)
    found = find_removals(example, [rule])
    return sum(r.end - r.start for r, _, _ in found) >= len(example.strip())


def check_rules(rules: Sequence[Rule]) -> list[str]:
    """One message per example that is not removed and per counterexample that is."""
    failures: list[str] = []
    for rule in rules:
        for ex in rule.examples:
            if not removes(rule, ex, rules):
                failures.append(f"{rule.id}: example not removed: {ex!r}")
        for ex in rule.counterexamples:
            if removes(rule, ex, rules):
                failures.append(f"{rule.id}: counterexample removed: {ex!r}")
    return failures
