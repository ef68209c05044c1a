"""A reverse proxy that loses the response of some create requests after the server stored the
object: the client sees its connection closed and cannot know whether the create happened."""

from __future__ import annotations

import asyncio
import random
import threading
from pathlib import Path
from types import TracebackType

import aiohttp
import yaml
from aiohttp import web

HOP = {"host", "connection", "keep-alive", "transfer-encoding", "content-length"}


class LossyProxy:
    """Forwards to ``upstream``; drops the response of a fraction ``loss`` of POSTs."""

    def __init__(self, upstream: str, loss: float, seed: int = 1) -> None:
        self.upstream = upstream.rstrip("/")
        self.loss = loss
        self.rng = random.Random(seed)
        self.dropped = 0
        self.url = ""
        self._loop = asyncio.new_event_loop()
        self._thread = threading.Thread(target=self._loop.run_forever, daemon=True)
        self._runner: web.AppRunner | None = None
        self._session: aiohttp.ClientSession | None = None

    async def _start(self) -> str:
        self._session = aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=None))
        app = web.Application()
        app.router.add_route("*", "/{tail:.*}", self._handle)
        self._runner = web.AppRunner(app, handle_signals=False, access_log=None)
        await self._runner.setup()
        site = web.TCPSite(self._runner, "127.0.0.1", 0)
        await site.start()
        port = self._runner.addresses[0][1]
        return f"http://127.0.0.1:{port}"

    async def _handle(self, request: web.Request) -> web.StreamResponse:
        assert self._session is not None
        body = await request.read()
        headers = {k: v for k, v in request.headers.items() if k.lower() not in HOP}
        async with self._session.request(
            request.method, self.upstream + request.path_qs, headers=headers, data=body or None
        ) as up:
            if request.method == "POST" and self.rng.random() < self.loss:
                await up.read()  # the server has answered: the object exists now
                self.dropped += 1
                if request.transport is not None:
                    request.transport.abort()
                return web.Response(status=502)
            resp = web.StreamResponse(
                status=up.status,
                headers={k: v for k, v in up.headers.items() if k.lower() not in HOP},
            )
            await resp.prepare(request)
            async for chunk in up.content.iter_any():
                await resp.write(chunk)
            await resp.write_eof()
            return resp

    def start(self) -> LossyProxy:
        """Serve on 127.0.0.1 (a free port) from a daemon thread."""
        self._thread.start()
        self.url = asyncio.run_coroutine_threadsafe(self._start(), self._loop).result(10)
        return self

    def stop(self) -> None:
        """Stop serving and close the loop's thread."""

        async def _stop() -> None:
            if self._runner is not None:
                await self._runner.cleanup()
            if self._session is not None:
                await self._session.close()

        asyncio.run_coroutine_threadsafe(_stop(), self._loop).result(10)
        self._loop.call_soon_threadsafe(self._loop.stop)
        self._thread.join(10)

    def kubeconfig(self, original: Path, target: Path) -> Path:
        """A copy of ``original`` pointing at the proxy."""
        data = yaml.safe_load(original.read_text())
        for cluster in data["clusters"]:
            cluster["cluster"]["server"] = self.url
        target.write_text(yaml.safe_dump(data))
        return target

    def __enter__(self) -> LossyProxy:
        return self.start()

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stop()
