"""Volume provisioner: binds each PVC to a new PersistentVolume after a delay; reclaims it."""

from __future__ import annotations

import contextlib
from typing import Any

from ..context import SimContext
from ..errors import ApiError
from ..store import Event, Obj
from ._common import deleting, meta, safe, uid_of

PROVISIONER = "sim.kubevirt-burner.io/hostpath"


class VolumeController:
    """PVC Pending -> Bound (``PersistentVolumeClaim.Bound`` delay) with a ``pv-<uid>`` volume."""

    def __init__(self, ctx: SimContext) -> None:
        self.ctx = ctx
        self.pvc_rt = ctx.registry.core("persistentvolumeclaims")
        self.pv_rt = ctx.registry.core("persistentvolumes")

    def start(self) -> None:
        """Subscribe and take in existing claims."""
        self.ctx.store.subscribe(safe(self.on_event), [self.pvc_rt.key])
        for pvc in self.ctx.store.list(self.pvc_rt):
            self._consider(pvc)

    def on_event(self, ev: Event) -> None:
        """Queue binding of new claims; delete the volume of a removed claim."""
        if ev.rt.key != self.pvc_rt.key:
            return
        if ev.type == "DELETED":
            uid = uid_of(ev.obj)
            self.ctx.cancel(("pvc", uid, "Bound"))
            pv = self.ctx.store.get(self.pv_rt, None, f"pv-{uid}")
            if pv is not None:
                self.ctx.schedule(("pv", uid, "reclaim"), 0, safe(lambda: self._reclaim(uid)))
            return
        self._consider(ev.obj)

    def _consider(self, pvc: Obj) -> None:
        if deleting(pvc) or (pvc.get("status") or {}).get("phase") == "Bound":
            return
        uid = uid_of(pvc)
        key = ("pvc", uid, "Bound")
        if not self.ctx.pending(key):
            ns, name = meta(pvc).get("namespace", ""), meta(pvc)["name"]
            delay = self.ctx.delay("PersistentVolumeClaim.Bound")
            self.ctx.schedule(key, delay, safe(lambda: self._bind(ns, name, uid)))

    def _bind(self, ns: str, name: str, uid: str) -> None:
        pvc = self.ctx.store.get(self.pvc_rt, ns, name)
        if pvc is None or uid_of(pvc) != uid or deleting(pvc):
            return
        spec = pvc.get("spec") or {}
        size = ((spec.get("resources") or {}).get("requests") or {}).get("storage", "1Gi")
        modes = spec.get("accessModes") or ["ReadWriteOnce"]
        pv_name = spec.get("volumeName") or f"pv-{uid}"
        if self.ctx.store.get(self.pv_rt, None, pv_name) is None:
            self._create_pv(pvc, pv_name, size, modes)
        at = self.ctx.clock()

        def bind(o: Obj) -> None:
            o.setdefault("spec", {})["volumeName"] = pv_name
            ann = o["metadata"].setdefault("annotations", {})
            ann["pv.kubernetes.io/bind-completed"] = "yes"
            ann["pv.kubernetes.io/bound-by-controller"] = "yes"
            ann.setdefault("volume.kubernetes.io/storage-provisioner", PROVISIONER)

        def status(o: Obj) -> None:
            st = o.setdefault("status", {})
            st.update(phase="Bound", accessModes=list(modes), capacity={"storage": size})

        if self.ctx.store.mutate(self.pvc_rt, ns, name, bind) is None:
            return
        new = self.ctx.store.mutate(self.pvc_rt, ns, name, status, subresource="status")
        if new is not None:
            self.ctx.ground_truth.record(new, "Bound", at)

    def _create_pv(self, pvc: Obj, pv_name: str, size: str, modes: list[str]) -> None:
        m = meta(pvc)
        spec = pvc.get("spec") or {}
        pv: dict[str, Any] = {
            "apiVersion": "v1",
            "kind": "PersistentVolume",
            "metadata": {
                "name": pv_name,
                "annotations": {"pv.kubernetes.io/provisioned-by": PROVISIONER},
            },
            "spec": {
                "capacity": {"storage": size},
                "accessModes": list(modes),
                "persistentVolumeReclaimPolicy": "Delete",
                "storageClassName": spec.get("storageClassName") or "standard",
                "volumeMode": spec.get("volumeMode", "Filesystem"),
                "hostPath": {"path": f"/var/lib/sim-volumes/{pv_name}", "type": ""},
                "claimRef": {
                    "apiVersion": "v1",
                    "kind": "PersistentVolumeClaim",
                    "namespace": m.get("namespace"),
                    "name": m["name"],
                    "uid": m["uid"],
                    "resourceVersion": m.get("resourceVersion"),
                },
            },
        }
        with contextlib.suppress(ApiError):
            created = self.ctx.store.create(self.pv_rt, pv)
            self.ctx.store.mutate(
                self.pv_rt,
                None,
                meta(created)["name"],
                lambda o: o.setdefault("status", {}).update(phase="Bound"),
                subresource="status",
            )

    def _reclaim(self, uid: str) -> None:
        pv = self.ctx.store.get(self.pv_rt, None, f"pv-{uid}")
        if pv is None or (pv.get("spec") or {}).get("persistentVolumeReclaimPolicy") != "Delete":
            return
        with contextlib.suppress(ApiError):
            self.ctx.store.delete(self.pv_rt, None, f"pv-{uid}")


def register(ctx: SimContext) -> None:
    """Start the volume controller."""
    VolumeController(ctx).start()
