"""Feeds a live progress display from a running job: counts from a ticker thread, named phases
(pausing, churn cycles, day-2 operations) from the job itself."""

from __future__ import annotations

import threading
import time
from collections import deque
from collections.abc import Callable
from typing import Any, Protocol

STEADY_WINDOW = 5.0  # seconds of creates behind the steady rate
MIN_STEADY_SPAN = 1.0  # no steady rate from less history than this
PAUSE_STEP = 0.5  # seconds between two redraws of a pause


class ProgressSink(Protocol):
    """What a progress display offers (report.liveprogress.Progress satisfies it)."""

    def update(
        self, created: dict[str, int], ready: dict[str, int], expected: dict[str, int], qps: float
    ) -> None:
        """Show the current counts."""

    def close(self) -> None:
        """Finish the display."""


class SteadyRate:
    """Creates per second once the limiter's burst is spent: the slope of the created count
    over the last few seconds in which it grew, not counting the first sample (the burst)."""

    def __init__(self, clock: Callable[[], float] = time.monotonic) -> None:
        self._clock = clock
        self._samples: deque[tuple[float, int]] = deque()
        self._last_total = 0

    def add(self, total: int) -> float:
        """Record the created count now; the steady rate (0.0 while unknown)."""
        now = self._clock()
        if total <= 0:
            return 0.0
        if not self._samples or total > self._last_total:
            self._samples.append((now, total))
            self._last_total = total
        t_last = self._samples[-1][0]
        while len(self._samples) > 2 and t_last - self._samples[1][0] > STEADY_WINDOW:
            self._samples.popleft()  # keep one sample before the window as its start
        (t0, c0), (t1, c1) = self._samples[0], self._samples[-1]
        if t1 - t0 < MIN_STEADY_SPAN:
            return 0.0
        return (c1 - c0) / (t1 - t0)


def announce(sink: Any, text: str, done: float | None = None, total: float | None = None) -> None:
    """Name the job's current phase on ``sink`` (``churn cycle 2 of 5``), if it shows phases."""
    phase = getattr(sink, "phase", None)
    if callable(phase):
        phase(text, done, total)


def finish(sink: Any) -> None:
    """End the sink's current line (after the last announced phase)."""
    if sink is not None:
        sink.close()


def pause(sink: Any, seconds: float, sleep: Callable[[float], bool]) -> bool:
    """``sleep(seconds)`` in short steps while the sink shows ``pausing``; False if stopped."""
    if seconds <= 0 or getattr(sink, "phase", None) is None:
        return sleep(seconds)
    slept = 0.0
    try:
        while slept < seconds:
            announce(sink, f"pausing {seconds:g}s", slept, seconds)
            step = min(PAUSE_STEP, seconds - slept)
            if not sleep(step):
                return False
            slept += step
        announce(sink, f"pausing {seconds:g}s", seconds, seconds)
        return True
    finally:
        finish(sink)


class ProgressTicker:
    """Polls counters every ``period`` seconds and pushes them to a sink until stopped.

    ``sample`` returns ``(created, ready, expected, qps)``; the qps shown is the steady rate
    measured here from the created counts (0, shown as ``-``, until it is known: never the burst).
    """

    def __init__(
        self,
        sink: ProgressSink | None,
        sample: Callable[[], tuple[Any, ...]],
        period: float = 0.25,
        phase: str | None = None,
    ) -> None:
        self._sink = sink
        self._sample = sample
        self._period = period
        self._phase = phase
        self._steady = SteadyRate()
        self._done = threading.Event()
        self._thread: threading.Thread | None = None

    def __enter__(self) -> ProgressTicker:
        if self._sink is not None:
            if self._phase:
                announce(self._sink, self._phase)
            self._thread = threading.Thread(target=self._run, name="burner-progress", daemon=True)
            self._thread.start()
        return self

    def _push(self) -> None:
        assert self._sink is not None
        created, ready, expected, _ = self._sample()
        steady = self._steady.add(sum(created.values()))
        self._sink.update(created, ready, expected, steady or 0.0)

    def _run(self) -> None:
        while not self._done.wait(self._period):
            self._push()

    def __exit__(self, *exc: object) -> None:
        self._done.set()
        if self._thread is not None:
            self._thread.join(timeout=2)
        if self._sink is not None:
            self._push()
            self._sink.close()


def operations_phase(ops: list[Any], expected: int) -> tuple[str, int, int]:
    """``day-2 restart: 12/40 VMs done`` from a kubevirt job's pending operations."""
    names = "/".join(sorted({str(getattr(op, "op", "operation")) for op in ops})) or "operation"
    done = sum(
        1 for op in ops if getattr(op, "done_ns", None) is not None or getattr(op, "error", None)
    )
    total = max(expected, len(ops))
    return f"day-2 {names}: {done}/{total} VMs done", done, total


class PhaseTicker:
    """Announces ``phase()`` (text, done, total) every ``period`` seconds; ends the line at exit."""

    def __init__(
        self, sink: Any, phase: Callable[[], tuple[str, int, int]], period: float = 0.25
    ) -> None:
        self._sink = sink
        self._phase = phase
        self._period = period
        self._done = threading.Event()
        self._thread: threading.Thread | None = None

    def __enter__(self) -> PhaseTicker:
        if getattr(self._sink, "phase", None) is not None:
            announce(self._sink, *self._phase())
            self._thread = threading.Thread(target=self._run, name="burner-phase", daemon=True)
            self._thread.start()
        return self

    def _run(self) -> None:
        while not self._done.wait(self._period):
            announce(self._sink, *self._phase())

    def __exit__(self, *exc: object) -> None:
        self._done.set()
        if self._thread is not None:
            self._thread.join(timeout=2)
            announce(self._sink, *self._phase())
            finish(self._sink)
