"""subresources.kubevirt.io/v1: start/stop/restart/migrate/pause/unpause/add-/removevolume."""

from __future__ import annotations

import copy
from typing import Any

from ..context import SimContext
from ..errors import ApiError, bad_request, path_not_found
from ..store import Obj
from .kubevirt_common import (
    FINAL_PHASES,
    KV_API,
    Types,
    cond_true,
    condition,
    kv_conflict,
    kv_not_found,
    meta,
    safe_delete,
    status,
    uid,
    write_meta,
    write_status,
)
from .kubevirt_vm import run_strategy
from .kubevirt_vmi import schedule_pause
from .kubevirt_volumes import vm_addvolume, vm_removevolume, vmi_addvolume, vmi_removevolume

VM_NOT_RUNNING = "VM is not running"
VMI_NOT_RUNNING = "VMI is not running"


def handle_subresource(
    ctx: SimContext,
    resource: str,
    namespace: str,
    name: str,
    sub: str,
    body: dict[str, Any] | None,
) -> dict[str, Any] | None:
    """Serve PUT .../namespaces/<ns>/<resource>/<name>/<sub>; None means an empty 202."""
    t = Types.of(ctx)
    body = body or {}
    dry = "All" in (body.get("dryRun") or [])
    if resource == "virtualmachines" and sub in VM_HANDLERS:
        vm = ctx.store.get(t.vm, namespace, name)
        if vm is None:
            raise kv_not_found("virtualmachine", name)
        vmi = ctx.store.get(t.vmi, namespace, name)
        VM_HANDLERS[sub](ctx, t, vm, vmi, body, dry)
        return None
    if resource == "virtualmachineinstances" and sub in VMI_HANDLERS:
        vmi = ctx.store.get(t.vmi, namespace, name)
        if vmi is None:
            raise kv_not_found("virtualmachineinstance", name)
        VMI_HANDLERS[sub](ctx, t, vmi, body, dry)
        return None
    raise path_not_found()


def _int(body: dict[str, Any], key: str) -> int | None:
    """An optional integer option; 400 as virt-api answers an undecodable body."""
    value = body.get(key)
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int):
        raise bad_request(
            "Can not unmarshal Request body to struct, error: json: cannot unmarshal "
            f"{type(value).__name__} into Go value of type int64"
        )
    return value


def _final(vmi: Obj | None) -> bool:
    return vmi is None or status(vmi).get("phase") in FINAL_PHASES


def _change_requests(ctx: SimContext, t: Types, vm: Obj, reqs: list[dict[str, Any]]) -> None:
    """Append state change requests as virt-api's JSON patch does (fails if some are pending)."""
    pending = status(vm).get("stateChangeRequests") or []
    only_stop = len(reqs) == 1 and reqs[0]["action"] == "Stop"
    if pending and not only_stop:
        raise ApiError(
            500,
            "InternalError",
            "Internal error occurred: unable to complete request: stop/start already underway",
        )

    def fn(st: dict[str, Any]) -> None:
        st["stateChangeRequests"] = copy.deepcopy(reqs)
        st.pop("startFailure", None)

    write_status(ctx, t.vm, vm, fn)


def _set_running(ctx: SimContext, t: Types, vm: Obj, running: bool) -> None:
    def fn(o: Obj) -> None:
        spec = o.setdefault("spec", {})
        if spec.get("runStrategy") is not None:
            spec["runStrategy"] = "Always" if running else "Halted"
        else:
            spec["running"] = running

    write_meta(ctx, t.vm, vm, fn)


def _start(
    ctx: SimContext, t: Types, vm: Obj, vmi: Obj | None, body: dict[str, Any], dry: bool
) -> None:
    name = str(meta(vm)["name"])
    phase = status(vmi).get("phase") if vmi is not None else None
    if vmi is not None and not _final(vmi) and phase not in ("Unknown", "", None):
        raise kv_conflict("virtualmachine", name, "VM is already running")
    paused = bool(body.get("paused") or body.get("startPaused"))
    data = {"paused": "true"} if paused else {}
    strategy, err = run_strategy(vm)
    if err is not None:
        raise ApiError(500, "InternalError", f"Internal error occurred: {err}")
    start: dict[str, Any] = {"action": "Start"}
    if data:
        start["data"] = data
    if strategy == "Halted":
        tpl_spec = ((vm.get("spec") or {}).get("template") or {}).get("spec") or {}
        if dry:
            return
        if paused and tpl_spec.get("startStrategy") != "Paused":
            _change_requests(ctx, t, vm, [start])
        else:
            _set_running(ctx, t, vm, True)
    elif strategy in ("RerunOnFailure", "Manual"):
        if strategy == "RerunOnFailure" and phase == "Failed":
            raise kv_conflict(
                "virtualmachine",
                name,
                "RerunOnFailure does not support starting VM from failed state",
            )
        restart = vmi is not None and (
            (strategy == "RerunOnFailure" and phase == "Succeeded")
            or (strategy == "Manual" and _final(vmi))
        )
        reqs = [{"action": "Stop", "uid": uid(vmi)}, start] if restart and vmi else [start]
        if not dry:
            _change_requests(ctx, t, vm, reqs)
    else:
        raise kv_conflict(
            "virtualmachine", name, f"{strategy} does not support manual start requests"
        )


