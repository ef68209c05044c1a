"""PATCH media types: JSON patch, merge patch, strategic merge patch, server-side apply."""

from __future__ import annotations

import copy
import json
from typing import Any

import pytest

from pytest_kubevirt_burner.sim.errors import ApiError
from pytest_kubevirt_burner.sim.patch import (
    APPLY_PATCH,
    JSON_PATCH,
    MERGE_PATCH,
    STRATEGIC_PATCH,
    apply_patch,
    is_builtin,
)
from pytest_kubevirt_burner.sim.registry import Registry

REG = Registry.builtin()
PODS = REG.core("pods")
SVC = REG.core("services")
CM = REG.core("configmaps")
DEPLOY = REG.lookup("apps", "deployments")
VM = REG.lookup("kubevirt.io", "virtualmachines")
DV = REG.lookup("cdi.kubevirt.io", "datavolumes")

POD: dict[str, Any] = {
    "apiVersion": "v1",
    "kind": "Pod",
    "metadata": {
        "name": "p",
        "namespace": "ns",
        "resourceVersion": "5",
        "labels": {"a": "1", "b": "2"},
        "finalizers": ["x/one", "x/two"],
        "ownerReferences": [{"apiVersion": "v1", "kind": "K", "name": "o", "uid": "u1"}],
    },
    "spec": {
        "containers": [
            {
                "name": "a",
                "image": "img:1",
                "env": [{"name": "E1", "value": "1"}, {"name": "E2", "value": "2"}],
                "ports": [{"containerPort": 80, "protocol": "TCP"}],
                "args": ["x", "y"],
            },
            {"name": "b", "image": "img:2"},
        ],
        "tolerations": [{"key": "k1", "operator": "Exists"}],
        "volumes": [{"name": "v1", "emptyDir": {}}],
    },
    "status": {"conditions": [{"type": "Ready", "status": "False"}]},
}


def patch(body: Any, ctype: str, rt: Any = PODS, current: Any = POD, **kw: Any) -> dict[str, Any]:
    raw = body if isinstance(body, bytes) else json.dumps(body).encode()
    before = copy.deepcopy(current)
    out = apply_patch(rt, current, raw, ctype, kw.get("manager", "m"), False)
    assert current == before  # the stored object is never modified
    return out


def fails(
    body: Any, ctype: str, rt: Any = PODS, current: Any = POD, manager: Any = "m"
) -> ApiError:
    raw = body if isinstance(body, bytes) else json.dumps(body).encode()
    with pytest.raises(ApiError) as info:
        apply_patch(rt, current, raw, ctype, manager, False)
    return info.value


# ------------------------------------------------------------------ JSON patch


def test_json_patch_ops() -> None:
    out = patch(
        [
            {"op": "replace", "path": "/metadata/labels/a", "value": "9"},
            {"op": "add", "path": "/metadata/labels/c", "value": "3"},
            {"op": "remove", "path": "/metadata/labels/b"},
            {"op": "add", "path": "/spec/containers/-", "value": {"name": "c", "image": "i"}},
            {"op": "test", "path": "/metadata/name", "value": "p"},
            {"op": "copy", "from": "/metadata/name", "path": "/metadata/annotations"},
            {"op": "move", "from": "/metadata/annotations", "path": "/metadata/generateName"},
        ],
        JSON_PATCH,
    )
    assert out["metadata"]["labels"] == {"a": "9", "c": "3"}
    assert [c["name"] for c in out["spec"]["containers"]] == ["a", "b", "c"]
    assert out["metadata"]["generateName"] == "p" and "annotations" not in out["metadata"]


def test_json_patch_failed_test_is_422() -> None:
    e = fails([{"op": "test", "path": "/metadata/name", "value": "q"}], JSON_PATCH)
    assert (e.code, e.reason) == (422, "Invalid")
    assert e.message == "the server rejected our request due to an error in our request"
    assert e.details is not None
    assert e.details["causes"][0]["reason"] == "UnexpectedServerResponse"


@pytest.mark.parametrize(
    "ops",
    [
        [{"op": "remove", "path": "/metadata/nothing"}],
        [{"op": "replace", "path": "/spec/containers/9/name", "value": "x"}],
        [{"op": "frobnicate", "path": "/a"}],
        [{"path": "/a"}],
        [{"op": "replace", "path": "", "value": [1]}],
    ],
)
def test_json_patch_apply_errors_are_422(ops: list[Any]) -> None:
    assert fails(ops, JSON_PATCH).code == 422


@pytest.mark.parametrize("body", [b"{not json", b'{"op": "add"}', b'"x"'])
def test_json_patch_malformed_is_400(body: bytes) -> None:
    e = fails(body, JSON_PATCH)
    assert (e.code, e.reason) == (400, "BadRequest")


def test_json_patch_works_for_custom_kinds() -> None:
    vm = {
        "apiVersion": "kubevirt.io/v1",
        "kind": "VirtualMachine",
        "metadata": {"name": "v"},
        "spec": {},
    }
    out = patch([{"op": "add", "path": "/spec/running", "value": True}], JSON_PATCH, VM, vm)
    assert out["spec"]["running"] is True


