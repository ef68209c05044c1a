"""ClusterClient against the simulator: CRUD of pods and VMs as dicts, discovery, paging."""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from typing import Any

import pytest

from pytest_kubevirt_burner.cluster import (
    ApiError,
    ClusterClient,
    RequestStats,
    UnknownKindError,
)
from pytest_kubevirt_burner.sim.process import SimProcess

UUID = "0c0ffee0-0000-4000-8000-000000000001"
VM_API = "kubevirt.io/v1"


@pytest.fixture(scope="module")
def sim() -> Iterator[SimProcess]:
    proc = SimProcess()
    try:
        proc.start()
        yield proc
    finally:
        proc.cleanup()


@pytest.fixture(scope="module")
def client(sim: SimProcess) -> Iterator[ClusterClient]:
    with ClusterClient.from_config(str(sim.kubeconfig), env={}, workers=4) as c:
        yield c


def eventually(check: Callable[[], Any], timeout: float = 10.0) -> Any:
    """Poll until ``check`` returns something truthy (a wait, not a timing assertion)."""
    deadline = time.monotonic() + timeout
    while True:
        result = check()
        if result or time.monotonic() > deadline:
            return result
        time.sleep(0.05)


def namespace(client: ClusterClient, name: str) -> str:
    client.create({"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": name}})
    return name


def pod(name: str, ns: str) -> dict[str, Any]:
    return {
        "apiVersion": "v1",
        "kind": "Pod",
        "metadata": {"name": name, "namespace": ns, "labels": {"kube-burner.io/uuid": UUID}},
        "spec": {"containers": [{"name": "c", "image": "registry.k8s.io/pause:3.9"}]},
    }


def test_pod_crud_as_plain_dicts(client: ClusterClient) -> None:
    ns = namespace(client, "crud")
    created = client.create(pod("p1", ns))
    assert type(created) is dict and created["metadata"]["uid"]
    got = client.get("v1", "Pod", "p1", ns)
    assert got["metadata"]["labels"]["kube-burner.io/uuid"] == UUID
    selected = client.list("v1", "Pod", ns, label_selector=f"kube-burner.io/uuid={UUID}")
    assert [p["metadata"]["name"] for p in selected] == ["p1"]
    assert client.list("v1", "Pod", ns, label_selector="kube-burner.io/uuid=other") == []

    merged = client.patch("v1", "Pod", "p1", {"metadata": {"labels": {"m": "1"}}}, "merge", ns)
    assert merged["metadata"]["labels"]["m"] == "1"
    ops = [{"op": "add", "path": "/metadata/annotations", "value": {"a": "x"}}]
    assert client.patch("v1", "Pod", "p1", ops, "json", ns)["metadata"]["annotations"] == {"a": "x"}
    smp = {"metadata": {"labels": {"s": "2"}}}
    assert client.patch("v1", "Pod", "p1", smp, "strategic", ns)["metadata"]["labels"]["s"] == "2"
    applied = client.patch(
        "v1",
        "Pod",
        "p1",
        {"apiVersion": "v1", "kind": "Pod", "metadata": {"name": "p1", "labels": {"ap": "3"}}},
        "apply",
        ns,
        force=True,
    )
    assert applied["metadata"]["labels"]["ap"] == "3"

    current = client.get("v1", "Pod", "p1", ns)
    current["metadata"]["labels"]["u"] = "4"
    assert client.update(current)["metadata"]["labels"]["u"] == "4"
    current["metadata"]["labels"]["u"] = "stale"
    with pytest.raises(ApiError) as info:
        client.update(current)  # carries the old resourceVersion
    assert info.value.is_conflict

    client.delete("v1", "Pod", "p1", ns, grace_period=0)
    assert eventually(lambda: client.delete("v1", "Pod", "p1", ns, missing_ok=True) is None)
    with pytest.raises(ApiError) as info:
        client.get("v1", "Pod", "p1", ns)
    assert info.value.status == 404


