"""``/metrics`` of the simulated cluster: apiserver request metrics, state gauges, fake pprof."""

from __future__ import annotations

import asyncio
import gzip
import time
from collections.abc import Awaitable, Callable
from typing import Any

import prometheus_client
from aiohttp import web
from prometheus_client import CollectorRegistry, Counter, Histogram, ProcessCollector

from .errors import ApiError
from .requestinfo import RequestInfo, request_info, status_response
from .statemetrics import StateMetrics
from .store import Store

APISERVER = "kube-apiserver"
REQUEST_BUCKETS = (
    0.005, 0.025, 0.05, 0.1, 0.2, 0.4, 0.6, 0.8, 1.0, 1.25, 1.5, 2.0, 3.0, 4.0, 5.0, 6.0,
    8.0, 10.0, 15.0, 20.0, 30.0, 45.0, 60.0,
)  # fmt: skip
POD_START_BUCKETS = (
    0.5, 1, 2, 3, 4, 5, 6, 8, 10, 20, 30, 45, 60, 120, 180, 240, 300, 360, 480, 600, 900,
    1200, 1800, 2700, 3600,
)  # fmt: skip
VMI_PHASE_BUCKETS = (
    0.5, 1, 2, 5, 10, 20, 30, 40, 50, 60, 90, 120, 180, 300, 600, 1200, 1800, 3600,
)  # fmt: skip
REQUEST_LABELS = (
    "verb", "dry_run", "group", "version", "resource", "subresource", "scope", "component",
    "apiserver",
)  # fmt: skip
CONTENT_TYPE = "text/plain; version=0.0.4; charset=utf-8"

Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]


class SimMetrics:
    """The simulator's own CollectorRegistry plus the store-derived state metrics."""

    def __init__(self, store: Store | None = None, clock: Callable[[], float] = time.time) -> None:
        prometheus_client.disable_created_metrics()  # type: ignore[no-untyped-call]
        self.registry = CollectorRegistry(auto_describe=False)
        reg = self.registry
        self.requests = Counter(
            "apiserver_request_total",
            "Counter of apiserver requests broken out for each verb, dry run value, group,"
            " version, resource, scope, component, and HTTP response code.",
            (*REQUEST_LABELS, "code"),
            registry=reg,
        )
        self.durations = Histogram(
            "apiserver_request_duration_seconds",
            "Response latency distribution in seconds for each verb, dry run value, group,"
            " version, resource, subresource, scope and component.",
            REQUEST_LABELS,
            buckets=REQUEST_BUCKETS,
            registry=reg,
        )
        self.inflight_now = {"readOnly": 0, "mutating": 0}  # rendered at scrape time
        self._children: dict[tuple[tuple[str, ...], int], tuple[Any, Any]] = {}
        self.rejected = Counter(
            "apiserver_flowcontrol_rejected_requests_total",
            "Number of requests rejected by API Priority and Fairness subsystem",
            ("priority_level", "flow_schema", "reason", "apiserver"),
            registry=reg,
        )
        self.pod_start = Histogram(
            "kubelet_pod_start_duration_seconds",
            "Duration in seconds from kubelet seeing a pod for the first time to the pod"
            " starting to run",
            ("node", "job", "service"),
            buckets=POD_START_BUCKETS,
            registry=reg,
        )
        self.vmi_from_creation = Histogram(
            "kubevirt_vmi_phase_transition_time_from_creation_seconds",
            "Histogram of VM phase transitions duration from creation time in seconds.",
            ("phase",),
            buckets=VMI_PHASE_BUCKETS,
            registry=reg,
        )
        self.vmi_from_deletion = Histogram(
            "kubevirt_vmi_phase_transition_time_from_deletion_seconds",
            "Histogram of VM phase transitions duration from deletion time in seconds.",
            ("phase",),
            buckets=VMI_PHASE_BUCKETS,
            registry=reg,
        )
        ProcessCollector(registry=reg)
        self.state = StateMetrics(self, clock)
        if store is not None:
            self.state.attach(store)

    def reject(self, priority_level: str, flow_schema: str, reason: str) -> None:
        """Count one request rejected by (simulated) API Priority and Fairness."""
        self.rejected.labels(priority_level, flow_schema, reason, APISERVER).inc()

    def observe_pod_start(self, node: str, seconds: float) -> None:
        """A pod on ``node`` became Running ``seconds`` after it was created."""
        self.pod_start.labels(node, "kubelet", "kubelet").observe(seconds)

    def observe_vmi_phase(self, phase: str, seconds: float, *, deletion: bool = False) -> None:
        """A VMI reached ``phase`` ``seconds`` after its creation (or deletion)."""
        hist = self.vmi_from_deletion if deletion else self.vmi_from_creation
        hist.labels(phase).observe(seconds)

    def render(self) -> bytes:
        """The whole exposition in Prometheus text format 0.0.4."""
        text = self._inflight_samples() + self.state.render()
        return prometheus_client.generate_latest(self.registry) + text.encode()

    @web.middleware
    async def middleware(self, request: web.Request, handler: Handler) -> web.StreamResponse:
        """Record apiserver_request_total, _duration_seconds and inflight for every request."""
        info = request_info(request)
        kind = "" if info.long_running else "mutating" if info.mutating else "readOnly"
        inflight = self.inflight_now
        if kind:
            inflight[kind] += 1
        start = time.perf_counter()
        code = 0
        try:
            try:
                resp = await handler(request)
            except ApiError as err:
                resp = status_response(err)
            code = resp.status
            return resp
        except web.HTTPException as exc:
            code = exc.status
            raise
        except (ConnectionError, asyncio.CancelledError):
            code = 200 if info.long_running else 0
            raise
        except Exception:
            code = 500
            raise
        finally:
            if kind:
                inflight[kind] -= 1
            if code:
                self._record(request, info, code, time.perf_counter() - start)

    def _record(self, request: web.Request, info: RequestInfo, code: int, elapsed: float) -> None:
        if info.api:
            labels = (
                info.verb, info.dry_run, info.group, info.version, info.resource,
                info.subresource, info.scope, "apiserver", APISERVER,
            )  # fmt: skip
        else:
            sub = request.path if code != 404 else ""
            labels = (info.verb, "", "", "", "", sub, "", "", APISERVER)
        key = (labels, code)
        children = self._children.get(key)
        if children is None:  # labels() validates and locks: do it once per series
            children = self._children[key] = (
                self.requests.labels(*labels, str(code)),
                self.durations.labels(*labels),
            )
        children[0].inc()
        children[1].observe(elapsed)

    def _inflight_samples(self) -> str:
        name = "apiserver_current_inflight_requests"
        return (
            f"# HELP {name} Maximal number of currently used inflight request limit of this"
            f" apiserver per request kind in last second.\n# TYPE {name} gauge\n"
            + "".join(
                f'{name}{{request_kind="{kind}",apiserver="{APISERVER}"}} {value}\n'
                for kind, value in sorted(self.inflight_now.items())
            )
        )

    async def handle_metrics(self, request: web.Request) -> web.Response:
        """GET /metrics."""
        return web.Response(body=self.render(), headers={"Content-Type": CONTENT_TYPE})

    def add_routes(self, app: web.Application) -> None:
        """Serve /metrics and /debug/pprof/ on ``app``."""
        app.router.add_get("/metrics", self.handle_metrics)
        app.router.add_get("/debug/pprof/", pprof_index)
        app.router.add_get("/debug/pprof/{name}", pprof_profile)


