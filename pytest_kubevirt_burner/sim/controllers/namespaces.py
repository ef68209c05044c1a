"""Namespace lifecycle: a terminating namespace is emptied, then its finalizer is removed."""

from __future__ import annotations

import contextlib
from collections import Counter

from ..context import SimContext
from ..errors import ApiError
from ..store import Event, Obj
from ._common import deleting, meta, safe, set_condition


class NamespaceController:
    """Deletes every namespaced object of a terminating namespace and finalizes it when empty."""

    def __init__(self, ctx: SimContext) -> None:
        self.ctx = ctx
        self.ns_rt = ctx.registry.core("namespaces")
        # namespace -> number of namespaced objects stored in it (kept from events)
        self.counts: Counter[str] = Counter()
        self.terminating: set[str] = set()

    def start(self) -> None:
        """Count existing objects, subscribe, and resume namespaces already terminating."""
        for rt in self.ctx.registry:
            if rt.namespaced:
                for obj in self.ctx.store.list(rt):
                    self.counts[meta(obj).get("namespace", "")] += 1
        self.ctx.store.subscribe(safe(self.on_event))
        for ns in self.ctx.store.list(self.ns_rt):
            self._check(ns)

    def on_event(self, ev: Event) -> None:
        """Track object counts; react to namespaces entering termination and getting empty."""
        if ev.rt.namespaced:
            ns = meta(ev.obj).get("namespace", "")
            if ev.type == "ADDED":
                self.counts[ns] += 1
            elif ev.type == "DELETED":
                self.counts[ns] -= 1
                if self.counts[ns] <= 0:
                    del self.counts[ns]
                    if ns in self.terminating:
                        self._later(ns)
        elif ev.rt.key == self.ns_rt.key:
            if ev.type == "DELETED":
                self.terminating.discard(meta(ev.obj)["name"])
            else:
                self._check(ev.obj)

    def _check(self, ns: Obj) -> None:
        name = meta(ns)["name"]
        if deleting(ns) and name not in self.terminating:
            self.terminating.add(name)
            self._later(name)

    def _later(self, name: str) -> None:
        self.ctx.schedule(("namespace", name, "terminate"), 0, safe(lambda: self._terminate(name)))

    def _terminate(self, name: str) -> None:
        ns = self.ctx.store.get(self.ns_rt, None, name)
        if ns is None or not deleting(ns):
            self.terminating.discard(name)
            return
        if self.counts.get(name, 0) > 0:
            self._delete_contents(name)
        if self.counts.get(name, 0) > 0:
            return  # waiting for graceful deletions and finalizers; DELETED events bring us back

        def finalize(obj: Obj) -> None:
            spec = obj.setdefault("spec", {})
            spec["finalizers"] = [f for f in spec.get("finalizers") or [] if f != "kubernetes"]

        self.ctx.store.mutate(self.ns_rt, None, name, finalize)

    def _delete_contents(self, name: str) -> None:
        at = self.ctx.clock()
        remaining = 0
        for rt in self.ctx.registry:
            if not rt.namespaced:
                continue
            for obj in self.ctx.store.list(rt, name):
                remaining += 1
                if deleting(obj):
                    continue
                with contextlib.suppress(ApiError):  # already gone
                    self.ctx.store.delete(rt, name, meta(obj)["name"])
        if remaining:
            msg = f"Some resources are remaining: {remaining} objects"
            self.ctx.store.mutate(
                self.ns_rt,
                None,
                name,
                lambda o: set_condition(
                    o, "NamespaceContentRemaining", "True", at, "SomeResourcesRemain", msg
                ),
                subresource="status",
            )


def register(ctx: SimContext) -> NamespaceController:
    """Start the namespace controller."""
    ctrl = NamespaceController(ctx)
    ctrl.start()
    return ctrl
