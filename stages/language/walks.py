"""langdetect's exact random walk for many texts at once (:func:`langdetect_walks`).

:func:`stages.language.fastdetect.langdetect_walk` reproduces langdetect's walk for one text,
bit for bit, but pays numpy's fixed cost on every block of five steps (~100 blocks a text). The
texts of a batch are independent, so here their blocks run side by side: one numpy call a block
for the whole batch. Every text still gets exactly the numbers it gets alone:

* the random numbers: every text's walk starts from ``random.Random(seed)``, so all draw from one
  Mersenne Twister word stream (:func:`words`, numpy's MT19937 given Python's state), each text
  with its own position in it. A step's draw is CPython's ``_randbelow``: ``k = n.bit_length()``
  bits from the top of one word, drawn again while ``>= n``; ``gauss`` is CPython's, from two
  ``random()`` values (two words each), its second value kept for the next trial;
* the arithmetic: per text and language the same products in the same order (a block multiplies
  the probabilities by its five factors one after the other; the first block of a trial has one
  factor and four exact ``1.0``), sums by ``add.accumulate`` (left to right, as Python's
  ``sum``), the same divisions, and the trials averaged in order.

``tests/stages/language/test_walks.py`` checks it against :func:`langdetect_walk` (itself checked
against langdetect) on real sentences and generated news records.
"""

from __future__ import annotations

import math
import random
import threading
from collections.abc import Sequence
from dataclasses import dataclass, field
from functools import lru_cache
from typing import Any

import numpy as np
import numpy.typing as npt

from pipeline.core.langprofiles import BASE_FREQ
from stages.language.fastdetect import (
    ALPHA_DEFAULT,
    ALPHA_WIDTH,
    CHECK_EVERY,
    CONV_THRESHOLD,
    ITERATION_LIMIT,
    LANGDETECT_N_TRIAL,
)

