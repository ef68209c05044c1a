"""Verb handlers of the simulated API server: get, list, create, update, patch, delete."""

from __future__ import annotations

import copy
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import jsonpatch
import orjson
from aiohttp import web

from . import httpio
from .context import SimContext
from .errors import bad_request, conflict, invalid, not_found
from .httpio import json_bytes, json_obj
from .listing import Lister
from .patch import apply_patch
from .resources import ResourceType
from .store import Obj
from .watchhub import WatchHub

APPLY = "application/apply-patch+yaml"
# groups whose objects the real server answers DELETE with a Status instead of the object
_STATUS_ON_DELETE_GROUPS = frozenset(
    [
        "",
        "apps",
        "batch",
        "networking.k8s.io",
        "apiextensions.k8s.io",
        "policy",
        "rbac.authorization.k8s.io",
    ]
)
_OBJECT_ON_DELETE = frozenset(["/pods", "/services"])


@dataclass(frozen=True, slots=True)
class Target:
    """What a request path names: a resource type, namespace, object name and subresource."""

    rt: ResourceType
    namespace: str | None
    name: str | None = None
    sub: str | None = None


class Handlers:
    """The verbs, bound to one simulator context."""

    def __init__(self, ctx: SimContext, hub: WatchHub) -> None:
        self.ctx = ctx
        self.store = ctx.store
        self.hub = hub
        self.lister = Lister(ctx.store)

    def _enc(self, obj: Obj) -> bytes:
        return self.hub.encoder.encode(obj)

    def _get_or_404(self, t: Target) -> Obj:
        assert t.name is not None
        obj = self.store.get(t.rt, t.namespace, t.name)
        if obj is None:
            raise not_found(t.rt.resource, t.rt.group, t.name)
        return obj

    async def get(self, request: web.Request, t: Target) -> web.StreamResponse:
        """GET one object (also ``/status``)."""
        return json_bytes(self._enc(self._get_or_404(t)))

    async def collection(self, request: web.Request, t: Target) -> web.StreamResponse:
        """LIST (or WATCH with ``?watch=true``) a collection."""
        q = request.query
        if q.get("watch", "").lower() in ("1", "true"):
            return await self.hub.serve(request, t.rt, t.namespace, q)
        items, meta = self.lister.page(t.rt, t.namespace, q, self.hub.floor)
        return json_bytes(self._list_bytes(t.rt, items, meta))

    def _list_bytes(self, rt: ResourceType, items: list[Obj], meta: dict[str, Any]) -> bytes:
        head = orjson.dumps({"kind": rt.list_kind, "apiVersion": rt.api_version, "metadata": meta})
        enc = self._enc
        return head[:-1] + b',"items":[' + b",".join([enc(o) for o in items]) + b"]}"

    async def create(self, request: web.Request, t: Target) -> web.StreamResponse:
        """POST a new object into a collection."""
        if t.rt.namespaced and t.namespace is None:
            raise httpio.method_not_allowed()
        obj = await httpio.read_object(request)
        httpio.check_kind(t.rt, obj)
        httpio.check_identity(obj, t.namespace, None)
        dry = httpio.dry_run(request.query.getall("dryRun", []))
        stored = self.store.create(t.rt, obj, t.namespace, dry_run=dry)
        return json_bytes(orjson.dumps(stored) if dry else self._enc(stored), 201)

    async def update(self, request: web.Request, t: Target) -> web.StreamResponse:
        """PUT an object (or its ``/status``)."""
        obj = await httpio.read_object(request)
        httpio.check_kind(t.rt, obj)
        httpio.check_identity(obj, t.namespace, t.name)
        dry = httpio.dry_run(request.query.getall("dryRun", []))
        stored = self.store.update(
            t.rt, obj, subresource=t.sub, namespace=t.namespace, name=t.name, dry_run=dry
        )
        return json_bytes(orjson.dumps(stored) if dry else self._enc(stored))

    async def patch(self, request: web.Request, t: Target) -> web.StreamResponse:
        """PATCH an object (or its ``/status``) with one of the four patch media types."""
        ctype = request.content_type if request.headers.get("Content-Type") else ""
        if ctype not in httpio.PATCH_TYPES:
            raise httpio.unsupported_media(ctype)
        q = request.query
        manager = q.get("fieldManager")
        if ctype == APPLY and not manager:
            causes = [
                {
                    "reason": "FieldValueRequired",
                    "message": "Required value: is required for apply patch",
                    "field": "fieldManager",
                }
            ]
            raise invalid("PatchOptions", "meta.k8s.io", "", causes)
        body = await httpio.read_body(request)
        assert t.name is not None
        current = self.store.get(t.rt, t.namespace, t.name)
        if current is None and (ctype != APPLY or t.sub is not None):
            raise not_found(t.rt.resource, t.rt.group, t.name)
        force = q.get("force", "").lower() in ("1", "true")
        result = apply_patch(t.rt, current, body, ctype, manager, force)
        httpio.check_kind(t.rt, result)
        httpio.check_identity(result, t.namespace, t.name)
        dry = httpio.dry_run(q.getall("dryRun", []))
        if current is None:
            stored = self.store.create(t.rt, result, t.namespace, dry_run=dry)
            return json_bytes(orjson.dumps(stored) if dry else self._enc(stored), 201)
        stored = self.store.update(
            t.rt, result, subresource=t.sub, namespace=t.namespace, name=t.name, dry_run=dry
        )
        return json_bytes(orjson.dumps(stored) if dry else self._enc(stored))

    async def _delete_options(self, request: web.Request) -> dict[str, Any]:
        opts: dict[str, Any] = {}
        if request.can_read_body:
            data = await httpio.read_body(request)
            if data.strip():
                ctype = request.content_type if request.headers.get("Content-Type") else "json"
                if ctype not in (httpio.JSON, httpio.YAML, "json"):
                    raise httpio.unsupported_media(ctype)
                parsed = httpio.decode(data, ctype)
                if not isinstance(parsed, dict):
                    raise bad_request("DeleteOptions must be a JSON object")
                opts = parsed
        q = request.query
        if "gracePeriodSeconds" in q:
            opts["gracePeriodSeconds"] = q["gracePeriodSeconds"]
        if "propagationPolicy" in q:
            opts["propagationPolicy"] = q["propagationPolicy"]
        if "orphanDependents" in q:
            opts["orphanDependents"] = q["orphanDependents"].lower() in ("1", "true")
        dry = list(q.getall("dryRun", [])) + list(opts.get("dryRun") or [])
        opts["dryRun"] = httpio.dry_run(dry)
        grace = opts.get("gracePeriodSeconds")
        if grace is not None:
            try:
                opts["gracePeriodSeconds"] = int(grace)
            except (TypeError, ValueError):
                raise bad_request(f"invalid gracePeriodSeconds: {grace}") from None
        policy = opts.get("propagationPolicy")
        if policy is None and opts.get("orphanDependents") is True:
            opts["propagationPolicy"] = "Orphan"
        elif policy not in (None, "Foreground", "Background", "Orphan"):
            causes = [
                {
                    "reason": "FieldValueNotSupported",
                    "message": f"Unsupported value: {policy!r}",
                    "field": "propagationPolicy",
                }
            ]
            raise invalid("DeleteOptions", "meta.k8s.io", "", causes)
        return opts

    def _delete_one(self, t: Target, name: str, opts: Mapping[str, Any]) -> tuple[Obj, bool]:
        return self.store.delete(
            t.rt,
            t.namespace,
            name,
            grace_period_seconds=opts.get("gracePeriodSeconds"),
            propagation_policy=opts.get("propagationPolicy"),
            preconditions=opts.get("preconditions"),
            dry_run=opts["dryRun"],
        )

    async def delete(self, request: web.Request, t: Target) -> web.StreamResponse:
        """DELETE one object: the object, a Success Status, or 202 with the deferred object."""
        assert t.name is not None
        opts = await self._delete_options(request)
        obj, removed = self._delete_one(t, t.name, opts)
        if not removed:
            # the real server answers 202 for a deferred delete only with orphanDependents=false
            return json_bytes(self._enc(obj), 202 if opts.get("orphanDependents") is False else 200)
        rt = t.rt
        if rt.key in _OBJECT_ON_DELETE or rt.group not in _STATUS_ON_DELETE_GROUPS:
            return json_bytes(self._enc(obj))
        details: dict[str, Any] = {"name": t.name, "kind": rt.resource}
        if rt.group:
            details["group"] = rt.group
        uid = obj.get("metadata", {}).get("uid")
        if uid:
            details["uid"] = uid
        status = {
            "kind": "Status",
            "apiVersion": "v1",
            "metadata": {},
            "status": "Success",
            "details": details,
        }
        return json_obj(status)

    async def delete_collection(self, request: web.Request, t: Target) -> web.StreamResponse:
        """DELETE a collection (with selectors); answers the list of deleted objects."""
        opts = await self._delete_options(request)
        q = request.query
        label, field = q.get("labelSelector") or None, q.get("fieldSelector") or None
        done = self.store.delete_collection(
            t.rt,
            t.namespace,
            label,
            field,
            grace_period_seconds=opts.get("gracePeriodSeconds"),
            propagation_policy=opts.get("propagationPolicy"),
            preconditions=opts.get("preconditions"),
            dry_run=opts["dryRun"],
        )
        meta = {"resourceVersion": str(self.store.rv)}
        return json_bytes(self._list_bytes(t.rt, done, meta))

    async def scale(self, request: web.Request, t: Target) -> web.StreamResponse:
        """GET/PUT/PATCH the ``/scale`` subresource (autoscaling/v1 Scale)."""
        current = self._get_or_404(t)
        if request.method == "GET":
            return json_obj(_scale_of(current))
        if request.method == "PUT":
            body = await httpio.read_object(request)
        else:
            ctype = request.content_type if request.headers.get("Content-Type") else ""
            if ctype not in httpio.PATCH_TYPES[:3]:
                raise httpio.unsupported_media(ctype)
            patch = httpio.decode(await httpio.read_body(request), httpio.JSON)
            body = _scale_of(current)
            if isinstance(patch, list):
                try:
                    body = jsonpatch.apply_patch(body, patch)
                except (jsonpatch.JsonPatchException, jsonpatch.JsonPointerException) as exc:
                    raise bad_request(f"the json patch could not be applied: {exc}") from None
            elif isinstance(patch, dict):
                body["spec"].update(patch.get("spec") or {})
        replicas = (body.get("spec") or {}).get("replicas")
        if not isinstance(replicas, int) or replicas < 0:
            causes = [
                {
                    "reason": "FieldValueInvalid",
                    "message": "Invalid value: must be a non-negative integer",
                    "field": "spec.replicas",
                }
            ]
            raise invalid("Scale", "autoscaling", t.name or "", causes)
        want_rv = (body.get("metadata") or {}).get("resourceVersion")
        if want_rv and want_rv != current["metadata"].get("resourceVersion"):
            raise conflict(t.rt.resource, t.rt.group, t.name or "")
        updated = copy.deepcopy(current)
        updated.setdefault("spec", {})["replicas"] = replicas
        stored = self.store.update(t.rt, updated)
        return json_obj(_scale_of(stored))


def _scale_of(obj: Obj) -> Obj:
    meta = obj["metadata"]
    selector = ((obj.get("spec") or {}).get("selector") or {}).get("matchLabels") or {}
    return {
        "kind": "Scale",
        "apiVersion": "autoscaling/v1",
        "metadata": {
            k: meta[k]
            for k in ("name", "namespace", "uid", "resourceVersion", "creationTimestamp")
            if k in meta
        },
        "spec": {"replicas": (obj.get("spec") or {}).get("replicas", 0)},
        "status": {
            "replicas": (obj.get("status") or {}).get("replicas", 0),
            "selector": ",".join(f"{k}={v}" for k, v in sorted(selector.items())),
        },
    }
