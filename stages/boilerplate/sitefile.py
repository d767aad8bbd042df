"""Learned site rules on disk: :func:`save_site_rules` writes
:class:`~stages.boilerplate.siterules.SiteRules` as TOML (or JSON, by extension) for review and
reuse (``cleanwire learn-sites DUMP -o site-rules.toml``; ``cleanwire run --site-rules FILE``), and
:func:`load_site_rules` reads it back, possibly edited: an exact line as ``text``, a shape as
``shape`` with its placeholders and the ``examples`` it was learned from, a block header with its
``block`` table. A reviewer deletes an entry to stop it; a malformed file (an unknown or missing
key, two entries with one ``id``, a bad value) is a :class:`~pipeline.core.errors.RuleError` naming
where (``site 2, line 3``), as rule packs' are.
"""

from __future__ import annotations

import json
import re
import tomllib
from collections.abc import Mapping
from dataclasses import asdict, fields, replace
from pathlib import Path
from typing import Any

import tomli_w

from pipeline.core.errors import RuleError
from stages.boilerplate.rulepack import SITE_PREFIX, checked_table, checked_tables
from stages.boilerplate.shapes import MAX_NAME_RUN, is_shaped, literal_text, name_run
from stages.boilerplate.siterules import Block, LearnConfig, SiteLine, SiteRules, site_rule_id


def _line_data(host: str, ln: SiteLine) -> dict[str, Any]:
    entry: dict[str, Any] = {"id": site_rule_id(host, ln)}
    entry["shape" if ln.shaped else "text"] = ln.text
    entry |= {"docs": ln.docs, "share": ln.share}
    if ln.soft:
        entry["soft"] = True
    if ln.examples:
        entry["examples"] = list(ln.examples)
    if ln.block is not None:
        b = ln.block
        entry["block"] = {
            "items": b.items,
            "item_words": b.item_words,
            "item_chars": b.item_chars,
            "min_words": b.min_words,
            "marker": b.marker,
        }
        if b.examples:
            entry["block"]["examples"] = list(b.examples)
    return entry


def _to_data(rules: SiteRules) -> dict[str, Any]:
    return {
        "learn": asdict(rules.config),
        "sites": [
            {
                "host": host,
                "n_docs": rules.n_docs.get(host, 0),
                "lines": [_line_data(host, ln) for ln in lines],
            }
            for host, lines in rules.lines.items()
        ],
    }


_TOML_HEADER = (
    "# Lines learned by `cleanwire learn-sites`: each repeats across many documents of one site.\n"
    "# `text` is an exact line; `shape` a line with placeholders ({NUM}, {DATE}, {TIME}, {NAME}; {{ and }}\n"
    "# for braces) and the `examples` it was learned from; a `block` takes up to `items` short lines after it;\n"
    "# a `soft` line removes nothing by itself: where it stands the model's threshold is lower.\n"
    "# Review before use: delete an entry to keep that line. Use with `cleanwire run --site-rules FILE`.\n"
)


def to_toml(rules: SiteRules) -> str:
    """``rules`` as a TOML document (written by tomli-w, so any text round-trips)."""
    return _TOML_HEADER + tomli_w.dumps(_to_data(rules))


def save_site_rules(rules: SiteRules, path: str | Path) -> Path:
    """Write ``rules`` as TOML (``.toml``) or JSON (any other extension)."""
    target = Path(path)
    if target.suffix.lower() == ".toml":
        text = to_toml(rules)
    else:
        text = json.dumps(_to_data(rules), indent=2, ensure_ascii=False) + "\n"
    target.write_text(text, encoding="utf-8")
    return target


_TOP_KEYS = frozenset({"learn", "sites"})
_SITE_KEYS = frozenset({"host", "n_docs", "lines"})
_LINE_KEYS = frozenset({"id", "text", "shape", "docs", "share", "examples", "block", "soft"})
_BLOCK_KEYS = frozenset({"items", "item_words", "item_chars", "min_words", "marker", "examples"})
_LEARN_KEYS = frozenset(f.name for f in fields(LearnConfig))


def _need(table: Mapping[str, Any], key: str, where: str) -> Any:
    if key not in table:
        raise RuleError(f"{where}: missing key {key!r}")
    return table[key]


