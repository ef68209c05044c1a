"""Lines for the user while tests run, written past pytest's output capture.

The terminal's descriptor is duplicated at configure time, while pytest's capture is
suspended, so that a refused create or a progress line written from a job thread reaches the
terminal or the CI log at once instead of the test's captured output.
"""

from __future__ import annotations

import contextlib
import os
import threading


class Console:
    """Writes whole lines to a duplicate of stdout; quiet when ``fd`` is None; thread-safe."""

    def __init__(self, fd: int | None) -> None:
        self._fd = fd
        self._lock = threading.Lock()
        self.is_tty = bool(fd is not None and _isatty(fd))

    @classmethod
    def open(cls, quiet: bool = False) -> Console:
        """A console on a duplicate of file descriptor 1 (quiet when ``quiet`` or unavailable)."""
        if quiet:
            return cls(None)
        try:
            return cls(os.dup(1))
        except OSError:
            return cls(None)

    @property
    def enabled(self) -> bool:
        """Whether lines are written anywhere."""
        return self._fd is not None

    def line(self, text: str) -> None:
        """Write ``text`` as a line of its own (a live progress bar is cleared first)."""
        fd = self._fd
        if fd is None:
            return
        prefix = "\r\x1b[K" if self.is_tty else "\n"
        data = f"{prefix}{text}\n".encode("utf-8", "replace")
        with self._lock, contextlib.suppress(OSError):
            while data:
                data = data[os.write(fd, data) :]

    def close(self) -> None:
        """Release the duplicated descriptor."""
        fd, self._fd = self._fd, None
        if fd is not None:
            with contextlib.suppress(OSError):
                os.close(fd)


def _isatty(fd: int) -> bool:
    try:
        return os.isatty(fd)
    except OSError:
        return False
