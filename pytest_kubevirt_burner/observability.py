"""Session glue for Prometheus metrics and alert profiles and Elasticsearch indexing."""

from __future__ import annotations

import contextlib
import os
from pathlib import Path
from typing import Any

import pytest

from .durations import parse_duration
from .indexers.base import Preparer
from .indexers.select import AutoIndexer
from .metrics.collect import JobWindow
from .metrics.pipeline import JobObservation, ObservabilityPipeline, SessionObservation
from .metrics.profiles import ProfileError
from .metrics.prometheus import PrometheusClient, PrometheusError
from .options import ObservabilityOptions
from .results import JobResult


class Observability:
    """Builds the pipeline from the resolved options; runs it after every job and at session end."""

    def __init__(self, options: ObservabilityOptions, prepare: Preparer | None = None) -> None:
        self.options = options
        self.prepare = prepare
        self.pipeline: ObservabilityPipeline | None = None
        self._prometheus: PrometheusClient | None = None
        self._process: Any = None
        self._es: Any = None
        self.finished: SessionObservation | None = None
        self.warnings: list[str] = []
        self.stop_reason = ""

    @property
    def wanted(self) -> bool:
        """Whether any metrics, alert or Elasticsearch option was given."""
        return self.options.wanted

    def start(
        self, metrics_dir: Path, uuid: str, metadata: dict[str, Any], sim_url: str | None
    ) -> None:
        """Connect Prometheus and Elasticsearch and load the profiles; UsageError when wrong."""
        o = self.options
        profiles = [Path(p) for p in o.metrics_profiles]
        alerts = [Path(p) for p in o.alert_profiles]
        for flag, paths in (("--metrics-profile", profiles), ("--alert-profile", alerts)):
            for path in paths:
                if not path.is_file():
                    raise pytest.UsageError(f"{flag}: {path}: no such file")
        try:
            step = parse_duration(o.prometheus_step)
        except ValueError as exc:
            raise pytest.UsageError(f"--prometheus-step: {exc}") from None
        try:
            self._prometheus = self._connect_prometheus(sim_url)
            self._es = self._connect_es()
            self.pipeline = ObservabilityPipeline(
                metrics_dir,
                uuid,
                prometheus=self._prometheus,
                metrics_profiles=profiles,
                alert_profiles=alerts,
                step=step,
                es=self._es,
                metadata=metadata,
                env=dict(os.environ),
                prepare=self.prepare,
            )
        except (ProfileError, PrometheusError, ValueError) as exc:
            self.close()
            raise pytest.UsageError(str(exc).splitlines()[0]) from None
        if (profiles or alerts) and self._prometheus is None:
            self.close()
            raise pytest.UsageError(
                "--metrics-profile/--alert-profile need --prometheus-url (or --kube-sim with "
                "--kube-sim-prometheus)"
            )

    def _connect_prometheus(self, sim_url: str | None) -> PrometheusClient | None:
        o = self.options
        url = o.prometheus_url
        if o.kube_sim_prometheus:
            if sim_url is None:
                raise ValueError("--kube-sim-prometheus: needs --kube-sim")
            from .metrics.promserver import PrometheusProcess, PrometheusProcessError

            try:
                self._process = PrometheusProcess([sim_url]).start()
                self._process.wait_for_data()
            except PrometheusProcessError as exc:
                raise ValueError(f"--kube-sim-prometheus: {exc}") from None
            url = self._process.url
        if not url:
            return None
        client = PrometheusClient(
            url,
            token=o.prometheus_token or os.environ.get("PROMETHEUS_TOKEN"),
            username=o.prometheus_username,
            password=os.environ.get("PROMETHEUS_PASSWORD"),
            ca_file=o.prometheus_ca_cert,
            verify=not o.prometheus_skip_tls_verify,
        )
        client.check()
        return client

    def _connect_es(self) -> Any:
        o = self.options
        if not o.es_server:
            return None
        try:
            return AutoIndexer(
                [o.es_server],
                o.es_index,
                verify=not o.es_skip_tls_verify,
                ca_certs=o.es_ca_cert,
            )
        except ValueError as exc:
            raise ValueError(f"--es-index: {exc}") from None

    def job_finished(self, result: JobResult) -> JobObservation | None:
        """Collect metrics and alerts for the job's window (start to end after job_pause)."""
        if self.pipeline is None or result.dry_run or not result.started_at:
            return None
        window = JobWindow(
            result.job_name,
            result.started_at,
            result.finished_at,
            result.uuid,
            {},
            result.churn_started_at,
            result.churn_ended_at,
        )
        obs = self.pipeline.job_finished(window)
        self.warnings.extend(obs.warnings)
        if obs.stop_session and not self.stop_reason:
            self.stop_reason = f"critical alert in {result.job_name}: " + "; ".join(
                obs.failing_descriptions
            )
        return obs

    def finish(self) -> SessionObservation | None:
        """Index the session's files into Elasticsearch (idempotent)."""
        if self.pipeline is not None and self.finished is None:
            self.finished = done = self.pipeline.finish()
            where = self.es_where
            for line in done.warnings:
                if done.es_failed and line.startswith(f"{done.es_failed} documents not indexed"):
                    line = (
                        f"{where}: {line.rstrip(';')}; every document stays in"
                        f" {self.pipeline.directory} (re-index: python -m pytest_kubevirt_burner"
                        f" index {self.pipeline.directory} --es-server URL --es-index"
                        f" {getattr(self._es, 'index', 'NAME')})"
                    )
                self.warnings.append(line)
        return self.finished

    @property
    def es_where(self) -> str:
        """The search server and index (never credentials), for messages."""
        return str(getattr(self._es, "where", "search server"))

    @property
    def failed_documents(self) -> int:
        """Documents the search server did not take (0 when every one was indexed)."""
        return self.finished.es_failed if self.finished is not None else 0

    def close(self) -> None:
        """Release connections and stop an embedded Prometheus."""
        for thing in (self._prometheus, self._es):
            if thing is not None:
                with contextlib.suppress(Exception):
                    thing.close()
        if self._process is not None:
            with contextlib.suppress(Exception):
                self._process.stop()
            self._process = None
