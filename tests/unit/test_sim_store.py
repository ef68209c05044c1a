"""Store semantics: identity, RVs, generation, status, finalizers, namespaces, deletion."""

from __future__ import annotations

import copy
from typing import Any

import pytest

from pytest_kubevirt_burner.sim.errors import ApiError
from pytest_kubevirt_burner.sim.registry import Registry
from pytest_kubevirt_burner.sim.store import NAME_CHARS, Event, Store, now_rfc3339

REG = Registry.builtin()
PODS = REG.core("pods")
NS = REG.core("namespaces")
CM = REG.core("configmaps")
NODES = REG.core("nodes")
SVC = REG.core("services")
DEPLOY = REG.lookup("apps", "deployments")
VM = REG.lookup("kubevirt.io", "virtualmachines")


class Clock:
    def __init__(self) -> None:
        self.now = 1_700_000_000.0

    def __call__(self) -> float:
        return self.now


@pytest.fixture
def clock() -> Clock:
    return Clock()


@pytest.fixture
def store(clock: Clock) -> Store:
    s = Store(REG, clock=clock, default_namespaces=("default",), seed=1)
    s.create(NS, {"metadata": {"name": "ns1"}})
    return s


@pytest.fixture
def events(store: Store) -> list[Event]:
    out: list[Event] = []
    store.subscribe(out.append)
    return out


def pod(name: str = "p1", ns: str | None = "ns1", **spec: Any) -> dict[str, Any]:
    meta: dict[str, Any] = {"name": name}
    if ns:
        meta["namespace"] = ns
    return {
        "apiVersion": "v1",
        "kind": "Pod",
        "metadata": meta,
        "spec": {"containers": [{"name": "c", "image": "img:1"}], **spec},
    }


def cm(name: str = "c1", labels: dict[str, str] | None = None, **extra: Any) -> dict[str, Any]:
    return {"metadata": {"name": name, "labels": labels or {}, **extra}, "data": {"k": "v"}}


def err(fn: Any, *args: Any, **kw: Any) -> ApiError:
    with pytest.raises(ApiError) as info:
        fn(*args, **kw)
    return info.value


# ------------------------------------------------------------------ create


def test_create_sets_identity_and_defaults(store: Store, clock: Clock) -> None:
    before = store.rv
    p = store.create(PODS, pod())
    m = p["metadata"]
    assert p["apiVersion"] == "v1" and p["kind"] == "Pod"
    assert m["namespace"] == "ns1" and m["generation"] == 1
    assert m["creationTimestamp"] == now_rfc3339(clock.now) == "2023-11-14T22:13:20Z"
    assert len(m["uid"]) == 36 and m["uid"].count("-") == 4
    assert m["resourceVersion"] == str(before + 1) == str(store.rv)
    assert p["status"]["phase"] == "Pending"
    assert store.get(PODS, "ns1", "p1") is p


def test_create_copies_input(store: Store) -> None:
    body = pod()
    stored = store.create(PODS, body)
    assert "uid" not in body["metadata"]
    body["spec"]["containers"][0]["image"] = "changed"
    assert stored["spec"]["containers"][0]["image"] == "img:1"


def test_create_fills_kind_for_bodies_without_it(store: Store) -> None:
    c = store.create(CM, {"metadata": {"name": "x"}}, "ns1")
    assert (c["apiVersion"], c["kind"]) == ("v1", "ConfigMap")
    d = store.create(
        DEPLOY,
        {
            "metadata": {"name": "d"},
            "spec": {
                "selector": {"matchLabels": {"a": "b"}},
                "template": {"metadata": {"labels": {"a": "b"}}, "spec": pod()["spec"]},
            },
        },
        "ns1",
    )
    assert (d["apiVersion"], d["kind"]) == ("apps/v1", "Deployment")


def test_create_already_exists(store: Store) -> None:
    store.create(PODS, pod())
    e = err(store.create, PODS, pod())
    assert (e.code, e.reason) == (409, "AlreadyExists")
    assert e.message == 'pods "p1" already exists'
    assert e.details == {"name": "p1", "kind": "pods"}
    store.create(DEPLOY, _deploy("d"), "ns1")
    e = err(store.create, DEPLOY, _deploy("d"), "ns1")
    assert e.message == 'deployments.apps "d" already exists'
    assert e.details == {"name": "d", "kind": "deployments", "group": "apps"}


