"""CRUD through the official client: core and apps kinds, errors as metav1.Status."""

from __future__ import annotations

import json
from typing import Any

import pytest
import urllib3
from kubernetes import client
from kubernetes.client.exceptions import ApiException

from .simserver import TOKEN, SimServer

NS = "crud"


def pod(name: str, **labels: str) -> dict[str, Any]:
    return {
        "apiVersion": "v1",
        "kind": "Pod",
        "metadata": {"name": name, "labels": labels},
        "spec": {"containers": [{"name": "c", "image": "busybox"}]},
    }


def deployment(name: str) -> dict[str, Any]:
    labels = {"app": name}
    return {
        "apiVersion": "apps/v1",
        "kind": "Deployment",
        "metadata": {"name": name},
        "spec": {
            "replicas": 1,
            "selector": {"matchLabels": labels},
            "template": {
                "metadata": {"labels": labels},
                "spec": {"containers": [{"name": "c", "image": "nginx", "env": []}]},
            },
        },
    }


def raw(
    sim: SimServer,
    method: str,
    path: str,
    body: bytes | None = None,
    ctype: str = "application/json",
) -> urllib3.BaseHTTPResponse:
    headers = {"Authorization": f"Bearer {TOKEN}"}
    if body is not None:
        headers["Content-Type"] = ctype
    return urllib3.PoolManager().request(method, sim.url + path, body=body, headers=headers)


@pytest.fixture(scope="module", autouse=True)
def namespace(core: Any) -> None:
    core.create_namespace({"metadata": {"name": NS}})


def test_namespace_get_and_list(core: Any) -> None:
    ns = core.read_namespace(NS)
    assert ns.metadata.name == NS and ns.metadata.uid
    assert NS in [n.metadata.name for n in core.list_namespace().items]


def test_pod_crud(core: Any) -> None:
    created = core.create_namespaced_pod(NS, pod("p1", app="a"))
    assert created.metadata.namespace == NS
    assert created.metadata.resource_version
    got = core.read_namespaced_pod("p1", NS)
    assert got.metadata.uid == created.metadata.uid
    got.metadata.labels["extra"] = "yes"
    updated = core.replace_namespaced_pod("p1", NS, got)
    assert updated.metadata.labels["extra"] == "yes"
    assert int(updated.metadata.resource_version) > int(created.metadata.resource_version)
    names = [p.metadata.name for p in core.list_namespaced_pod(NS).items]
    assert names == ["p1"]
    assert "p1" in [p.metadata.name for p in core.list_pod_for_all_namespaces().items]
    deleted = core.delete_namespaced_pod("p1", NS, grace_period_seconds=0)
    assert deleted.metadata.name == "p1"
    with pytest.raises(ApiException) as exc:
        core.read_namespaced_pod("p1", NS)
    assert exc.value.status == 404


def test_configmap_secret_service(core: Any) -> None:
    cm = core.create_namespaced_config_map(NS, {"metadata": {"name": "cm"}, "data": {"k": "v"}})
    cm.data["k"] = "w"
    assert core.replace_namespaced_config_map("cm", NS, cm).data == {"k": "w"}
    patched = core.patch_namespaced_config_map("cm", NS, {"data": {"n": "1"}})
    assert patched.data == {"k": "w", "n": "1"}
    status = core.delete_namespaced_config_map("cm", NS)
    assert status["kind"] == "Status" and status["status"] == "Success"

    sec = core.create_namespaced_secret(NS, {"metadata": {"name": "s"}, "data": {"a": "Yg=="}})
    assert sec.data == {"a": "Yg=="}
    assert core.read_namespaced_secret("s", NS).metadata.uid == sec.metadata.uid
    core.delete_namespaced_secret("s", NS)

    svc = {
        "metadata": {"name": "svc"},
        "spec": {"selector": {"app": "a"}, "ports": [{"port": 80, "protocol": "TCP"}]},
    }
    created = core.create_namespaced_service(NS, svc)
    assert created.spec.ports[0].port == 80
    assert [s.metadata.name for s in core.list_namespaced_service(NS).items] == ["svc"]
    core.delete_namespaced_service("svc", NS)
    assert core.list_namespaced_service(NS).items == []


def test_deployment_patch_types(api: Any) -> None:
    apps = client.AppsV1Api(api)
    apps.create_namespaced_deployment(NS, deployment("d1"))
    assert apps.read_namespaced_deployment("d1", NS).spec.replicas == 1
    smp = {
        "spec": {
            "template": {
                "spec": {"containers": [{"name": "c", "env": [{"name": "A", "value": "1"}]}]}
            }
        }
    }
    d = apps.patch_namespaced_deployment("d1", NS, smp)
    container = d.spec.template.spec.containers[0]
    assert container.image == "nginx" and container.env[0].name == "A"
    d = apps.patch_namespaced_deployment(
        "d1", NS, [{"op": "replace", "path": "/spec/replicas", "value": 3}]
    )
    assert d.spec.replicas == 3
    d = apps.patch_namespaced_deployment(
        "d1", NS, {"metadata": {"labels": {"m": "x"}}}, _content_type="application/merge-patch+json"
    )
    assert d.metadata.labels == {"m": "x"}
    status = apps.delete_namespaced_deployment("d1", NS)
    assert status["status"] == "Success"
    with pytest.raises(ApiException) as exc:
        apps.read_namespaced_deployment("d1", NS)
    assert exc.value.status == 404
    body = json.loads(exc.value.body)
    assert body["reason"] == "NotFound"
    assert body["message"] == 'deployments.apps "d1" not found'


