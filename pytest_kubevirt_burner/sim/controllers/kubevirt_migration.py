"""VirtualMachineInstanceMigration controller: live migration to a target virt-launcher pod."""

from __future__ import annotations

from collections import Counter
from typing import Any

from ..store import Obj
from .kubevirt_common import (
    FINAL_PHASES,
    MIGRATION_LABEL,
    add_phase,
    cond_true,
    deleting,
    meta,
    now,
    safe_delete,
    status,
    transition,
    uid,
    write_meta,
    write_status,
)
from .kubevirt_launcher import launcher_pod, pod_ready
from .kubevirt_state import Fired, Kv

KIND = "vmim"
# virt-config ParallelMigrationsPerClusterDefault
PARALLEL_MIGRATIONS = 5
# virt-config ParallelOutboundMigrationsPerNodeDefault
PARALLEL_OUTBOUND_PER_NODE = 2
ACTIVE = ("Scheduling", "Scheduled", "PreparingTarget", "TargetReady", "Running")
NEXT = {
    "Scheduled": "PreparingTarget",
    "PreparingTarget": "TargetReady",
    "TargetReady": "Running",
    "Running": "Succeeded",
}


def reconcile_vmim(kv: Kv, ns: str, name: str, fired: Fired) -> None:
    """Move one migration one step further."""
    store = kv.ctx.store
    mig = store.get(kv.t.vmim, ns, name)
    if mig is None:
        return
    phase = str(status(mig).get("phase") or "")
    if phase in FINAL_PHASES:
        return
    vmi_name = str((mig.get("spec") or {}).get("vmiName", ""))
    vmi = store.get(kv.t.vmi, ns, vmi_name)
    if phase == "":
        transition(kv.ctx, kv.t.vmim, mig, "Pending", lambda st, ts: add_phase(st, "Pending", ts))
        return
    if deleting(mig):
        _fail(kv, mig, vmi, "migration was deleted")
        return
    if vmi is None or deleting(vmi) or status(vmi).get("phase") != "Running":
        _fail(kv, mig, vmi, f"VMI {vmi_name} is not running")
        return
    if phase == "Pending":
        if _others_active(kv, ns, name, vmi_name):
            kv.waiting_migrations.add((ns, name))
            return
        if kv.due(KIND, mig, "Scheduling", "VirtualMachineInstanceMigration.Scheduling", fired):
            _scheduling(kv, mig, vmi)
        return
    target = _target_pod(kv, mig, vmi)
    if target is None or deleting(target):
        _fail(kv, mig, vmi, "target pod is gone")
        return
    if phase == "Scheduling":
        if (target.get("spec") or {}).get("nodeName") == status(vmi).get("nodeName"):
            _fail(kv, mig, vmi, "no node other than the source can host the target pod")
        elif pod_ready(target) and kv.due(
            KIND, mig, "Scheduled", "VirtualMachineInstanceMigration.Scheduled", fired
        ):
            _scheduled(kv, mig, vmi, target)
        return
    nxt = NEXT.get(phase)
    if nxt and kv.due(KIND, mig, nxt, f"VirtualMachineInstanceMigration.{nxt}", fired):
        _advance(kv, mig, vmi, target, nxt)


def _others_active(kv: Kv, ns: str, name: str, vmi_name: str) -> bool:
    """Whether this migration has to wait: same VMI in flight, or the cluster (5) or source
    node (2 outbound) limit reached (virt-controller's migration controller)."""
    vmi = kv.ctx.store.get(kv.t.vmi, ns, vmi_name)
    node = status(vmi).get("nodeName") if vmi is not None else None
    active = from_node = 0
    for (mns, other_vmi), names in kv.vmims_by_vmi.items():
        for other in names:
            if (mns, other) == (ns, name):
                continue
            obj = kv.ctx.store.get(kv.t.vmim, mns, other)
            if obj is None or status(obj).get("phase") not in ACTIVE:
                continue
            if mns == ns and (obj.get("spec") or {}).get("vmiName") == vmi_name:
                return True
            active += 1
            source = (status(obj).get("migrationState") or {}).get("sourceNode")
            if source is None:
                peer = kv.ctx.store.get(kv.t.vmi, mns, other_vmi)
                source = status(peer).get("nodeName") if peer is not None else None
            if node is not None and source == node:
                from_node += 1
    return active >= PARALLEL_MIGRATIONS or from_node >= PARALLEL_OUTBOUND_PER_NODE


def _target_pod(kv: Kv, mig: Obj, vmi: Obj) -> Obj | None:
    for pod in kv.launcher_pods(vmi):
        if (meta(pod).get("labels") or {}).get(MIGRATION_LABEL) == uid(mig):
            return pod
    return None


def _scheduling(kv: Kv, mig: Obj, vmi: Obj) -> None:
    if _target_pod(kv, mig, vmi) is None:
        pod = launcher_pod(kv.ctx, vmi, mig)
        node = _pick_node(kv, vmi, pod)
        if node is not None:
            pod["spec"].setdefault("nodeSelector", {})["kubernetes.io/hostname"] = node
        kv.ctx.store.create(kv.t.pod, pod, meta(vmi)["namespace"])
    if "kubevirt.io/vmi-name" not in (meta(mig).get("labels") or {}):
        vmi_name = str(meta(vmi)["name"])
        mig = (
            write_meta(
                kv.ctx,
                kv.t.vmim,
                mig,
                lambda o: (
                    o["metadata"]
                    .setdefault("labels", {})
                    .__setitem__("kubevirt.io/vmi-name", vmi_name)
                ),
            )
            or mig
        )
    transition(kv.ctx, kv.t.vmim, mig, "Scheduling", lambda st, ts: add_phase(st, "Scheduling", ts))


