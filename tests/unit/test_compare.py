"""Baseline comparison: SPEC parsing, regression arithmetic, jobConfig refusal, file loading."""

from __future__ import annotations

import math
from pathlib import Path
from typing import Any

import pytest

from pytest_kubevirt_burner.measurements.writer import write_json_array
from pytest_kubevirt_burner.report.compare import (
    RegressionSpec,
    change_text,
    compare_job,
    config_differences,
    load_run,
    parse_spec,
    parse_specs,
)
from pytest_kubevirt_burner.report.model import QStats


def test_parse_relative_and_absolute_specs() -> None:
    assert parse_spec("vmiLatency.VMIRunning:P99:10%") == RegressionSpec(
        "vmiLatency.VMIRunning", "P99", 10.0, True
    )
    assert parse_spec("podLatency.Ready:p50:+2s") == RegressionSpec(
        "podLatency.Ready", "P50", 2.0, False
    )
    assert parse_spec("podLatency.Ready:max:500ms").limit == pytest.approx(0.5)
    assert parse_spec("podLatency.Ready:avg:3").limit == 3.0
    assert parse_spec("vmiLatency.restart.VMIRunning:P95:5%:force").force
    specs, force = parse_specs(["force", "podLatency.Ready:P99:1%"])
    assert force and [s.key for s in specs] == ["podLatency.Ready"]


@pytest.mark.parametrize(
    ("spec", "fragment"),
    [
        ("podLatency.Ready:P99", "expected <measurement>.<quantileName>:<stat>:<limit>"),
        ("podLatency.Redy:P99:10%", "did you mean 'Ready'"),
        ("podLatncy.Ready:P99:10%", "unknown measurement"),
        ("podLatency.Ready:P90:10%", "unknown statistic 'P90'"),
        ("podLatency.Ready:P99:ten", "limit: invalid duration"),
        ("podLatency.Ready:P99:-2s", "must not be negative"),
        ("podLatency.Ready:P99:10%:please", "expected"),
    ],
)
def test_bad_spec_is_one_usage_error_line_naming_the_option(spec: str, fragment: str) -> None:
    with pytest.raises(pytest.UsageError) as info:
        parse_spec(spec)
    message = str(info.value)
    assert "\n" not in message
    assert message.startswith(f"--burner-regression {spec!r}")
    assert fragment in message


def test_relative_regression_line_and_boundaries() -> None:
    spec = parse_spec("vmiLatency.VMIRunning:P99:10%")
    assert spec.check(41.0, 48.5) == (
        "vmiLatency.VMIRunning P99 regressed 18.3% (41.0s -> 48.5s) > 10%"
    )
    assert spec.check(40.0, 44.0) is None  # exactly +10% is not beyond the limit
    assert spec.check(40.0, 30.0) is None  # faster is fine
    assert spec.check(0.0, 0.0) is None
    assert "from 0" in (spec.check(0.0, 1.0) or "")
    assert "no samples" in (spec.check(1.0, math.nan) or "")
    assert spec.check(math.nan, 1.0) is None  # nothing to compare against


def test_absolute_regression() -> None:
    spec = parse_spec("podLatency.Ready:P99:+2s")
    assert spec.check(10.0, 12.0) is None
    assert spec.check(10.0, 12.5) == "podLatency.Ready P99 regressed +2.50s (10.0s -> 12.5s) > +2s"


def test_config_differences_lists_dotted_keys_and_ignores_template_directories() -> None:
    old = {"jobIterations": 2, "qps": 50, "objects": [{"template": "/a/t/pod.yml", "replicas": 4}]}
    new = {"jobIterations": 3, "qps": 50, "objects": [{"template": "/b/t/pod.yml", "replicas": 5}]}
    assert config_differences(old, new) == ["jobIterations", "objects[0].replicas"]
    assert config_differences(old, old) == []
    assert config_differences({"a": 1}, {}) == ["a"]


