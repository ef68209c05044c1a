"""Recorders fed with synthetic watch streams: both clocks, joins, ordering, day-2, memory."""

from __future__ import annotations

import gc
import random
import threading
import tracemalloc
from collections.abc import Mapping
from typing import Any

import pytest

from pytest_kubevirt_burner.measurements.recorder import MeasurementSet, default_measurements
from pytest_kubevirt_burner.measurements.timeutil import format_ts, parse_ts

S = 1_000_000_000
BASE = 1_700_000_000 * S  # a whole second
MS = 1_000_000


def ts(sec: float) -> str:
    """Server timestamp ``sec`` seconds after BASE (second precision, as the API writes)."""
    return format_ts(BASE + int(sec) * S)


def at(sec: float) -> int:
    """Client receipt time ``sec`` seconds after BASE."""
    return BASE + round(sec * S)


def cond(ctype: str, sec: float, status: str = "True") -> dict[str, Any]:
    return {"type": ctype, "status": status, "lastTransitionTime": ts(sec)}


def pod(
    uid: str,
    created: float = 0,
    conds: tuple[tuple[str, float], ...] = (),
    node: str = "",
    name: str | None = None,
    labels: dict[str, str] | None = None,
    phase: str = "Pending",
) -> dict[str, Any]:
    return {
        "kind": "Pod",
        "metadata": {
            "uid": uid,
            "name": name or f"pod-{uid}",
            "namespace": "ns-1",
            "creationTimestamp": ts(created),
            "labels": {
                "kube-burner.io/job-iteration": "3",
                "kube-burner.io/replica": "7",
                **(labels or {}),
            },
        },
        "spec": {"nodeName": node} if node else {},
        "status": {"phase": phase, "conditions": [cond(c, t) for c, t in conds]},
    }


def vm(
    uid: str,
    name: str,
    created: float = 0,
    ready: float | None = None,
    printable: str = "Running",
    ready_false: float | None = None,
) -> dict[str, Any]:
    conds = [cond("Ready", ready)] if ready is not None else []
    if ready_false is not None:
        conds = [cond("Ready", ready_false, "False")]
    return {
        "kind": "VirtualMachine",
        "metadata": {
            "uid": uid,
            "name": name,
            "namespace": "ns-1",
            "creationTimestamp": ts(created),
            "labels": {"kube-burner.io/job-iteration": "1", "kube-burner.io/replica": "2"},
        },
        "status": {"conditions": conds, "printableStatus": printable},
    }


def vmi(
    uid: str,
    name: str,
    created: float,
    phases: Mapping[str, float],
    owner: str | None,
    node: str = "node-a",
) -> dict[str, Any]:
    meta: dict[str, Any] = {
        "uid": uid,
        "name": name,
        "namespace": "ns-1",
        "creationTimestamp": ts(created),
    }
    if owner:
        meta["ownerReferences"] = [{"kind": "VirtualMachine", "name": name, "uid": owner}]
    current = max(phases, key=lambda p: phases[p]) if phases else ""
    return {
        "kind": "VirtualMachineInstance",
        "metadata": meta,
        "status": {
            "phase": current,
            "nodeName": node if "Scheduled" in phases else "",
            "phaseTransitionTimestamps": [
                {"phase": p, "phaseTransitionTimestamp": ts(t)} for p, t in phases.items()
            ],
        },
    }


def launcher(
    uid: str, vmi_uid: str, vmi_name: str, created: float, conds: tuple[tuple[str, float], ...] = ()
) -> dict[str, Any]:
    return pod(
        uid,
        created,
        conds,
        node="node-a",
        name=f"virt-launcher-{vmi_name}-abcde",
        labels={"kubevirt.io": "virt-launcher", "kubevirt.io/created-by": vmi_uid},
    )


POD_CONDS = (
    ("PodScheduled", 1),
    ("Initialized", 2),
    ("PodReadyToStartContainers", 2),
    ("ContainersReady", 3),
    ("Ready", 3),
)


