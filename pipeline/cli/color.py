"""Whether a command colours what it prints: on a terminal, unless ``NO_COLOR`` says not to."""

from __future__ import annotations

import os
from typing import IO, Any


def no_color() -> bool:
    """``NO_COLOR`` set to anything but the empty string: no colour anywhere (no-color.org)."""
    return bool(os.environ.get("NO_COLOR"))


def use_color(stream: IO[Any]) -> bool:
    """Colour for ``stream``: only on a terminal, and never under ``NO_COLOR``."""
    if no_color():
        return False
    isatty = getattr(stream, "isatty", None)
    return bool(isatty and isatty())