def _deploy(name: str) -> dict[str, Any]:
    return {
        "metadata": {"name": name},
        "spec": {
            "selector": {"matchLabels": {"a": "b"}},
            "template": {"metadata": {"labels": {"a": "b"}}, "spec": pod()["spec"]},
        },
    }


def test_generate_name(store: Store) -> None:
    body = pod(name="")
    body["metadata"] = {"generateName": "web-", "namespace": "ns1"}
    names = {store.create(PODS, body)["metadata"]["name"] for _ in range(50)}
    assert len(names) == 50
    for n in names:
        assert n.startswith("web-") and len(n) == 9
        assert all(c in NAME_CHARS for c in n[4:])


def test_generate_name_truncates_prefix(store: Store) -> None:
    body = {"metadata": {"generateName": "a" * 70}}
    name = store.create(CM, body, "ns1")["metadata"]["name"]
    assert len(name) == 63 and name.startswith("a" * 58)


def test_generate_name_collision_retries(store: Store) -> None:
    calls: list[int] = []
    orig = store._rand.choices

    def choices(seq: str, k: int) -> list[str]:
        calls.append(k)
        return ["b"] * k if len(calls) < 3 else orig(seq, k=k)

    store._rand.choices = choices  # type: ignore[method-assign]
    store.create(CM, {"metadata": {"generateName": "x-"}}, "ns1")  # x-bbbbb
    created = store.create(CM, {"metadata": {"generateName": "x-"}}, "ns1")
    assert created["metadata"]["name"] != "x-bbbbb"
    assert len(calls) == 3


def test_generate_name_gives_up_after_eight(store: Store) -> None:
    store._rand.choices = lambda seq, k: ["b"] * k  # type: ignore[method-assign,assignment]
    store.create(CM, {"metadata": {"generateName": "x-"}}, "ns1")
    e = err(store.create, CM, {"metadata": {"generateName": "x-"}}, "ns1")
    assert e.code == 409 and e.reason == "AlreadyExists"


def test_namespace_mismatch_is_400(store: Store) -> None:
    e = err(store.create, PODS, pod(ns="other"), "ns1")
    assert (e.code, e.reason) == (400, "BadRequest")
    assert e.message == (
        "the namespace of the provided object does not match the namespace sent on the request"
    )


def test_namespace_filled_from_request(store: Store) -> None:
    assert store.create(PODS, pod(ns=None), "ns1")["metadata"]["namespace"] == "ns1"


def test_cluster_scoped_ignores_namespace(store: Store) -> None:
    node = store.create(NODES, {"metadata": {"name": "n1", "namespace": "ns1"}}, "ns1")
    assert "namespace" not in node["metadata"]
    assert store.get(NODES, None, "n1") is node
    assert store.get(NODES, "whatever", "n1") is node


def test_create_in_missing_namespace_is_404(store: Store) -> None:
    e = err(store.create, PODS, pod(ns="nope"))
    assert (e.code, e.reason, e.message) == (404, "NotFound", 'namespaces "nope" not found')
    assert e.details == {"name": "nope", "kind": "namespaces"}


def test_create_in_terminating_namespace_is_403(store: Store) -> None:
    store.create(PODS, pod("keep"))
    store.delete(NS, None, "ns1")
    e = err(store.create, PODS, pod())
    assert (e.code, e.reason) == (403, "Forbidden")
    assert e.message == (
        'pods "p1" is forbidden: unable to create new content in namespace ns1 because it is'
        " being terminated"
    )
    assert e.details == {
        "name": "p1",
        "kind": "pods",
        "causes": [
            {
                "reason": "NamespaceTerminating",
                "message": "namespace ns1 is being terminated",
                "field": "metadata.namespace",
            }
        ],
    }
    e = err(store.create, DEPLOY, _deploy("d"), "ns1")
    assert e.message.startswith('deployments.apps "d" is forbidden')
    assert e.details is not None and e.details["group"] == "apps"


def test_create_validation_error(store: Store) -> None:
    e = err(store.create, PODS, {"metadata": {"namespace": "ns1"}, "spec": {}})
    assert e.code == 422
    causes = e.details["causes"] if e.details else []
    assert {"reason": "FieldValueRequired", "field": "metadata.name",
            "message": "Required value: name or generateName is required"} in causes  # fmt: skip


def test_create_server_fields_not_client_settable(store: Store) -> None:
    body = pod()
    body["metadata"].update(
        uid="u", resourceVersion="999", generation=7, deletionTimestamp="2020-01-01T00:00:00Z"
    )
    m = store.create(PODS, body)["metadata"]
    assert m["uid"] != "u" and m["generation"] == 1 and "deletionTimestamp" not in m
    assert m["resourceVersion"] == str(store.rv)


