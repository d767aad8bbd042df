"""language: tag the language with langdetect, seeded, on a bounded sample of the text.

:func:`detect` never raises: text that is empty, too short or has no letters (digits, URLs,
emoji) is ``("und", 0.0)``; a best guess below ``min_prob`` is ``und`` with that guess's
probability. Three backends (``language.backend``), all on langdetect's profiles, loaded once
per process:

* ``langdetect`` (default): langdetect's own answer - the same n-grams, seeded random stream and
  arithmetic, so the same languages and probabilities - computed by :mod:`stages.language.fastdetect`,
  a batch's walks side by side (:mod:`stages.language.walks`): ~5.7 times faster than the library
  on the bench's records;
* ``langdetect-library``: the library's ``Detector`` itself, with its own seed (instead of
  mutating langdetect's global ``DetectorFactory.seed``); the reference the default is tested
  against;
* ``fast``: a vectorised random walk (:func:`stages.language.fastdetect.random_walk`), faster still, not
  bit-identical to langdetect.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from functools import lru_cache, partial
from itertools import islice
from typing import Any

from pipeline.core import langprofiles
from pipeline.core.config import LanguageConfig
from pipeline.core.record import Doc
from pipeline.core.stage import BatchedDocStage
from stages.language import fastdetect, walks

UNDETERMINED = "und"
_URL = re.compile(r"https?://\S+|www\.\S+|\S+@\S+")
_LETTER = re.compile(r"[^\W\d_]")


@lru_cache(maxsize=1)
def _factory() -> Any:
    from langdetect.detector_factory import PROFILES_DIRECTORY, DetectorFactory

    factory = DetectorFactory()
    factory.load_profile(PROFILES_DIRECTORY)
    return factory


def _langdetect(probe: str, seed: int) -> list[tuple[str, float]]:
    """langdetect itself, with its own seeded detector; [] when the text has no features."""
    from langdetect.lang_detect_exception import LangDetectException

    detector = _factory().create()
    detector.seed = seed
    detector.append(probe)
    try:
        return [(str(p.lang), float(p.prob)) for p in detector.get_probabilities()]
    except LangDetectException:
        return []


def _fastdetect(probe: str, seed: int, *, exact: bool) -> list[tuple[str, float]]:
    """:mod:`stages.language.fastdetect`, exact (langdetect's answer) or vectorised; [] without features."""
    try:
        return fastdetect.probabilities(probe, seed, exact=exact)
    except fastdetect.NoFeatures:
        return []


_BACKENDS: dict[str, Callable[[str, int], list[tuple[str, float]]]] = {
    "langdetect": partial(_fastdetect, exact=True),
    "langdetect-library": _langdetect,
    "fast": partial(_fastdetect, exact=False),
}


def sample(text: str, size: int) -> str:
    """A bounded, representative sample: the whole text, or three slices from start, middle and
    end (just the start when ``size`` is too small for three)."""
    if len(text) <= size:
        return text
    third = size // 3
    if not third:  # text[-0:] would be the whole text
        return text[:size]
    mid = len(text) // 2
    return " ".join((text[:third], text[mid - third // 2 : mid + third // 2], text[len(text) - third :]))


def probe_of(text: str, cfg: LanguageConfig) -> str | None:
    """What the detector reads of ``text`` (a bounded sample, URLs out); None when it has fewer
    than ``min_chars`` letters."""
    probe = _URL.sub(" ", sample(text, cfg.sample_chars))
    if sum(1 for _ in islice(_LETTER.finditer(probe), cfg.min_chars)) < cfg.min_chars:
        return None
    return probe


def chosen(best: list[tuple[str, float]], cfg: LanguageConfig) -> tuple[str, float]:
    """The best language, or ``und`` (with the best probability) under ``min_prob``."""
    if not best or best[0][1] < cfg.min_prob:
        return UNDETERMINED, float(best[0][1]) if best else 0.0
    return best[0]


def detect(text: str, config: LanguageConfig | None = None) -> tuple[str, float]:
    """Return ``(lang, probability)`` for ``text``; ``und`` when unsure (see :func:`chosen`)."""
    cfg = config or LanguageConfig()
    probe = probe_of(text, cfg)
    if probe is None:
        return UNDETERMINED, 0.0
    return chosen(_BACKENDS[cfg.backend](probe, cfg.seed), cfg)


class DetectLanguage(BatchedDocStage[list[int], list[float]]):
    """The language of each record. With the default backend the random walks of a batch's
    records run side by side (:func:`stages.language.walks.langdetect_walks`), each giving exactly
    what it gives alone; the other backends detect one record at a time."""

    name = "language"

    def __init__(self, config: LanguageConfig | None = None) -> None:
        super().__init__()
        self.config = config or LanguageConfig()

    def prepare(self, doc: Doc) -> list[int] | None:
        """The n-grams of the record's probe for the batched walk; records it does not walk
        (too few letters, no n-grams, another backend) are tagged here."""
        cfg = self.config
        if cfg.backend != "langdetect" or not walks.exact_stream_available():
            doc.lang, doc.lang_prob = detect(doc.text, cfg)
            return None
        probe = probe_of(doc.text, cfg)
        picks = (
            []
            if probe is None
            else langprofiles.extract_ngrams(langprofiles.prepare(probe), langprofiles.profiles().ids)
        )
        if not picks:
            doc.lang, doc.lang_prob = UNDETERMINED, 0.0
            return None
        return picks

    def answer_all(self, items: Sequence[list[int]]) -> list[list[float]]:
        return walks.langdetect_walks(items, langprofiles.profiles().table, self.config.seed)

    def finish(self, doc: Doc, item: list[int], answer: list[float]) -> None:
        doc.lang, doc.lang_prob = chosen(fastdetect.ranked(answer), self.config)
