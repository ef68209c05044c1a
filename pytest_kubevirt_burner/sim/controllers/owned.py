"""Plumbing shared by controllers that own pods: tracking, owner lookup, coalesced reconciles."""

from __future__ import annotations

from typing import Any

from ..context import SimContext
from ..store import Event, Obj
from ._common import PodTracker, meta, safe, uid_of


class OwnerController:
    """Common plumbing: pods tracked by owner uid, owners by uid, coalesced reconciles."""

    kind = ""

    def __init__(self, ctx: SimContext, group: str, resource: str) -> None:
        self.ctx = ctx
        self.rt = ctx.registry.lookup(group, resource)
        self.pods_rt = ctx.registry.core("pods")
        self.tracker = PodTracker(self.kind)
        self.where: dict[str, tuple[str, str]] = {}
        self.available: dict[str, bool] = {}

    def start(self) -> None:
        """Subscribe and take in existing objects."""
        self.ctx.store.subscribe(safe(self.on_event), self.event_keys())
        for pod in self.ctx.store.list(self.pods_rt):
            self.tracker.observe(Event("ADDED", self.pods_rt, pod, None, 0))
        for obj in self.ctx.store.list(self.rt):
            self.on_event(Event("ADDED", self.rt, obj, None, 0))

    def event_keys(self) -> list[str]:
        """Resource types whose events concern this controller."""
        return [self.pods_rt.key, self.rt.key]

    def on_event(self, ev: Event) -> None:
        """Requeue the owner concerned."""
        if ev.rt.key == self.pods_rt.key:
            owner = self.tracker.observe(ev)
            if owner is not None:
                self.queue(owner)
        elif ev.rt.key == self.rt.key:
            uid = uid_of(ev.obj)
            if ev.type == "DELETED":
                self.where.pop(uid, None)
                self.available.pop(uid, None)
                self.ctx.cancel((self.kind, uid))
            else:
                self.where[uid] = (meta(ev.obj).get("namespace", ""), meta(ev.obj)["name"])
                self.queue(uid)

    def queue(self, uid: str) -> None:
        """Reconcile soon (coalesced)."""
        if uid in self.where and not self.ctx.pending((self.kind, uid)):
            self.ctx.schedule((self.kind, uid), 0, safe(lambda: self._run(uid)))

    def _run(self, uid: str) -> None:
        if uid not in self.where:
            return
        obj = self.ctx.store.get(self.rt, *self.where[uid])
        if obj is not None and uid_of(obj) == uid:
            self.reconcile(obj)

    def reconcile(self, obj: Obj) -> None:
        """Bring the pods of ``obj`` towards its spec and write status."""
        raise NotImplementedError

    def _status(self, obj: Obj, fields: dict[str, Any], all_ready: bool) -> None:
        at = self.ctx.clock()
        m = meta(obj)

        def fn(o: Obj) -> None:
            o.setdefault("status", {}).update(fields, observedGeneration=m.get("generation", 1))

        new = self.ctx.store.mutate(
            self.rt, m.get("namespace"), m["name"], fn, subresource="status"
        )
        uid = uid_of(obj)
        if new is not None and all_ready and not self.available.get(uid):
            self.ctx.ground_truth.record(new, "Available", at)
        self.available[uid] = all_ready
