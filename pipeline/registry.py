"""Stage names -> constructors, so configs and the CLI can name stages."""

from __future__ import annotations

from collections.abc import Callable

from pipeline.config import Config
from pipeline.stage import Stage
from stages.boilerplate import Boilerplate
from stages.dedup import Dedup
from stages.encoding import FixEncoding
from stages.extract import Extract
from stages.filters import MinLength
from stages.language import DetectLanguage
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


def build_stages(config: Config) -> list[Stage]:
    stages = [STAGE_FACTORIES[name](config) for name in config.stages]
    if not config.dedup.enabled:
        stages = [s for s in stages if s.name != "dedup"]
    return stages
