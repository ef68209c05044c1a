"""kube-burner-ocp's density workloads run unchanged on the simulator with the variables their
Go wrapper passes (tests/data/kube-burner-ocp/<w>/<w>.user-data.yaml, scaled down).

All four use ``deletionStrategy: gvr`` with ``gc: true``: after the job the pods, deployments
and services are deleted kind by kind, then the namespaces. Each run writes the files
kube-burner-ocp's e2e suite (``test/test-ocp.bats``) checks for that workload.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from kubernetes import client, config

from pytest_kubevirt_burner.measurements.writer import read_json_array
from pytest_kubevirt_burner.sim.process import SimProcess

from ..inner import run_inner

OCP = Path(__file__).resolve().parents[1] / "data" / "kube-burner-ocp"

CASES = {
    # workload: (job name, namespace prefix, measurement files test-ocp.bats checks)
    "virt-density": ("virt-density", "virt-density", ("vmiLatency",)),
    "node-density": ("node-density", "node-density", ("podLatency",)),
    "node-density-cni": ("node-density-cni", "node-density-cni", ("podLatency",)),
    "node-density-heavy": ("node-density-heavy", "node-density-heavy", ("podLatency",)),
}


@pytest.mark.parametrize("workload", sorted(CASES))
def test_ocp_density_workload_runs_unchanged(
    pytester: pytest.Pytester, sim: SimProcess, tmp_path: Path, workload: str
) -> None:
    job, prefix, measurements = CASES[workload]
    metrics = tmp_path / "m"
    result = run_inner(
        pytester,
        sim,
        metrics,
        "--kube-burner-config",
        str(OCP / workload / f"{workload}.yml"),
        "--kube-burner-user-data",
        str(OCP / workload / f"{workload}.user-data.yaml"),
        "--kube-burner-fill-undefined",
    )
    result.assert_outcomes(passed=1)
    summary = read_json_array(metrics / "jobSummary.json")
    assert [s["jobName"] for s in summary] == [job]
    for name in measurements:
        assert read_json_array(metrics / f"{name}Measurement-{job}.json")
        assert read_json_array(metrics / f"{name}QuantilesMeasurement-{job}.json")
    api = config.new_client_from_config(str(sim.kubeconfig))  # type: ignore[no-untyped-call]
    try:
        namespaces: Any = client.CoreV1Api(api).list_namespace().items
        left = [n.metadata.name for n in namespaces if n.metadata.name.startswith(prefix)]
    finally:
        api.close()
    assert left == []  # gc with deletionStrategy gvr removed the objects and the namespaces
