"""Server-side flow control pieces: a token bucket and APF's adaptive Retry-After tracker."""

from __future__ import annotations

import time
from collections import deque
from collections.abc import Callable

RETRY_AFTER_MAX = 32


class DroppedRequestsTracker:
    """APF's adaptive Retry-After (dropped_requests_tracker.go): starts at 1 s, doubles under
    heavy drops, decrements when calm, at most 32 s; re-evaluated when a new second starts."""

    def __init__(self, clock: Callable[[], float] = time.time) -> None:
        self._clock = clock
        self._history: deque[tuple[int, int]] = deque()  # (unix second, dropped count)
        self._current_unix = 0
        self._current_count = 0
        self.retry_after = 1
        self._updated = 0

    def record(self) -> int:
        """Record one dropped request; returns the Retry-After to send with it."""
        now = int(self._clock())
        if now == self._current_unix:
            self._current_count += 1
            return self.retry_after
        self._history.append((self._current_unix, self._current_count))
        horizon = min(2 * self.retry_after, RETRY_AFTER_MAX)
        while self._history and now - self._history[0][0] > horizon:
            self._history.popleft()
        self._current_unix, self._current_count = now, 1
        self._update(now)
        return self.retry_after

    def _update(self, now: int) -> None:
        ra = self.retry_after
        dropped = 0
        for second, count in reversed(self._history):
            if now - second > ra:
                break
            if second < now:
                dropped += count
        if now - self._updated >= ra and dropped >= 3 * ra:
            self.retry_after = min(2 * ra, RETRY_AFTER_MAX)
            self._updated = now
        elif dropped < ra and ra > 1:
            self.retry_after = ra - 1


class TokenBucket:
    """Starts full with ``burst`` tokens, refills at ``qps``; never blocks."""

    def __init__(self, qps: float, burst: int, clock: Callable[[], float]) -> None:
        self.qps, self.burst, self._clock = qps, burst, clock
        self._tokens = float(burst)
        self._t = clock()

    def take(self) -> bool:
        """Take one token if available."""
        now = self._clock()
        self._tokens = min(float(self.burst), self._tokens + (now - self._t) * self.qps)
        self._t = now
        if self._tokens >= 1.0:
            self._tokens -= 1.0
            return True
        return False
