"""Result files: streamed as objects complete, readable after a crash, finalize idempotent."""

from __future__ import annotations

import itertools
import json
from pathlib import Path
from typing import Any

import pytest

from pytest_kubevirt_burner.jobspec import JobSpec
from pytest_kubevirt_burner.measurements.recorder import MeasurementSet
from pytest_kubevirt_burner.measurements.writer import (
    ArrayFileWriter,
    append_job_summary,
    read_json_array,
    repair_json_array,
)
from pytest_kubevirt_burner.results import JobResult

S = 1_000_000_000
BASE = 1_700_000_000 * S


def ts(sec: int) -> str:
    from pytest_kubevirt_burner.measurements.timeutil import format_ts

    return format_ts(BASE + sec * S)


def pod(uid: str, ready: bool = False) -> dict[str, Any]:
    conds = [{"type": "PodScheduled", "status": "True", "lastTransitionTime": ts(1)}]
    if ready:
        conds.append({"type": "Ready", "status": "True", "lastTransitionTime": ts(2)})
    return {
        "kind": "Pod",
        "metadata": {
            "uid": uid,
            "name": f"pod-{uid}",
            "namespace": "ns",
            "creationTimestamp": ts(0),
        },
        "status": {"conditions": conds},
    }


def new_set(tmp_path: Path, job: str = "density", uuid: str = "run-1") -> MeasurementSet:
    return MeasurementSet(
        ["podLatency", "vmiLatency"],
        job_name=job,
        uuid=uuid,
        metrics_dir=tmp_path,
        metadata={"platform": "sim"},
    )


def strict_load(path: Path) -> list[dict[str, Any]]:
    value = json.loads(path.read_text())
    assert isinstance(value, list)
    return value


