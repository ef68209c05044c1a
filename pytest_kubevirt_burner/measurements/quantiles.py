"""Nearest-rank percentiles (clusterloader2's rule), summaries and kube-burner quantile documents.

All arithmetic is on integer nanoseconds; conversion to milliseconds (documents) or seconds
(the test API) happens only at the edge, so the percentile returned is always one of the samples.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, fields
from fractions import Fraction
from typing import Any, TypeVar

from ..results import Quantiles
from .timeutil import format_ts, to_ms

T = TypeVar("T")
PERCENTILES = (50, 95, 99)
_QUANTILE_FIELDS = {f.name for f in fields(Quantiles)}


def nearest_rank(sorted_values: Sequence[T], p: float) -> T:
    """``sorted_values[ceil(n*p/100) - 1]`` (rank clamped to 1..n); ValueError when empty."""
    n = len(sorted_values)
    if n == 0:
        raise ValueError("nearest_rank of an empty sequence")
    if not 0 <= p <= 100:
        raise ValueError(f"percentile must be within [0, 100], got {p!r}")
    rank = math.ceil(Fraction(n) * Fraction(str(p)) / 100)
    return sorted_values[min(max(rank, 1), n) - 1]


@dataclass(frozen=True)
class Summary:
    """Latencies of one transition on one clock, in nanoseconds (None when n == 0)."""

    n: int
    missing: int = 0
    invalid: int = 0
    p50: int | None = None
    p95: int | None = None
    p99: int | None = None
    min: int | None = None
    max: int | None = None
    avg: float | None = None

    def value(self, metric: str) -> float | None:
        """The named statistic (p50, p95, p99, min, max, avg) in nanoseconds."""
        raw: float | int | None = getattr(self, metric.lower())
        return None if raw is None else float(raw)


def summarize(values_ns: Iterable[int], missing: int = 0, invalid: int = 0) -> Summary:
    """Summary of valid latencies (ns); ``missing``/``invalid`` are counts reported alongside."""
    ordered = sorted(values_ns)
    if not ordered:
        return Summary(0, missing, invalid)
    p50, p95, p99 = (nearest_rank(ordered, p) for p in PERCENTILES)
    return Summary(
        n=len(ordered),
        missing=missing,
        invalid=invalid,
        p50=p50,
        p95=p95,
        p99=p99,
        min=ordered[0],
        max=ordered[-1],
        avg=sum(ordered) / len(ordered),
    )


def _seconds(ns: float | None) -> float:
    return math.nan if ns is None else ns / 1e9


def to_quantiles(name: str, summary: Summary, clock: str) -> Quantiles:
    """The test-API result type: seconds (float); NaN for every statistic when n == 0."""
    extra: dict[str, Any] = {}
    if "invalid" in _QUANTILE_FIELDS:
        extra["invalid"] = summary.invalid
    return Quantiles(
        name=name,
        n=summary.n,
        p50=_seconds(summary.p50),
        p95=_seconds(summary.p95),
        p99=_seconds(summary.p99),
        min=_seconds(summary.min),
        max=_seconds(summary.max),
        avg=_seconds(summary.avg),
        clock=clock,
        missing=summary.missing,
        **extra,
    )


def _ms(ns: float | None, clock: str) -> float | int | None:
    if ns is None:
        return None
    return to_ms(math.floor(ns), clock)


def summary_fields(summary: Summary, clock: str) -> dict[str, Any]:
    """kube-burner's P99/P95/P50/min/max/avg (ms; null when n == 0) plus n/missing/invalid."""
    return {
        "P99": _ms(summary.p99, clock),
        "P95": _ms(summary.p95, clock),
        "P50": _ms(summary.p50, clock),
        "min": _ms(summary.min, clock),
        "max": _ms(summary.max, clock),
        "avg": _ms(summary.avg, clock),
        "n": summary.n,
        "missing": summary.missing,
        "invalid": summary.invalid,
    }


def quantile_document(
    quantile_name: str,
    summary: Summary,
    clock: str,
    *,
    prefix: str,
    uuid: str,
    job_name: str,
    metadata: dict[str, Any],
    timestamp_ns: int,
    operation: str = "create",
    other: Summary | None = None,
) -> dict[str, Any]:
    """One ``<prefix>QuantilesMeasurement`` document (values in ms on ``clock``)."""
    doc: dict[str, Any] = {"quantileName": quantile_name, "uuid": uuid}
    doc.update(summary_fields(summary, clock))
    doc.update(
        {
            "timestamp": format_ts(timestamp_ns),
            "metricName": f"{prefix}QuantilesMeasurement",
            "jobName": job_name,
            "metadata": dict(metadata),
            "clock": clock,
            "operation": operation,
        }
    )
    if other is not None:
        other_clock = "server" if clock == "client" else "client"
        doc[f"{other_clock}Quantiles"] = summary_fields(other, other_clock)
    return doc
