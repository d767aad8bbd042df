"""How every file of a run is written: atomically (a temporary name, fsync, rename), Parquet with
the run's key-value metadata, JSON readable and exact (the rejected and dropped records:
:mod:`pipeline.io.left_records`)."""

from __future__ import annotations

import functools
import hashlib
import json
from importlib.metadata import PackageNotFoundError, version
from pathlib import Path
from typing import Any

from pipeline.core.fsutil import atomic_path
from pipeline.core.schema import SCHEMA_VERSION

LIBRARIES = ("cleanwire", "trafilatura", "ftfy", "langdetect", "pyarrow")


def library_versions() -> dict[str, str]:
    return dict(_library_versions())


@functools.cache  # read from the installed packages' metadata (~1 ms a lookup), once per process
def _library_versions() -> tuple[tuple[str, str], ...]:
    out: list[tuple[str, str]] = []
    for name in LIBRARIES:
        try:
            out.append((name, version(name)))
        except PackageNotFoundError:
            out.append((name, "unknown"))
    return tuple(out)


def file_metadata(run_hash: str) -> dict[bytes, bytes]:
    """Parquet key-value metadata of every file a run writes (``run_hash``: see
    :meth:`Sink.prepare <pipeline.io.sinks.base.Sink.prepare>`)."""
    meta = {"schema_version": SCHEMA_VERSION, "config_hash": run_hash, **library_versions()}
    return {f"cleanwire.{k}".encode(): v.encode() for k, v in meta.items()}


def json_bytes(data: Any) -> bytes:
    """Readable, valid UTF-8 JSON. Paths that must name a file exactly are written with
    :func:`~pipeline.core.pathnames.path_json` before they get here; a string UTF-8 cannot carry
    that is left anyway (a lone surrogate, from a file name that is not UTF-8) is written as its
    bytes, ``\\xNN`` for each one UTF-8 cannot read (as :func:`~pipeline.core.pathnames.display_path`
    does), never as a ``\\udcNN`` escape, which strict JSON readers reject."""
    text = json.dumps(data, indent=2, sort_keys=True, ensure_ascii=False) + "\n"
    try:
        return text.encode("utf-8")
    except UnicodeEncodeError:
        return (json.dumps(_valid_text(data), indent=2, sort_keys=True, ensure_ascii=False) + "\n").encode()


def _valid_text(data: Any) -> Any:
    """``data`` with every string that UTF-8 cannot carry shown as its bytes (``\\xNN``)."""
    if isinstance(data, str):
        try:
            data.encode("utf-8")
        except UnicodeEncodeError:
            try:
                raw = data.encode("utf-8", "surrogateescape")
            except UnicodeEncodeError:  # a surrogate no byte escapes to (U+D800, say)
                raw = data.encode("utf-8", "surrogatepass")
            return raw.decode("utf-8", "backslashreplace")
        return data
    if isinstance(data, dict):
        return {_valid_text(k): _valid_text(v) for k, v in data.items()}
    if isinstance(data, list | tuple):
        return [_valid_text(v) for v in data]
    return data


def write_json_atomic(path: Path, data: Any) -> None:
    with atomic_path(path) as tmp:
        tmp.write_bytes(json_bytes(data))


def sha256_file(path: Path) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as fh:
        for chunk in iter(lambda: fh.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()
