"""Per-site learning: lines that repeat across many documents of one site are boilerplate there.

A first pass over a dump feeds ``(host, text)`` pairs to :func:`learn_site_rules`, a pure
function. A line becomes a rule for its host only when

* the host has at least ``min_docs`` distinct documents (exact duplicates count once),
* the line is short and boilerplate-like (at most ``max_chars`` characters / ``max_words`` words),
* it occurs in at least ``min_repeat`` of those documents **and** in at least ``min_share`` of them.

The result, :class:`SiteRules`, is saved as TOML (or JSON, by extension) for review and reuse
(``cleanwire learn-sites DUMP -o site-rules.toml``; ``cleanwire run --site-rules FILE``). A
reviewer deletes an entry to stop it. In the second pass the boilerplate stage removes a learned
line wherever it is a whole line of a document of that host, recorded with rule id
``site:<host>:<hash>`` and category ``site_repeated``.
"""

from __future__ import annotations

import hashlib
import json
import re
import tomllib
import unicodedata
from collections import Counter, defaultdict
from collections.abc import Callable, Collection, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from functools import cached_property
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import tomli_w

from pipeline.core.errors import RuleError
from stages.boilerplate.rulepack import LIST_MARKER, SITE_PREFIX, Rule

_SPACES = re.compile(r"\s+")


@dataclass(frozen=True)
class LearnConfig:
    """Thresholds of the learner. Conservative defaults: a line must be common *and* frequent."""

    min_docs: int = 5
    min_repeat: int = 3
    min_share: float = 0.3
    max_chars: int = 200
    max_words: int = 30

    def __post_init__(self) -> None:
        if self.min_docs < 2 or self.min_repeat < 2:
            raise RuleError("site learning needs min_docs >= 2 and min_repeat >= 2")
        if not 0.0 < self.min_share <= 1.0:
            raise RuleError("site learning needs 0 < min_share <= 1")


def host_of(url: str | None) -> str | None:
    """``https://www.Example.com/a`` -> ``example.com``; ``None`` when there is no host."""
    if not url:
        return None
    try:
        host = urlsplit(url.strip()).hostname
    except ValueError:
        return None
    if not host:
        return None
    host = host.lower().rstrip(".")
    return host[4:] if host.startswith("www.") else host


def line_key(line: str) -> str:
    """The form a line is compared in: NFC, list marker dropped, whitespace collapsed, stripped."""
    key = _SPACES.sub(" ", unicodedata.normalize("NFC", line)).strip()
    return LIST_MARKER.sub("", key, count=1)


def line_hash(key: str) -> str:
    return hashlib.sha1(key.encode("utf-8", "surrogatepass")).hexdigest()[:10]


@dataclass(frozen=True)
class SiteLine:
    text: str
    docs: int
    share: float

    @property
    def hash(self) -> str:
        return line_hash(line_key(self.text))


@dataclass(frozen=True)
class SiteRules:
    """Learned lines per host, with the document counts they were learned from."""

    lines: Mapping[str, tuple[SiteLine, ...]] = field(default_factory=dict)
    n_docs: Mapping[str, int] = field(default_factory=dict)
    config: LearnConfig = field(default_factory=LearnConfig)

    def __len__(self) -> int:
        return sum(len(v) for v in self.lines.values())

    @cached_property
    def _rules(self) -> dict[str, tuple[Rule, ...]]:
        return {host: tuple(_rule_for(host, ln) for ln in lines) for host, lines in self.lines.items()}

    def rules_for(self, url: str | None) -> tuple[Rule, ...]:
        """The line rules learned for the host of ``url`` (empty for unknown hosts)."""
        host = host_of(url)
        return self._rules.get(host, ()) if host else ()

    @cached_property
    def ids(self) -> frozenset[str]:
        """The rule id of every learned line (``site:<host>:<hash>``)."""
        return frozenset(site_rule_id(host, ln) for host, lines in self.lines.items() for ln in lines)

    def without(self, ids: Collection[str]) -> SiteRules:
        """These rules minus the lines whose rule id is in ``ids`` (``boilerplate.disabled_rules``)."""
        if not self.ids & set(ids):
            return self
        kept = {
            h: tuple(ln for ln in lines if site_rule_id(h, ln) not in ids) for h, lines in self.lines.items()
        }
        kept = {h: lines for h, lines in kept.items() if lines}
        n_docs = {h: n for h, n in self.n_docs.items() if h in kept}
        return SiteRules(lines=kept, n_docs=n_docs, config=self.config)


