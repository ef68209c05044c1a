"""In-memory object store of the simulated API server: the single source of truth.

CONTRACT (the HTTP layer and every controller program against exactly this API):

* Everything runs on one asyncio event loop; Store methods are synchronous and never await.
* Objects are plain dicts (the JSON shape of the Kubernetes object). ``get``/``list`` return the
  stored dicts themselves: callers treat them as read-only. Writers pass new dicts (use
  ``copy.deepcopy`` or ``mutate``). The store copies what it is given on create/update, and
  successive versions of an object may share unchanged sub-dicts, so never mutate a stored dict.
* One global integer resourceVersion counter; every write bumps it; an object's
  ``metadata.resourceVersion`` is the string of the RV of its last write.
* Every write produces exactly one ``Event`` that goes to every listener registered with
  ``subscribe`` (controllers and the watch hub; called synchronously, after the write is stored,
  in subscription order; a listener subscribed with ``keys`` only gets events of those types;
  listeners must not raise and should schedule work rather than write re-entrantly when
  avoidable). A write made by a listener while an event is being delivered is delivered after
  that event has reached every listener, so all listeners see events in RV order.
* Timestamps written by the store are RFC3339 UTC at second precision (``now_rfc3339``).
  ``clock`` is injectable for tests.
* A new store holds the namespaces ``default``, ``kube-system``, ``kube-public`` and
  ``kube-node-lease`` (``default_namespaces=()`` for an empty one).
"""

from __future__ import annotations

import logging
import math
import random
import time
from collections import deque
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any, Literal

import orjson

from .admission import Admission, invalid_error, not_supported
from .errors import (
    ApiError,
    already_exists,
    bad_request,
    conflict,
    forbidden,
    not_found,
    qualified,
)
from .registry import Registry
from .resources import ResourceType
from .selectors import FieldSelector, LabelSelector, parse_field_selector, parse_label_selector

EventType = Literal["ADDED", "MODIFIED", "DELETED"]
Obj = dict[str, Any]
_ObjList = list[Obj]  # for methods of Store, where ``list`` names Store.list

log = logging.getLogger(__name__)

NAME_CHARS = "bcdfghjklmnpqrstvwxz2456789"
DEFAULT_NAMESPACES = ("default", "kube-system", "kube-public", "kube-node-lease")
PROPAGATION = ("Foreground", "Background", "Orphan")
_SERVER_META = ("uid", "creationTimestamp", "generation", "deletionTimestamp",
                "deletionGracePeriodSeconds")  # fmt: skip
_DELETE_OPTIONS = ResourceType("meta.k8s.io", "v1", "deleteoptions", "DeleteOptions", "", False)


_last_stamp: tuple[int, str] = (-1, "")


def now_rfc3339(ts: float | None = None) -> str:
    """RFC3339 UTC at second precision, as real clusters write metav1.Time."""
    global _last_stamp
    if ts is None:
        ts = time.time()
    sec = math.floor(ts)
    if sec != _last_stamp[0]:  # controllers stamp many writes within the same second
        _last_stamp = (sec, time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(sec)))
    return _last_stamp[1]


def new_uid() -> str:
    """A random (version 4) UUID string, like ``str(uuid.uuid4())`` without a syscall each."""
    n = _uid_rng.getrandbits(128) & _UUID_CLEAR | _UUID_SET
    h = f"{n:032x}"
    return f"{h[:8]}-{h[8:12]}-{h[12:16]}-{h[16:20]}-{h[20:]}"


_uid_rng = random.Random()  # seeded from os.urandom; uids need uniqueness, not secrecy
_UUID_CLEAR = ~((0xF000 << 64) | (0xC000 << 48))
_UUID_SET = (0x4000 << 64) | (0x8000 << 48)


@dataclass(frozen=True, slots=True)
class Event:
    """One stored change: type, resource type, the new object (last state for DELETED), old."""

    type: EventType
    rt: ResourceType
    obj: Obj
    old: Obj | None
    rv: int


Listener = Callable[[Event], None]
_Objs = list[Obj]  # aliases: inside Store, ``list`` names the method
_Names = list[str]


