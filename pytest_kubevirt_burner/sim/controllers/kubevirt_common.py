"""Shared helpers of the simulated KubeVirt and CDI controllers."""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from ..context import SimContext
from ..errors import ApiError
from ..resources import ResourceType
from ..store import Obj, now_rfc3339

log = logging.getLogger("pytest_kubevirt_burner.sim.kubevirt")

KV_API = "kubevirt.io/v1"
CDI_API = "cdi.kubevirt.io/v1beta1"
VMI_FINALIZER = "foregroundDeleteVirtualMachine"
VIRT_CONTROLLER = "virtualmachine-controller"  # the Events' source component
VM_FINALIZER = "kubevirt.io/virtualMachineControllerFinalize"
LAUNCHER_IMAGE = "quay.io/kubevirt/virt-launcher:v1.6.0"
MIGRATION_LABEL = "kubevirt.io/migrationJobUID"
CREATED_BY = "kubevirt.io/created-by"
FINAL_PHASES = ("Succeeded", "Failed")
# the alphabet of Kubernetes generateName suffixes (no vowels, no confusable digits)
NAME_ALPHABET = "bcdfghjklmnpqrstvwxz2456789"


@dataclass(frozen=True)
class Types:
    """Resource types the KubeVirt controllers read and write."""

    vm: ResourceType
    vmi: ResourceType
    vmim: ResourceType
    vmirs: ResourceType
    dv: ResourceType
    pod: ResourceType
    pvc: ResourceType
    node: ResourceType

    @classmethod
    def of(cls, ctx: SimContext) -> Types:
        """Resolve the types from the context's registry."""
        reg = ctx.registry
        return cls(
            vm=reg.lookup("kubevirt.io", "virtualmachines"),
            vmi=reg.lookup("kubevirt.io", "virtualmachineinstances"),
            vmim=reg.lookup("kubevirt.io", "virtualmachineinstancemigrations"),
            vmirs=reg.lookup("kubevirt.io", "virtualmachineinstancereplicasets"),
            dv=reg.lookup("cdi.kubevirt.io", "datavolumes"),
            pod=reg.core("pods"),
            pvc=reg.core("persistentvolumeclaims"),
            node=reg.core("nodes"),
        )


def suffix(ctx: SimContext, n: int = 5) -> str:
    """A random name suffix drawn from the seeded RNG."""
    return "".join(ctx.rng.choice(NAME_ALPHABET) for _ in range(n))


def now(ctx: SimContext) -> tuple[float, str]:
    """The exact time of a write and its second-precision RFC3339 rendering."""
    at = ctx.clock()
    return at, now_rfc3339(at)


def meta(obj: Obj) -> dict[str, Any]:
    """``metadata`` of an object (empty dict when missing)."""
    m = obj.get("metadata")
    return m if isinstance(m, dict) else {}


def status(obj: Obj) -> dict[str, Any]:
    """``status`` of an object (empty dict when missing)."""
    s = obj.get("status")
    return s if isinstance(s, dict) else {}


def uid(obj: Obj) -> str:
    """metadata.uid."""
    return str(meta(obj).get("uid", ""))


def deleting(obj: Obj) -> bool:
    """Whether the object carries a deletionTimestamp."""
    return bool(meta(obj).get("deletionTimestamp"))


def controller_ref(obj: Obj) -> dict[str, Any] | None:
    """The ownerReference with controller=true, if any."""
    for ref in meta(obj).get("ownerReferences") or []:
        if ref.get("controller"):
            return dict(ref)
    return None


def owner_ref(owner: Obj) -> dict[str, Any]:
    """A controller ownerReference to ``owner`` that blocks its foreground deletion."""
    return {
        "apiVersion": owner["apiVersion"],
        "kind": owner["kind"],
        "name": meta(owner)["name"],
        "uid": uid(owner),
        "controller": True,
        "blockOwnerDeletion": True,
    }


def owned_by(obj: Obj, owner: Obj) -> bool:
    """Whether ``obj`` is controlled by ``owner``."""
    ref = controller_ref(obj)
    return ref is not None and ref.get("uid") == uid(owner)


def condition(obj: Obj, ctype: str) -> dict[str, Any] | None:
    """The status condition of type ``ctype``."""
    for cond in status(obj).get("conditions") or []:
        if cond.get("type") == ctype:
            return dict(cond)
    return None


def cond_true(obj: Obj, ctype: str) -> bool:
    """Whether condition ``ctype`` has status True."""
    cond = condition(obj, ctype)
    return cond is not None and cond.get("status") == "True"


