"""Latency SLOs: ``@pytest.mark.slo`` and kube-burner ``thresholds`` parsed, validated, evaluated.

A breach is ``value > threshold`` (strictly greater, as kube-burner). Percentiles and max are
over the objects that reached the transition; objects that never reached it count as +infinity,
so a percentile whose rank falls among them (and max, with any of them) is breached as
"not reached". n == 0 is always a breach: an SLO cannot pass on no data.
"""

from __future__ import annotations

import difflib
import math
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from fractions import Fraction
from typing import Any

import pytest

from ..durations import parse_duration
from ..errors import JobSpecError
from ..results import Quantiles, SloVerdict
from .recorder import REGISTRY, quantile_names
from .vmi import OPERATIONS

METRICS = ("p50", "p95", "p99", "max", "avg")
LABEL = {"p50": "P50", "p95": "P95", "p99": "P99", "max": "Max", "avg": "Avg"}
KUBE_BURNER_METRICS = {"P99": "p99", "P95": "p95", "P50": "p50", "Avg": "avg", "Max": "max"}
MODES = ("gate", "report")
CLOCKS = ("client", "server")
MARKER_HELP = (
    'slo("<measurement>[.<operation>].<quantileName>", p50=..., p95=..., p99=..., max=..., '
    'avg=..., mode="gate"|"report", clock=None): latency SLO on the job of this test (values: '
    "Go durations or seconds); stackable"
)


class SloError(JobSpecError):
    """An SLO marker or threshold is invalid; one line naming what and where."""


@dataclass(frozen=True)
class Slo:
    """One latency objective on one quantile: thresholds per metric, in seconds."""

    measurement: str
    quantile: str
    thresholds: tuple[tuple[str, float], ...]
    operation: str | None = None
    mode: str = "gate"
    clock: str | None = None
    where: str = ""

    @property
    def key(self) -> str:
        """``<measurement>[.<operation>].<quantileName>`` as in JobResult.latency()."""
        op = f"{self.operation}." if self.operation else ""
        return f"{self.measurement}.{op}{self.quantile}"


def _suggest(word: str, valid: Iterable[str]) -> str:
    close = difflib.get_close_matches(word, list(valid), n=1, cutoff=0.5)
    return f" (did you mean '{close[0]}'?)" if close else ""


def parse_target(target: Any, where: str) -> tuple[str, str | None, str]:
    """``"vmiLatency.restart.VMIRunning"`` -> (measurement, operation or None, quantileName)."""
    if not isinstance(target, str) or not target:
        raise SloError(
            f"{where}: the target must be a string such as 'podLatency.Ready', got {target!r}"
        )
    parts = target.split(".")
    if len(parts) not in (2, 3) or not all(parts):
        raise SloError(
            f"{where}: target {target!r} must be '<measurement>.<quantileName>' or "
            "'<measurement>.<operation>.<quantileName>'"
        )
    measurement, quantile = parts[0], parts[-1]
    op = parts[1] if len(parts) == 3 else None
    if measurement not in REGISTRY:
        raise SloError(
            f"{where}: unknown measurement {measurement!r}"
            f"{_suggest(measurement, REGISTRY)}; valid: {', '.join(sorted(REGISTRY))}"
        )
    names = quantile_names(measurement)
    if quantile not in names:
        raise SloError(
            f"{where}: unknown quantileName {quantile!r} for {measurement}"
            f"{_suggest(quantile, names)}; valid: {', '.join(names)}"
        )
    if op is not None and op not in OPERATIONS:
        raise SloError(
            f"{where}: unknown operation {op!r} in {target!r}; valid: "
            f"{', '.join(sorted(OPERATIONS))}"
        )
    return measurement, op, quantile


def _seconds(where: str, key: str, value: Any) -> float:
    try:
        seconds = parse_duration(value)
    except ValueError as exc:
        raise SloError(f"{where}: '{key}': {exc}") from None
    if seconds < 0:
        raise SloError(f"{where}: '{key}' must not be negative, got {value!r}")
    return seconds


def build_slo(target: Any, kwargs: Mapping[str, Any], where: str) -> Slo:
    """Validate one marker's target and keyword arguments into an Slo."""
    measurement, op, quantile = parse_target(target, where)
    valid = (*METRICS, "mode", "clock")
    for key in kwargs:
        if key not in valid:
            raise SloError(
                f"{where}: unknown keyword {key!r}{_suggest(key, valid)}; valid: {', '.join(valid)}"
            )
    thresholds = tuple((m, _seconds(where, m, kwargs[m])) for m in METRICS if m in kwargs)
    if not thresholds:
        raise SloError(f"{where}: give at least one threshold ({', '.join(METRICS)})")
    mode = kwargs.get("mode", "gate")
    if mode not in MODES:
        raise SloError(f"{where}: 'mode' must be gate or report, got {mode!r}")
    clock = kwargs.get("clock")
    if clock is not None and clock not in CLOCKS:
        raise SloError(f"{where}: 'clock' must be client, server or None, got {clock!r}")
    return Slo(measurement, quantile, thresholds, op, str(mode), clock, where)


