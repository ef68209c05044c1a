"""One orchestrator for the session: metrics and alerts per job, local files, ES at the end."""

from __future__ import annotations

import dataclasses
import threading
import time
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Protocol

from ..indexers.base import IndexResult, Preparer
from ..indexers.local import LocalIndexer, is_document_array
from .alerts import AlertVerdict, alert_documents, evaluate_alerts
from .collect import DEFAULT_STEP, CollectStats, JobWindow, collect_metrics
from .profiles import AlertRule, MetricQuery, load_alert_profile, load_metrics_profile
from .prometheus import PrometheusClient, PrometheusError

__all__ = ["FileIndexer", "JobObservation", "ObservabilityPipeline", "SessionObservation"]


class FileIndexer(Protocol):
    """A search-server indexer as the pipeline uses it (ElasticIndexer, AutoIndexer, ...)."""

    def index_files(
        self, paths: Iterable[Path], prepare: Preparer | None = None
    ) -> tuple[IndexResult, list[str]]:
        """Index every file; the total and one warning per damaged file."""
        ...


_MTIME_SLACK = 2.0  # file systems with coarse timestamps


@dataclass(slots=True)
class JobObservation:
    """What the metrics and alerts of one job mean for its test."""

    alerts: dict[str, int] = field(default_factory=dict)
    """Alerts fired, by severity."""
    failing_descriptions: list[str] = field(default_factory=list)
    """Rendered descriptions of error/critical alerts: the job's test fails with them."""
    stop_session: bool = False
    """A critical alert fired: do not run the remaining density jobs."""
    warnings: list[str] = field(default_factory=list)
    documents_written: int = 0


@dataclass(frozen=True, slots=True)
class SessionObservation:
    """Outcome of the end-of-session ES indexing."""

    es_indexed: int = 0
    es_failed: int = 0
    es_reason: str = ""
    warnings: list[str] = field(default_factory=list)


class ObservabilityPipeline:
    """Per job: alerts + metrics into local files; at the end: every result file into ES.

    Profiles are loaded (and validated) by the constructor, which raises ProfileError.
    ``prepare`` sees every batch of documents before it goes to ES.
    """

    def __init__(
        self,
        metrics_directory: Path,
        uuid: str,
        *,
        prometheus: PrometheusClient | None = None,
        metrics_profiles: Sequence[Path] = (),
        alert_profiles: Sequence[Path] = (),
        step: float = DEFAULT_STEP,
        es: FileIndexer | None = None,
        metadata: Mapping[str, Any] | None = None,
        env: Mapping[str, str] | None = None,
        prepare: Preparer | None = None,
    ) -> None:
        self.directory = Path(metrics_directory)
        self.uuid = uuid
        self.prometheus = prometheus
        self.step = step
        self.es = es
        self.prepare = prepare
        self.metadata = dict(metadata or {})
        self.env = env
        self.queries: list[MetricQuery] = [
            q for p in metrics_profiles for q in load_metrics_profile(p, env=env)
        ]
        self.rules: list[AlertRule] = [
            r for p in alert_profiles for r in load_alert_profile(p, env=env)
        ]
        self.local = LocalIndexer(self.directory)
        self.started = time.time()
        self._lock = threading.Lock()
        self._finished: SessionObservation | None = None

    def job_finished(self, window: JobWindow) -> JobObservation:
        """Evaluate alerts then metrics for ``window``; write ``alert.json``/``<metric>.json``."""
        if self.metadata:
            window = dataclasses.replace(window, metadata={**self.metadata, **window.metadata})
        obs = JobObservation()
        if not (self.queries or self.rules):
            return obs
        if self.prometheus is None:
            obs.warnings.append("metrics and alert profiles not evaluated: no Prometheus URL given")
            return obs
        with self._lock:
            try:
                verdict = self._alerts(window, obs)
            except PrometheusError as exc:
                obs.warnings.append(f"job {window.job_name}: alerts not evaluated: {exc}")
                verdict = AlertVerdict()
            try:
                self._metrics(window, obs)
            except PrometheusError as exc:
                obs.warnings.append(f"job {window.job_name}: metrics not collected: {exc}")
        obs.alerts = verdict.by_severity()
        obs.failing_descriptions = verdict.failing_descriptions
        obs.stop_session = verdict.stop_session
        return obs

    def _alerts(self, window: JobWindow, obs: JobObservation) -> AlertVerdict:
        assert self.prometheus is not None
        if not self.rules:
            return AlertVerdict()
        verdict = evaluate_alerts(self.prometheus, self.rules, window, step=self.step, env=self.env)
        obs.warnings.extend(verdict.warnings)
        if verdict.fired:
            obs.documents_written += self.local.append("alert", alert_documents(verdict, window))
        return verdict

    def _metrics(self, window: JobWindow, obs: JobObservation) -> None:
        assert self.prometheus is not None
        stats = CollectStats()
        try:
            for batch in collect_metrics(
                self.prometheus, self.queries, window, step=self.step, stats=stats, env=self.env
            ):
                obs.documents_written += self.local.append(batch.metric_name, batch.documents)
        finally:
            obs.warnings.extend(stats.warnings)
            if stats.non_finite:
                obs.warnings.append(
                    f"job {window.job_name}: {stats.non_finite} samples were NaN or Inf and were"
                    " indexed as 0 (flagged with nonFiniteValue)"
                )

    def session_files(self) -> list[Path]:
        """Result files written during this session (ours and the measurements')."""
        since = self.started - _MTIME_SLACK
        ours = set(self.local.written)
        out = []
        for path in self.local.files():
            try:
                fresh = path.stat().st_mtime >= since
            except OSError:
                continue
            if (fresh or path.name in ours) and is_document_array(path):
                out.append(path)
        return out

    def finish(self) -> SessionObservation:
        """Index every result file of the session into ES (streamed); idempotent."""
        with self._lock:
            if self._finished is not None:
                return self._finished
            if self.es is None:
                self._finished = SessionObservation()
                return self._finished
            result, warnings = self.es.index_files(self.session_files(), self.prepare)
            if result.failed:
                warnings.append(result.summary())
            self._finished = _session(result, warnings)
            return self._finished


def _session(result: IndexResult, warnings: list[str]) -> SessionObservation:
    return SessionObservation(result.indexed, result.failed, result.reason, warnings)