#: The most draws a trial can take: one, then five per check until step ITERATION_LIMIT.
MAX_STEPS = 1 + CHECK_EVERY * (ITERATION_LIMIT // CHECK_EVERY)

_TWOPI = 2.0 * math.pi  # random.TWOPI


def python_twister(seed: int) -> Any:
    """numpy's MT19937 in the state ``random.Random(seed)`` starts from: its ``random_raw``
    words are the ones ``Random.getrandbits(32)`` returns."""
    rng = random.Random()
    rng.seed(seed)
    state = rng.getstate()[1]
    twister = np.random.MT19937()
    twister.state = {
        "bit_generator": "MT19937",
        "state": {"key": np.array(state[:624], dtype=np.uint32), "pos": state[624]},
    }
    return twister


@dataclass
class _Stream:
    """The 32-bit words ``random.Random(seed)`` draws, grown on demand.

    Shared by every walk of the process with that seed (``clean_text`` may run in many threads at
    once), so it grows under a lock: two threads growing it together would each append their own
    words from the one generator, and the stream would skip some (other probabilities, for every
    later walk of the process). ``words`` is only ever replaced by a longer copy, so reading it
    needs no lock."""

    seed: int
    words: npt.NDArray[np.uint64] = field(default_factory=lambda: np.zeros(0, dtype=np.uint64))
    generator: Any = None
    lock: threading.Lock = field(default_factory=threading.Lock, repr=False, compare=False)

    def upto(self, n: int) -> npt.NDArray[np.uint64]:
        """The first ``n`` words (at least)."""
        words = self.words
        if len(words) >= n:
            return words
        with self.lock:
            if len(self.words) < n:
                self._grow(n)
            return self.words

    def _grow(self, n: int) -> None:
        """Append words up to ``n`` at least (the caller holds :attr:`lock`)."""
        if self.generator is None:
            self.generator = python_twister(self.seed)
        more = max(n - len(self.words), 1 << 16, len(self.words))
        self.words = np.concatenate((self.words, self.generator.random_raw(more)))


_STREAMS: dict[int, _Stream] = {}


def words(seed: int, n: int) -> npt.NDArray[np.uint64]:
    """The first ``n`` (or more) words of ``random.Random(seed)``'s Mersenne Twister."""
    stream = _STREAMS.setdefault(seed, _Stream(seed))
    return stream.upto(n)


@lru_cache(maxsize=1)
def exact_stream_available() -> bool:
    """Whether this interpreter draws as assumed here: ``choice`` through ``getrandbits`` and
    numpy's MT19937 giving the words ``random.Random`` gives."""
    if random.Random._randbelow is not random.Random._randbelow_with_getrandbits:  # type: ignore[attr-defined]
        return False
    rng = random.Random()
    rng.seed(12345)
    expected = [rng.getrandbits(32) for _ in range(4)]
    return [int(w) for w in python_twister(12345).random_raw(4)] == expected


#: Draws made at a time for a trial (most trials take ~70 steps; more are drawn when needed).
CHUNK_STEPS = 160


class _Walker:
    """One text's place in the word stream: its ``gauss`` and its draws."""

    def __init__(self, seed: int, n: int) -> None:
        self.seed, self.n, self.shift = seed, n, np.uint64(32 - n.bit_length())
        self.stream, self.pos = words(seed, 0), 0
        self.cached: float | None = None
        self.drawn = 0  # draws made for the current trial
        self.spent: list[int] = []  # per draw of the trial: words used up to and including it

    def _words(self, upto: int) -> npt.NDArray[np.uint64]:
        if upto > len(self.stream):
            self.stream = words(self.seed, upto)
        return self.stream

    def _random(self) -> float:
        a, b = (int(x) for x in self._words(self.pos + 2)[self.pos : self.pos + 2])
        self.pos += 2
        return ((a >> 5) * 67108864.0 + (b >> 6)) * (1.0 / 9007199254740992.0)

    def gauss(self) -> float:
        """``random.Random.gauss(0.0, 1.0)``: a new pair of values every other call."""
        z = self.cached
        self.cached = None
        if z is None:
            x2pi = self._random() * _TWOPI
            g2rad = math.sqrt(-2.0 * math.log(1.0 - self._random()))
            z = math.cos(x2pi) * g2rad
            self.cached = math.sin(x2pi) * g2rad
        return 0.0 + z * 1.0

    def new_trial(self) -> float:
        """The trial's weight (its ``gauss``); its draws start after it."""
        weight = (ALPHA_DEFAULT + self.gauss() * ALPHA_WIDTH) / BASE_FREQ
        self.drawn, self.spent = 0, []
        return weight

    def draws(self, count: int) -> npt.NDArray[np.intp]:
        """The trial's next ``count`` draws, each as ``_randbelow(n)`` draws it (the top bits of a
        word, again while ``>= n``)."""
        base = self.pos + (self.spent[-1] if self.spent else 0)
        need = 2 * count + 64
        while True:
            r = (self._words(base + need)[base : base + need] >> self.shift).astype(np.intp)
            kept = np.flatnonzero(r < self.n)
            if len(kept) >= count:
                kept = kept[:count]
                offset = self.spent[-1] if self.spent else 0
                self.spent.extend((kept + 1 + offset).tolist())
                self.drawn += count
                return r[kept]
            need *= 2

    def end_trial(self, steps: int) -> None:
        """The trial took its first ``steps`` draws: the stream goes on after them."""
        self.pos += self.spent[steps - 1]


class _Lanes:
    """The walks still running, one row (lane) each, in compact arrays: the current trial's
    probabilities, weight, checks done and table rows of its drawn steps."""

    def __init__(self, many: Sequence[Sequence[int]], table: npt.NDArray[np.float64], seed: int) -> None:
        n = len(many)
        self.n_langs = table.shape[1]
        self.text = np.arange(n)  # the text of each lane
        self.walkers = [_Walker(seed, len(p)) for p in many]
        self.picks = [np.asarray(p, dtype=np.intp) for p in many]
        self.rows = np.zeros((n, MAX_STEPS), dtype=np.intp)
        self.drawn = np.zeros(n, dtype=np.int64)
        self.weight = np.zeros(n)
        self.prob = np.empty((n, self.n_langs))
        self.check = np.zeros(n, dtype=np.int64)  # checks done in the trial: its next block's index
        self.trial = np.zeros(n, dtype=np.int64)
        for lane in range(n):
            self.start(lane)

    def draw(self, lane: int, upto: int) -> None:
        """Draws for the lane's trial up to step ``upto`` (and a chunk more)."""
        w = self.walkers[lane]
        at = w.drawn
        count = min(max(upto, at + CHUNK_STEPS), MAX_STEPS) - at
        self.rows[lane, at : at + count] = self.picks[lane][w.draws(count)]
        self.drawn[lane] = w.drawn

    def start(self, lane: int) -> None:
        """A new trial: its weight, its first draws, uniform probabilities."""
        self.weight[lane] = self.walkers[lane].new_trial()
        self.draw(lane, CHUNK_STEPS)
        self.prob[lane] = 1.0 / self.n_langs
        self.check[lane] = 0

    def keep(self, mask: npt.NDArray[np.bool_]) -> None:
        """Drop the lanes whose walks are over."""
        for name in ("text", "rows", "drawn", "weight", "prob", "check", "trial"):
            setattr(self, name, getattr(self, name)[mask])
        self.walkers = [w for w, k in zip(self.walkers, mask.tolist(), strict=True) if k]
        self.picks = [p for p, k in zip(self.picks, mask.tolist(), strict=True) if k]


def langdetect_walks(
    many: Sequence[Sequence[int]],
    table: npt.NDArray[np.float64],
    seed: int,
    n_trial: int = LANGDETECT_N_TRIAL,
) -> list[list[float]]:
    """:func:`~stages.language.fastdetect.langdetect_walk` of each n-gram list in ``many``, all at once."""
    langprob = np.zeros((len(many), table.shape[1]))
    if not len(many):
        return []
    lanes = _Lanes(many, table, seed)
    steps = np.arange(CHECK_EVERY)
    while len(lanes.text):
        first = lanes.check == 0
        # the first block of a trial is step 0 alone; block c >= 1 is draws 5c-4 .. 5c
        end = np.where(first, 1, 1 + CHECK_EVERY * lanes.check)
        for lane in np.flatnonzero(end > lanes.drawn).tolist():
            lanes.draw(lane, int(end[lane]))
        cols = np.minimum(np.where(first, 0, end - CHECK_EVERY)[:, None] + steps, MAX_STEPS - 1)
        factors = table[np.take_along_axis(lanes.rows, cols, axis=1)]
        factors += lanes.weight[:, None, None]
        factors[first, 1:] = 1.0  # a one-step block: x * 1.0 == x exactly
        prob = lanes.prob
        for j in range(CHECK_EVERY):  # the steps' products in order, as the walk multiplies them
            prob *= factors[:, j]
        total = np.add.accumulate(prob, axis=1)[:, -1]  # left to right, as Python's sum
        converged = prob.max(axis=1) / total > CONV_THRESHOLD
        prob /= total[:, None]
        # langdetect's step counter at this check: 0 after the first block, then 5, 10, ...
        ended = np.flatnonzero(converged | (CHECK_EVERY * lanes.check >= ITERATION_LIMIT))
        lanes.check += 1
        if not len(ended):
            continue
        for lane in ended.tolist():
            langprob[lanes.text[lane]] += prob[lane] / n_trial
            lanes.walkers[lane].end_trial(int(1 + CHECK_EVERY * (lanes.check[lane] - 1)))
            lanes.trial[lane] += 1
            if lanes.trial[lane] < n_trial:
                lanes.start(lane)
        over = lanes.trial >= n_trial
        if over.any():
            lanes.keep(~over)
    return [[float(p) for p in row] for row in langprob]
