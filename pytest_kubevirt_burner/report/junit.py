"""Key quantiles and verdicts as test properties, so ``--junitxml`` carries them."""

from __future__ import annotations

import math
from collections.abc import Generator, Sequence

import pytest

from .model import JobView, views_for

PROPERTY_STATS = ("P50", "P95", "P99")


def properties(views: Sequence[JobView]) -> list[tuple[str, object]]:
    """``(name, value)`` pairs: P50/P95/P99 per quantile, SLO verdicts, regressions, verdict.

    Names are ``podLatency.Ready.P99`` (seconds, 3 decimals), ``slo.podLatency.Ready`` and
    ``burner.verdict``; with several jobs in one test they are prefixed with ``<job>:``.
    """
    out: list[tuple[str, object]] = []
    for view in views:
        prefix = f"{view.name}:" if len(views) > 1 else ""
        for key, q in view.quantiles.items():
            out.append((f"{prefix}{key}.n", q.n_text()))
            for stat in PROPERTY_STATS:
                value = q.get(stat)
                if not math.isnan(value):
                    out.append((f"{prefix}{key}.{stat}", f"{value:.3f}"))
        for slo in view.slos:
            out.append((f"{prefix}slo.{slo.key}", f"{slo.verdict}: {slo.line}"))
        if view.comparison is not None:
            for line in view.comparison.regressions:
                out.append((f"{prefix}regression", line))
            if view.comparison.refused:
                out.append((f"{prefix}regression", view.comparison.refused))
        out.append((f"{prefix}burner.verdict", view.verdict))
    return out


class JunitHooks:
    """Adds the properties of a test's jobs in its call phase."""

    @pytest.hookimpl(wrapper=True)
    def pytest_runtest_makereport(
        self, item: pytest.Item, call: pytest.CallInfo[None]
    ) -> Generator[None, pytest.TestReport, pytest.TestReport]:
        """Append to ``item.user_properties`` (the teardown report, which junitxml reads)."""
        report = yield
        if report.when == "call":
            props = properties(views_for(item))
            item.user_properties.extend(props)
            report.user_properties.extend(props)
        return report
