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


def test_user_metadata_is_in_every_document(
    pytester: pytest.Pytester, sim: SimProcess, tmp_path: Path
) -> None:
    """kube-burner-ocp's e2e user-metadata file, as its index test passes it."""
    meta = tmp_path / "user-metadata.yml"
    meta.write_text("platform: sim\nrun: {owner: perf, ticket: 12}\n")
    metrics = tmp_path / "m"
    result = run_inner(
        pytester,
        sim,
        metrics,
        "--kube-burner-config",
        str(OCP / "node-density" / "node-density.yml"),
        "--kube-burner-user-data",
        str(OCP / "node-density" / "node-density.user-data.yaml"),
        "--kube-burner-fill-undefined",
        "--kube-burner-user-metadata",
        str(meta),
    )
    result.assert_outcomes(passed=1)
    expected = {"platform": "sim", "run": {"owner": "perf", "ticket": 12}}
    for doc in read_json_array(metrics / "jobSummary.json"):  # kube-burner: at top level
        assert {k: doc[k] for k in expected} == expected
    for name in (  # kube-burner: under "metadata"
        "podLatencyMeasurement-node-density.json",
        "podLatencyQuantilesMeasurement-node-density.json",
    ):
        for doc in read_json_array(metrics / name):
            assert {k: doc["metadata"][k] for k in expected} == expected, name


def test_bad_user_metadata_is_one_line(pytester: pytest.Pytester, tmp_path: Path) -> None:
    bad = tmp_path / "meta.yml"
    bad.write_text("- a list\n")
    result = run_inner(pytester, None, None, "--kube-burner-user-metadata", str(bad))
    assert result.ret != 0
    result.stderr.fnmatch_lines([f"*--kube-burner-user-metadata {bad}: must be a mapping"])
