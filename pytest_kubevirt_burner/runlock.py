"""One run per metrics directory: a lock file naming the live run, taken before anything runs.

A second session pointed at a directory a live session holds refuses at once, naming the
directory and the other run's uuid, instead of truncating and replacing that run's files. A
lock left by a process that no longer runs (killed, crashed) is taken over.
"""

from __future__ import annotations

import contextlib
import json
import os
import socket
from pathlib import Path

LOCK_FILE = ".kubevirt-burner.lock"


class MetricsDirectoryBusy(Exception):
    """Another live run writes into the metrics directory."""


def _alive(pid: int) -> bool:
    if pid == os.getpid():  # a lock this process left behind (an earlier in-process session)
        return False
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


class RunLock:
    """The lock file of ``directory`` held for run ``uuid`` until ``release()``."""

    def __init__(self, directory: Path, uuid: str) -> None:
        self.path = directory / LOCK_FILE
        self.uuid = uuid
        self.held = False

    def acquire(self) -> None:
        """Take the lock; MetricsDirectoryBusy (one line) when a live run of this host holds it."""
        self.path.parent.mkdir(parents=True, exist_ok=True)
        body = json.dumps({"uuid": self.uuid, "pid": os.getpid(), "host": socket.gethostname()})
        for _ in range(3):
            try:
                fd = os.open(self.path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o644)
            except FileExistsError:
                self._check_holder()
                continue
            with os.fdopen(fd, "w") as fh:
                fh.write(body + "\n")
            self.held = True
            return
        raise MetricsDirectoryBusy(
            f"--metrics-directory {self.path.parent}: cannot take {LOCK_FILE}"
        )

    def _check_holder(self) -> None:
        """Raise when the lock's holder is live; remove a stale lock."""
        try:
            holder = json.loads(self.path.read_text() or "{}")
        except (OSError, ValueError):
            holder = {}
        pid = holder.get("pid") if isinstance(holder, dict) else None
        host = holder.get("host") if isinstance(holder, dict) else None
        live = isinstance(pid, int) and (host not in (None, socket.gethostname()) or _alive(pid))
        if live:
            raise MetricsDirectoryBusy(
                f"--metrics-directory {self.path.parent} is in use by run {holder.get('uuid')} "
                f"(pid {pid} on {host}); wait for it to finish or choose another directory "
                f"(remove {self.path} if that run is gone)"
            )
        with contextlib.suppress(FileNotFoundError):
            self.path.unlink()

    def release(self) -> None:
        """Remove the lock file if this run holds it."""
        if self.held:
            self.held = False
            with contextlib.suppress(OSError):
                self.path.unlink()
