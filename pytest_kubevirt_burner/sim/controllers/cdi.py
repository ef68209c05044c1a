"""CDI DataVolume controller: a PVC, then Pending -> ImportScheduled -> ImportInProgress -> done."""

from __future__ import annotations

import copy
from typing import Any

from ..errors import ApiError
from ..store import Obj
from .kubevirt_common import (
    add_phase,
    deleting,
    meta,
    now,
    owner_ref,
    set_condition,
    status,
    transition,
    uid,
    write_status,
)
from .kubevirt_state import Fired, Kv

KIND = "dv"


def _phase(st: dict[str, Any], phase: str, ts: str) -> None:
    # DataVolumes carry no phaseTransitionTimestamps: only phase and conditions
    add_phase(st, phase, ts)
    st.pop("phaseTransitionTimestamps", None)


def reconcile_dv(kv: Kv, ns: str, name: str, fired: Fired) -> None:
    """Move one DataVolume one step further."""
    dv = kv.ctx.store.get(kv.t.dv, ns, name)
    if dv is None or deleting(dv):
        return
    phase = str(status(dv).get("phase") or "")
    pvc = kv.ctx.store.get(kv.t.pvc, ns, name)
    if pvc is None and phase not in ("Succeeded", "Failed"):
        pvc = _create_pvc(kv, dv)
    bound = pvc is not None and status(pvc).get("phase") == "Bound"
    if phase == "":
        transition(kv.ctx, kv.t.dv, dv, "Pending", lambda st, ts: _pending(st, ts, name))
        return
    if phase == "Pending":
        if not bound:
            return
        if not _cond_status(dv, "Bound"):
            ts = now(kv.ctx)[1]
            write_status(kv.ctx, kv.t.dv, dv, lambda st: _bound(st, name, ts))
            return
        if kv.due(KIND, dv, "ImportScheduled", "DataVolume.ImportScheduled", fired):
            transition(
                kv.ctx,
                kv.t.dv,
                dv,
                "ImportScheduled",
                lambda st, ts: _phase(st, "ImportScheduled", ts),
            )
    elif phase == "ImportScheduled":
        if kv.due(KIND, dv, "ImportInProgress", "DataVolume.ImportInProgress", fired):
            transition(kv.ctx, kv.t.dv, dv, "ImportInProgress", _in_progress)
    elif phase == "ImportInProgress":
        if kv.due(KIND, dv, "Succeeded", "DataVolume.Succeeded", fired):
            transition(kv.ctx, kv.t.dv, dv, "Succeeded", _succeeded)
        elif status(dv).get("progress") == "0.00%":
            _schedule_progress(kv, dv)


def _cond_status(dv: Obj, ctype: str) -> bool:
    return any(
        c.get("type") == ctype and c.get("status") == "True"
        for c in status(dv).get("conditions") or []
    )


def _pending(st: dict[str, Any], ts: str, name: str) -> None:
    _phase(st, "Pending", ts)
    st["claimName"] = name
    st["progress"] = "N/A"
    st["restartCount"] = 0
    for ctype, reason in (("Bound", "Pending"), ("Ready", ""), ("Running", "")):
        msg = f"PVC {name} Pending" if ctype == "Bound" else ""
        set_condition(st, ctype, "False", ts, reason, msg, probe=False, heartbeat=True)


def _bound(st: dict[str, Any], name: str, ts: str) -> None:
    set_condition(
        st, "Bound", "True", ts, "Bound", f"PVC {name} Bound", probe=False, heartbeat=True
    )


def _in_progress(st: dict[str, Any], ts: str) -> None:
    _phase(st, "ImportInProgress", ts)
    st["progress"] = "0.00%"
    set_condition(st, "Running", "True", ts, "Pod is running", "", probe=False, heartbeat=True)


def _succeeded(st: dict[str, Any], ts: str) -> None:
    _phase(st, "Succeeded", ts)
    st["progress"] = "100.0%"
    set_condition(
        st, "Running", "False", ts, "Completed", "Import Complete", probe=False, heartbeat=True
    )
    set_condition(st, "Ready", "True", ts, "", "", probe=False, heartbeat=True)


