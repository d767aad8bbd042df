"""cleanwire's transforms, one module each. Every stage has a plain per-document function that can
be called and tested on its own, and a thin :class:`~pipeline.stage.Stage` wrapper for batches."""

from stages.boilerplate import Boilerplate
from stages.dedup import Dedup
from stages.encoding import FixEncoding
from stages.extract import Extract
from stages.filters import MinLength
from stages.language import DetectLanguage
from stages.normalize import NormalizeWhitespace

__all__ = [
    "Boilerplate",
    "Dedup",
    "DetectLanguage",
    "Extract",
    "FixEncoding",
    "MinLength",
    "NormalizeWhitespace",
]