def test_create_rejects_non_json(store: Store) -> None:
    e = err(store.create, CM, {"metadata": {"name": "x"}, "data": {1: object()}}, "ns1")
    assert e.code == 400


def test_default_namespaces() -> None:
    s = Store(REG)
    names = [n["metadata"]["name"] for n in s.list(NS)]
    assert names == ["default", "kube-node-lease", "kube-public", "kube-system"]
    assert s.rv == 4


# ------------------------------------------------------------------ list


def test_list_sorted_and_filtered(store: Store) -> None:
    store.create(NS, {"metadata": {"name": "a"}})
    for ns, name, labels in [
        ("ns1", "z", {"app": "x"}),
        ("ns1", "b", {"app": "y"}),
        ("a", "m", {"app": "x", "tier": "web"}),
        ("default", "q", {}),
    ]:
        store.create(CM, cm(name, labels), ns)
    keys = [(o["metadata"]["namespace"], o["metadata"]["name"]) for o in store.list(CM)]
    assert keys == [("a", "m"), ("default", "q"), ("ns1", "b"), ("ns1", "z")]
    assert [o["metadata"]["name"] for o in store.list(CM, "ns1")] == ["b", "z"]
    assert [o["metadata"]["name"] for o in store.list(CM, label_selector="app=x")] == ["m", "z"]
    assert [o["metadata"]["name"] for o in store.list(CM, label_selector="app,!tier")] == [
        "b",
        "z",
    ]
    sel = "metadata.namespace=ns1,metadata.name!=z"
    assert [o["metadata"]["name"] for o in store.list(CM, field_selector=sel)] == ["b"]
    assert [o["metadata"]["name"] for o in store.list(CM, field_selector="metadata.name=m")] == [
        "m"
    ]
    assert store.list(CM, "ns1", field_selector="metadata.namespace=a") == []
    assert store.list(CM, "nothing") == []
    assert store.list(VM) == []


def test_list_sorting_survives_inserts_and_removals(store: Store) -> None:
    for n in ["c", "a", "b"]:
        store.create(CM, cm(n), "ns1")
    assert [o["metadata"]["name"] for o in store.list(CM, "ns1")] == ["a", "b", "c"]
    store.create(CM, cm("aa"), "ns1")
    store.delete(CM, "ns1", "b")
    assert [o["metadata"]["name"] for o in store.list(CM, "ns1")] == ["a", "aa", "c"]


def test_list_pod_field_selectors(store: Store) -> None:
    store.create(PODS, pod("p1", nodeName="n1"))
    store.create(PODS, pod("p2", nodeName="n2"))
    store.create(PODS, pod("p3"))
    got = store.list(PODS, field_selector="spec.nodeName=n1")
    assert [o["metadata"]["name"] for o in got] == ["p1"]
    got = store.list(PODS, field_selector="spec.nodeName=")
    assert [o["metadata"]["name"] for o in got] == ["p3"]
    got = store.list(PODS, field_selector="status.phase=Pending,spec.nodeName!=n1")
    assert [o["metadata"]["name"] for o in got] == ["p2", "p3"]


def test_list_bad_selectors(store: Store) -> None:
    e = err(store.list, CM, label_selector="a in (")
    assert (e.code, e.reason) == (400, "BadRequest")
    e = err(store.list, CM, field_selector="spec.nodeName=x")
    assert e.code == 400
    assert e.message == (
        '"spec.nodeName" is not a known field selector: only "metadata.name", "metadata.namespace"'
    )


def test_objects_count(store: Store) -> None:
    store.create(PODS, pod("a"))
    store.create(PODS, pod("b"))
    store.delete(PODS, "ns1", "a")
    assert store.objects_count() == {"/namespaces": 2, "/pods": 1}


# ------------------------------------------------------------------ update


def test_update_conflict_and_unconditional(store: Store) -> None:
    c = store.create(CM, cm(), "ns1")
    body = copy.deepcopy(c)
    body["data"] = {"k": "2"}
    c2 = store.update(CM, body)
    assert int(c2["metadata"]["resourceVersion"]) > int(c["metadata"]["resourceVersion"])
    e = err(store.update, CM, body)  # stale RV
    assert (e.code, e.reason) == (409, "Conflict")
    assert e.message == (
        'Operation cannot be fulfilled on configmaps "c1": the object has been modified; please'
        " apply your changes to the latest version and try again"
    )
    body["metadata"].pop("resourceVersion")
    body["data"] = {"k": "3"}
    assert store.update(CM, body)["data"] == {"k": "3"}


