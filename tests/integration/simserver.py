"""Test helper: run the simulated API server in a background thread and write a kubeconfig."""

from __future__ import annotations

import asyncio
import random
import threading
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml
from aiohttp import web

from pytest_kubevirt_burner.sim import apiserver
from pytest_kubevirt_burner.sim.context import GroundTruth, SimContext
from pytest_kubevirt_burner.sim.controllers import crd
from pytest_kubevirt_burner.sim.registry import Registry
from pytest_kubevirt_burner.sim.store import Store

TOKEN = "sim-test-token"


class FixedProfile:
    """Every transition takes the same time."""

    name = "fixed"

    def __init__(self, seconds: float = 0.05) -> None:
        self.seconds = seconds

    def sample(self, transition: str, rng: random.Random) -> float:
        return self.seconds


@dataclass
class SimServer:
    """A running simulator: its URL, kubeconfig, context and loop."""

    url: str
    kubeconfig: Path
    ctx: SimContext
    loop: asyncio.AbstractEventLoop
    thread: threading.Thread
    runner: web.AppRunner

    def call(self, fn: Callable[[], Any]) -> Any:
        """Run ``fn`` on the server's loop and return its result."""

        async def run() -> Any:
            return fn()

        return asyncio.run_coroutine_threadsafe(run(), self.loop).result(10)

    def stop(self) -> None:
        """Stop the server and its thread."""
        fut = asyncio.run_coroutine_threadsafe(self.runner.cleanup(), self.loop)
        try:
            fut.result(15)
        finally:
            self.loop.call_soon_threadsafe(self.loop.stop)
            self.thread.join(15)


def write_kubeconfig(path: Path, url: str) -> Path:
    """A plain-http kubeconfig with a bearer token."""
    cfg = {
        "apiVersion": "v1",
        "kind": "Config",
        "clusters": [{"name": "sim", "cluster": {"server": url}}],
        "users": [{"name": "sim", "user": {"token": TOKEN}}],
        "contexts": [
            {"name": "sim", "context": {"cluster": "sim", "user": "sim", "namespace": "default"}}
        ],
        "current-context": "sim",
    }
    path.write_text(yaml.safe_dump(cfg))
    return path


def start(tmp_dir: Path, store_kw: dict[str, Any] | None = None, **setup_kw: Any) -> SimServer:
    """Start a simulator on 127.0.0.1:0 in a thread; ``setup_kw`` goes to ``apiserver.setup``."""
    store_kw = store_kw or {}
    loop = asyncio.new_event_loop()
    ready: dict[str, Any] = {}
    started = threading.Event()

    async def boot() -> None:
        registry = Registry.builtin()
        store = Store(registry, **store_kw)
        ctx = SimContext(
            store=store,
            registry=registry,
            profile=FixedProfile(),
            ground_truth=GroundTruth(None),
            rng=random.Random(1),
        )
        app = web.Application()
        apiserver.setup(app, ctx, **setup_kw)
        crd.register(ctx)
        runner = web.AppRunner(app, shutdown_timeout=2)
        await runner.setup()
        site = web.TCPSite(runner, "127.0.0.1", 0)
        await site.start()
        port = runner.addresses[0][1]
        ready.update(ctx=ctx, runner=runner, url=f"http://127.0.0.1:{port}")

    def main() -> None:
        asyncio.set_event_loop(loop)
        try:
            loop.run_until_complete(boot())
        except BaseException as exc:
            ready["error"] = exc
            started.set()
            return
        started.set()
        loop.run_forever()
        loop.run_until_complete(loop.shutdown_asyncgens())
        loop.close()

    thread = threading.Thread(target=main, name="sim-apiserver", daemon=True)
    thread.start()
    started.wait(30)
    if "error" in ready:
        raise ready["error"]
    url = ready["url"]
    kubeconfig = write_kubeconfig(tmp_dir / "kubeconfig", url)
    return SimServer(url, kubeconfig, ready["ctx"], loop, thread, ready["runner"])


def running(tmp_dir: Path, **setup_kw: Any) -> Iterator[SimServer]:
    """Generator for fixtures: start, yield, always stop."""
    server = start(tmp_dir, **setup_kw)
    try:
        yield server
    finally:
        server.stop()
