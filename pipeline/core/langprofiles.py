"""langdetect's language profiles and its n-grams, shared by the language stage
(:mod:`stages.language.fastdetect` runs langdetect's random walk over them) and the readers'
charset detection (:func:`pipeline.io.formats.decoding.plausibility` scores a reading of
undeclared bytes by how well its n-grams fit some language).

The profiles are read from langdetect's own files once per process and cached on disk as one
matrix (:func:`profiles`); :func:`prepare` and :func:`extract_ngrams` are langdetect's text
clean-up and n-gram extraction, returning the same n-grams in the same order. They depend on
langdetect's internals, so ``pyproject.toml`` allows only the langdetect release they were
checked against (``tests/stages/test_fastdetect.py`` compares them with langdetect itself).
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import re
from collections import Counter
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Any

from pipeline.core.fsutil import atomic_path

BASE_FREQ = 10000
MAX_TEXT_LENGTH = 10000

_SPACE_RUN = re.compile(" {2,}")
_ASCII_LETTERISH = re.compile("[A-z]")  # langdetect's ``'A' <= ch <= 'z'`` (includes [\]^_`)


@dataclass(frozen=True)
class Profiles:
    """langdetect's profiles as one matrix: ``table[ids[ngram], j]`` is p(ngram | ``langs[j]``)."""

    langs: tuple[str, ...]
    ids: dict[str, int]
    table: Any  # numpy float64 array, n-grams x languages


#: Bump when the cached form of the profiles changes.
_CACHE_FORMAT = 1


def cache_dir() -> Path:
    """Where derived data is cached: ``$CLEANWIRE_CACHE_DIR``, else ``$XDG_CACHE_HOME/cleanwire``,
    else ``~/.cache/cleanwire``."""
    explicit = os.environ.get("CLEANWIRE_CACHE_DIR")
    if explicit:
        return Path(explicit)
    base = os.environ.get("XDG_CACHE_HOME") or os.path.join(os.path.expanduser("~"), ".cache")
    return Path(base) / "cleanwire"


@lru_cache(maxsize=1)
def profiles() -> Profiles:
    """langdetect's bundled profiles as one matrix, loaded once per process.

    Built from langdetect's JSON files (:func:`build_profiles`, ~0.8 s) the first time, then kept
    in :func:`cache_dir` as a ``.npy`` matrix plus the n-gram and language lists, keyed by the
    profile files' names, sizes and modification times: later processes (every worker of every
    run) map the matrix read-only in ~0.05 s and share its pages. A cache that cannot be read
    or written is rebuilt or skipped; the answer is the same either way (tested).
    """
    key = _profiles_key()
    try:
        return _load_cached(key)
    except (OSError, ValueError, KeyError):
        pass
    prof = build_profiles()
    with contextlib.suppress(OSError):
        _store_cached(key, prof)
    return prof


def _profiles_key() -> str:
    from langdetect.detector_factory import PROFILES_DIRECTORY

    entries = sorted(
        (e.name, e.stat().st_size, e.stat().st_mtime_ns)
        for e in os.scandir(PROFILES_DIRECTORY)
        if e.is_file()
    )
    blob = json.dumps([_CACHE_FORMAT, PROFILES_DIRECTORY, entries]).encode()
    return hashlib.sha256(blob).hexdigest()[:16]


def _cache_files(key: str) -> tuple[Path, Path]:
    """The cached matrix (``.npy``) and its n-gram and language lists (``.json``)."""
    folder = cache_dir()
    return folder / f"langdetect-{key}.npy", folder / f"langdetect-{key}.json"


def _load_cached(key: str) -> Profiles:
    import numpy as np

    matrix, lists = _cache_files(key)
    meta = json.loads(lists.read_text(encoding="utf-8"))
    # A plain read-only view of the mapped file: np.memmap's own indexing runs Python code per
    # lookup, and the random walk indexes the table ~500 times per document.
    table = np.load(matrix, mmap_mode="r", allow_pickle=False).view(np.ndarray)
    words: list[str] = meta["ngrams"]
    if table.shape != (len(words), len(meta["langs"])):
        raise ValueError("cached profiles do not fit together")
    return Profiles(tuple(meta["langs"]), {w: i for i, w in enumerate(words)}, table)


def _store_cached(key: str, prof: Profiles) -> None:
    """Write the cache files, each atomically (the matrix first: it is read only with its lists)."""
    import numpy as np

    matrix, lists = _cache_files(key)
    matrix.parent.mkdir(parents=True, exist_ok=True)
    with atomic_path(matrix) as tmp, open(tmp, "wb") as fh:
        np.save(fh, prof.table, allow_pickle=False)
    with atomic_path(lists) as tmp:
        tmp.write_text(
            json.dumps({"langs": list(prof.langs), "ngrams": list(prof.ids)}, ensure_ascii=False),
            encoding="utf-8",
        )