def test_dry_run_and_delete_collection(client: ClusterClient) -> None:
    ns = namespace(client, "dry")
    client.create(pod("d0", ns), dry_run=True)
    assert client.list("v1", "Pod", ns) == []
    for i in range(3):
        labels = {"group": "a" if i < 2 else "b"}
        meta = {"name": f"c{i}", "labels": labels}
        client.create({"apiVersion": "v1", "kind": "ConfigMap", "metadata": meta}, ns)
    client.delete_collection("v1", "ConfigMap", ns, label_selector="group=a")

    def names() -> list[str]:
        # every namespace also holds kube-root-ca.crt, as on real clusters
        cms = client.list("v1", "ConfigMap", ns)
        return [c["metadata"]["name"] for c in cms if c["metadata"]["name"] != "kube-root-ca.crt"]

    assert eventually(lambda: names() == ["c2"]), names()


def test_vm_create_and_kubevirt_subresources(client: ClusterClient) -> None:
    ns = namespace(client, "vms")
    vm = {
        "apiVersion": VM_API,
        "kind": "VirtualMachine",
        "metadata": {"name": "vm1", "labels": {"kube-burner.io/uuid": UUID}},
        "spec": {
            "running": False,
            "template": {
                "spec": {"domain": {"devices": {}, "resources": {"requests": {"memory": "1Gi"}}}}
            },
        },
    }
    assert client.create(vm, ns)["metadata"]["namespace"] == ns
    client.subresource("subresources.kubevirt.io/v1", "virtualmachines", "vm1", ns, "start")
    assert eventually(lambda: client.list(VM_API, "VirtualMachineInstance", ns))
    client.subresource("subresources.kubevirt.io/v1", "virtualmachines", "vm1", ns, "stop")
    assert eventually(lambda: not client.list(VM_API, "VirtualMachineInstance", ns))
    client.delete(VM_API, "VirtualMachine", "vm1", ns)
    assert eventually(lambda: not client.list(VM_API, "VirtualMachine", ns))


def test_discovery_and_unknown_kinds(client: ClusterClient) -> None:
    groups = client.discover()
    assert {"v1", "apps/v1", VM_API} <= set(groups)
    vm = client.resource_for(VM_API, "VirtualMachine")
    assert (vm.group, vm.version, vm.plural, vm.namespaced) == (
        "kubevirt.io",
        "v1",
        "virtualmachines",
        True,
    )
    assert "status" in vm.subresources
    assert not client.resource_for("v1", "Node").namespaced
    with pytest.raises(UnknownKindError) as info:
        client.resource_for(VM_API, "VirtualMachin")
    assert (
        str(info.value)
        == "unknown kind 'VirtualMachin' in kubevirt.io/v1; did you mean 'VirtualMachine'?"
    )
    with pytest.raises(UnknownKindError) as info:
        client.resource_for("v1", "VirtualMachine")
    assert str(info.value) == (
        "unknown kind 'VirtualMachine' in v1; 'VirtualMachine' is served as kubevirt.io/v1"
    )
    assert client.server_version()["gitVersion"]
    assert client.node_count() == 3


def test_list_follows_continue_tokens(client: ClusterClient) -> None:
    ns = namespace(client, "paging")
    for i in range(23):
        client.create(
            {"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": f"cm{i:02}"}}, ns
        )
    stats = RequestStats()
    items, rv = client.list_with_rv("v1", "ConfigMap", ns, limit=5, stats=stats)
    # every namespace also holds kube-root-ca.crt, as on real clusters
    items = [i for i in items if i["metadata"]["name"] != "kube-root-ca.crt"]
    assert sorted(i["metadata"]["name"] for i in items) == [f"cm{i:02}" for i in range(23)]
    assert len({i["metadata"]["uid"] for i in items}) == 23
    assert rv and stats.snapshot().requests == {"list": 5}
    all_ns = client.list("v1", "ConfigMap", label_selector=None, limit=7)
    assert {i["metadata"]["name"] for i in items} <= {i["metadata"]["name"] for i in all_ns}
