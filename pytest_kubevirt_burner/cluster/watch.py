"""ResilientWatch: list+watch of one resource that survives cut streams and expired versions.

The watch streams raw NDJSON itself (one daemon thread per watch) instead of using
``kubernetes.watch.Watch``, whose ``deserialize=False`` mode neither tracks resourceVersions nor
handles 410 correctly. Protocol: a paged LIST (synthetic ADDED events), then a watch from the
list's resourceVersion with bookmarks; after a clean close or a connection error it resumes from
the last seen resourceVersion; on 410 Expired it relists and emits only the real differences
against its cache of uid -> resourceVersion, so consumers never see a duplicate or miss a delete.
"""

from __future__ import annotations

import contextlib
import http.client
import logging
import queue
import random
import sys
import threading
import time
from collections.abc import Callable, Iterator
from typing import Any, NamedTuple

import orjson
import urllib3
from urllib3 import exceptions as u3

from .client import ClusterClient
from .errors import ApiError, ClusterError
from .ratelimit import TokenBucket
from .rxstream import BodyPump, StampedBody
from .stats import StatsSink
from .transport import Query, RetryPolicy

log = logging.getLogger(__name__)

Obj = dict[str, Any]


class WatchEvent(NamedTuple):
    """One event as delivered to consumers, stamped when its bytes were received."""

    type: str
    """ADDED, MODIFIED or DELETED."""
    obj: Obj
    received_at_ns: int
    """Wall clock (time.time_ns) at receipt."""
    received_monotonic_ns: int
    """time.monotonic_ns at receipt (for intervals)."""
    synthetic: bool = False
    """True when made from a LIST (initial list or relist diff), not from the watch stream."""


class _Expired(Exception):
    """The resourceVersion we watch from is too old: relist."""


# (resourceVersion, namespace, name, stripped object or None). A decimal resourceVersion is kept
# as an int and namespaces are interned: tens of thousands of entries per watch add up.
_Entry = tuple[int | str, str, str, Obj | None]
_STREAM_ERRORS = (u3.HTTPError, OSError, http.client.HTTPException, ValueError)
_NO_RETRY = RetryPolicy(max_retries=0)


def _compact_rv(rv: str) -> int | str:
    """``rv`` as an int when that round-trips exactly, else the string itself."""
    if rv.isascii() and rv.isdigit() and (rv == "0" or rv[0] != "0"):
        return int(rv)
    return rv


def _shared_uid(obj: Obj) -> str:
    """The object's uid, interned and put back into the object.

    Every consumer that keeps a uid (the watch cache, readiness, each latency recorder) then
    holds one string per object instead of a copy decoded from each event.
    """
    meta = _meta(obj)
    uid = sys.intern(str(meta.get("uid", "")))
    if "uid" in meta:
        meta["uid"] = uid
    return uid


def _meta(obj: Obj) -> Obj:
    meta = obj.get("metadata")
    return meta if isinstance(meta, dict) else {}