def test_status_and_scale_subresources(api: Any) -> None:
    apps = client.AppsV1Api(api)
    apps.create_namespaced_deployment(NS, deployment("d2"))
    d = apps.read_namespaced_deployment_status("d2", NS)
    d.status = {"replicas": 1, "readyReplicas": 1}
    out = apps.replace_namespaced_deployment_status("d2", NS, d)
    assert out.status.ready_replicas == 1
    assert apps.read_namespaced_deployment("d2", NS).status.ready_replicas == 1
    scale = apps.read_namespaced_deployment_scale("d2", NS)
    assert scale.spec.replicas == 1
    apps.patch_namespaced_deployment_scale("d2", NS, {"spec": {"replicas": 4}})
    assert apps.read_namespaced_deployment("d2", NS).spec.replicas == 4


def test_conflict_on_stale_update(core: Any) -> None:
    core.create_namespaced_config_map(NS, {"metadata": {"name": "stale"}})
    first = core.read_namespaced_config_map("stale", NS)
    core.patch_namespaced_config_map("stale", NS, {"data": {"a": "1"}})
    first.data = {"b": "2"}
    with pytest.raises(ApiException) as exc:
        core.replace_namespaced_config_map("stale", NS, first)
    assert exc.value.status == 409
    assert json.loads(exc.value.body)["reason"] == "Conflict"


def test_already_exists(core: Any) -> None:
    core.create_namespaced_config_map(NS, {"metadata": {"name": "dup"}})
    with pytest.raises(ApiException) as exc:
        core.create_namespaced_config_map(NS, {"metadata": {"name": "dup"}})
    assert exc.value.status == 409
    body = json.loads(exc.value.body)
    assert body["reason"] == "AlreadyExists"
    assert body["details"] == {"name": "dup", "kind": "configmaps"}


def test_invalid_pod_is_422_with_causes(core: Any) -> None:
    with pytest.raises(ApiException) as exc:
        core.create_namespaced_pod(NS, {"metadata": {"name": "bad"}, "spec": {"containers": []}})
    assert exc.value.status == 422
    body = json.loads(exc.value.body)
    assert body["reason"] == "Invalid"
    assert body["details"]["causes"]


def test_dry_run_does_not_store(core: Any) -> None:
    out = core.create_namespaced_config_map(NS, {"metadata": {"name": "dry"}}, dry_run="All")
    assert out.metadata.name == "dry"
    with pytest.raises(ApiException):
        core.read_namespaced_config_map("dry", NS)


def test_delete_collection_with_selector(core: Any) -> None:
    for i in range(3):
        core.create_namespaced_config_map(
            NS, {"metadata": {"name": f"dc{i}", "labels": {"grp": "x" if i < 2 else "y"}}}
        )
    resp = core.delete_collection_namespaced_config_map(
        NS, label_selector="grp=x", _preload_content=False
    )
    out = json.loads(resp.data)
    assert out["kind"] == "ConfigMapList"
    assert sorted(i["metadata"]["name"] for i in out["items"]) == ["dc0", "dc1"]
    left = core.list_namespaced_config_map(NS, label_selector="grp").items
    assert [c.metadata.name for c in left] == ["dc2"]


def test_delete_with_preconditions(core: Any) -> None:
    core.create_namespaced_config_map(NS, {"metadata": {"name": "pre"}})
    with pytest.raises(ApiException) as exc:
        core.delete_namespaced_config_map("pre", NS, body={"preconditions": {"uid": "nope"}})
    assert exc.value.status == 409
    core.delete_namespaced_config_map("pre", NS)


def test_finalizer_defers_delete(core: Any) -> None:
    core.create_namespaced_config_map(
        NS, {"metadata": {"name": "fin", "finalizers": ["example.com/x"]}}
    )
    out = core.delete_namespaced_config_map("fin", NS)
    assert out["metadata"]["deletionTimestamp"]
    assert core.read_namespaced_config_map("fin", NS).metadata.deletion_timestamp
    core.patch_namespaced_config_map("fin", NS, {"metadata": {"finalizers": None}})
    with pytest.raises(ApiException) as exc:
        core.read_namespaced_config_map("fin", NS)
    assert exc.value.status == 404


def test_bad_json_is_400(sim: SimServer) -> None:
    r = raw(sim, "POST", f"/api/v1/namespaces/{NS}/configmaps", b"{not json")
    assert r.status == 400
    assert json.loads(r.data)["reason"] == "BadRequest"


