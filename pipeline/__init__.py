"""cleanwire: clean scraped news and web text into language-tagged Parquet.

>>> import pipeline
>>> pipeline.clean_text("Title\\n\\nBody text.\\n\\nSource: Read Full Article").text
'Title\\n\\nBody text.'
"""

from __future__ import annotations

from importlib.metadata import PackageNotFoundError, version

from pipeline.compose import Cleaned, Pipeline, clean_text
from pipeline.config import Config
from pipeline.errors import CleanwireError, ConfigError, InputError, OutputError

try:
    __version__ = version("cleanwire")
except PackageNotFoundError:  # running from a source tree without an install
    __version__ = "0.0.0+local"

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