def build_profiles() -> Profiles:
    """langdetect's profiles read from its JSON files, straight into a numpy matrix.

    The same files, language order (``os.listdir``) and probabilities (``count / n_words[n - 1]``)
    as ``DetectorFactory.load_profile``, without building a Python list per n-gram first.
    """
    import numpy as np
    from langdetect.detector_factory import PROFILES_DIRECTORY

    files = [
        path
        for name in os.listdir(PROFILES_DIRECTORY)
        if not name.startswith(".") and os.path.isfile(path := os.path.join(PROFILES_DIRECTORY, name))
    ]
    langs: list[str] = []
    ids: dict[str, int] = {}
    cells: list[tuple[list[int], list[float]]] = []
    for path in files:
        with open(path, encoding="utf-8") as fh:
            data = json.load(fh)
        langs.append(data["name"])
        n_words = data["n_words"]
        rows: list[int] = []
        probs: list[float] = []
        for word, count in data["freq"].items():
            if 1 <= len(word) <= 3:  # langdetect keeps longer ones at 0; no n-gram is longer
                rows.append(ids.setdefault(word, len(ids)))
                probs.append(1.0 * count / n_words[len(word) - 1])
        cells.append((rows, probs))
    table = np.zeros((len(ids), len(langs)), dtype=np.float64)
    for column, (rows, probs) in enumerate(cells):
        table[rows, column] = probs
    return Profiles(tuple(langs), ids, table)


class NoFeatures(ValueError):
    """The text has no n-gram that any profile knows (langdetect's ``CantDetectError``)."""


_TRANSLATE: dict[int, str] = {}  # code point -> NGram.normalize(char), filled as chars are seen
_SEEN: set[str] = set()


def normalize(text: str) -> str:
    """``NGram.normalize`` applied to every character (cached per character, then ``str.translate``)."""
    missing = set(text).difference(_SEEN)
    if missing:
        from langdetect.utils.ngram import NGram

        for ch in missing:
            _TRANSLATE[ord(ch)] = NGram.normalize(ch)
        _SEEN.update(missing)
    return text.translate(_TRANSLATE)


def prepare(text: str) -> str:
    """What ``Detector.append`` followed by ``Detector.cleaning_text`` leaves of ``text``."""
    from langdetect.detector import Detector
    from langdetect.utils.ngram import NGram

    text = Detector.URL_RE.sub(" ", text)
    text = Detector.MAIL_RE.sub(" ", text)
    text = NGram.normalize_vi(text)
    # append(): keep a space only if the previous character was not one (runs collapse to one).
    text = _SPACE_RUN.sub(" ", text[:MAX_TEXT_LENGTH])
    # cleaning_text(): drop Latin letters from mostly non-Latin text. langdetect compares the
    # block *number* of each char >= U+0300 with a block *name*, so every such char counts.
    counts = Counter(text)
    latin = sum(n for ch, n in counts.items() if "A" <= ch <= "z")
    non_latin = sum(n for ch, n in counts.items() if ch >= "\u0300")
    if latin * 2 < non_latin:
        text = _ASCII_LETTERISH.sub("", text)
    return text


def _word_ngrams(word: str, ids: dict[str, int]) -> tuple[int, ...]:
    """``NGram.add_char`` over one normalised word (plus its trailing space, if any), from the
    state every word starts in (buffer " ", not in a capitalised word)."""
    result: list[int] = []
    grams = " "
    capital = False
    for ch in word:
        last = grams[-1]
        if last == " ":
            grams = " "
            capital = False
        elif len(grams) >= 3:
            grams = grams[1:]
        grams += ch
        if ch.isupper():
            if last.isupper():
                capital = True
        else:
            capital = False
        if capital:
            continue
        # n = 1, 2, 3 while the buffer is long enough (it always holds >= 2 chars here)
        if ch != " " and (k := ids.get(ch)) is not None:
            result.append(k)
        if (k := ids.get(grams[-2:])) is not None:
            result.append(k)
        if len(grams) >= 3 and (k := ids.get(grams[-3:])) is not None:
            result.append(k)
    return tuple(result)


_WORDS: dict[str, tuple[int, ...]] = {}
_WORDS_MAX = 50_000  # bounded: a few MB per worker, however long the run


def extract_ngrams(text: str, ids: dict[str, int]) -> list[int]:
    """The ids of the known 1-3-grams of ``text``, in langdetect's order (``Detector._extract_ngrams``).

    langdetect's n-gram buffer restarts at every space, so the n-grams of a text are those of its
    words (each with the space that follows it), in order: they are computed once per distinct
    word and cached (words repeat within and across documents).
    """
    result: list[int] = []
    words = normalize(text).split(" ")
    last = len(words) - 1
    for i, word in enumerate(words):
        if not word:
            continue
        key = word + " " if i < last else word
        got = _WORDS.get(key)
        if got is None:
            if len(_WORDS) >= _WORDS_MAX:
                _WORDS.clear()
            got = _WORDS[key] = _word_ngrams(key, ids)
        result.extend(got)
    return result