def set_condition(
    st: dict[str, Any],
    ctype: str,
    cstatus: str,
    ts: str,
    reason: str = "",
    message: str = "",
    *,
    probe: bool = True,
    heartbeat: bool = False,
) -> None:
    """Upsert a condition in ``st``; lastTransitionTime moves only when the status changes."""
    conds: list[dict[str, Any]] = st.setdefault("conditions", [])
    for cond in conds:
        if cond.get("type") == ctype:
            if cond.get("status") != cstatus:
                cond["lastTransitionTime"] = ts
                cond["status"] = cstatus
            cond["reason"] = reason
            cond["message"] = message
            return
    new: dict[str, Any] = {"type": ctype, "status": cstatus}
    if probe:
        new["lastProbeTime"] = None
    if heartbeat:
        new["lastHeartbeatTime"] = ts
    new.update({"lastTransitionTime": ts, "reason": reason, "message": message})
    conds.append(new)


def drop_condition(st: dict[str, Any], ctype: str) -> None:
    """Remove condition ``ctype`` from ``st``."""
    conds = st.get("conditions")
    if conds:
        st["conditions"] = [c for c in conds if c.get("type") != ctype]


def add_phase(st: dict[str, Any], phase: str, ts: str) -> None:
    """Set ``phase`` and append its phaseTransitionTimestamps entry."""
    st["phase"] = phase
    st.setdefault("phaseTransitionTimestamps", []).append(
        {"phase": phase, "phaseTransitionTimestamp": ts}
    )


def kv_conflict(resource: str, name: str, message: str) -> ApiError:
    """409 as virt-api writes it (errors.NewConflict on a kubevirt.io resource)."""
    return ApiError(
        409,
        "Conflict",
        f'Operation cannot be fulfilled on {resource}.kubevirt.io "{name}": {message}',
        {"name": name, "group": "kubevirt.io", "kind": resource},
    )


def kv_not_found(resource: str, name: str) -> ApiError:
    """404 as virt-api writes it (errors.NewNotFound on a kubevirt.io resource)."""
    return ApiError(
        404,
        "NotFound",
        f'{resource}.kubevirt.io "{name}" not found',
        {"name": name, "group": "kubevirt.io", "kind": resource},
    )


def internal_error(message: str) -> ApiError:
    """500 InternalError."""
    return ApiError(
        500,
        "InternalError",
        f"Internal error occurred: {message}",
        {"causes": [{"message": message}]},
    )


def write_status(
    ctx: SimContext, rt: ResourceType, obj: Obj, fn: Callable[[dict[str, Any]], None]
) -> Obj | None:
    """Mutate ``status`` of ``obj`` (skipped by the store when nothing changes)."""

    def apply(o: Obj) -> None:
        st = o.get("status")
        if not isinstance(st, dict):
            st = o["status"] = {}
        fn(st)

    m = meta(obj)
    return ctx.store.mutate(rt, m.get("namespace"), m["name"], apply, subresource="status")


def write_meta(
    ctx: SimContext, rt: ResourceType, obj: Obj, fn: Callable[[Obj], None]
) -> Obj | None:
    """Mutate the object outside of ``status`` (metadata or spec)."""
    m = meta(obj)
    return ctx.store.mutate(rt, m.get("namespace"), m["name"], fn)


def transition(
    ctx: SimContext,
    rt: ResourceType,
    obj: Obj,
    name: str,
    fn: Callable[[dict[str, Any], str], None],
    also: tuple[str, ...] = (),
) -> Obj | None:
    """Write a status change for ground-truth transition ``name`` (and ``also``), record it."""
    at, ts = now(ctx)
    new = write_status(ctx, rt, obj, lambda st: fn(st, ts))
    if new is not None:
        for each in (name, *also):
            ctx.ground_truth.record(new, each, at)
    return new


def safe_delete(
    ctx: SimContext, rt: ResourceType, namespace: str, name: str, grace: int | None
) -> None:
    """Delete an object, ignoring NotFound."""
    try:
        ctx.store.delete(rt, namespace, name, grace_period_seconds=grace)
    except ApiError as err:
        if err.code != 404:
            raise


def label_selector(selector: dict[str, Any] | None) -> str:
    """A metav1.LabelSelector rendered as a selector string (matchLabels and expressions)."""
    if not selector:
        return ""
    parts = [f"{k}={v}" for k, v in sorted((selector.get("matchLabels") or {}).items())]
    for expr in selector.get("matchExpressions") or []:
        key, op, values = expr.get("key"), expr.get("operator"), expr.get("values") or []
        if op == "In":
            parts.append(f"{key} in ({','.join(values)})")
        elif op == "NotIn":
            parts.append(f"{key} notin ({','.join(values)})")
        elif op == "Exists":
            parts.append(str(key))
        elif op == "DoesNotExist":
            parts.append(f"!{key}")
    return ",".join(parts)
