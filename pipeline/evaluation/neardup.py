"""``cleanwire eval --set neardup``: precision and recall of ``near_dedup`` on the labelled set
:mod:`pipeline.evaluation.neardup_set` builds from the evaluation data, with exact dedup's beside.

Two views, both per split (``test`` is what is reported; ``tune`` chose the parameters):

* **pairs**: every labelled pair (positive: share >= 0.8; negative: share < 0.5; gray excluded)
  judged on its own: a duplicate when the two texts are equal, or when their signatures share a
  band (an LSH candidate) and the Jaccard similarity of their shingle sets reaches the threshold.
* **stream**: the documents of each stream through the stage's rule in their (shuffled) order,
  as a run sees them. A drop ``j -> dup_of i`` is a true positive when share(i, j) >= 0.8, a false
  positive when share(i, j) < 0.5 and the two texts do not share half their words either (two real
  pages can carry the same text); recall is over the documents that have an earlier document with
  share >= 0.8. Exact dedup (equal cleaned text, first one kept) is scored the same way.

The texts are treated as cleaned text (they model cleanwire's output, template residue included),
so the stage's rule runs on them directly, with the configured ``[near_dedup]`` parameters.
"""

from __future__ import annotations

import difflib
import tempfile
import time
from collections import Counter, defaultdict
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from pipeline.core.config import Config
from pipeline.core.record import content_hash
from pipeline.evaluation.neardup_set import Stream, streams
from stages.near_dedup.deduper import DUPLICATE, DedupParams, NearDeduper, Prepared, Verdict
from stages.near_dedup.minhash import MinHasher, Sketch, jaccard, pack_set
from stages.near_dedup.stage import dedup_params
from stages.near_dedup.store import IndexStore, identity

#: Length bins of the pairs' recall (words of the shorter body).
LENGTH_BINS = (100, 200, 500)


@dataclass(frozen=True)
class PR:
    tp: int
    fp: int
    fn: int

    @property
    def precision(self) -> float:
        return self.tp / (self.tp + self.fp) if self.tp + self.fp else 1.0

    @property
    def recall(self) -> float:
        return self.tp / (self.tp + self.fn) if self.tp + self.fn else 1.0

    def to_dict(self) -> dict[str, Any]:
        return {
            "precision": round(self.precision, 4),
            "recall": round(self.recall, 4),
            "tp": self.tp,
            "fp": self.fp,
            "fn": self.fn,
        }


@dataclass
class NeardupResult:
    split: str
    residue: str
    params: dict[str, Any]
    docs: int
    pairs_near: PR
    pairs_exact: PR
    stream_near: PR
    stream_exact: PR
    by_category: dict[str, str] = field(default_factory=dict)
    by_length: dict[str, str] = field(default_factory=dict)
    drops: Counter[str] = field(default_factory=Counter)
    false_positives: list[tuple[str, str, str, float]] = field(default_factory=list)
    seconds: float = 0.0

    def to_dict(self) -> dict[str, Any]:
        return {
            "split": self.split,
            "residue": self.residue,
            "params": self.params,
            "docs": self.docs,
            "pairs": {"near_dedup": self.pairs_near.to_dict(), "exact": self.pairs_exact.to_dict()},
            "stream": {"near_dedup": self.stream_near.to_dict(), "exact": self.stream_exact.to_dict()},
            "positives_found_by_length": self.by_length,
            "by_category": self.by_category,
            "drops": dict(self.drops),
            "false_positives": [list(fp) for fp in self.false_positives[:20]],
            "seconds": round(self.seconds, 2),
        }


def _length_bin(words: int) -> str:
    hi = next((h for h in LENGTH_BINS if words < h), None)
    return f"words<{hi}" if hi is not None else f"words>={LENGTH_BINS[-1]}"


def _pairs(
    items: list[Stream], params: DedupParams, sketches: dict[str, Sketch]
) -> tuple[PR, PR, dict[str, str], dict[str, str]]:
    hasher = MinHasher(params.minhash)
    keys = {i: hasher.band_keys(s.signature) for i, s in sketches.items()}
    texts = {d[0]: d[2] for s in items for d in s.docs}
    per_cat: dict[str, Counter[str]] = defaultdict(Counter)
    per_len: dict[str, Counter[str]] = defaultdict(Counter)
    near, exact = Counter[str](), Counter[str]()
    for stream in items:
        for p in stream.pairs:
            if p.label == "gray":
                continue
            a, b = sketches[p.a], sketches[p.b]
            same = texts[p.a] == texts[p.b]
            dup = same
            if not dup and len(keys[p.a]) and len(keys[p.b]) and bool(np.any(keys[p.a] == keys[p.b])):
                dup = jaccard(a.shingles, b.shingles) >= params.threshold
            per_cat[f"{p.label}:{p.category}"]["n"] += 1
            per_cat[f"{p.label}:{p.category}"]["flagged"] += dup
            if p.label == "positive":
                length = _length_bin(min(a.n_words, b.n_words))
                per_len[length]["n"] += 1
                per_len[length]["found"] += dup
                near["tp" if dup else "fn"] += 1
                exact["tp" if same else "fn"] += 1
            else:
                near["fp"] += dup
                exact["fp"] += same
    by_cat = {k: f"{v['flagged']}/{v['n']} flagged" for k, v in sorted(per_cat.items())}
    by_len = {
        k: f"{v['found']}/{v['n']} = {v['found'] / v['n']:.3f}"
        for k, v in sorted(per_len.items(), key=lambda kv: (kv[0].startswith("words>="), len(kv[0]), kv[0]))
    }
    return PR(near["tp"], near["fp"], near["fn"]), PR(exact["tp"], exact["fp"], exact["fn"]), by_cat, by_len


