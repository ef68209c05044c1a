"""SIGINT/SIGTERM handling: stop creating at once, keep results, clean up, and a way out.

The first SIGINT or SIGTERM sets the stop event of every running job (worker threads stop
creating) and raises KeyboardInterrupt in the main thread, once; inside a ``critical()`` section
(results being written) the KeyboardInterrupt is deferred to the end of the section. pytest then
ends the session with exit code 2, and ``jobs.cleanup.cleanup_after_interrupt`` deletes what this
run created, selected only by this run's uuid label. A second signal skips (or aborts) that
cleanup; the leftovers and the command that removes them are printed.
"""

from __future__ import annotations

import contextlib
import signal
import threading
from collections.abc import Iterator
from types import FrameType
from typing import Any

HANDLED = (signal.SIGINT, signal.SIGTERM)

_current: InterruptHandler | None = None


class InterruptHandler:
    """Signal handler of one pytest session (installed only in the main thread)."""

    def __init__(self) -> None:
        self.signals = 0
        self.signal_name = ""
        self.skip_cleanup = False
        self.cleanup_stop = threading.Event()
        self._stops: set[threading.Event] = set()
        self._lock = threading.Lock()
        self._previous: dict[int, Any] = {}
        self._critical = 0
        self._pending = False
        self._in_cleanup = False

    @property
    def interrupted(self) -> bool:
        """Whether a signal arrived."""
        return self.signals > 0

    def install(self) -> bool:
        """Handle SIGINT and SIGTERM from now on; False when not in the main thread."""
        global _current
        if threading.current_thread() is not threading.main_thread():
            return False
        for sig in HANDLED:
            self._previous[sig] = signal.getsignal(sig)
            signal.signal(sig, self._handle)
        _current = self
        return True

    def uninstall(self) -> None:
        """Restore the handlers that were there before ``install``."""
        global _current
        self._restore()
        if _current is self:
            _current = None

    def _restore(self) -> None:
        if threading.current_thread() is not threading.main_thread():
            return
        for sig, previous in self._previous.items():
            if signal.getsignal(sig) == self._handle:
                signal.signal(sig, previous if previous is not None else signal.SIG_DFL)
        self._previous.clear()

    def track(self, stop: threading.Event) -> None:
        """Set ``stop`` when a signal arrives (a running job's stop event)."""
        with self._lock:
            self._stops.add(stop)
            if self.interrupted:
                stop.set()

    def untrack(self, stop: threading.Event) -> None:
        """Forget ``stop``."""
        with self._lock:
            self._stops.discard(stop)

    def _handle(self, signum: int, _frame: FrameType | None) -> None:
        self.signals += 1
        with self._lock:
            stops = list(self._stops)
        for stop in stops:
            stop.set()
        if self.signals == 1:
            self.signal_name = signal.Signals(signum).name
            if self._critical:
                self._pending = True
                return
            raise KeyboardInterrupt(f"{self.signal_name} received")
        self.skip_cleanup = True
        self.cleanup_stop.set()
        self._restore()  # a third signal gets the default behaviour
        if self._in_cleanup:
            raise KeyboardInterrupt(f"{signal.Signals(signum).name} received again")

    @contextlib.contextmanager
    def critical_section(self) -> Iterator[None]:
        """Defer the first signal's KeyboardInterrupt until the block ends."""
        self._critical += 1
        try:
            yield
        finally:
            self._critical -= 1
            if not self._critical and self._pending:
                self._pending = False
                raise KeyboardInterrupt(f"{self.signal_name} received")

    @contextlib.contextmanager
    def cleaning(self) -> Iterator[None]:
        """Mark a cleanup in progress: a second signal aborts it with KeyboardInterrupt."""
        self._in_cleanup = True
        try:
            yield
        finally:
            self._in_cleanup = False


def current() -> InterruptHandler | None:
    """The installed handler, if any."""
    return _current


@contextlib.contextmanager
def critical() -> Iterator[None]:
    """Results are being written: a first signal waits until this block is done."""
    handler = _current
    if handler is None:
        yield
        return
    with handler.critical_section():
        yield


def cleanup_command(uuid: str, kube_config: str | None, kube_context: str | None) -> str:
    """The shell command that deletes run ``uuid``'s leftovers."""
    cmd = f"python -m pytest_kubevirt_burner cleanup --uuid {uuid}"
    if kube_config:
        cmd += f" --kube-config {kube_config}"
    if kube_context:
        cmd += f" --kube-context {kube_context}"
    return cmd
