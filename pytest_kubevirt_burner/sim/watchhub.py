"""Watch fan-out: a ring buffer of pre-encoded events and chunked NDJSON watch streams."""

from __future__ import annotations

import asyncio
import bisect
import logging
import math
from collections import deque
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass

import orjson
from aiohttp import web

from .context import SimContext
from .errors import bad_request, gone
from .resources import ResourceType
from .selectors import parse_field_selector, parse_label_selector
from .store import Event, Obj

_PREFIX = {
    "ADDED": b'{"type":"ADDED","object":',
    "MODIFIED": b'{"type":"MODIFIED","object":',
    "DELETED": b'{"type":"DELETED","object":',
}
_SUFFIX = b"}\n"
INITIAL_EVENTS_END = "k8s.io/initial-events-end"
log = logging.getLogger(__name__)

Matcher = Callable[[Obj], bool]


def compile_matcher(rt: ResourceType, label: str | None, field: str | None) -> Matcher | None:
    """A predicate for the label and field selectors (None when both are empty)."""
    checks: list[Matcher] = []
    if label:
        ls = parse_label_selector(label)
        if not ls.empty():
            checks.append(ls)
    if field:
        fs = parse_field_selector(field, rt.resource, rt.group)
        if not fs.empty():
            checks.append(fs)
    if not checks:
        return None
    if len(checks) == 1:
        return checks[0]
    first, second = checks
    return lambda obj: first(obj) and second(obj)


class Encoder:
    """Serializes each object version once: caches the JSON bytes per uid and resourceVersion."""

    def __init__(self) -> None:
        self._cache: dict[str, tuple[str, bytes]] = {}

    def encode(self, obj: Obj) -> bytes:
        """JSON bytes of ``obj`` (cached while it is the latest known version)."""
        meta = obj.get("metadata") or {}
        uid = meta.get("uid")
        rv = meta.get("resourceVersion", "")
        if not uid:
            return orjson.dumps(obj)
        hit = self._cache.get(uid)
        if hit is not None and hit[0] == rv:
            return hit[1]
        data = orjson.dumps(obj)
        self._cache[uid] = (rv, data)
        return data

    def forget(self, obj: Obj) -> None:
        """Drop the cache entry of a removed object."""
        uid = (obj.get("metadata") or {}).get("uid")
        if uid:
            self._cache.pop(uid, None)


@dataclass(slots=True)
class _Rec:
    rv: int
    key: str
    namespace: str | None
    type: str
    obj: Obj
    old: Obj | None
    data: bytes
    line: bytes


class Watcher:
    """One open watch: a bounded queue of lines the stream writer drains."""

    __slots__ = ("key", "lines", "match", "maxlen", "namespace", "overflow", "wake")

    def __init__(self, key: str, namespace: str | None, match: Matcher | None, maxlen: int):
        self.key = key
        self.namespace = namespace
        self.match = match
        self.maxlen = maxlen
        self.lines: deque[bytes] = deque()
        self.overflow = False
        self.wake = asyncio.Event()

    def push(self, line: bytes) -> None:
        """Queue one line; on overflow mark the watch for closing and drop its backlog."""
        if self.overflow:
            return
        if len(self.lines) >= self.maxlen:
            self.overflow = True
            self.lines.clear()
        else:
            self.lines.append(line)
        self.wake.set()

    def offer(self, rec: _Rec) -> None:
        """Queue ``rec`` if it concerns this watch, applying the selector transition rule."""
        if self.namespace is not None and rec.namespace != self.namespace:
            return
        match = self.match
        if match is None:
            self.push(rec.line)
            return
        now_ok = match(rec.obj)
        if rec.type != "MODIFIED":
            if now_ok:
                self.push(rec.line)
            return
        was_ok = rec.old is not None and match(rec.old)
        if now_ok:
            self.push(rec.line if was_ok else _PREFIX["ADDED"] + rec.data + _SUFFIX)
        elif was_ok and rec.old is not None:
            # leaving the selector: previous content with the new resourceVersion
            left = dict(rec.old)
            left["metadata"] = {**rec.old.get("metadata", {}), "resourceVersion": str(rec.rv)}
            self.push(_PREFIX["DELETED"] + orjson.dumps(left) + _SUFFIX)