def _pick_node(kv: Kv, vmi: Obj, pod: Obj) -> str | None:
    """The Ready node, other than the source, that matches the pod and runs the fewest pods."""
    source = status(vmi).get("nodeName")
    selector = (pod.get("spec") or {}).get("nodeSelector") or {}
    candidates = []
    for node in kv.ctx.store.list(kv.t.node):
        labels = meta(node).get("labels") or {}
        if meta(node)["name"] == source or (node.get("spec") or {}).get("unschedulable"):
            continue
        if not cond_true(node, "Ready") or any(labels.get(k) != v for k, v in selector.items()):
            continue
        candidates.append(str(meta(node)["name"]))
    if not candidates:
        return None
    load = Counter((p.get("spec") or {}).get("nodeName") for p in kv.ctx.store.list(kv.t.pod))
    return min(candidates, key=lambda n: (load[n], n))


def _state(kv: Kv, mig: Obj, vmi: Obj, target: Obj) -> dict[str, Any]:
    source = kv.current_pod(vmi)
    return {
        "migrationUid": uid(mig),
        "sourceNode": status(vmi).get("nodeName"),
        "sourcePod": meta(source)["name"] if source is not None else None,
        "targetNode": target["spec"]["nodeName"],
        "targetPod": meta(target)["name"],
        "targetNodeAddress": status(target).get("hostIP") or status(target).get("podIP"),
        "mode": "PreCopy",
        "migrationConfiguration": {
            "allowAutoConverge": False,
            "allowPostCopy": False,
            "bandwidthPerMigration": "0Mi",
            "completionTimeoutPerGiB": 150,
            "parallelMigrationsPerCluster": PARALLEL_MIGRATIONS,
            "parallelOutboundMigrationsPerNode": 2,
            "progressTimeout": 150,
        },
    }


def _scheduled(kv: Kv, mig: Obj, vmi: Obj, target: Obj) -> None:
    state = _state(kv, mig, vmi, target)

    def vmi_fn(st: dict[str, Any]) -> None:
        st["migrationState"] = dict(state)
        st.setdefault("activePods", {})[uid(target)] = target["spec"]["nodeName"]

    write_status(kv.ctx, kv.t.vmi, vmi, vmi_fn)

    def fn(st: dict[str, Any], ts: str) -> None:
        add_phase(st, "Scheduled", ts)
        st["migrationState"] = dict(state)

    transition(kv.ctx, kv.t.vmim, mig, "Scheduled", fn)


def _advance(kv: Kv, mig: Obj, vmi: Obj, target: Obj, nxt: str) -> None:
    at, ts = now(kv.ctx)
    extra: dict[str, Any] = {}
    if nxt == "TargetReady":
        extra = {"targetNodeDomainDetected": True, "targetNodeDomainReadyTimestamp": ts}
    elif nxt == "Running":
        extra = {"startTimestamp": ts}
    elif nxt == "Succeeded":
        extra = {"completed": True, "endTimestamp": ts}
    node = str(target["spec"]["nodeName"])
    source_pods = [p for p in kv.launcher_pods(vmi) if meta(p)["name"] != meta(target)["name"]]

    def vmi_fn(st: dict[str, Any]) -> None:
        st.setdefault("migrationState", {}).update(extra)
        if nxt == "Succeeded":
            st["nodeName"] = node
            st["activePods"] = {uid(target): node}

    write_status(kv.ctx, kv.t.vmi, vmi, vmi_fn)
    if nxt == "Succeeded":
        write_meta(
            kv.ctx,
            kv.t.vmi,
            vmi,
            lambda o: (
                o["metadata"].setdefault("labels", {}).__setitem__("kubevirt.io/nodeName", node)
            ),
        )

    def fn(st: dict[str, Any]) -> None:
        add_phase(st, nxt, ts)
        st.setdefault("migrationState", {}).update(extra)

    new = write_status(kv.ctx, kv.t.vmim, mig, fn)
    if new is not None:
        kv.ctx.ground_truth.record(new, nxt, at)
    if nxt == "Succeeded":
        for pod in source_pods:
            safe_delete(kv.ctx, kv.t.pod, meta(pod)["namespace"], meta(pod)["name"], 0)
        _wake_pending(kv)


def _fail(kv: Kv, mig: Obj, vmi: Obj | None, reason: str) -> None:
    if vmi is not None:
        target = _target_pod(kv, mig, vmi)
        if target is not None:
            safe_delete(kv.ctx, kv.t.pod, meta(target)["namespace"], meta(target)["name"], 0)
        mstate = status(vmi).get("migrationState") or {}
        if mstate.get("migrationUid") == uid(mig) and not mstate.get("completed"):
            _, ts = now(kv.ctx)

            def vmi_fn(st: dict[str, Any]) -> None:
                st["migrationState"].update(
                    {"failed": True, "completed": True, "endTimestamp": ts, "failureReason": reason}
                )
                if target is not None:
                    st.get("activePods", {}).pop(uid(target), None)

            write_status(kv.ctx, kv.t.vmi, vmi, vmi_fn)

    def fn(st: dict[str, Any], ts: str) -> None:
        add_phase(st, "Failed", ts)
        st.setdefault("migrationState", {}).update({"failed": True, "failureReason": reason})

    if not deleting(mig):
        transition(kv.ctx, kv.t.vmim, mig, "Failed", fn)
    _wake_pending(kv)


def _wake_pending(kv: Kv) -> None:
    """Let migrations held back by the parallelism limit try again."""
    for (ns, _), names in kv.vmims_by_vmi.items():
        for name in names:
            obj = kv.ctx.store.get(kv.t.vmim, ns, name)
            if obj is not None and status(obj).get("phase") == "Pending":
                kv.enqueue(KIND, ns, name)
