"""VirtualMachine controller: run strategies, state change requests, DataVolumes, VM status."""

from __future__ import annotations

import copy
from typing import Any

from ..errors import ApiError
from ..store import Obj
from ._common import emit_event
from .kubevirt_common import (
    CDI_API,
    FINAL_PHASES,
    KV_API,
    VIRT_CONTROLLER,
    VM_FINALIZER,
    VMI_FINALIZER,
    cond_true,
    condition,
    deleting,
    drop_condition,
    meta,
    now,
    owned_by,
    owner_ref,
    safe_delete,
    set_condition,
    status,
    uid,
    write_meta,
    write_status,
)
from .kubevirt_state import Fired, Kv

KIND = "vm"
EXCLUSIVE = "running and runstrategy are mutually exclusive"
WAITING_DV_PHASES = ("", "Pending", "WaitForFirstConsumer", "PendingPopulation")


def run_strategy(vm: Obj) -> tuple[str, str | None]:
    """The effective runStrategy of a VM, and an error when spec.running conflicts with it."""
    spec = vm.get("spec") or {}
    strategy, running = spec.get("runStrategy"), spec.get("running")
    if strategy is not None and running is not None:
        return "Halted", EXCLUSIVE
    if strategy:
        return str(strategy), None
    return ("Always" if running else "Halted"), None


# conditions the VM keeps for itself (virt-controller watch/vm/vm.go syncConditions)
_NOT_SYNCED = ("Ready", "Failure", "RestartRequired")


def _sync_vmi_conditions(st: dict[str, Any], vmi: Obj) -> None:
    """Copy every VMI condition but Ready/Failure/RestartRequired; drop those the VMI lost."""
    copied = {}
    for c in status(vmi).get("conditions") or []:
        if c.get("type") in _NOT_SYNCED:
            continue
        entry = {k: c[k] for k in ("type", "status", "reason", "message") if k in c}
        entry["lastProbeTime"] = c.get("lastProbeTime")
        entry["lastTransitionTime"] = c.get("lastTransitionTime")
        copied[c.get("type")] = entry
    conds = [c for c in st.get("conditions") or [] if c.get("type") in _NOT_SYNCED]
    st["conditions"] = conds + list(copied.values())


def start_requested(vm: Obj) -> bool:
    """Whether a Start state change request is pending."""
    return any(r.get("action") == "Start" for r in status(vm).get("stateChangeRequests") or [])


def reconcile_vm(kv: Kv, ns: str, name: str, fired: Fired) -> None:
    """Converge one VM: its VMI, DataVolumes and status."""
    store = kv.ctx.store
    vm = store.get(kv.t.vm, ns, name)
    if vm is None:
        return
    vmi = store.get(kv.t.vmi, ns, name)
    if vmi is not None and not owned_by(vmi, vm):
        vmi = None
    strategy, err = run_strategy(vm)
    if deleting(vm):
        if vmi is not None and not deleting(vmi):
            safe_delete(kv.ctx, kv.t.vmi, ns, name, None)
        elif vmi is None and VM_FINALIZER in (meta(vm).get("finalizers") or []):
            write_meta(kv.ctx, kv.t.vm, vm, _drop_finalizer)
            return
        _update_status(kv, vm, vmi, strategy, [], err, fired)
        return
    if VM_FINALIZER not in (meta(vm).get("finalizers") or []):
        vm = (
            write_meta(
                kv.ctx,
                kv.t.vm,
                vm,
                lambda o: o["metadata"].setdefault("finalizers", []).append(VM_FINALIZER),
            )
            or vm
        )
    dvs = _ensure_datavolumes(kv, vm)
    dvs_ready = all(status(dv).get("phase") == "Succeeded" for dv in dvs if dv is not None)
    dvs_ready = dvs_ready and None not in dvs
    if err is None:
        _act(kv, vm, vmi, strategy, dvs_ready)
        vm = store.get(kv.t.vm, ns, name) or vm
        strategy, err = run_strategy(vm)
        vmi = store.get(kv.t.vmi, ns, name)
        if vmi is not None and not owned_by(vmi, vm):
            vmi = None
    _update_status(kv, vm, vmi, strategy, dvs, err, fired)


