"""Watch fan-out: a ring buffer of pre-encoded events and chunked NDJSON watch streams."""

from __future__ import annotations

import asyncio
import logging
import math
from collections import deque
from collections.abc import Callable, Mapping

import orjson
from aiohttp import web

from .context import SimContext
from .errors import bad_request, gone
from .resources import ResourceType
from .selectors import parse_field_selector, parse_label_selector
from .store import Event, Obj
from .watchring import Encoder, EventRing, Sel, Views, _Rec, dumps, event_line

__all__ = ["Encoder", "WatchHub", "Watcher", "_Rec", "compile_matcher"]

INITIAL_EVENTS_END = "k8s.io/initial-events-end"
# a busy watch is written at most this often, so a burst of events goes out in one write
FLUSH_INTERVAL = 0.005
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
            self.push(rec.event_line())
            return
        now_ok = match(rec.obj)
        if rec.type != "MODIFIED":
            if now_ok:
                self.push(rec.event_line())
            return
        was_ok = rec.old is not None and match(rec.old)
        if now_ok:
            self.push(rec.event_line() if was_ok else event_line("ADDED", rec.data))
        elif was_ok and rec.old is not None:
            # leaving the selector: previous content with the new resourceVersion
            left = orjson.loads(rec.previous_bytes())
            left["metadata"] = {**left.get("metadata", {}), "resourceVersion": str(rec.rv)}
            self.push(event_line("DELETED", orjson.dumps(left)))


class WatchHub:
    """Subscribes to the store; keeps recent events and streams them to watchers."""

    def __init__(
        self,
        ctx: SimContext,
        *,
        buffer_size: int = 100_000,
        buffer_bytes: int | None = None,
        bookmark_period: float = 10.0,
        queue_size: int = 20_000,
        flush_interval: float = FLUSH_INTERVAL,
    ) -> None:
        self.ctx = ctx
        self.encoder = Encoder()
        self.views = Views()
        self.bookmark_period = bookmark_period
        self.queue_size = queue_size
        self.flush_interval = flush_interval
        self._ring = EventRing(buffer_size, buffer_bytes, ctx.store.rv)
        self._watchers: dict[str, set[Watcher]] = {}
        ctx.store.subscribe(self._on_event)
        ctx.store.encoded = self.encoder.cached_bytes  # lets mutate copy without encoding

    @property
    def floor(self) -> int:
        """Events with a resourceVersion above this one can still be replayed."""
        return self._ring.floor

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
        obj, old, rt, kind = ev.obj, ev.old, ev.rt, ev.type
        enc, views = self.encoder, self.views
        old_data: bytes | None = None
        old_sel: Sel | None = None
        if kind == "MODIFIED" and old is not None:
            hit = enc.cached(old)  # before the new version replaces it
            if hit is not None:
                old_data, old_sel = hit
            if old_data is None:
                old_data = dumps(old)
            if old_sel is None:
                old_sel = views.compact(rt, old)
        sel = views.compact(rt, obj)
        data = dumps(obj)
        if kind == "DELETED":
            enc.forget(obj)
        else:
            enc.remember(obj, data, sel)
        ns = (obj.get("metadata") or {}).get("namespace")
        rec = _Rec(ev.rv, rt.key, ns, kind, obj, old, data, event_line(kind, data), old_data)
        for w in self._watchers.get(rec.key, ()):
            w.offer(rec)
        # the ring keeps bytes and selector fields only, never the object dicts
        self._ring.append(_Rec(ev.rv, rec.key, ns, kind, sel, old_sel, data, None, old_data))

    def _replay(self, rt: ResourceType, w: Watcher, start_rv: int) -> None:
        views = self.views
        for rec in self._ring.since(start_rv):
            if rec.key != w.key:
                continue
            if w.match is not None and (w.namespace is None or rec.namespace == w.namespace):
                rec = _Rec(
                    rec.rv,
                    rec.key,
                    rec.namespace,
                    rec.type,
                    views.expand(rt, rec.namespace, rec.obj),
                    None if rec.old is None else views.expand(rt, rec.namespace, rec.old),
                    rec.data,
                    None,
                    rec.old_data,
                )
            w.offer(rec)

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
                head.append(event_line("ADDED", self.encoder.encode(obj)))
            if send_initial:
                head.append(self.bookmark(rt, initial_end=True))
        elif start_rv is not None and start_rv < self.floor:
            err = gone(f"too old resource version: {start_rv} ({self.floor})")
            expired = orjson.dumps({"type": "ERROR", "object": err.status()}) + b"\n"
        elif start_rv is not None:
            # the replay is bounded by the ring; only live events count against the queue
            w.maxlen = len(self._ring) + 1
            self._replay(rt, w, start_rv)
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
        interval = self.flush_interval
        flushed = -math.inf
        while not w.overflow:
            now = loop.time()
            # read on every turn: fault injection may switch the cut on or off at any time
            cut = self.ctx.watch_cut_seconds
            cut_at = started + cut if cut is not None else math.inf
            if now >= cut_at:
                break
            if w.lines:
                wait = min(flushed + interval, deadline, cut_at) - now
                if wait > 0:
                    # written moments ago: let a burst gather into one write
                    await asyncio.sleep(wait)
                    continue
                await _flush_lines(resp, w)
                flushed = now = loop.time()
                if now < deadline:
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
