"""Fault injection for the simulated API server: spec parser and aiohttp middleware.

Spec syntax (see docs/simulator.md): faults joined by ``;`` (or given as repeated ``--faults``)::

    error-rate=P[:CODE,CODE...]     fail a fraction P of matching API requests (default code 500)
    rate-limit=QPS[:BURST]          server-side token bucket; above it 429 + adaptive Retry-After
    latency=DURATION                added before every matching API response
    watch-cut=DURATION              every watch stream ends after DURATION
    outage=DURATION@START           connections refused/closed from START to START+DURATION
    outage=DURATION@Ncreates        the same, starting when the N-th create has been answered
    verbs=V,V... / resources=R,R... qualify the preceding error-rate, rate-limit or latency
"""

from __future__ import annotations

import asyncio
import math
import random
import re
import time
from collections.abc import Awaitable, Callable, Coroutine, Iterable
from dataclasses import dataclass, field
from typing import Any

from aiohttp import web
from aiohttp.typedefs import Middleware

from .errors import ApiError, too_many_requests
from .flowcontrol import DroppedRequestsTracker, TokenBucket
from .requestinfo import RequestInfo, request_info, status_response

VERBS = ("get", "list", "watch", "create", "update", "patch", "delete", "deletecollection")
REASONS = {
    400: "BadRequest", 403: "Forbidden", 404: "NotFound", 409: "Conflict", 410: "Expired",
    422: "Invalid", 429: "TooManyRequests", 500: "InternalError", 503: "ServiceUnavailable",
    504: "Timeout",
}  # fmt: skip
RETRYABLE = (429, 503, 504)
PRIORITY_LEVEL = "global-default"
FLOW_SCHEMA = "global-default"
_CREATE_GRACE = 0.1  # seconds between the N-th create's answer and a create-triggered outage
_CREATES = re.compile(r"^(\d+)creates$")
_DURATION = re.compile(r"^(\d+(?:\.\d+)?)(ms|s|m|h)?$")
_UNITS = {"ms": 0.001, "s": 1.0, "m": 60.0, "h": 3600.0, None: 1.0}


@dataclass(frozen=True)
class Scope:
    """Which API requests a fault applies to (empty = all)."""

    verbs: frozenset[str] = frozenset()
    resources: frozenset[str] = frozenset()

    def matches(self, info: RequestInfo) -> bool:
        """Whether ``info`` falls in this scope."""
        if self.verbs and info.k8s_verb not in self.verbs:
            return False
        if self.resources:
            qualified = f"{info.resource}.{info.group}" if info.group else info.resource
            return info.resource in self.resources or qualified in self.resources
        return True


@dataclass(frozen=True)
class ErrorRate:
    """Fail ``probability`` of matching requests with one of ``codes``."""

    probability: float
    codes: tuple[int, ...] = (500,)
    scope: Scope = Scope()


@dataclass(frozen=True)
class RateLimit:
    """Server-side token bucket over matching requests."""

    qps: float
    burst: int
    scope: Scope = Scope()


@dataclass(frozen=True)
class Latency:
    """Seconds added before every matching response."""

    seconds: float
    scope: Scope = Scope()


@dataclass(frozen=True)
class Outage:
    """API unreachable for ``duration`` seconds, from ``start`` seconds after the server is up
    or, when ``after_creates`` is set, from the moment that many creates have been answered."""

    start: float
    duration: float
    after_creates: int = 0


@dataclass
class FaultConfig:
    """Every fault the server injects."""

    error_rates: list[ErrorRate] = field(default_factory=list)
    rate_limit: RateLimit | None = None
    latencies: list[Latency] = field(default_factory=list)
    watch_cut: float | None = None
    outages: list[Outage] = field(default_factory=list)

    @property
    def empty(self) -> bool:
        """True when no fault is configured."""
        return not (
            self.error_rates
            or self.rate_limit
            or self.latencies
            or self.watch_cut is not None
            or self.outages
        )


def parse_duration(text: str) -> float:
    """``200ms``, ``2s``, ``1.5m``, ``1h`` or bare seconds -> seconds."""
    m = _DURATION.match(text.strip())
    if m is None:
        raise ValueError(f"bad duration {text!r} (use e.g. 200ms, 2s, 1m)")
    return float(m.group(1)) * _UNITS[m.group(2)]


def _number(text: str, what: str) -> float:
    try:
        value = float(text)
    except ValueError:
        raise ValueError(f"{what}: {text!r} is not a number") from None
    if not math.isfinite(value):
        raise ValueError(f"{what}: {text!r} is not a finite number")
    return value


