"""langdetect's detector, computed faster: exactly (the default backend) or vectorised (opt-in).

``langdetect`` (a port of Nakatani Shuyo's language-detection) spends its time in pure-Python
loops: one ``NGram.add_char`` call per character (each doing a binary search over Unicode blocks)
and, per random-walk step, an indexed loop over the ~55 language probabilities. This module takes
langdetect's profiles, text clean-up and n-grams from :mod:`pipeline.core.langprofiles` (the same
n-grams in the same order, computed faster) and runs the random walk one of two ways:

* :func:`langdetect_walk` - the same steps, the same seeded ``random.Random`` stream and the same
  floating-point operations in the same order, so :func:`probabilities` returns exactly what
  ``Detector.get_probabilities()`` returns (``language.backend = "langdetect"``, the default);
* :func:`random_walk` - all trials and 40 steps at a time in numpy with numpy's random numbers:
  the same algorithm, not the same random stream (``language.backend = "fast"``).

``tests/stages/language/test_fastdetect.py`` checks the n-grams, the profiles and the exact walk's results against
langdetect itself on real sentences in 51 languages and on generated news records.
"""

from __future__ import annotations

import functools
import random
from collections.abc import Callable, Sequence
from typing import Any

from pipeline.core.langprofiles import (
    BASE_FREQ,
    NoFeatures,
    build_profiles,
    extract_ngrams,
    prepare,
    profiles,
)

__all__ = [
    "NoFeatures",
    "build_profiles",
    "extract_ngrams",
    "langdetect_walk",
    "prepare",
    "probabilities",
    "profiles",
    "random_walk",
    "ranked",
]

ALPHA_DEFAULT = 0.5
ALPHA_WIDTH = 0.05
ITERATION_LIMIT = 1000
PROB_THRESHOLD = 0.1
CONV_THRESHOLD = 0.99999
LANGDETECT_N_TRIAL = 7  # langdetect's Detector.n_trial
N_TRIAL = 25  # the vectorised walk: 25 trials cost little more than 7 and average out more noise
#: Steps between two convergence checks (langdetect: after step 0, then every 5).
CHECK_EVERY = 5


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
    return ranked(walk(picks, prof.table, seed))


def ranked(probs: Sequence[float]) -> list[tuple[str, float]]:
    """The walk's probabilities as ``Detector.get_probabilities()`` gives them: (lang, prob)
    above 0.1, best first."""
    out = [(lang, p) for lang, p in zip(profiles().langs, probs, strict=True) if p > PROB_THRESHOLD]
    out.sort(key=lambda lp: lp[1], reverse=True)
    return out
