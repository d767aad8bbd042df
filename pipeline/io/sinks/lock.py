"""One writer at a time: an exclusive lock on an output directory for the length of a run.

The lock is ``fcntl.flock(LOCK_EX | LOCK_NB)`` on a lock file (an output directory's
``_cleanwire/lock``, :attr:`~pipeline.io.layout.OutputLayout.LOCK`; for an Airflow partition a
hidden file beside it). The file holds, as one line of JSON, who holds it: pid, host, start time,
so that a run refused says by whom. The kernel holds the lock, not the file:

* it is released when the holder's descriptor closes, including when the process dies, however
  (SIGKILL, a crash, the out-of-memory killer). A lock file left by a dead run (a kill -9 leaves
  the file behind) is therefore *stale* by definition: nothing holds it, and the next run takes it
  over at once and writes its own pid in it. No pid is probed, no age guessed, so a pid reused by
  another process can never keep a directory locked;
* a run that finds it held stops at once (:class:`~pipeline.core.errors.OutputError`, exit 4:
  ``... is in use by pid N on host H (a cleanwire run started T)``), before it writes or removes
  anything, ``--overwrite`` included;
* the holder removes the file when it releases the lock (a finished output directory holds
  none). A run that opened the file just before and then gets the lock on the removed file sees
  that the name no longer leads to its file, and tries again on the new one;
* on NFS, Linux sends ``flock`` to the server as a whole-file lock (NFSv4, or NFSv3 with lockd),
  so runs on different hosts exclude each other. A host that crashes while it holds the lock
  keeps it until the server lets it go (NFSv4: when the client's lease expires, ~90 s; NFSv3:
  when the client reboots); meanwhile a run is refused and the message names that host. A mount
  with ``nolock`` or ``local_lock=flock``/``all`` keeps locks on each client: runs on *one* host
  still exclude each other, runs on two hosts do not. A filesystem that refuses locks (``ENOLCK``)
  is an error: cleanwire does not write unlocked;
* the descriptor is close-on-exec and no worker is forked from the process that holds it (the
  workers come from a forkserver started before), so no child keeps a dead run's lock.

While the run goes on, :meth:`DirectoryLock.intact` tells whether the lock file's name still
leads to the locked file: when the output directory is removed (or removed and made again by
someone else), it does not, and the run stops instead of writing into the wrong place.
"""

from __future__ import annotations

import datetime
import errno
import fcntl
import json
import os
import socket
from dataclasses import dataclass
from pathlib import Path
from typing import IO, Any

from pipeline.core.errors import OutputError

#: How often to retry when the lock file is replaced between opening and locking it.
_ATTEMPTS = 20


@dataclass(frozen=True)
class Holder:
    """Who holds a lock, as its lock file says (any field may be missing: a file just created)."""

    pid: int | None = None
    host: str | None = None
    started: str | None = None

    @classmethod
    def parse(cls, raw: bytes) -> Holder:
        try:
            data: Any = json.loads(raw.decode("utf-8"))
        except ValueError:
            return cls()
        if not isinstance(data, dict):
            return cls()
        pid = data.get("pid")
        host = data.get("host")
        started = data.get("started")
        return cls(
            pid if isinstance(pid, int) else None,
            host if isinstance(host, str) else None,
            started if isinstance(started, str) else None,
        )

    def describe(self) -> str:
        """``pid 123 on host h (a cleanwire run started 2024-05-01T10:00:00+00:00)``."""
        if self.pid is None:
            return "another cleanwire run (it has not written its pid yet)"
        said = f"pid {self.pid}"
        if self.host:
            said += f" on host {self.host}"
        if self.host == socket.gethostname() and not _alive(self.pid):
            said += " (no longer running: a process it started still holds the lock)"
        if self.started:
            said += f" (a cleanwire run started {self.started})"
        return said


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def _same_file(fd: int, path: Path) -> bool:
    """Whether ``path`` still names the file open as ``fd``."""
    try:
        st = os.stat(path)
    except OSError:
        return False
    own = os.fstat(fd)
    return (st.st_dev, st.st_ino) == (own.st_dev, own.st_ino)


class DirectoryLock:
    """The exclusive lock of ``path`` (see the module doc); ``what`` names the locked thing in
    messages (``the output directory out``)."""

    def __init__(self, path: Path, what: str) -> None:
        self.path = path
        self.what = what
        #: The open lock file (a file object, so that a lock never released is closed, hence
        #: released, when the object is collected).
        self._file: IO[bytes] | None = None

    @property
    def held(self) -> bool:
        return self._file is not None

    def acquire(self) -> None:
        """Take the lock, or raise :class:`OutputError` (exit 4) naming who holds it. The file's
        directory must exist. Taking a lock this object already holds does nothing."""
        if self._file is not None:
            return
        for _ in range(_ATTEMPTS):
            fh = os.fdopen(os.open(self.path, os.O_RDWR | os.O_CREAT | os.O_CLOEXEC, 0o644), "r+b", 0)
            fd = fh.fileno()
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except BlockingIOError:
                holder = Holder.parse(os.pread(fd, 4096, 0))
                fh.close()
                raise OutputError(
                    f"{self.what} is in use by {holder.describe()}",
                    hint="wait for that run to finish, or write to another output directory "
                    f"(its lock: {self.path})",
                ) from None
            except OSError as exc:
                fh.close()
                if exc.errno in (errno.ENOLCK, errno.EOPNOTSUPP, errno.ENOSYS):
                    raise OutputError(
                        f"cannot lock {self.what}: its filesystem does not support locks ({exc.strerror})",
                        hint="write to a local directory, or mount the filesystem with locking "
                        "(NFS: not 'nolock')",
                    ) from exc
                raise
            if _same_file(fd, self.path):
                self._file = fh
                self._write_holder(fd)
                return
            fh.close()  # the holder released and removed the file after we opened it: again
        raise OutputError(f"cannot lock {self.what}: its lock file {self.path} keeps being replaced")

    @staticmethod
    def _write_holder(fd: int) -> None:
        """Say who holds the lock. Best effort: on a full disk the lock still holds, and a run
        refused then says it cannot tell whose (``--overwrite`` can still free the space)."""
        started = datetime.datetime.now(datetime.UTC).isoformat(timespec="seconds")
        line = json.dumps({"pid": os.getpid(), "host": socket.gethostname(), "started": started})
        try:
            os.ftruncate(fd, 0)
            os.pwrite(fd, (line + "\n").encode("utf-8"), 0)
        except OSError:
            pass

    def intact(self) -> bool:
        """Whether the lock is held and its file's name still leads to it (false once the
        directory holding it was removed or replaced)."""
        return self._file is not None and _same_file(self._file.fileno(), self.path)

    def release(self) -> None:
        """Remove the lock file (if its name still leads to ours) and let the lock go. Safe to
        call when the lock is not held."""
        fh, self._file = self._file, None
        if fh is None:
            return
        try:
            if _same_file(fh.fileno(), self.path):
                self.path.unlink(missing_ok=True)
        except OSError:
            pass  # the directory went away, or is read-only now: closing still releases the lock
        finally:
            fh.close()
