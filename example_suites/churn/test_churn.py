"""Steady-state churn: a density job keeps deleting and re-creating part of itself.

kube-burner's churnConfig as ``churn={...}``: after the job is created and verified, each cycle
deletes a share (whole namespaces, or the oldest objects), waits until it is gone, re-creates it
identically, waits for readiness and verifies the counts again. Documents of objects created
during churn carry ``churnMetric: true``.

Run against the embedded simulator:  pytest --kube-sim example_suites/churn
"""

import pytest

IMAGE = "registry.k8s.io/pause:3.9"
APP = [
    {"template": "templates/configmap.yml"},
    {"template": "templates/deployment.yml", "input_vars": {"image": IMAGE, "pod_replicas": 2}},
]


@pytest.mark.density(
    objects=APP,
    iterations=10,
    qps=20,
    burst=20,
    churn={"cycles": 3, "percent": 20, "delay": "1s", "delete_delay": "500ms"},
    max_wait_timeout="5m",
)
@pytest.mark.slo("podLatency.Ready", p99="30s")
def test_namespace_churn(burner):
    result = burner.run()
    assert result.churn_cycles == 3
    # 20% of the namespaces (2 of 10 at full size, at least 1), 2 objects each, 3 cycles
    assert result.churn_objects == 3 * 2 * max(result.iterations * 20 // 100, 1)
    assert result.found == result.expected  # 10 of each at full size


@pytest.mark.density(
    objects=[{**APP[0], "churn": False}, APP[1]],
    iterations=4,
    qps=20,
    burst=20,
    churn={"duration": "10s", "percent": 25, "mode": "objects", "delay": "1s"},
    max_wait_timeout="5m",
)
def test_object_churn_for_ten_seconds(burner):
    result = burner.run()
    assert result.churn_cycles >= 2
    assert result.churn_objects == result.churn_cycles  # the oldest of 4 deployments per cycle
    assert result.found == result.expected  # 4 of each at full size
