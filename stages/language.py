"""language: tag the language with langdetect, seeded, on a bounded sample of the text.

:func:`detect` never raises: text that is empty, too short or has no letters (digits, URLs,
emoji) is ``("und", 0.0)``; so is a best guess below ``min_prob``. The detector factory (and its
~50 language profiles) is loaded once per process with its own seed, instead of mutating
langdetect's global ``DetectorFactory.seed``. ``language.backend = "fast"`` runs langdetect's
profiles and n-grams through :mod:`stages.fastdetect` instead (a vectorised random walk; several
times faster, not bit-identical to langdetect).
"""

from __future__ import annotations

import re
from functools import lru_cache
from typing import Any

from pipeline.config import LanguageConfig
from pipeline.record import Doc
from pipeline.stage import DocStage
from stages import fastdetect

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


def _fast(probe: str, seed: int) -> list[tuple[str, float]]:
    try:
        return list(fastdetect.probabilities(probe, seed))
    except fastdetect.NoFeatures:
        return []


def sample(text: str, size: int) -> str:
    """A bounded, representative sample: the whole text, or three slices from start, middle and end."""
    if len(text) <= size:
        return text
    third = size // 3
    mid = len(text) // 2
    return " ".join((text[:third], text[mid - third // 2 : mid + third // 2], text[-third:]))


def detect(text: str, config: LanguageConfig | None = None) -> tuple[str, float]:
    """Return ``(lang, probability)`` for ``text``; ``("und", 0.0)`` when unsure."""
    cfg = config or LanguageConfig()
    probe = _URL.sub(" ", sample(text, cfg.sample_chars))
    if len(_LETTER.findall(probe)) < cfg.min_chars:
        return UNDETERMINED, 0.0
    best = (_fast if cfg.backend == "fast" else _langdetect)(probe, cfg.seed)
    if not best or best[0][1] < cfg.min_prob:
        return UNDETERMINED, float(best[0][1]) if best else 0.0
    return best[0]


class DetectLanguage(DocStage):
    name = "language"

    def __init__(self, config: LanguageConfig | None = None) -> None:
        super().__init__()
        self.config = config or LanguageConfig()

    def process(self, doc: Doc) -> None:
        doc.lang, doc.lang_prob = detect(doc.text, self.config)
