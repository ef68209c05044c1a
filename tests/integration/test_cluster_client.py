"""ClusterClient over real HTTP against a small scripted aiohttp API server.

The server answers discovery and keeps pods in a dict; a per-route script of canned answers
(status codes, Retry-After, dropped connections) is consumed before the normal handler runs.
"""

from __future__ import annotations

import asyncio
import json
import socket
import threading
from collections import defaultdict
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
import yaml
from aiohttp import web

from pytest_kubevirt_burner.cluster import (
    ApiError,
    ClusterClient,
    ClusterUnreachableError,
    RequestStats,
    RetryPolicy,
    TokenBucket,
    UnknownKindError,
    resolve_target,
)

TOKEN = "fake-api-token-0123456789"
UUID = "11111111-2222-3333-4444-555555555555"
PODS = "/api/v1/namespaces/ns/pods"
FAST = RetryPolicy(max_retries=10, base=0.001, cap=0.01)


def status(code: int, reason: str, message: str, **extra: Any) -> dict[str, Any]:
    return {
        "kind": "Status",
        "apiVersion": "v1",
        "metadata": {},
        "status": "Failure",
        "message": message,
        "reason": reason,
        "code": code,
        **extra,
    }


@dataclass
class Action:
    """A canned answer: an HTTP status, or 'drop' (close the connection without answering)."""

    code: int = 0
    headers: dict[str, str] = field(default_factory=dict)
    body: Any = None
    drop: bool = False
    store_first: bool = False  # run the real handler, then drop the connection


class FakeApi:
    def __init__(self) -> None:
        self.pods: dict[str, dict[str, Any]] = {}
        self.script: dict[tuple[str, str], list[Action]] = defaultdict(list)
        self.seen: list[tuple[str, str, str]] = []
        self.rv = 0
        self.url = ""
        self._loop = asyncio.new_event_loop()
        self._runner: web.AppRunner | None = None
        self._thread = threading.Thread(target=self._loop.run_forever, daemon=True)

    def count(self, method: str, path: str) -> int:
        return sum(1 for m, p, _ in self.seen if (m, p) == (method, path))

    async def _handle(self, request: web.Request) -> web.StreamResponse:
        self.seen.append((request.method, request.path, request.query_string))
        if request.headers.get("Authorization") != f"Bearer {TOKEN}":
            return web.json_response(status(401, "Unauthorized", "Unauthorized"), status=401)
        queue = self.script.get((request.method, request.path))
        if queue:
            action = queue.pop(0)
            if action.store_first:
                await self._serve(request)
                assert request.transport is not None
                request.transport.close()
                return web.Response()
            if action.drop:
                assert request.transport is not None
                request.transport.close()
                return web.Response()
            if isinstance(action.body, str):
                return web.Response(status=action.code, text=action.body, headers=action.headers)
            return web.json_response(action.body, status=action.code, headers=action.headers)
        return await self._serve(request)

    async def _serve(self, request: web.Request) -> web.StreamResponse:
        path = request.path
        if path == "/version":
            return web.json_response({"major": "1", "minor": "32", "gitVersion": "v1.32.0"})
        if path == "/api":
            return web.json_response({"kind": "APIVersions", "versions": ["v1"]})
        if path == "/apis":
            return web.json_response({"kind": "APIGroupList", "groups": []})
        if path == "/api/v1":
            resources = [
                {"name": "pods", "kind": "Pod", "namespaced": True, "verbs": ["create", "get"]},
                {"name": "pods/status", "kind": "Pod", "namespaced": True, "verbs": ["get"]},
                {"name": "nodes", "kind": "Node", "namespaced": False, "verbs": ["list"]},
            ]
            return web.json_response({"groupVersion": "v1", "resources": resources})
        if path == PODS and request.method == "POST":
            obj = await request.json()
            name = obj["metadata"]["name"]
            if name in self.pods:
                body = status(409, "AlreadyExists", f'pods "{name}" already exists')
                return web.json_response(body, status=409)
            self.rv += 1
            obj["metadata"].update(uid=f"uid-{name}", resourceVersion=str(self.rv))
            self.pods[name] = obj
            return web.json_response(obj, status=201)
        if path == PODS and request.method == "GET":
            items = list(self.pods.values())
            return web.json_response({"kind": "PodList", "metadata": {}, "items": items})
        if path.startswith(PODS + "/") and request.method == "GET":
            name = path.rsplit("/", 1)[1]
            if name not in self.pods:
                body = status(404, "NotFound", f'pods "{name}" not found')
                return web.json_response(body, status=404)
            return web.json_response(self.pods[name])
        if path == "/api/v1/nodes":
            nodes = [{"metadata": {"name": f"n{i}"}} for i in range(3)]
            return web.json_response({"kind": "NodeList", "metadata": {}, "items": nodes})
        body = status(404, "NotFound", "the server could not find the requested resource")
        return web.json_response(body, status=404)

    def start(self) -> None:
        self._thread.start()
        asyncio.run_coroutine_threadsafe(self._start(), self._loop).result(10)

    async def _start(self) -> None:
        app = web.Application()
        app.router.add_route("*", "/{tail:.*}", self._handle)
        self._runner = web.AppRunner(app)
        await self._runner.setup()
        site = web.TCPSite(self._runner, "127.0.0.1", 0)
        await site.start()
        port = self._runner.addresses[0][1]
        self.url = f"http://127.0.0.1:{port}"

    def stop(self) -> None:
        if self._runner is not None:
            asyncio.run_coroutine_threadsafe(self._runner.cleanup(), self._loop).result(10)
        self._loop.call_soon_threadsafe(self._loop.stop)
        self._thread.join(10)
        self._loop.close()