def new_set(*names: str, **kw: Any) -> MeasurementSet:
    return MeasurementSet(list(names), job_name="job", uuid="uuid-1", metadata={"k": "v"}, **kw)


def only_doc(ms: MeasurementSet, clock: str | None = None) -> dict[str, Any]:
    docs = list(ms.documents(clock))
    assert len(docs) == 1, docs
    return docs[0]


# -- podLatency ------------------------------------------------------------------------------
def test_pod_latency_both_clocks() -> None:
    ms = new_set("podLatency")
    ms.on_created(pod("p1"), at(0.2))
    ms.on_event("Pod", "ADDED", pod("p1"), at(0.25))
    ms.on_event("Pod", "MODIFIED", pod("p1", conds=POD_CONDS[:1], node="n1"), at(1.3))
    ms.on_event("Pod", "MODIFIED", pod("p1", conds=POD_CONDS, node="n1"), at(3.7))
    doc = only_doc(ms)
    assert doc["clock"] == "client"
    assert doc["schedulingLatency"] == 1100.0
    assert doc["podReadyLatency"] == 3500.0
    assert doc["initializedLatency"] == doc["containersReadyLatency"] == 3500.0
    assert doc["serverLatencies"] == {
        "schedulingLatency": 1000,
        "readyToStartContainersLatency": 2000,
        "initializedLatency": 2000,
        "containersReadyLatency": 3000,
        "podReadyLatency": 3000,
    }
    assert doc["metricName"] == "podLatencyMeasurement" and doc["podName"] == "pod-p1"
    assert (doc["jobIteration"], doc["replica"], doc["nodeName"]) == (3, 7, "n1")
    assert doc["timestamp"] == ts(0) and doc["uuid"] == "uuid-1" and doc["jobName"] == "job"
    assert doc["errors"] == [] and doc["missing"] == [] and doc["operation"] == "create"
    assert doc["churnMetric"] is False and doc["metadata"] == {"k": "v"}
    server = only_doc(ms, "server")
    assert (
        server["podReadyLatency"] == 3000 and server["clientLatencies"]["podReadyLatency"] == 3500.0
    )
    q = ms.quantiles()["podLatency.Ready"]
    assert (q.n, q.p99, q.clock) == (1, 3.5, "client")
    assert ms.quantiles("server")["podLatency.Ready"].p50 == 3.0


def test_client_clock_has_microsecond_resolution() -> None:
    ms = new_set("podLatency")
    ms.on_created(pod("p1"), BASE + 123_456_789)
    ms.on_event("Pod", "MODIFIED", pod("p1", conds=POD_CONDS), BASE + 123_456_789 + 1_234_567)
    assert only_doc(ms)["podReadyLatency"] == 1.234


def test_create_hook_after_watch_uses_earlier_receipt() -> None:
    """t0 is the earlier of create-return and first receipt: the object existed by then."""
    ms = new_set("podLatency")
    ms.on_event("Pod", "ADDED", pod("p1"), at(0.1))
    ms.on_created(pod("p1"), at(0.3))
    ms.on_event("Pod", "MODIFIED", pod("p1", conds=POD_CONDS), at(2.1))
    assert only_doc(ms)["podReadyLatency"] == 2000.0


def test_out_of_order_and_duplicate_events_give_the_same_result() -> None:
    events = [
        ("ADDED", pod("p1"), at(0.25)),
        ("MODIFIED", pod("p1", conds=POD_CONDS[:1]), at(1.3)),
        ("MODIFIED", pod("p1", conds=POD_CONDS), at(3.7)),
    ]
    ms = new_set("podLatency")
    ms.on_created(pod("p1"), at(0.2))
    for e in events:
        ms.on_event("Pod", *e)
    reference = only_doc(ms)
    scrambled = new_set("podLatency")
    for e in [events[2], events[0], events[2], events[1], events[0]]:
        scrambled.on_event("Pod", *e)
    scrambled.on_created(pod("p1"), at(0.2))
    # the Ready event arriving first completes the sample; the earlier receipts still win
    doc = only_doc(scrambled)
    assert doc["podReadyLatency"] == reference["podReadyLatency"]
    assert doc["serverLatencies"] == reference["serverLatencies"]


