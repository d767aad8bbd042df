"""``cleanwire`` run in a fresh interpreter, for facts of a whole process (which modules it has
imported, and when) that this test process, which has imported everything, cannot show."""

from __future__ import annotations

import json
import subprocess
import sys
from collections.abc import Sequence
from typing import Any

_SCRIPT = """
import json, sys
{before}
import pipeline.cli
sys.argv = ["cleanwire", *sys.argv[1:]]
code = 0
try:
    pipeline.cli.main()
except SystemExit as exc:
    code = exc.code
print(json.dumps({{"code": code, **({report})}}))
"""


def command(args: Sequence[str], *, before: str = "", report: str = "{}") -> dict[str, Any]:
    """``cleanwire ARGS`` through :func:`pipeline.cli.main` in a new interpreter: ``before`` (code)
    runs first, ``report`` (an expression giving a dict of JSON values) is evaluated once the
    command is over. Returns that dict with the command's exit code under ``code``."""
    script = _SCRIPT.format(before=before, report=report)
    done = subprocess.run([sys.executable, "-c", script, *args], capture_output=True, text=True, check=True)
    return dict(json.loads(done.stdout.strip().splitlines()[-1]))
