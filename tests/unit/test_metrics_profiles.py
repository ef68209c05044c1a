"""Metrics and alert profiles: strict keys, Go templating, one-line errors."""

from __future__ import annotations

from pathlib import Path

import pytest

from pytest_kubevirt_burner.metrics.collect import (
    CollectStats,
    JobWindow,
    effective_step,
    rfc3339,
    sample_value,
)
from pytest_kubevirt_burner.metrics.profiles import (
    ProfileError,
    alerts_elapsed,
    load_alert_profile,
    load_metrics_profile,
    metrics_elapsed,
)

EXAMPLES = Path("/work/shared/kube-burner-examples/metrics-profiles")


def write(tmp_path: Path, text: str, name: str = "profile.yaml") -> Path:
    path = tmp_path / name
    path.write_text(text)
    return path


def one_line_error(exc: pytest.ExceptionInfo[ProfileError]) -> str:
    message = str(exc.value)
    assert "\n" not in message
    return message


def test_metrics_profile_entries(tmp_path: Path) -> None:
    path = write(
        tmp_path,
        """
- query: sum(rate(apiserver_request_total{verb!="WATCH"}[2m])) by (verb) > 0
  metricName: APIRequestRate
- query: kube_node_role
  metricName: nodeRoles
  instant: true
- query: count(kube_pod_info)
  metricName: podCount
  instant: true
  captureStart: true
""",
    )
    queries = load_metrics_profile(path)
    assert [(q.metric_name, q.instant, q.capture_start) for q in queries] == [
        ("APIRequestRate", False, False),
        ("nodeRoles", True, False),
        ("podCount", True, True),
    ]
    assert queries[0].render(10) == (
        'sum(rate(apiserver_request_total{verb!="WATCH"}[2m])) by (verb) > 0'
    )


def test_elapsed_and_environment_are_rendered(tmp_path: Path) -> None:
    path = write(
        tmp_path,
        '- query: sum(increase(x{namespace=~"{{.NS}}.*"}[{{.elapsed}}]))\n  metricName: m\n',
    )
    env = {"NS": "density"}
    (q,) = load_metrics_profile(path, env=env)
    assert q.render(93.7, env) == 'sum(increase(x{namespace=~"density.*"}[93s]))'
    assert metrics_elapsed(93.7) == "93s"
    assert alerts_elapsed(93.7) == "1m"
    assert alerts_elapsed(59) == "0m"


@pytest.mark.parametrize(
    ("text", "needle"),
    [
        ("- query: up\n  metricName: m\n  instnat: true\n", "unknown key 'instnat'"),
        ("- metricName: m\n", "entry number 1: query not defined"),
        ("- query: up\n  metricName: a\n- query: up\n", "entry number 2: metricName not defined"),
        ("- query: up\n  metricName: m\n  instant: yes please\n", "instant must be true or false"),
        ("query: up\nmetricName: m\n", "must be a non-empty YAML list"),
        ("", "must be a non-empty YAML list"),
        ("- query: [up\n", "invalid YAML at line"),
        ("- query: sum({{ .elapsed )\n  metricName: m\n", "query of m"),
        ("- query: rate(x[{{.NOPE_NOT_SET}}])\n  metricName: m\n", "NOPE_NOT_SET"),
    ],
)
def test_invalid_metrics_profiles(tmp_path: Path, text: str, needle: str) -> None:
    path = write(tmp_path, text)
    with pytest.raises(ProfileError) as exc:
        load_metrics_profile(path, env={})
    message = one_line_error(exc)
    assert str(path) in message
    assert needle in message


def test_missing_file(tmp_path: Path) -> None:
    with pytest.raises(ProfileError) as exc:
        load_metrics_profile(tmp_path / "nope.yaml")
    assert "cannot read profile" in one_line_error(exc)


@pytest.mark.skipif(not EXAMPLES.is_dir(), reason="kube-burner example profiles not present")
@pytest.mark.parametrize("name", ["metrics.yaml", "kubevirt-metrics.yaml"])
def test_real_kube_burner_profiles_load(name: str) -> None:
    queries = load_metrics_profile(EXAMPLES / name)
    assert len(queries) > 20
    assert all(q.render(120) == q.query.strip() for q in queries)  # no templates inside


def test_alert_profile_and_descriptions(tmp_path: Path) -> None:
    path = write(
        tmp_path,
        """
- expr: avg_over_time(histogram_quantile(0.99, rate(x_bucket[2m]))[{{.elapsed}}:]) > 0.01
  description: 10 minutes avg. 99th fsync latency on {{$labels.pod}} higher than 10ms. {{$value}}
  severity: error
- expr: up == 0
  description: 'target {{ $labels.instance }} of {{$labels.job}} down'
- expr: up > 0
  description: plain text
  severity: Critical
""",
    )
    rules = load_alert_profile(path)
    assert [r.severity for r in rules] == ["error", "info", "critical"]
    assert rules[0].render_expr(185) == (
        "avg_over_time(histogram_quantile(0.99, rate(x_bucket[2m]))[3m:]) > 0.01"
    )
    text = rules[0].render_description({"pod": "etcd-0"}, 0.0198512)
    assert text == "10 minutes avg. 99th fsync latency on etcd-0 higher than 10ms. 0.02"
    assert rules[0].render_description({"pod": "p"}, 5.0).endswith(" 5")
    # a label the series lacks prints as Go's <no value>, not an error
    assert rules[1].render_description({"instance": "a:1"}, 0) == "target a:1 of <no value> down"


@pytest.mark.parametrize(
    ("text", "needle"),
    [
        ("- expr: up\n  description: d\n  severity: fatal\n", "severity 'fatal' is not one of"),
        ("- expr: up\n  description: 'x {{$labels.pod'\n", "description template error"),
        ("- expr: up\n  description: d\n  for: 5m\n", "unknown key 'for'"),
        ("- description: d\n", "expr not defined"),
        ("- expr: up\n", "description not defined"),
    ],
)
def test_invalid_alert_profiles(tmp_path: Path, text: str, needle: str) -> None:
    path = write(tmp_path, text)
    with pytest.raises(ProfileError) as exc:
        load_alert_profile(path)
    message = one_line_error(exc)
    assert str(path) in message and needle in message


def test_document_helpers() -> None:
    assert rfc3339(1795848798.0) == "2026-11-28T06:53:18Z"
    assert rfc3339(1795848798.123) == "2026-11-28T06:53:18.123Z"
    assert sample_value(float("nan")) == (0.0, "NaN")
    assert sample_value(float("-inf")) == (0.0, "-Inf")
    assert sample_value(2.5) == (2.5, None)
    window = JobWindow("j", 0.0, 200_000.0, "u")
    stats = CollectStats()
    assert effective_step(window, 30.0, stats) == 30.0
    assert effective_step(window, 10.0, stats) == 19.0
    assert "step widened to 19 s" in stats.warnings[0]
    churn = JobWindow("j", 0, 10, "u", churn_start=2, churn_end=5)
    assert [churn.in_churn(t) for t in (2, 3, 5)] == [False, True, False]