def test_documents_appear_as_objects_complete(tmp_path: Path) -> None:
    ms = new_set(tmp_path)
    path = tmp_path / "podLatencyMeasurement-density.json"
    ms.on_created(pod("a"), BASE + S // 10)
    ms.on_event("Pod", "MODIFIED", pod("a"), BASE + S)
    assert not path.exists()  # not complete yet
    ms.on_event("Pod", "MODIFIED", pod("a", ready=True), BASE + 2 * S)
    docs = read_json_array(path)
    assert [d["podName"] for d in docs] == ["pod-a"] and docs[0]["podReadyLatency"] == 1900.0
    ms.on_event("Pod", "MODIFIED", pod("b", ready=True), BASE + 3 * S)
    assert [d["podName"] for d in read_json_array(path)] == ["pod-a", "pod-b"]
    ms.on_event("Pod", "MODIFIED", pod("b", ready=True), BASE + 4 * S)  # duplicate: not rewritten
    assert len(read_json_array(path)) == 2


def test_finalize_writes_valid_kube_burner_files(tmp_path: Path) -> None:
    ms = new_set(tmp_path)
    ms.on_event("Pod", "ADDED", pod("a", ready=True), BASE + S)
    ms.on_event("Pod", "ADDED", pod("slow"), BASE + S)  # never Ready: written at finalize
    result = JobResult(
        job_name="density",
        job_type="create",
        uuid="run-1",
        started_at=1.7e9,
        finished_at=1.7e9 + 12.5,
        expected={"Pod": 2},
        created={"Pod": 2},
        ready={"Pod": 1},
        verified=False,
        qps_requested=20,
        qps_achieved=19.5,
        retries=3,
        throttled_429=1,
    )
    spec = JobSpec(name="density", qps=20, max_wait_timeout=3600.0)
    quantiles = ms.finalize(result=result, job_config=spec, reason="not ready")
    pods = strict_load(tmp_path / "podLatencyMeasurement-density.json")
    assert [d["podName"] for d in pods] == ["pod-a", "pod-slow"]
    assert pods[1]["missing"] == [
        "PodReadyToStartContainers",
        "Initialized",
        "ContainersReady",
        "Ready",
    ]
    assert strict_load(tmp_path / "vmiLatencyMeasurement-density.json") == []
    qdocs = strict_load(tmp_path / "podLatencyQuantilesMeasurement-density.json")
    ready = next(d for d in qdocs if d["quantileName"] == "Ready")
    assert (ready["n"], ready["missing"], ready["metricName"]) == (
        1,
        1,
        "podLatencyQuantilesMeasurement",
    )
    assert quantiles["podLatency.Ready"].missing == 1
    (summary,) = strict_load(tmp_path / "jobSummary.json")
    assert summary["metricName"] == "jobSummary" and summary["passed"] is False
    assert summary["elapsedTime"] == 12.5 and summary["uuid"] == "run-1"
    assert (
        summary["achievedQps"],
        summary["requestedQps"],
        summary["retries"],
        summary["http429"],
    ) == (19.5, 20, 3, 1)
    assert (summary["objectsCreated"], summary["objectsReady"], summary["objectsExpected"]) == (
        2,
        1,
        2,
    )
    assert summary["jobConfig"]["maxWaitTimeout"] == 3600 * S
    assert summary["jobConfig"]["qps"] == 20 and summary["reason"] == "not ready"
    assert summary["interrupted"] is False and summary["verified"] is False
    assert summary["platform"] == "sim"  # metadata merged at the top level, as kube-burner


def test_finalize_twice_is_safe(tmp_path: Path) -> None:
    ms = new_set(tmp_path)
    ms.on_event("Pod", "ADDED", pod("a", ready=True), BASE + S)
    first = ms.finalize(passed=True)
    before = {p.name: p.read_bytes() for p in tmp_path.iterdir()}
    second = ms.finalize(passed=False)
    ms.on_event("Pod", "ADDED", pod("late", ready=True), BASE + S)  # after finalize: ignored
    assert first == second
    assert {p.name: p.read_bytes() for p in tmp_path.iterdir()} == before
    assert len(strict_load(tmp_path / "jobSummary.json")) == 1


def test_keyboard_interrupt_in_with_block_keeps_everything(tmp_path: Path) -> None:
    with pytest.raises(KeyboardInterrupt), new_set(tmp_path) as ms:
        ms.on_event("Pod", "ADDED", pod("a", ready=True), BASE + S)
        ms.on_event("Pod", "ADDED", pod("b"), BASE + S)
        raise KeyboardInterrupt
    pods = strict_load(tmp_path / "podLatencyMeasurement-density.json")
    assert [d["podName"] for d in pods] == ["pod-a", "pod-b"]
    (summary,) = strict_load(tmp_path / "jobSummary.json")
    assert summary["interrupted"] is True and summary["passed"] is False
    assert summary["reason"].startswith("KeyboardInterrupt")
    assert (tmp_path / "podLatencyQuantilesMeasurement-density.json").exists()


def test_crash_without_finalize_leaves_readable_files(tmp_path: Path) -> None:
    ms = new_set(tmp_path)
    for uid in ("a", "b", "c"):
        ms.on_event("Pod", "ADDED", pod(uid, ready=True), BASE + S)
    ms.on_event("Pod", "ADDED", pod("unfinished"), BASE + S)
    path = tmp_path / "podLatencyMeasurement-density.json"
    # the process dies here: no finalize, no closing bracket
    with pytest.raises(json.JSONDecodeError):
        json.loads(path.read_text())
    assert [d["podName"] for d in read_json_array(path)] == ["pod-a", "pod-b", "pod-c"]
    # a half-written last line (killed mid-write) is dropped, the rest kept
    with open(path, "ab") as fh:
        fh.write(b',\n{"podName": "pod-d", "podRead')
    assert len(read_json_array(path)) == 3
    assert repair_json_array(path) == 1
    assert [d["podName"] for d in strict_load(path)] == ["pod-a", "pod-b", "pod-c"]


def test_writer_appends_without_rewriting(tmp_path: Path) -> None:
    path = tmp_path / "x.json"
    writer = ArrayFileWriter(path)
    sizes = []
    for i in range(50):
        writer.append({"i": i})
        sizes.append(path.stat().st_size)
    # each append adds one line: growth per document is constant, never a rewrite
    deltas = {b - a for a, b in itertools.pairwise(sizes)}
    assert max(deltas) <= len(b',\n{"i":49}')
    writer.close()
    writer.close()
    assert [d["i"] for d in strict_load(path)] == list(range(50))
    with pytest.raises(ValueError, match="already closed"):
        writer.append({"i": 50})


def test_job_summary_appended_across_jobs(tmp_path: Path) -> None:
    for job in ("first", "second"):
        ms = new_set(tmp_path, job=job)
        ms.finalize(passed=True)
    docs = strict_load(tmp_path / "jobSummary.json")
    assert [d["jobName"] for d in docs] == ["first", "second"]
    # a new session (another uuid) starts the file afresh
    append_job_summary(tmp_path / "jobSummary.json", {"uuid": "run-2", "jobName": "third"})
    assert [d["jobName"] for d in strict_load(tmp_path / "jobSummary.json")] == ["third"]


def test_no_metrics_directory_writes_nothing(tmp_path: Path) -> None:
    ms = MeasurementSet(["podLatency"], job_name="j", uuid="u")
    ms.on_event("Pod", "ADDED", pod("a", ready=True), BASE + S)
    assert ms.finalize()["podLatency.Ready"].n == 1
    assert list(tmp_path.iterdir()) == []