def test_update_missing_is_404(store: Store) -> None:
    e = err(store.update, CM, {"metadata": {"name": "nope", "namespace": "ns1"}})
    assert (e.code, e.message) == (404, 'configmaps "nope" not found')


def test_update_url_identity(store: Store) -> None:
    store.create(CM, cm(), "ns1")
    e = err(store.update, CM, cm("c1"), namespace="ns1", name="other")
    assert e.code == 400
    assert e.message == "the name of the object (c1) does not match the name on the URL (other)"
    e = err(
        store.update, CM, {**cm(), "metadata": {"name": "c1", "namespace": "x"}}, namespace="ns1"
    )
    assert e.code == 400
    out = store.update(CM, {"metadata": {}, "data": {"a": "b"}}, namespace="ns1", name="c1")
    assert out["data"] == {"a": "b"}


def test_update_uid_mismatch_is_conflict(store: Store) -> None:
    store.create(CM, cm(), "ns1")
    body = cm()
    body["metadata"].update(namespace="ns1", uid="other")
    e = err(store.update, CM, body)
    assert e.code == 409 and "Precondition failed: UID in precondition: other" in e.message


def test_update_keeps_server_fields(store: Store) -> None:
    c = store.create(CM, cm(), "ns1")
    body = copy.deepcopy(c)
    body["metadata"].update(creationTimestamp="2000-01-01T00:00:00Z", generation=50)
    body["data"] = {"k": "x"}
    out = store.update(CM, body)
    assert out["metadata"]["creationTimestamp"] == c["metadata"]["creationTimestamp"]
    assert out["metadata"]["uid"] == c["metadata"]["uid"]


def test_noop_update_writes_nothing(store: Store, events: list[Event]) -> None:
    c = store.create(CM, cm(), "ns1")
    rv = store.rv
    assert store.update(CM, copy.deepcopy(c)) is c
    assert store.rv == rv and len(events) == 1


def test_generation_bumps_on_spec_only(store: Store) -> None:
    d = store.create(DEPLOY, _deploy("d"), "ns1")
    assert d["metadata"]["generation"] == 1
    body = copy.deepcopy(d)
    body["metadata"]["labels"] = {"x": "y"}
    d = store.update(DEPLOY, body)
    assert d["metadata"]["generation"] == 1
    body = copy.deepcopy(d)
    body["spec"]["replicas"] = 5
    d = store.update(DEPLOY, body)
    assert d["metadata"]["generation"] == 2
    d = store.mutate(
        DEPLOY, "ns1", "d", lambda o: o["status"].update(replicas=5), subresource="status"
    )
    assert d is not None and d["metadata"]["generation"] == 2
    d = store.mutate(DEPLOY, "ns1", "d", lambda o: o["spec"].update(replicas=1))
    assert d is not None and d["metadata"]["generation"] == 3


def test_status_subresource_semantics(store: Store) -> None:
    p = store.create(PODS, pod())
    body = copy.deepcopy(p)
    body["status"] = {"phase": "Running"}
    body["metadata"]["labels"] = {"a": "b"}
    out = store.update(PODS, body)  # main resource: status ignored
    assert out["status"]["phase"] == "Pending" and out["metadata"]["labels"] == {"a": "b"}
    body = copy.deepcopy(out)
    body["status"] = {"phase": "Running"}
    body["spec"]["nodeName"] = "n9"
    body["metadata"]["labels"] = {"c": "d"}
    out2 = store.update(PODS, body, subresource="status")  # only status changes
    assert out2["status"] == {"phase": "Running"}
    assert "nodeName" not in out2["spec"] and out2["metadata"]["labels"] == {"a": "b"}
    assert out2["metadata"]["generation"] == 1


def test_kinds_without_status_subresource_store_everything(store: Store) -> None:
    c = store.create(CM, cm(), "ns1")
    body = copy.deepcopy(c)
    body["status"] = {"x": 1}
    assert store.update(CM, body)["status"] == {"x": 1}