def _stop(
    ctx: SimContext, t: Types, vm: Obj, vmi: Obj | None, body: dict[str, Any], dry: bool
) -> None:
    name = str(meta(vm)["name"])
    grace = _int(body, "gracePeriod")
    strategy, err = run_strategy(vm)
    if err is not None:
        raise ApiError(500, "InternalError", f"Internal error occurred: {err}")
    old_grace: int | None = None
    if vmi is not None and not _final(vmi) and grace is not None:
        old_grace = (vmi.get("spec") or {}).get("terminationGracePeriodSeconds")
        if not dry:
            write_meta(
                ctx,
                t.vmi,
                vmi,
                lambda o: o["spec"].__setitem__("terminationGracePeriodSeconds", grace),
            )
    if strategy in ("Halted", "Manual"):
        if vmi is None or _final(vmi):
            raise kv_conflict("virtualmachine", name, VM_NOT_RUNNING)
        if strategy == "Halted" and (
            grace is None or (old_grace is not None and grace >= int(old_grace))
        ):
            raise kv_conflict(
                "virtualmachine",
                name,
                "Halted only supports manual stop requests with a shorter graceperiod",
            )
        if not dry:
            _change_requests(ctx, t, vm, [{"action": "Stop", "uid": uid(vmi)}])
    elif not dry:
        _set_running(ctx, t, vm, False)


def _restart(
    ctx: SimContext, t: Types, vm: Obj, vmi: Obj | None, body: dict[str, Any], dry: bool
) -> None:
    name = str(meta(vm)["name"])
    grace = _int(body, "gracePeriodSeconds")
    if grace is not None and grace > 0:
        raise bad_request("For force restart, only gracePeriod=0 is supported for now")
    if grace is not None and grace < 0:
        raise bad_request("gracePeriod has to be greater or equal to 0")
    strategy, err = run_strategy(vm)
    if err is not None:
        raise ApiError(500, "InternalError", f"Internal error occurred: {err}")
    if strategy in ("Halted", "Once"):
        raise kv_conflict(
            "virtualmachine",
            name,
            f"RunStategy {strategy} does not support manual restart requests",
        )
    if vmi is None:
        raise kv_conflict("virtualmachine", name, "VM is not running: Halted")
    if dry:
        return
    _change_requests(ctx, t, vm, [{"action": "Stop", "uid": uid(vmi)}, {"action": "Start"}])
    if grace is not None:
        for pod in ctx.store.list(
            t.pod, meta(vmi)["namespace"], label_selector=f"kubevirt.io/created-by={uid(vmi)}"
        ):
            if status(pod).get("phase") == "Running":
                safe_delete(ctx, t.pod, meta(pod)["namespace"], meta(pod)["name"], 0)


def _migrate(
    ctx: SimContext, t: Types, vm: Obj, vmi: Obj | None, body: dict[str, Any], dry: bool
) -> None:
    name = str(meta(vm)["name"])
    if vmi is None:
        raise kv_not_found("virtualmachineinstance", name)
    if status(vmi).get("phase") != "Running":
        raise kv_conflict("virtualmachine", name, VM_NOT_RUNNING)
    if cond_true(vm, "Paused"):
        raise kv_conflict("virtualmachine", name, "VM is paused")
    if dry:
        return
    spec: dict[str, Any] = {"vmiName": name}
    if body.get("addedNodeSelector"):
        spec["addedNodeSelector"] = dict(body["addedNodeSelector"])
    mig: Obj = {
        "apiVersion": KV_API,
        "kind": "VirtualMachineInstanceMigration",
        "metadata": {"generateName": "kubevirt-migrate-vm-"},
        "spec": spec,
    }
    ctx.store.create(t.vmim, mig, meta(vm)["namespace"])


def _pause(ctx: SimContext, t: Types, vmi: Obj, body: dict[str, Any], dry: bool) -> None:
    name = str(meta(vmi)["name"])
    if status(vmi).get("phase") != "Running":
        raise kv_conflict("virtualmachineinstance", name, VM_NOT_RUNNING)
    if (vmi.get("spec") or {}).get("livenessProbe"):
        raise ApiError(
            403,
            "Forbidden",
            f'virtualmachineinstance.kubevirt.io "{name}" is forbidden: '
            "Pausing VMIs with LivenessProbe is currently not supported",
        )
    if condition(vmi, "Paused") is not None:
        raise kv_conflict("virtualmachineinstance", name, "VMI is already paused")
    if not dry:
        schedule_pause(ctx, vmi, True)


def _unpause(ctx: SimContext, t: Types, vmi: Obj, body: dict[str, Any], dry: bool) -> None:
    name = str(meta(vmi)["name"])
    if status(vmi).get("phase") != "Running" or condition(vmi, "Paused") is None:
        raise kv_conflict("virtualmachineinstance", name, "VMI is not paused")
    if not dry:
        schedule_pause(ctx, vmi, False)


VM_HANDLERS: dict[str, Any] = {
    "start": _start,
    "stop": _stop,
    "restart": _restart,
    "migrate": _migrate,
    "addvolume": vm_addvolume,
    "removevolume": vm_removevolume,
}
VMI_HANDLERS: dict[str, Any] = {
    "pause": _pause,
    "unpause": _unpause,
    "addvolume": vmi_addvolume,
    "removevolume": vmi_removevolume,
}
