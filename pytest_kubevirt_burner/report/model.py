"""What the reports show about one job: results, quantiles, SLO verdicts, files of the run."""

from __future__ import annotations

import math
import threading
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest

from ..measurements.recorder import JOB_SUMMARY_FILE, REGISTRY
from ..measurements.writer import read_json_array
from ..results import JobResult, Quantiles, SloVerdict
from ..stashkeys import SESSION_KEY

Doc = dict[str, Any]

RESULTS_KEY = pytest.StashKey[list[JobResult]]()
"""``item.stash[RESULTS_KEY]``: the JobResults of one test (``burner.results``)."""

MEASUREMENT_OF_PREFIX = {cls.prefix: name for name, cls in REGISTRY.items()}
STATS = ("P50", "P95", "P99", "min", "max", "avg")
MAIN_KEYS = ("vmiLatency.VMIRunning", "podLatency.Ready")


def fmt_s(value: float | None, unit: bool = True) -> str:
    """Seconds for humans: ``41.0s``, ``1.23s``, ``0.0123s``; ``-`` when unknown."""
    if value is None or math.isnan(value):
        return "-"
    if math.isinf(value):
        return "inf"
    text = f"{value:.1f}" if abs(value) >= 10 else f"{value:#.3g}"
    return text + ("s" if unit else "")


def fmt_table_s(value: float | None) -> str:
    """Seconds with three decimals for aligned tables; ``-`` when unknown."""
    if value is None or math.isnan(value):
        return "-"
    return f"{value:.3f}"


@dataclass(frozen=True)
class QStats:
    """One quantile row in seconds (NaN when the run had no samples)."""

    key: str
    n: int
    missing: int
    values: Mapping[str, float]  # P50, P95, P99, min, max, avg
    clock: str = "client"
    invalid: int = 0  # negative latencies among the n samples

    def n_text(self) -> str:
        """``n`` with the samples it leaves out or flags: ``48 (2 missing, 1 invalid)``."""
        notes = [f"{c} {w}" for c, w in ((self.missing, "missing"), (self.invalid, "invalid")) if c]
        return f"{self.n} ({', '.join(notes)})" if notes else str(self.n)

    def get(self, stat: str) -> float:
        """The named statistic (``P99``, ``max``...) in seconds, NaN when absent."""
        return self.values.get(stat, math.nan)

    @classmethod
    def from_quantiles(cls, key: str, q: Quantiles) -> QStats:
        """From the test API's Quantiles."""
        values = {
            "P50": q.p50,
            "P95": q.p95,
            "P99": q.p99,
            "min": q.min,
            "max": q.max,
            "avg": q.avg,
        }
        return cls(key, q.n, q.missing, values, q.clock, q.invalid)

    @classmethod
    def from_fields(cls, key: str, doc: Mapping[str, Any], clock: str) -> QStats:
        """From a quantile document's P99/P95/P50/min/max/avg fields (milliseconds)."""
        values = {}
        for stat in STATS:
            raw = doc.get(stat)
            values[stat] = float(raw) / 1000 if isinstance(raw, int | float) else math.nan
        n, missing = int(doc.get("n") or 0), int(doc.get("missing") or 0)
        return cls(key, n, missing, values, clock, int(doc.get("invalid") or 0))


def quantile_key(doc: Mapping[str, Any]) -> str | None:
    """``<measurement>[.<op>].<quantileName>`` of a quantile document (None if it is not one)."""
    metric = str(doc.get("metricName", ""))
    if not metric.endswith("QuantilesMeasurement") or "quantileName" not in doc:
        return None
    prefix = metric[: -len("QuantilesMeasurement")]
    measurement = MEASUREMENT_OF_PREFIX.get(prefix, prefix)
    op = str(doc.get("operation") or "create")
    middle = "" if op == "create" else f"{op}."
    return f"{measurement}.{middle}{doc['quantileName']}"


def quantiles_from_docs(docs: Iterable[Mapping[str, Any]]) -> dict[str, dict[str, QStats]]:
    """``{clock: {key: QStats}}`` from quantile documents (both clocks when present)."""
    out: dict[str, dict[str, QStats]] = {"client": {}, "server": {}}
    for doc in docs:
        key = quantile_key(doc)
        if key is None:
            continue
        clock = str(doc.get("clock") or "client")
        out.setdefault(clock, {})[key] = QStats.from_fields(key, doc, clock)
        for other in ("client", "server"):
            sub = doc.get(f"{other}Quantiles")
            if other != clock and isinstance(sub, Mapping):
                out.setdefault(other, {})[key] = QStats.from_fields(key, sub, other)
    return out


