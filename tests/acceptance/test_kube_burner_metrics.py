"""kube-burner configs with Prometheus metrics and alert profiles, against a real Prometheus."""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from pytest_kubevirt_burner.measurements.writer import read_json_array
from pytest_kubevirt_burner.metrics.promserver import PrometheusProcess
from pytest_kubevirt_burner.sim.process import SimProcess

from ..inner import run_inner

pytestmark = pytest.mark.skipif(
    shutil.which("prometheus") is None,
    reason="prometheus is not installed: apt-get install prometheus",
)

UUID = "5eed0000-0000-4000-8000-00000000cafe"
TOKEN = "tok-never-printed-0123456789"
POD = """\
apiVersion: v1
kind: Pod
metadata:
  name: p-{{.Iteration}}-{{.Replica}}
spec:
  containers:
  - name: c
    image: registry.k8s.io/pause:3.9
"""
JOB = """\
- name: {name}
  jobIterations: 1
  qps: 20
  burst: 20
  namespace: {name}
  preLoadImages: false{extra}
  objects:
  - objectTemplate: pod.yml
    replicas: 2
"""
METRICS = """\
- query: sum(apiserver_request_total) by (verb)
  metricName: apiRequests
- query: sum(apiserver_request_total)
  metricName: apiRequestsTotal
  instant: true
- query: absent_metric_for_the_test
  metricName: emptyOne
  instant: true
"""
ALERTS = """\
- expr: sum(apiserver_request_total) > 0
  description: API requests seen ({{{{$value}}}})
  severity: {severity}
- expr: vector(1)
  description: always a warning
  severity: warning
"""


@pytest.fixture(scope="module")
def prometheus(
    sim: SimProcess, core: Any, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[str]:
    """A Prometheus scraping the module's simulator every second; its URL."""
    prom = PrometheusProcess([sim.url], workdir=tmp_path_factory.mktemp("prom"))
    try:
        prom.start()
        core.list_namespace()  # a request, so that apiserver_request_total has a series
        prom.wait_for_data("apiserver_request_total")
        yield prom.url
    finally:
        prom.stop()


def _config(tmp_path: Path, endpoint: str, jobs: str, severity: str = "error") -> Path:
    base = tmp_path / "cfg"
    (base / "profiles").mkdir(parents=True)
    (base / "pod.yml").write_text(POD)
    (base / "profiles" / "metrics.yml").write_text(METRICS)
    (base / "profiles" / "alerts.yml").write_text(ALERTS.format(severity=severity))
    path = base / "config.yml"
    path.write_text(
        "metricsEndpoints:\n"
        f"- endpoint: {endpoint}\n"
        f"  token: {TOKEN}\n"
        "  metrics: [profiles/metrics.yml]\n"
        "  alerts: [profiles/alerts.yml]\n"
        "  indexer: {type: local}\n"
        "jobs:\n" + jobs
    )
    return path


def _run(pytester: pytest.Pytester, sim: SimProcess, cfg: Path, metrics: Path) -> Any:
    return run_inner(
        pytester, sim, metrics, "--burner-uuid", UUID, "--kube-burner-config", str(cfg), "-rA"
    )


def test_metrics_and_error_alert_of_a_job(
    pytester: pytest.Pytester, sim: SimProcess, prometheus: str, tmp_path: Path
) -> None:
    # the pause lets Prometheus scrape the job's own requests inside its window
    cfg = _config(tmp_path, prometheus, JOB.format(name="kb-prom", extra="\n  jobPause: 2s"))
    metrics = tmp_path / "m"
    result = _run(pytester, sim, cfg, metrics)
    result.assert_outcomes(failed=1)
    result.stdout.fnmatch_lines(["*alert: API requests seen (*)*"])
    out = result.stdout.str() + result.stderr.str()
    assert TOKEN not in out
    lines = result.stdout.lines
    assert any(
        "metricsEndpoints[0]: job kb-prom: metric emptyOne: query returned no data:" in line
        for line in lines
    )
    assert any("metricsEndpoints[0]: job kb-prom: alerts fired: 1 warning" in li for li in lines)

    by_verb = read_json_array(metrics / "apiRequests.json")
    assert by_verb and {d["metricName"] for d in by_verb} == {"apiRequests"}
    assert {d["jobName"] for d in by_verb} == {"kb-prom"} and {d["uuid"] for d in by_verb} == {UUID}
    assert {"POST", "GET"} <= {d["labels"]["verb"] for d in by_verb}
    assert by_verb[0]["query"] == "sum(apiserver_request_total) by (verb)"
    assert by_verb[0]["metadata"]["totalNodes"] == 3
    (total,) = read_json_array(metrics / "apiRequestsTotal.json")
    assert total["metricName"] == "apiRequestsTotal" and total["value"] > 0
    assert total["jobName"] == "kb-prom" and "labels" not in total
    assert not (metrics / "emptyOne.json").exists() or not read_json_array(
        metrics / "emptyOne.json"
    )
    alerts = read_json_array(metrics / "alert.json")
    assert sorted((a["severity"], a["jobName"], a["metricName"]) for a in alerts) == [
        ("error", "kb-prom", "alert"),
        ("warning", "kb-prom", "alert"),
    ]
    error = next(a for a in alerts if a["severity"] == "error")
    assert error["description"].startswith("API requests seen (") and error["uuid"] == UUID
    (summary,) = read_json_array(metrics / "jobSummary.json")
    assert summary["jobName"] == "kb-prom"


def test_critical_alert_stops_the_remaining_jobs(
    pytester: pytest.Pytester, sim: SimProcess, prometheus: str, tmp_path: Path
) -> None:
    jobs = (
        JOB.format(name="kb-quiet", extra="\n  skipIndexing: true")
        + JOB.format(name="kb-crit", extra="")
        + JOB.format(name="kb-after", extra="")
    )
    metrics = tmp_path / "m"
    result = _run(pytester, sim, _config(tmp_path, prometheus, jobs, "critical"), metrics)
    result.assert_outcomes(passed=1, failed=1, skipped=1)
    result.stdout.fnmatch_lines(
        [
            "*alert: API requests seen (*)*",
            "*kube-burner jobs stopped: critical alert in job kb-crit: API requests seen (*",
        ]
    )
    alerts = read_json_array(metrics / "alert.json")
    assert {a["jobName"] for a in alerts} == {"kb-crit"}  # skipIndexing: not evaluated
    assert {d["jobName"] for d in read_json_array(metrics / "apiRequests.json")} == {"kb-crit"}


def test_unreachable_prometheus_stops_before_anything_is_created(
    pytester: pytest.Pytester, sim: SimProcess, core: Any, tmp_path: Path
) -> None:
    cfg = _config(tmp_path, "http://127.0.0.1:1", JOB.format(name="kb-noprom", extra=""))
    result = _run(pytester, sim, cfg, tmp_path / "m")
    assert result.ret == pytest.ExitCode.USAGE_ERROR
    assert (
        f"ERROR: --kube-burner-config: {cfg}: metricsEndpoints[0]: Prometheus at "
        "http://127.0.0.1:1 is unreachable: connection refused"
    ) in result.stderr.lines
    assert TOKEN not in result.stdout.str() + result.stderr.str()
    assert core.list_namespace(label_selector="kube-burner.io/job=kb-noprom").items == []
