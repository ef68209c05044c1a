"""max_wait_timeout on a full cluster: a clear failure, results written, cleanup still done."""

from __future__ import annotations

import re
from pathlib import Path

from pytest_kubevirt_burner.sim.process import SimProcess

from .harness import POD, Cluster, docs, run_pytest, summary, write_suite

SUITE = """
import pytest

@pytest.mark.density(template="templates/pod.yml", replicas=12, qps=50, burst=12, name="full",
                     max_wait_timeout="3s")
def test_full(burner):
    burner.run()
"""


def test_unschedulable_pods_fail_with_counts_and_names_and_are_cleaned_up(tmp_path: Path) -> None:
    suite = write_suite(tmp_path / "suite", SUITE, {"pod.yml": POD})
    metrics = tmp_path / "metrics"
    with SimProcess(nodes=1, node_pods=5, seed=2) as sim, Cluster.of(sim) as cluster:
        res = run_pytest(
            suite,
            "--kube-config",
            str(sim.kubeconfig),
            "--metrics-directory",
            str(metrics),
            "--burner-uuid",
            "full-run",
        )
        assert res.returncode == 1, res.stdout
        line = next(x for x in res.stdout.splitlines() if "not ready after" in x)
        assert re.fullmatch(
            r"full: not ready after max_wait_timeout \(3s\): Pod: 5/12 ready "
            r"\(Pending/Unschedulable: 7\); first not ready: "
            r"(full-0/pod-0-\d+, ){4}full-0/pod-0-\d+",
            line,
        ), line
        assert "Traceback" not in res.stdout
        job = summary(metrics)[-1]
        assert job["passed"] is False and job["reason"] == line
        assert job["objects"]["Pod"] == {"created": 12, "ready": 5, "expected": 12}
        pod_docs = docs(metrics, "podLatencyMeasurement-full.json")
        assert len(pod_docs) == 12
        assert sum(1 for d in pod_docs if d["missing"]) == 7
        # teardown cleanup ran although the job failed
        assert cluster.namespaces("kube-burner.io/uuid=full-run") == []
        assert cluster.pods("kube-burner.io/uuid=full-run") == []