# ------------------------------------------------------------------ merge patch


def test_merge_patch_rfc7386() -> None:
    out = patch(
        {
            "metadata": {"labels": {"a": None, "z": "26"}},
            "spec": {"tolerations": [{"key": "new"}], "volumes": None},
        },
        MERGE_PATCH,
    )
    assert out["metadata"]["labels"] == {"b": "2", "z": "26"}
    assert out["spec"]["tolerations"] == [{"key": "new"}]  # lists replaced
    assert "volumes" not in out["spec"]
    assert out["spec"]["containers"] == POD["spec"]["containers"]


def test_merge_patch_content_type_params_and_custom_kind() -> None:
    vm = {
        "apiVersion": "kubevirt.io/v1",
        "kind": "VirtualMachine",
        "metadata": {"name": "v"},
        "spec": {"a": {"b": 1}},
    }
    out = patch({"spec": {"a": {"c": 2}}}, MERGE_PATCH + "; charset=utf-8", VM, vm)
    assert out["spec"] == {"a": {"b": 1, "c": 2}}


@pytest.mark.parametrize("body", [b"[1]", b"nope", b"3"])
def test_merge_patch_malformed_is_400(body: bytes) -> None:
    assert fails(body, MERGE_PATCH).code == 400


# ------------------------------------------------------------------ strategic merge patch


def test_strategic_merges_keyed_lists() -> None:
    out = patch(
        {
            "spec": {
                "containers": [
                    {
                        "name": "a",
                        "image": "img:9",
                        "env": [{"name": "E2", "value": "x"}, {"name": "E3", "value": "3"}],
                    },
                    {"name": "new", "image": "n"},
                ],
                "tolerations": [{"key": "t2", "operator": "Exists"}],
            },
            "status": {
                "conditions": [{"type": "Ready", "status": "True"}, {"type": "X", "status": "True"}]
            },
        },
        STRATEGIC_PATCH,
    )
    cs = out["spec"]["containers"]
    assert [c["name"] for c in cs] == ["a", "b", "new"]
    assert cs[0]["image"] == "img:9" and cs[0]["args"] == ["x", "y"]
    assert cs[0]["env"] == [
        {"name": "E1", "value": "1"},
        {"name": "E2", "value": "x"},
        {"name": "E3", "value": "3"},
    ]
    assert out["spec"]["tolerations"] == [{"key": "t2", "operator": "Exists"}]  # replaced
    assert out["status"]["conditions"] == [
        {"type": "Ready", "status": "True"},
        {"type": "X", "status": "True"},
    ]


def test_strategic_ports_owner_refs_and_finalizers() -> None:
    out = patch(
        {
            "metadata": {
                "finalizers": ["x/two", "x/three"],
                "ownerReferences": [{"uid": "u2", "apiVersion": "v1", "kind": "K", "name": "o2"}],
            },
            "spec": {"containers": [{"name": "a", "ports": [{"containerPort": 443}]}]},
        },
        STRATEGIC_PATCH,
    )
    assert out["metadata"]["finalizers"] == ["x/one", "x/two", "x/three"]
    assert [o["uid"] for o in out["metadata"]["ownerReferences"]] == ["u1", "u2"]
    assert [p["containerPort"] for p in out["spec"]["containers"][0]["ports"]] == [80, 443]


def test_strategic_service_ports_keyed_by_port() -> None:
    svc = {
        "metadata": {"name": "s"},
        "spec": {"ports": [{"port": 80, "name": "http"}, {"port": 443}]},
    }
    out = patch({"spec": {"ports": [{"port": 80, "name": "web"}]}}, STRATEGIC_PATCH, SVC, svc)
    assert out["spec"]["ports"] == [{"port": 80, "name": "web"}, {"port": 443}]


def test_strategic_directives() -> None:
    out = patch(
        {
            "$deleteFromPrimitiveList/finalizers": ["x/one"],
            "metadata": {
                "$deleteFromPrimitiveList/finalizers": ["x/one"],
                "labels": {"$patch": "replace", "only": "me"},
            },
            "spec": {
                "containers": [{"name": "b", "$patch": "delete"}],
                "volumes": [{"$patch": "replace"}, {"name": "v9", "emptyDir": {}}],
                "$setElementOrder/containers": [{"name": "a"}],
            },
            "status": {"$patch": "delete"},
        },
        STRATEGIC_PATCH,
    )
    assert out["metadata"]["finalizers"] == ["x/two"]
    assert out["metadata"]["labels"] == {"only": "me"}
    assert [c["name"] for c in out["spec"]["containers"]] == ["a"]
    assert out["spec"]["volumes"] == [{"name": "v9", "emptyDir": {}}]
    assert "status" not in out