def copy_obj(obj: Any) -> Obj:
    """A deep copy of a JSON object (fast); ApiError(400) when it is not a JSON object."""
    try:
        out = orjson.loads(orjson.dumps(obj))
    except (TypeError, orjson.JSONEncodeError) as exc:
        raise bad_request(f"the object cannot be encoded as JSON: {exc}") from None
    if not isinstance(out, dict):
        raise bad_request(f"the object must be a JSON object, not {type(obj).__name__}")
    meta = out.setdefault("metadata", {})
    if not isinstance(meta, dict):
        raise bad_request("metadata must be a JSON object")
    return out


def _precondition_conflict(
    rt: ResourceType, name: str, what: str, want: str, have: str
) -> ApiError:
    err = conflict(rt.resource, rt.group, name)
    err.message = (
        f'Operation cannot be fulfilled on {qualified(rt.resource, rt.group)} "{name}":'
        f" Precondition failed: {what} in precondition: {want}, {what} in object meta: {have}"
    )
    err.args = (err.message,)
    return err


class Store:
    """Objects keyed by (resource type key, namespace, name) with watch fan-out."""

    def __init__(
        self,
        registry: Registry,
        *,
        event_buffer: int = 100_000,
        clock: Callable[[], float] = time.time,
        admission: Admission | None = None,
        default_namespaces: tuple[str, ...] = DEFAULT_NAMESPACES,
        seed: int | None = None,
    ) -> None:
        self.registry = registry
        self.event_buffer = event_buffer  # size the watch hub's ring buffer should use
        self.clock = clock
        self.admission = admission or Admission()
        # JSON bytes of a stored object version when already encoded (the watch hub's cache)
        self.encoded: Callable[[Obj], bytes | None] = _not_encoded
        self._rv = 0
        self._data: dict[str, dict[str, dict[str, Obj]]] = {}  # rt.key -> ns -> name -> obj
        self._sorted: dict[tuple[str, str], list[str]] = {}  # sorted names, dropped on add/remove
        self._counts: dict[str, int] = {}
        self._listeners: list[tuple[Listener, frozenset[str] | None]] = []
        self._by_key: dict[str, list[Listener]] = {}  # listeners per resource type key
        self._pending: deque[Event] = deque()
        self._dispatching = False
        self._rand = random.Random(seed)
        self._ns_rt = registry.core("namespaces")
        self.admission.reader = self
        self.admission.clock = clock
        for ns in default_namespaces:
            self.create(self._ns_rt, {"metadata": {"name": ns}})

    @property
    def rv(self) -> int:
        """Current global resourceVersion."""
        return self._rv

    def subscribe(self, listener: Listener, keys: Iterable[str] | None = None) -> None:
        """Call ``listener(event)`` for every future write (of these resource type keys only)."""
        self._listeners.append((listener, None if keys is None else frozenset(keys)))
        self._by_key.clear()

    def unsubscribe(self, listener: Listener) -> None:
        """Stop calling ``listener``."""
        for i, entry in enumerate(self._listeners):
            if entry[0] == listener:  # ==: a bound method is a new object at every access
                del self._listeners[i]
                self._by_key.clear()
                return

    # ---------------------------------------------------------------- reads

    def get(self, rt: ResourceType, namespace: str | None, name: str) -> Obj | None:
        """The stored object or None."""
        bucket = self._data.get(rt.key)
        if bucket is None:
            return None
        names = bucket.get((namespace or "") if rt.namespaced else "")
        return None if names is None else names.get(name)

    def list(
        self,
        rt: ResourceType,
        namespace: str | None = None,
        label_selector: str | None = None,
        field_selector: str | None = None,
    ) -> list[Obj]:
        """Objects of ``rt`` (in ``namespace`` or all), filtered, sorted by (namespace, name).

        Raises ApiError(400) on an unparsable or unsupported selector.
        """
        lsel: LabelSelector | None = (
            parse_label_selector(label_selector) if label_selector else None
        )
        fsel: FieldSelector | None = None
        if field_selector:
            fsel = parse_field_selector(field_selector, rt.resource, rt.group)
        if lsel is not None and lsel.empty():
            lsel = None
        pinned_name = None
        if fsel is not None:
            if fsel.empty():
                fsel = None
            else:
                pinned_name = fsel.exact("metadata.name")
                pinned_ns = fsel.exact("metadata.namespace")
                if pinned_ns is not None and rt.namespaced:
                    if namespace and namespace != pinned_ns:
                        return []
                    namespace = pinned_ns
        per_type = self._data.get(rt.key)
        if not per_type:
            return []
        if not rt.namespaced:
            namespaces = [""]
        elif namespace:
            namespaces = [namespace]
        else:
            namespaces = sorted(per_type)
        out: list[Obj] = []
        for ns in namespaces:
            bucket = per_type.get(ns)
            if not bucket:
                continue
            if pinned_name is not None:
                names = [pinned_name] if pinned_name in bucket else []
            else:
                names = self._sorted_names(rt.key, ns, bucket)
            for n in names:
                obj = bucket[n]
                if (lsel is None or lsel(obj)) and (fsel is None or fsel(obj)):
                    out.append(obj)
        return out

    def get_object(self, group: str, resource: str, namespace: str, name: str) -> Obj | None:
        """The stored object of ``resource.group`` or None (also when the type is not served)."""
        try:
            rt = self.registry.lookup(group, resource)
        except KeyError:
            return None
        return self.get(rt, namespace, name)

    def list_objects(self, group: str, resource: str, namespace: str) -> _ObjList:
        """Stored objects of ``resource.group`` in ``namespace`` ([] when not served)."""
        try:
            rt = self.registry.lookup(group, resource)
        except KeyError:
            return []
        return self.list(rt, namespace)

    def _sorted_names(self, key: str, ns: str, bucket: dict[str, Obj]) -> _Names:
        names = self._sorted.get((key, ns))
        if names is None:
            names = self._sorted[(key, ns)] = sorted(bucket)
        return names

    def objects_count(self) -> dict[str, int]:
        """Number of stored objects per resource type key (``group/resource``)."""
        return {k: v for k, v in self._counts.items() if v}

    def namespace_terminating(self, namespace: str) -> bool:
        """Whether ``namespace`` exists and is being deleted."""
        ns = self.get(self._ns_rt, None, namespace)
        return ns is not None and bool(ns["metadata"].get("deletionTimestamp"))

    # ---------------------------------------------------------------- create

    def create(
        self,
        rt: ResourceType,
        obj: Obj,
        namespace: str | None = None,
        *,
        dry_run: bool = False,
    ) -> Obj:
        """Admit and store a new object; returns the stored object.

        generateName, uid, resourceVersion, creationTimestamp, generation=1, namespace fill-in,
        defaulting and validation (422), namespace existence (404) and termination (403),
        AlreadyExists (409). ``dry_run`` does everything but store.
        """
        obj = copy_obj(obj)
        obj["apiVersion"] = rt.api_version
        obj["kind"] = rt.kind
        meta = obj["metadata"]
        ns = self._resolve_namespace(rt, meta, namespace)
        if rt.namespaced:
            self._check_namespace(rt, ns, meta.get("name") or "")
        bucket = self._data.get(rt.key, {}).get(ns, {})
        if not meta.get("name") and meta.get("generateName"):
            prefix = str(meta["generateName"])[:58]
            for _ in range(8):
                meta["name"] = prefix + "".join(self._rand.choices(NAME_CHARS, k=5))
                if meta["name"] not in bucket:
                    break
        for key in ("deletionTimestamp", "deletionGracePeriodSeconds", "selfLink"):
            meta.pop(key, None)
        meta["uid"] = new_uid()
        meta["creationTimestamp"] = now_rfc3339(self.clock())
        meta["generation"] = 1
        meta.pop("resourceVersion", None)
        self.admission.admit(rt, obj, dry_run=dry_run)
        name = meta["name"]
        if name in bucket:
            if not dry_run:
                self.admission.release(rt, obj)
            raise already_exists(rt.resource, rt.group, name)
        if dry_run:
            return obj
        rv = self._bump()
        meta["resourceVersion"] = str(rv)
        self._insert(rt, ns, name, obj)
        self._emit(Event("ADDED", rt, obj, None, rv))
        return obj

    def _resolve_namespace(self, rt: ResourceType, meta: Obj, namespace: str | None) -> str:
        if not rt.namespaced:
            meta.pop("namespace", None)
            return ""
        body_ns = meta.get("namespace")
        if namespace:
            if body_ns and body_ns != namespace:
                raise bad_request(
                    "the namespace of the provided object does not match the namespace sent on"
                    " the request"
                )
            meta["namespace"] = namespace
            return namespace
        if not body_ns:
            raise bad_request(f"a namespace is required to store namespaced {rt.resource}")
        return str(body_ns)

    def _check_namespace(self, rt: ResourceType, ns: str, name: str) -> None:
        nsobj = self.get(self._ns_rt, None, ns)
        if nsobj is None:
            raise not_found("namespaces", "", ns)
        if nsobj["metadata"].get("deletionTimestamp"):
            details: dict[str, Any] = {"name": name, "kind": rt.resource}
            if rt.group:
                details["group"] = rt.group
            details["causes"] = [
                {
                    "reason": "NamespaceTerminating",
                    "message": f"namespace {ns} is being terminated",
                    "field": "metadata.namespace",
                }
            ]
            raise forbidden(
                f'{qualified(rt.resource, rt.group)} "{name}" is forbidden: unable to create new'
                f" content in namespace {ns} because it is being terminated",
                details,
            )

    # ---------------------------------------------------------------- update

    def update(
        self,
        rt: ResourceType,
        obj: Obj,
        *,
        subresource: str | None = None,
        namespace: str | None = None,
        name: str | None = None,
        dry_run: bool = False,
    ) -> Obj:
        """Replace an object (PUT). 409 Conflict when ``metadata.resourceVersion`` is stale.

        With ``subresource="status"`` only ``status`` changes; without it ``status`` is kept
        from the stored object for kinds with a status subresource. ``generation`` is bumped
        when ``spec`` changes. Removing the last finalizer of an object with a
        deletionTimestamp removes it (DELETED event). ``subresource="finalize"`` on a namespace
        changes only ``spec.finalizers``. ``namespace``/``name`` are those of the URL (400 when
        the body disagrees). An update that changes nothing writes nothing.
        """
        new = copy_obj(obj)
        meta = new["metadata"]
        ns = self._resolve_namespace(rt, meta, namespace)
        if name is not None:
            if meta.get("name") and meta["name"] != name:
                raise bad_request(
                    f"the name of the object ({meta['name']}) does not match the name on the URL"
                    f" ({name})"
                )
            meta["name"] = name
        if not meta.get("name"):
            raise bad_request("the name of the object is required for an update")
        old = self.get(rt, ns, meta["name"])
        if old is None:
            raise not_found(rt.resource, rt.group, meta["name"])
        old_meta = old["metadata"]
        want_rv = meta.get("resourceVersion")
        if want_rv and want_rv != old_meta["resourceVersion"]:
            raise conflict(rt.resource, rt.group, meta["name"])
        if meta.get("uid") and meta["uid"] != old_meta["uid"]:
            raise _precondition_conflict(rt, meta["name"], "UID", meta["uid"], old_meta["uid"])
        return self._write_update(rt, old, new, subresource, keep_status=True, dry_run=dry_run)

    def mutate(
        self,
        rt: ResourceType,
        namespace: str | None,
        name: str,
        fn: Callable[[Obj], None],
        *,
        subresource: str | None = None,
    ) -> Obj | None:
        """Controller helper: deep-copy the stored object, apply ``fn`` in place, store it.

        Returns the new object, or None when the object does not exist. A mutation that changes
        nothing writes nothing (no event, same RV) and returns the stored object. Without
        ``subresource`` every change ``fn`` makes is stored (status included); with
        ``subresource="status"`` only the status change is. Server-owned metadata (uid,
        creationTimestamp, generation, deletionTimestamp) cannot be changed this way.
        """
        old = self.get(rt, namespace, name)
        if old is None:
            return None
        raw = self.encoded(old)
        new = orjson.loads(raw) if raw is not None else copy_obj(old)
        fn(new)
        if new == old:
            return old
        return self._write_update(rt, old, new, subresource, keep_status=False)

    def _write_update(
        self,
        rt: ResourceType,
        old: Obj,
        new: Obj,
        subresource: str | None,
        *,
        keep_status: bool,
        dry_run: bool = False,
    ) -> Obj:
        old_meta = old["metadata"]
        if subresource == "finalize" and rt.key == self._ns_rt.key:
            finalizers = (new.get("spec") or {}).get("finalizers") or []
            new = {**old, "metadata": dict(old_meta), "spec": {**old.get("spec", {})}}
            new["spec"]["finalizers"] = list(finalizers)
        elif subresource == "status":
            status = new.get("status")
            new = {**old, "metadata": dict(old_meta)}
            if status is None:
                new.pop("status", None)
            else:
                new["status"] = status
        else:
            new["apiVersion"] = rt.api_version
            new["kind"] = rt.kind
            meta = new.setdefault("metadata", {})
            if not isinstance(meta, dict):
                raise bad_request("metadata must be a JSON object")
            for key in _SERVER_META:
                if key in old_meta:
                    meta[key] = old_meta[key]
                else:
                    meta.pop(key, None)
            meta["name"] = old_meta["name"]
            if rt.namespaced:
                meta["namespace"] = old_meta["namespace"]
            else:
                meta.pop("namespace", None)
            if keep_status and rt.has_status:
                if "status" in old:
                    new["status"] = old["status"]
                else:
                    new.pop("status", None)
            self.admission.admit(rt, new, old, dry_run=dry_run)
            if _spec_changed(old, new) and "generation" in meta:
                meta["generation"] = meta["generation"] + 1
        meta = new["metadata"]
        meta["resourceVersion"] = old_meta["resourceVersion"]
        if new == old or dry_run:
            return old if new == old else new
        if _finalized(rt, new):
            return self._remove(rt, new, old)
        rv = self._bump()
        meta["resourceVersion"] = str(rv)
        self._data[rt.key][meta.get("namespace", "")][meta["name"]] = new
        self._emit(Event("MODIFIED", rt, new, old, rv))
        return new

    # ---------------------------------------------------------------- delete

    def delete(
        self,
        rt: ResourceType,
        namespace: str | None,
        name: str,
        *,
        grace_period_seconds: int | None = None,
        propagation_policy: str | None = None,
        preconditions: dict[str, str] | None = None,
        dry_run: bool = False,
    ) -> tuple[Obj, bool]:
        """Delete (or start deleting) an object. Returns (object, removed_now).

        Objects with finalizers, pods with a positive grace period, namespaces (which get
        phase Terminating and the ``kubernetes`` spec finalizer) and Foreground/Orphan
        propagation get a deletionTimestamp and a MODIFIED event instead of removal.
        """
        old = self.get(rt, namespace, name)
        if old is None:
            raise not_found(rt.resource, rt.group, name)
        meta = old["metadata"]
        for what, key in (("UID", "uid"), ("ResourceVersion", "resourceVersion")):
            want = (preconditions or {}).get(key)
            if want and want != meta[key]:
                raise _precondition_conflict(rt, name, what, want, meta[key])
        if propagation_policy and propagation_policy not in PROPAGATION:
            cause = not_supported("propagationPolicy", propagation_policy, PROPAGATION)
            raise invalid_error(_DELETE_OPTIONS, "", [cause])
        if rt.key == self._ns_rt.key:
            return self._delete_namespace(old, dry_run)
        finalizers = list(meta.get("finalizers") or ())
        extra = {"Foreground": "foregroundDeletion", "Orphan": "orphan"}.get(
            propagation_policy or ""
        )
        if extra and extra not in finalizers:
            finalizers.append(extra)
        is_pod = rt.key == "/pods"
        now = self.clock()
        if meta.get("deletionTimestamp"):
            current = meta.get("deletionGracePeriodSeconds") or 0
            period = current
            if is_pod and grace_period_seconds is not None:
                period = min(current, _pod_grace(old, grace_period_seconds))
            if period == current and finalizers == list(meta.get("finalizers") or ()):
                return old, False
            new_meta = {**meta, "deletionGracePeriodSeconds": period}
            if period != current:
                new_meta["deletionTimestamp"] = now_rfc3339(now + period)
        else:
            period = _pod_grace(old, grace_period_seconds) if is_pod else 0
            if period <= 0 and not finalizers:
                return (old if dry_run else self._remove(rt, old, old)), True
            new_meta = {
                **meta,
                "deletionTimestamp": now_rfc3339(now + period),
                "deletionGracePeriodSeconds": period,
            }
            if "generation" in meta:
                new_meta["generation"] = meta["generation"] + 1
        if finalizers:
            new_meta["finalizers"] = finalizers
        new = {**old, "metadata": new_meta}
        if dry_run:
            return new, False
        if _finalized(rt, new):
            return self._remove(rt, new, old), True
        return self._replace(rt, new, old), False

    def _delete_namespace(self, old: Obj, dry_run: bool) -> tuple[Obj, bool]:
        meta = old["metadata"]
        if meta.get("deletionTimestamp"):
            return old, False
        new_meta = {**meta, "deletionTimestamp": now_rfc3339(self.clock())}
        status = {**(old.get("status") or {}), "phase": "Terminating"}
        new = {**old, "metadata": new_meta, "status": status}
        if dry_run:
            return new, False
        if _finalized(self._ns_rt, new):
            return self._remove(self._ns_rt, new, old), True
        return self._replace(self._ns_rt, new, old), False

    def delete_collection(
        self,
        rt: ResourceType,
        namespace: str | None = None,
        label_selector: str | None = None,
        field_selector: str | None = None,
        **delete_opts: Any,
    ) -> _Objs:
        """Delete every matching object as ``delete`` would; returns their resulting states."""
        out: _Objs = []
        for obj in self.list(rt, namespace, label_selector, field_selector):
            meta = obj["metadata"]
            try:
                result, _ = self.delete(rt, meta.get("namespace"), meta["name"], **delete_opts)
            except ApiError as exc:
                if exc.code == 404:  # removed meanwhile by a listener's cascade
                    continue
                raise
            out.append(result)
        return out

    def remove_type(self, rt: ResourceType) -> int:
        """Remove every object of ``rt`` at once (DELETED events); returns how many."""
        per_type = self._data.get(rt.key)
        if not per_type:
            return 0
        victims = [obj for bucket in per_type.values() for obj in bucket.values()]
        for obj in victims:
            if self.get(rt, obj["metadata"].get("namespace"), obj["metadata"]["name"]) is obj:
                self._remove(rt, obj, obj)
        return len(victims)

    # ---------------------------------------------------------------- internals

    def _bump(self) -> int:
        self._rv += 1
        return self._rv

    def _insert(self, rt: ResourceType, ns: str, name: str, obj: Obj) -> None:
        self._data.setdefault(rt.key, {}).setdefault(ns, {})[name] = obj
        self._sorted.pop((rt.key, ns), None)
        self._counts[rt.key] = self._counts.get(rt.key, 0) + 1

    def _replace(self, rt: ResourceType, new: Obj, old: Obj) -> Obj:
        rv = self._bump()
        meta = new["metadata"] = {**new["metadata"], "resourceVersion": str(rv)}
        self._data[rt.key][meta.get("namespace", "")][meta["name"]] = new
        self._emit(Event("MODIFIED", rt, new, old, rv))
        return new

    def _remove(self, rt: ResourceType, last: Obj, old: Obj) -> Obj:
        rv = self._bump()
        final = {**last, "metadata": {**last["metadata"], "resourceVersion": str(rv)}}
        ns = final["metadata"].get("namespace", "")
        per_type = self._data[rt.key]
        bucket = per_type[ns]
        del bucket[final["metadata"]["name"]]
        if not bucket:
            del per_type[ns]
        self._sorted.pop((rt.key, ns), None)
        self._counts[rt.key] -= 1
        self.admission.release(rt, final)
        self._emit(Event("DELETED", rt, final, old, rv))
        return final

    def _emit(self, event: Event) -> None:
        if self._dispatching:
            self._pending.append(event)
            return
        self._dispatching = True
        try:
            self._deliver(event)
            while self._pending:
                self._deliver(self._pending.popleft())
        finally:
            self._dispatching = False

    def _deliver(self, event: Event) -> None:
        key = event.rt.key
        listeners = self._by_key.get(key)
        if listeners is None:
            listeners = self._by_key[key] = [
                fn for fn, keys in self._listeners if keys is None or key in keys
            ]
        for listener in listeners:
            try:
                listener(event)
            except Exception:
                log.exception("store listener %r failed on %s", listener, event.type)


def _not_encoded(obj: Obj) -> bytes | None:
    return None


def _spec_changed(old: Obj, new: Obj) -> bool:
    for key in old.keys() | new.keys():
        if key not in ("metadata", "status", "apiVersion", "kind") and old.get(key) != new.get(key):
            return True
    return False


def _pod_grace(pod: Obj, requested: int | None) -> int:
    spec = pod.get("spec") or {}
    period = requested
    if period is None:
        period = spec.get("terminationGracePeriodSeconds")
        period = 30 if period is None else int(period)
    if not spec.get("nodeName"):
        return 0
    if (pod.get("status") or {}).get("phase") in ("Succeeded", "Failed"):
        return 0
    return 1 if period < 0 else period


def _finalized(rt: ResourceType, obj: Obj) -> bool:
    """Whether an object being deleted has nothing left holding it (so it goes now)."""
    meta = obj["metadata"]
    if not meta.get("deletionTimestamp") or meta.get("finalizers"):
        return False
    if rt.group == "" and rt.resource == "namespaces":
        return not (obj.get("spec") or {}).get("finalizers")
    return not meta.get("deletionGracePeriodSeconds")