def _line_from(entry: Mapping[str, Any], where: str) -> SiteLine | None:
    if "shape" in entry and "text" in entry:
        raise RuleError(f"{where}: give either 'text' (an exact line) or 'shape', not both")
    shaped = "shape" in entry
    text = str(entry["shape"] if shaped else _need(entry, "text", where))
    if not text.strip():
        return None
    if shaped and not is_shaped(text):  # a shape left without placeholders is an exact line
        text, shaped = literal_text(text), False
    if shaped and name_run(text) > MAX_NAME_RUN:
        raise ValueError(
            f"shape {text!r} has more than {MAX_NAME_RUN} {{NAME}} in a row: it would take exponential "
            "time on a line it does not match; keep some of the words as text"
        )
    block = None
    if "block" in entry:
        at = f"{where}, block"
        b = checked_table(entry["block"], at, _BLOCK_KEYS)
        block = Block(
            items=int(_need(b, "items", at)),
            item_words=int(_need(b, "item_words", at)),
            item_chars=int(_need(b, "item_chars", at)),
            min_words=int(b.get("min_words", 1)),
            marker=str(b.get("marker", "")),
            examples=tuple(str(x) for x in b.get("examples", ())),
        )
        if min(block.items, block.item_words, block.item_chars, block.min_words) < 1:
            raise ValueError(f"block of {text!r}: items, item_words, item_chars, min_words must be >= 1")
        if block.min_words > block.item_words:
            raise ValueError(f"block of {text!r}: min_words > item_words")
    line = SiteLine(
        text=text,
        docs=int(entry.get("docs", 0)),
        share=float(entry.get("share", 0.0)),
        shaped=shaped,
        examples=tuple(str(x) for x in entry.get("examples", ())),
        block=block,
        soft=_flag(entry.get("soft", False), "soft"),
    )
    if line.soft and block is not None:
        raise ValueError(f"{text!r}: a soft line heads no block")
    re.compile(line.regex)
    return line


def _flag(value: Any, key: str) -> bool:
    if not isinstance(value, bool):
        raise ValueError(f"{key} must be true or false, not {value!r}")
    return value


def _with_id(entry: Mapping[str, Any], host: str, line: SiteLine, where: str) -> SiteLine:
    """``line`` with the ``id`` its entry gives. A reviewer who edits a line's text or shape keeps
    its id (the one ``disabled_rules`` and the ledger go by), so an id other than the one made from
    the text is the rule's id too; it must still be ``site:<host>:...`` of the entry's host."""
    given = entry.get("id")
    if given is None or given == site_rule_id(host, line):
        return line
    prefix = f"{SITE_PREFIX}{host}:"
    if not isinstance(given, str) or not given.startswith(prefix) or given == prefix:
        raise RuleError(
            f"{where}: id {given!r} must start with {prefix!r}",
            hint=f"learned site rule ids are {prefix}<hash>; delete the id line to have it made again",
        )
    return replace(line, given_id=given)


def _from_data(data: dict[str, Any], origin: str) -> SiteRules:
    checked_table(data, origin, _TOP_KEYS)
    try:
        cfg = LearnConfig(**checked_table(data.get("learn", {}), f"{origin}: [learn]", _LEARN_KEYS))
    except (TypeError, ValueError) as exc:
        raise RuleError(f"{origin}: [learn]: {exc}") from exc
    lines: dict[str, tuple[SiteLine, ...]] = {}
    n_docs: dict[str, int] = {}
    ids: dict[str, str] = {}  # rule id -> the entry that has it
    for i, site in enumerate(checked_tables(data, "sites", origin), 1):
        where = f"{origin}: site {i}"
        checked_table(site, where, _SITE_KEYS)
        host = str(_need(site, "host", where))
        if host in lines:
            raise RuleError(f"{where}: host {host!r} is listed twice")
        kept: list[SiteLine] = []
        for j, entry in enumerate(checked_tables(site, "lines", where), 1):
            at = f"{where}, line {j}"
            try:
                ln = _line_from(checked_table(entry, at, _LINE_KEYS), at)
            except (TypeError, ValueError, re.error) as exc:
                raise RuleError(f"{at}: {exc}") from exc
            if ln is None:
                continue
            ln = _with_id(entry, host, ln, at)
            rid = site_rule_id(host, ln)
            if rid in ids:
                raise RuleError(f"{origin}: duplicate rule id {rid!r} ({ids[rid]} and site {i}, line {j})")
            ids[rid] = f"site {i}, line {j}"
            kept.append(ln)
        lines[host] = tuple(kept)
        try:
            n_docs[host] = int(site.get("n_docs", 0))
        except (TypeError, ValueError) as exc:
            raise RuleError(f"{where}: n_docs: {exc}") from exc
    return SiteRules(lines=lines, n_docs=n_docs, config=cfg)


def load_site_rules(path: str | Path) -> SiteRules:
    """Read a file written by :func:`save_site_rules` (possibly edited by a reviewer)."""
    origin = str(path)
    try:
        text = Path(path).read_text(encoding="utf-8")
    except FileNotFoundError as exc:
        raise RuleError(f"site rules file not found: {origin}") from exc
    except UnicodeDecodeError as exc:
        raise RuleError(f"site rules file {origin} is not UTF-8: {exc}") from exc
    except OSError as exc:  # a directory, no permission
        raise RuleError(f"site rules file {origin} cannot be read: {exc.strerror or exc}") from exc
    try:
        data = json.loads(text) if Path(path).suffix.lower() == ".json" else tomllib.loads(text)
    except (tomllib.TOMLDecodeError, json.JSONDecodeError) as exc:
        raise RuleError(f"site rules file {origin} cannot be parsed: {exc}") from exc
    if not isinstance(data, dict):
        raise RuleError(f"site rules file {origin} must hold a table/object")
    return _from_data(data, origin)