def test_strategic_set_element_order_and_retain_keys() -> None:
    out = patch(
        {
            "spec": {
                "$setElementOrder/containers": [{"name": "b"}, {"name": "a"}],
                "containers": [{"name": "a", "image": "z"}],
            },
            "metadata": {"$retainKeys": ["name", "namespace", "labels"], "labels": {"c": "3"}},
        },
        STRATEGIC_PATCH,
    )
    assert [c["name"] for c in out["spec"]["containers"]] == ["b", "a"]
    assert set(out["metadata"]) == {"name", "namespace", "labels"}
    assert out["metadata"]["labels"] == {"a": "1", "b": "2", "c": "3"}
    out = patch({"metadata": {"$setElementOrder/finalizers": ["x/two", "x/one"]}}, STRATEGIC_PATCH)
    assert out["metadata"]["finalizers"] == ["x/two", "x/one"]


def test_strategic_null_deletes_and_merge_directive() -> None:
    out = patch({"metadata": {"labels": {"a": None}, "$patch": "merge"}}, STRATEGIC_PATCH)
    assert out["metadata"]["labels"] == {"b": "2"}


def test_strategic_unknown_directive_is_400() -> None:
    assert fails({"metadata": {"$patch": "explode"}}, STRATEGIC_PATCH).code == 400


@pytest.mark.parametrize("rt", [VM, DV])
def test_strategic_refused_for_custom_kinds(rt: Any) -> None:
    e = fails({"spec": {}}, STRATEGIC_PATCH, rt, {"metadata": {"name": "x"}})
    assert (e.code, e.reason) == (415, "UnsupportedMediaType")
    assert "application/strategic-merge-patch+json" in e.message
    assert is_builtin(DEPLOY) and is_builtin(PODS) and not is_builtin(VM)


def test_strategic_for_deployments() -> None:
    d = {
        "metadata": {"name": "d"},
        "spec": {
            "replicas": 1,
            "template": {"spec": {"containers": [{"name": "c", "image": "a"}]}},
        },
    }
    out = patch(
        {
            "spec": {
                "replicas": 3,
                "template": {"spec": {"containers": [{"name": "c", "image": "b"}]}},
            }
        },
        STRATEGIC_PATCH,
        DEPLOY,
        d,
    )
    assert out["spec"]["replicas"] == 3
    assert out["spec"]["template"]["spec"]["containers"] == [{"name": "c", "image": "b"}]


# ------------------------------------------------------------------ general errors


def test_unsupported_content_type_is_415() -> None:
    e = fails({}, "application/vnd.kubernetes.protobuf")
    assert (e.code, e.reason) == (415, "UnsupportedMediaType")
    assert fails({}, "").code == 415


def test_missing_object_is_404() -> None:
    e = fails({}, MERGE_PATCH, current=None)
    assert e.code == 404


# ------------------------------------------------------------------ server-side apply


def test_apply_requires_field_manager() -> None:
    e = fails(b"metadata: {name: p}", APPLY_PATCH, manager=None)
    assert (e.code, e.reason) == (422, "Invalid")
    assert e.message == (
        'PatchOptions.meta.k8s.io "" is invalid: fieldManager: Required value: is required for'
        " apply patch"
    )


def test_apply_creates_when_absent() -> None:
    body = b"apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: c\ndata:\n  k: v\n"
    out = apply_patch(CM, None, body, APPLY_PATCH, "mgr", False)
    assert out == {
        "apiVersion": "v1",
        "kind": "ConfigMap",
        "metadata": {"name": "c"},
        "data": {"k": "v"},
    }
    out = apply_patch(CM, None, b'{"metadata": {"name": "c"}}', APPLY_PATCH, "mgr", True)
    assert out["kind"] == "ConfigMap"


def test_apply_merges_into_existing() -> None:
    body = (
        b"apiVersion: v1\nkind: Pod\nmetadata:\n  name: p\n  labels: {c: '3'}\n"
        b"spec:\n  containers:\n  - name: a\n    image: img:2\n"
    )
    out = patch(body, APPLY_PATCH)
    assert out["metadata"]["labels"] == {"a": "1", "b": "2", "c": "3"}
    assert [c["name"] for c in out["spec"]["containers"]] == ["a", "b"]
    assert out["spec"]["containers"][0]["image"] == "img:2"
    assert out["metadata"]["resourceVersion"] == "5"
    vm = {
        "apiVersion": "kubevirt.io/v1",
        "kind": "VirtualMachine",
        "metadata": {"name": "v"},
        "spec": {"x": [1], "y": 1},
    }
    out = patch(b"spec: {x: [2]}", APPLY_PATCH, VM, vm)
    assert out["spec"] == {"x": [2], "y": 1}


@pytest.mark.parametrize(
    "body",
    [
        b"a: [unclosed",
        b"- just\n- a list\n",
        b"kind: Service\nmetadata: {name: p}",
        b"apiVersion: apps/v1\nkind: Pod\nmetadata: {name: p}",
        b"metadata: 3",
        b"!!python/object:os.system ls",
    ],
)
def test_apply_malformed_is_400(body: bytes) -> None:
    e = fails(body, APPLY_PATCH)
    assert (e.code, e.reason) == (400, "BadRequest")
