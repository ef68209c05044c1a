"""Discovery, KubeVirt custom resources, CRDs and the DynamicClient."""

from __future__ import annotations

import json
import time
from typing import Any

import pytest
import urllib3
from kubernetes import client, config, dynamic
from kubernetes.client.exceptions import ApiException

from .simserver import TOKEN, SimServer

NS = "default"


def vm(name: str) -> dict[str, Any]:
    return {
        "apiVersion": "kubevirt.io/v1",
        "kind": "VirtualMachine",
        "metadata": {"name": name},
        "spec": {
            "runStrategy": "Halted",
            "template": {"spec": {"domain": {"devices": {}, "resources": {}}}},
        },
    }


def crd(plural: str = "widgets", kind: str = "Widget") -> dict[str, Any]:
    return {
        "apiVersion": "apiextensions.k8s.io/v1",
        "kind": "CustomResourceDefinition",
        "metadata": {"name": f"{plural}.example.com"},
        "spec": {
            "group": "example.com",
            "scope": "Namespaced",
            "names": {
                "plural": plural,
                "singular": kind.lower(),
                "kind": kind,
                "shortNames": ["wd"],
            },
            "versions": [
                {
                    "name": "v1",
                    "served": True,
                    "storage": True,
                    "schema": {
                        "openAPIV3Schema": {
                            "type": "object",
                            "x-kubernetes-preserve-unknown-fields": True,
                        }
                    },
                    "subresources": {"status": {}},
                }
            ],
        },
    }


def get(sim: SimServer, path: str) -> tuple[int, Any]:
    r = urllib3.PoolManager().request(
        "GET", sim.url + path, headers={"Authorization": f"Bearer {TOKEN}"}
    )
    return r.status, json.loads(r.data) if r.data else None


def test_version_and_discovery(sim: SimServer, api: Any) -> None:
    info = client.VersionApi(api).get_code()
    assert info.git_version.startswith("v1.31") and "sim" in info.git_version
    status, doc = get(sim, "/version")
    assert status == 200 and doc["major"] == "1"
    groups = client.ApisApi(api).get_api_versions()
    names = {g.name: g for g in groups.groups}
    assert names["apps"].preferred_version.version == "v1"
    assert "subresources.kubevirt.io" in names
    core = client.CoreApi(api).get_api_versions()
    assert core.versions == ["v1"] and core.server_address_by_client_cidrs
    res = client.CoreV1Api(api).get_api_resources()
    pods = {r.name: r for r in res.resources}
    assert pods["pods"].kind == "Pod" and pods["pods"].namespaced
    assert "po" in pods["pods"].short_names and "watch" in pods["pods"].verbs
    assert "pods/status" in pods
    status, doc = get(sim, "/apis/subresources.kubevirt.io/v1")
    assert status == 200
    assert "virtualmachines/start" in {r["name"] for r in doc["resources"]}
    for path in ("/healthz", "/readyz", "/livez"):
        r = urllib3.PoolManager().request("GET", sim.url + path)
        assert (r.status, r.data) == (200, b"ok")


def test_discovery_ignores_accept_header(sim: SimServer) -> None:
    accept = "application/json;g=apidiscovery.k8s.io;v=v2;as=APIGroupDiscoveryList,application/json"
    r = urllib3.PoolManager().request("GET", sim.url + "/apis", headers={"Accept": accept})
    assert r.status == 200 and r.headers["Content-Type"] == "application/json"
    assert json.loads(r.data)["kind"] == "APIGroupList"


def test_virtual_machine_crud(api: Any) -> None:
    co = client.CustomObjectsApi(api)
    args = ("kubevirt.io", "v1", NS, "virtualmachines")
    created = co.create_namespaced_custom_object(*args, vm("vm1"))
    assert created["metadata"]["uid"]
    got = co.get_namespaced_custom_object(*args, "vm1")
    assert got["spec"]["runStrategy"] == "Halted"
    patched = co.patch_namespaced_custom_object(*args, "vm1", {"spec": {"runStrategy": "Always"}})
    assert patched["spec"]["runStrategy"] == "Always"
    listed = co.list_namespaced_custom_object(*args)
    assert [i["metadata"]["name"] for i in listed["items"]] == ["vm1"]
    assert listed["kind"] == "VirtualMachineList"
    got = co.get_namespaced_custom_object_status(*args, "vm1")
    got["status"] = {"printableStatus": "Stopped"}
    out = co.replace_namespaced_custom_object_status(*args, "vm1", got)
    assert out["status"]["printableStatus"] == "Stopped"
    deleted = co.delete_namespaced_custom_object(*args, "vm1")
    assert deleted["metadata"]["name"] == "vm1"
    with pytest.raises(ApiException) as exc:
        co.get_namespaced_custom_object(*args, "vm1")
    assert exc.value.status == 404