def site_rule_id(host: str, line: SiteLine) -> str:
    return f"{SITE_PREFIX}{host}:{line.hash}"


def _rule_for(host: str, line: SiteLine) -> Rule:
    words = [re.escape(w) for w in line_key(line.text).split(" ")]
    return Rule(
        id=site_rule_id(host, line),
        category="site_repeated",
        kind="line",
        pattern=re.compile(r"\s+".join(words)),
        description=f"learned: repeats in {line.docs} documents ({line.share:.0%}) of {host}",
        pack="site",
    )


def _candidate_lines(text: str, config: LearnConfig) -> set[str]:
    out: set[str] = set()
    for raw in text.splitlines():
        key = line_key(raw)
        if key and len(key) <= config.max_chars and len(key.split(" ")) <= config.max_words:
            out.add(key)
    return out


def covered_by(rules: Sequence[Rule]) -> Callable[[str], bool]:
    """A predicate: does one of ``rules`` (line or inline) already take this whole line out?"""
    usable = [r for r in rules if r.kind in ("line", "inline")]

    def known(line: str) -> bool:
        for rule in usable:
            m = rule.pattern.fullmatch(line) if rule.kind == "line" else rule.pattern.search(line)
            if m and m.end() - m.start() == len(line):
                return True
        return False

    return known


def learn_site_rules(
    docs: Iterable[tuple[str | None, str]],
    config: LearnConfig | None = None,
    known: Callable[[str], bool] | None = None,
) -> SiteRules:
    """Learn repeated lines per host from ``(host, text)`` pairs (hosts as from :func:`host_of`).

    ``known`` (e.g. :func:`covered_by` of the rule packs in force) leaves out lines that a pack
    rule already removes, so the saved file holds only what is new and worth a review.
    """
    cfg = config or LearnConfig()
    seen: set[tuple[str, str]] = set()
    n_docs: Counter[str] = Counter()
    counts: dict[str, Counter[str]] = defaultdict(Counter)
    for host, text in docs:
        if not host:
            continue
        digest = hashlib.sha1(text.encode("utf-8", "surrogatepass")).hexdigest()
        if (host, digest) in seen:  # an exact duplicate would make every line look repeated
            continue
        seen.add((host, digest))
        n_docs[host] += 1
        counts[host].update(_candidate_lines(text, cfg))
    learned: dict[str, tuple[SiteLine, ...]] = {}
    for host in sorted(counts):
        total = n_docs[host]
        if total < cfg.min_docs:
            continue
        lines = [
            SiteLine(text=key, docs=n, share=round(n / total, 4))
            for key, n in counts[host].items()
            if n >= cfg.min_repeat and n / total >= cfg.min_share and not (known and known(key))
        ]
        if lines:
            learned[host] = tuple(sorted(lines, key=lambda ln: (-ln.docs, ln.text)))
    return SiteRules(lines=learned, n_docs={h: n_docs[h] for h in learned}, config=cfg)


# --- save / load -----------------------------------------------------------------------------------


def _to_data(rules: SiteRules) -> dict[str, Any]:
    cfg = rules.config
    return {
        "learn": {
            "min_docs": cfg.min_docs,
            "min_repeat": cfg.min_repeat,
            "min_share": cfg.min_share,
            "max_chars": cfg.max_chars,
            "max_words": cfg.max_words,
        },
        "sites": [
            {
                "host": host,
                "n_docs": rules.n_docs.get(host, 0),
                "lines": [
                    {"id": site_rule_id(host, ln), "text": ln.text, "docs": ln.docs, "share": ln.share}
                    for ln in lines
                ],
            }
            for host, lines in rules.lines.items()
        ],
    }


_TOML_HEADER = (
    "# Lines learned by `cleanwire learn-sites`: each repeats across many documents of one site.\n"
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


def _from_data(data: dict[str, Any], origin: str) -> SiteRules:
    try:
        cfg = LearnConfig(**data.get("learn", {}))
        lines: dict[str, tuple[SiteLine, ...]] = {}
        n_docs: dict[str, int] = {}
        for site in data.get("sites", []):
            host = str(site["host"])
            lines[host] = tuple(
                SiteLine(text=str(ln["text"]), docs=int(ln.get("docs", 0)), share=float(ln.get("share", 0.0)))
                for ln in site.get("lines", [])
                if str(ln["text"]).strip()
            )
            n_docs[host] = int(site.get("n_docs", 0))
    except (KeyError, TypeError, ValueError, AttributeError) as exc:
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
