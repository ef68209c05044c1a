"""The live progress line of a running job: bar, percentage, phase, counts, steady rate, ETA."""

from __future__ import annotations

import contextlib
import math
import threading
import time
from collections import deque
from collections.abc import Callable, Mapping

from .model import fmt_s

MIN_INTERVAL = 0.25  # at most ~4 redraws per second
BAR_WIDTH = 20
RATE_WINDOW = 5.0  # seconds of history behind the readiness rate
MIN_RATE_SPAN = 1.0  # no rate (and no ETA from it) from less than this much history
_CLEAR = "\r\x1b[K"
VM_KINDS = frozenset(
    {"VirtualMachine", "VirtualMachineInstance", "VirtualMachineInstanceReplicaSet"}
)
Counts = dict[str, int]


def bar(fraction: float | None, width: int = BAR_WIDTH) -> str:
    """``[=======>            ]  37%`` (``[   ...   ]   -%`` when unknown)."""
    if fraction is None:
        return "[" + " " * width + "]    -"
    fraction = min(1.0, max(0.0, fraction))
    full = int(fraction * width)
    head = ">" if full < width and fraction > 0 else ""
    body = ("=" * full + head).ljust(width)
    return f"[{body}] {math.floor(fraction * 100):3d}%"


def counts_text(created: Counts, ready: Counts, expected: Counts) -> str:
    """``Pod 36/80 created, 20 ready``; kinds without readiness: ``ConfigMap 5/5 created``."""
    parts = []
    for kind in sorted(set(expected) | set(created) | set(ready)):
        text = f"{kind} {created.get(kind, 0)}/{expected.get(kind, 0)} created"
        if kind in ready:
            text += f", {ready[kind]} ready"
        parts.append(text)
    return "; ".join(parts)


def inferred_phase(created: Counts, ready: Counts, expected: Counts) -> str:
    """creating, booting VMs, waiting for readiness, or done."""
    if any(created.get(k, 0) < n for k, n in expected.items()):
        return "creating"
    lagging = [k for k in ready if ready[k] < expected.get(k, 0)]
    if lagging:
        return "booting VMs" if any(k in VM_KINDS for k in lagging) else "waiting for readiness"
    return "done"


def fraction_done(created: Counts, ready: Counts, expected: Counts) -> float | None:
    """Creation counts once per object, readiness once more for kinds that have it."""
    units = sum(n * (2 if k in ready else 1) for k, n in expected.items())
    if units <= 0:
        return None
    done = sum(min(created.get(k, 0), n) for k, n in expected.items())
    done += sum(min(ready.get(k, 0), expected.get(k, 0)) for k in ready)
    return done / units


class Progress:
    """A progress line rewritten in place; every method is thread-safe, close() idempotent.

    ``write`` receives the text to emit; None makes the object quiet (not a terminal, -q).
    ``phase()`` names what the job does now; after close() it starts a new line.
    """

    def __init__(
        self,
        job: str,
        write: Callable[[str], None] | None,
        clock: Callable[[], float] = time.monotonic,
        width: int = 120,
    ) -> None:
        self.job = job
        self._write = write
        self._clock = clock
        self._width = width
        self._lock = threading.Lock()
        self._start = clock()
        self._last = -1e9
        self._line = ""
        self._line_start = False  # the cursor is at the start of a line (after a close)
        self._closed = False
        self._state: tuple[Counts, Counts, Counts, float] | None = None
        self._phase: tuple[str, float | None, float | None] | None = None
        self._history: deque[tuple[float, int]] = deque()

    @property
    def enabled(self) -> bool:
        """Whether anything is drawn."""
        return self._write is not None

    def line(self) -> str:
        """The current progress text (without control characters)."""
        with self._lock:
            return self._render(self._clock())

    def _ready_rate(self) -> float | None:
        if len(self._history) < 2:
            return None
        (t0, r0), (t1, r1) = self._history[0], self._history[-1]
        if t1 - t0 < MIN_RATE_SPAN or r1 <= r0:
            return None
        return (r1 - r0) / (t1 - t0)

    def _eta(self, created: Counts, ready: Counts, expected: Counts, qps: float) -> str:
        total = sum(expected.values())
        left_c = total - sum(min(created.get(k, 0), n) for k, n in expected.items())
        left_r = sum(max(0, expected.get(k, 0) - ready[k]) for k in ready)
        if not total:
            return "-"
        if not left_c and not left_r:
            return "0s"
        waits = []
        if left_c:
            if qps <= 0:
                return "-"
            waits.append(left_c / qps)
        if left_r:
            rate = self._ready_rate()
            if rate is None:
                return "-"
            waits.append(left_r / rate)
        return fmt_s(max(waits))

    def _render(self, now: float) -> str:
        elapsed = f"{max(0.0, now - self._start):.1f}s"
        if self._phase is not None and (self._phase[2] is not None or self._state is None):
            text, done, total = self._phase
            frac = done / total if done is not None and total else None
            return self._fit(f"{self.job} {bar(frac)} {text} | {elapsed}")
        if self._state is None:
            return f"{self.job}: starting"
        created, ready, expected, qps = self._state
        phase = self._phase[0] if self._phase is not None else None
        phase = phase or inferred_phase(created, ready, expected)
        rate = f"{qps:.1f} qps" if qps > 0 else "- qps"
        eta = self._eta(created, ready, expected, qps)
        head = f"{self.job} {bar(fraction_done(created, ready, expected))} {phase}"
        counts = counts_text(created, ready, expected)
        return self._fit(f"{head} | {counts} | {rate} | {elapsed} | ETA {eta}")

    def _fit(self, text: str) -> str:
        return text if len(text) <= self._width else text[: self._width - 3] + "..."

    def update(
        self,
        created: Mapping[str, int],
        ready: Mapping[str, int],
        expected: Mapping[str, int],
        qps: float,
    ) -> None:
        """New counts; redrawn at most every 0.25 s."""
        with self._lock:
            now = self._clock()
            self._state = (dict(created), dict(ready), dict(expected), float(qps))
            self._history.append((now, sum(ready.values())))
            while len(self._history) > 2 and now - self._history[0][0] > RATE_WINDOW:
                self._history.popleft()
            self._draw(now)

    def phase(self, text: str, done: float | None = None, total: float | None = None) -> None:
        """Name the current phase (``churn cycle 2 of 5``); ``done``/``total`` fill the bar."""
        with self._lock:
            if self._closed:  # a later phase of the job: a new line
                self._closed, self._line, self._state = False, "", None
                self._history.clear()
                self._start = self._clock()
            self._phase = (text, done, total)
            self._last = -1e9 if done is None or done == 0 else self._last
            self._draw(self._clock())

    def _draw(self, now: float) -> None:
        if self._write is None or self._closed or now - self._last < MIN_INTERVAL:
            return
        self._last = now
        self._emit(self._render(now), first=not self._line)

    def _emit(self, text: str, first: bool) -> None:
        assert self._write is not None
        # the first draw starts a fresh line so pytest's own "test_x.py " stays intact
        self._line = text
        with contextlib.suppress(OSError):
            self._write(("\n" if first and not self._line_start else "") + _CLEAR + text)

    def close(self) -> None:
        """Draw the final state and end the line."""
        with self._lock:
            if self._closed:
                return
            self._closed = True
            if self._write is None or (self._state is None and self._phase is None):
                return
            self._emit(self._render(self._clock()), first=not self._line)
            self._line_start = True
            with contextlib.suppress(OSError):
                self._write("\n")
