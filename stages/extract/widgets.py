"""Pruning page widgets (newsletter boxes, share bars, related-links lists, ...) from the DOM.

An element is a widget when the tokens of its ``class`` and ``id`` (split on ``-``, ``_``, spaces
and camelCase, lower-cased, digits and one-letter pieces left out) and its tag (as ``<tag>``) add
score at least the table's threshold (:meth:`WidgetTable.score`). The weights are log-odds learned from WCXB's
training pages (``pipeline/training/widgets.py`` writes ``widget_tokens.json`` here): per token,
in how many domains the text of the elements carrying it was boilerplate versus main content.

Guards keep the main content: ``html``, ``body``, ``main`` and ``article`` are never pruned, nor
an element holding more than :data:`MAX_ELEMENT_SHARE` of the page's visible text or of its
``<p>`` text, and pruning stops before it would take more than :data:`MAX_PAGE_SHARE` of the
visible text. The caller gets what was pruned (:class:`Pruned`) to count or explain it.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from functools import lru_cache
from importlib import resources
from typing import Any

from pipeline.core.blocks import nonspace

#: Never pruned, whatever their class or id.
PROTECTED_TAGS = frozenset({"html", "body", "main", "article", "head"})
#: An element with more than this share of the page's visible text, or of its ``<p>`` text, stays.
MAX_ELEMENT_SHARE = 0.3
#: Pruning stops before the pruned elements would hold more than this share of the visible text.
MAX_PAGE_SHARE = 0.5

_CAMEL = re.compile(r"(?<=[a-z])(?=[A-Z])")
_SPLIT = re.compile(r"[^a-z0-9]+")
TABLE_FILE = "widget_tokens.json"


def attr_tokens(value: str | None) -> set[str]:
    """The tokens of a ``class`` or ``id`` value: ``"postShare-box_2"`` -> ``{"post", "share", "box"}``."""
    if not value:
        return set()
    spaced = _CAMEL.sub(" ", value).lower()
    return {t for t in _SPLIT.split(spaced) if len(t) > 1 and not t.isdigit()}


def element_tokens(el: Any) -> set[str]:
    """An element's class and id tokens, plus its tag as ``<tag>``."""
    tag = el.tag if isinstance(el.tag, str) else ""
    return set(_tokens(el.get("class"), el.get("id"), tag))


@lru_cache(maxsize=16_384)
def _tokens(class_value: str | None, id_value: str | None, tag: str) -> frozenset[str]:
    """:func:`element_tokens` by the values it reads. A page repeats a few class names over its
    hundreds of elements, and a site's pages repeat them: the split runs once per value."""
    tokens = attr_tokens(class_value) | attr_tokens(id_value)
    if tag:
        tokens.add(f"<{tag.lower()}>")
    return frozenset(tokens)


@dataclass(frozen=True)
class WidgetTable:
    """Token weights (log-odds of boilerplate) and the score at which an element is pruned."""

    weights: Mapping[str, float]
    threshold: float
    meta: Mapping[str, Any] = field(default_factory=dict)

    def score(self, tokens: Iterable[str]) -> float:
        """The largest positive weight of ``tokens`` plus their most negative one: one widget token
        is enough, and one content token (``entry``, ``body``, ...) holds it back."""
        ws = [self.weights.get(t, 0.0) for t in tokens]
        return max(0.0, *ws) + min(0.0, *ws)

    def to_json(self) -> str:
        body = {
            "threshold": self.threshold,
            "meta": dict(self.meta),
            "weights": {k: round(v, 4) for k, v in sorted(self.weights.items())},
        }
        return json.dumps(body, indent=1, sort_keys=True) + "\n"

    @classmethod
    def from_json(cls, text: str) -> WidgetTable:
        data = json.loads(text)
        return cls(
            weights={str(k): float(v) for k, v in data["weights"].items()},
            threshold=float(data["threshold"]),
            meta=data.get("meta") or {},
        )


@lru_cache(maxsize=1)
def builtin_table() -> WidgetTable:
    """The table shipped in the package (``stages/extract/widget_tokens.json``)."""
    text = resources.files("stages.extract").joinpath(TABLE_FILE).read_text(encoding="utf-8")
    return WidgetTable.from_json(text)


@lru_cache(maxsize=4)
def load_table(name: str = "builtin") -> WidgetTable:
    """``"builtin"`` or the path of a table file (read once per process)."""
    if name == "builtin":
        return builtin_table()
    with open(name, encoding="utf-8") as fh:
        return WidgetTable.from_json(fh.read())


@dataclass(frozen=True, slots=True)
class Pruned:
    """What :func:`prune_widgets` removed: one ``(tag, class/id tokens that scored, chars)`` per
    element, and the page's visible characters before pruning."""

    elements: tuple[tuple[str, tuple[str, ...], int], ...]
    visible: int

    def __len__(self) -> int:
        return len(self.elements)

    @property
    def chars(self) -> int:
        return sum(n for _, _, n in self.elements)


def _p_chars(el: Any) -> int:
    return sum(nonspace(p.text_content()) for p in el.iter("p"))


def prune_widgets(tree: Any, table: WidgetTable | None = None) -> Pruned:
    """Remove the widget subtrees of ``tree``'s body (each subtree's tail text stays)."""
    table = table or builtin_table()
    body = tree.find("body")
    root = tree if body is None else body
    visible = nonspace(root.text_content())
    if visible == 0:
        return Pruned((), 0)
    p_total = _p_chars(root)
    budget = MAX_PAGE_SHARE * visible
    taken = 0
    pruned: list[tuple[str, tuple[str, ...], int]] = []
    stack = list(reversed(root))
    scores: dict[frozenset[str], float] = {}  # a page's elements share a few token sets
    while stack:
        el = stack.pop()
        tag = el.tag if isinstance(el.tag, str) else ""
        if not tag:
            continue
        tokens = _tokens(el.get("class"), el.get("id"), tag)
        score = scores.get(tokens)
        if score is None:
            score = scores[tokens] = table.score(tokens)
        if tag.lower() not in PROTECTED_TAGS and score >= table.threshold:
            chars = nonspace(el.text_content())
            p_chars = _p_chars(el) if p_total else 0
            fits = (
                chars <= MAX_ELEMENT_SHARE * visible
                and p_chars <= MAX_ELEMENT_SHARE * p_total
                and taken + chars <= budget
            )
            if fits:
                scored = tuple(sorted(t for t in tokens if table.weights.get(t, 0.0) > 0))
                pruned.append((tag.lower(), scored, chars))
                taken += chars
                el.drop_tree()
                continue
        stack.extend(reversed(el))
    return Pruned(tuple(pruned), visible)
