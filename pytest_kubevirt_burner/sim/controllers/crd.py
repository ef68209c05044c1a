"""CustomResourceDefinition controller: serves the defined types and marks CRDs Established."""

from __future__ import annotations

import asyncio
import logging
from typing import Any

from ..context import SimContext
from ..resources import ResourceType
from ..store import Event, Obj, now_rfc3339

log = logging.getLogger(__name__)
CRD_GROUP = "apiextensions.k8s.io"
CRD_RESOURCE = "customresourcedefinitions"


def types_of(crd: Obj) -> list[ResourceType]:
    """The ResourceTypes a CRD defines: one per served version."""
    spec = crd.get("spec") or {}
    names = spec.get("names") or {}
    group, plural, kind = spec.get("group"), names.get("plural"), names.get("kind")
    if not group or not plural or not kind:
        return []
    out = []
    for ver in spec.get("versions") or []:
        if not ver.get("served", True) or not ver.get("name"):
            continue
        subs = ver.get("subresources") or {}
        subresources = tuple(s for s in ("status", "scale") if subs.get(s) is not None)
        out.append(
            ResourceType(
                group=group,
                version=ver["name"],
                resource=plural,
                kind=kind,
                singular=names.get("singular") or kind.lower(),
                namespaced=spec.get("scope", "Namespaced") == "Namespaced",
                short_names=tuple(names.get("shortNames") or ()),
                subresources=subresources,
                categories=tuple(names.get("categories") or ()),
                has_status="status" in subresources,
            )
        )
    return out


def _accepted_status(crd: Obj) -> None:
    spec = crd.get("spec") or {}
    status = crd.setdefault("status", {})
    now = now_rfc3339()
    old = {c.get("type"): c for c in status.get("conditions") or []}

    def cond(ctype: str, reason: str, message: str) -> dict[str, Any]:
        prev = old.get(ctype)
        if prev is not None and prev.get("status") == "True":
            return dict(prev)
        return {
            "type": ctype,
            "status": "True",
            "lastTransitionTime": now,
            "reason": reason,
            "message": message,
        }

    status["conditions"] = [
        cond("NamesAccepted", "NoConflicts", "no conflicts found"),
        cond("Established", "InitialNamesAccepted", "the initial names have been accepted"),
    ]
    status["acceptedNames"] = dict(spec.get("names") or {})
    stored = [v["name"] for v in spec.get("versions") or [] if v.get("storage") and v.get("name")]
    status["storedVersions"] = sorted(set(status.get("storedVersions") or []) | set(stored))


class CrdController:
    """Keeps the Registry in step with the stored CustomResourceDefinitions."""

    def __init__(self, ctx: SimContext) -> None:
        self.ctx = ctx
        self.crd_rt = ctx.registry.get(CRD_GROUP, "v1", CRD_RESOURCE)
        self._served: dict[str, list[ResourceType]] = {}

    def start(self) -> None:
        """Serve the CRDs already stored and follow future changes."""
        if self.crd_rt is None:
            return
        self.ctx.store.subscribe(self.on_event, [self.crd_rt.key])
        for crd in self.ctx.store.list(self.crd_rt):
            self._apply(crd)

    def on_event(self, ev: Event) -> None:
        """Store listener: (re)register on create/update, unregister on delete."""
        if self.crd_rt is None or ev.rt.key != self.crd_rt.key:
            return
        try:
            if ev.type == "DELETED":
                self._drop(ev.obj)
            else:
                self._apply(ev.obj)
        except Exception:
            log.exception("CRD controller failed on %s", ev.obj.get("metadata", {}).get("name"))

    def _apply(self, crd: Obj) -> None:
        name = crd["metadata"]["name"]
        new = types_of(crd)
        old = self._served.get(name, [])
        new_keys = {(t.group, t.version, t.resource) for t in new}
        for rt in old:
            if (rt.group, rt.version, rt.resource) not in new_keys:
                self.ctx.registry.remove(rt.group, rt.version, rt.resource)
        for rt in new:
            self.ctx.registry.add(rt)
        self._served[name] = new
        if not crd["metadata"].get("deletionTimestamp") and not _established(crd):
            self._later(lambda: self._mark_established(name))

    def _mark_established(self, name: str) -> None:
        assert self.crd_rt is not None
        self.ctx.store.mutate(self.crd_rt, None, name, _accepted_status, subresource="status")

    def _drop(self, crd: Obj) -> None:
        name = crd["metadata"]["name"]
        types = self._served.pop(name, None) or types_of(crd)
        for rt in types:
            self.ctx.registry.remove(rt.group, rt.version, rt.resource)
        remove_type = getattr(self.ctx.store, "remove_type", None)
        if remove_type is not None and types:
            remove_type(types[0])

    @staticmethod
    def _later(fn: Any) -> None:
        try:
            asyncio.get_running_loop().call_soon(fn)
        except RuntimeError:
            fn()


def _established(crd: Obj) -> bool:
    conds = (crd.get("status") or {}).get("conditions") or []
    return any(c.get("type") == "Established" and c.get("status") == "True" for c in conds)


def register(ctx: SimContext) -> CrdController:
    """Start the CRD controller on ``ctx``."""
    controller = CrdController(ctx)
    controller.start()
    return controller
