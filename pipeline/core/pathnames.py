"""File names as text that is valid UTF-8 and still names the file exactly.

A POSIX file name is bytes. Python gives a name that is not valid UTF-8 as a ``str`` holding lone
surrogates (``surrogateescape``): fine for ``open()``, but no UTF-8 text (a Parquet string, a JSON
file a strict reader accepts) can carry them. Two forms here:

* :func:`display_path`, for text a person or a record reads (``source``): the name itself when
  its bytes are UTF-8, else each byte UTF-8 cannot read written ``\\xNN`` (``caf\\xe9.html``).
  Readable and valid; exact except that it cannot be told from a valid name spelled with those
  four characters.
* :func:`path_json`, for JSON that must find the file again (state, manifests): the name itself
  when its bytes are UTF-8, else ``{"display": ..., "bytes_b64": ...}``, the display form beside
  the exact bytes; :func:`path_from_json` turns either back into the path ``open()`` takes.
"""

from __future__ import annotations

import base64
import os
from typing import Any

__all__ = ["display_path", "is_utf8_path", "path_from_json", "path_json"]


def is_utf8_path(path: str | os.PathLike[str]) -> bool:
    """Whether the name's bytes are valid UTF-8 (so its ``str`` holds no surrogate escapes)."""
    text = os.fspath(path)
    if text.isascii():
        return True
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        return False
    return True


def display_path(path: str | os.PathLike[str]) -> str:
    """``path`` as valid UTF-8 text: unchanged when its bytes are UTF-8, else with every byte
    UTF-8 cannot read written as ``\\xNN``."""
    text = os.fspath(path)
    if is_utf8_path(text):
        return text
    return os.fsencode(text).decode("utf-8", "backslashreplace")


def path_json(path: str | os.PathLike[str]) -> str | dict[str, str]:
    """What a JSON document holds for ``path``: the name when UTF-8 carries it, else the
    :func:`display_path` beside the exact bytes in base64."""
    text = os.fspath(path)
    if is_utf8_path(text):
        return text
    raw = os.fsencode(text)
    return {"display": display_path(text), "bytes_b64": base64.b64encode(raw).decode("ascii")}


def path_from_json(value: Any) -> str:
    """The path (as ``open()`` takes it) that a :func:`path_json` value names."""
    if isinstance(value, str):
        return value
    if isinstance(value, dict) and isinstance(value.get("bytes_b64"), str):
        return os.fsdecode(base64.b64decode(value["bytes_b64"], validate=True))
    raise ValueError(f"not a path written by path_json: {value!r}")
