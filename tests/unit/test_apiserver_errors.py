"""The HTTP layer turns ApiError into Status and unexpected exceptions into a short 500."""

from __future__ import annotations

import asyncio
import json

from aiohttp import web
from aiohttp.test_utils import make_mocked_request

from pytest_kubevirt_burner.sim.apiserver import _guard
from pytest_kubevirt_burner.sim.errors import too_many_requests


def run(handler: object) -> web.Response:
    request = make_mocked_request("GET", "/api/v1/pods")
    resp = asyncio.run(_guard(handler)(request))  # type: ignore[arg-type]
    assert isinstance(resp, web.Response)
    return resp


def test_unexpected_exception_is_500_without_details() -> None:
    async def boom(request: web.Request) -> web.StreamResponse:
        raise RuntimeError("secret detail")

    resp = run(boom)
    assert resp.status == 500
    assert resp.content_type == "application/json"
    assert resp.body is not None
    body = json.loads(bytes(resp.body))  # type: ignore[arg-type]
    assert body["reason"] == "InternalError" and body["kind"] == "Status"
    assert "secret detail" not in body["message"]


def test_api_error_keeps_code_and_headers() -> None:
    async def throttled(request: web.Request) -> web.StreamResponse:
        raise too_many_requests(3)

    resp = run(throttled)
    assert resp.status == 429
    assert resp.headers["Retry-After"] == "3"
    body = json.loads(bytes(resp.body))  # type: ignore[arg-type]
    assert body["details"] == {"retryAfterSeconds": 3}
