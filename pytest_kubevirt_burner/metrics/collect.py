"""Evaluate metrics profiles over a job window, exactly as kube-burner does, as documents."""

from __future__ import annotations

import math
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from typing import Any

from ..measurements.timeutil import format_ts
from ..measurements.writer import Doc
from .profiles import MetricQuery, ProfileError
from .prometheus import PrometheusClient, PrometheusError, Series

__all__ = [
    "DEFAULT_STEP",
    "MAX_POINTS",
    "Batch",
    "CollectStats",
    "JobWindow",
    "collect_metrics",
    "rfc3339",
    "sample_value",
]

DEFAULT_STEP = 30.0
MAX_POINTS = 11_000
"""Prometheus rejects range queries of more points per series than this."""


@dataclass(frozen=True, slots=True)
class JobWindow:
    """The time range of one executed job (unix seconds) and what its documents carry."""

    job_name: str
    start: float
    end: float
    uuid: str
    metadata: dict[str, Any] = field(default_factory=dict)
    churn_start: float | None = None
    churn_end: float | None = None

    @property
    def elapsed(self) -> float:
        """Job duration in seconds."""
        return max(0.0, self.end - self.start)

    def in_churn(self, ts: float) -> bool:
        """True when ``ts`` lies strictly inside the churn window."""
        if self.churn_start is None or self.churn_end is None:
            return False
        return self.churn_start < ts < self.churn_end


@dataclass(slots=True)
class CollectStats:
    """Counters and warnings of one collection, shown to the user by the caller."""

    documents: int = 0
    non_finite: int = 0
    warnings: list[str] = field(default_factory=list)


@dataclass(frozen=True, slots=True)
class Batch:
    """Documents for one metricName (a generator: consume it once)."""

    metric_name: str
    documents: Iterator[Doc]


def rfc3339(ts: float) -> str:
    """A Prometheus sample time (ms precision) as Go's RFC3339Nano in UTC."""
    return format_ts(round(ts * 1000) * 1_000_000)


def sample_value(value: float) -> tuple[float, str | None]:
    """kube-burner's value rule: NaN (and, here, +-Inf) become 0; returns the original too."""
    if math.isnan(value):
        return 0.0, "NaN"
    if math.isinf(value):
        return 0.0, "+Inf" if value > 0 else "-Inf"
    return value, None


def effective_step(window: JobWindow, step: float, stats: CollectStats) -> float:
    """``step``, widened (with a warning) when the window would exceed 11,000 points."""
    needed = window.elapsed / MAX_POINTS
    if needed <= step:
        return step
    wider = float(math.ceil(needed))
    stats.warnings.append(
        f"job {window.job_name}: {window.elapsed:.0f} s at step {step:g} s exceeds Prometheus'"
        f" {MAX_POINTS} points per series; step widened to {wider:g} s"
    )
    return wider


def _documents(
    series: list[Series],
    *,
    metric_name: str,
    query: str,
    window: JobWindow,
    stats: CollectStats,
) -> Iterator[Doc]:
    for s in series:
        labels = {k: v for k, v in s.labels.items() if k != "__name__"}
        for ts, raw in s.samples:
            value, original = sample_value(raw)
            doc: Doc = {"timestamp": rfc3339(ts)}
            if labels:
                doc["labels"] = labels
            doc["value"] = value
            doc["uuid"] = window.uuid
            doc["query"] = query
            doc["metricName"] = metric_name
            doc["jobName"] = window.job_name
            if window.metadata:
                doc["metadata"] = window.metadata
            if window.in_churn(ts):
                doc["churnMetric"] = True
            if original is not None:
                doc["nonFiniteValue"] = original
                stats.non_finite += 1
            stats.documents += 1
            yield doc


def _needs_top_up(window: JobWindow, step: float) -> bool:
    """kube-burner: an instant query at the end when the range does not land on it."""
    return round(window.elapsed * 1000) % round(step * 1000) != 0


def _one(
    client: PrometheusClient,
    q: MetricQuery,
    window: JobWindow,
    step: float,
    stats: CollectStats,
    env: Mapping[str, str] | None,
) -> Iterator[Batch]:
    query = q.render(window.elapsed, env)
    common: dict[str, Any] = {"query": query, "window": window, "stats": stats}
    if q.capture_start:
        start = client.query(query, window.start)
        _report_empty(start, f"{q.metric_name}-start", query, window, stats)
        yield Batch(
            f"{q.metric_name}-start",
            _documents(start, metric_name=f"{q.metric_name}-start", **common),
        )
    if q.instant:
        found = client.query(query, window.end)
    else:
        found = client.query_range(query, window.start, window.end, step)
        if _needs_top_up(window, step):
            found = found + client.query(query, window.end)
    _report_empty(found, q.metric_name, query, window, stats)
    yield Batch(q.metric_name, _documents(found, metric_name=q.metric_name, **common))


def _report_empty(
    found: list[Series], name: str, query: str, window: JobWindow, stats: CollectStats
) -> None:
    if not any(s.samples for s in found):
        stats.warnings.append(
            f"job {window.job_name}: metric {name}: query returned no data: {query}"
        )


def collect_metrics(
    client: PrometheusClient,
    queries: list[MetricQuery],
    window: JobWindow,
    *,
    step: float = DEFAULT_STEP,
    stats: CollectStats,
    env: Mapping[str, str] | None = None,
) -> Iterator[Batch]:
    """Batches of documents for every profile entry; a failing query becomes a warning.

    An unreachable Prometheus raises PrometheusError at once instead of one warning per query.
    """
    if step <= 0:
        raise ValueError(f"step must be positive, got {step:g}")
    step = effective_step(window, step, stats)
    for q in queries:
        try:
            yield from _one(client, q, window, step, stats, env)
        except (PrometheusError, ProfileError) as exc:
            if isinstance(exc, PrometheusError) and exc.unreachable:
                raise
            stats.warnings.append(f"job {window.job_name}: metric {q.metric_name}: {exc}")