def test_deleted_before_ready_is_reported_missing() -> None:
    ms = new_set("podLatency")
    ms.on_created(pod("p1"), at(0.1))
    ms.on_event("Pod", "DELETED", pod("p1", conds=POD_CONDS[:1]), at(1.5))
    ms.on_event("Pod", "MODIFIED", pod("p1", conds=POD_CONDS), at(3))  # after delete: ignored
    doc = only_doc(ms)
    assert doc["deleted"] is True and doc["podReadyLatency"] is None
    assert "Ready" in doc["missing"] and doc["schedulingLatency"] == 1400.0
    q = ms.quantiles()["podLatency.Ready"]
    assert q.n == 0 and q.missing == 1


def test_negative_latency_flagged_not_clamped() -> None:
    ms = new_set("podLatency")
    ms.on_created(pod("p1", created=5), at(5.2))
    ms.on_event(
        "Pod", "MODIFIED", pod("p1", created=5, conds=(("PodScheduled", 4), ("Ready", 7))), at(7.5)
    )
    doc = only_doc(ms, "server")
    assert doc["schedulingLatency"] == -1000
    assert any("PodScheduled -1000 ms before t0" in e for e in doc["errors"])
    q = ms.quantiles("server")["podLatency.PodScheduled"]
    assert (q.n, q.invalid if hasattr(q, "invalid") else 1) == (0, 1)
    qdoc = next(d for d in ms.quantile_documents("server") if d["quantileName"] == "PodScheduled")
    assert qdoc["invalid"] == 1 and qdoc["n"] == 0


def test_pre_existing_objects_are_not_samples() -> None:
    ms = new_set("podLatency", ignore_existing=True)
    ms.on_event("Pod", "ADDED", pod("old", conds=POD_CONDS), at(50))
    ms.watches_synced()
    ms.on_event("Pod", "ADDED", pod("new", created=60), at(60.1))
    ms.on_event("Pod", "MODIFIED", pod("new", created=60, conds=(("Ready", 62),)), at(62.4))
    doc = only_doc(ms)
    assert doc["podName"] == "pod-new" and doc["podReadyLatency"] == 2300.0


