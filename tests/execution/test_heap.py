"""release_large_frees: a process that frees large blocks gives their memory back (glibc).

Each case runs in a fresh interpreter, because the setting is process-wide and permanent: once
a block of 2 MiB has been freed, 64 more are allocated with a long-lived 1 KB object after each
(as a coordinator keeps rows between its index's arrays), then the blocks are freed. With
glibc's default dynamic threshold the blocks come from the main heap, and the small objects pin
it; with the fixed threshold each block has its own mapping, given back when freed. The
``cleanwire`` command sets it for its process (the "cli" case runs the command first).
"""

from __future__ import annotations

import platform
import subprocess
import sys

import pytest

from pipeline.execution import resources

PROBE = """
import sys
from pipeline.execution.resources import release_large_frees
if sys.argv[1] == "release":
    assert release_large_frees()
elif sys.argv[1] == "cli":  # the cleanwire command sets it for its process
    import pipeline.cli
    sys.argv = ["cleanwire", "--version"]
    try:
        pipeline.cli.main()
    except SystemExit:
        pass
def anon_mib():
    for line in open("/proc/self/status"):
        if line.startswith("RssAnon:"):
            return int(line.split()[1]) / 1024
del bytearray(2 << 20)[:]  # one freed large block: glibc's default raises its threshold to it
before = anon_mib()
blocks, keep = [], []
for i in range(64):
    blocks.append(bytearray(2 << 20))
    keep.append(bytes(1000) + i.to_bytes(4, "little"))  # over pymalloc's 512 bytes: from malloc
del blocks
print(anon_mib() - before)
"""

glibc = pytest.mark.skipif(
    not sys.platform.startswith("linux") or platform.libc_ver()[0] != "glibc", reason="glibc only"
)


def _left_after_free(mode: str) -> float:
    out = subprocess.run([sys.executable, "-c", PROBE, mode], capture_output=True, text=True, check=True)
    return float(out.stdout.split()[-1])  # the last line: what the probe measured


@glibc
def test_freed_large_blocks_go_back_to_the_system() -> None:
    default, released = _left_after_free("default"), _left_after_free("release")
    assert default > 96  # the probe shows the problem: the freed 128 MiB stay resident
    assert released < 8
    assert _left_after_free("cli") < 8


def test_elsewhere_it_declines(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(sys, "platform", "darwin")
    assert resources.release_large_frees() is False


CHURN = """
import resource
from pipeline.execution.resources import release_large_frees
assert release_large_frees()
before = resource.getrusage(resource.RUSAGE_SELF).ru_minflt
for _ in range(200):  # an HTML page's worth, allocated and freed 200 times
    page = bytearray(200_000)
    del page
print(resource.getrusage(resource.RUSAGE_SELF).ru_minflt - before)
"""


@glibc
def test_page_sized_blocks_are_reused_not_mapped_anew() -> None:
    """Blocks the size of an HTML page stay on the heap: with the threshold at glibc's initial
    128 KiB each one was a new mapping whose pages all faulted (~9,800 faults here, against ~50)."""
    out = subprocess.run([sys.executable, "-c", CHURN], capture_output=True, text=True, check=True)
    assert int(out.stdout.split()[-1]) < 1000
