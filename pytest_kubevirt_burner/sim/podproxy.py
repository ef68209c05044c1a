"""The pod proxy subresource, for the /debug/pprof endpoints of simulated component pods."""

from __future__ import annotations

from collections.abc import Awaitable, Callable

from aiohttp import web

from . import errors
from .context import SimContext
from .httpio import status_response
from .metrics import pprof_index, pprof_profile

Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]
PREFIX = "/api/v1/namespaces/{namespace}/pods/{target}/proxy/debug/pprof"


def add_routes(app: web.Application, ctx: SimContext) -> None:
    """Serve ``GET .../pods/[scheme:]<name>[:port]/proxy/debug/pprof/...`` for running pods."""

    def pod_phase(request: web.Request) -> str | None:
        target = request.match_info["target"]
        parts = target.split(":")
        name = parts[1] if len(parts) > 1 and parts[0] in ("http", "https") else parts[0]
        pod = ctx.store.get(ctx.registry.core("pods"), request.match_info["namespace"], name)
        if pod is None:
            raise errors.not_found("pods", "", name)
        return str((pod.get("status") or {}).get("phase"))

    def guarded(handler: Handler) -> Handler:
        async def serve(request: web.Request) -> web.StreamResponse:
            try:
                if pod_phase(request) != "Running":
                    raise errors.ApiError(503, "ServiceUnavailable", "pod is not running")
            except errors.ApiError as exc:
                return status_response(exc)
            return await handler(request)

        return serve

    app.router.add_get(PREFIX + "/", guarded(pprof_index))
    app.router.add_get(PREFIX + "/{name}", guarded(pprof_profile))