def test_concurrent_watch_threads() -> None:
    ms = new_set("podLatency")
    uids = [f"p{i}" for i in range(400)]
    for u in uids:
        ms.on_created(pod(u), at(0.5))

    def feed(seed: int) -> None:
        rnd = random.Random(seed)
        order = list(uids)
        rnd.shuffle(order)
        for u in order:
            ms.on_event("Pod", "MODIFIED", pod(u, conds=POD_CONDS), at(3.5))

    threads = [threading.Thread(target=feed, args=(i,)) for i in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    q = ms.quantiles()["podLatency.Ready"]
    assert (q.n, q.missing, q.p50, q.max) == (400, 0, 3.0, 3.0)


# -- vmiLatency ------------------------------------------------------------------------------
PHASES = {"Pending": 2, "Scheduling": 2, "Scheduled": 4, "Running": 6}
LAUNCHER = (
    ("PodScheduled", 3),
    ("Initialized", 4),
    ("PodReadyToStartContainers", 4),
    ("ContainersReady", 5),
    ("Ready", 6),
)


def feed_vm(ms: MeasurementSet, order: list[int] | None = None, standalone: bool = False) -> None:
    """VM created at 0 (create returned at 0.1); VMI at 1; launcher pod at 2; running at 6."""
    events: list[tuple[str, str, dict[str, Any], int]] = [
        ("VirtualMachine", "ADDED", vm("vm-u", "vm-a"), at(0.15)),
        (
            "VirtualMachineInstance",
            "ADDED",
            vmi("vmi-u", "vm-a", 1, {"Pending": 2}, None if standalone else "vm-u"),
            at(1.2),
        ),
        ("Pod", "ADDED", launcher("pod-u", "vmi-u", "vm-a", 2), at(2.3)),
        (
            "VirtualMachineInstance",
            "MODIFIED",
            vmi("vmi-u", "vm-a", 1, PHASES, None if standalone else "vm-u"),
            at(6.4),
        ),
        ("Pod", "MODIFIED", launcher("pod-u", "vmi-u", "vm-a", 2, LAUNCHER), at(6.5)),
        ("VirtualMachine", "MODIFIED", vm("vm-u", "vm-a", ready=7), at(7.6)),
    ]
    if standalone:
        events = [e for e in events if e[0] != "VirtualMachine"]
    for i in order or range(len(events)):
        if i < len(events):
            ms.on_event(*events[i])


def test_vmi_latency_joins_vm_vmi_pod_on_both_clocks() -> None:
    ms = new_set("vmiLatency")
    ms.on_created(vm("vm-u", "vm-a"), at(0.1))
    feed_vm(ms)
    doc = only_doc(ms)
    assert (doc["vmName"], doc["vmiName"], doc["podName"]) == (
        "vm-a",
        "vm-a",
        "virt-launcher-vm-a-abcde",
    )
    assert doc["nodeName"] == "node-a" and (doc["jobIteration"], doc["replica"]) == (1, 2)
    assert doc["metricName"] == "vmiLatencyMeasurement"
    assert doc["vmiCreatedLatency"] == 1100.0 and doc["vmiPendingLatency"] == 1100.0
    assert doc["vmiScheduledLatency"] == 6300.0 and doc["vmiRunningLatency"] == 6300.0
    assert doc["podCreatedLatency"] == 2200.0 and doc["podReadyLatency"] == 6400.0
    assert doc["vmReadyLatency"] == 7500.0
    assert doc["serverLatencies"] == {
        "vmReadyLatency": 7000,
        "vmiCreatedLatency": 1000,
        "vmiPendingLatency": 2000,
        "vmiSchedulingLatency": 2000,
        "vmiScheduledLatency": 4000,
        "vmiRunningLatency": 6000,
        "podCreatedLatency": 2000,
        "podScheduledLatency": 3000,
        "podInitializedLatency": 4000,
        "podContainersReadyLatency": 5000,
        "podReadyToStartContainersLatency": 4000,
        "podReadyLatency": 6000,
    }
    assert "vmStoppedLatency" not in doc and doc["errors"] == [] and doc["missing"] == []
    keys = set(ms.quantiles())
    assert "vmiLatency.VMIRunning" in keys and "vmiLatency.PodReady" in keys
    assert not any("VMStopped" in k for k in keys)


@pytest.mark.parametrize("seed", range(5))
def test_vmi_join_is_independent_of_event_order(seed: int) -> None:
    reference = new_set("vmiLatency")
    reference.on_created(vm("vm-u", "vm-a"), at(0.1))
    feed_vm(reference)
    order = list(range(6))
    random.Random(seed).shuffle(order)
    ms = new_set("vmiLatency")
    ms.on_created(vm("vm-u", "vm-a"), at(0.1))
    feed_vm(ms, order + order)  # every event twice, shuffled
    got, want = only_doc(ms), only_doc(reference)
    assert got["serverLatencies"] == want["serverLatencies"]
    assert (got["vmName"], got["podName"], got["nodeName"]) == (
        want["vmName"],
        want["podName"],
        want["nodeName"],
    )
    # a client value can only be later, when its first sighting was handled after completion
    got_client = only_doc(ms, "server")["clientLatencies"]
    for field, value in only_doc(reference, "server")["clientLatencies"].items():
        assert got_client[field] >= value


def test_standalone_vmi_and_join_by_name() -> None:
    ms = new_set("vmiLatency")
    ms.on_created(vmi("vmi-u", "vm-a", 0, {}, None), at(0.1))
    feed_vm(ms, standalone=True)
    doc = only_doc(ms)
    assert "vmReadyLatency" not in doc and doc["vmiRunningLatency"] == 6300.0
    assert doc["vmName"] == "" and doc["vmiName"] == "vm-a" and doc["missing"] == []

    by_name = new_set("vmiLatency")
    by_name.on_created(vm("vm-u", "vm-a"), at(0.1))
    feed_vm(by_name, standalone=True)  # VMI without ownerReferences, same name as the VM
    by_name.on_event("VirtualMachine", "MODIFIED", vm("vm-u", "vm-a", ready=7), at(7.6))
    doc = only_doc(by_name)
    assert doc["vmReadyLatency"] == 7500.0 and doc["vmiRunningLatency"] == 6300.0


def test_migration_target_pod_is_not_joined() -> None:
    ms = new_set("vmiLatency")
    ms.on_created(vm("vm-u", "vm-a"), at(0.1))
    feed_vm(ms)
    target = launcher("pod-t", "vmi-u", "vm-a", 50, LAUNCHER)
    target["metadata"]["labels"]["kubevirt.io/migrationJobUID"] = "m1"
    target["metadata"]["name"] = "virt-launcher-vm-a-zzzzz"
    ms.on_event("Pod", "ADDED", target, at(50))
    assert only_doc(ms)["podName"] == "virt-launcher-vm-a-abcde"


def restart_events(ms: MeasurementSet, op_at: float) -> None:
    """Old VMI keeps reporting, then a new VMI (new uid) and pod run after the restart."""
    ms.on_event("VirtualMachine", "MODIFIED", vm("vm-u", "vm-a", ready=7), at(op_at + 0.05))
    ms.on_event(
        "VirtualMachineInstance",
        "MODIFIED",
        vmi("vmi-u", "vm-a", 1, {**PHASES, "Succeeded": op_at + 1}, "vm-u"),
        at(op_at + 1.1),
    )
    ms.on_event(
        "VirtualMachineInstance",
        "DELETED",
        vmi("vmi-u", "vm-a", 1, PHASES, "vm-u"),
        at(op_at + 1.5),
    )
    ms.on_event(
        "VirtualMachine", "MODIFIED", vm("vm-u", "vm-a", ready_false=op_at + 1), at(op_at + 1.6)
    )
    new = {
        "Pending": op_at + 2,
        "Scheduling": op_at + 2,
        "Scheduled": op_at + 3,
        "Running": op_at + 4,
    }
    ms.on_event(
        "VirtualMachineInstance",
        "ADDED",
        vmi("vmi-2", "vm-a", op_at + 2, {"Pending": op_at + 2}, "vm-u"),
        at(op_at + 2.2),
    )
    ms.on_event(
        "Pod",
        "ADDED",
        launcher(
            "pod-2", "vmi-2", "vm-a", op_at + 2, tuple((c, op_at + t - 2) for c, t in LAUNCHER)
        ),
        at(op_at + 4.1),
    )
    ms.on_event(
        "VirtualMachineInstance",
        "MODIFIED",
        vmi("vmi-2", "vm-a", op_at + 2, new, "vm-u"),
        at(op_at + 4.3),
    )
    ms.on_event("VirtualMachine", "MODIFIED", vm("vm-u", "vm-a", ready=op_at + 5), at(op_at + 5.2))


def test_day2_restart_is_a_second_sample_from_the_op_time() -> None:
    ms = new_set("vmiLatency")
    ms.on_created(vm("vm-u", "vm-a"), at(0.1))
    feed_vm(ms)
    before = only_doc(ms)
    ms.mark_operation("VirtualMachine", "ns-1", "vm-a", "restart", at(100.5))
    restart_events(ms, 100)
    first, second = list(ms.documents())
    assert first == before  # the creation sample stays as it was
    assert second["operation"] == "restart" and second["timestamp"] == format_ts(at(100.5))
    assert second["vmiRunningLatency"] == pytest.approx(3800.0)  # 104.3 - 100.5
    assert second["vmiCreatedLatency"] == pytest.approx(1700.0)
    assert second["vmReadyLatency"] == pytest.approx(4700.0)  # not the stale Ready at 100.05
    assert second["podName"] == "virt-launcher-vm-a-abcde" and second["missing"] == []
    # server clock: t0 is the op time truncated to the second, like every API timestamp
    assert second["serverLatencies"]["vmiRunningLatency"] == 4000
    assert second["serverLatencies"]["vmReadyLatency"] == 5000
    q = ms.quantiles()
    assert q["vmiLatency.VMIRunning"].n == 1 and q["vmiLatency.VMIRunning"].p50 == 6.3
    assert q["vmiLatency.restart.VMIRunning"].p50 == pytest.approx(3.8)
    qdocs = [d for d in ms.quantile_documents() if d["quantileName"] == "VMIRunning"]
    assert sorted(d["operation"] for d in qdocs) == ["create", "restart"]


def test_day2_only_job_ignores_pre_existing_vms() -> None:
    ms = new_set("vmiLatency", ignore_existing=True)
    feed_vm(ms)  # the initial list of an existing, running VM
    ms.watches_synced()
    ms.mark_operation("VirtualMachine", "ns-1", "vm-a", "restart", at(100.5))
    restart_events(ms, 100)
    doc = only_doc(ms)
    assert doc["operation"] == "restart" and doc["vmiRunningLatency"] == pytest.approx(3800.0)
    assert set(ms.quantiles()) == {
        f"vmiLatency.restart.{q}"
        for q in (
            "VMReady",
            "VMICreated",
            "VMIPending",
            "VMIScheduling",
            "VMIScheduled",
            "VMIRunning",
            "PodCreated",
            "PodPodScheduled",
            "PodInitialized",
            "PodContainersReady",
            "PodReadyToStartContainers",
            "PodReady",
        )
    }


def test_day2_operation_before_the_vm_was_seen() -> None:
    ms = new_set("vmiLatency", ignore_existing=True)
    ms.watches_synced()
    ms.mark_operation("VirtualMachine", "ns-1", "vm-a", "start", at(100.5))
    restart_events(ms, 100)  # the old VMI (created at 1 s) is rejected: created before the op
    doc = only_doc(ms)
    assert doc["operation"] == "start" and doc["vmiCreatedLatency"] == pytest.approx(1700.0)


def test_day2_stop() -> None:
    ms = new_set("vmiLatency")
    ms.on_created(vm("vm-u", "vm-a"), at(0.1))
    feed_vm(ms)
    ms.mark_operation("VirtualMachine", "ns-1", "vm-a", "stop", at(200.2))
    ms.on_event("VirtualMachine", "MODIFIED", vm("vm-u", "vm-a", ready=7), at(200.3))
    ms.on_event(
        "VirtualMachine",
        "MODIFIED",
        vm("vm-u", "vm-a", printable="Stopped", ready_false=203),
        at(203.7),
    )
    stop = list(ms.documents())[1]
    assert stop["operation"] == "stop" and stop["vmStoppedLatency"] == 3500.0
    assert stop["serverLatencies"] == {"vmStoppedLatency": 3000}
    assert "vmiRunningLatency" not in stop
    assert ms.quantiles()["vmiLatency.stop.VMStopped"].p50 == 3.5


# -- other recorders -------------------------------------------------------------------------
def obj(
    kind: str,
    uid: str,
    status: dict[str, Any],
    spec: dict[str, Any] | None = None,
    created: float = 0,
) -> dict[str, Any]:
    return {
        "kind": kind,
        "metadata": {
            "uid": uid,
            "name": f"n-{uid}",
            "namespace": "ns-1",
            "creationTimestamp": ts(created),
        },
        "spec": spec or {},
        "status": status,
    }


def test_vmim_latency() -> None:
    ms = new_set("vmimLatency")
    kind = "VirtualMachineInstanceMigration"
    phases = [
        "Pending",
        "Scheduling",
        "Scheduled",
        "PreparingTarget",
        "TargetReady",
        "Running",
        "Succeeded",
    ]
    ms.on_created(obj(kind, "m1", {}, {"vmiName": "vm-a"}), at(0.1))
    for i, phase in enumerate(phases):
        st = {
            "phase": phase,
            "migrationState": {"targetNode": "node-b"},
            "phaseTransitionTimestamps": [
                {"phase": p, "phaseTransitionTimestamp": ts(j + 1)}
                for j, p in enumerate(phases[: i + 1])
            ],
        }
        ms.on_event(kind, "MODIFIED", obj(kind, "m1", st, {"vmiName": "vm-a"}), at(i + 1.5))
    doc = only_doc(ms)
    assert doc["metricName"] == "vmimLatencyMeasurement" and doc["vmiName"] == "vm-a"
    assert doc["succeededLatency"] == 7400.0 and doc["serverLatencies"]["succeededLatency"] == 7000
    assert doc["nodeName"] == "node-b"
    assert ms.quantiles()["vmimLatency.Succeeded"].p99 == 7.4


def test_datavolume_job_and_pvc_latency() -> None:
    ms = new_set("dataVolumeLatency", "jobLatency", "pvcLatency", clock="server")
    dv_status = {
        "phase": "Succeeded",
        "conditions": [cond("Bound", 2), cond("Ready", 5), cond("Running", 3, "False")],
    }
    ms.on_event("DataVolume", "ADDED", obj("DataVolume", "d1", dv_status), at(5.5))
    job_status = {"startTime": ts(1), "conditions": [cond("Complete", 9)]}
    ms.on_created(obj("Job", "j1", {}), at(0.3))
    ms.on_event("Job", "MODIFIED", obj("Job", "j1", job_status), at(9.4))
    pvc_spec = {"resources": {"requests": {"storage": "1Gi"}}, "storageClassName": "fast"}
    ms.on_created(obj("PersistentVolumeClaim", "c1", {}, pvc_spec), at(0.2))
    for phase, t in (("Pending", 0.25), ("Bound", 1.75)):
        ms.on_event(
            "PersistentVolumeClaim",
            "MODIFIED",
            obj("PersistentVolumeClaim", "c1", {"phase": phase}, pvc_spec),
            at(t),
        )
    dv, job, pvc = list(ms.documents())
    assert dv["metricName"] == "dvLatencyMeasurement" and dv["dvName"] == "n-d1"
    assert (dv["dvBoundLatency"], dv["dvReadyLatency"], dv["dvRunningLatency"]) == (
        2000,
        5000,
        None,
    )
    assert dv["missing"] == ["Running"]
    assert ms.quantiles()["dataVolumeLatency.Running"].missing == 0  # optional transition
    assert job["k8sJobName"] == "n-j1" and job["startTimeLatency"] == 1000
    assert (
        job["completionLatency"] == 9000 and job["clientLatencies"]["completionLatency"] == 9100.0
    )
    assert pvc["clock"] == "client" and "serverLatencies" not in pvc
    assert (pvc["pendingLatency"], pvc["bindingLatency"]) == (50.0, 1550.0)
    assert (pvc["size"], pvc["storageClass"]) == ("1Gi", "fast")
    q = ms.quantiles()
    assert q["pvcLatency.Bound"].clock == "client" and q["pvcLatency.Lost"].missing == 0
    assert q["jobLatency.Complete"].clock == "server" and q["jobLatency.Complete"].p50 == 9.0


def test_watches_and_routing() -> None:
    ms = new_set("podLatency", "vmiLatency")
    specs = [tuple(s) for s in ms.watches()]
    assert ("v1", "Pod", "") in specs and ("v1", "Pod", "kubevirt.io=virt-launcher") not in specs
    assert ("kubevirt.io/v1", "VirtualMachine", "") in specs
    only_vmi = new_set("vmiLatency")
    assert ("v1", "Pod", "kubevirt.io=virt-launcher") in [tuple(s) for s in only_vmi.watches()]
    ms.on_created(vm("vm-u", "vm-a"), at(0.1))
    handler = ms.handler("Pod")
    handler("ADDED", launcher("pod-u", "vmi-u", "vm-a", 2), at(2.3))
    assert len(list(ms.recorders["podLatency"].documents())) == 1  # launcher pods are pods too


def test_default_measurements_and_unknown_name() -> None:
    assert default_measurements(["Deployment"]) == ["podLatency"]
    assert default_measurements(["VirtualMachine"], data_volume_templates=True) == [
        "podLatency",
        "vmiLatency",
        "dataVolumeLatency",
    ]
    assert default_measurements(["Job", "PersistentVolumeClaim"], operations=["migrate"]) == [
        "podLatency",
        "vmimLatency",
        "jobLatency",
        "pvcLatency",
    ]
    with pytest.raises(
        ValueError,
        match="unknown measurement 'vmLatency'; valid: dataVolumeLatency, jobLatency, podLatency",
    ):
        new_set("vmLatency")


def test_timestamps_round_trip() -> None:
    assert parse_ts("2024-05-01T12:00:00Z") == parse_ts("2024-05-01T14:00:00+02:00")
    assert (parse_ts("2024-05-01T12:00:00.123456789Z") or 0) % S == 123_456_789
    assert format_ts(parse_ts("2024-05-01T12:00:00.120Z") or 0) == "2024-05-01T12:00:00.12Z"
    assert parse_ts("not a time") is None


# -- memory ----------------------------------------------------------------------------------
def test_memory_per_vm_is_below_one_kib() -> None:
    n = 10_000
    ms = new_set("vmiLatency")
    gc.collect()
    tracemalloc.start()
    try:
        base, _ = tracemalloc.get_traced_memory()
        for i in range(n):
            # realistic sizes: 36-character uids, kube-burner-like names
            vm_uid = f"{i:08d}-1111-2222-3333-444444444444"
            vmi_uid = f"{i:08d}-5555-6666-7777-888888888888"
            name = f"kubevirt-density-{i}"
            ms.on_created(vm(vm_uid, name), at(0.1))
            ms.on_event("VirtualMachine", "ADDED", vm(vm_uid, name), at(0.2))
            ms.on_event(
                "VirtualMachineInstance", "MODIFIED", vmi(vmi_uid, name, 1, PHASES, vm_uid), at(6.4)
            )
            ms.on_event(
                "Pod",
                "MODIFIED",
                launcher(f"{i:08d}-9999-aaaa-bbbb-cccccccccccc", vmi_uid, name, 2, LAUNCHER),
                at(6.5),
            )
        gc.collect()
        used, _ = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    per_object = (used - base) / n
    assert ms.quantiles()["vmiLatency.VMIRunning"].n == n
    assert per_object < 1024, f"{per_object:.0f} bytes per VM"


def test_memory_per_pod_is_below_one_kib() -> None:
    n = 10_000
    ms = new_set("podLatency")
    gc.collect()
    tracemalloc.start()
    try:
        base, _ = tracemalloc.get_traced_memory()
        for i in range(n):
            uid = f"{i:08d}-1111-2222-3333-444444444444"
            ms.on_created(pod(uid), at(0.1))
            ms.on_event("Pod", "MODIFIED", pod(uid, conds=POD_CONDS[:2], node="node-1"), at(1.2))
        gc.collect()
        used, _ = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert (used - base) / n < 1024, f"{(used - base) / n:.0f} bytes per pod"
