"""Boilerplate rule packs: rules kept as data (TOML), loaded and validated into typed rules.

A pack file looks like::

    [pack]
    name = "builtin"
    version = "1"

    [[rules]]
    id = "promo.read_more"          # unique, stable: it is written into every removal
    category = "promo_block"        # one of CATEGORIES
    kind = "line"                   # line | inline | block | adjacent
    langs = ["en"]                  # informational; rules run on every document
    pattern = '''(?i)READ MORE:\\s+\\S.{3,160}'''
    examples = ["READ MORE: Council confirms dates for bin rounds"]
    counterexamples = ["Read more about the plans on the council website."]

Kinds:
  * ``line``: the whole (stripped) line matches ``pattern``. ``where = "head"|"tail"`` limits it
    to the first/last ``window`` non-blank lines.
  * ``inline``: every match of ``pattern`` anywhere in the text (glued notices).
  * ``block``: a header line matching ``pattern`` followed by ``min_items``..``max_items`` lines
    matching ``item`` (blank lines between them allowed) is removed as one span.
  * ``adjacent``: a line matching ``pattern`` right before/after (``direction``) a line removed
    under category ``anchor`` (a video title after "Video player loading"). The first line of a
    document (its title) is never taken by an adjacent rule.
``meta = "author"|"date"`` moves the named group of the same name into the record's metadata.
``confidence = "high"`` marks a rule whose pattern is an unambiguous, fixed form (a consent notice,
a cookie banner, an ad label): its removals do not count against the removal budget, so a short
article carrying a long notice is cleaned instead of being flagged. Default ``"normal"``.
Rules whose id starts with ``site:`` are reserved for per-site learned rules
(:mod:`stages.boilerplate.siterules`).
"""

from __future__ import annotations

import difflib
import re
import tomllib
from collections import Counter
from collections.abc import Collection, Iterable, Mapping
from dataclasses import dataclass
from functools import lru_cache
from importlib import resources
from pathlib import Path
from typing import Any, Literal, cast

from pipeline.core.errors import RuleError

#: The labelled categories of news boilerplate, in the order the eval sets and the synthetic generator use.
NEWS_CATEGORIES: tuple[str, ...] = (
    "signup_notice",
    "promo_block",
    "source_link",
    "newsletter_cta",
    "cookie_notice",
    "share_prompt",
    "ad_marker",
    "video_caption",
    "image_credit",
    "comments_prompt",
    "related_links",
    "paywall_notice",
    "author_bio_line",
    "timestamp_update",
    "byline",
    "navigation",
    "footer",
)
#: What a rule may name: the news categories and ``site_repeated`` (lines learned per site).
CATEGORIES = frozenset({*NEWS_CATEGORIES, "site_repeated"})

#: A list marker in front of a line ("- Share this article"), as HTML extraction writes list items.
#: Line rules match the line without it (learned site lines too).
LIST_MARKER = re.compile(r"^[-*•·]\s+(?=\S)")

RuleKind = Literal["line", "inline", "block", "adjacent"]
_KINDS = ("line", "inline", "block", "adjacent")
Confidence = Literal["normal", "high"]
_CONFIDENCES = ("normal", "high")
_WHERES = ("any", "head", "tail")
_DIRECTIONS = ("before", "after", "either")
_METAS = ("author", "date")
#: Keys only one kind of rule reads: on another kind they would be ignored without a word (a
#: block rule written without ``kind = "block"`` would be a line rule on its header alone).
_KIND_KEYS = {
    "item": "block",
    "min_items": "block",
    "max_items": "block",
    "anchor": "adjacent",
    "direction": "adjacent",
}


@dataclass(frozen=True)
class Rule:
    id: str
    category: str
    kind: RuleKind
    pattern: re.Pattern[str]
    item: re.Pattern[str] | None = None
    min_items: int = 1
    max_items: int = 8
    anchor: str | None = None
    direction: Literal["before", "after", "either"] = "either"
    where: Literal["any", "head", "tail"] = "any"
    window: int = 4
    meta: Literal["author", "date"] | None = None
    confidence: Confidence = "normal"
    langs: tuple[str, ...] = ()
    description: str = ""
    examples: tuple[str, ...] = ()
    counterexamples: tuple[str, ...] = ()
    pack: str = ""


@dataclass(frozen=True)
class RulePack:
    name: str
    version: str
    rules: tuple[Rule, ...]
    path: str


def _compile(pattern: Any, where: str) -> re.Pattern[str]:
    if not isinstance(pattern, str) or not pattern:
        raise RuleError(f"{where}: pattern must be a non-empty string")
    try:
        return re.compile(pattern)
    except re.error as exc:
        raise RuleError(f"{where}: bad regular expression: {exc}") from exc


_RULE_KEYS = {
    "id",
    "category",
    "kind",
    "pattern",
    "item",
    "min_items",
    "max_items",
    "anchor",
    "direction",
    "where",
    "window",
    "meta",
    "confidence",
    "langs",
    "description",
    "examples",
    "counterexamples",
}