def _schedule_progress(kv: Kv, dv: Obj) -> None:
    """Report some import progress part-way (one extra status update per DataVolume)."""
    key = ("kv-dv-progress", uid(dv))
    if kv.ctx.pending(key):
        return
    m = meta(dv)
    ns, name, dv_uid = str(m["namespace"]), str(m["name"]), uid(dv)
    percent = kv.ctx.rng.uniform(20.0, 80.0)

    def fire() -> None:
        cur = kv.ctx.store.get(kv.t.dv, ns, name)
        if cur is None or uid(cur) != dv_uid or status(cur).get("phase") != "ImportInProgress":
            return
        write_status(kv.ctx, kv.t.dv, cur, lambda st: st.__setitem__("progress", f"{percent:.2f}%"))

    kv.ctx.schedule(key, kv.ctx.delay("DataVolume.Succeeded") / 2, fire)


def _profile_claim_properties(kv: Kv, storage_class: str | None) -> dict[str, Any] | None:
    """The first claimPropertySet of the StorageProfile of ``storage_class`` (default class)."""
    profile = kv.ctx.store.get_object(
        "cdi.kubevirt.io", "storageprofiles", "", storage_class or "standard"
    )
    sets = ((profile or {}).get("status") or {}).get("claimPropertySets") or []
    return sets[0] if sets and isinstance(sets[0], dict) else None


def _create_pvc(kv: Kv, dv: Obj) -> Obj | None:
    m, spec = meta(dv), dv.get("spec") or {}
    claim = copy.deepcopy(spec.get("pvc") or spec.get("storage") or {})
    if "pvc" not in spec and not claim.get("accessModes"):
        # the storage API takes what the class's StorageProfile recommends (its first set)
        prop = _profile_claim_properties(kv, claim.get("storageClassName"))
        if prop:
            claim["accessModes"] = list(prop.get("accessModes") or ["ReadWriteOnce"])
            claim.setdefault("volumeMode", prop.get("volumeMode") or "Filesystem")
    claim.setdefault("accessModes", ["ReadWriteOnce"])
    claim.setdefault("volumeMode", "Filesystem")
    claim.setdefault("resources", {}).setdefault("requests", {}).setdefault("storage", "1Gi")
    source = spec.get("source") or {}
    annotations = {
        "cdi.kubevirt.io/storage.contentType": spec.get("contentType", "kubevirt"),
        "cdi.kubevirt.io/storage.preallocation.requested": "false",
        "cdi.kubevirt.io/createdForDataVolume": uid(dv),
    }
    if "http" in source:
        annotations["cdi.kubevirt.io/storage.import.endpoint"] = str(source["http"].get("url"))
        annotations["cdi.kubevirt.io/storage.import.source"] = "http"
    elif "registry" in source:
        annotations["cdi.kubevirt.io/storage.import.endpoint"] = str(source["registry"].get("url"))
        annotations["cdi.kubevirt.io/storage.import.source"] = "registry"
    elif "blank" in source:
        annotations["cdi.kubevirt.io/storage.import.source"] = "none"
    body: Obj = {
        "apiVersion": "v1",
        "kind": "PersistentVolumeClaim",
        "metadata": {
            "name": m["name"],
            "namespace": m["namespace"],
            "labels": {
                "app": "containerized-data-importer",
                "app.kubernetes.io/component": "storage",
                "app.kubernetes.io/managed-by": "cdi-controller",
            },
            "annotations": annotations,
            "ownerReferences": [owner_ref(dv)],
        },
        "spec": claim,
    }
    try:
        return kv.ctx.store.create(kv.t.pvc, body, m["namespace"])
    except ApiError as err:
        if err.reason != "AlreadyExists":
            raise
        return kv.ctx.store.get(kv.t.pvc, m["namespace"], m["name"])
