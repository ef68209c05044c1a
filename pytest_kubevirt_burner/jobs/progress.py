"""Feeds a live progress display from a running create job (a daemon ticker thread)."""

from __future__ import annotations

import threading
from collections.abc import Callable
from typing import Any, Protocol


class ProgressSink(Protocol):
    """What a progress display offers (report.terminal.Progress satisfies it)."""

    def update(
        self, created: dict[str, int], ready: dict[str, int], expected: dict[str, int], qps: float
    ) -> None:
        """Show the current counts."""

    def close(self) -> None:
        """Finish the display."""


class ProgressTicker:
    """Polls counters every ``period`` seconds and pushes them to a sink until stopped."""

    def __init__(
        self, sink: ProgressSink | None, sample: Callable[[], tuple[Any, ...]], period: float = 0.25
    ) -> None:
        self._sink = sink
        self._sample = sample
        self._period = period
        self._done = threading.Event()
        self._thread: threading.Thread | None = None

    def __enter__(self) -> ProgressTicker:
        if self._sink is not None:
            self._thread = threading.Thread(target=self._run, name="burner-progress", daemon=True)
            self._thread.start()
        return self

    def _run(self) -> None:
        assert self._sink is not None
        while not self._done.wait(self._period):
            self._sink.update(*self._sample())

    def __exit__(self, *exc: object) -> None:
        self._done.set()
        if self._thread is not None:
            self._thread.join(timeout=2)
        if self._sink is not None:
            self._sink.update(*self._sample())
            self._sink.close()
