"""Hostile inputs, written small at test time, and stages that misbehave on a marker record.

Nothing here is committed as data: :func:`write_hostile_dump` writes every case into a temporary
directory and returns what each one must become (kept, or rejected by a stage for a reason).
The misbehaving stages live here (not in the package) and reach worker processes by pickling,
so the supervised pool can be tested against real crashes, hangs and stage bugs.
"""

from __future__ import annotations

import gzip
import json
import os
import random
import signal
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

from pipeline.core.record import Doc
from pipeline.core.stage import DocStage, Stage

CRASH = "@@crash@@"
SEGV = "@@segv@@"
HANG = "@@hang@@"
OOM = "@@oom@@"  # what the kernel's OOM killer does to a worker: SIGKILL
BUG = "@@bug@@"
HOG = "@@hog@@"  # takes HOG_BYTES of memory, then waits to be killed for it
HOG_BYTES = 1200 << 20


class Misbehave(DocStage):
    """Crashes (``os._exit``), segfaults, is OOM-killed, hangs or hogs memory when the text holds a
    marker."""

    name = "misbehave"

    def process(self, doc: Doc) -> None:
        text = doc.text or doc.raw
        if CRASH in text:
            os._exit(3)
        if SEGV in text:
            os.kill(os.getpid(), signal.SIGSEGV)
        if HANG in text:
            time.sleep(3600)
        if OOM in text:
            os.kill(os.getpid(), signal.SIGKILL)
        if HOG in text:
            hog = b"x" * HOG_BYTES  # written, so resident
            time.sleep(60)
            del hog


POISON = "@@poison@@"


class PoisonsItsBatch(DocStage):
    """On a marker, leaves a flag that is not a string: the worker dies building the batch it
    sends back, after its records, outside any of them."""

    name = "poisons"

    def process(self, doc: Doc) -> None:
        if POISON in (doc.text or doc.raw):
            doc.flags.append(object())  # type: ignore[arg-type]


class BatchBug(Stage):
    """A batch-level stage whose own loop raises (no DocStage safety net) on a marker."""

    name = "batchbug"

    def process_docs(self, docs: Sequence[Doc]) -> None:
        for doc in docs:
            if doc.ok and BUG in doc.raw:
                raise RuntimeError("bug in a batch stage")
            if doc.ok:
                doc.text = doc.raw.upper()


@dataclass(frozen=True)
class Case:
    """One hostile input file and what it must become."""

    name: str
    expect: str  # "ok" or "stage/reason"
    write: Callable[[Path], object]


def _bytes(data: bytes) -> Callable[[Path], object]:
    return lambda p: p.write_bytes(data)


def _jsonl(lines: Sequence[str]) -> Callable[[Path], object]:
    return lambda p: p.write_text("\n".join(lines) + "\n", encoding="utf-8")