def _check_counts(data: Mapping[str, Any], where: str) -> None:
    """``min_items``, ``max_items`` and ``window`` are whole numbers (not ``true``) at least 0,
    and a block can hold its ``min_items`` (``min_items <= max_items``)."""
    for key in ("min_items", "max_items", "window"):
        value = data.get(key, 0)
        if isinstance(value, bool) or not isinstance(value, int) or value < 0:
            raise RuleError(f"{where}: {key} must be a non-negative integer, got {value!r}")
    low, high = data.get("min_items", 1), data.get("max_items", 8)
    if low > high:
        raise RuleError(
            f"{where}: min_items ({low}) is more than max_items ({high}): the block can never match"
        )


def parse_rule(data: dict[str, Any], *, pack: str, origin: str) -> Rule:
    rid = data.get("id")
    where = f"{origin}: rule {rid!r}"
    if not isinstance(rid, str) or not rid:
        raise RuleError(f"{origin}: every rule needs a string id")
    extra = set(data) - _RULE_KEYS
    if extra:
        raise RuleError(f"{where}: unknown key(s) {sorted(extra)}")
    category = data.get("category")
    if category not in CATEGORIES:
        raise RuleError(f"{where}: unknown category {category!r}", hint=f"one of {sorted(CATEGORIES)}")
    kind = data.get("kind", "line")
    if kind not in _KINDS:
        raise RuleError(f"{where}: kind must be one of {_KINDS}")
    misplaced = sorted(key for key, only in _KIND_KEYS.items() if key in data and kind != only)
    if misplaced:
        raise RuleError(
            f"{where}: {misplaced} only apply to {sorted({_KIND_KEYS[k] for k in misplaced})} rules, not {kind!r}",
            hint='a header followed by items needs kind = "block"; a line next to a removal kind = "adjacent"',
        )
    item = _compile(data["item"], where + " item") if "item" in data else None
    if kind == "block" and item is None:
        raise RuleError(f"{where}: a block rule needs an item pattern")
    if kind == "adjacent" and data.get("anchor") not in CATEGORIES:
        raise RuleError(f"{where}: an adjacent rule needs an anchor category")
    for key, allowed in (
        ("confidence", _CONFIDENCES),
        ("where", _WHERES),
        ("direction", _DIRECTIONS),
    ):
        if key in data and data[key] not in allowed:
            raise RuleError(f"{where}: {key} must be one of {allowed}, got {data[key]!r}")
    _check_counts(data, where)
    for key in ("examples", "counterexamples", "langs"):
        value = data.get(key, [])
        if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
            raise RuleError(f"{where}: {key} must be a list of strings")
    if rid.startswith(SITE_PREFIX):
        raise RuleError(f"{where}: ids starting with {SITE_PREFIX!r} are reserved for learned site rules")
    pattern = _compile(data.get("pattern"), where)
    if kind == "inline" and pattern.search("") is not None:
        raise RuleError(
            f"{where}: an inline pattern must not match the empty string",
            hint="it matches at every position of the text (a pattern such as 'x*' takes every 'x')",
        )
    meta = data.get("meta")
    if meta is not None and meta not in _METAS:
        raise RuleError(f"{where}: meta must be one of {_METAS}, got {meta!r}")
    if meta is not None and meta not in pattern.groupindex:
        raise RuleError(f"{where}: meta={meta!r} needs a named group (?P<{meta}>...) in the pattern")
    return Rule(
        id=rid,
        category=category,
        kind=cast(RuleKind, kind),
        pattern=pattern,
        item=item,
        min_items=int(data.get("min_items", 1)),
        max_items=int(data.get("max_items", 8)),
        anchor=data.get("anchor"),
        direction=data.get("direction", "either"),
        where=data.get("where", "any"),
        window=int(data.get("window", 4)),
        meta=meta,
        confidence=data.get("confidence", "normal"),
        langs=tuple(data.get("langs", ())),
        description=str(data.get("description", "")),
        examples=tuple(data.get("examples", ())),
        counterexamples=tuple(data.get("counterexamples", ())),
        pack=pack,
    )


_PACK_KEYS = frozenset({"pack", "rules"})
_HEAD_KEYS = frozenset({"name", "version", "description"})


def checked_table(value: Any, where: str, known: frozenset[str]) -> dict[str, Any]:
    """``value``, a table whose keys are all ``known``: a misspelt ``[[rule]]`` or ``[pakc]``
    would otherwise load a pack without its rules, without a word (a site-rules file's tables
    are checked the same way)."""
    if not isinstance(value, dict):
        raise RuleError(f"{where} must be a table, not {type(value).__name__}")
    extra = sorted(set(value) - known)
    if extra:
        raise RuleError(f"{where}: unknown key(s) {extra}", hint=f"known keys: {sorted(known)}")
    return value


def checked_tables(table: Mapping[str, Any], key: str, where: str) -> list[dict[str, Any]]:
    """``table[key]``, a list of tables (``[[key]]``; none when absent): a pack's rules, a
    site-rules file's sites and lines."""
    value = table.get(key, [])
    if not isinstance(value, list) or not all(isinstance(v, dict) for v in value):
        got = "a list of other values" if isinstance(value, list) else type(value).__name__
        raise RuleError(f"{where}: {key!r} must be a list of tables ([[{key}]]), not {got}")
    return value