def _parse_one(kind: str, value: str, cfg: FaultConfig) -> None:
    part = f"{kind}={value}"
    try:
        if kind == "error-rate":
            prob_text, _, codes_text = value.partition(":")
            prob = _number(prob_text, "probability")
            if not 0.0 <= prob <= 1.0:
                raise ValueError(f"probability {prob} not in [0, 1]")
            codes: tuple[int, ...] = (500,)
            if codes_text:
                codes = tuple(int(c) for c in codes_text.split(","))
                if any(not 400 <= c <= 599 for c in codes):
                    raise ValueError("codes must be between 400 and 599")
            cfg.error_rates.append(ErrorRate(prob, codes))
        elif kind == "rate-limit":
            if cfg.rate_limit is not None:
                raise ValueError("only one rate-limit is allowed")
            qps_text, _, burst_text = value.partition(":")
            qps = _number(qps_text, "qps")
            burst = int(burst_text) if burst_text else max(1, math.ceil(qps))
            if qps <= 0 or burst < 1:
                raise ValueError("qps must be > 0 and burst >= 1")
            cfg.rate_limit = RateLimit(qps, burst)
        elif kind == "latency":
            cfg.latencies.append(Latency(parse_duration(value)))
        elif kind == "watch-cut":
            if cfg.watch_cut is not None:
                raise ValueError("only one watch-cut is allowed")
            cut = parse_duration(value)
            if cut <= 0:
                raise ValueError("duration must be > 0")
            cfg.watch_cut = cut
        elif kind == "outage":
            dur_text, at, start_text = value.partition("@")
            if not at:
                raise ValueError("expected DURATION@START, e.g. 10s@30s")
            duration = parse_duration(dur_text)
            creates = _CREATES.match(start_text.strip())
            if creates is not None:
                count = int(creates.group(1))
                if count < 1:
                    raise ValueError("the create count must be >= 1")
                cfg.outages.append(Outage(0.0, duration, after_creates=count))
            else:
                cfg.outages.append(Outage(parse_duration(start_text), duration))
        else:
            raise ValueError(
                "unknown fault (expected error-rate, rate-limit, latency, watch-cut, outage,"
                " verbs or resources)"
            )
    except ValueError as exc:
        raise ValueError(f"bad fault {part!r}: {exc}") from None


def _qualify(key: str, value: str, cfg: FaultConfig, last: str | None) -> None:
    names = frozenset(v.strip().lower() for v in value.split(",") if v.strip())
    if not names:
        raise ValueError(f"bad fault '{key}={value}': empty list")
    if key == "verbs" and (unknown := sorted(names - set(VERBS))):
        raise ValueError(f"bad fault '{key}={value}': unknown verb {unknown[0]!r}")
    if last == "error-rate":
        er = cfg.error_rates[-1]
        cfg.error_rates[-1] = ErrorRate(er.probability, er.codes, _scoped(er.scope, key, names))
    elif last == "latency":
        lat = cfg.latencies[-1]
        cfg.latencies[-1] = Latency(lat.seconds, _scoped(lat.scope, key, names))
    elif last == "rate-limit" and cfg.rate_limit is not None:
        rl = cfg.rate_limit
        cfg.rate_limit = RateLimit(rl.qps, rl.burst, _scoped(rl.scope, key, names))
    else:
        raise ValueError(
            f"bad fault '{key}={value}': must follow error-rate, rate-limit or latency"
        )


def _scoped(scope: Scope, key: str, names: frozenset[str]) -> Scope:
    if key == "verbs":
        return Scope(names, scope.resources)
    return Scope(scope.verbs, names)


def parse_faults(specs: str | Iterable[str]) -> FaultConfig:
    """Parse one spec string or several (repeated ``--faults``); ValueError names the bad part."""
    cfg = FaultConfig()
    for spec in [specs] if isinstance(specs, str) else specs:
        last: str | None = None
        for raw in spec.split(";"):
            part = raw.strip()
            if not part:
                continue
            key, eq, value = part.partition("=")
            key, value = key.strip().lower(), value.strip()
            if not eq or not value:
                raise ValueError(f"bad fault {part!r}: expected KIND=VALUE")
            if key in ("verbs", "resources"):
                _qualify(key, value, cfg, last)
            else:
                _parse_one(key, value, cfg)
                last = key
    return cfg


def injected_error(code: int) -> ApiError:
    """The Status error returned for an injected ``code``."""
    reason = REASONS.get(code, "InternalError" if code >= 500 else "BadRequest")
    if code == 429:
        return too_many_requests(1)
    err = ApiError(code, reason, f"injected fault: {reason} ({code})")
    if code in RETRYABLE:
        err.details = {"retryAfterSeconds": 1}
        err.headers = {"Retry-After": "1"}
    return err


Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]
RejectHook = Callable[[str, str, str], None]