def write_kubeconfig(path: Path, server: str, token: str = TOKEN) -> Path:
    path.write_text(
        yaml.safe_dump(
            {
                "apiVersion": "v1",
                "kind": "Config",
                "clusters": [{"name": "c", "cluster": {"server": server}}],
                "users": [{"name": "u", "user": {"token": token}}],
                "contexts": [{"name": "x", "context": {"cluster": "c", "user": "u"}}],
                "current-context": "x",
            }
        )
    )
    return path


@pytest.fixture
def api() -> Iterator[FakeApi]:
    server = FakeApi()
    server.start()
    try:
        yield server
    finally:
        server.stop()


@pytest.fixture
def client(api: FakeApi, tmp_path: Path) -> Iterator[ClusterClient]:
    target = resolve_target(str(write_kubeconfig(tmp_path / "kc", api.url)), None, {})
    with ClusterClient(target, workers=4, retry=FAST) as c:
        yield c


def pod(name: str, uuid: str = UUID, generate: bool = False) -> dict[str, Any]:
    meta: dict[str, Any] = {"namespace": "ns", "labels": {"kube-burner.io/uuid": uuid}}
    meta["generateName" if generate else "name"] = name
    return {"apiVersion": "v1", "kind": "Pod", "metadata": meta, "spec": {"containers": []}}


def test_429_with_retry_after_is_retried_and_counted(api: FakeApi, client: ClusterClient) -> None:
    throttled = status(429, "TooManyRequests", "slow down", details={"retryAfterSeconds": 1})
    api.script[("POST", PODS)] = [Action(429, {"Retry-After": "1"}, throttled)]
    limiter = TokenBucket(1000, 100)
    job = RequestStats()
    created = client.create(pod("p1"), limiter=limiter, stats=job)
    assert created["metadata"]["uid"] == "uid-p1"
    assert api.count("POST", PODS) == 2
    for snap in (client.stats.snapshot(), job.snapshot()):
        assert (snap.http_429, snap.retries, snap.requests["create"]) == (1, 1, 2)
    assert limiter.stats().acquired == 2  # every attempt takes a token
    # Retry-After honoured although the policy's backoff cap is 10 ms.
    assert 1.0 <= job.snapshot().retry_wait_seconds <= 1.1


def test_503_and_plain_text_500_are_retried(api: FakeApi, client: ClusterClient) -> None:
    api.script[("POST", PODS)] = [
        Action(503, {"Retry-After": "0"}, status(503, "ServiceUnavailable", "busy")),
        Action(500, {}, "Internal Server Error"),
        Action(500, {}, status(500, "InternalError", "etcd hiccup")),
    ]
    client.create(pod("p2"))
    assert api.count("POST", PODS) == 4
    snap = client.stats.snapshot()
    assert (snap.http_5xx, snap.retries, snap.errors) == (3, 3, {})


def test_max_retries_then_api_error(api: FakeApi, client: ClusterClient) -> None:
    api.script[("POST", PODS)] = [
        Action(500, {}, status(500, "InternalError", "still broken")) for _ in range(20)
    ]
    job = RequestStats()
    with pytest.raises(ApiError) as info:
        client.create(pod("p3"), stats=job)
    assert (info.value.status, info.value.reason, info.value.message) == (
        500,
        "InternalError",
        "still broken",
    )
    assert api.count("POST", PODS) == 11  # 1 + max_retries
    snap = job.snapshot()
    assert (snap.retries, snap.http_5xx, snap.errors) == (10, 11, {500: 1})


def test_lost_create_response_is_not_duplicated(api: FakeApi, client: ClusterClient) -> None:
    api.script[("POST", PODS)] = [Action(store_first=True)]
    created = client.create(pod("p4"))
    assert created["metadata"]["uid"] == "uid-p4"
    assert list(api.pods) == ["p4"]
    assert api.count("POST", PODS) == 2 and api.count("GET", PODS + "/p4") == 1
    snap = client.stats.snapshot()
    assert (snap.deduplicated_creates, snap.connection_errors) == (1, 1)