def test_rv_monotonic_across_operations(store: Store, events: list[Event]) -> None:
    store.create(CM, cm("a"), "ns1")
    store.mutate(CM, "ns1", "a", lambda o: o["data"].update(k="2"))
    store.create(PODS, pod())
    store.delete(CM, "ns1", "a")
    rvs = [e.rv for e in events]
    assert rvs == sorted(rvs) and len(set(rvs)) == len(rvs) == 4
    assert [e.type for e in events] == ["ADDED", "MODIFIED", "ADDED", "DELETED"]
    for e in events:
        assert e.obj["metadata"]["resourceVersion"] == str(e.rv)
    assert events[1].old is events[0].obj
    assert store.rv == rvs[-1]


def test_mutate(store: Store, events: list[Event]) -> None:
    assert store.mutate(CM, "ns1", "missing", lambda o: None) is None
    c = store.create(CM, cm(), "ns1")
    assert store.mutate(CM, "ns1", "c1", lambda o: None) is c
    assert len(events) == 1
    new = store.mutate(CM, "ns1", "c1", lambda o: o["data"].update(k="z"))
    assert new is not None and new["data"] == {"k": "z"} and c["data"] == {"k": "v"}
    p = store.create(PODS, pod())
    # without subresource every change is stored, status included
    new = store.mutate(PODS, "ns1", "p1", lambda o: o["status"].update(phase="Running"))
    assert new is not None and new["status"]["phase"] == "Running"
    assert p["status"]["phase"] == "Pending"


def test_mutate_cannot_touch_server_fields(store: Store) -> None:
    store.create(CM, cm(), "ns1")

    def fn(o: dict[str, Any]) -> None:
        o["metadata"]["uid"] = "x"
        o["metadata"]["deletionTimestamp"] = "2020-01-01T00:00:00Z"

    out = store.mutate(CM, "ns1", "c1", fn)
    assert out is not None and out["metadata"]["uid"] != "x"
    assert "deletionTimestamp" not in out["metadata"]


def test_listener_reentrant_writes_are_ordered(store: Store) -> None:
    seen: list[tuple[str, int]] = []

    def writer(ev: Event) -> None:
        if ev.type == "ADDED" and ev.obj["metadata"]["name"] == "a":
            store.create(CM, cm("b"), "ns1")

    store.subscribe(writer)
    store.subscribe(lambda ev: seen.append((ev.obj["metadata"]["name"], ev.rv)))
    store.create(CM, cm("a"), "ns1")
    assert [n for n, _ in seen] == ["a", "b"]
    assert seen[0][1] < seen[1][1]


def test_failing_listener_does_not_break_writes(store: Store) -> None:
    def boom(ev: Event) -> None:
        raise RuntimeError("x")

    got: list[Event] = []
    store.subscribe(boom)
    store.subscribe(got.append)
    store.create(CM, cm(), "ns1")
    assert len(got) == 1


def test_unsubscribe(store: Store) -> None:
    got: list[Event] = []
    store.subscribe(got.append)
    store.unsubscribe(got.append)
    store.create(CM, cm(), "ns1")
    assert got == []


# ------------------------------------------------------------------ delete


def test_delete_plain(store: Store, events: list[Event]) -> None:
    c = store.create(CM, cm(), "ns1")
    obj, removed = store.delete(CM, "ns1", "c1")
    assert removed and store.get(CM, "ns1", "c1") is None
    assert obj["metadata"]["resourceVersion"] == str(store.rv) != c["metadata"]["resourceVersion"]
    assert events[-1].type == "DELETED" and events[-1].obj is obj and events[-1].old is c
    e = err(store.delete, CM, "ns1", "c1")
    assert (e.code, e.message) == (404, 'configmaps "c1" not found')


def test_delete_preconditions(store: Store) -> None:
    c = store.create(CM, cm(), "ns1")
    e = err(store.delete, CM, "ns1", "c1", preconditions={"uid": "nope"})
    assert (e.code, e.reason) == (409, "Conflict")
    assert e.message == (
        'Operation cannot be fulfilled on configmaps "c1": Precondition failed: UID in'
        f" precondition: nope, UID in object meta: {c['metadata']['uid']}"
    )
    e = err(store.delete, CM, "ns1", "c1", preconditions={"resourceVersion": "1"})
    assert e.code == 409 and "ResourceVersion in precondition: 1" in e.message
    m = c["metadata"]
    _, removed = store.delete(
        CM, "ns1", "c1", preconditions={"uid": m["uid"], "resourceVersion": m["resourceVersion"]}
    )
    assert removed


