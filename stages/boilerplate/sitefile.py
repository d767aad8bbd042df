"""Learned site rules on disk: :func:`save_site_rules` writes
:class:`~stages.boilerplate.siterules.SiteRules` as TOML (or JSON, by extension) for review and
reuse (``cleanwire learn-sites DUMP -o site-rules.toml``; ``cleanwire run --site-rules FILE``), and
:func:`load_site_rules` reads it back, possibly edited: an exact line as ``text``, a shape as
``shape`` with its placeholders and the ``examples`` it was learned from, a block header with its
``block`` table. A reviewer deletes an entry to stop it; a malformed file is a
:class:`~pipeline.core.errors.RuleError`.
"""

from __future__ import annotations

import json
import re
import tomllib
from collections.abc import Mapping
from dataclasses import asdict
from pathlib import Path
from typing import Any

import tomli_w

from pipeline.core.errors import RuleError
from stages.boilerplate.shapes import is_shaped, literal_text
from stages.boilerplate.siterules import Block, LearnConfig, SiteLine, SiteRules, site_rule_id


def _line_data(host: str, ln: SiteLine) -> dict[str, Any]:
    entry: dict[str, Any] = {"id": site_rule_id(host, ln)}
    entry["shape" if ln.shaped else "text"] = ln.text
    entry |= {"docs": ln.docs, "share": ln.share}
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
    "# for braces) and the `examples` it was learned from; a `block` takes up to `items` short lines after it.\n"
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


def _line_from(entry: Mapping[str, Any]) -> SiteLine | None:
    shaped = "shape" in entry
    text = str(entry["shape"] if shaped else entry["text"])
    if not text.strip():
        return None
    if shaped and not is_shaped(text):  # a shape left without placeholders is an exact line
        text, shaped = literal_text(text), False
    block = None
    if "block" in entry:
        b = entry["block"]
        block = Block(
            items=int(b["items"]),
            item_words=int(b["item_words"]),
            item_chars=int(b["item_chars"]),
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
    )
    re.compile(line.regex)
    return line


def _from_data(data: dict[str, Any], origin: str) -> SiteRules:
    try:
        cfg = LearnConfig(**data.get("learn", {}))
        lines: dict[str, tuple[SiteLine, ...]] = {}
        n_docs: dict[str, int] = {}
        for site in data.get("sites", []):
            host = str(site["host"])
            lines[host] = tuple(ln for ln in map(_line_from, site.get("lines", [])) if ln is not None)
            n_docs[host] = int(site.get("n_docs", 0))
    except (KeyError, TypeError, ValueError, AttributeError, re.error) as exc:
        raise RuleError(f"site rules file {origin} is malformed: {exc!r}") from exc
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
    try:
        data = json.loads(text) if Path(path).suffix.lower() == ".json" else tomllib.loads(text)
    except (tomllib.TOMLDecodeError, json.JSONDecodeError) as exc:
        raise RuleError(f"site rules file {origin} cannot be parsed: {exc}") from exc
    if not isinstance(data, dict):
        raise RuleError(f"site rules file {origin} must hold a table/object")
    return _from_data(data, origin)