def test_conflict_with_a_foreign_object_is_an_error(api: FakeApi, client: ClusterClient) -> None:
    api.pods["p5"] = pod("p5", uuid="someone-else")
    api.script[("POST", PODS)] = [Action(drop=True)]
    with pytest.raises(ApiError) as info:
        client.create(pod("p5"))
    assert (info.value.status, info.value.reason) == (409, "AlreadyExists")
    assert info.value.message == 'pods "p5" already exists'
    assert client.stats.snapshot().deduplicated_creates == 0


def test_first_attempt_conflict_is_never_deduplicated(api: FakeApi, client: ClusterClient) -> None:
    api.pods["p6"] = pod("p6")  # ours, but our create was never retried: a real duplicate
    with pytest.raises(ApiError) as info:
        client.create(pod("p6"))
    assert info.value.is_already_exists
    assert api.count("GET", PODS + "/p6") == 0


def test_generate_name_create_is_not_retried_after_a_lost_response(
    api: FakeApi, client: ClusterClient
) -> None:
    api.script[("POST", PODS)] = [Action(drop=True)]
    with pytest.raises(ClusterUnreachableError) as info:
        client.create(pod("gen-", generate=True))
    assert api.count("POST", PODS) == 1
    assert (
        str(info.value) == f"cannot reach the cluster at {api.url}: connection closed by the server"
    )


def test_401_and_403_messages(api: FakeApi, tmp_path: Path) -> None:
    bad = resolve_target(str(write_kubeconfig(tmp_path / "k", api.url, "wrong-token")), None, {})
    with ClusterClient(bad, retry=FAST) as c, pytest.raises(ApiError) as info:
        c.server_version()
    assert info.value.status == 401
    assert str(info.value) == "the cluster rejected the credentials (401 Unauthorized)"
    assert "wrong-token" not in repr(info.value)
    good = resolve_target(str(write_kubeconfig(tmp_path / "k2", api.url)), None, {})
    api.script[("GET", "/version")] = [
        Action(403, {}, status(403, "Forbidden", 'nodes is forbidden: User "x" cannot list'))
    ]
    with ClusterClient(good, retry=FAST) as c, pytest.raises(ApiError) as info:
        c.server_version()
    assert str(info.value) == 'forbidden: nodes is forbidden: User "x" cannot list'


def test_unreachable_server(tmp_path: Path) -> None:
    with socket.socket() as s:  # a port nobody listens on
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    target = resolve_target(
        str(write_kubeconfig(tmp_path / "k", f"http://127.0.0.1:{port}")), None, {}
    )
    with ClusterClient(target, retry=RetryPolicy(max_retries=2, base=0.001)) as c:
        with pytest.raises(ClusterUnreachableError) as info:
            c.server_version()
        assert str(info.value) == (
            f"cannot reach the cluster at http://127.0.0.1:{port}: "
            "connection refused (after 2 retries)"
        )
        snap = c.stats.snapshot()
        assert (snap.requests["get"], snap.connection_errors) == (3, 3)


def test_discovery_paths_and_unknown_kind(api: FakeApi, client: ClusterClient) -> None:
    info = client.resource_for("v1", "Pod")
    assert (info.plural, info.namespaced, info.subresources) == (
        "pods",
        True,
        frozenset({"status"}),
    )
    assert client.node_count() == 3
    with pytest.raises(UnknownKindError) as err:
        client.resource_for("v1", "Pdo")
    assert str(err.value) == "unknown kind 'Pdo' in v1; did you mean 'Pod'?"
    with pytest.raises(UnknownKindError) as err:
        client.resource_for("kubevirt.io/v1", "VirtualMachine")
    assert str(err.value) == (
        "unknown kind 'VirtualMachine': apiVersion 'kubevirt.io/v1' is not served"
    )


def test_plain_dicts_in_and_out(api: FakeApi, client: ClusterClient) -> None:
    client.create(pod("a"))
    client.create(pod("b"))
    items = client.list("v1", "Pod", "ns")
    assert [i["metadata"]["name"] for i in items] == ["a", "b"]
    assert all(type(i) is dict and i["kind"] == "Pod" for i in items)
    assert client.get("v1", "Pod", "a", "ns")["metadata"]["uid"] == "uid-a"
    raw = client.raw("GET", "/api/v1/namespaces/ns/pods/b")
    assert json.loads(json.dumps(raw)) == raw
    with pytest.raises(ApiError) as info:
        client.get("v1", "Pod", "zzz", "ns")
    assert info.value.is_not_found and str(info.value) == 'pods "zzz" not found'