def test_delete_bad_propagation(store: Store) -> None:
    store.create(CM, cm(), "ns1")
    e = err(store.delete, CM, "ns1", "c1", propagation_policy="Sideways")
    assert e.code == 422
    assert e.message == (
        'DeleteOptions.meta.k8s.io "" is invalid: propagationPolicy: Unsupported value:'
        ' "Sideways": supported values: "Foreground", "Background", "Orphan"'
    )


def test_finalizers_hold_deletion(store: Store, events: list[Event], clock: Clock) -> None:
    store.create(CM, cm(finalizers=["example.com/f1", "example.com/f2"]), "ns1")
    obj, removed = store.delete(CM, "ns1", "c1")
    assert not removed
    m = obj["metadata"]
    assert m["deletionTimestamp"] == now_rfc3339(clock.now)
    assert m["deletionGracePeriodSeconds"] == 0 and m["generation"] == 2
    assert events[-1].type == "MODIFIED"
    # deleting again returns it unchanged
    again, removed = store.delete(CM, "ns1", "c1")
    assert again is obj and not removed
    # adding a finalizer is refused
    body = copy.deepcopy(obj)
    body["metadata"]["finalizers"].append("example.com/new")
    e = err(store.update, CM, body)
    assert e.code == 422 and e.reason == "Invalid"
    assert e.message == (
        'ConfigMap "c1" is invalid: metadata.finalizers: Forbidden: no new finalizers can be'
        ' added if the object is being deleted, found new finalizers []string{"example.com/new"}'
    )
    # removing one keeps it; removing the last removes it
    out = store.mutate(
        CM, "ns1", "c1", lambda o: o["metadata"]["finalizers"].remove("example.com/f1")
    )
    assert out is not None and store.get(CM, "ns1", "c1") is out
    body = copy.deepcopy(out)
    body["metadata"]["finalizers"] = []
    final = store.update(CM, body)
    assert store.get(CM, "ns1", "c1") is None
    assert events[-1].type == "DELETED" and events[-1].obj is final
    assert final["metadata"]["resourceVersion"] == str(store.rv)


def test_propagation_policies(store: Store) -> None:
    store.create(CM, cm("fg"), "ns1")
    store.create(CM, cm("or"), "ns1")
    store.create(CM, cm("bg"), "ns1")
    obj, removed = store.delete(CM, "ns1", "fg", propagation_policy="Foreground")
    assert not removed and obj["metadata"]["finalizers"] == ["foregroundDeletion"]
    assert obj["metadata"]["deletionTimestamp"]
    obj, removed = store.delete(CM, "ns1", "or", propagation_policy="Orphan")
    assert not removed and obj["metadata"]["finalizers"] == ["orphan"]
    _, removed = store.delete(CM, "ns1", "bg", propagation_policy="Background")
    assert removed
    out = store.mutate(CM, "ns1", "fg", lambda o: o["metadata"].update(finalizers=[]))
    assert out is not None and store.get(CM, "ns1", "fg") is None


def test_foreground_on_already_deleting_adds_finalizer(store: Store) -> None:
    store.create(CM, cm(finalizers=["example.com/f"]), "ns1")
    store.delete(CM, "ns1", "c1")
    obj, _ = store.delete(CM, "ns1", "c1", propagation_policy="Foreground")
    assert obj["metadata"]["finalizers"] == ["example.com/f", "foregroundDeletion"]


def test_pod_graceful_delete(store: Store, clock: Clock, events: list[Event]) -> None:
    store.create(PODS, pod(nodeName="n1"))
    obj, removed = store.delete(PODS, "ns1", "p1")
    assert not removed
    assert obj["metadata"]["deletionGracePeriodSeconds"] == 30
    assert obj["metadata"]["deletionTimestamp"] == now_rfc3339(clock.now + 30)
    assert events[-1].type == "MODIFIED"
    # a second delete with the default grace changes nothing
    same, removed = store.delete(PODS, "ns1", "p1")
    assert same is obj and not removed
    # a shorter grace shortens the deadline
    clock.now += 1
    shorter, removed = store.delete(PODS, "ns1", "p1", grace_period_seconds=5)
    assert not removed and shorter["metadata"]["deletionGracePeriodSeconds"] == 5
    assert shorter["metadata"]["deletionTimestamp"] == now_rfc3339(clock.now + 5)
    # the kubelet's force delete removes it
    final, removed = store.delete(PODS, "ns1", "p1", grace_period_seconds=0)
    assert removed and store.get(PODS, "ns1", "p1") is None
    assert events[-1].type == "DELETED" and events[-1].obj is final