class ResilientWatch:
    """List+watch one resource in a daemon thread; events go to ``on_event`` or an iterator."""

    def __init__(
        self,
        client: ClusterClient,
        api_version: str,
        kind: str,
        namespace: str | None = None,
        label_selector: str | None = None,
        field_selector: str | None = None,
        *,
        on_event: Callable[[WatchEvent], None] | None = None,
        strip: Callable[[Obj], Obj] | None = None,
        limiter: TokenBucket | None = None,
        stats: StatsSink | None = None,
        page_size: int = 500,
        timeout_seconds: int | None = None,
        backoff: RetryPolicy | None = None,
    ) -> None:
        self.client = client
        self.info = client.resource_for(api_version, kind)
        self.namespace = namespace if self.info.namespaced else None
        self.label_selector = label_selector
        self.field_selector = field_selector
        self._on_event = on_event
        self._strip = strip
        # A budget of its own: watches and relists never take tokens meant for creates.
        self._limiter = limiter if limiter is not None else TokenBucket.unlimited()
        self._stats = stats
        self._page_size = page_size
        self._timeout_seconds = timeout_seconds
        self._backoff = backoff or RetryPolicy(max_retries=0, base=0.1, cap=10.0)
        self._queue: queue.SimpleQueue[WatchEvent | None] = queue.SimpleQueue()
        self._cache: dict[str, _Entry] = {}
        self._stop = threading.Event()
        self._lock = threading.Lock()
        self._resp: urllib3.BaseHTTPResponse | None = None
        self._thread: threading.Thread | None = None
        self.synced = threading.Event()
        """Set once the initial list has been delivered."""
        self.resource_version = ""
        self.events = 0
        self.reconnects = 0
        self.relists = 0
        self.bookmarks = 0
        self.errors = 0
        self.last_error: BaseException | None = None
        self.failing = False
        """True from a failed list/watch attempt until the next one succeeds."""
        self.kernel_stamps = False
        """Whether the current stream's events carry the kernel's receive time (plain HTTP)."""

    def __repr__(self) -> str:
        where = self.namespace or "all namespaces"
        return f"ResilientWatch({self.info.api_version} {self.info.kind}, {where})"

    # -- lifecycle ----------------------------------------------------------------------------

    def start(self) -> ResilientWatch:
        """Start the watch thread (returns self).

        A stopped watch may be started again: it keeps its cache and resumes from the last
        resourceVersion it saw (relisting, with only the differences, if that is too old).
        """
        if self._thread is not None and self._thread.is_alive():
            raise RuntimeError("watch already running")
        self._stop.clear()
        name = f"watch-{self.info.plural}"
        self._thread = threading.Thread(target=self._run, name=name, daemon=True)
        self._thread.start()
        return self

    def stop(self, timeout: float = 5.0) -> None:
        """Stop promptly: close the stream's socket and join the thread."""
        self._stop.set()
        with self._lock:
            resp = self._resp
        if resp is not None:
            with contextlib.suppress(ValueError, RuntimeError, OSError):
                resp.shutdown()
        if self._thread is not None and self._thread is not threading.current_thread():
            self._thread.join(timeout)

    def __enter__(self) -> ResilientWatch:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    def wait_synced(self, timeout: float | None = None) -> bool:
        """Block until the initial list is delivered; False on timeout."""
        return self.synced.wait(timeout)

    @property
    def size(self) -> int:
        """Objects currently known to the watch."""
        return len(self._cache)

    def __iter__(self) -> Iterator[WatchEvent]:
        """Events in order until the watch stops (only without ``on_event``)."""
        while True:
            event = self._queue.get()
            if event is None:
                return
            yield event

    def get(self, timeout: float | None = None) -> WatchEvent | None:
        """Next event, or None on timeout or after stop."""
        try:
            return self._queue.get(timeout=timeout)
        except queue.Empty:
            return None

    # -- event delivery -----------------------------------------------------------------------

    def _emit(self, event: WatchEvent) -> None:
        self.events += 1
        if self._on_event is None:
            self._queue.put(event)
            return
        try:
            self._on_event(event)
        except Exception:
            log.exception("%r: event callback failed", self)

    def _entry(self, obj: Obj) -> _Entry:
        meta = _meta(obj)
        kept = self._strip(obj) if self._strip is not None else None
        return (
            _compact_rv(str(meta.get("resourceVersion", ""))),
            sys.intern(str(meta.get("namespace", ""))),
            str(meta.get("name", "")),
            kept,
        )

    def _deleted_obj(self, uid: str, entry: _Entry) -> Obj:
        if entry[3] is not None:
            return entry[3]
        meta: Obj = {"uid": uid, "name": entry[2], "resourceVersion": str(entry[0])}
        if entry[1]:
            meta["namespace"] = entry[1]
        return {"apiVersion": self.info.api_version, "kind": self.info.kind, "metadata": meta}

    # -- list ---------------------------------------------------------------------------------

    def _relist(self) -> None:
        seen: set[str] = set()
        rv = ""
        for page, page_rv in self.client.iter_pages(
            self.info.api_version,
            self.info.kind,
            self.namespace,
            self.label_selector,
            self.field_selector,
            self._page_size,
            limiter=self._limiter,
            stats=self._stats,
        ):
            rv = page_rv
            wall, mono = time.time_ns(), time.monotonic_ns()
            for obj in page:
                uid = _shared_uid(obj)
                seen.add(uid)
                old = self._cache.get(uid)
                entry = self._entry(obj)
                self._cache[uid] = entry
                if old is None:
                    self._emit(WatchEvent("ADDED", obj, wall, mono, True))
                elif old[0] != entry[0]:
                    self._emit(WatchEvent("MODIFIED", obj, wall, mono, True))
        wall, mono = time.time_ns(), time.monotonic_ns()
        for uid in [u for u in self._cache if u not in seen]:
            entry = self._cache.pop(uid)
            self._emit(WatchEvent("DELETED", self._deleted_obj(uid, entry), wall, mono, True))
        self.resource_version = rv

    # -- watch --------------------------------------------------------------------------------

    def _query(self) -> tuple[Query, float]:
        # Like client-go's reflector: a server-side timeout of 5-10 minutes, randomised.
        seconds = self._timeout_seconds or int(300 * (1 + random.random()))
        query: Query = [
            ("watch", "true"),
            ("resourceVersion", self.resource_version),
            ("allowWatchBookmarks", "true"),
            ("timeoutSeconds", str(seconds)),
        ]
        if self.label_selector:
            query.append(("labelSelector", self.label_selector))
        if self.field_selector:
            query.append(("fieldSelector", self.field_selector))
        return query, seconds + 30.0

    def _watch_once(self) -> None:
        query, read_timeout = self._query()
        path = self.info.path(self.namespace)
        resp = self.client.open_stream(
            path,
            query,
            read_timeout=read_timeout,
            limiter=self._limiter,
            stats=self._stats,
            retry=_NO_RETRY,  # the watch loop backs off itself, and stop() interrupts that
        )
        self.failing = False
        with self._lock:
            self._resp = resp
        clean = False
        pump: BodyPump | None = None
        try:
            # Each piece of the body comes with the time its bytes arrived (kernel receive
            # timestamps on plain HTTP) and is read on a thread of its own, so the time spent
            # below decoding and dispatching earlier lines, or waiting for the GIL, never delays
            # the stamps of later ones.
            body = StampedBody(resp)
            self.kernel_stamps = body.kernel_stamps
            pump = BodyPump(body, f"watch-{self.info.plural}-reader")
            pending = b""
            # one offset per stream, so the monotonic stamps keep the order of the wall ones
            offset = time.time_ns() - time.monotonic_ns()
            while not self._stop.is_set():
                chunk, wall = pump.read()
                if not chunk:
                    clean = not self._stop.is_set() and body.reusable
                    return
                mono = wall - offset
                lines = (pending + chunk).split(b"\n") if pending else chunk.split(b"\n")
                pending = lines.pop()
                for line in lines:
                    if line.strip() and not self._stop.is_set():
                        self._handle_line(line, wall, mono)
        finally:
            with self._lock:
                self._resp = None
            if pump is not None and pump.running:
                with contextlib.suppress(ValueError, RuntimeError, OSError):
                    resp.shutdown()  # wakes the reading thread; close() alone would not
                pump.close()
            if clean:
                resp.release_conn()  # the server ended the stream: the connection is reusable
            else:
                resp.close()

    def _handle_line(self, line: bytes, wall: int, mono: int) -> None:
        event = orjson.loads(line)
        kind = event.get("type")
        obj = event.get("object")
        if not isinstance(obj, dict):
            raise ClusterError(f"{self!r}: malformed watch event")
        if kind == "ERROR":
            if obj.get("code") == 410:
                raise _Expired()
            raise ApiError.from_status(obj)
        meta = _meta(obj)
        rv = str(meta.get("resourceVersion", ""))
        if kind == "BOOKMARK":
            self.bookmarks += 1
            if rv:
                self.resource_version = rv
            return
        uid = _shared_uid(obj)
        if rv:
            self.resource_version = rv
        if kind == "DELETED":
            if self._cache.pop(uid, None) is None:
                return  # never seen, or already reported by a relist
        elif kind in ("ADDED", "MODIFIED"):
            old = self._cache.get(uid)
            if old is not None and old[0] == _compact_rv(rv):
                return  # replay of a version already delivered
            self._cache[uid] = self._entry(obj)
        else:
            return
        self._emit(WatchEvent(str(kind), obj, wall, mono))

    # -- main loop ----------------------------------------------------------------------------

    def _run(self) -> None:
        need_list = not self.resource_version
        failures = 0
        try:
            while not self._stop.is_set():
                try:
                    if need_list:
                        self._relist()
                        need_list = False
                        self.failing = False
                        self.synced.set()
                    self._watch_once()
                    failures = 0
                except _Expired:
                    self.relists += 1
                    need_list = True
                    continue
                except ApiError as exc:
                    if exc.is_expired:
                        self.relists += 1
                        need_list = True
                        continue
                    failures = self._failed(exc, failures)
                except (ClusterError, *_STREAM_ERRORS) as exc:
                    if self._stop.is_set():
                        break
                    failures = self._failed(exc, failures)
                if not self._stop.is_set():
                    self.reconnects += 1
        except Exception as exc:  # keep the failure visible instead of dying silently
            self.last_error = exc
            log.exception("%r: watch thread failed", self)
        finally:
            self._queue.put(None)

    def _failed(self, exc: BaseException, failures: int) -> int:
        self.errors += 1
        self.last_error = exc
        self.failing = True
        log.debug("%r: %s; retrying", self, exc)
        self._stop.wait(self._backoff.delay(min(failures, 16)))
        return failures + 1
