"""cleanwire's transforms, one module each.

Each transform of the text has a plain function that can be called and tested on its own
(:func:`stages.extract.extractor.extract_html`, :func:`stages.encoding.fix`, :func:`stages.boilerplate.engine.clean`,
:func:`stages.normalize.normalize_layout`, :func:`stages.language.detector.detect`) and a thin
:class:`~pipeline.core.stage.DocStage` wrapper for batches. The stages that only keep or drop records
(:class:`~stages.dedup.Dedup`, :class:`~stages.filters.MinLength`,
:class:`~stages.near_dedup.NearDedup`) are :class:`~pipeline.core.stage.VerdictStage` s: a ``judge``
of a few fields, run on Arrow columns. ``near_dedup`` has a worker half,
:class:`~stages.near_dedup.NearDedupSign`, which the chain runs right before it."""

from stages.boilerplate.stage import Boilerplate
from stages.dedup import Dedup
from stages.encoding import FixEncoding
from stages.extract.extractor import Extract
from stages.filters import MinLength
from stages.language.detector import DetectLanguage
from stages.near_dedup import NearDedup, NearDedupSign
from stages.normalize import NormalizeWhitespace

__all__ = [
    "Boilerplate",
    "Dedup",
    "DetectLanguage",
    "Extract",
    "FixEncoding",
    "MinLength",
    "NearDedup",
    "NearDedupSign",
    "NormalizeWhitespace",
]