def test_pod_grace_from_spec_and_immediate_cases(store: Store) -> None:
    store.create(PODS, pod("g", nodeName="n1", terminationGracePeriodSeconds=7))
    obj, removed = store.delete(PODS, "ns1", "g")
    assert not removed and obj["metadata"]["deletionGracePeriodSeconds"] == 7
    store.create(PODS, pod("unbound"))
    _, removed = store.delete(PODS, "ns1", "unbound", grace_period_seconds=30)
    assert removed
    store.create(PODS, pod("zero", nodeName="n1"))
    _, removed = store.delete(PODS, "ns1", "zero", grace_period_seconds=0)
    assert removed
    store.create(PODS, pod("done", nodeName="n1"))
    store.mutate(PODS, "ns1", "done", lambda o: o["status"].update(phase="Succeeded"))
    _, removed = store.delete(PODS, "ns1", "done")
    assert removed


def test_pod_with_finalizer_and_grace(store: Store) -> None:
    body = pod(nodeName="n1")
    body["metadata"]["finalizers"] = ["example.com/f"]
    store.create(PODS, body)
    store.delete(PODS, "ns1", "p1")
    # removing the finalizer during the grace period keeps the pod until the force delete
    store.mutate(PODS, "ns1", "p1", lambda o: o["metadata"].update(finalizers=[]))
    assert store.get(PODS, "ns1", "p1") is not None
    _, removed = store.delete(PODS, "ns1", "p1", grace_period_seconds=0)
    assert removed


def test_pod_force_delete_with_finalizer_waits(store: Store) -> None:
    body = pod(nodeName="n1")
    body["metadata"]["finalizers"] = ["example.com/f"]
    store.create(PODS, body)
    obj, removed = store.delete(PODS, "ns1", "p1", grace_period_seconds=0)
    assert not removed and obj["metadata"]["deletionGracePeriodSeconds"] == 0
    store.mutate(PODS, "ns1", "p1", lambda o: o["metadata"].update(finalizers=[]))
    assert store.get(PODS, "ns1", "p1") is None


def test_namespace_termination_flow(store: Store, events: list[Event], clock: Clock) -> None:
    store.create(CM, cm(), "ns1")
    obj, removed = store.delete(NS, None, "ns1")
    assert not removed
    assert obj["status"]["phase"] == "Terminating"
    assert obj["metadata"]["deletionTimestamp"] == now_rfc3339(clock.now)
    assert obj["spec"]["finalizers"] == ["kubernetes"]
    assert events[-1].type == "MODIFIED"
    assert store.namespace_terminating("ns1")
    again, removed = store.delete(NS, None, "ns1")
    assert again is obj and not removed
    # the namespace controller empties it, then drops the spec finalizer
    store.delete(CM, "ns1", "c1")
    out = store.mutate(NS, None, "ns1", lambda o: o["spec"].update(finalizers=[]))
    assert out is not None and out["metadata"]["name"] == "ns1"
    assert store.get(NS, None, "ns1") is None
    assert events[-1].type == "DELETED"


def test_namespace_removed_via_update_with_metadata_finalizers(store: Store) -> None:
    store.create(NS, {"metadata": {"name": "ns2", "finalizers": ["example.com/x"]}})
    store.delete(NS, None, "ns2")
    ns = store.mutate(NS, None, "ns2", lambda o: o["spec"].update(finalizers=[]))
    assert ns is not None and store.get(NS, None, "ns2") is not None
    body = copy.deepcopy(ns)
    body["metadata"]["finalizers"] = []
    store.update(NS, body)
    assert store.get(NS, None, "ns2") is None


def test_namespace_without_finalizers_goes_at_once(store: Store) -> None:
    store.create(NS, {"metadata": {"name": "ns3"}, "spec": {"finalizers": []}})
    _, removed = store.delete(NS, None, "ns3")
    assert removed and store.get(NS, None, "ns3") is None


