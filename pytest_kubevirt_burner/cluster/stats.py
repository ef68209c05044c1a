"""Thread-safe accounting of API requests, retries, throttling and errors."""

from __future__ import annotations

import threading
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Protocol

RetryCause = str
"""Why a request was retried: ``"429"``, ``"5xx"`` or ``"connection"``."""


class StatsSink(Protocol):
    """What the client reports to; ``RequestStats`` implements it, a job may bring its own."""

    def add_request(self, verb: str) -> None:
        """One HTTP request was sent (every attempt counts, retries included)."""

    def add_retry(self, verb: str, cause: RetryCause, delay: float) -> None:
        """A request will be retried after sleeping ``delay`` seconds because of ``cause``."""

    def add_throttle(self, seconds: float) -> None:
        """The client-side limiter delayed a request by ``seconds``."""

    def add_error(self, verb: str, status: int) -> None:
        """A call failed for good (status 0 = connection error)."""

    def add_deduplicated(self, verb: str) -> None:
        """A retried create found its own object already stored (counted as success)."""


@dataclass(frozen=True, slots=True)
class StatsSnapshot:
    """Immutable copy of ``RequestStats`` at one instant."""

    requests: dict[str, int] = field(default_factory=dict)
    retries: int = 0
    retry_wait_seconds: float = 0.0
    http_429: int = 0
    http_5xx: int = 0
    connection_errors: int = 0
    throttle_waits: int = 0
    throttle_wait_seconds: float = 0.0
    errors: dict[int, int] = field(default_factory=dict)
    deduplicated_creates: int = 0

    @property
    def total_requests(self) -> int:
        """All requests sent, every verb."""
        return sum(self.requests.values())


class RequestStats:
    """Counters of one client or one call site; safe to share between threads."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._requests: Counter[str] = Counter()
        self._errors: Counter[int] = Counter()
        self._retries = 0
        self._http_429 = 0
        self._http_5xx = 0
        self._connection_errors = 0
        self._throttle_waits = 0
        self._throttle_seconds = 0.0
        self._retry_wait = 0.0
        self._deduplicated = 0
        self.on_retry: Callable[[str, RetryCause, float], None] | None = None
        """Called outside the lock on every retry (a line while the cluster is unreachable)."""

    def add_request(self, verb: str) -> None:
        """One HTTP request was sent."""
        with self._lock:
            self._requests[verb] += 1

    def add_retry(self, verb: str, cause: RetryCause, delay: float) -> None:
        """A request will be retried after ``delay`` s because of ``cause`` (429/5xx/connection)."""
        with self._lock:
            self._retries += 1
            self._retry_wait += delay
            if cause == "429":
                self._http_429 += 1
            elif cause == "5xx":
                self._http_5xx += 1
            else:
                self._connection_errors += 1
        if self.on_retry is not None:
            self.on_retry(verb, cause, delay)

    def add_throttle(self, seconds: float) -> None:
        """The limiter delayed one request by ``seconds``."""
        with self._lock:
            if seconds > 0:
                self._throttle_waits += 1
                self._throttle_seconds += seconds

    def add_error(self, verb: str, status: int) -> None:
        """A call failed for good; 429/5xx/connection failures after the last retry land here."""
        with self._lock:
            self._errors[status] += 1
            if status == 429:
                self._http_429 += 1
            elif status >= 500:
                self._http_5xx += 1
            elif status == 0:
                self._connection_errors += 1

    def add_deduplicated(self, verb: str) -> None:
        """A retried create found its own object already stored."""
        with self._lock:
            self._deduplicated += 1

    def snapshot(self) -> StatsSnapshot:
        """A consistent copy of every counter."""
        with self._lock:
            return StatsSnapshot(
                requests=dict(self._requests),
                retries=self._retries,
                retry_wait_seconds=self._retry_wait,
                http_429=self._http_429,
                http_5xx=self._http_5xx,
                connection_errors=self._connection_errors,
                throttle_waits=self._throttle_waits,
                throttle_wait_seconds=self._throttle_seconds,
                errors=dict(self._errors),
                deduplicated_creates=self._deduplicated,
            )

    def __repr__(self) -> str:
        s = self.snapshot()
        return (
            f"RequestStats(requests={s.total_requests}, retries={s.retries}, "
            f"http_429={s.http_429}, http_5xx={s.http_5xx}, "
            f"connection_errors={s.connection_errors}, "
            f"throttle_wait_seconds={s.throttle_wait_seconds:.3f})"
        )
