"""Every job type runs through one contract: measurements, documents and counts for all of them.

Regression tests of kube-burner semantics that the job contract restored: patch, read and delete
jobs run the job's measurements (their files exist, as kube-burner's e2e tests expect), a create
job with ``podWait: true`` that also creates ConfigMaps and Secrets waits per iteration, and a
create job whose ``objects:`` list is empty runs as a no-op.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from pytest_kubevirt_burner.measurements.writer import read_json_array
from pytest_kubevirt_burner.sim.process import SimProcess

from ..inner import POD, run_inner, write_templates

CONFIGMAP = """\
apiVersion: v1
kind: ConfigMap
metadata:
  name: cm-{{.Replica}}
data:
  key: value
"""
SECRET = """\
apiVersion: v1
kind: Secret
metadata:
  name: s-{{.Replica}}
stringData:
  key: value
"""
CM_PATCH = """\
data:
  patched: "{{.Iteration}}"
"""
CONFIG = """\
global:
  measurements:
    - name: podLatency
jobs:
  - name: mixed
    jobIterations: 2
    qps: 50
    burst: 50
    namespace: mixed
    podWait: true
    waitWhenFinished: false
    objects:
      - objectTemplate: templates/configmap.yml
        replicas: 1
      - objectTemplate: templates/secret.yml
        replicas: 1
      - objectTemplate: templates/pod.yml
        replicas: 2
  - name: patch-configmaps
    jobType: patch
    qps: 50
    burst: 50
    objects:
      - kind: ConfigMap
        objectTemplate: templates/cm_patch.yml
        labelSelector: {kube-burner.io/job: mixed}
        patchType: "application/merge-patch+json"
  - name: read-pods
    jobType: read
    qps: 50
    burst: 50
    objects:
      - kind: Pod
        labelSelector: {kube-burner.io/job: mixed}
  - name: nothing
    objects: []
  - name: delete-pods
    jobType: delete
    qps: 50
    burst: 50
    objects:
      - kind: Pod
        labelSelector: {kube-burner.io/job: mixed}
"""


def test_every_job_type_runs_its_measurements(
    pytester: pytest.Pytester, sim: SimProcess, tmp_path: Path
) -> None:
    write_templates(pytester, pod=POD, configmap=CONFIGMAP, secret=SECRET, cm_patch=CM_PATCH)
    config = pytester.path / "config.yml"
    config.write_text(CONFIG)
    metrics = tmp_path / "m"
    result = run_inner(pytester, sim, metrics, "--kube-burner-config", str(config))
    result.assert_outcomes(passed=5)
    for job in ("patch-configmaps", "read-pods", "delete-pods", "nothing"):
        assert read_json_array(metrics / f"podLatencyMeasurement-{job}.json") == [], job
        assert (metrics / f"podLatencyQuantilesMeasurement-{job}.json").is_file(), job
    assert len(read_json_array(metrics / "podLatencyMeasurement-mixed.json")) == 4
    summaries = {d["jobName"]: d for d in read_json_array(metrics / "jobSummary.json")}
    assert set(summaries) == {"mixed", "patch-configmaps", "read-pods", "nothing", "delete-pods"}
    assert all(d["passed"] for d in summaries.values())
    assert summaries["mixed"]["objectsCreated"] == 8  # 2 x (ConfigMap, Secret, 2 Pods)
    assert summaries["nothing"]["objectsCreated"] == 0
    assert summaries["patch-configmaps"]["objectsCreated"] == 0  # patches create nothing
    assert summaries["patch-configmaps"]["operations"] == {"patch": 2}


def test_result_counts_documents_and_verdicts(
    pytester: pytest.Pytester, sim: SimProcess, tmp_path: Path
) -> None:
    write_templates(pytester, pod=POD, cm_patch=CM_PATCH, configmap=CONFIGMAP)
    pytester.makepyfile(
        """
        import pytest

        @pytest.mark.density(name="contract-pods", template="templates/pod.yml", replicas=3,
                             qps=50, burst=50, cleanup=False)
        @pytest.mark.slo("podLatency.Ready", p99="5m", p50="1ns", mode="report")
        def test_create(burner):
            result = burner.run()
            assert result.created == {"Pod": 3} and result.operations == {}
            kinds = {d["metricName"] for d in result.documents}
            assert kinds == {"podLatencyQuantilesMeasurement", "jobSummary"}
            p99 = next(v for v in result.slo_verdicts if v.metric == "p99")
            assert p99.passed and p99.measurement == "podLatency" and p99.quantile == "Ready"
            assert p99.threshold == 300.0 and p99.margin == 300.0 - p99.value
            p50 = next(v for v in result.slo_verdicts if v.metric == "p50")
            assert not p50.passed and p50.mode == "report" and p50.margin < 0
            assert result.slo_breaches == [] and result.slo_lines == [p50.line]

        @pytest.mark.patch(kind="Pod", label_selector={"kube-burner.io/job": "contract-pods"},
                           template="templates/cm_patch.yml", patch_type="merge",
                           qps=50, burst=50)
        def test_patch(burner):
            result = burner.run()
            assert result.created == {} and result.operations == {"patch": 3}
            assert result.verified and result.documents

        @pytest.mark.density(name="empty", objects=[], qps=50, burst=50)
        def test_empty(burner):
            result = burner.run()
            assert result.verified and result.created == {}

        @pytest.mark.delete(kind="Pod", label_selector={"kube-burner.io/job": "contract-pods"})
        def test_delete(burner):
            assert burner.run().operations == {"delete": 3}

        @pytest.mark.density(name="unindexed", template="templates/pod.yml", qps=50, burst=50,
                             skip_indexing=True)
        def test_unindexed(burner):
            result = burner.run()
            assert result.created == {"Pod": 1} and result.documents == []
        """
    )
    metrics = tmp_path / "m"
    result = run_inner(pytester, sim, metrics)
    result.assert_outcomes(passed=5)
    assert not list(metrics.glob("*-unindexed.json"))
    jobs = {d["jobName"] for d in read_json_array(metrics / "jobSummary.json")}
    assert jobs == {"contract-pods", "test-patch", "empty", "test-delete"}
