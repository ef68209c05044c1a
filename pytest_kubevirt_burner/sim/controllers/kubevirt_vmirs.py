"""VirtualMachineInstanceReplicaSet controller: keep spec.replicas VMIs from the template."""

from __future__ import annotations

import copy
from typing import Any

from ..store import Obj
from .kubevirt_common import (
    FINAL_PHASES,
    KV_API,
    VMI_FINALIZER,
    cond_true,
    deleting,
    label_selector,
    meta,
    owned_by,
    owner_ref,
    safe_delete,
    status,
    write_status,
)
from .kubevirt_state import Fired, Kv


def reconcile_vmirs(kv: Kv, ns: str, name: str, fired: Fired) -> None:
    """Create or delete VMIs until spec.replicas are alive; report replicas/readyReplicas."""
    rs = kv.ctx.store.get(kv.t.vmirs, ns, name)
    if rs is None or deleting(rs):
        return
    spec = rs.get("spec") or {}
    children: list[Obj] = []
    for cns, cname in sorted(kv.vmis_by_owner.get(str(meta(rs).get("uid")), set())):
        vmi = kv.ctx.store.get(kv.t.vmi, cns, cname)
        if vmi is not None and owned_by(vmi, rs):
            children.append(vmi)
    alive = [v for v in children if not deleting(v)]
    for vmi in alive:
        if status(vmi).get("phase") in FINAL_PHASES and not spec.get("paused"):
            safe_delete(kv.ctx, kv.t.vmi, ns, meta(vmi)["name"], None)
    alive = [v for v in alive if status(v).get("phase") not in FINAL_PHASES]
    want = int(spec.get("replicas", 1))
    if not spec.get("paused"):
        for _ in range(want - len(alive)):
            kv.ctx.store.create(kv.t.vmi, _vmi_from_template(rs), ns)
        if len(alive) > want:
            # delete the least advanced VMIs first, as a ReplicaSet deletes unready pods first
            order = {"": 0, "Pending": 1, "Scheduling": 2, "Scheduled": 3, "Running": 4}
            doomed = sorted(alive, key=lambda v: order.get(str(status(v).get("phase", "")), 0))
            for vmi in doomed[: len(alive) - want]:
                safe_delete(kv.ctx, kv.t.vmi, ns, meta(vmi)["name"], None)
    ready = sum(1 for v in alive if status(v).get("phase") == "Running" and cond_true(v, "Ready"))
    replicas = len(alive)
    selector = label_selector(spec.get("selector"))

    def fn(st: dict[str, Any]) -> None:
        st["replicas"] = replicas
        st["readyReplicas"] = ready
        st["labelSelector"] = selector

    write_status(kv.ctx, kv.t.vmirs, rs, fn)


def _vmi_from_template(rs: Obj) -> Obj:
    tpl = (rs.get("spec") or {}).get("template") or {}
    tmeta = tpl.get("metadata") or {}
    return {
        "apiVersion": KV_API,
        "kind": "VirtualMachineInstance",
        "metadata": {
            "generateName": str(meta(rs)["name"]),
            "labels": dict(tmeta.get("labels") or {}),
            "annotations": dict(tmeta.get("annotations") or {}),
            "ownerReferences": [owner_ref(rs)],
            "finalizers": [VMI_FINALIZER],
        },
        "spec": copy.deepcopy(tpl.get("spec") or {}),
    }