def test_kind_mismatch_is_400(sim: SimServer) -> None:
    body = json.dumps({"apiVersion": "v1", "kind": "Secret", "metadata": {"name": "x"}})
    r = raw(sim, "POST", f"/api/v1/namespaces/{NS}/configmaps", body.encode())
    assert r.status == 400
    body = json.dumps(
        {"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "x", "namespace": "other"}}
    )
    r = raw(sim, "POST", f"/api/v1/namespaces/{NS}/configmaps", body.encode())
    assert r.status == 400
    assert "namespace" in json.loads(r.data)["message"]


def test_bad_selector_is_400(core: Any) -> None:
    with pytest.raises(ApiException) as exc:
        core.list_namespaced_pod(NS, label_selector="a in (b")
    assert exc.value.status == 400
    with pytest.raises(ApiException) as exc:
        core.list_namespaced_config_map(NS, field_selector="spec.foo=bar")
    assert exc.value.status == 400


@pytest.mark.parametrize(
    "ctype", ["application/vnd.kubernetes.protobuf", "application/cbor", "text/plain"]
)
def test_unsupported_media_type_is_415(sim: SimServer, ctype: str) -> None:
    r = raw(sim, "POST", f"/api/v1/namespaces/{NS}/configmaps", b"\x00\x01", ctype)
    assert r.status == 415
    assert json.loads(r.data)["reason"] == "UnsupportedMediaType"


def test_patch_with_wrong_type_is_415(sim: SimServer, core: Any) -> None:
    core.create_namespaced_config_map(NS, {"metadata": {"name": "p415"}})
    r = raw(sim, "PATCH", f"/api/v1/namespaces/{NS}/configmaps/p415", b"{}")
    assert r.status == 415


def test_body_too_large_is_413(sim: SimServer) -> None:
    big = json.dumps({"metadata": {"name": "big"}, "data": {"x": "a" * (3 * 1024 * 1024)}})
    r = raw(sim, "POST", f"/api/v1/namespaces/{NS}/configmaps", big.encode())
    assert r.status == 413
    assert json.loads(r.data)["reason"] == "RequestEntityTooLarge"


def test_method_not_allowed_is_405(sim: SimServer) -> None:
    r = raw(sim, "POST", f"/api/v1/namespaces/{NS}/configmaps/x", b"{}")
    assert r.status == 405
    assert json.loads(r.data)["reason"] == "MethodNotAllowed"
    r = raw(sim, "POST", "/api/v1/pods", b"{}")
    assert r.status == 405


@pytest.mark.parametrize(
    "path",
    [
        "/api/v1/widgets",
        "/apis/nope.io/v1/things",
        "/api/v1/namespaces/x/pods/p/logs",
        "/api/v2",
        "/something",
        "/openapi/v2",
        "/openapi/v3",
    ],
)
def test_unknown_paths_are_404_status(sim: SimServer, path: str) -> None:
    r = raw(sim, "GET", path)
    assert r.status == 404
    body = json.loads(r.data)
    assert body["kind"] == "Status"
    assert body["message"] == "the server could not find the requested resource"


def test_namespace_delete_is_deferred(core: Any) -> None:
    core.create_namespace({"metadata": {"name": "doomed"}})
    out = core.delete_namespace("doomed")
    assert out["metadata"]["deletionTimestamp"]
    assert core.read_namespace("doomed").status.phase == "Terminating"


def test_server_side_apply_creates_then_updates(sim: SimServer, core: Any) -> None:
    path = f"/api/v1/namespaces/{NS}/configmaps/applied?fieldManager=test"
    doc = b"apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: applied\ndata:\n  a: '1'\n"
    r = raw(sim, "PATCH", path, doc, "application/apply-patch+yaml")
    assert r.status == 201, r.data
    r = raw(sim, "PATCH", path, doc.replace(b"'1'", b"'2'"), "application/apply-patch+yaml")
    assert r.status == 200
    assert core.read_namespaced_config_map("applied", NS).data == {"a": "2"}
    r = raw(sim, "PATCH", path.split("?")[0], doc, "application/apply-patch+yaml")
    assert r.status == 422  # fieldManager is required


def test_dry_run_update_patch_delete(core: Any) -> None:
    core.create_namespaced_config_map(NS, {"metadata": {"name": "dr"}, "data": {"a": "1"}})
    cm = core.read_namespaced_config_map("dr", NS)
    cm.data = {"a": "2"}
    assert core.replace_namespaced_config_map("dr", NS, cm, dry_run="All").data == {"a": "2"}
    out = core.patch_namespaced_config_map("dr", NS, {"data": {"a": "3"}}, dry_run="All")
    assert out.data == {"a": "3"}
    core.delete_namespaced_config_map("dr", NS, dry_run="All")
    assert core.read_namespaced_config_map("dr", NS).data == {"a": "1"}
