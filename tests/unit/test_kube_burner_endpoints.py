"""kube-burner ``metricsEndpoints`` with Prometheus metrics and alert profiles: loading rules."""

from __future__ import annotations

from pathlib import Path

import pytest

from pytest_kubevirt_burner.compat.kb_metrics import KbEndpoints, PrometheusEndpointError, redact
from pytest_kubevirt_burner.compat.kube_burner import (
    KubeBurnerConfig,
    KubeBurnerConfigError,
    load,
)

UUID = "0a1b2c3d-0000-4000-8000-000000000000"
JOBS = """\
jobs:
- name: density
  jobIterations: 1
  objects:
  - objectTemplate: pod.yml
    replicas: 1
"""
METRICS = "- query: sum(apiserver_request_total)\n  metricName: apiRequests\n"
ALERTS = "- expr: up > 0\n  description: up is {{$value}}\n  severity: error\n"


def _files(tmp_path: Path) -> None:
    (tmp_path / "pod.yml").write_text("apiVersion: v1\nkind: Pod\nmetadata: {name: p}\n")
    (tmp_path / "profiles").mkdir(exist_ok=True)
    (tmp_path / "profiles" / "metrics.yml").write_text(METRICS)
    (tmp_path / "profiles" / "alerts.yml").write_text(ALERTS)


def _load(tmp_path: Path, endpoints: str) -> KubeBurnerConfig:
    _files(tmp_path)
    path = tmp_path / "config.yml"
    path.write_text("metricsEndpoints:\n" + endpoints + JOBS)
    return load(path, uuid=UUID, env={})


def _error(tmp_path: Path, endpoints: str) -> str:
    with pytest.raises(KubeBurnerConfigError) as info:
        _load(tmp_path, endpoints)
    message = str(info.value)
    assert "\n" not in message
    return message


def test_missing_profile_names_config_endpoint_and_file(tmp_path: Path) -> None:
    message = _error(
        tmp_path,
        "- indexer: {type: local}\n"
        "- endpoint: http://prom:9090\n  metrics: [profiles/metrics.yml, profiles/nope.yml]\n",
    )
    missing = tmp_path / "profiles" / "nope.yml"
    assert message == (
        f"{tmp_path / 'config.yml'}: metricsEndpoints[1]: metrics profile 'profiles/nope.yml'"
        f" not found ({missing})"
    )
    alert = _error(tmp_path, "- endpoint: http://prom:9090\n  alerts: [gone.yml]\n")
    assert "metricsEndpoints[0]: alert profile 'gone.yml' not found" in alert


def test_defaults_keep_tls_verification_on(tmp_path: Path) -> None:
    cfg = _load(
        tmp_path,
        "- endpoint: https://prom:9090\n  token: s3cr3t-token\n"
        "  metrics: [profiles/metrics.yml]\n  alerts: [profiles/alerts.yml]\n"
        "- endpoint: https://user:pw@other:9090\n  username: me\n  password: hunter2\n"
        "  skipTLSVerify: true\n  step: 1000000000\n  alias: second\n"
        "  alerts: [profiles/alerts.yml]\n"
        "- endpoint: http://unused:9090\n  indexer: {type: local}\n",
    )
    first, second = cfg.prometheus
    assert (first.step, first.verify, first.alias, first.label) == (
        30.0,
        True,
        "indexer-0",
        "metricsEndpoints[0]",
    )
    assert first.metrics == (tmp_path / "profiles" / "metrics.yml",)
    assert first.token == "s3cr3t-token" and "s3cr3t" not in repr(first)
    assert (second.step, second.verify, second.label) == (
        1.0,
        False,
        "metricsEndpoints[1] (second)",
    )
    assert second.metrics == () and "hunter2" not in repr(second)
    assert redact(f"{second.url} said hunter2", second) == "https://user:***@other:9090 said ***"


@pytest.mark.parametrize(
    "endpoint,expected",
    [
        ("- metrics: [profiles/metrics.yml]\n", "'endpoint' (an http:// or https:// Prometheus"),
        (
            "- endpoint: http://p\n  skipTLSVerify: 'no'\n  alerts: [profiles/alerts.yml]\n",
            "'skipTLSVerify' must be true or false",
        ),
        ("- endpoint: http://p\n  step: 0s\n  alerts: [profiles/alerts.yml]\n", "'step' must be"),
        ("- endpoint: http://p\n  step: soon\n  alerts: [profiles/alerts.yml]\n", "'step': "),
        ("- endpoint: http://p\n  metrics: profiles/metrics.yml\n", "must be a list of file"),
        ("- endpoint: http://p\n  metrics: [https://x/m.yml]\n", "profile URL 'https://x/m.yml'"),
        ("- endpoint: http://p\n  metric: []\n", "unknown key 'metric'; did you mean 'metrics'?"),
    ],
)
def test_endpoint_problems_are_one_line(tmp_path: Path, endpoint: str, expected: str) -> None:
    message = _error(tmp_path, endpoint)
    assert message.startswith(f"{tmp_path / 'config.yml'}: metricsEndpoints[0]: ")
    assert expected in message


def test_invalid_profile_is_reported_at_load(tmp_path: Path) -> None:
    (tmp_path / "bad.yml").write_text("- expr: up\n  description: d\n  severity: loud\n")
    message = _error(tmp_path, "- endpoint: http://p\n  alerts: [bad.yml]\n")
    assert message.startswith(f"{tmp_path / 'config.yml'}: metricsEndpoints[0]: {tmp_path}/bad.yml")
    assert "entry number 1: severity 'loud' is not one of" in message


def test_unreachable_prometheus_is_one_line_without_secrets(tmp_path: Path) -> None:
    cfg = _load(
        tmp_path,
        "- endpoint: http://127.0.0.1:1\n  token: s3cr3t-token\n"
        "  metrics: [profiles/metrics.yml]\n",
    )
    endpoints = KbEndpoints(cfg.prometheus)
    with pytest.raises(PrometheusEndpointError) as info:
        endpoints.start(tmp_path / "m", UUID)
    assert str(info.value) == (
        "metricsEndpoints[0]: Prometheus at http://127.0.0.1:1 is unreachable: connection refused"
    )
    assert endpoints.pipelines == []
