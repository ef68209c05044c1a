"""HTTP routes of the simulated Kubernetes API server: discovery, CRUD, watch, subresources."""

from __future__ import annotations

import importlib
import inspect
from collections.abc import Awaitable, Callable

from aiohttp import web

from . import discovery, httpio, warn
from .context import SimContext
from .errors import ApiError, bad_request, path_not_found
from .handlers import Handlers, Target
from .resources import SUBRESOURCES_KUBEVIRT
from .watchhub import WatchHub

HUB_KEY = web.AppKey("kubevirt_burner_watchhub", WatchHub)
Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]
_VERBS: dict[tuple[str, str], str] = {
    ("collection", "GET"): "list",
    ("collection", "POST"): "create",
    ("collection", "DELETE"): "deletecollection",
    ("object", "GET"): "get",
    ("object", "PUT"): "update",
    ("object", "PATCH"): "patch",
    ("object", "DELETE"): "delete",
    ("status", "GET"): "get",
    ("status", "PUT"): "update",
    ("status", "PATCH"): "patch",
    ("scale", "GET"): "get",
    ("scale", "PUT"): "update",
    ("scale", "PATCH"): "patch",
}
_KUBEVIRT_OPS = {(s.parent, s.name) for s in SUBRESOURCES_KUBEVIRT}


_WRITES = frozenset(("POST", "PUT", "PATCH", "DELETE"))


def _guard(fn: Handler) -> Handler:
    async def wrapper(request: web.Request) -> web.StreamResponse:
        warnings = warn.begin() if request.method in _WRITES else None
        try:
            response = await fn(request)
        except ApiError as exc:
            response = httpio.status_response(exc)
        except web.HTTPException:
            raise
        except Exception as exc:
            response = httpio.status_response(httpio.internal_error(exc))
        if warnings and not response.prepared:
            for message in warnings:
                response.headers.add("Warning", warn.header_value(message))
        return response

    return wrapper


@web.middleware
async def status_middleware(request: web.Request, handler: Handler) -> web.StreamResponse:
    """Render router misses (unknown path, wrong method) as metav1.Status bodies."""
    try:
        return await handler(request)
    except web.HTTPNotFound:
        return httpio.status_response(path_not_found())
    except web.HTTPMethodNotAllowed:
        return httpio.status_response(httpio.method_not_allowed())
    except web.HTTPRequestEntityTooLarge:
        return httpio.status_response(
            ApiError(413, "RequestEntityTooLarge", "Request entity too large")
        )


def _parts(path: str, prefix: str) -> list[str]:
    rest = path[len(prefix) :].strip("/")
    return rest.split("/") if rest else []