def _act(kv: Kv, vm: Obj, vmi: Obj | None, strategy: str, dvs_ready: bool) -> None:
    ns, name = str(meta(vm)["namespace"]), str(meta(vm)["name"])
    final = vmi is not None and status(vmi).get("phase") in FINAL_PHASES
    reqs = list(status(vm).get("stateChangeRequests") or [])
    changed = False
    while reqs:
        req = reqs[0]
        if req.get("action") == "Stop" and vmi is not None and req.get("uid") in (None, uid(vmi)):
            if not deleting(vmi):
                safe_delete(kv.ctx, kv.t.vmi, ns, name, None)
            break
        if req.get("action") == "Start" and vmi is not None and final:
            if not deleting(vmi):
                safe_delete(kv.ctx, kv.t.vmi, ns, name, None)
            break
        if req.get("action") == "Start" and vmi is None:
            if not dvs_ready:
                break
            _create_vmi(kv, vm, (req.get("data") or {}).get("paused") == "true")
            if strategy == "Halted":
                write_meta(kv.ctx, kv.t.vm, vm, lambda o: _set_running(o, True))
        reqs.pop(0)
        changed = True
    if changed:

        def fn(st: dict[str, Any]) -> None:
            if reqs:
                st["stateChangeRequests"] = reqs
            else:
                st.pop("stateChangeRequests", None)

        write_status(kv.ctx, kv.t.vm, vm, fn)
    if reqs:
        return
    if vmi is None:
        if strategy in ("Always", "RerunOnFailure", "Once") and not changed and dvs_ready:
            _create_vmi(kv, vm, False)
        return
    phase = status(vmi).get("phase")
    if deleting(vmi):
        return
    if (
        strategy == "Halted"
        or (strategy == "Always" and final)
        or (strategy == "RerunOnFailure" and phase == "Failed")
    ):
        safe_delete(kv.ctx, kv.t.vmi, ns, name, None)


def _set_running(vm: Obj, running: bool) -> None:
    spec = vm.setdefault("spec", {})
    if "running" in spec:
        spec["running"] = running
    else:
        spec["runStrategy"] = "Always" if running else "Halted"


def _drop_finalizer(o: Obj) -> None:
    o["metadata"]["finalizers"] = [
        f for f in o["metadata"].get("finalizers") or [] if f != VM_FINALIZER
    ]


def _create_vmi(kv: Kv, vm: Obj, paused: bool) -> None:
    m = meta(vm)
    tpl = (vm.get("spec") or {}).get("template") or {}
    tmeta = tpl.get("metadata") or {}
    spec = copy.deepcopy(tpl.get("spec") or {})
    if paused:
        spec["startStrategy"] = "Paused"
    annotations = dict(tmeta.get("annotations") or {})
    annotations["kubevirt.io/vm-generation"] = str(m.get("generation", 1))
    annotations["kubevirt.io/latest-observed-api-version"] = "v1"
    annotations["kubevirt.io/storage-observed-api-version"] = "v1"
    body: Obj = {
        "apiVersion": KV_API,
        "kind": "VirtualMachineInstance",
        "metadata": {
            "name": m["name"],
            "namespace": m["namespace"],
            "labels": dict(tmeta.get("labels") or {}),
            "annotations": annotations,
            "ownerReferences": [owner_ref(vm)],
            "finalizers": [VMI_FINALIZER],
        },
        "spec": spec,
    }
    try:
        kv.ctx.store.create(kv.t.vmi, body, m["namespace"])
    except ApiError as err:
        if err.reason != "AlreadyExists":
            raise
        return
    # virt-controller watch/vm/vm.go
    message = (
        f"Started the virtual machine by creating the new virtual machine instance {m['name']}"
    )
    emit_event(kv.ctx, vm, "SuccessfulCreate", message, VIRT_CONTROLLER, kv.ctx.clock())


def _ensure_datavolumes(kv: Kv, vm: Obj) -> list[Obj | None]:
    """The VM's DataVolumes (created from dataVolumeTemplates); None for a missing one."""
    m, spec = meta(vm), vm.get("spec") or {}
    ns = str(m["namespace"])
    out: list[Obj | None] = []
    seen: set[str] = set()
    for tpl in spec.get("dataVolumeTemplates") or []:
        tmeta = tpl.get("metadata") or {}
        name = str(tmeta.get("name", ""))
        seen.add(name)
        dv = kv.ctx.store.get(kv.t.dv, ns, name)
        if dv is None:
            body: Obj = {
                "apiVersion": CDI_API,
                "kind": "DataVolume",
                "metadata": {
                    "name": name,
                    "namespace": ns,
                    "labels": dict(tmeta.get("labels") or {}),
                    "annotations": dict(tmeta.get("annotations") or {}),
                    "ownerReferences": [owner_ref(vm)],
                },
                "spec": copy.deepcopy(tpl.get("spec") or {}),
            }
            try:
                dv = kv.ctx.store.create(kv.t.dv, body, ns)
            except ApiError as err:
                if err.reason != "AlreadyExists":
                    raise
                dv = kv.ctx.store.get(kv.t.dv, ns, name)
        out.append(dv)
    for vol in (spec.get("template") or {}).get("spec", {}).get("volumes") or []:
        ref = (vol.get("dataVolume") or {}).get("name")
        if ref and ref not in seen and not (vol.get("dataVolume") or {}).get("hotpluggable"):
            out.append(kv.ctx.store.get(kv.t.dv, ns, str(ref)))
    return out