def safe_read(path: Path) -> list[Doc]:
    """The documents of a result file; [] when it is absent or unreadable."""
    try:
        return read_json_array(path) if path.is_file() else []
    except (OSError, ValueError):
        return []


def quantile_files(directory: Path, job: str) -> list[Path]:
    """Every ``<prefix>QuantilesMeasurement-<job>.json`` of ``job`` in ``directory``."""
    return sorted(directory.glob(f"*QuantilesMeasurement-{job}.json"))


def job_summaries(directory: Path) -> dict[str, Doc]:
    """``jobName -> jobSummary document`` of a metrics directory."""
    return {str(d.get("jobName")): d for d in safe_read(directory / JOB_SUMMARY_FILE)}


def object_documents(directory: Path, job: str, uuid: str | None = None) -> dict[str, list[Doc]]:
    """``measurement -> per-object documents`` of ``job`` (only run ``uuid`` when given)."""
    out: dict[str, list[Doc]] = {}
    for prefix, name in MEASUREMENT_OF_PREFIX.items():
        docs = safe_read(directory / f"{prefix}Measurement-{job}.json")
        if uuid is not None:
            docs = [d for d in docs if d.get("uuid") in (None, uuid)]
        if docs:
            out[name] = docs
    return out


def transitions_of(measurement: str) -> tuple[tuple[str, str], ...]:
    """(quantileName, document field) pairs of ``measurement`` (empty when unknown)."""
    cls = REGISTRY.get(measurement)
    return cls.transitions if cls is not None else ()


@dataclass(frozen=True)
class SloEntry:
    """One SLO outcome: ``verdict`` is pass, fail (gate breached) or warn (report mode)."""

    key: str
    verdict: str
    line: str
    detail: SloVerdict | None = None  # the structured verdict (threshold, value, margin...)
    stat: str = ""  # P99, P50, max... ("" when unknown)
    threshold: float | None = None  # seconds
    value: float | None = None  # seconds (inf: not reached by every object)

    @classmethod
    def of(cls, v: SloVerdict) -> SloEntry:
        """The entry rendering one of a JobResult's verdicts."""
        verdict = "pass" if v.passed else "fail" if v.mode == "gate" else "warn"
        return cls(v.key, verdict, v.line, v, v.metric, v.threshold, v.value)


def slo_entries(result: JobResult) -> list[SloEntry]:
    """The SLO outcomes of ``result``, passed ones too (as the job judged them)."""
    return [SloEntry.of(v) for v in result.slo_verdicts]


@dataclass
class JobComparison:
    """The comparison of one job with the baseline run."""

    job: str
    rows: list[tuple[str, str, float, float]] = field(default_factory=list)  # key, stat, old, new
    regressions: list[str] = field(default_factory=list)
    refused: str = ""
    note: str = ""


@dataclass
class JobView:
    """Everything the reports show about one job of one test."""

    nodeid: str
    result: JobResult
    quantiles: dict[str, QStats]
    summary: Doc | None
    slos: list[SloEntry]
    comparison: JobComparison | None = None
    outcome: str = ""

    @property
    def name(self) -> str:
        """The job's name."""
        return self.result.job_name

    def main_key(self) -> str | None:
        """The headline transition: VMIRunning for VMs, pod Ready for pods, else the first."""
        for key in MAIN_KEYS:
            if key in self.quantiles:
                return key
        return next(iter(self.quantiles), None)

    def reasons(self) -> list[str]:
        """Why the job failed (empty when it passed)."""
        r = self.result
        out = list(dict.fromkeys(r.errors))
        out += [s.line for s in self.slos if s.verdict == "fail" and s.line not in out]
        if r.job_type == "create" and not r.dry_run and not r.verified and not out:
            out.append(f"{r.job_name}: objects not verified")
        if self.comparison is not None:
            out += self.comparison.regressions
            if self.comparison.refused:
                out.append(self.comparison.refused)
        return out

    @property
    def verdict(self) -> str:
        """``pass`` or ``fail``."""
        return "fail" if self.reasons() else "pass"

    def slo_verdict(self) -> str:
        """``pass``, ``FAIL (n)``, ``warn (n)`` or ``-`` when the job has no SLO."""
        if not self.slos:
            return "-"
        failed = sum(1 for s in self.slos if s.verdict == "fail")
        warned = sum(1 for s in self.slos if s.verdict == "warn")
        return f"FAIL ({failed})" if failed else f"warn ({warned})" if warned else "pass"