def test_kubevirt_subresource_route(sim: SimServer, api: Any) -> None:
    co = client.CustomObjectsApi(api)
    co.create_namespaced_custom_object("kubevirt.io", "v1", NS, "virtualmachines", vm("vm2"))
    http = urllib3.PoolManager()
    base = f"{sim.url}/apis/subresources.kubevirt.io/v1/namespaces/{NS}/virtualmachines"
    headers = {"Authorization": f"Bearer {TOKEN}", "Content-Type": "application/json"}
    r = http.request("PUT", f"{base}/vm2/start", body=b"{}", headers=headers)
    assert r.status == 202, r.data
    started = co.get_namespaced_custom_object("kubevirt.io", "v1", NS, "virtualmachines", "vm2")
    assert started["spec"]["runStrategy"] == "Always"
    r = http.request("PUT", f"{base}/nosuchvm/start", body=b"{}", headers=headers)
    assert r.status == 404 and json.loads(r.data)["kind"] == "Status"
    assert http.request("PUT", f"{base}/vm2/explode", body=b"{}", headers=headers).status == 404
    assert http.request("GET", f"{base}/vm2/start", headers=headers).status == 405


def wait_for(fn: Any, timeout: float = 5.0) -> Any:
    deadline = time.monotonic() + timeout
    while True:
        try:
            value = fn()
            if value:
                return value
        except ApiException:
            if time.monotonic() > deadline:
                raise
        if time.monotonic() > deadline:
            raise AssertionError("condition not met")
        time.sleep(0.05)


def test_crd_makes_new_resource_served(sim: SimServer, api: Any) -> None:
    ext = client.ApiextensionsV1Api(api)
    ext.create_custom_resource_definition(crd())

    def established() -> bool:
        conds = ext.read_custom_resource_definition("widgets.example.com").status.conditions
        return any(c.type == "Established" and c.status == "True" for c in conds or [])

    wait_for(established)
    status, doc = get(sim, "/apis/example.com/v1")
    assert status == 200
    by_name = {r["name"]: r for r in doc["resources"]}
    assert by_name["widgets"]["kind"] == "Widget" and "widgets/status" in by_name
    status, groups = get(sim, "/apis")
    assert "example.com" in {g["name"] for g in groups["groups"]}
    co = client.CustomObjectsApi(api)
    body = {
        "apiVersion": "example.com/v1",
        "kind": "Widget",
        "metadata": {"name": "w1"},
        "spec": {"size": 3},
    }
    co.create_namespaced_custom_object("example.com", "v1", NS, "widgets", body)
    listed = co.list_namespaced_custom_object("example.com", "v1", NS, "widgets")
    assert [w["spec"]["size"] for w in listed["items"]] == [3]
    ext.delete_custom_resource_definition("widgets.example.com")
    wait_for(lambda: get(sim, "/apis/example.com/v1")[0] == 404)
    with pytest.raises(ApiException) as exc:
        co.list_namespaced_custom_object("example.com", "v1", NS, "widgets")
    assert exc.value.status == 404


def test_dynamic_client(sim: SimServer, tmp_path: Any) -> None:
    api_client = config.new_client_from_config(config_file=str(sim.kubeconfig))
    try:
        dyn = dynamic.DynamicClient(api_client, cache_file=str(tmp_path / "discovery.json"))
        vms = dyn.resources.get(api_version="kubevirt.io/v1", kind="VirtualMachine")
        vms.create(body=vm("dvm"), namespace=NS)
        assert vms.get(name="dvm", namespace=NS).spec.runStrategy == "Halted"
        names = [i.metadata.name for i in vms.get(namespace=NS).items]
        assert "dvm" in names
        vms.delete(name="dvm", namespace=NS)
        pods = dyn.resources.get(api_version="v1", kind="Pod")
        assert pods.namespaced
    finally:
        api_client.close()