def _printable(vm: Obj, vmi: Obj | None, strategy: str, dvs: list[Obj | None], ready: bool) -> str:
    if deleting(vm):
        return "Terminating"
    reqs = status(vm).get("stateChangeRequests") or []
    if vmi is None:
        if strategy in ("Always", "RerunOnFailure", "Once") or start_requested(vm):
            if any(dv is None for dv in dvs):
                return "Provisioning"
            if any(status(dv).get("phase") in WAITING_DV_PHASES for dv in dvs if dv is not None):
                return "WaitingForVolumeBinding"
            if any(status(dv).get("phase") != "Succeeded" for dv in dvs if dv is not None):
                return "Provisioning"
            return "Starting"
        return "Stopped"
    phase = str(status(vmi).get("phase") or "")
    if phase in FINAL_PHASES:
        restarts = start_requested(vm) or strategy == "Always"
        restarts = restarts or (strategy == "RerunOnFailure" and phase == "Failed")
        return "Starting" if restarts else "Stopped"
    if deleting(vmi) or strategy == "Halted" or any(r.get("action") == "Stop" for r in reqs):
        return "Stopping"
    if phase in ("", "Pending", "Scheduling"):
        sched = condition(vmi, "PodScheduled")
        if sched is not None and sched.get("status") == "False":
            return "ErrorUnschedulable"
        return "Starting"
    if phase == "Running":
        if cond_true(vmi, "Paused"):
            return "Paused"
        mstate = status(vmi).get("migrationState") or {}
        if mstate and not mstate.get("completed") and not mstate.get("failed"):
            return "Migrating"
        return "Running" if ready else "Starting"
    return "Starting" if phase == "Scheduled" else "Unknown"


def _update_status(
    kv: Kv,
    vm: Obj,
    vmi: Obj | None,
    strategy: str,
    dvs: list[Obj | None],
    err: str | None,
    fired: Fired,
) -> None:
    vmi_ready = (
        vmi is not None
        and not deleting(vmi)
        and status(vmi).get("phase") == "Running"
        and cond_true(vmi, "Ready")
    )
    was_ready = cond_true(vm, "Ready")
    becomes_ready = False
    if vmi_ready and not was_ready and vmi is not None:
        becomes_ready = kv.due(KIND, vm, f"Ready:{uid(vmi)}", "VirtualMachine.Ready", fired)
    ready = vmi_ready and (was_ready or becomes_ready)
    printable = _printable(vm, vmi, strategy, dvs, ready)
    old_printable = status(vm).get("printableStatus")
    at, ts = now(kv.ctx)
    vmi_ready_cond = condition(vmi, "Ready") if vmi is not None else None

    def fn(st: dict[str, Any]) -> None:
        st["created"] = vmi is not None
        st["ready"] = ready
        st["printableStatus"] = printable
        st["runStrategy"] = strategy
        gen = meta(vm).get("generation", 1)
        st["observedGeneration"] = gen
        st["desiredGeneration"] = gen
        if ready:
            set_condition(st, "Ready", "True", ts)
        elif vmi is None:
            set_condition(st, "Ready", "False", ts, "VMINotExists", "VMI does not exist")
        elif not vmi_ready:
            reason, message = "GuestNotRunning", "Guest VM is not reported as running"
            if vmi_ready_cond is not None and vmi_ready_cond.get("status") == "False":
                reason = str(vmi_ready_cond.get("reason") or reason)
                message = str(vmi_ready_cond.get("message") or message)
            set_condition(st, "Ready", "False", ts, reason, message)
        if vmi is not None:
            _sync_vmi_conditions(st, vmi)
        if err is not None:
            set_condition(st, "Failure", "True", ts, "FailedCreate", err)
        else:
            drop_condition(st, "Failure")

    new = write_status(kv.ctx, kv.t.vm, vm, fn)
    if new is None:
        return
    if becomes_ready:
        kv.ctx.ground_truth.record(new, "Ready", at)
    if printable == "Stopped" and old_printable not in (None, "Stopped"):
        kv.ctx.ground_truth.record(new, "Stopped", at)