def text_share(a: str, b: str) -> float:
    """Word-level share of two whole texts by a diff (an independent look at a would-be false
    positive: different source pages can carry the same text)."""
    wa, wb = a.casefold().split(), b.casefold().split()
    sm = difflib.SequenceMatcher(None, wa, wb, autojunk=False)
    return sum(m.size for m in sm.get_matching_blocks()) / max(len(wa), len(wb), 1)


def _score(
    stream: Stream, verdicts: list[Verdict | None], fps: list[tuple[str, str, str, float]] | None
) -> Counter[str]:
    shares = stream.shares()
    texts = {d[0]: d[2] for d in stream.docs}
    position = {d[0]: i for i, d in enumerate(stream.docs)}
    partners: dict[str, list[str]] = defaultdict(list)
    for (a, b), s in shares.items():
        if s >= 0.8:
            partners[a].append(b)
    c: Counter[str] = Counter()
    for (x, _kind, _), v in zip(stream.docs, verdicts, strict=True):
        has_earlier = any(position[y] < position[x] for y in partners[x])
        if v is None:
            c["fn"] += has_earlier
            continue
        c[v.reason] += 1
        s = shares.get((x, v.dup_of), 0.0)
        if s >= 0.8:
            c["tp"] += 1
        elif s < 0.5 and text_share(texts[x], texts[v.dup_of]) < 0.5:
            c["fp"] += 1
            if fps is not None:
                fps.append((stream.name, x, v.dup_of, v.similarity))
        else:  # gray: neither a hit nor a false alarm; a miss if a real copy came earlier
            c["gray"] += 1
            c["fn"] += has_earlier
    return c


def _exact_verdicts(stream: Stream) -> list[Verdict | None]:
    first: dict[str, str] = {}
    out: list[Verdict | None] = []
    for rid, _, text in stream.docs:
        if text in first:
            out.append(Verdict(DUPLICATE, first[text], 1.0))
        else:
            first[text] = rid
            out.append(None)
    return out


def run_stream(stream: Stream, params: DedupParams, sketches: dict[str, Sketch]) -> list[Verdict | None]:
    """The stage's rule over one stream, in order, batches of 64, against a fresh index."""
    with tempfile.TemporaryDirectory(prefix="cleanwire-neardup-eval-") as where:
        store = IndexStore(Path(where), params.index_params(), durable=False)
        try:
            deduper = NearDeduper(params, [store])
            items = [
                Prepared(
                    rid,
                    identity(stream.name, rid),
                    bytes.fromhex(content_hash(text)),
                    sketches[rid].n_words,
                    sketches[rid].signature,
                    pack_set(sketches[rid].shingles),
                )
                for rid, _, text in stream.docs
            ]
            out: list[Verdict | None] = []
            for lo in range(0, len(items), 64):
                out += deduper.judge_batch(items[lo : lo + 64])
            return out
        finally:
            store.close()


def eval_neardup(root: Path, config: Config, *, split: str = "test", residue: str = "light") -> NeardupResult:
    t0 = time.perf_counter()
    params = dedup_params(config.near_dedup)
    items = streams(root, split, residue)
    hasher = MinHasher(params.minhash)
    sketches = {rid: hasher.sketch(text) for s in items for rid, _, text in s.docs}
    pairs_near, pairs_exact, by_cat, by_len = _pairs(items, params, sketches)
    near, exact = Counter[str](), Counter[str]()
    fps: list[tuple[str, str, str, float]] = []
    for stream in items:
        near.update(_score(stream, run_stream(stream, params, sketches), fps))
        exact.update(_score(stream, _exact_verdicts(stream), None))
    return NeardupResult(
        split=split,
        residue=residue,
        params={**params.index_params(), "threshold": params.threshold},
        docs=sum(len(s.docs) for s in items),
        pairs_near=pairs_near,
        pairs_exact=pairs_exact,
        stream_near=PR(near["tp"], near["fp"], near["fn"]),
        stream_exact=PR(exact["tp"], exact["fp"], exact["fn"]),
        by_category=by_cat,
        by_length=by_len,
        drops=Counter({k: near[k] for k in ("duplicate", "near_duplicate", "gray")}),
        false_positives=fps,
        seconds=time.perf_counter() - t0,
    )


def render_neardup(res: NeardupResult) -> str:
    def row(name: str, pr: PR) -> str:
        return f"{name:<22} {pr.precision:>9.3f} {pr.recall:>7.3f} {pr.tp:>6} {pr.fp:>5} {pr.fn:>5}"

    lines = [
        f"== neardup: {res.docs} documents ({res.split} split, {res.residue} template residue), "
        f"threshold {res.params['threshold']}, {res.params['bands']} bands x {res.params['rows']} rows",
        f"{'':<22} {'precision':>9} {'recall':>7} {'tp':>6} {'fp':>5} {'fn':>5}",
        row("stream near_dedup", res.stream_near),
        row("stream exact only", res.stream_exact),
        row("pairs near_dedup", res.pairs_near),
        row("pairs exact only", res.pairs_exact),
        "",
        "positives found, by the shorter body: "
        + ", ".join(f"{k} {v.split('= ')[1]}" for k, v in res.by_length.items()),
    ]
    return "\n".join(lines)
