"""Prometheus metrics and alert profiles of a kube-burner config's ``metricsEndpoints``.

One ObservabilityPipeline per endpoint naming profiles: connected (and its profiles loaded)
before any job runs, then evaluated over every executed job's window. Documents go to the run's
metrics directory; Elasticsearch indexing is left to the end-of-session indexing of the config.
"""

from __future__ import annotations

import contextlib
import os
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from ..metrics.collect import JobWindow
from ..metrics.pipeline import ObservabilityPipeline
from ..metrics.profiles import ProfileError
from ..metrics.prometheus import PrometheusClient, PrometheusError
from ..results import JobResult
from .kube_burner import PromEndpoint

__all__ = ["KbEndpoints", "PrometheusEndpointError"]


class PrometheusEndpointError(Exception):
    """An endpoint cannot be used (unreachable, refused credentials, bad profile); one line."""


def redact(text: str, ep: PromEndpoint) -> str:
    """``text`` without the endpoint's token, password or URL password."""
    for secret in (ep.token, ep.password, urlsplit(ep.url).password):
        if secret:
            text = text.replace(secret, "***")
    return text


class KbEndpoints:
    """The config's Prometheus endpoints for one session."""

    def __init__(self, endpoints: Sequence[PromEndpoint], ca_file: str | None = None) -> None:
        self.endpoints = list(endpoints)
        self.ca_file = ca_file
        self.pipelines: list[tuple[PromEndpoint, ObservabilityPipeline]] = []
        self._clients: list[PrometheusClient] = []
        self.lines: list[str] = []
        """Warnings and non-failing alerts, for the terminal summary."""
        self.stop_reason = ""
        """Set by a critical alert: the remaining jobs do not run."""

    def start(self, directory: Path, uuid: str) -> None:
        """Connect every endpoint (``up{}``) and load its profiles; PrometheusEndpointError."""
        if self.pipelines or not self.endpoints:
            return
        for ep in self.endpoints:
            try:
                client = PrometheusClient(
                    ep.url,
                    token=ep.token,
                    username=ep.username,
                    password=ep.password,
                    ca_file=self.ca_file,
                    verify=ep.verify,
                )
                self._clients.append(client)
                client.check()
                pipeline = ObservabilityPipeline(
                    directory,
                    uuid,
                    prometheus=client,
                    metrics_profiles=ep.metrics,
                    alert_profiles=ep.alerts,
                    step=ep.step,
                    env=dict(os.environ),
                )
            except (PrometheusError, ProfileError) as exc:
                self.close()
                raise PrometheusEndpointError(redact(f"{ep.label}: {exc}", ep)) from None
            self.pipelines.append((ep, pipeline))

    def job_finished(self, result: JobResult, metadata: Mapping[str, Any]) -> list[str]:
        """Evaluate every endpoint over the job's window; ``alert: ...`` lines that fail it."""
        if result.dry_run or not result.started_at:
            return []
        window = JobWindow(
            result.job_name,
            result.started_at,
            result.finished_at,
            result.uuid,
            dict(metadata),
            result.churn_started_at,
            result.churn_ended_at,
        )
        failures: list[str] = []
        for ep, pipeline in self.pipelines:
            obs = pipeline.job_finished(window)
            self.lines.extend(redact(f"{ep.label}: {w}", ep) for w in obs.warnings)
            quiet = {s: n for s, n in obs.alerts.items() if n and s in ("info", "warning")}
            if quiet:
                counts = ", ".join(f"{n} {s}" for s, n in quiet.items())
                self.lines.append(f"{ep.label}: job {result.job_name}: alerts fired: {counts}")
            failures.extend(f"alert: {d}" for d in obs.failing_descriptions)
            if obs.stop_session and not self.stop_reason:
                self.stop_reason = f"critical alert in job {result.job_name}: " + "; ".join(
                    obs.failing_descriptions
                )
        return failures

    def files(self) -> list[Path]:
        """The metric and alert files written this session."""
        names = {name: p.directory for _, p in self.pipelines for name in p.local.written}
        return [directory / name for name, directory in sorted(names.items())]

    def close(self) -> None:
        """Close the Prometheus connections."""
        for client in self._clients:
            with contextlib.suppress(Exception):
                client.close()
        self._clients.clear()
