"""Stage names -> constructors, so configs and the CLI can name stages."""

from __future__ import annotations

from collections.abc import Callable

from pipeline.core.config import Config
from pipeline.core.stage import Stage
from stages.boilerplate.stage import Boilerplate
from stages.dedup import Dedup
from stages.encoding import FixEncoding
from stages.extract.extractor import Extract
from stages.filters import MinLength
from stages.language.detector import DetectLanguage
from stages.normalize import NormalizeWhitespace

STAGE_FACTORIES: dict[str, Callable[[Config], Stage]] = {
    "extract": lambda c: Extract(c.extract),
    "encoding": lambda c: FixEncoding(c.encoding),
    "boilerplate": lambda c: Boilerplate(c.boilerplate),
    "normalize": lambda c: NormalizeWhitespace(),
    "language": lambda c: DetectLanguage(c.language),
    "dedup": lambda c: Dedup(),
    "filter": lambda c: MinLength(c.filter),
}


#: The class each name builds (what :func:`configured_chain` describes).
STAGE_CLASSES: dict[str, type[Stage]] = {
    "extract": Extract,
    "encoding": FixEncoding,
    "boilerplate": Boilerplate,
    "normalize": NormalizeWhitespace,
    "language": DetectLanguage,
    "dedup": Dedup,
    "filter": MinLength,
}


def describe(cls: type[Stage], name: str) -> str:
    """One stage of a chain as ``module.Class:name``."""
    return f"{cls.__module__}.{cls.__qualname__}:{name}"


def configured_names(config: Config) -> list[str]:
    """The names of the stages :func:`build_stages` builds for ``config``, in order."""
    return [n for n in config.stages if n != "dedup" or config.dedup.enabled]


def configured_chain(config: Config) -> list[str]:
    """The chain :func:`build_stages` builds for ``config``, described without building it."""
    return [describe(STAGE_CLASSES[n], n) for n in configured_names(config)]


def build_stages(config: Config) -> list[Stage]:
    stages = [STAGE_FACTORIES[name](config) for name in config.stages]
    if not config.dedup.enabled:
        stages = [s for s in stages if s.name != "dedup"]
    return stages
