"""langdetect's detector, computed faster: exactly (the default backend) or vectorised (opt-in).

``langdetect`` (a port of Nakatani Shuyo's language-detection) spends its time in pure-Python
loops: one ``NGram.add_char`` call per character (each doing a binary search over Unicode blocks)
and, per random-walk step, an indexed loop over the ~55 language probabilities. This module keeps
langdetect's profiles (:func:`profiles`, loaded once per process), its text clean-up
(:func:`prepare`, with langdetect's own regular expressions and normaliser) and its n-grams
(:func:`extract_ngrams`, the same list in the same order), and runs the random walk one of two ways:

* :func:`langdetect_walk` - the same steps, the same seeded ``random.Random`` stream and the same
  floating-point operations in the same order, so :func:`probabilities` returns exactly what
  ``Detector.get_probabilities()`` returns (``language.backend = "langdetect"``, the default);
* :func:`random_walk` - all trials and 40 steps at a time in numpy with numpy's random numbers:
  the same algorithm, not the same random stream (``language.backend = "fast"``).

``tests/test_fastdetect.py`` checks the n-grams, the profiles and the exact walk's results against
langdetect itself on real sentences in 51 languages and on generated news records.
"""

from __future__ import annotations

import contextlib
import functools
import hashlib
import json
import os
import random
import re
from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Any

ALPHA_DEFAULT = 0.5
ALPHA_WIDTH = 0.05
ITERATION_LIMIT = 1000
PROB_THRESHOLD = 0.1
CONV_THRESHOLD = 0.99999
BASE_FREQ = 10000
LANGDETECT_N_TRIAL = 7  # langdetect's Detector.n_trial
N_TRIAL = 25  # the vectorised walk: 25 trials cost little more than 7 and average out more noise
#: Steps between two convergence checks (langdetect: after step 0, then every 5).
CHECK_EVERY = 5
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

    from pipeline.core.fsutil import atomic_path

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


def _seeded_choice(seed: int, n: int) -> tuple[random.Random, Callable[[], int]]:
    """``random.Random(seed)`` and its ``choice`` over ``n`` items as an index: the same numbers.

    ``Random.choice(seq)`` is ``seq[self._randbelow(len(seq))]``; CPython's ``_randbelow`` draws
    ``n.bit_length()`` random bits until the number is below ``n``. That loop is inlined here (it
    is most of the walk's Python overhead); on an interpreter whose ``Random`` works otherwise, the
    library's own ``choice`` is used.
    """
    rng = random.Random()
    rng.seed(seed)
    if random.Random._randbelow is not random.Random._randbelow_with_getrandbits:  # type: ignore[attr-defined]
        return rng, functools.partial(rng.choice, range(n))
    getrandbits, k = rng.getrandbits, n.bit_length()

    def below() -> int:
        r = getrandbits(k)
        while r >= n:
            r = getrandbits(k)
        return r

    return rng, below


def langdetect_walk(
    picks: Sequence[int], table: Any, seed: int, n_trial: int = LANGDETECT_N_TRIAL
) -> list[float]:
    """langdetect's random walk (``Detector._detect_block``), step for step and bit for bit.

    The same seeded ``random.Random`` stream, consumed in the same order (one ``gauss`` per trial,
    one ``choice`` per step); the same floating-point operations in the same order (``p * (weight
    + q)`` per language, Python's own ``sum`` for the normalisation, ``p / sum``, the trials'
    results averaged as ``+= p / n_trial``). What is faster: the five steps between two
    convergence checks are drawn first (the draws never depend on the probabilities) and
    multiplied into the probability vector by numpy instead of a Python loop over ~55 languages.
    """
    import numpy as np

    n_langs = table.shape[1]
    rng, draw = _seeded_choice(seed, len(picks))
    gauss = rng.gauss
    # rows 1..5: the factors ``weight + q`` of one block of steps; row 0: the probabilities.
    # multiply.accumulate along the rows multiplies them in one after the other, as the loop does.
    buf = np.empty((CHECK_EVERY + 1, n_langs))
    langprob = np.zeros(n_langs)
    for _ in range(n_trial):
        buf[0] = 1.0 / n_langs
        weight = (ALPHA_DEFAULT + gauss(0.0, 1.0) * ALPHA_WIDTH) / BASE_FREQ
        step, block = 0, 1  # langdetect checks after step 0, then after every 5th step
        while True:
            rows = buf[: block + 1]
            np.add(table[[picks[draw()] for _ in range(block)]], weight, out=rows[1:])
            np.multiply.accumulate(rows, axis=0, out=rows)
            prob = rows[block]
            values = prob.tolist()
            total = sum(values)
            # max(p) / total is max(p / total) exactly: division by a positive number is monotone
            converged = max(values) / total > CONV_THRESHOLD
            np.divide(prob, total, out=buf[0])
            if converged or step >= ITERATION_LIMIT:
                break
            step += CHECK_EVERY
            block = CHECK_EVERY
        langprob += buf[0] / n_trial
    return [float(p) for p in langprob]


