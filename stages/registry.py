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
from stages.near_dedup import NearDedup, NearDedupSign
from stages.normalize import NormalizeWhitespace

STAGE_FACTORIES: dict[str, Callable[[Config], Stage]] = {
    "extract": lambda c: Extract(c.extract),
    "encoding": lambda c: FixEncoding(c.encoding),
    "boilerplate": lambda c: Boilerplate(c.boilerplate),
    "normalize": lambda c: NormalizeWhitespace(),
    "language": lambda c: DetectLanguage(c.language),
    "dedup": lambda c: Dedup(),
    "filter": lambda c: MinLength(c.filter),
    "near_dedup": lambda c: NearDedup(c.near_dedup, c.dedup.index),
    # not named in a config: the chain has it right before near_dedup (see configured_names)
    "near_dedup_sign": lambda c: NearDedupSign(c.near_dedup),
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
    "near_dedup": NearDedup,
    "near_dedup_sign": NearDedupSign,
}

#: Stages the chain builds without a config naming them: name -> the stage it runs right before
#: (it does that stage's per-record work in the workers).
IMPLIED: dict[str, str] = {"near_dedup_sign": "near_dedup"}
_DEDUP = ("dedup", "near_dedup")


def describe(cls: type[Stage], name: str) -> str:
    """One stage of a chain as ``module.Class:name``."""
    return f"{cls.__module__}.{cls.__qualname__}:{name}"


def configured_names(config: Config) -> list[str]:
    """The names of the stages :func:`build_stages` builds for ``config``, in order: the
    configured ones (without ``dedup`` and ``near_dedup`` when ``dedup.enabled`` is false), and
    ``near_dedup_sign`` right before ``near_dedup`` unless ``near_dedup.enabled`` is false
    (exact copies only: nothing to sign)."""
    names: list[str] = []
    for name in config.stages:
        if name in _DEDUP and not config.dedup.enabled:
            continue
        if name == "near_dedup" and config.near_dedup.enabled:
            names.append("near_dedup_sign")
        names.append(name)
    return names


def configured_chain(config: Config) -> list[str]:
    """The chain :func:`build_stages` builds for ``config``, described without building it."""
    return [describe(STAGE_CLASSES[n], n) for n in configured_names(config)]


def build_stages(config: Config) -> list[Stage]:
    """The stages of ``config``'s chain (:func:`configured_names`), built."""
    return [STAGE_FACTORIES[name](config) for name in configured_names(config)]