def _varint(n: int) -> bytes:
    out = bytearray()
    while True:
        byte, n = n & 0x7F, n >> 7
        out.append(byte | (0x80 if n else 0))
        if not n:
            return bytes(out)


def _field(num: int, payload: bytes) -> bytes:
    return _varint(num << 3 | 2) + _varint(len(payload)) + payload


def fake_pprof(sample_type: str, unit: str, duration_seconds: float = 0.0) -> bytes:
    """A gzipped, valid but empty pprof ``Profile`` protobuf with one sample type."""
    strings = ["", sample_type, unit]
    value_type = _varint(1 << 3) + _varint(1) + _varint(2 << 3) + _varint(2)
    body = _field(1, value_type)
    body += b"".join(_field(6, s.encode()) for s in strings)
    body += _varint(9 << 3) + _varint(time.time_ns())
    body += _varint(10 << 3) + _varint(int(duration_seconds * 1e9))
    return gzip.compress(body, mtime=0)


PPROF_TYPES = {
    "heap": ("inuse_space", "bytes"),
    "allocs": ("alloc_space", "bytes"),
    "profile": ("cpu", "nanoseconds"),
    "goroutine": ("goroutine", "count"),
    "block": ("contentions", "count"),
    "mutex": ("contentions", "count"),
    "threadcreate": ("threadcreate", "count"),
}


async def pprof_index(request: web.Request) -> web.Response:
    """GET /debug/pprof/: the list of (fake) profiles."""
    links = "".join(f'<a href="{name}?debug=0">{name}</a><br>\n' for name in PPROF_TYPES)
    return web.Response(text=f"<html><body>{links}</body></html>", content_type="text/html")


async def pprof_profile(request: web.Request) -> web.Response:
    """GET /debug/pprof/{name}: a small valid gzipped pprof body (no real data)."""
    name = request.match_info["name"]
    if name not in PPROF_TYPES:
        return web.Response(status=404, text="Unknown profile\n")
    seconds = 0.0
    if name == "profile":
        try:
            seconds = min(max(float(request.query.get("seconds", "30")), 0.0), 60.0)
        except ValueError:
            return web.Response(status=400, text="Bad Request: invalid seconds\n")
        await asyncio.sleep(seconds)
    body = fake_pprof(*PPROF_TYPES[name], seconds)
    return web.Response(body=body, content_type="application/octet-stream")
