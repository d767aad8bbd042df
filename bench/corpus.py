"""Benchmark corpora, written as JSONL so that both arms read the same bytes.

* HTML: pages from the eval sets (``aeb``, ``wcxb``, ``newsboiler``), cycled to the requested size.
* Text: records like the product owner's seed (title, body paragraphs, boilerplate lines), generated
  deterministically by mixing the paragraphs of the newsboiler text records, so that every record is
  distinct and the corpus can be made as large as a memory test needs.
"""

from __future__ import annotations

import gzip
import json
import random
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

HTML_SOURCES = ("aeb", "wcxb", "newsboiler")
TEXT_TARGET_CHARS = 4000  # the seed record is ~3.9 KB


@dataclass(frozen=True)
class Page:
    id: str
    url: str | None
    html: str


@dataclass(frozen=True)
class Corpus:
    path: Path
    kind: str  # "html" or "text"
    n_docs: int
    n_bytes: int  # UTF-8 bytes of the raw documents (HTML or text), for MB/s


def _gold_urls(path: Path) -> dict[str, str | None]:
    if not path.exists():
        return {}
    gold = json.loads(path.read_text(encoding="utf-8"))
    return {k: v.get("url") for k, v in gold.items()}


def _gz_pages(folder: Path, prefix: str) -> Iterator[Page]:
    urls = _gold_urls(folder / "ground-truth.json")
    for path in sorted((folder / "html").glob("*.html.gz")):
        page_id = path.name.split(".", 1)[0]
        with gzip.open(path, "rt", encoding="utf-8") as fh:
            yield Page(f"{prefix}/{page_id}", urls.get(page_id), fh.read())


def _newsboiler(eval_dir: Path, fmt: str) -> Iterator[dict[str, str]]:
    path = eval_dir / "newsboiler" / "dev.jsonl"
    if not path.exists():
        return
    with path.open(encoding="utf-8") as fh:
        for line in fh:
            rec = json.loads(line)
            if rec.get("format") == fmt:
                yield rec


def eval_pages(eval_dir: Path, sources: tuple[str, ...]) -> list[Page]:
    """The HTML pages of the chosen eval sets, in a fixed order."""
    pages: list[Page] = []
    for name in sources:
        if name in ("aeb", "wcxb"):
            pages.extend(_gz_pages(eval_dir / name, name))
        elif name == "newsboiler":
            pages.extend(
                Page(f"newsboiler/{r['id']}", r.get("url"), r["raw"]) for r in _newsboiler(eval_dir, "html")
            )
        else:
            raise ValueError(f"unknown HTML source {name!r}; choose from {HTML_SOURCES}")
    return pages


def build_html(path: Path, pages: list[Page], n_docs: int) -> Corpus:
    """``n_docs`` records cycling over ``pages``; repeats get an id suffix ``~k``."""
    if not pages:
        raise ValueError("no HTML pages found for the benchmark corpus")
    n_bytes = 0
    with path.open("w", encoding="utf-8") as fh:
        for i in range(n_docs):
            page = pages[i % len(pages)]
            lap = i // len(pages)
            rid = page.id if lap == 0 else f"{page.id}~{lap}"
            fh.write(json.dumps({"id": rid, "url": page.url, "html": page.html}, ensure_ascii=False) + "\n")
            n_bytes += len(page.html.encode("utf-8"))
    return Corpus(path, "html", n_docs, n_bytes)


def first_records(corpus: Corpus, path: Path, n: int = 1) -> Corpus:
    """A corpus of ``corpus``'s first ``n`` records, written to ``path``: an arm's command on a
    few records costs what the command costs whatever its input (interpreter, imports, workers'
    start, exit), which is what a user running it on a small file waits for."""
    lines: list[bytes] = []
    with corpus.path.open("rb") as fh:
        for line in fh:
            lines.append(line)
            if len(lines) >= n:
                break
    path.write_bytes(b"".join(lines))
    n_bytes = 0
    for line in lines:
        record = json.loads(line)
        n_bytes += len((record.get("html") or record.get("text") or "").encode("utf-8"))
    return Corpus(path, corpus.kind, len(lines), n_bytes)


def paragraph_pool(eval_dir: Path, seed_file: Path | None) -> list[list[str]]:
    """Documents as lists of non-blank lines (the text records of newsboiler, and the seed)."""
    docs = [[ln for ln in r["raw"].splitlines() if ln.strip()] for r in _newsboiler(eval_dir, "text")]
    if seed_file is not None and seed_file.exists():
        docs.append([ln for ln in seed_file.read_text(encoding="utf-8").splitlines() if ln.strip()])
    return [d for d in docs if len(d) >= 2]


def fallback_pool() -> list[list[str]]:
    """A small self-made pool, for machines without ../shared (CI has it; a fresh laptop may not)."""
    body = [
        f"Paragraph {i} of a synthetic article: the council met on Tuesday to discuss the budget, "
        f"and residents said the proposed rise of {i % 9 + 1} percent was more than they had expected."
        for i in range(40)
    ]
    titles = [f"Town council debates budget, part {i}" for i in range(8)]
    junk = [
        "Advertisement",
        "Read more: Local news in brief",
        "Share this article",
        "Sign up to our newsletter",
    ]
    return [[t, junk[i % len(junk)], *body[i * 5 : i * 5 + 5]] for i, t in enumerate(titles)]


def synth_text(rng: random.Random, pool: list[list[str]], target_chars: int) -> str:
    """One record: a base document's title and lines, topped up with lines of other documents."""
    base = rng.choice(pool)
    lines = list(base)
    size = sum(len(ln) for ln in lines)
    while size < target_chars:
        other = rng.choice(pool)
        extra = rng.choice(other[1:])
        lines.insert(rng.randrange(1, len(lines) + 1), extra)
        size += len(extra)
    return "\n\n".join(lines)


def build_text(path: Path, pool: list[list[str]], n_docs: int, *, seed: int = 0) -> Corpus:
    """``n_docs`` generated text records (deterministic for a given pool and seed), streamed to disk."""
    rng = random.Random(seed)
    n_bytes = 0
    with path.open("w", encoding="utf-8") as fh:
        for i in range(n_docs):
            text = synth_text(rng, pool, TEXT_TARGET_CHARS)
            fh.write(json.dumps({"id": f"gen/{i:07d}", "text": text}, ensure_ascii=False) + "\n")
            n_bytes += len(text.encode("utf-8"))
    return Corpus(path, "text", n_docs, n_bytes)
