"""cleanwire: clean scraped news and web text into language-tagged Parquet.

>>> import pipeline
>>> pipeline.clean_text("Title\\n\\nBody text.\\n\\nSource: Read Full Article").text
'Title\\n\\nBody text.'

The names below load on first use (PEP 562), so ``import pipeline.cli.app`` does not import the
stages' libraries before it needs them: ``cleanwire run`` starts its worker processes' parent
first, and that parent's imports overlap this process's.
"""

from __future__ import annotations

import importlib
from importlib.metadata import PackageNotFoundError, version
from typing import TYPE_CHECKING, Any

from pipeline.core.config import Config
from pipeline.core.errors import CleanwireError, ConfigError, InputError, OutputError

if TYPE_CHECKING:
    from pipeline.api import Cleaned, Pipeline, clean_text

try:
    __version__ = version("cleanwire")
except PackageNotFoundError:  # running from a source tree without an install
    __version__ = "0.0.0+local"

_LAZY = {"Cleaned": "pipeline.api", "Pipeline": "pipeline.api", "clean_text": "pipeline.api"}

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
    if name in _LAZY:
        value = getattr(importlib.import_module(_LAZY[name]), name)
        globals()[name] = value
        return value
    raise AttributeError(f"module 'pipeline' has no attribute {name!r}")


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(_LAZY))
