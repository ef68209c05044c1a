"""Terminal output: a live progress line for long jobs and the end-of-session results table."""

from __future__ import annotations

import contextlib
import os
import threading
import time
from collections.abc import Callable, Mapping, Sequence

import pytest

from .compare import change_text
from .model import JobView, ReportState, fmt_s, fmt_table_s

MIN_INTERVAL = 0.25  # at most ~4 redraws per second
_CLEAR = "\r\x1b[K"


class Progress:
    """A progress line rewritten in place; every method is thread-safe, close() idempotent.

    ``write`` receives the text to emit; None makes the object quiet (not a terminal, -q).
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
        self._closed = False
        self._state: tuple[dict[str, int], dict[str, int], dict[str, int], float] | None = None

    @property
    def enabled(self) -> bool:
        """Whether anything is drawn."""
        return self._write is not None

    def line(self) -> str:
        """The current progress text (without control characters)."""
        with self._lock:
            return self._render(self._clock())

    def _render(self, now: float) -> str:
        if self._state is None:
            return f"{self.job}: starting"
        created, ready, expected, qps = self._state
        elapsed = now - self._start
        kinds = sorted(set(expected) | set(created) | set(ready))
        parts = [
            f"{k} {created.get(k, 0)}/{expected.get(k, 0)} created, {ready.get(k, 0)} ready"
            for k in kinds
        ]
        total = sum(expected.values())
        done_c, done_r = sum(created.values()), sum(ready.values())
        eta = "-"
        if total and done_r < total:
            left = (total - done_c) / qps if qps > 0 and done_c < total else 0.0
            rate = done_r / elapsed if elapsed > 0 else 0.0
            wait = (total - done_r) / rate if rate > 0 else None
            if wait is not None or left:
                eta = fmt_s(max(left, wait or 0.0))
        elif total:
            eta = "0s"
        text = f"{self.job}: {'; '.join(parts)} | {qps:.1f} qps | {fmt_s(elapsed)} | ETA {eta}"
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
            self._state = (dict(created), dict(ready), dict(expected), float(qps))
            now = self._clock()
            if self._write is None or self._closed or now - self._last < MIN_INTERVAL:
                return
            self._last = now
            self._emit(self._render(now), first=not self._line)

    def _emit(self, text: str, first: bool) -> None:
        assert self._write is not None
        # the first draw starts a fresh line so pytest's own "test_x.py " stays intact
        self._line = text
        with contextlib.suppress(OSError):
            self._write(("\n" if first else "") + _CLEAR + text)

    def close(self) -> None:
        """Draw the final state and end the line."""
        with self._lock:
            if self._closed:
                return
            self._closed = True
            if self._write is None or self._state is None:
                return
            self._emit(self._render(self._clock()), first=not self._line)
            with contextlib.suppress(OSError):
                self._write("\n")


class TerminalHooks:
    """Owns the terminal's file descriptor for progress lines and prints the results table."""

    def __init__(self, config: pytest.Config, state: ReportState) -> None:
        self.config = config
        self.state = state
        self._fd: int | None = None
        quiet = config.get_verbosity() < 0 or hasattr(config, "workerinput")
        with contextlib.suppress(OSError, ValueError):
            # duplicated now, while output capture is suspended, so that progress written from
            # job threads reaches the terminal even while the test's own output is captured
            if not quiet and os.isatty(1):
                self._fd = os.dup(1)

    def progress(self, job: str) -> Progress:
        """A Progress for ``job``: live on a terminal, quiet otherwise."""
        fd = self._fd
        if fd is None:
            return Progress(job, None)
        width = max(40, os.get_terminal_size(fd).columns - 1) if os.isatty(fd) else 120
        return Progress(job, lambda text: _write_fd(fd, text), width=width)

    def pytest_unconfigure(self) -> None:
        """Release the duplicated terminal descriptor."""
        if self._fd is not None:
            with contextlib.suppress(OSError):
                os.close(self._fd)
            self._fd = None

    def pytest_terminal_summary(self, terminalreporter: pytest.TerminalReporter) -> None:
        """The results table (and the baseline comparison, and failure reasons)."""
        views = self.state.views()
        if not views:
            return
        tr = terminalreporter
        tr.write_sep("-", f"kubevirt-burner: {len(views)} jobs (latencies in seconds)")
        for line in results_table(views):
            tr.write_line(line)
        compared = [v for v in views if v.comparison is not None]
        if compared:
            tr.write_sep("-", "kubevirt-burner: baseline comparison (seconds)")
            for line in comparison_table(compared):
                tr.write_line(line)
        for view in views:
            for reason in view.reasons():
                tr.write_line(
                    f"{view.name}: {reason}" if not reason.startswith(view.name) else reason,
                    red=True,
                )


def _write_fd(fd: int, text: str) -> None:
    os.write(fd, text.encode("utf-8", "replace"))


def align(rows: Sequence[Sequence[str]], right: frozenset[int] = frozenset()) -> list[str]:
    """Rows as aligned columns (``right`` holds the indices of right-aligned columns)."""
    widths = [max(len(r[i]) for r in rows) for i in range(len(rows[0]))]
    out = []
    for row in rows:
        cells = [
            c.rjust(w) if i in right else c.ljust(w)
            for i, (c, w) in enumerate(zip(row, widths, strict=True))
        ]
        out.append("  ".join(cells).rstrip())
    return out


def results_table(views: Sequence[JobView]) -> list[str]:
    """One row per job: type, n, P50/P95/P99 of the main transition, verified, SLO, verdict."""
    head = ["Job", "Type", "Transition", "N", "P50", "P95", "P99", "Verified", "SLO", "Result"]
    rows = [head]
    for v in views:
        key = v.main_key()
        q = v.quantiles.get(key) if key else None
        r = v.result
        rows.append(
            [
                r.job_name,
                r.job_type,
                key or "-",
                q.n_text() if q else "-",
                *(fmt_table_s(q.get(s)) if q else "-" for s in ("P50", "P95", "P99")),
                "dry run" if r.dry_run else "yes" if r.verified else "NO",
                v.slo_verdict(),
                v.verdict.upper() if v.verdict == "fail" else v.verdict,
            ]
        )
    return align(rows, frozenset({3, 4, 5, 6}))


def comparison_table(views: Sequence[JobView]) -> list[str]:
    """Baseline vs current for the main transition and every gated key, plus notes."""
    rows = [["Job", "Transition", "Stat", "Baseline", "Current", "Change", ""]]
    notes = []
    for v in views:
        cmp = v.comparison
        assert cmp is not None
        gated = {line.split(" ", 1)[0] for line in cmp.regressions}
        for key, stat, old, new in cmp.rows:
            if key != v.main_key() and key not in gated:
                continue
            flag = (
                "REGRESSED"
                if any(ln.startswith(f"{key} {stat} ") for ln in cmp.regressions)
                else ""
            )
            rows.append(
                [v.name, key, stat, fmt_table_s(old), fmt_table_s(new), change_text(old, new), flag]
            )
        notes += [cmp.note] if cmp.note else []  # refusals are printed with the reasons
    return (align(rows, frozenset({3, 4, 5})) if len(rows) > 1 else []) + notes
