"""Composes the simulated cluster (store, controllers, HTTP API, metrics, faults) and serves it."""

from __future__ import annotations

import asyncio
import contextlib
import hmac
import random
import secrets
import signal
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO, Any, cast

from aiohttp import web

from . import apiserver, controllers, podproxy
from .context import GroundTruth, LatencyProfile, NodeShape, SimContext
from .errors import ApiError
from .faults import FaultConfig, FaultInjector, parse_faults
from .metrics import SimMetrics
from .profiles import load_profile
from .registry import Registry
from .requestinfo import status_response
from .store import Store

ANONYMOUS_PATHS = ("/healthz", "/readyz", "/livez", "/version", "/metrics")
GROUND_TRUTH_FLUSH_SECONDS = 0.2
SHUTDOWN_GRACE_SECONDS = 2.0
MAX_BODY_BYTES = 4 * 1024**2

Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]


@dataclass
class SimConfig:
    """Everything one simulator process is started with."""

    host: str = "127.0.0.1"
    port: int = 0
    nodes: int = 3
    node_shape: NodeShape = field(default_factory=NodeShape)
    profile: str = "fast"
    seed: int | None = None
    ground_truth: str | Path | None = None
    faults: FaultConfig = field(default_factory=FaultConfig)
    token: str = field(default_factory=lambda: secrets.token_urlsafe(24))
    event_buffer: int = 100_000
    event_buffer_bytes: int | None = None  # also bound the watch ring by encoded bytes
    # serve requests without an Authorization header as system:anonymous (kubectl never sends
    # credentials to a plain-http server); a wrong token is still 401
    anonymous_auth: bool = False
    # CustomResourceDefinitions stored before the controllers start (crdload.load_crds)
    crds: list[dict[str, Any]] = field(default_factory=list)

    @classmethod
    def with_faults(cls, specs: str | list[str], **kwargs: Any) -> SimConfig:
        """A config whose faults are parsed from spec strings (ValueError if bad)."""
        return cls(faults=parse_faults(specs), **kwargs)


def _anonymous(path: str) -> bool:
    return any(path == p or path.startswith(p + "/") for p in ANONYMOUS_PATHS)


def make_auth_middleware(
    token: str, anonymous_auth: bool = False
) -> Callable[..., Awaitable[web.StreamResponse]]:
    """Require ``Authorization: Bearer <token>`` except on health, version and metrics paths.

    With ``anonymous_auth`` a request without an Authorization header is served too.
    """
    expected = f"Bearer {token}".encode()

    @web.middleware
    async def auth(request: web.Request, handler: Handler) -> web.StreamResponse:
        if not _anonymous(request.path):
            given = request.headers.get("Authorization", "").encode()
            checked = bool(given) or not anonymous_auth
            if checked and not hmac.compare_digest(given, expected):
                return status_response(ApiError(401, "Unauthorized", "Unauthorized"))
        return await handler(request)

    return auth


class Simulator:
    """One running simulated cluster inside the current event loop."""

    def __init__(self, config: SimConfig) -> None:
        self.config = config
        profile = load_profile(config.profile, config.seed)
        seed = profile.seed if config.seed is None else config.seed
        self.seed = seed
        self.registry = Registry.builtin()
        self.store = Store(self.registry, event_buffer=config.event_buffer, seed=seed)
        self._gt_stream: IO[bytes] | None = None
        if config.ground_truth is not None:
            self._gt_stream = open(config.ground_truth, "ab")  # noqa: SIM115 - closed in stop()
        self.ctx = SimContext(
            store=self.store,
            registry=self.registry,
            profile=cast(LatencyProfile, profile),
            ground_truth=GroundTruth(self._gt_stream),
            rng=random.Random(seed),
            nodes=config.nodes,
            node_shape=config.node_shape,
            watch_cut_seconds=config.faults.watch_cut,
        )
        self.metrics = SimMetrics(self.store, self.ctx.clock)
        self.faults = FaultInjector(
            config.faults, random.Random(f"faults:{seed}"), on_reject=self.metrics.reject
        )
        self.app = web.Application(
            client_max_size=MAX_BODY_BYTES,
            middlewares=[
                make_auth_middleware(config.token, config.anonymous_auth),
                self.metrics.middleware,
                self.faults.middleware,
            ],
        )
        self.metrics.add_routes(self.app)
        podproxy.add_routes(self.app, self.ctx)  # before the API's catch-all routes
        apiserver.setup(
            self.app,
            self.ctx,
            watch_buffer=config.event_buffer,
            watch_buffer_bytes=config.event_buffer_bytes,
        )
        self.runner = web.AppRunner(
            self.app, access_log=None, handle_signals=False, shutdown_timeout=SHUTDOWN_GRACE_SECONDS
        )
        self._site: web.TCPSite | None = None
        self._flusher: asyncio.Task[None] | None = None
        self.port = config.port
        self.url = ""

    async def start(self) -> str:
        """Start controllers and listen; returns the base URL."""
        await self.runner.setup()
        self._store_crds()
        controllers.start(self.ctx)
        await self._listen()
        host, port = self.runner.addresses[0][:2]
        self.port = port
        self.url = f"http://[{host}]:{port}" if ":" in host else f"http://{host}:{port}"
        self._flusher = asyncio.get_running_loop().create_task(self._flush_loop())
        self.faults.schedule_outages(self._unlisten, self._listen)
        return self.url

    def _store_crds(self) -> None:
        crd_rt = self.registry.lookup("apiextensions.k8s.io", "customresourcedefinitions")
        for crd in self.config.crds:
            if self.store.get(crd_rt, None, crd["metadata"]["name"]) is None:
                self.store.create(crd_rt, crd)

    async def _listen(self) -> None:
        self._site = web.TCPSite(self.runner, self.config.host, self.port, reuse_address=True)
        await self._site.start()

    async def _unlisten(self) -> None:
        if self._site is not None:
            await self._site.stop()
            self._site = None

    async def _flush_loop(self) -> None:
        while True:
            await asyncio.sleep(GROUND_TRUTH_FLUSH_SECONDS)
            self.ctx.ground_truth.flush()

    async def stop(self) -> None:
        """Stop accepting, end watches, stop controllers, flush and close the ground truth."""
        self.faults.close()
        await self.runner.cleanup()
        controllers.stop(self.ctx)
        self.ctx.cancel_all()
        if self._flusher is not None:
            self._flusher.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._flusher
        self.ctx.ground_truth.flush()
        if self._gt_stream is not None:
            self._gt_stream.close()


async def run(
    config: SimConfig,
    ready: Callable[[str], None],
    stop: asyncio.Event | None = None,
) -> None:
    """Serve until ``stop`` is set (default: until SIGTERM or SIGINT); ``ready(url)`` once up."""
    loop = asyncio.get_running_loop()
    handled: list[signal.Signals] = []
    if stop is None:
        stop = asyncio.Event()
        for sig in (signal.SIGTERM, signal.SIGINT):
            loop.add_signal_handler(sig, stop.set)
            handled.append(sig)
    sim = Simulator(config)
    try:
        ready(await sim.start())
        await stop.wait()
    finally:
        await sim.stop()
        for sig in handled:
            loop.remove_signal_handler(sig)
