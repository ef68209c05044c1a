"""Client-side token bucket with client-go (golang.org/x/time/rate) semantics.

The bucket holds at most ``burst`` tokens, starts full and refills at ``qps`` tokens per second.
``wait()`` reserves a token under a lock; when none is available the token count goes negative and
the caller sleeps (once, for the whole reserved delay) until its reservation matures. Because the
reservation is taken in lock order, concurrent waiters are served first-come first-served and the
sustained rate never exceeds ``qps``.

kube-burner treats ``qps <= 0`` and ``burst <= 0`` as "use the defaults" (5 and 10, the values of
client-go's ``rest.DefaultQPS``/``rest.DefaultBurst``); this class does the same. A limiter that
never throttles is built with ``TokenBucket.unlimited()``.
"""

from __future__ import annotations

import math
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass

DEFAULT_QPS = 5.0
DEFAULT_BURST = 10


@dataclass(frozen=True, slots=True)
class WaitStats:
    """Snapshot of a limiter's accounting."""

    acquired: int
    """Tokens handed out (wait() calls plus successful try_acquire() calls)."""
    waits: int
    """wait() calls that had to sleep."""
    total_wait: float
    """Seconds spent sleeping in wait(), summed over all callers."""
    max_wait: float
    """Longest single sleep in seconds."""


class TokenBucket:
    """Thread-safe token bucket: capacity ``burst``, refill ``qps`` per second, starts full."""

    __slots__ = (
        "_acquired",
        "_clock",
        "_last",
        "_lock",
        "_max_wait",
        "_sleep",
        "_tokens",
        "_total_wait",
        "_waits",
        "burst",
        "qps",
    )

    def __init__(
        self,
        qps: float,
        burst: int,
        *,
        clock: Callable[[], float] = time.monotonic,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        self._clock = clock
        self._sleep = sleep
        if not qps > 0 or math.isnan(qps):
            qps = DEFAULT_QPS
        if burst <= 0:
            burst = DEFAULT_BURST
        self.qps = float(qps)
        self.burst = int(burst)
        self._tokens = float(self.burst)
        self._last = clock()
        self._lock = threading.Lock()
        self._acquired = 0
        self._waits = 0
        self._total_wait = 0.0
        self._max_wait = 0.0

    @classmethod
    def unlimited(cls) -> TokenBucket:
        """A limiter that never throttles (the limiter is off)."""
        bucket = cls(DEFAULT_QPS, DEFAULT_BURST)
        bucket.qps = math.inf
        return bucket

    @property
    def is_unlimited(self) -> bool:
        """True when this limiter never throttles."""
        return math.isinf(self.qps)

    def _refill(self, now: float) -> None:
        elapsed = now - self._last
        if elapsed > 0:
            self._tokens = min(float(self.burst), self._tokens + elapsed * self.qps)
            self._last = now

    def wait(self) -> float:
        """Take one token, sleeping until it is available; return the seconds waited."""
        if self.is_unlimited:
            with self._lock:
                self._acquired += 1
            return 0.0
        with self._lock:
            now = self._clock()
            self._refill(now)
            self._tokens -= 1.0
            self._acquired += 1
            if self._tokens >= 0.0:
                return 0.0
            delay = -self._tokens / self.qps
            self._waits += 1
            self._total_wait += delay
            self._max_wait = max(self._max_wait, delay)
        deadline = now + delay
        # One sleep for the whole reservation: the bucket state, not the wake-up time, decides the
        # next caller's delay, so sleep overshoot never accumulates into the achieved rate.
        remaining = deadline - self._clock()
        if remaining > 0:
            self._sleep(remaining)
        return delay

    def try_acquire(self) -> bool:
        """Take one token if one is available right now; never sleeps."""
        with self._lock:
            if self.is_unlimited:
                self._acquired += 1
                return True
            self._refill(self._clock())
            if self._tokens >= 1.0:
                self._tokens -= 1.0
                self._acquired += 1
                return True
            return False

    def tokens(self) -> float:
        """Tokens available now (negative while reservations are outstanding)."""
        with self._lock:
            if self.is_unlimited:
                return math.inf
            self._refill(time.monotonic())
            return self._tokens

    def stats(self) -> WaitStats:
        """A consistent snapshot of the accounting."""
        with self._lock:
            return WaitStats(self._acquired, self._waits, self._total_wait, self._max_wait)

    def __repr__(self) -> str:
        if self.is_unlimited:
            return "TokenBucket.unlimited()"
        return f"TokenBucket(qps={self.qps:g}, burst={self.burst})"
