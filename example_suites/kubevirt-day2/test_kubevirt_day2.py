"""Day-2 operations on a VM fleet: waves of stop, start, restart and live migration.

The first test creates the fleet and keeps it (cleanup=False); every wave then acts on the VMs
it created, selected by their kube-burner.io/job label, and is measured from its own requests;
the last test deletes the fleet.

Run against the embedded simulator:  pytest --kube-sim example_suites/kubevirt-day2
"""

import pytest

FLEET = {"kube-burner.io/job": "day2-fleet"}
WAVE = {"label_selector": FLEET, "qps": 20, "burst": 20, "max_wait_timeout": "10m"}
VMS = 10


@pytest.mark.density(
    template="templates/vm-ephemeral.yml",
    replicas=VMS,
    name="day2-fleet",
    namespace="kubevirt-day2",
    namespaced_iterations=False,
    cleanup=False,
    qps=20,
    burst=20,
    input_vars={
        "name": "day2",
        "OS": "fedora",
        "cpuCores": 1,
        "memory": "1Gi",
        "createVMI": True,
        "image": "quay.io/kubevirt/fedora-container-disk-images:35",
    },
    wait_for=["VirtualMachine"],
    max_wait_timeout="10m",
)
def test_create_fleet(burner):
    result = burner.run()
    assert result.verified
    assert result.ready["VirtualMachine"] == result.expected["VirtualMachine"]  # VMS unscaled


@pytest.mark.kubevirt_op("stop", **WAVE)
@pytest.mark.slo("vmiLatency.stop.VMStopped", p95="1m")
def test_stop_wave(burner):
    result = burner.run()
    assert result.ready == result.expected and result.expected["stop"] >= 1


@pytest.mark.kubevirt_op("start", **WAVE)
@pytest.mark.slo("vmiLatency.start.VMIRunning", p50="45s", p95="60s")
def test_start_wave(burner):
    result = burner.run()
    assert result.ready == result.expected and result.expected["start"] >= 1


@pytest.mark.kubevirt_op("restart", execution_mode="parallel", iterations=2, **WAVE)
@pytest.mark.slo("vmiLatency.restart.VMIRunning", p50="45s", p95="60s")
def test_restart_waves(burner):
    result = burner.run()
    assert result.ready == result.expected  # 2 waves of the whole fleet: 2 * VMS at full size
    assert result.latency("vmiLatency.restart.VMReady").n == result.expected["restart"]


@pytest.mark.kubevirt_op("migrate", **WAVE)
@pytest.mark.slo("vmimLatency.Succeeded", p95="2m")
def test_migrate_wave(burner):
    result = burner.run()
    assert result.ready == result.expected and result.expected["migrate"] >= 1
    assert result.latency("vmimLatency.Succeeded").n == result.expected["migrate"]


@pytest.mark.delete(kind="Namespace", label_selector=FLEET, max_wait_timeout="10m")
def test_delete_fleet(burner):
    assert burner.run().verified