def _current_quantiles(result: JobResult, directory: Path | None, clock: str) -> dict[str, QStats]:
    if directory is not None:
        docs = [
            d
            for p in quantile_files(directory, result.job_name)
            for d in safe_read(p)
            if d.get("uuid") in (None, result.uuid)
        ]
        by_clock = quantiles_from_docs(docs)
        rows = by_clock.get(clock) or {}
        merged = {**by_clock.get("client", {}), **by_clock.get("server", {}), **rows}
        if merged:
            return merged
    return {k: QStats.from_quantiles(k, q) for k, q in result.quantiles.items()}


def build_view(
    nodeid: str, result: JobResult, directory: Path | None, clock: str = "client"
) -> JobView:
    """The JobView of ``result``, reading the run's files from ``directory`` when given."""
    summary = None
    if directory is not None:
        doc = job_summaries(directory).get(result.job_name)
        summary = doc if doc is not None and doc.get("uuid") in (None, result.uuid) else None
    return JobView(
        nodeid, result, _current_quantiles(result, directory, clock), summary, slo_entries(result)
    )


def results_for(item: pytest.Item) -> list[JobResult]:
    """The test's JobResults: ``item.stash[RESULTS_KEY]``, else the ``burner`` fixture's."""
    stored = item.stash.get(RESULTS_KEY, None)
    if stored is not None:
        return list(stored)
    burner = getattr(item, "funcargs", {}).get("burner")
    results = getattr(burner, "results", None)
    return [r for r in results if isinstance(r, JobResult)] if isinstance(results, list) else []


VIEWS_KEY = pytest.StashKey[list[JobView]]()


class ReportState:
    """Every JobView of the session, in test order (thread-safe)."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._views: list[JobView] = []

    def add(self, views: Iterable[JobView]) -> None:
        """Record the views of one finished test."""
        with self._lock:
            self._views.extend(views)

    def views(self) -> list[JobView]:
        """A copy of every recorded view."""
        with self._lock:
            return list(self._views)


STATE_KEY = pytest.StashKey[ReportState]()


def run_settings(config: pytest.Config) -> tuple[Path | None, str]:
    """The session's metrics directory and latency clock (None, client without a session)."""
    session = config.stash.get(SESSION_KEY, None)
    if session is None:
        return None, "client"
    return Path(session.run.metrics_directory), str(session.run.latency_clock)


def views_for(item: pytest.Item) -> list[JobView]:
    """The JobViews of ``item``'s jobs, built once per test."""
    cached = item.stash.get(VIEWS_KEY, None)
    if cached is not None and len(cached) == len(results_for(item)):
        return cached
    directory, clock = run_settings(item.config)
    views = [build_view(item.nodeid, r, directory, clock) for r in results_for(item)]
    item.stash[VIEWS_KEY] = views
    return views


def steady_qps(result: JobResult, burst: int | None) -> float | None:
    """Creates per second after the limiter's initial burst (None when all fit in the burst).

    ``qps_achieved`` is every create over the span from the first to the last one; the first
    ``burst`` creates leave at once, so the steady rate is ``(N - burst) / span``.
    """
    total = result.total_created
    if result.qps_achieved <= 0 or total <= 0:
        return None
    spent = max(0, burst or 0)
    if total <= spent:
        return None
    return result.qps_achieved * (total - spent) / total


def burst_of(view: JobView) -> int | None:
    """The job's limiter burst from its jobConfig (None when unknown)."""
    raw = ((view.summary or {}).get("jobConfig") or {}).get("burst")
    return int(raw) if isinstance(raw, int | float) and not isinstance(raw, bool) else None


def invalid_samples(result: JobResult) -> int:
    """Samples dropped as invalid (negative or unordered timestamps), all quantiles."""
    return sum(int(getattr(q, "invalid", 0) or 0) for q in result.quantiles.values())