class FaultInjector:
    """Applies a FaultConfig to API requests (``/api``, ``/apis``); outages to every request."""

    def __init__(
        self,
        cfg: FaultConfig,
        rng: random.Random,
        *,
        on_reject: RejectHook | None = None,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.cfg = cfg
        self.rng = rng
        self.on_reject = on_reject
        self.in_outage = False
        self.tracker = DroppedRequestsTracker()
        self.bucket = (
            TokenBucket(cfg.rate_limit.qps, cfg.rate_limit.burst, clock) if cfg.rate_limit else None
        )
        # id(request) -> (request, its handler task); requests are not hashable
        self._active: dict[int, tuple[web.BaseRequest, asyncio.Task[object] | None]] = {}
        self._timers: list[asyncio.TimerHandle] = []
        self._tasks: set[asyncio.Task[None]] = set()
        self._creates = 0
        self._by_creates = [o for o in cfg.outages if o.after_creates]
        self._pause: Callable[[], Awaitable[None]] | None = None
        self._resume: Callable[[], Awaitable[None]] | None = None

    @web.middleware
    async def middleware(self, request: web.Request, handler: Handler) -> web.StreamResponse:
        """aiohttp middleware injecting the configured faults."""
        if self.in_outage:
            _drop(request, asyncio.current_task())
            raise ConnectionResetError("simulated outage")
        if self.cfg.outages:
            self._active[id(request)] = (request, asyncio.current_task())
        try:
            info = request_info(request)
            if info.api:
                early = await self._before(info)
                if early is not None:
                    return early
            response = await handler(request)
            if self._by_creates and info.k8s_verb == "create" and response.status < 300:
                self._count_create()
            return response
        finally:
            self._active.pop(id(request), None)

    def _count_create(self) -> None:
        self._creates += 1
        for outage in self._by_creates:
            if outage.after_creates == self._creates:
                # a short grace lets the N-th create's response reach its client first
                self._schedule_window(_CREATE_GRACE, outage.duration)

    async def _before(self, info: RequestInfo) -> web.StreamResponse | None:
        cfg = self.cfg
        limit = cfg.rate_limit
        if self.bucket and limit and limit.scope.matches(info) and not self.bucket.take():
            retry = self.tracker.record()
            if self.on_reject is not None:
                self.on_reject(PRIORITY_LEVEL, FLOW_SCHEMA, "concurrency-limit")
            return status_response(too_many_requests(retry))
        delay = sum(lat.seconds for lat in cfg.latencies if lat.scope.matches(info))
        if delay > 0:
            await asyncio.sleep(delay)
        if info.resource:
            for rule in cfg.error_rates:
                if rule.scope.matches(info) and self.rng.random() < rule.probability:
                    return status_response(injected_error(self.rng.choice(rule.codes)))
        return None

    def schedule_outages(
        self, pause: Callable[[], Awaitable[None]], resume: Callable[[], Awaitable[None]]
    ) -> None:
        """Start the outage clock now; ``pause``/``resume`` stop and restart listening."""
        self._pause, self._resume = pause, resume
        for outage in self.cfg.outages:
            if not outage.after_creates:
                self._schedule_window(outage.start, outage.duration)

    def _schedule_window(self, start: float, duration: float) -> None:
        pause, resume = self._pause, self._resume
        if pause is None or resume is None:
            return
        loop = asyncio.get_running_loop()
        self._timers.append(loop.call_later(start, lambda: self._spawn(self._begin(pause))))
        self._timers.append(
            loop.call_later(start + duration, lambda: self._spawn(self._end(resume)))
        )

    def _spawn(self, step: Coroutine[Any, Any, None]) -> None:
        task = asyncio.get_running_loop().create_task(step)
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    async def _begin(self, pause: Callable[[], Awaitable[None]]) -> None:
        self.in_outage = True
        for request, task in list(self._active.values()):
            _drop(request, task)
        await pause()

    async def _end(self, resume: Callable[[], Awaitable[None]]) -> None:
        await resume()
        self.in_outage = False

    def close(self) -> None:
        """Cancel pending outage timers."""
        for timer in self._timers:
            timer.cancel()
        self._timers.clear()


def _drop(request: web.BaseRequest, task: asyncio.Task[object] | None) -> None:
    if request.transport is not None:
        request.transport.abort()
    if task is not None and task is not asyncio.current_task():
        task.cancel()


def make_fault_middleware(
    cfg: FaultConfig, rng: random.Random, on_reject: RejectHook | None = None
) -> Middleware:
    """An aiohttp middleware injecting ``cfg``'s faults with decisions drawn from ``rng``."""
    return FaultInjector(cfg, rng, on_reject=on_reject).middleware
