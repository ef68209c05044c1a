"""Garbage collector: deletes or orphans dependents by ownerReferences (background/foreground)."""

from __future__ import annotations

import contextlib

from ..context import SimContext
from ..errors import ApiError
from ..resources import ResourceType
from ..store import Event, Obj
from ._common import deleting, meta, safe, uid_of

FOREGROUND = "foregroundDeletion"
ORPHAN = "orphan"

Ref = tuple[ResourceType, str | None, str]


def _owner_uids(obj: Obj | None) -> set[str]:
    if obj is None:
        return set()
    return {str(r.get("uid")) for r in meta(obj).get("ownerReferences") or []}


def _owner_blocks(obj: Obj) -> dict[str, bool]:
    out: dict[str, bool] = {}
    for r in meta(obj).get("ownerReferences") or []:
        uid = str(r.get("uid"))
        out[uid] = out.get(uid, False) or bool(r.get("blockOwnerDeletion"))
    return out


class GarbageCollector:
    """Keeps owner uid -> dependents and uid -> object indexes current from store events."""

    def __init__(self, ctx: SimContext) -> None:
        self.ctx = ctx
        self.objects: dict[str, Ref] = {}
        # owner uid -> dependent uid -> (where the dependent is, whether it blocks the owner)
        self.dependents: dict[str, dict[str, tuple[Ref, bool]]] = {}
        self.blockers: dict[str, int] = {}
        # foreground owners whose dependents have all been asked to go
        self.fg_started: set[str] = set()

    def start(self) -> None:
        """Index existing objects, subscribe, and process pending deletions."""
        existing: list[tuple[ResourceType, Obj]] = []
        for rt in self.ctx.registry:
            for obj in self.ctx.store.list(rt):
                self._index(rt, obj, None, removed=False)
                existing.append((rt, obj))
        self.ctx.store.subscribe(safe(self.on_event))
        for rt, obj in existing:
            self._react(rt, obj, None)

    def on_event(self, ev: Event) -> None:
        """Update the indexes, then queue work for removed/finalizing owners."""
        self._index(ev.rt, ev.obj, ev.old, removed=ev.type == "DELETED")
        if ev.type == "DELETED":
            uid = uid_of(ev.obj)
            for dep_uid in self.dependents.get(uid, {}):
                self._queue_dependent(dep_uid)
            for owner in _owner_uids(ev.obj):
                self._queue_owner(owner)
            return
        self._react(ev.rt, ev.obj, ev.old)

    def _index(self, rt: ResourceType, obj: Obj, old: Obj | None, removed: bool) -> None:
        uid = uid_of(obj)
        m = meta(obj)
        ref: Ref = (rt, m.get("namespace"), m["name"])
        if m.get("ownerReferences") or (old is not None and meta(old).get("ownerReferences")):
            self._link(uid, ref, obj, old, removed)
        if removed:
            self.objects.pop(uid, None)
            self.fg_started.discard(uid)
        else:
            self.objects[uid] = ref

    def _link(self, uid: str, ref: Ref, obj: Obj, old: Obj | None, removed: bool) -> None:
        new_owners = {} if removed else _owner_blocks(obj)
        for owner in _owner_uids(old) | _owner_uids(obj):
            if owner not in new_owners:
                self._unlink(owner, uid)
        for owner, block in new_owners.items():
            deps = self.dependents.setdefault(owner, {})
            prev = deps.get(uid)
            if prev is not None and prev[1]:
                self.blockers[owner] -= 1
            deps[uid] = (ref, block)
            if block:
                self.blockers[owner] = self.blockers.get(owner, 0) + 1

    def _unlink(self, owner: str, uid: str) -> None:
        deps = self.dependents.get(owner)
        if deps is None or uid not in deps:
            return
        if deps.pop(uid)[1]:
            self.blockers[owner] -= 1
        if not deps:
            del self.dependents[owner]
            self.blockers.pop(owner, None)

    def _react(self, rt: ResourceType, obj: Obj, old: Obj | None) -> None:
        m = meta(obj)
        if m.get("deletionTimestamp"):
            fins = m.get("finalizers") or []
            if FOREGROUND in fins or ORPHAN in fins:
                self._queue_owner(uid_of(obj))
        if not m.get("ownerReferences"):
            return
        uid = uid_of(obj)
        owners = _owner_uids(obj)
        changed = owners and (old is None or owners != _owner_uids(old))
        if changed and not any(o in self.objects for o in owners):
            self._queue_dependent(uid)  # dangling: every owner is gone

    def _queue_owner(self, uid: str) -> None:
        if uid in self.objects:
            self.ctx.schedule(("gc", uid, "owner"), 0, safe(lambda: self._process_owner(uid)))

    def _queue_dependent(self, uid: str) -> None:
        self.ctx.schedule(("gc", uid, "dependent"), 0, safe(lambda: self._process_dependent(uid)))

    def _get(self, uid: str) -> tuple[ResourceType, Obj] | None:
        ref = self.objects.get(uid)
        if ref is None:
            return None
        obj = self.ctx.store.get(*ref)
        if obj is None or uid_of(obj) != uid:
            return None
        return ref[0], obj

    def _process_dependent(self, uid: str) -> None:
        """Delete a dependent whose owners are all gone; drop references to gone owners."""
        found = self._get(uid)
        if found is None:
            return
        rt, obj = found
        refs = meta(obj).get("ownerReferences") or []
        alive = [r for r in refs if str(r.get("uid")) in self.objects]
        if len(alive) == len(refs):
            return
        m = meta(obj)
        if alive:
            live_uids = {str(r.get("uid")) for r in alive}
            self.ctx.store.mutate(
                rt, m.get("namespace"), m["name"], lambda o: _keep_refs(o, live_uids)
            )
            return
        if not deleting(obj):
            self._delete(rt, obj, "Background")

    def _process_owner(self, uid: str) -> None:
        """Foreground: delete dependents, then drop the finalizer. Orphan: strip references."""
        found = self._get(uid)
        if found is None:
            return
        rt, owner = found
        fins = meta(owner).get("finalizers") or []
        if not deleting(owner):
            return
        m = meta(owner)
        if ORPHAN in fins:
            for dep_uid in list(self.dependents.get(uid, {})):
                dep = self._get(dep_uid)
                if dep is not None:
                    d = meta(dep[1])
                    self.ctx.store.mutate(
                        dep[0], d.get("namespace"), d["name"], lambda o: _drop_ref(o, uid)
                    )
            self._remove_finalizer(rt, m.get("namespace"), m["name"], ORPHAN)
            return
        if FOREGROUND not in fins:
            return
        if uid not in self.fg_started:
            self.fg_started.add(uid)
            for dep_uid in list(self.dependents.get(uid, {})):
                dep = self._get(dep_uid)
                if dep is not None and not deleting(dep[1]):
                    policy = "Foreground" if dep_uid in self.dependents else "Background"
                    self._delete(dep[0], dep[1], policy)
        if self.blockers.get(uid, 0) == 0:
            self._remove_finalizer(rt, m.get("namespace"), m["name"], FOREGROUND)

    def _delete(self, rt: ResourceType, obj: Obj, policy: str) -> None:
        m = meta(obj)
        with contextlib.suppress(ApiError):  # already gone or replaced
            self.ctx.store.delete(
                rt,
                m.get("namespace"),
                m["name"],
                propagation_policy=policy,
                preconditions={"uid": m["uid"]},
            )

    def _remove_finalizer(self, rt: ResourceType, ns: str | None, name: str, fin: str) -> None:
        def fn(o: Obj) -> None:
            o["metadata"]["finalizers"] = [
                f for f in o["metadata"].get("finalizers") or [] if f != fin
            ]

        self.ctx.store.mutate(rt, ns, name, fn)


def _keep_refs(obj: Obj, uids: set[str]) -> None:
    refs = obj["metadata"].get("ownerReferences") or []
    obj["metadata"]["ownerReferences"] = [r for r in refs if str(r.get("uid")) in uids]


def _drop_ref(obj: Obj, uid: str) -> None:
    refs = [r for r in obj["metadata"].get("ownerReferences") or [] if str(r.get("uid")) != uid]
    if refs:
        obj["metadata"]["ownerReferences"] = refs
    else:
        obj["metadata"].pop("ownerReferences", None)


def register(ctx: SimContext) -> GarbageCollector:
    """Start the garbage collector."""
    gc = GarbageCollector(ctx)
    gc.start()
    return gc
