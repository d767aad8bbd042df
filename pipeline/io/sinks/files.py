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
    """Readable UTF-8 JSON; ASCII-escaped when ``data`` holds strings UTF-8 cannot carry (file
    names that are not valid UTF-8 arrive as lone surrogates), so they still round-trip exactly."""
    text = json.dumps(data, indent=2, sort_keys=True, ensure_ascii=False) + "\n"
    try:
        return text.encode("utf-8")
    except UnicodeEncodeError:
        return (json.dumps(data, indent=2, sort_keys=True, ensure_ascii=True) + "\n").encode("ascii")


def write_json_atomic(path: Path, data: Any) -> None:
    with atomic_path(path) as tmp:
        tmp.write_bytes(json_bytes(data))


def sha256_file(path: Path) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as fh:
        for chunk in iter(lambda: fh.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()