def slos_for_item(item: pytest.Item) -> list[Slo]:
    """Every ``@pytest.mark.slo`` on ``item`` (farthest first), validated; raises SloError."""
    out = []
    for mark in reversed(list(item.iter_markers("slo"))):
        where = f"{item.nodeid}: @pytest.mark.slo"
        if len(mark.args) != 1:
            raise SloError(
                f"{where}: takes exactly one positional target such as "
                f"'vmiLatency.VMIRunning', got {mark.args!r}"
            )
        out.append(build_slo(mark.args[0], mark.kwargs, where))
    return out


def slos_from_thresholds(measurement: str, thresholds: Iterable[Any], where: str) -> list[Slo]:
    """kube-burner's ``thresholds: [{conditionType, metric, threshold}]`` of one measurement."""
    out = []
    for i, entry in enumerate(thresholds):
        at = f"{where}: thresholds[{i}]"
        if not isinstance(entry, Mapping) or set(entry) != {"conditionType", "metric", "threshold"}:
            raise SloError(
                f"{at}: must be a mapping with conditionType, metric and threshold, got {entry!r}"
            )
        metric = entry["metric"]
        if metric not in KUBE_BURNER_METRICS:
            raise SloError(
                f"{at}: unknown metric {metric!r}; valid: {', '.join(KUBE_BURNER_METRICS)}"
            )
        slo = build_slo(
            f"{measurement}.{entry['conditionType']}",
            {KUBE_BURNER_METRICS[metric]: entry["threshold"]},
            at,
        )
        out.append(slo)
    return out


def format_seconds(seconds: float) -> str:
    """``72.4s``, ``250ms``, ``0s``: at most three decimals, trailing zeros trimmed."""
    if math.isinf(seconds):
        return "inf"
    if seconds == 0:
        return "0s"
    value, unit = (seconds, "s") if abs(seconds) >= 1 else (seconds * 1000, "ms")
    return f"{value:.3f}".rstrip("0").rstrip(".") + unit


@dataclass
class SloReport:
    """Every verdict of a job's SLOs; ``failed`` when a gate-mode SLO is breached."""

    verdicts: list[SloVerdict] = field(default_factory=list)

    @property
    def breaches(self) -> list[SloVerdict]:
        """Breached verdicts (gate and report mode)."""
        return [v for v in self.verdicts if v.breached]

    @property
    def failed(self) -> bool:
        """Whether a gate-mode SLO is breached."""
        return any(v.fails_job for v in self.verdicts)

    def lines(self, mode: str | None = None) -> list[str]:
        """One line per breach (optionally only those of ``mode``)."""
        return [v.line for v in self.breaches if mode is None or v.mode == mode]


def _unreached(q: Quantiles, metric: str) -> bool:
    if q.missing <= 0 or metric == "avg":
        return False
    if metric == "max":
        return True
    rank = math.ceil(Fraction(q.n + q.missing) * int(metric[1:]) / 100)
    return rank > q.n


def _verdict(
    slo: Slo,
    metric: str,
    threshold: float,
    q: Quantiles | None,
    clock: str,
    value: float | None,
    breached: bool,
    line: str,
) -> SloVerdict:
    margin = None if value is None else threshold - value
    return SloVerdict(
        measurement=slo.measurement,
        quantile=slo.quantile,
        metric=metric,
        threshold=threshold,
        value=value,
        passed=not breached,
        margin=margin,
        operation=slo.operation,
        mode=slo.mode,
        clock=clock,
        n=q.n if q is not None else 0,
        missing=q.missing if q is not None else 0,
        line=line,
    )


def _judge(slo: Slo, metric: str, threshold: float, q: Quantiles | None, clock: str) -> SloVerdict:
    head = f"{slo.key} {LABEL[metric]}"
    limit = format_seconds(threshold)
    if q is None or q.n == 0:
        missing = f", missing={q.missing}" if q is not None else ""
        line = f"{head}: no samples > {limit} (n=0{missing}, {clock} clock)"
        return _verdict(slo, metric, threshold, q, clock, None, True, line)
    counts = f"n={q.n}" + (f", missing={q.missing}" if q.missing else "") + f", {clock} clock"
    if _unreached(q, metric):
        line = (
            f"{head} = not reached by {q.missing} of {q.n + q.missing} objects > {limit} ({counts})"
        )
        return _verdict(slo, metric, threshold, q, clock, math.inf, True, line)
    value = float(getattr(q, metric))
    breached = round(value * 1e9) > round(threshold * 1e9)
    sign = ">" if breached else "<="
    line = f"{head} = {format_seconds(value)} {sign} {limit} ({counts})"
    return _verdict(slo, metric, threshold, q, clock, value, breached, line)


def evaluate(
    slos: Iterable[Slo],
    quantiles: Mapping[str, Mapping[str, Quantiles]],
    default_clock: str = "client",
) -> SloReport:
    """Judge ``slos`` against ``{"client": {key: Quantiles}, "server": {...}}``."""
    report = SloReport()
    for slo in slos:
        clock = slo.clock or default_clock
        q = quantiles.get(clock, {}).get(slo.key)
        if q is not None and q.clock != clock:  # e.g. pvcLatency has only the client clock
            clock = q.clock
        for metric, threshold in slo.thresholds:
            report.verdicts.append(_judge(slo, metric, threshold, q, clock))
    return report