class ApiServer:
    """Routes /api and /apis requests to discovery or to the verb handlers."""

    def __init__(self, ctx: SimContext, hub: WatchHub) -> None:
        self.ctx = ctx
        self.registry = ctx.registry
        self.handlers = Handlers(ctx, hub)

    async def version(self, request: web.Request) -> web.StreamResponse:
        """GET /version."""
        return httpio.json_obj(discovery.version_info())

    async def core(self, request: web.Request) -> web.StreamResponse:
        """Everything under /api."""
        parts = _parts(request.path, "/api")
        if not parts:
            self._only_get(request)
            return httpio.json_obj(discovery.api_versions(request.host))
        return await self._group_version(request, "", parts[0], parts[1:])

    async def groups(self, request: web.Request) -> web.StreamResponse:
        """Everything under /apis."""
        parts = _parts(request.path, "/apis")
        if not parts:
            self._only_get(request)
            return httpio.json_obj(discovery.api_group_list(self.registry))
        if len(parts) == 1:
            self._only_get(request)
            doc = discovery.api_group(self.registry, parts[0])
            if doc is None:
                raise path_not_found()
            return httpio.json_obj(doc)
        if parts[0] == discovery.SUBRESOURCES_GROUP and len(parts) > 2:
            return await self._kubevirt(request, parts[1], parts[2:])
        return await self._group_version(request, parts[0], parts[1], parts[2:])

    @staticmethod
    def _only_get(request: web.Request) -> None:
        if request.method not in ("GET", "HEAD"):
            raise httpio.method_not_allowed()

    async def _group_version(
        self, request: web.Request, group: str, version: str, rest: list[str]
    ) -> web.StreamResponse:
        if not rest:
            self._only_get(request)
            doc = discovery.api_resource_list(self.registry, group, version)
            if doc is None:
                raise path_not_found()
            return httpio.json_obj(doc)
        t = self._resolve(group, version, rest)
        h = self.handlers
        shape = "collection" if t.name is None else (t.sub or "object")
        verb = _VERBS.get((shape, request.method))
        if verb is None or verb not in t.rt.verbs:
            raise httpio.method_not_allowed()
        if shape == "scale":
            return await h.scale(request, t)
        if verb == "get":
            return await h.get(request, t)
        if verb == "list":
            return await h.collection(request, t)
        if verb == "create":
            return await h.create(request, t)
        if verb == "update":
            return await h.update(request, t)
        if verb == "patch":
            return await h.patch(request, t)
        if verb == "delete":
            return await h.delete(request, t)
        return await h.delete_collection(request, t)

    def _resolve(self, group: str, version: str, rest: list[str]) -> Target:
        namespace: str | None = None
        ns_object = group == "" and len(rest) == 3 and rest[2] in ("status", "finalize")
        if len(rest) >= 3 and rest[0] == "namespaces" and not ns_object:
            namespace, resource, tail = rest[1], rest[2], rest[3:]
        else:
            resource, tail = rest[0], rest[1:]
        rt = self.registry.get(group, version, resource)
        if rt is None or len(tail) > 2 or "" in tail or (namespace == ""):
            raise path_not_found()
        if namespace is not None and not rt.namespaced:
            raise path_not_found()
        if namespace is None and rt.namespaced and tail:
            raise path_not_found()
        name = tail[0] if tail else None
        sub = tail[1] if len(tail) > 1 else None
        if sub is not None and sub not in rt.subresources:
            raise path_not_found()
        return Target(rt, namespace, name, sub)

    async def _kubevirt(
        self, request: web.Request, version: str, rest: list[str]
    ) -> web.StreamResponse:
        if (
            version != discovery.SUBRESOURCES_VERSION
            or len(rest) != 5
            or rest[0] != "namespaces"
            or (rest[2], rest[4]) not in _KUBEVIRT_OPS
        ):
            raise path_not_found()
        if request.method != "PUT":
            raise httpio.method_not_allowed()
        _, namespace, resource, name, op = rest
        handle = _subresource_handler()
        if handle is None:
            raise path_not_found()
        body = None
        data = await httpio.read_body(request)
        if data.strip():
            body = httpio.decode(data, httpio.JSON)
            if not isinstance(body, dict):
                raise bad_request("the request body must be a JSON object")
        result = handle(self.ctx, resource, namespace, name, op, body)
        if inspect.isawaitable(result):
            result = await result
        if result is None:
            return web.Response(status=202)
        return httpio.json_obj(result)


def _subresource_handler() -> Callable[..., object] | None:
    """``handle_subresource`` of the KubeVirt controller, or None while it does not exist."""
    module = f"{__package__}.controllers.kubevirt"
    try:
        mod = importlib.import_module(module)
    except ModuleNotFoundError as exc:
        if exc.name == module:
            return None
        raise
    handle = getattr(mod, "handle_subresource", None)
    return handle if callable(handle) else None


async def _ok(request: web.Request) -> web.StreamResponse:
    return web.Response(text="ok", content_type="text/plain")


def setup(
    app: web.Application,
    ctx: SimContext,
    *,
    watch_buffer: int = 100_000,
    bookmark_period: float = 10.0,
    watch_queue: int = 20_000,
    watch_buffer_bytes: int | None = None,
) -> None:
    """Add every API route (and a middleware rendering router misses as Status) to ``app``."""
    hub = WatchHub(
        ctx,
        buffer_size=watch_buffer,
        buffer_bytes=watch_buffer_bytes,
        bookmark_period=bookmark_period,
        queue_size=watch_queue,
    )
    api = ApiServer(ctx, hub)
    app[HUB_KEY] = hub
    app.middlewares.append(status_middleware)

    async def _close_watches(_: web.Application) -> None:
        hub.close_all()

    app.on_shutdown.append(_close_watches)
    router = app.router
    for path in ("/version", "/version/"):
        router.add_get(path, _guard(api.version))
    for path in ("/healthz", "/readyz", "/livez"):
        router.add_get(path, _ok)
    for prefix, handler in (("/api", api.core), ("/apis", api.groups)):
        guarded = _guard(handler)
        router.add_route("*", prefix, guarded)
        router.add_route("*", prefix + "/{tail:.*}", guarded)
