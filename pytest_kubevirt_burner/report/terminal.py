"""Terminal output: live progress lines of running jobs and the end-of-session results table."""

from __future__ import annotations

import contextlib
import math
import os
from collections.abc import Sequence

import pytest

from .compare import change_text
from .liveprogress import Progress
from .model import JobView, ReportState, fmt_table_s

__all__ = ["Progress", "TerminalHooks", "align", "comparison_table", "results_table"]


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
    """Baseline vs current for the main transition and every gated key, plus notes; regressed
    rows first, then by change (largest first)."""
    ranked: list[tuple[tuple[int, float], list[str]]] = []
    notes = []
    for v in views:
        cmp = v.comparison
        assert cmp is not None
        gated = {line.split(" ", 1)[0] for line in cmp.regressions}
        for key, stat, old, new in cmp.rows:
            if key != v.main_key() and key not in gated:
                continue
            regressed = any(ln.startswith(f"{key} {stat} ") for ln in cmp.regressions)
            change = (new - old) / old if old and not math.isnan(old) and not math.isnan(new) else 0
            row = [v.name, key, stat, fmt_table_s(old), fmt_table_s(new), change_text(old, new)]
            ranked.append(
                ((0 if regressed else 1, -change), [*row, "REGRESSED" if regressed else ""])
            )
        notes += [cmp.note] if cmp.note else []  # refusals are printed with the reasons
    ranked.sort(key=lambda pair: pair[0])
    rows = [["Job", "Transition", "Stat", "Baseline", "Current", "Change", ""]]
    rows += [row for _, row in ranked]
    return (align(rows, frozenset({3, 4, 5})) if len(rows) > 1 else []) + notes
