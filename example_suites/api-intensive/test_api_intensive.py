"""API-intensive workload (kube-burner's api-intensive): create, patch three ways, delete.

Every iteration makes a namespace with a Deployment and the ConfigMap, Secret and Service it
uses; then the Deployments are patched with a JSON patch, a strategic merge patch and a
server-side apply, over several iterations; then everything is deleted kind by kind.

Run against the embedded simulator:  pytest --kube-sim example_suites/api-intensive
"""

import pytest

JOB = {"kube-burner.io/job": "api-intensive"}
DEPLOYMENTS = {"kind": "Deployment", "api_version": "apps/v1", "label_selector": JOB}
ITERATIONS = 20


@pytest.mark.density(
    objects=[
        {"template": "templates/deployment.yml"},
        {"template": "templates/configmap.yml"},
        {"template": "templates/secret.yml"},
        {"template": "templates/service.yml"},
    ],
    name="api-intensive",
    iterations=ITERATIONS,
    qps=20,
    burst=20,
    cleanup=False,
    max_wait_timeout="5m",
)
@pytest.mark.slo("podLatency.Ready", p99="30s")
def test_create(burner):
    result = burner.run()
    assert result.verified
    assert result.ready["Deployment"] == result.expected["Deployment"]  # ITERATIONS unscaled


@pytest.mark.patch(
    objects=[
        {**DEPLOYMENTS, "template": "templates/patch-add-label.json", "patch_type": "json"},
        {**DEPLOYMENTS, "template": "templates/patch-second-container.yml", "patch_type": "apply"},
        {
            **DEPLOYMENTS,
            "template": "templates/patch-label-per-iteration.yml",
            "patch_type": "strategic",
        },
    ],
    iterations=5,
    qps=20,
    burst=20,
)
def test_patch(burner):
    result = burner.run()
    assert result.verified and not result.errors
    # 5 iterations of 3 patches of every Deployment (ITERATIONS of them at full size)
    assert result.operations == {"patch": result.iterations * 3 * result.expected["Deployment"]}


@pytest.mark.parametrize(
    "kind,api_version",
    [
        ("Deployment", "apps/v1"),
        ("Pod", "v1"),
        ("Service", "v1"),
        ("ConfigMap", "v1"),
        ("Secret", "v1"),
        ("Namespace", "v1"),
    ],
)
# allow_empty: Pods (and more) may already be gone with the Deployments deleted before them
@pytest.mark.delete(kind="Namespace", label_selector=JOB, qps=20, burst=20, allow_empty=True)
def test_delete(burner, kind, api_version):
    result = burner.run(kind=kind, api_version=api_version, label_selector=JOB)
    assert result.verified and not result.errors
