"""language: langdetect's answer, seeded, on a bounded sample (:mod:`.detector`), computed by a
faster, bit-identical implementation over langdetect's own profiles (:mod:`.fastdetect`).

May import: ``pipeline.core`` only (and langdetect, numpy).
"""

from stages.language.detector import DetectLanguage, detect

__all__ = ["DetectLanguage", "detect"]
