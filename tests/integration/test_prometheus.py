"""Metrics and alert profiles against a real Prometheus (Debian 2.42).

Exact values come from a TSDB backfilled with promtool; plausibility checks come from a
Prometheus scraping the simulator at 1 s while the official kubernetes client creates load.
"""

from __future__ import annotations

import itertools
import json
import math
import re
import shutil
import socket
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from kubernetes import client, config

from pytest_kubevirt_burner.measurements.timeutil import parse_ts
from pytest_kubevirt_burner.metrics.collect import CollectStats, JobWindow, collect_metrics
from pytest_kubevirt_burner.metrics.pipeline import ObservabilityPipeline
from pytest_kubevirt_burner.metrics.profiles import load_metrics_profile
from pytest_kubevirt_burner.metrics.prometheus import PrometheusClient, PrometheusError
from pytest_kubevirt_burner.metrics.promserver import (
    PrometheusProcess,
    PrometheusProcessError,
    create_blocks,
)
from pytest_kubevirt_burner.sim.process import SimProcess

from ._simproc import namespace, pod, vm, wait_for

pytestmark = pytest.mark.skipif(
    shutil.which("prometheus") is None or shutil.which("promtool") is None,
    reason="prometheus is not installed: apt-get install prometheus",
)

BASE = (int(time.time()) // 60) * 60 - 3600  # one hour ago, whole minute
SECONDS = 300


def openmetrics() -> str:
    """A gauge (=i), a counter (+10/s) and a histogram (+10 obs/s: 5<=0.1, 3<=0.5, 2<=1)."""
    lines = ["# TYPE kb_gauge gauge"]
    lines += [f'kb_gauge{{ns="a"}} {i} {BASE + i}' for i in range(SECONDS + 1)]
    lines.append("# TYPE kb_requests counter")
    lines += [f"kb_requests_total {10 * i} {BASE + i}" for i in range(SECONDS + 1)]
    lines.append("# TYPE kb_latency_seconds histogram")
    for i in range(SECONDS + 1):
        for le, n in (("0.1", 5), ("0.5", 8), ("1.0", 10), ("+Inf", 10)):
            lines.append(f'kb_latency_seconds_bucket{{le="{le}"}} {n * i} {BASE + i}')
        lines.append(f"kb_latency_seconds_sum {3.0 * i} {BASE + i}")
        lines.append(f"kb_latency_seconds_count {10 * i} {BASE + i}")
    return "\n".join([*lines, "# EOF"]) + "\n"


@pytest.fixture(scope="module")
def backfilled(tmp_path_factory: pytest.TempPathFactory) -> Iterator[PrometheusClient]:
    """Prometheus serving known samples: no scraping, no waiting."""
    work = tmp_path_factory.mktemp("prom-backfill")
    create_blocks(openmetrics(), work / "data")
    prom = PrometheusProcess(workdir=work, storage=work / "data")
    try:
        prom.start()
        with PrometheusClient(prom.url) as c:
            yield c
    finally:
        prom.stop()


def profile(tmp_path: Path, text: str, name: str = "metrics.yml") -> Path:
    path = tmp_path / name
    path.write_text(text)
    return path


WINDOW = JobWindow(
    "density", BASE + 100.0, BASE + 193.0, "uuid-1", {"platform": "sim"},
    churn_start=BASE + 120.0, churn_end=BASE + 170.0,
)  # fmt: skip


def collect(
    prom: PrometheusClient, path: Path, step: float = 30.0
) -> tuple[dict[str, list[Any]], CollectStats]:
    stats = CollectStats()
    out: dict[str, list[Any]] = {}
    for batch in collect_metrics(prom, load_metrics_profile(path), WINDOW, step=step, stats=stats):
        out.setdefault(batch.metric_name, []).extend(batch.documents)
    return out, stats


def ts(doc: dict[str, Any]) -> float:
    """The document's timestamp as unix seconds."""
    ns = parse_ts(doc["timestamp"])
    assert ns is not None, doc["timestamp"]
    return ns / 1e9


def test_exact_documents_from_backfilled_data(backfilled: PrometheusClient, tmp_path: Path) -> None:
    path = profile(
        tmp_path,
        """
- query: kb_gauge
  metricName: gauge
- query: kb_gauge
  metricName: gaugeNow
  instant: true
  captureStart: true
- query: kb_requests_total - kb_requests_total offset {{.elapsed}}
  metricName: requestsInJob
  instant: true
- query: histogram_quantile(0.9, sum(rate(kb_latency_seconds_bucket[30s])) by (le))
  metricName: latencyP90
""",
    )
    docs, stats = collect(backfilled, path)
    gauge = docs["gauge"]
    # range points at start + k*30 s, then the instant top-up at the (unaligned) end
    assert [d["value"] for d in gauge] == [100.0, 130.0, 160.0, 190.0, 193.0]
    assert [ts(d) - BASE for d in gauge] == [100, 130, 160, 190, 193]
    assert [d.get("churnMetric", False) for d in gauge] == [False, True, True, False, False]
    assert gauge[0] == {
        "timestamp": gauge[0]["timestamp"],
        "labels": {"ns": "a"},
        "value": 100.0,
        "uuid": "uuid-1",
        "query": "kb_gauge",
        "metricName": "gauge",
        "jobName": "density",
        "metadata": {"platform": "sim"},
    }
    assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ", gauge[0]["timestamp"])
    assert [d["value"] for d in docs["gaugeNow"]] == [193.0]
    assert [d["value"] for d in docs["gaugeNow-start"]] == [100.0]
    assert docs["gaugeNow-start"][0]["metricName"] == "gaugeNow-start"
    (delta,) = docs["requestsInJob"]
    assert delta["value"] == 930.0 and delta["query"].endswith("offset 93s")
    assert "labels" not in delta
    assert {d["value"] for d in docs["latencyP90"]} == {0.75}
    assert stats.warnings == [] and stats.non_finite == 0


def test_aligned_window_needs_no_top_up(backfilled: PrometheusClient, tmp_path: Path) -> None:
    path = profile(tmp_path, "- query: kb_gauge\n  metricName: g\n")
    stats = CollectStats()
    window = JobWindow("j", BASE + 100.0, BASE + 190.0, "u")
    (batch,) = collect_metrics(backfilled, load_metrics_profile(path), window, step=30, stats=stats)
    assert [d["value"] for d in batch.documents] == [100.0, 130.0, 160.0, 190.0]


def test_non_finite_empty_and_invalid_queries_are_reported(
    backfilled: PrometheusClient, tmp_path: Path
) -> None:
    path = profile(
        tmp_path,
        """
- query: (kb_gauge * 0) / 0
  metricName: nan
  instant: true
- query: kb_gauge / 0
  metricName: inf
  instant: true
- query: kb_does_not_exist
  metricName: empty
- query: sum(kb_gauge
  metricName: broken
""",
    )
    docs, stats = collect(backfilled, path)
    assert [(d["value"], d["nonFiniteValue"]) for d in docs["nan"]] == [(0.0, "NaN")]
    assert [(d["value"], d["nonFiniteValue"]) for d in docs["inf"]] == [(0.0, "+Inf")]
    assert stats.non_finite == 2
    assert docs["empty"] == []
    assert len(stats.warnings) == 2
    assert "metric empty: query returned no data: kb_does_not_exist" in stats.warnings[0]
    assert "metric broken: Prometheus query 'sum(kb_gauge' failed (HTTP 400)" in stats.warnings[1]
    assert "parse error" in stats.warnings[1]
    with pytest.raises(PrometheusError) as exc:
        backfilled.query("sum(kb_gauge", BASE + 10)
    assert "\n" not in str(exc.value) and "unclosed left parenthesis" in str(exc.value)


def test_alerts_and_pipeline_files(backfilled: PrometheusClient, tmp_path: Path) -> None:
    metrics = profile(tmp_path, "- query: kb_gauge\n  metricName: gauge\n")
    alerts = profile(
        tmp_path,
        """
- expr: kb_gauge > 150
  description: gauge {{$labels.ns}} at {{$value}}
  severity: error
- expr: kb_gauge > 120
  description: warn {{ $value }}
  severity: warning
- expr: kb_gauge > 100000
  description: never
  severity: critical
""",
        "alerts.yml",
    )
    out = tmp_path / "collected-metrics"
    pipeline = ObservabilityPipeline(
        out, "uuid-1", prometheus=backfilled, metrics_profiles=[metrics],
        alert_profiles=[alerts], step=30, metadata={"k8sVersion": "v1.31"},
    )  # fmt: skip
    obs = pipeline.job_finished(WINDOW)
    assert obs.alerts == {"info": 0, "warning": 1, "error": 1, "critical": 0}
    assert obs.failing_descriptions == ["gauge a at 160"]
    assert obs.stop_session is False
    assert obs.warnings == []
    alert_docs = json.loads((out / "alert.json").read_text())
    assert [(d["severity"], d["description"], ts(d) - BASE) for d in alert_docs] == [
        ("error", "gauge a at 160", 160),
        ("warning", "warn 130", 130),
    ]
    assert alert_docs[0]["metricName"] == "alert" and alert_docs[0]["churnMetric"] is True
    assert alert_docs[0]["metadata"] == {"platform": "sim", "k8sVersion": "v1.31"}
    later = JobWindow("second", BASE + 200.0, BASE + 260.0, "uuid-1")
    assert pipeline.job_finished(later).documents_written == 3 + 2  # aligned: no top-up
    gauge = json.loads((out / "gauge.json").read_text())
    assert [d["jobName"] for d in gauge] == ["density"] * 5 + ["second"] * 3
    assert obs.documents_written == 5 + 2


def test_critical_alert_stops_the_session(backfilled: PrometheusClient, tmp_path: Path) -> None:
    alerts = profile(
        tmp_path,
        "- expr: kb_requests_total > 0\n  description: 'critical: {{$value}}'\n"
        "  severity: critical\n",
        "alerts.yml",
    )
    pipeline = ObservabilityPipeline(
        tmp_path / "out", "u", prometheus=backfilled, alert_profiles=[alerts], step=30
    )
    obs = pipeline.job_finished(WINDOW)
    assert obs.stop_session is True
    assert obs.failing_descriptions == ["critical: 1000"]


def closed_port_url() -> str:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return f"http://127.0.0.1:{s.getsockname()[1]}"


def test_unreachable_prometheus_is_one_line(tmp_path: Path) -> None:
    url = closed_port_url()
    prom = PrometheusClient(url, token="sekret-token")
    assert "sekret" not in repr(prom)
    with pytest.raises(PrometheusError) as exc:
        prom.query_range("up", 0, 10, 1)
    assert str(exc.value) == f"Prometheus at {url} is unreachable: connection refused"
    metrics = profile(tmp_path, "- query: up\n  metricName: a\n- query: up\n  metricName: b\n")
    pipeline = ObservabilityPipeline(
        tmp_path / "o", "u", prometheus=prom, metrics_profiles=[metrics]
    )
    obs = pipeline.job_finished(JobWindow("j", 0, 10, "u"))
    assert obs.warnings == [f"job j: metrics not collected: {exc.value}"]
    assert all("sekret" not in w for w in obs.warnings)


def test_missing_binary_message(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PATH", "/nonexistent")
    with pytest.raises(
        PrometheusProcessError, match=r"^prometheus is not installed: apt-get install prometheus$"
    ):
        PrometheusProcess(["http://127.0.0.1:1"]).start()


# -- live: the simulator scraped every second ------------------------------------------------

NS = "prom-load"
PODS = 12
VMS = 3


@pytest.fixture(scope="module")
def live(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[SimProcess, PrometheusClient]]:
    """A simulator, a 1 s Prometheus scraping it, and one pod created before any window."""
    work = tmp_path_factory.mktemp("prom-live")
    sim = SimProcess(nodes=3, profile="fast", workdir=work / "sim")
    prom = PrometheusProcess([], workdir=work / "prom")
    try:
        sim.start()
        prom.targets = [sim.url]
        prom.start()
        api = config.new_client_from_config(config_file=str(sim.kubeconfig))
        api.configuration.retries = False
        core = client.CoreV1Api(api)
        core.create_namespace(namespace(NS))
        core.create_namespaced_pod(NS, pod("before"))
        prom.wait_for_data('apiserver_request_total{verb="POST",resource="pods"}')
        api.close()
        with PrometheusClient(prom.url) as c:
            yield sim, c
    finally:
        prom.stop()
        sim.cleanup()


def test_live_metrics_follow_the_load(
    live: tuple[SimProcess, PrometheusClient], tmp_path: Path
) -> None:
    sim, prom = live
    api = config.new_client_from_config(config_file=str(sim.kubeconfig))
    api.configuration.retries = False
    core, custom = client.CoreV1Api(api), client.CustomObjectsApi(api)
    time.sleep(1.2)  # a scrape after the fixture's requests
    start = time.time()
    for i in range(PODS):
        core.create_namespaced_pod(NS, pod(f"p{i}"))
    for i in range(VMS):
        custom.create_namespaced_custom_object(
            "kubevirt.io", "v1", NS, "virtualmachines", vm(f"vm{i}")
        )

    def vmis_running() -> bool:
        items = custom.list_namespaced_custom_object(
            "kubevirt.io", "v1", NS, "virtualmachineinstances"
        )["items"]
        return sum((v.get("status") or {}).get("phase") == "Running" for v in items) == VMS

    wait_for(vmis_running, timeout=20)
    api.close()
    time.sleep(2.5)  # let Prometheus scrape the final counters
    end = time.time()
    path = profile(
        tmp_path,
        """
- query: sum(apiserver_request_total{verb="POST",resource="pods"})
  metricName: podCreates
  instant: true
  captureStart: true
- query: sum(apiserver_request_total{verb="POST",resource="pods"})
  metricName: podCreatesRange
- query: >-
    histogram_quantile(0.99,
    sum(rate(apiserver_request_duration_seconds_bucket{verb="POST"}[5s])) by (le, resource))
  metricName: API99thWriteLatency
- query: >-
    histogram_quantile(0.5, sum(
    kubevirt_vmi_phase_transition_time_from_creation_seconds_bucket{phase="Running"}) by (le))
  metricName: vmiRunningP50
  instant: true
""",
    )
    alerts = profile(
        tmp_path,
        "- expr: sum by (apiserver) (apiserver_request_total) > 0\n"
        "  description: '{{$value}} requests served by {{$labels.apiserver}}'\n"
        "  severity: error\n",
        "alerts.yml",
    )
    out = tmp_path / "out"
    pipeline = ObservabilityPipeline(
        out, "live", prometheus=prom, metrics_profiles=[path], alert_profiles=[alerts], step=2
    )
    window = JobWindow("live-job", start, end, "live")
    obs = pipeline.job_finished(window)
    assert obs.alerts["error"] == 1
    (description,) = obs.failing_descriptions
    assert re.fullmatch(r"\d+ requests served by kube-apiserver", description), description

    def read(name: str) -> list[dict[str, Any]]:
        docs: list[dict[str, Any]] = json.loads((out / f"{name}.json").read_text())
        return docs

    (before,), (after,) = read("podCreates-start"), read("podCreates")
    assert after["value"] - before["value"] == PODS
    series = read("podCreatesRange")
    times = [ts(d) for d in series]
    assert all(start - 0.001 <= t <= end + 0.001 for t in times)
    gaps = {round(b - a, 3) for a, b in itertools.pairwise(times[:-1])}
    assert gaps == {2.0}
    if round((end - start) * 1000) % 2000:
        assert abs(times[-1] - end) < 0.002  # the instant top-up at the window end
    values = [d["value"] for d in series]
    assert values == sorted(values) and values[-1] - values[0] == PODS
    latency = [d for d in read("API99thWriteLatency") if d["labels"].get("resource") == "pods"]
    assert any(0 < d["value"] <= 60 and "nonFiniteValue" not in d for d in latency)
    (p50,) = read("vmiRunningP50")
    assert 0 < p50["value"] <= 0.5  # fast profile: Running within the first bucket
    assert not math.isnan(p50["value"])
