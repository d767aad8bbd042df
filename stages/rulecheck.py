"""Check rules against their own examples and counterexamples (``cleanwire rules --check``)."""

from __future__ import annotations

from collections.abc import Sequence

from stages.rulepack import Rule


def _removes(rule: Rule, example: str) -> bool:
    """Does ``rule`` take ``example`` out, in the setting its kind needs?"""
    from stages.boilerplate import find_removals

    if rule.kind == "adjacent":
        # Put the example where the anchor makes it eligible.
        return bool(rule.pattern.fullmatch(example.strip()))
    if rule.kind == "line" and rule.where != "any":
        return bool(rule.pattern.fullmatch(example.strip()))
    found = find_removals(example, [rule])
    return sum(r.end - r.start for r, _, _ in found) >= len(example.strip())


def check_rules(rules: Sequence[Rule]) -> list[str]:
    failures: list[str] = []
    for rule in rules:
        for ex in rule.examples:
            if not _removes(rule, ex):
                failures.append(f"{rule.id}: example not removed: {ex!r}")
        for ex in rule.counterexamples:
            if _removes(rule, ex):
                failures.append(f"{rule.id}: counterexample removed: {ex!r}")
    return failures