class WatchHub:
    """Subscribes to the store; keeps recent events and streams them to watchers."""

    def __init__(
        self,
        ctx: SimContext,
        *,
        buffer_size: int = 100_000,
        bookmark_period: float = 10.0,
        queue_size: int = 20_000,
    ) -> None:
        self.ctx = ctx
        self.encoder = Encoder()
        self.bookmark_period = bookmark_period
        self.queue_size = queue_size
        self._ring: deque[_Rec] = deque(maxlen=max(1, buffer_size))
        # events with rv > floor are all in the ring
        self.floor = ctx.store.rv
        self._watchers: dict[str, set[Watcher]] = {}
        ctx.store.subscribe(self._on_event)

    @property
    def watcher_count(self) -> int:
        """Number of open watches."""
        return sum(len(ws) for ws in self._watchers.values())

    def close_all(self) -> None:
        """End every open watch stream (server shutdown)."""
        for ws in self._watchers.values():
            for w in ws:
                w.overflow = True
                w.wake.set()

    def _on_event(self, ev: Event) -> None:
        data = self.encoder.encode(ev.obj)
        if ev.type == "DELETED":
            self.encoder.forget(ev.obj)
        ns = (ev.obj.get("metadata") or {}).get("namespace")
        line = _PREFIX[ev.type] + data + _SUFFIX
        rec = _Rec(ev.rv, ev.rt.key, ns, ev.type, ev.obj, ev.old, data, line)
        ring = self._ring
        if len(ring) == ring.maxlen:
            self.floor = ring[0].rv
        ring.append(rec)
        for w in self._watchers.get(rec.key, ()):
            w.offer(rec)

    def _since(self, rv: int) -> Iterator[_Rec]:
        ring = self._ring
        start = bisect.bisect_right(ring, rv, key=lambda r: r.rv)
        for i in range(start, len(ring)):
            yield ring[i]

    def bookmark(self, rt: ResourceType, initial_end: bool = False) -> bytes:
        """A BOOKMARK line at the current resourceVersion."""
        meta: dict[str, object] = {"resourceVersion": str(self.ctx.store.rv)}
        if initial_end:
            meta["annotations"] = {INITIAL_EVENTS_END: "true"}
        obj = {"kind": rt.kind, "apiVersion": rt.api_version, "metadata": meta}
        return orjson.dumps({"type": "BOOKMARK", "object": obj}) + b"\n"

    async def serve(
        self,
        request: web.Request,
        rt: ResourceType,
        namespace: str | None,
        q: Mapping[str, str],
    ) -> web.StreamResponse:
        """Answer a ``?watch=true`` request with a chunked stream of events."""
        rv = q.get("resourceVersion", "")
        rv_match = q.get("resourceVersionMatch", "")
        send_initial = _flag(q, "sendInitialEvents")
        bookmarks = _flag(q, "allowWatchBookmarks")
        timeout = _seconds(q.get("timeoutSeconds"))
        if rv_match and rv_match != "NotOlderThan":
            raise bad_request(f"resourceVersionMatch {rv_match!r} is not supported for watch")
        if send_initial and rv_match != "NotOlderThan":
            raise bad_request("sendInitialEvents requires resourceVersionMatch=NotOlderThan")
        start_rv: int | None = None
        if rv not in ("", "0"):
            try:
                start_rv = int(rv)
            except ValueError:
                raise bad_request(f"invalid resource version: {rv}") from None
        label, field = q.get("labelSelector") or None, q.get("fieldSelector") or None
        match = compile_matcher(rt, label, field)
        w = Watcher(rt.key, namespace, match, self.queue_size)
        head: list[bytes] = []
        expired: bytes | None = None
        if send_initial or (start_rv is None and q.get("sendInitialEvents") != "false"):
            for obj in self.ctx.store.list(rt, namespace, label, field):
                head.append(_PREFIX["ADDED"] + self.encoder.encode(obj) + _SUFFIX)
            if send_initial:
                head.append(self.bookmark(rt, initial_end=True))
        elif start_rv is not None and start_rv < self.floor:
            err = gone(f"too old resource version: {start_rv} ({self.floor})")
            expired = orjson.dumps({"type": "ERROR", "object": err.status()}) + b"\n"
        elif start_rv is not None:
            # the replay is bounded by the ring; only live events count against the queue
            w.maxlen = len(self._ring) + 1
            for rec in self._since(start_rv):
                if rec.key == w.key:
                    w.offer(rec)
            head.extend(w.lines)
            w.lines.clear()
            w.maxlen = self.queue_size
        resp = web.StreamResponse(headers={"Content-Type": "application/json"})
        resp.enable_chunked_encoding()
        if expired is not None:
            await resp.prepare(request)
            await resp.write(expired)
            await resp.write_eof()
            return resp
        # register before the first await so that no event falls between snapshot and stream
        self._watchers.setdefault(w.key, set()).add(w)
        try:
            await resp.prepare(request)
            await self._pump(request, resp, rt, w, head, timeout, bookmarks)
        except ConnectionError:
            pass
        except Exception:
            # the response has started: a Status cannot be sent any more, just end the stream
            log.exception("watch stream of %s failed", rt.key)
        finally:
            ws = self._watchers.get(w.key)
            if ws is not None:
                ws.discard(w)
                if not ws:
                    del self._watchers[w.key]
        return resp

    async def _pump(
        self,
        request: web.Request,
        resp: web.StreamResponse,
        rt: ResourceType,
        w: Watcher,
        head: list[bytes],
        timeout: float | None,
        bookmarks: bool,
    ) -> None:
        loop = asyncio.get_running_loop()
        now = loop.time()
        deadline = now + timeout if timeout is not None else math.inf
        started = now
        next_bm = now + self.bookmark_period if bookmarks else math.inf
        if head:
            await resp.write(b"".join(head))
        while not w.overflow:
            now = loop.time()
            # read on every turn: fault injection may switch the cut on or off at any time
            cut = self.ctx.watch_cut_seconds
            cut_at = started + cut if cut is not None else math.inf
            if now >= cut_at:
                break
            if w.lines:
                await _flush_lines(resp, w)
                if loop.time() < deadline:
                    continue
            if loop.time() >= deadline:
                if w.lines:
                    await _flush_lines(resp, w)
                # a bookmark promises every event up to its RV was sent: only when drained
                if bookmarks and not w.lines and not w.overflow:
                    await resp.write(self.bookmark(rt))
                break
            if now >= next_bm:
                await resp.write(self.bookmark(rt))
                next_bm = now + self.bookmark_period
                continue
            transport = request.transport
            if transport is None or transport.is_closing():
                return
            w.wake.clear()
            try:
                async with asyncio.timeout(min(deadline, cut_at, next_bm, now + 5.0) - now):
                    await w.wake.wait()
            except TimeoutError:
                pass
        await resp.write_eof()


async def _flush_lines(resp: web.StreamResponse, w: Watcher) -> None:
    data = b"".join(w.lines)
    w.lines.clear()
    await resp.write(data)


def _flag(q: Mapping[str, str], name: str) -> bool:
    return q.get(name, "").lower() in ("1", "true")


def _seconds(raw: str | None) -> float | None:
    if raw is None or raw == "":
        return None
    try:
        value = int(raw)
    except ValueError:
        raise bad_request(f"invalid timeoutSeconds: {raw}") from None
    return float(value) if value > 0 else None
