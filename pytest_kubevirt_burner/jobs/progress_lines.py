"""Progress for CI logs: a whole line per running job every few seconds (no terminal needed).

The live progress bar (report/terminal.py) redraws one line in place and is quiet without a
terminal; this sink writes plain lines instead, at most one per ``interval`` seconds, plus a
last one when the job's create phase ends.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Mapping


def fmt_seconds(seconds: float) -> str:
    """``75`` -> ``1m15s``; ``9.5`` -> ``10s``."""
    total = round(seconds)
    minutes, secs = divmod(total, 60)
    hours, minutes = divmod(minutes, 60)
    if hours:
        return f"{hours}h{minutes:02d}m"
    return f"{minutes}m{secs:02d}s" if minutes else f"{secs}s"


def progress_text(
    job: str,
    created: Mapping[str, int],
    ready: Mapping[str, int],
    expected: Mapping[str, int],
    qps: float,
    elapsed: float,
) -> str:
    """``job: Pod 10/50 created, 4 ready | 19.8 qps | 12s | ETA 30s``."""
    kinds = sorted(set(expected) | set(created) | set(ready))
    parts = [
        f"{k} {created.get(k, 0)}/{expected.get(k, 0)} created, {ready.get(k, 0)} ready"
        for k in kinds
    ]
    total = sum(expected.values())
    done_c, done_r = sum(created.values()), sum(ready.values())
    eta = "-"
    if total and done_r >= total:
        eta = "0s"
    elif total:
        left = (total - done_c) / qps if qps > 0 and done_c < total else 0.0
        rate = done_r / elapsed if elapsed > 0 else 0.0
        wait = (total - done_r) / rate if rate > 0 else None
        if wait is not None or left:
            eta = fmt_seconds(max(left, wait or 0.0))
    counts = "; ".join(parts) or "starting"
    return f"{job}: {counts} | {qps:.1f} qps | {fmt_seconds(elapsed)} | ETA {eta}"


class ProgressLines:
    """A ProgressSink writing a line per ``interval`` seconds through ``write``; thread-safe."""

    def __init__(
        self,
        job: str,
        write: Callable[[str], None],
        interval: float,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.job = job
        self._write = write
        self._interval = interval
        self._clock = clock
        self._start = clock()
        self._last = self._start
        self._lock = threading.Lock()
        self._state: tuple[dict[str, int], dict[str, int], dict[str, int], float] | None = None
        self._closed = False

    def update(
        self,
        created: Mapping[str, int],
        ready: Mapping[str, int],
        expected: Mapping[str, int],
        qps: float,
    ) -> None:
        """New counts; a line when ``interval`` seconds passed since the last one."""
        with self._lock:
            self._state = (dict(created), dict(ready), dict(expected), float(qps))
            now = self._clock()
            if self._closed or now - self._last < self._interval:
                return
            self._last = now
            line = self._line(now)
        self._write(line)

    def _line(self, now: float) -> str:
        assert self._state is not None
        return "kubevirt-burner: " + progress_text(self.job, *self._state, now - self._start)

    def close(self) -> None:
        """The last line (when the job ran long enough to have shown one or has counts)."""
        with self._lock:
            if self._closed or self._state is None:
                self._closed = True
                return
            self._closed = True
            line = self._line(self._clock())
        self._write(line)
