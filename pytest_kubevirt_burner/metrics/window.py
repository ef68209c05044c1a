"""kube-burner's ``index`` and ``check-alerts`` over an arbitrary Prometheus time window."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from ..indexers.local import LocalIndexer
from .alerts import AlertVerdict, alert_documents, evaluate_alerts
from .collect import CollectStats, JobWindow, collect_metrics
from .profiles import load_alert_profile, load_metrics_profile
from .prometheus import PrometheusClient

__all__ = ["WindowResult", "check_alerts_window", "index_window"]

INDEX_JOB = "kube-burner-indexing"
"""kube-burner's job name for documents of the ``index`` command."""
ALERT_JOB = "kube-burner-alerting"


@dataclass(slots=True)
class WindowResult:
    """Documents written per file, warnings, and (for alerts) the verdict."""

    written: dict[str, int] = field(default_factory=dict)
    warnings: list[str] = field(default_factory=list)
    verdict: AlertVerdict = field(default_factory=AlertVerdict)

    @property
    def documents(self) -> int:
        """Documents written in total."""
        return sum(self.written.values())


def index_window(
    client: PrometheusClient,
    profiles: Sequence[Path],
    window: JobWindow,
    directory: Path,
    *,
    step: float,
    env: Mapping[str, str] | None = None,
) -> WindowResult:
    """Evaluate metrics profiles over ``window`` into ``<directory>/<metricName>.json``.

    Raises ProfileError for a bad profile and PrometheusError when Prometheus is unreachable.
    """
    queries = [q for p in profiles for q in load_metrics_profile(p, env=env)]
    local = LocalIndexer(directory)
    stats = CollectStats()
    for batch in collect_metrics(client, queries, window, step=step, stats=stats, env=env):
        local.append(batch.metric_name, batch.documents)
    result = WindowResult(dict(local.written), list(stats.warnings))
    if stats.non_finite:
        result.warnings.append(
            f"{stats.non_finite} samples were NaN or Inf and were indexed as 0"
            " (flagged with nonFiniteValue)"
        )
    return result


def check_alerts_window(
    client: PrometheusClient,
    profiles: Sequence[Path],
    window: JobWindow,
    directory: Path | None,
    *,
    step: float,
    env: Mapping[str, str] | None = None,
) -> WindowResult:
    """Evaluate alert profiles over ``window``; fired alerts go to ``alert.json`` if a directory."""
    rules = [r for p in profiles for r in load_alert_profile(p, env=env)]
    verdict = evaluate_alerts(client, rules, window, step=step, env=env)
    result = WindowResult(warnings=list(verdict.warnings), verdict=verdict)
    if directory is not None and verdict.fired:
        local = LocalIndexer(directory)
        local.append("alert", alert_documents(verdict, window))
        result.written = dict(local.written)
    return result
