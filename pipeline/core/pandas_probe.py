"""pyarrow's pandas probe, answered without importing pandas, in the processes cleanwire owns.

The first time pyarrow converts Python objects (``pa.array``, ``RecordBatch.from_pylist``) it
imports pandas, when pandas is installed, only to ask whether those objects are pandas objects:
about 0.25 s of CPU in the ``cleanwire`` command and again in the worker pool's forkserver, for a
library whose objects cleanwire never hands to pyarrow. :func:`skip_pandas_probe` lets pyarrow make
that first check while pandas cannot be found, so pyarrow records "no pandas" for its implicit
checks. Explicit pandas work still imports it: pyarrow tries again whenever it is asked to build or
read a pandas object (and when it has to infer a type), so code in the same process that uses
pandas still works and pays for the import itself.

Only processes that are cleanwire's own call it (the command's :func:`pipeline.cli.main`, the
forkserver's :mod:`pipeline.execution.preload`); the library never changes a user's pyarrow.
"""

from __future__ import annotations

import sys
from collections.abc import Sequence
from importlib.machinery import ModuleSpec
from types import ModuleType

PANDAS = "pandas"


class _HidePandas:
    """A finder that says pandas cannot be imported (while it is on :data:`sys.meta_path`)."""

    def find_spec(
        self, name: str, path: Sequence[str] | None = None, target: ModuleType | None = None
    ) -> ModuleSpec | None:
        if name == PANDAS or name.startswith(PANDAS + "."):
            raise ModuleNotFoundError(f"{name} hidden from pyarrow's probe", name=name)
        return None


def skip_pandas_probe() -> bool:
    """Run pyarrow's pandas probe with pandas hidden. True when pyarrow now takes pandas for
    absent; False when pandas was already imported (nothing to save) or got imported anyway."""
    if PANDAS in sys.modules:
        return False
    import pyarrow as pa

    hide = _HidePandas()
    sys.meta_path.insert(0, hide)
    try:
        # any list: pyarrow first asks whether it is a pandas object (a check it caches)
        pa.array(["probe"], type=pa.string())
    finally:
        sys.meta_path.remove(hide)
    return PANDAS not in sys.modules