def _read_toml(path: str | Path) -> dict[str, Any]:
    origin = str(path)
    try:
        return tomllib.loads(Path(path).read_text(encoding="utf-8"))
    except FileNotFoundError as exc:
        raise RuleError(f"rule file not found: {origin}") from exc
    except UnicodeDecodeError as exc:
        raise RuleError(f"rule file {origin} is not UTF-8 (as TOML must be): {exc}") from exc
    except tomllib.TOMLDecodeError as exc:
        raise RuleError(f"rule file {origin} is not valid TOML: {exc}") from exc
    except OSError as exc:  # a directory, no permission
        raise RuleError(f"rule file {origin} cannot be read: {exc.strerror or exc}") from exc


def load_pack(path: str | Path) -> RulePack:
    origin = str(path)
    data = checked_table(_read_toml(path), origin, _PACK_KEYS)
    head = checked_table(data.get("pack", {}), f"{origin}: [pack]", _HEAD_KEYS)
    name = str(head.get("name") or Path(path).stem)
    rules = tuple(parse_rule(r, pack=name, origin=origin) for r in checked_tables(data, "rules", origin))
    dupes = sorted(rid for rid, n in Counter(r.id for r in rules).items() if n > 1)
    if dupes:
        raise RuleError(f"{origin}: duplicate rule ids {dupes}")
    return RulePack(name=name, version=str(head.get("version", "0")), rules=rules, path=origin)


def builtin_pack_path(name: str) -> Path:
    ref = resources.files("stages.boilerplate.rules").joinpath(f"{name}.toml")
    path = Path(str(ref))
    if not path.is_file():
        available = sorted(
            p.stem for p in Path(str(resources.files("stages.boilerplate.rules"))).glob("*.toml")
        )
        raise RuleError(f"no built-in rule pack {name!r}", hint=f"built-in packs: {available}")
    return path


#: The id prefix of learned site rules (``site:<host>:<hash>``); no rule pack may use it.
SITE_PREFIX = "site:"


def check_disabled(disabled: Iterable[str], known: Collection[str]) -> None:
    """Refuse ids in ``boilerplate.disabled_rules`` that name none of the ``known`` rules: a
    typo would otherwise leave the rule on without a word."""
    unknown = [rid for rid in dict.fromkeys(disabled) if rid not in known]
    if not unknown:
        return
    close = [m for rid in unknown for m in difflib.get_close_matches(rid, known, n=1)]
    raise RuleError(
        f"boilerplate.disabled_rules: unknown rule id(s) {unknown}"
        + (f" (did you mean {close}?)" if close else ""),
        hint="`cleanwire rules` lists the rule ids (learned site rules: the `id` lines of the site rules file)",
    )


#: The ids of the structural rules (:mod:`stages.boilerplate.neighbours`): no pack defines them,
#: ``boilerplate.disabled_rules`` may name them.
STRUCTURE_RULE_IDS = (
    "structure.block_header",
    "structure.block_item",
    "structure.block_tail",
    "structure.headline",
    "structure.caption",
    "structure.author",
    "structure.block_rest",
)

_NEVER = re.compile(r"(?!)")


def code_rule(rule_id: str, category: str, description: str, pack: str) -> Rule:
    """A rule whose removals code decides (the learned model's, the structural ones), as the
    engine's bookkeeping sees it: ``normal`` confidence (its removals count against the budget),
    no metadata lifted, a pattern that matches nothing by itself."""
    return Rule(
        id=rule_id, category=category, kind="line", pattern=_NEVER, description=description, pack=pack
    )


@lru_cache(maxsize=8)
def load_rules(
    packs: tuple[str, ...], files: tuple[str, ...] = (), disabled: tuple[str, ...] = ()
) -> tuple[Rule, ...]:
    """All rules of the named built-in packs and the given files, minus ``disabled`` ids.

    A disabled id that none of these packs defines is a :class:`RuleError`, except learned site
    rule ids (:data:`SITE_PREFIX`): those are checked where the site rules are loaded
    (:class:`stages.boilerplate.stage.Boilerplate`); and the structural rules'
    (:data:`STRUCTURE_RULE_IDS`), which the stage itself turns off.
    """
    loaded = [load_pack(builtin_pack_path(p)) for p in packs] + [load_pack(f) for f in files]
    rules: list[Rule] = []
    seen: dict[str, str] = {}
    for pack in loaded:
        for rule in pack.rules:
            if rule.id in seen:
                raise RuleError(f"rule id {rule.id!r} is defined in both {seen[rule.id]} and {pack.path}")
            seen[rule.id] = pack.path
            if rule.id not in disabled:
                rules.append(rule)
    checked_here = (rid for rid in disabled if not rid.startswith(SITE_PREFIX))
    check_disabled(checked_here, {*seen, *STRUCTURE_RULE_IDS})
    return tuple(rules)