def _gz_truncated(p: Path) -> None:
    blob = gzip.compress(("\n".join(json.dumps({"text": f"line {i} " * 20}) for i in range(500))).encode())
    p.write_bytes(blob[: len(blob) // 2])


def _symlink_loop(p: Path) -> None:
    p.symlink_to(p.name)  # a link to itself: ELOOP on open


def _unreadable(p: Path) -> None:
    p.write_text("secret", encoding="utf-8")
    p.chmod(0)


ARTICLE = (
    "The harbour authority said on Tuesday that the sea wall would be repaired before winter. "
    "Engineers found cracks along a forty metre stretch after the storms of last month. "
)


_WORDS = [
    "harbour",
    "authority",
    "council",
    "engineers",
    "cracks",
    "storms",
    "winter",
    "repaired",
    "sea",
    "wall",
    "bridge",
    "road",
    "school",
    "hospital",
    "budget",
    "minister",
    "election",
    "farmers",
    "market",
    "river",
    "flood",
    "station",
    "train",
    "museum",
    "festival",
    "library",
    "teachers",
    "students",
    "nurses",
    "doctors",
    "police",
    "court",
    "judge",
    "company",
    "workers",
    "union",
    "strike",
    "prices",
    "energy",
    "water",
    "houses",
    "rent",
    "village",
    "town",
    "city",
    "weather",
    "airport",
    "flight",
    "delays",
    "boats",
    "fishing",
]


def article(tag: str) -> str:
    """A news-like paragraph, unique per ``tag``: its words are drawn with ``tag`` as the seed, so
    neither exact nor near-duplicate detection ever merges two cases."""
    rng = random.Random(f"article-{tag}")
    sentences = []
    for _ in range(3):
        words = [rng.choice(_WORDS) for _ in range(rng.randint(10, 14))]
        sentences.append("The " + " ".join(words) + " said on Tuesday.")
    return f"Report {tag}: " + " ".join(sentences)


def xxe(tag: str) -> str:
    """An XXE payload around an article: the entity must never pull in a local file."""
    return (
        '<?xml version="1.0"?><!DOCTYPE html [<!ENTITY xxe SYSTEM "file:///etc/passwd">]>'
        f"<html><body><article><p>{article(tag)}</p><p>&xxe;</p></article></body></html>"
    )


def document_cases() -> list[Case]:
    """One record per file (``.txt``/``.html``)."""
    return [
        Case("empty.txt", "extract/empty", _bytes(b"")),
        Case("blank.txt", "extract/empty", _bytes(b"  \n\t\r\n   ")),
        Case("binary.txt", "read/undecodable", _bytes(bytes(range(256)) * 40)),
        Case("invalid-utf8.txt", "ok", _bytes(article("a").encode() + b"\xff\xfe\xc3(" + ARTICLE.encode())),
        Case("utf16-bom.txt", "ok", _bytes(b"\xff\xfe" + article("b").encode("utf-16-le"))),
        Case("latin1.txt", "ok", _bytes(("Café crème à la française. " + article("c")).encode("latin-1"))),
        Case(
            "wrong-charset.html",
            "ok",
            _bytes(
                b'<html><head><meta charset="utf-8"></head><body><p>'
                + ("Déjà vu à Zürich. " + article("d")).encode("cp1252")
                + b"</p></body></html>"
            ),
        ),
        Case("nul-bytes.txt", "ok", _bytes(article("e").encode().replace(b" ", b" \x00", 3))),
        Case("long-line.txt", "ok", _bytes(b"x" * 2_000_000)),
        Case("digits.txt", "ok", _bytes(b"0123456789 " * 50)),
        Case("urls.txt", "ok", _bytes(b"https://example.org/a/b?c=d " * 20)),
        Case("emoji.txt", "ok", _bytes(("😀🎉🔥 " * 100).encode())),
        Case("xxe.html", "ok", _bytes(xxe("f").encode())),
        Case("deep.html", "extract/", _bytes(("<div>" * 5000 + article("g") + "</div>" * 5000).encode())),
        Case("symlink-loop.txt", "read/unreadable", _symlink_loop),
        Case("named-pipe.txt", "extract/empty", lambda p: os.mkfifo(p)),  # no writer: must not hang
        # root reads any file: then the "unreadable" file is simply read
        Case("unreadable.txt", "ok" if os.geteuid() == 0 else "read/unreadable", _unreadable),
    ]


def jsonl_lines() -> list[tuple[str, str]]:
    """(line, expected) pairs for one JSONL file; blank lines are skipped, not records."""
    return [
        (json.dumps({"id": "good", "text": article("j1")}), "ok"),
        ('{"id": "trunc", "text": "cut in the midd', "read/invalid_json"),
        ("not json at all", "read/invalid_json"),
        (json.dumps([1, 2, 3]), "read/wrong_type"),
        (json.dumps({"id": "num", "text": 12345}), "read/wrong_type"),
        (json.dumps({"id": "none"}), "read/missing_field"),
        (json.dumps({"id": "surrogate", "text": "lone \ud800 surrogate " + article("j7")}), "ok"),
        (json.dumps({"id": "nul", "text": "nul \u0000 inside " + article("j8")}), "ok"),
        (json.dumps({"id": "dup", "text": article("j9")}), "ok"),
        (json.dumps({"id": "dup", "text": article("j10")}), "read/duplicate_id"),
        (json.dumps({"id": "html", "html": xxe("j11")}), "ok"),
        (json.dumps({"id": "big", "text": "y" * 3_000_000}), "ok"),
    ]


def csv_rows() -> list[tuple[str, str]]:
    """(CSV line, expected) pairs after a ``id,text`` header."""
    return [
        (f"c1,{article('c1')}", "ok"),
        ("c2," + "z" * 200_000, "ok"),  # over the csv module's default 131072-char field limit
        (f'c3,"{article("c3")}"', "ok"),
    ]


def write_hostile_dump(root: Path) -> dict[str, str]:
    """Write every hostile case under ``root``; return ``{source-suffix: expected}`` where
    expected is ``ok`` or a ``stage/reason`` prefix."""
    docs = root / "docs"
    docs.mkdir(parents=True)
    expected: dict[str, str] = {}
    for case in document_cases():
        case.write(docs / case.name)
        expected[f"docs/{case.name}"] = case.expect
    # A file name that is not valid UTF-8 (bytes path, so it survives any locale).
    with open(os.fsencode(docs) + b"/bad-\xff-name.txt", "wb") as fh:
        fh.write(article("h").encode())
    expected["docs/bad-\\xff-name.txt"] = "ok"  # source: valid UTF-8 that still names the file
    lines = jsonl_lines()
    (root / "records.jsonl").write_text("\n".join(line for line, _ in lines) + "\n\n", encoding="utf-8")
    for n, (_, want) in enumerate(lines, start=1):
        expected[f"records.jsonl:{n}"] = want
    rows = csv_rows()
    (root / "table.csv").write_text("id,text\n" + "\n".join(r for r, _ in rows) + "\n", encoding="utf-8")
    _gz_truncated(root / "truncated.jsonl.gz")
    return expected


class DiesOnArrival(DocStage):
    """A stage that kills any process that unpickles it: every worker dies before any record."""

    name = "dies_on_arrival"

    def __reduce__(self) -> tuple[object, tuple[int]]:
        return (os._exit, (7,))

    def process(self, doc: Doc) -> None:
        pass


def _stall() -> DocStage:
    time.sleep(3600)
    raise AssertionError("unreachable")


class StallsOnArrival(DocStage):
    """A stage whose unpickling never ends: every worker stalls before it has started."""

    name = "stalls_on_arrival"

    def __reduce__(self) -> tuple[object, tuple[()]]:
        return (_stall, ())

    def process(self, doc: Doc) -> None:
        pass


class StallsWarmingUp(DocStage):
    """A stage that hangs on the worker's warm-up documents (and on nothing else)."""

    name = "stalls_warming_up"

    def process(self, doc: Doc) -> None:
        if doc.source == "<warm-up>":
            time.sleep(3600)
