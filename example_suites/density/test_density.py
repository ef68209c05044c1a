"""Pod density: many pods, then deployments with their services and configmaps.

Run against the embedded simulator:  pytest --kube-sim example_suites/density
Against a cluster:                   pytest --kube-config ~/.kube/config example_suites/density
Scale every job down for a smoke run with --burner-scale 0.1.
"""

import pytest

IMAGE = "registry.k8s.io/pause:3.9"


@pytest.mark.density(
    template="templates/pod.yml",
    replicas=10,
    iterations=5,
    qps=20,
    burst=20,
    input_vars={"image": IMAGE},
    max_wait_timeout="5m",
)
def test_pod_density(burner):
    result = burner.run()
    assert result.verified
    # the counts the markers ask for, scaled by --burner-scale (50 pods at full size)
    assert result.created == result.expected
    assert result.ready["Pod"] == result.expected["Pod"]


@pytest.mark.density(
    objects=[
        {"template": "templates/configmap.yml", "replicas": 2},
        {
            "template": "templates/deployment.yml",
            "replicas": 2,
            "input_vars": {"image": IMAGE, "pod_replicas": 3},
        },
        {"template": "templates/service.yml", "replicas": 2},
    ],
    iterations=3,
    qps=20,
    burst=20,
    max_wait_timeout="5m",
)
def test_deployment_density(burner):
    result = burner.run()
    assert result.verified
    assert set(result.expected) == {"ConfigMap", "Deployment", "Service"}
    assert result.created == result.expected  # 6 of each at full size
    assert result.ready["Deployment"] == result.expected["Deployment"]
