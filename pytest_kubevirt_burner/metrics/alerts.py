"""Evaluate kube-burner alert profiles over a job window and turn them into verdicts."""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field

from ..measurements.writer import Doc
from ..templates import TemplateError
from .collect import JobWindow, rfc3339
from .profiles import SEVERITIES, AlertRule, ProfileError
from .prometheus import PrometheusClient, PrometheusError

__all__ = ["AlertVerdict", "FiredAlert", "alert_documents", "evaluate_alerts"]


@dataclass(frozen=True, slots=True)
class FiredAlert:
    """The first sample of one firing series of one alert rule."""

    severity: str
    description: str
    timestamp: float
    expr: str


@dataclass(slots=True)
class AlertVerdict:
    """Every alert that fired in one job window, and what it means for the test."""

    fired: list[FiredAlert] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)

    def by_severity(self) -> dict[str, int]:
        """How many alerts fired per severity (every severity present, possibly 0)."""
        counts = dict.fromkeys(SEVERITIES, 0)
        for alert in self.fired:
            counts[alert.severity] += 1
        return counts

    @property
    def failing_descriptions(self) -> list[str]:
        """Descriptions of error and critical alerts: each one fails the job's test."""
        return [a.description for a in self.fired if a.severity in ("error", "critical")]

    @property
    def stop_session(self) -> bool:
        """A critical alert fired: the remaining density jobs must not run."""
        return any(a.severity == "critical" for a in self.fired)


def _describe(
    rule: AlertRule, labels: Mapping[str, str], value: float, verdict: AlertVerdict
) -> str:
    try:
        return rule.render_description(labels, value).strip()
    except TemplateError as exc:
        verdict.warnings.append(f"alert description could not be rendered: {exc}")
        return rule.description.strip()


def evaluate_alerts(
    client: PrometheusClient,
    rules: list[AlertRule],
    window: JobWindow,
    *,
    step: float,
    env: Mapping[str, str] | None = None,
) -> AlertVerdict:
    """Range-query every rule over the window; any sample fires, once per series.

    A rule whose query fails becomes a warning; an unreachable Prometheus raises.
    """
    verdict = AlertVerdict()
    for rule in rules:
        try:
            expr = rule.render_expr(window.elapsed, env)
            found = client.query_range(expr, window.start, window.end, step)
        except (PrometheusError, ProfileError) as exc:
            if isinstance(exc, PrometheusError) and exc.unreachable:
                raise
            verdict.warnings.append(f"job {window.job_name}: alert not evaluated: {exc}")
            continue
        for series in found:
            if not series.samples:
                continue
            ts, value = series.samples[0]  # kube-burner: only the first sample of each series
            labels = {k: v for k, v in series.labels.items() if k != "__name__"}
            description = _describe(rule, labels, value, verdict)
            verdict.fired.append(FiredAlert(rule.severity, description, ts, expr))
    return verdict


def alert_documents(verdict: AlertVerdict, window: JobWindow) -> Iterator[Doc]:
    """kube-burner's ``alert`` documents for the alerts of one job."""
    for alert in verdict.fired:
        doc: Doc = {
            "timestamp": rfc3339(alert.timestamp),
            "uuid": window.uuid,
            "severity": alert.severity,
            "description": alert.description,
            "metricName": "alert",
            "jobName": window.job_name,
        }
        if window.in_churn(alert.timestamp):
            doc["churnMetric"] = True
        if window.metadata:
            doc["metadata"] = window.metadata
        yield doc
