"""Event routing, indexes and delayed-transition timers shared by the KubeVirt controllers."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from ..context import SimContext
from ..errors import ApiError
from ..store import Event, Obj
from .kubevirt_common import CREATED_BY, MIGRATION_LABEL, Types, controller_ref, log, meta, uid

Fired = tuple[str, str] | None
Handler = Callable[["Kv", str, str, Fired], None]
RETRY_SECONDS = 1.0


class Kv:
    """State of the KubeVirt/CDI controllers of one simulator: indexes, queues and timers."""

    def __init__(self, ctx: SimContext) -> None:
        self.ctx = ctx
        self.t = Types.of(ctx)
        self.handlers: dict[str, Handler] = {}
        # launcher pods by the uid of their VMI (kubevirt.io/created-by)
        self.pods_by_vmi: dict[str, dict[str, Obj]] = {}
        # VMIs by the uid of their controller (VM or VMIRS)
        self.vmis_by_owner: dict[str, set[tuple[str, str]]] = {}
        # migrations by (namespace, vmiName) and (namespace, name) by migration uid
        self.vmims_by_vmi: dict[tuple[str, str], set[str]] = {}
        self.vmim_by_uid: dict[str, tuple[str, str]] = {}
        # migrations held back by the parallelism limits, woken when a migration ends
        self.waiting_migrations: set[tuple[str, str]] = set()

    # ---- queueing -------------------------------------------------------------------------

    def enqueue(self, kind: str, namespace: str, name: str) -> None:
        """Reconcile ``kind`` ``namespace/name`` soon (bursts of events coalesce)."""
        self.ctx.schedule(
            ("kv-sync", kind, namespace, name), 0.0, lambda: self.run(kind, namespace, name, None)
        )

    def run(self, kind: str, namespace: str, name: str, fired: Fired) -> None:
        """Run one reconcile; API errors are retried after a second."""
        try:
            self.handlers[kind](self, namespace, name, fired)
        except ApiError as err:
            log.debug("%s %s/%s: %s; retrying", kind, namespace, name, err.message)
            self.ctx.schedule(
                ("kv-retry", kind, namespace, name),
                RETRY_SECONDS,
                lambda: self.run(kind, namespace, name, fired),
            )
        except Exception:
            log.exception("reconciling %s %s/%s failed", kind, namespace, name)

    def due(self, kind: str, obj: Obj, target: str, delay_key: str, fired: Fired) -> bool:
        """Whether delayed transition ``target`` of ``obj`` is due now; else ensure its timer."""
        oid = uid(obj)
        if fired == (oid, target):
            return True
        key = ("kv-step", oid, target)
        if not self.ctx.pending(key):
            m = meta(obj)
            ns, name = str(m.get("namespace") or ""), str(m["name"])
            self.ctx.schedule(
                key, self.ctx.delay(delay_key), lambda: self.run(kind, ns, name, (oid, target))
            )
        return False

    # ---- lookups --------------------------------------------------------------------------

    def launcher_pods(self, vmi: Obj) -> list[Obj]:
        """Every virt-launcher pod of ``vmi`` (source and migration targets)."""
        return list(self.pods_by_vmi.get(uid(vmi), {}).values())

    def current_pod(self, vmi: Obj) -> Obj | None:
        """The launcher pod that hosts ``vmi`` now (the target once a migration completed)."""
        pods = self.pods_by_vmi.get(uid(vmi), {})
        st = vmi.get("status") or {}
        node, active = st.get("nodeName"), st.get("activePods") or {}
        if node:
            for pod in pods.values():
                if active.get(uid(pod)) == node:
                    return pod
            return None
        for pod in pods.values():
            if MIGRATION_LABEL not in (meta(pod).get("labels") or {}):
                return pod
        return None

    # ---- event routing --------------------------------------------------------------------

    def on_event(self, ev: Event) -> None:
        """Store listener: keep indexes and queue the affected objects."""
        try:
            self._route(ev)
        except Exception:
            log.exception("kubevirt event routing failed")

    def _route(self, ev: Event) -> None:
        obj, key, t = ev.obj, ev.rt.key, self.t
        m = meta(obj)
        ns, name = str(m.get("namespace") or ""), str(m.get("name") or "")
        if key == t.pod.key:
            self._on_pod(ev, ns, name)
        elif key == t.vmi.key:
            self._on_vmi(ev, ns, name)
        elif key == t.vm.key:
            self.enqueue("vm", ns, name)
        elif key == t.vmim.key:
            vmi_name = str((obj.get("spec") or {}).get("vmiName", ""))
            peers = self.vmims_by_vmi.setdefault((ns, vmi_name), set())
            if ev.type == "DELETED":
                peers.discard(name)
                self.vmim_by_uid.pop(uid(obj), None)
                for other in list(peers):
                    self.enqueue("vmim", ns, other)
            else:
                peers.add(name)
                self.vmim_by_uid[uid(obj)] = (ns, name)
            self.enqueue("vmim", ns, name)
            if self._migration_ended(ev):  # a parallelism slot is free: wake waiting ones
                waiting, self.waiting_migrations = self.waiting_migrations, set()
                for wns, wname in waiting:
                    self.enqueue("vmim", wns, wname)
        elif key == t.vmirs.key:
            self.enqueue("vmirs", ns, name)
        elif key == t.dv.key:
            self.enqueue("dv", ns, name)
            self._enqueue_owner(obj, ns, "VirtualMachine", "vm")
        elif key == t.pvc.key:
            self._enqueue_owner(obj, ns, "DataVolume", "dv")

    @staticmethod
    def _migration_ended(ev: Event) -> bool:
        final = ("Succeeded", "Failed")
        phase = (ev.obj.get("status") or {}).get("phase")
        before = ((ev.old or {}).get("status") or {}).get("phase")
        return ev.type == "DELETED" or (phase in final and before not in final)

    def _enqueue_owner(self, obj: Obj, ns: str, kind: str, handler: str) -> dict[str, Any] | None:
        ref = controller_ref(obj)
        if ref is not None and ref.get("kind") == kind:
            self.enqueue(handler, ns, str(ref.get("name")))
            return ref
        return None

    def _on_pod(self, ev: Event, ns: str, name: str) -> None:
        labels = meta(ev.obj).get("labels") or {}
        if labels.get("kubevirt.io") != "virt-launcher":
            return
        vmi_uid = str(labels.get(CREATED_BY, ""))
        pods = self.pods_by_vmi.setdefault(vmi_uid, {})
        if ev.type == "DELETED":
            pods.pop(name, None)
            if not pods:
                self.pods_by_vmi.pop(vmi_uid, None)
        else:
            pods[name] = ev.obj
        self._enqueue_owner(ev.obj, ns, "VirtualMachineInstance", "vmi")
        job = labels.get(MIGRATION_LABEL)
        if job and job in self.vmim_by_uid:
            self.enqueue("vmim", *self.vmim_by_uid[job])

    def _on_vmi(self, ev: Event, ns: str, name: str) -> None:
        if ev.type == "ADDED" and (ev.obj.get("status") or {}).get("phase") == "Pending":
            # the mutating webhook stored it Pending: its transition happened just now
            self.ctx.ground_truth.record(ev.obj, "Pending", self.ctx.clock())
        self.enqueue("vmi", ns, name)
        ref = controller_ref(ev.obj)
        if ref is not None:
            children = self.vmis_by_owner.setdefault(str(ref.get("uid")), set())
            if ev.type == "DELETED":
                children.discard((ns, name))
            else:
                children.add((ns, name))
            if ref.get("kind") == "VirtualMachine":
                self.enqueue("vm", ns, str(ref.get("name")))
            elif ref.get("kind") == "VirtualMachineInstanceReplicaSet":
                self.enqueue("vmirs", ns, str(ref.get("name")))
        if ev.type == "DELETED":
            self.pods_by_vmi.pop(uid(ev.obj), None)
        for vmim in list(self.vmims_by_vmi.get((ns, name), ())):
            self.enqueue("vmim", ns, vmim)
