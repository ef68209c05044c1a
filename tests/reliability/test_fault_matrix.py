"""Fault matrix: a density run of pods and VMs stays exact under each kind of API trouble.

Every cell runs one job (15 pods + 4 VMs per iteration, 10 iterations: 150 pods, 40 VMs,
10 namespaces) in a pytest subprocess against its own simulator with one fault, then checks
through the official kubernetes client that every intended object exists exactly once, that
verification passed, that every object has its latency document, and that the jobSummary
counts the retries it needed. Reproduce (and print the matrix rows) with
``.venv/bin/pytest -p no:cacheprovider tests/reliability/test_fault_matrix.py -s``.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass
from pathlib import Path

import pytest

from pytest_kubevirt_burner.sim.process import SimProcess

from .harness import Cluster, docs, run_pytest, summary, write_suite
from .lossyproxy import LossyProxy

ITERATIONS, PODS, VMS = 10, 15, 4
UUID = "matrix-run"

SUITE = """
import pytest

@pytest.mark.density(
    objects=[{{"template": "templates/pod.yml", "replicas": {pods}}},
             {{"template": "templates/vm.yml", "replicas": {vms}}}],
    iterations={iterations}, qps={qps}, burst=20, name="matrix", cleanup=False,
    max_wait_timeout="{timeout}")
def test_matrix(burner):
    burner.run()
"""


@dataclass(frozen=True)
class Cell:
    """One fault and what its jobSummary must show."""

    faults: str
    counter: str = ""  # a jobSummary field that must be > 0
    qps: int = 50
    lost_responses: float = 0.0  # fraction of create responses lost after the create happened


CELLS = {
    "none": Cell(""),
    "5xx-on-5%-of-writes": Cell(
        "error-rate=0.05:500,503;verbs=create,update,patch,delete", "http5xx"
    ),
    "rate-limit-25qps-below-50": Cell("rate-limit=25", "http429"),
    "watch-cut-every-2s": Cell("watch-cut=2s", qps=40),
    "200ms-latency": Cell("latency=200ms"),
    "outage-10s-mid-job": Cell("outage=10s@40creates", "connectionErrors"),
    "5%-of-create-responses-lost": Cell("", "deduplicatedCreates", lost_responses=0.05),
}


def _expected_names() -> tuple[set[tuple[str, str]], set[tuple[str, str]]]:
    pods = {(f"matrix-{i}", f"pod-{i}-{r}") for i in range(ITERATIONS) for r in range(1, PODS + 1)}
    vms = {(f"matrix-{i}", f"vm-{i}-{r}") for i in range(ITERATIONS) for r in range(1, VMS + 1)}
    return pods, vms


@pytest.mark.parametrize("cell", list(CELLS), ids=list(CELLS))
def test_density_is_exact_under_faults(cell: str, tmp_path: Path) -> None:
    spec = CELLS[cell]
    body = SUITE.format(pods=PODS, vms=VMS, iterations=ITERATIONS, qps=spec.qps, timeout="90s")
    suite = write_suite(tmp_path / "suite", body)
    metrics = tmp_path / "metrics"
    with (
        SimProcess(nodes=4, seed=5, faults=spec.faults, workdir=tmp_path / "sim") as sim,
        LossyProxy(sim.url, spec.lost_responses) as proxy,
    ):
        kubeconfig = proxy.kubeconfig(sim.kubeconfig, tmp_path / "via-proxy")
        res = run_pytest(
            suite,
            "--kube-config",
            str(kubeconfig if spec.lost_responses else sim.kubeconfig),
            "--metrics-directory",
            str(metrics),
            "--burner-uuid",
            UUID,
        )
        assert res.returncode == 0, res.stdout
        with Cluster.of(sim) as cluster:
            sel = f"kube-burner.io/uuid={UUID}"
            pods = cluster.pods(f"{sel},kube-burner.io/index=0")
            vms = cluster.vms(sel)
            launchers = cluster.pods(f"{sel},kubevirt.io=virt-launcher")
            namespaces = cluster.namespaces(sel)
    want_pods, want_vms = _expected_names()
    # exactly once: no duplicates, nothing missing, nothing extra
    assert Counter(pods) == Counter(want_pods)
    assert Counter(vms) == Counter(want_vms)
    assert len(launchers) == len(want_vms)
    assert sorted(namespaces) == sorted(f"matrix-{i}" for i in range(ITERATIONS))
    job = summary(metrics)[-1]
    assert job["passed"] is True and job["verified"] is True, job
    assert job["objects"]["Pod"] == {"created": 150, "ready": 150, "expected": 150}
    assert job["objects"]["VirtualMachine"] == {"created": 40, "ready": 40, "expected": 40}
    pod_docs = docs(metrics, "podLatencyMeasurement-matrix.json")
    vm_docs = docs(metrics, "vmiLatencyMeasurement-matrix.json")
    # one document per object (the VMs' launcher pods are pods too), none missing a value
    assert len({(d["namespace"], d["podName"]) for d in pod_docs}) == len(pod_docs) == 190
    assert len({(d["namespace"], d["vmName"]) for d in vm_docs}) == len(vm_docs) == 40
    assert not [d for d in pod_docs + vm_docs if d["missing"]]
    if spec.counter:
        assert job[spec.counter] > 0, job
        assert job["retries"] > 0, job
    fault = spec.faults or (
        f"proxy loses {spec.lost_responses:.0%} of POST responses" if spec.lost_responses else "-"
    )
    print(
        f"| {cell} | `{fault}` | 150 pods, 40 VMs | retries {job['retries']}, "
        f"429 {job['http429']}, 5xx {job['http5xx']}, conn {job['connectionErrors']}, "
        f"dedup {job['deduplicatedCreates']} | passed, {job['elapsedTime']:.1f}s |"
    )


SLOW_READY = (
    "default: {distribution: fixed, value: 0.02}\n"
    "transitions:\n  Pod.Ready: {distribution: fixed, value: 8}\n"
)


def test_api_down_longer_than_max_wait_timeout_fails_clearly_and_keeps_results(
    tmp_path: Path,
) -> None:
    """The API goes away during the wait for longer than max_wait_timeout: a clear failure."""
    profile = tmp_path / "slow.yaml"
    profile.write_text(SLOW_READY)
    suite = write_suite(
        tmp_path / "suite",
        "import pytest\n\n"
        "@pytest.mark.density(template='templates/pod.yml', replicas=30, qps=100, burst=30,\n"
        "                     name='down', cleanup=False, max_wait_timeout='6s')\n"
        "def test_down(burner):\n    burner.run()\n",
    )
    metrics = tmp_path / "metrics"
    with SimProcess(
        nodes=4,
        seed=5,
        faults="outage=30s@31creates",
        profile=str(profile),
        workdir=tmp_path / "sim",
    ) as sim:
        res = run_pytest(
            suite, "--kube-config", str(sim.kubeconfig), "--metrics-directory", str(metrics)
        )
    assert res.returncode == 1, res.stdout
    assert "down: not ready after max_wait_timeout (6s): Pod: 0/30 ready" in res.stdout
    assert "watches failing: cannot reach the cluster at http://127.0.0.1:" in res.stdout
    assert "Traceback" not in res.stdout and "During handling" not in res.stdout
    job = summary(metrics)[-1]
    assert job["passed"] is False and "not ready after max_wait_timeout" in job["reason"]
    assert job["objectsCreated"] == 30
    assert len(docs(metrics, "podLatencyMeasurement-down.json")) == 30
    assert (metrics / "podLatencyQuantilesMeasurement-down.json").exists()
