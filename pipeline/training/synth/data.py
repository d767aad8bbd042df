"""Load the phrase pools, lexicons, articles and site list; split them into train/test parts."""

from __future__ import annotations

import json
import tomllib
import zlib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, cast

from stages.boilerplate.rulepack import NEWS_CATEGORIES

DATA = Path(__file__).resolve().parent / "data"
LANGS = ["en", "de", "fr", "es", "it", "nl", "pt"]
CATEGORIES = list(NEWS_CATEGORIES)
# lists that are not split into parts (tiny closed sets, or structural)
_NO_SPLIT = {"tags", "breadcrumb_seps", "links", "extras", "counters", "buttons"}


def stable_hash(s: str) -> int:
    return zlib.crc32(s.encode("utf-8"))


def split_pool(lst: list[Any], key: str, part: str, share: float = 0.2) -> list[Any]:
    """Deterministic split of a pool: the ~share of entries with the lowest hash are the held-out
    ``test`` part, the rest the ``train`` part. Inside ``train``, the next ~share by hash are the
    ``dev`` part and the rest the ``fit`` part (a tuning split that mirrors train/test: a model
    fitted on ``fit`` meets other phrasings and stories in ``dev``); a pool with fewer than three
    train entries is not split again."""
    if part == "all" or len(lst) < 2:
        return list(lst)
    hashes = [stable_hash(key + "|" + json.dumps(x, ensure_ascii=False)) for x in lst]
    k = max(1, round(len(lst) * share))
    order = sorted(range(len(lst)), key=lambda i: hashes[i])
    test, train = set(order[:k]), order[k:]
    if part == "test":
        keep = test
    elif part == "train" or len(train) < 3:
        keep = set(train)
    else:
        dev = set(train[:k])  # as many as the test part
        keep = dev if part == "dev" else set(train) - dev
    return [x for i, x in enumerate(lst) if i in keep]


@dataclass
class LangData:
    code: str
    lex: dict[str, Any]
    boiler: dict[str, Any]
    stories: list[Any]
    headlines: list[Any]
    hard_negatives: list[Any]
    context: list[Any] = field(default_factory=list)
    counts: dict[str, Any] = field(default_factory=dict)

    def pool(self, cat: str, key: str) -> list[Any]:
        return cast(list[Any], self.boiler.get(cat, {}).get(key, []))


def load_lang(code: str, part: str = "all") -> LangData:
    d = DATA / code
    with open(d / "lexicon.toml", "rb") as f:
        lex = tomllib.load(f)
    with open(d / "boiler.toml", "rb") as f:
        boiler_raw = tomllib.load(f)
    with open(d / "articles.toml", "rb") as f:
        art = tomllib.load(f)
    boiler: dict[str, Any] = {}
    counts: dict[str, Any] = {}
    extra = _extra_phrasings(d) if part in TRAIN_ONLY_PARTS else {}
    for cat, tables in boiler_raw.items():
        boiler[cat] = {}
        for key, lst in tables.items():
            if isinstance(lst, list) and key not in _NO_SPLIT:
                boiler[cat][key] = split_pool(lst, f"{code}|{cat}|{key}", part)
            else:
                boiler[cat][key] = lst
            if isinstance(lst, list):
                counts[f"{cat}.{key}"] = len(lst)
                boiler[cat][key] = boiler[cat][key] + extra.get(cat, {}).get(key, [])
    stories = split_pool(art.get("story", []), f"{code}|story", part)
    headlines = split_pool(art.get("headlines", []), f"{code}|headline", part)
    hns = split_pool(art.get("hard_negative", []), f"{code}|hn", part)
    context = split_pool(art.get("context", []), f"{code}|context", part)
    counts["context"] = len(art.get("context", []))
    counts["stories"] = len(art.get("story", []))
    counts["headlines"] = len(art.get("headlines", []))
    counts["hard_negatives"] = len(art.get("hard_negative", []))
    return LangData(code, lex, boiler, stories, headlines, hns, context, counts)


#: The parts that also draw the train-only phrasings of ``boiler_extra.toml``.
TRAIN_ONLY_PARTS = frozenset({"all", "train", "fit"})


def _extra_phrasings(lang_dir: Path) -> dict[str, Any]:
    """A language's train-only phrasings (``boiler_extra.toml``, the same tables as
    ``boiler.toml``): more wordings for the model to learn a category's vocabulary from. They are
    added to the ``train`` and ``fit`` parts after the split, so the ``test`` and ``dev`` parts
    (the held-out and tuning phrasings) are the same with or without them."""
    path = lang_dir / "boiler_extra.toml"
    if not path.exists():
        return {}
    with open(path, "rb") as f:
        return tomllib.load(f)


def load_sites() -> list[dict[str, Any]]:
    with open(DATA / "sites.toml", "rb") as f:
        return cast(list[dict[str, Any]], tomllib.load(f)["site"])
