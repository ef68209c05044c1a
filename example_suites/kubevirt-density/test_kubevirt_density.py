"""VM boot storm: ephemeral VMs (containerDisk + cloud-init) created at a fixed rate.

Run against the embedded simulator:  pytest --kube-sim example_suites/kubevirt-density
"""

import pytest


@pytest.mark.density(
    template="templates/vm-ephemeral.yml",
    replicas=20,
    qps=20,
    burst=20,
    namespace="kubevirt-density",
    namespaced_iterations=False,
    input_vars={
        "name": "kubevirt-density",
        "OS": "fedora",
        "cpuCores": 1,
        "memory": "1Gi",
        "createVMI": True,
        "image": "quay.io/kubevirt/fedora-container-disk-images:35",
    },
    wait_for=["VirtualMachine"],
    max_wait_timeout="10m",
)
# KubeVirt's own density test thresholds (tests/performance/density.go): creation to Running
@pytest.mark.slo("vmiLatency.VMIRunning", p50="45s", p95="60s")
def test_vm_density(burner):
    result = burner.run()
    assert result.verified
    assert result.created == result.expected  # 20 VMs at full size
    assert result.ready["VirtualMachine"] == result.expected["VirtualMachine"]
