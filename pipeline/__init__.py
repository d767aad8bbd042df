"""cleanwire: clean scraped news and web text into language-tagged Parquet.

>>> import pipeline
>>> pipeline.clean_text("Title\\n\\nBody text.\\n\\nSource: Read Full Article").text
'Title\\n\\nBody text.'

The names below (and ``__version__``) load on first use (PEP 562), so ``import pipeline.cli.app``
imports almost nothing before ``cleanwire`` installs its signal handlers, and nothing of the
stages' libraries before it needs them: ``cleanwire run`` starts its worker processes' parent
first, and that parent's imports overlap this process's.
"""

from __future__ import annotations

import importlib

TYPE_CHECKING = False  # not typing's: importing typing would cost the command's start-up ~5 ms
if TYPE_CHECKING:
    from typing import Any

    from pipeline.api import Cleaned, Pipeline, clean_text
    from pipeline.core.config import Config
    from pipeline.core.errors import CleanwireError, ConfigError, InputError, OutputError

    __version__: str

_LAZY = {
    "Cleaned": "pipeline.api",
    "Pipeline": "pipeline.api",
    "clean_text": "pipeline.api",
    "Config": "pipeline.core.config",
    "CleanwireError": "pipeline.core.errors",
    "ConfigError": "pipeline.core.errors",
    "InputError": "pipeline.core.errors",
    "OutputError": "pipeline.core.errors",
}


def _version() -> str:
    from importlib.metadata import PackageNotFoundError, version

    try:
        return version("cleanwire")
    except PackageNotFoundError:  # running from a source tree without an install
        return "0.0.0+local"


__all__ = [
    "Cleaned",
    "CleanwireError",
    "Config",
    "ConfigError",
    "InputError",
    "OutputError",
    "Pipeline",
    "__version__",
    "clean_text",
]


def __getattr__(name: str) -> Any:
    if name == "__version__":
        globals()[name] = value = _version()
        return value
    if name in _LAZY:
        value = getattr(importlib.import_module(_LAZY[name]), name)
        globals()[name] = value
        return value
    raise AttributeError(f"module 'pipeline' has no attribute {name!r}")


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(_LAZY) | {"__version__"})