def _q(p99: float) -> QStats:
    values = {"P50": p99 / 2, "P95": p99 * 0.9, "P99": p99, "min": 0.1, "max": p99, "avg": 1.0}
    return QStats("podLatency.Ready", 10, 0, values)


def _baseline(tmp_path: Path, p99_ms: float, config: dict[str, Any]) -> Path:
    write_json_array(
        tmp_path / "jobSummary.json", [{"jobName": "j", "uuid": "u", "jobConfig": config}]
    )
    doc = {
        "quantileName": "Ready",
        "metricName": "podLatencyQuantilesMeasurement",
        "jobName": "j",
        "P99": p99_ms,
        "P95": p99_ms,
        "P50": p99_ms / 2,
        "min": 1,
        "max": p99_ms,
        "avg": 5,
        "n": 10,
        "missing": 0,
        "clock": "client",
        "operation": "create",
        "serverQuantiles": {"P99": 1000, "n": 10},
    }
    write_json_array(tmp_path / "podLatencyQuantilesMeasurement-j.json", [doc])
    return tmp_path


def test_compare_job_flags_regression_and_builds_rows(tmp_path: Path) -> None:
    run = load_run(_baseline(tmp_path, 1000, {"qps": 5}))
    specs = [parse_spec("podLatency.Ready:P99:10%")]
    slower = compare_job("j", {"podLatency.Ready": _q(1.5)}, {"qps": 5}, run, specs)
    assert slower.regressions == ["podLatency.Ready P99 regressed 50.0% (1.00s -> 1.50s) > 10%"]
    assert ("podLatency.Ready", "P99", 1.0, 1.5) in slower.rows
    equal = compare_job("j", {"podLatency.Ready": _q(1.0)}, {"qps": 5}, run, specs)
    assert equal.regressions == [] and not equal.refused


def test_compare_job_refuses_a_different_config_unless_forced(tmp_path: Path) -> None:
    run = load_run(_baseline(tmp_path, 1000, {"qps": 5, "jobIterations": 1}))
    specs = [parse_spec("podLatency.Ready:P99:10%")]
    current = {"podLatency.Ready": _q(1.5)}
    refused = compare_job("j", current, {"qps": 10, "jobIterations": 1}, run, specs)
    assert refused.rows == [] and refused.regressions == []
    assert "jobConfig differs in qps (" in refused.refused
    forced = compare_job(
        "j", current, {"qps": 10}, run, [parse_spec("podLatency.Ready:P99:10%:force")]
    )
    assert forced.regressions and "compared anyway" in forced.note
    assert compare_job("j", current, {"qps": 10}, run, specs, force_all=True).regressions
    # without a gate on this job the difference is only a note
    note = compare_job("j", current, {"qps": 10}, run, [])
    assert not note.refused and "jobConfig differs" in note.note


def test_missing_baseline_job_is_a_note_and_missing_directory_a_usage_error(
    tmp_path: Path,
) -> None:
    run = load_run(_baseline(tmp_path, 1000, {}))
    other = compare_job("other", {"podLatency.Ready": _q(1.0)}, {}, run, [])
    assert "no baseline" in other.note and not other.regressions
    with pytest.raises(pytest.UsageError, match=r"--burner-baseline: .*no such directory"):
        load_run(tmp_path / "absent")


def test_baseline_clock_follows_the_current_run(tmp_path: Path) -> None:
    run = load_run(_baseline(tmp_path, 2000, {}))
    assert run.quantiles("j", "client")["podLatency.Ready"].get("P99") == 2.0
    assert run.quantiles("j", "server")["podLatency.Ready"].get("P99") == 1.0


def test_change_text() -> None:
    assert change_text(1.0, 1.182) == "+18.2%"
    assert change_text(2.0, 1.0) == "-50.0%"
    assert change_text(math.nan, 1.0) == "-"
    assert change_text(0.0, 1.0) == "+inf%"