def test_delete_collection(store: Store) -> None:
    store.create(CM, cm("a", {"app": "x"}), "ns1")
    store.create(CM, cm("b", {"app": "x"}, finalizers=["example.com/f"]), "ns1")
    store.create(CM, cm("c", {"app": "y"}), "ns1")
    store.create(CM, cm("d", {"app": "x"}), "default")
    out = store.delete_collection(CM, "ns1", label_selector="app=x")
    assert [o["metadata"]["name"] for o in out] == ["a", "b"]
    assert store.get(CM, "ns1", "a") is None
    b = store.get(CM, "ns1", "b")
    assert b is not None and b["metadata"]["deletionTimestamp"]
    assert store.get(CM, "ns1", "c") is not None and store.get(CM, "default", "d") is not None
    out = store.delete_collection(CM, field_selector="metadata.name=d")
    assert [o["metadata"]["namespace"] for o in out] == ["default"]
    store.create(PODS, pod("p", nodeName="n1"))
    out = store.delete_collection(PODS, "ns1", grace_period_seconds=0)
    assert len(out) == 1 and store.get(PODS, "ns1", "p") is None


def test_delete_collection_skips_objects_removed_by_listeners(store: Store) -> None:
    store.create(CM, cm("a"), "ns1")
    store.create(CM, cm("b"), "ns1")

    def cascade(ev: Event) -> None:
        if ev.type == "DELETED" and ev.obj["metadata"]["name"] == "a":
            store.delete(CM, "ns1", "b")

    store.subscribe(cascade)
    out = store.delete_collection(CM, "ns1")
    assert [o["metadata"]["name"] for o in out] == ["a"]
    assert store.list(CM, "ns1") == []


def test_remove_type(store: Store, events: list[Event]) -> None:
    spec = {"runStrategy": "Halted", "template": {"spec": {"domain": {}}}}
    store.create(VM, {"metadata": {"name": "v1"}, "spec": spec}, "ns1")
    store.create(VM, {"metadata": {"name": "v2"}, "spec": spec}, "default")
    assert store.remove_type(VM) == 2
    assert store.list(VM) == [] and [e.type for e in events[-2:]] == ["DELETED", "DELETED"]
    assert "kubevirt.io/virtualmachines" not in store.objects_count()
    assert store.remove_type(VM) == 0


def test_service_cluster_ip_released_on_delete(store: Store) -> None:
    body = {"metadata": {"name": "s"}, "spec": {"ports": [{"port": 80}]}}
    ip = store.create(SVC, body, "ns1")["spec"]["clusterIP"]
    store.delete(SVC, "ns1", "s")
    fixed = {"metadata": {"name": "t"}, "spec": {"clusterIP": ip, "ports": [{"port": 80}]}}
    assert store.create(SVC, fixed, "ns1")["spec"]["clusterIP"] == ip


def test_service_update_keeps_cluster_ip(store: Store) -> None:
    s = store.create(SVC, {"metadata": {"name": "s"}, "spec": {"ports": [{"port": 80}]}}, "ns1")
    body = copy.deepcopy(s)
    del body["spec"]["clusterIP"]
    body["spec"]["ports"][0]["port"] = 81
    out = store.update(SVC, body)
    assert out["spec"]["clusterIP"] == s["spec"]["clusterIP"]


def test_dry_run_stores_nothing(store: Store, events: list[Event]) -> None:
    rv = store.rv
    out = store.create(CM, cm(), "ns1", dry_run=True)
    assert out["metadata"]["uid"] and store.get(CM, "ns1", "c1") is None
    c = store.create(CM, cm(), "ns1")
    body = copy.deepcopy(c)
    body["data"] = {"z": "z"}
    assert store.update(CM, body, dry_run=True)["data"] == {"z": "z"}
    _, removed = store.delete(CM, "ns1", "c1", dry_run=True)
    assert removed and store.get(CM, "ns1", "c1") is c
    assert store.rv == rv + 1 and len(events) == 1


def test_stored_objects_never_mutated_by_later_writes(store: Store) -> None:
    p = store.create(PODS, pod(nodeName="n1"))
    snapshot = copy.deepcopy(p)
    store.mutate(PODS, "ns1", "p1", lambda o: o["metadata"].setdefault("labels", {}).update(a="b"))
    body = copy.deepcopy(p)
    body["metadata"].pop("resourceVersion")
    store.update(PODS, {**body, "status": {"phase": "Running"}}, subresource="status")
    store.delete(PODS, "ns1", "p1")
    assert p == snapshot


def test_namespace_finalize_subresource(store: Store) -> None:
    store.delete(NS, None, "ns1")
    body = copy.deepcopy(store.get(NS, None, "ns1"))
    assert body is not None
    body["spec"]["finalizers"] = []
    body["metadata"]["labels"]["extra"] = "ignored"
    store.update(NS, body, subresource="finalize")
    assert store.get(NS, None, "ns1") is None
