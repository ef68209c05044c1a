"""KubeVirt day-2 operations: each reaches its condition, latency runs from the request."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from kubernetes import client, config

from pytest_kubevirt_burner.measurements.timeutil import parse_ts
from pytest_kubevirt_burner.measurements.writer import read_json_array
from pytest_kubevirt_burner.sim.process import SimProcess

from ..inner import VM, simulator, write_templates
from ..inner import run_inner as _run

DISK = """\
apiVersion: cdi.kubevirt.io/v1beta1
kind: DataVolume
metadata:
  name: hp-disk
spec:
  source: {blank: {}}
  storage: {resources: {requests: {storage: 1Gi}}}
"""


@pytest.fixture(scope="module")
def kv_sim() -> Iterator[SimProcess]:
    """A simulator recording ground truth, shared by this module."""
    yield from simulator(nodes=3, profile="fast", seed=5)


def _suite(pytester: pytest.Pytester, body: str) -> None:
    write_templates(pytester, vm=VM, dv=DISK)
    pytester.makepyfile(test_suite=body)


def test_restart_latency_runs_from_the_request(
    pytester: pytest.Pytester, kv_sim: SimProcess, tmp_path: Path
) -> None:
    _suite(
        pytester,
        """
        import time
        import pytest

        SEL = {"kube-burner.io/job": "old-vms"}

        @pytest.mark.density(template="templates/vm.yml", replicas=4, name="old-vms",
                             cleanup=False, qps=50, burst=50, max_wait_timeout="60s")
        def test_create(burner):
            assert burner.run().verified
            time.sleep(3)  # the VMs are now long past their creation

        @pytest.mark.kubevirt_op("restart", label_selector=SEL, qps=50, burst=50,
                                 name="restart-old", max_wait_timeout="60s")
        @pytest.mark.slo("vmiLatency.restart.VMIRunning", p99="2s")
        def test_restart(burner):
            result = burner.run()
            assert result.ready == {"restart": 4} and result.verified
            assert result.latency("vmiLatency.restart.VMIRunning").n == 4
            assert result.latency("vmiLatency.restart.VMIRunning").max < 2
            assert result.latency("kubevirtOp.restart.Completed").n == 4

        @pytest.mark.delete(kind="Namespace", label_selector=SEL)
        def test_delete(burner):
            assert burner.run().verified
        """,
    )
    metrics = tmp_path / "m"
    _run(pytester, kv_sim, metrics).assert_outcomes(passed=3)
    docs = [
        d
        for d in read_json_array(metrics / "vmiLatencyMeasurement-restart-old.json")
        if d["operation"] == "restart"
    ]
    assert len(docs) == 4
    truth = kv_sim.read_ground_truth()
    created = {r["uid"]: r["time"] for r in truth if r["transition"] == "Created"}
    for doc in docs:
        op_ns = parse_ts(doc["timestamp"])
        assert op_ns is not None
        op_time = op_ns / 1e9
        vmi_records = [
            r
            for r in truth
            if r["kind"] == "VirtualMachineInstance"
            and r["name"] == doc["vmName"]
            and r["namespace"] == doc["namespace"]
        ]
        new_uids = {r["uid"] for r in vmi_records if created.get(r["uid"], 0) >= op_time}
        assert len(new_uids) == 1, "exactly one new VMI per restart"
        running = [
            r["time"] for r in vmi_records if r["uid"] in new_uids and r["transition"] == "Running"
        ]
        pending = [
            r["time"] for r in vmi_records if r["uid"] in new_uids and r["transition"] == "Pending"
        ]
        assert running and pending
        true_latency = running[0] - op_time
        assert abs(doc["vmiRunningLatency"] / 1000 - true_latency) < 0.050
        assert doc["vmiRunningLatency"] < 2000  # from the request, not from creation (>3 s ago)
    quantiles = read_json_array(metrics / "vmiLatencyQuantilesMeasurement-restart-old.json")
    assert {q["operation"] for q in quantiles} == {"restart"}


def test_every_operation_reaches_its_condition(
    pytester: pytest.Pytester, kv_sim: SimProcess, tmp_path: Path
) -> None:
    _suite(
        pytester,
        """
        import pytest

        SEL = {"kube-burner.io/job": "day2"}
        OP = dict(label_selector=SEL, qps=50, burst=50, max_wait_timeout="60s")

        @pytest.mark.density(objects=[{"template": "templates/vm.yml"},
                                      {"template": "templates/dv.yml"}],
                             iterations=3, name="day2", cleanup=False, qps=50, burst=50,
                             max_wait_timeout="60s")
        def test_create(burner):
            assert burner.run().verified

        CASES = [
            ("stop", {"force": True}, {}),
            ("start", {}, {}),
            ("pause", {}, {}),
            ("unpause", {}, {}),
            ("migrate", {}, {}),
            ("add-volume", {"volumeName": "hp-disk", "cache": "none"}, {}),
            ("remove-volume", {"volumeName": "hp-disk"}, {}),
            ("stop", {}, {}),
            ("start", {"startPaused": True}, {}),
            ("unpause", {}, {}),
            ("restart", {"force": True}, {"iterations": 2, "execution_mode": "parallel"}),
        ]

        @pytest.mark.parametrize("op,runs", [
            pytest.param(op, extra.get("iterations", 1), id=f"{i}-{op}",
                         marks=pytest.mark.kubevirt_op(op, input_vars=inputs, **OP, **extra))
            for i, (op, inputs, extra) in enumerate(CASES)
        ])
        def test_op(burner, op, runs):
            result = burner.run()
            assert result.operations == {op: 3 * runs}, result.errors
            assert result.ready == {op: 3 * runs}
            assert result.verified and not result.errors
            assert result.latency(f"kubevirtOp.{op}.Completed").n == 3 * runs

        @pytest.mark.delete(kind="Namespace", label_selector=SEL)
        def test_delete(burner):
            assert burner.run().verified
        """,
    )
    metrics = tmp_path / "m"
    result = _run(pytester, kv_sim, metrics)
    result.assert_outcomes(passed=13)
    migrations = [
        d for name in metrics.glob("vmimLatencyMeasurement-*.json") for d in read_json_array(name)
    ]
    assert len(migrations) == 3 and all(d["succeededLatency"] is not None for d in migrations)
    api = config.new_client_from_config(config_file=str(kv_sim.kubeconfig))
    try:
        left = client.CoreV1Api(api).list_namespace(label_selector="kube-burner.io/job=day2")
        assert all(ns.metadata.deletion_timestamp for ns in left.items)
    finally:
        api.close()


def test_ops_wait_per_iteration(
    pytester: pytest.Pytester, kv_sim: SimProcess, tmp_path: Path
) -> None:
    """Later iterations are measured from their own request (kube-burner reuses iteration 0's)."""
    _suite(
        pytester,
        """
        import pytest

        SEL = {"kube-burner.io/job": "iter-vms"}

        @pytest.mark.density(template="templates/vm.yml", replicas=2, name="iter-vms",
                             cleanup=False, qps=50, burst=50)
        def test_create(burner):
            assert burner.run().verified

        @pytest.mark.kubevirt_op(objects=[
            {"kubevirt_op": "stop", "label_selector": SEL},
            {"kubevirt_op": "start", "label_selector": SEL},
        ], iterations=3, object_wait=True, job_iteration_delay="1100ms", qps=50, burst=50,
           name="power", max_wait_timeout="60s")
        def test_power(burner):
            result = burner.run()
            assert result.ready == {"stop": 6, "start": 6}
            start = result.latency("vmiLatency.start.VMIRunning")
            assert start.n == 6 and start.max < 1.0

        @pytest.mark.delete(kind="Namespace", label_selector=SEL)
        def test_delete(burner):
            assert burner.run().verified
        """,
    )
    metrics = tmp_path / "m"
    _run(pytester, kv_sim, metrics).assert_outcomes(passed=3)
    docs = read_json_array(metrics / "vmiLatencyMeasurement-power.json")
    starts = sorted(parse_ts(d["timestamp"]) or 0 for d in docs if d["operation"] == "start")
    assert len(starts) == 6 and starts[-1] - starts[0] > 2e9  # three separate request times


def test_unknown_operation_is_a_collection_error(
    pytester: pytest.Pytester, kv_sim: SimProcess, tmp_path: Path
) -> None:
    _suite(
        pytester,
        """
        import pytest

        @pytest.mark.kubevirt_op("restat", label_selector={"a": "b"})
        def test_x(burner):
            burner.run()
        """,
    )
    result = _run(pytester, kv_sim, tmp_path / "m")
    assert result.ret == pytest.ExitCode.USAGE_ERROR
    result.stderr.fnmatch_lines(
        ["*kubevirt_op' must be one of start, stop*did you mean 'restart'?"]
    )