#: Random-walk steps computed per numpy round (all trials at once); a multiple of 5.
CHUNK = 40


def random_walk(picks: Sequence[int], table: Any, seed: int, n_trial: int = N_TRIAL) -> list[float]:
    """langdetect's random walk (``Detector._detect_block``), vectorised over steps and trials.

    Each trial draws a smoothing ``alpha`` around 0.5, then multiplies the language probabilities
    by ``alpha / BASE_FREQ + p(ngram | lang)`` for one random n-gram (row of ``table``, from
    ``picks``) per step, and stops at the first check (every ``CHECK_EVERY`` steps) where the
    best normalised probability exceeds ``CONV_THRESHOLD``, or at ``ITERATION_LIMIT``. The
    trials' results are averaged.

    Here ``CHUNK`` steps of all trials are drawn and multiplied out in one numpy round (five
    factors per check, then a running product over the checks), and the random numbers come from a seeded
    numpy generator: deterministic, the same algorithm, but not langdetect's random stream.
    """
    import numpy as np

    n_langs = table.shape[1]
    groups = CHUNK // CHECK_EVERY
    choices = np.asarray(picks, dtype=np.intp)
    rng = np.random.default_rng(seed)
    weights = ((ALPHA_DEFAULT + rng.standard_normal(n_trial) * ALPHA_WIDTH) / BASE_FREQ)[:, None, None]
    prob = np.full((n_trial, n_langs), 1.0 / n_langs)
    final = np.zeros((n_trial, n_langs))
    pending = np.ones(n_trial, dtype=bool)
    for start in range(0, ITERATION_LIMIT, CHUNK):
        drawn = choices[rng.integers(0, len(choices), size=(n_trial, CHUNK))]
        factors = (weights + table[drawn]).reshape(n_trial, groups, CHECK_EVERY, n_langs)
        block = np.multiply.reduce(factors, axis=2)  # trial x check x lang: 5 steps multiplied
        for k in range(1, groups):
            block[:, k] *= block[:, k - 1]
        checks = prob[:, None, :] * block
        normed = checks / checks.sum(axis=2, keepdims=True)
        converged = normed.max(axis=2) > CONV_THRESHOLD
        if start + CHUNK >= ITERATION_LIMIT:
            converged[:, -1] = True  # the iteration limit stops every trial still running
        hit = pending & converged.any(axis=1)
        if hit.any():
            first = converged.argmax(axis=1)
            final[hit] = normed[hit, first[hit]]
            pending &= ~hit
            if not pending.any():
                break
        prob = normed[:, -1]  # normalised: no underflow across rounds
    return [float(p) for p in final.mean(axis=0)]


def probabilities(text: str, seed: int = 0, *, exact: bool = True) -> list[tuple[str, float]]:
    """Like ``Detector.get_probabilities()``: (lang, prob) above 0.1, best first.

    ``exact`` (the default) gives langdetect's own answer (:func:`langdetect_walk`); otherwise the
    vectorised walk (:func:`random_walk`). Raises :class:`NoFeatures` where langdetect raises its
    "No features in text" error.
    """
    prof = profiles()
    picks = extract_ngrams(prepare(text), prof.ids)
    if not picks:
        raise NoFeatures("no features in text")
    walk = langdetect_walk if exact else random_walk
    probs = walk(picks, prof.table, seed)
    ranked = [(lang, p) for lang, p in zip(prof.langs, probs, strict=True) if p > PROB_THRESHOLD]
    ranked.sort(key=lambda lp: lp[1], reverse=True)
    return ranked
