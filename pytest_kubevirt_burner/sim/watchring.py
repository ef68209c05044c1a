"""Recent watch events for resuming watches: encoded bytes plus the few selector-relevant fields.

The ring never holds object dicts: each record keeps the JSON bytes of the object version (shared
with the encoder's cache while it is the latest version), the bytes of the previous version (for
the DELETED a watch gets when an object leaves its selector) and a compact tuple of the fields a
label or field selector can look at (name, labels and the resource's selectable fields), expanded
into a small dict only when a resumed watch replays the record through its selector.
"""

from __future__ import annotations

import bisect
import itertools
from collections import deque
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import orjson

from .resources import ResourceType
from .selectors import supported_fields
from .store import Obj

Paths = tuple[tuple[str, ...], ...]
Sel = tuple[Any, ...]  # (name, labels, value of each selectable field)

_PREFIX = {
    "ADDED": b'{"type":"ADDED","object":',
    "MODIFIED": b'{"type":"MODIFIED","object":',
    "DELETED": b'{"type":"DELETED","object":',
}
_SUFFIX = b"}\n"


def dumps(obj: Any) -> bytes:
    """``orjson.dumps`` into a right-sized bytes object, for bytes that are kept.

    orjson returns its growth buffer (8 KiB for a 2 KiB pod); a copy is cheaper than the memory.
    """
    return bytes(memoryview(orjson.dumps(obj)))


def event_line(kind: str, data: bytes) -> bytes:
    """One NDJSON watch event line around already encoded object bytes."""
    return _PREFIX[kind] + data + _SUFFIX


@dataclass(slots=True)
class _Rec:
    """One event: live, ``obj``/``old`` are the objects; in the ring, their ``Sel`` tuples."""

    rv: int
    key: str
    namespace: str | None
    type: str
    obj: Any  # Obj, a selector view of it, or (in the ring) its Sel
    old: Any
    data: bytes
    line: bytes | None = None  # the event line, built for fan-out and not kept in the ring
    old_data: bytes | None = None  # encoded previous version (MODIFIED only)

    def event_line(self) -> bytes:
        """The event's line (built on demand for replayed records)."""
        line = self.line
        if line is None:
            line = event_line(self.type, self.data)
        return line

    def previous_bytes(self) -> bytes:
        """Encoded previous version of the object."""
        if self.old_data is not None:
            return self.old_data
        return orjson.dumps(self.old)  # only for records built without old_data


class Encoder:
    """Serializes each object version once: caches bytes and selector fields per uid and RV."""

    def __init__(self) -> None:
        self._cache: dict[str, tuple[str, bytes, Sel | None]] = {}

    def encode(self, obj: Obj) -> bytes:
        """JSON bytes of ``obj`` (cached while it is the latest known version)."""
        meta = obj.get("metadata") or {}
        uid = meta.get("uid")
        if not uid:
            return orjson.dumps(obj)
        rv = meta.get("resourceVersion", "")
        hit = self._cache.get(uid)
        if hit is not None and hit[0] == rv:
            return hit[1]
        data = dumps(obj)
        self._cache[uid] = (rv, data, None)
        return data

    def cached(self, obj: Obj) -> tuple[bytes, Sel | None] | None:
        """(bytes, selector fields or None) of ``obj`` when this exact version is cached."""
        meta = obj.get("metadata") or {}
        hit = self._cache.get(meta.get("uid") or "")
        if hit is not None and hit[0] == meta.get("resourceVersion", ""):
            return hit[1], hit[2]
        return None

    def cached_bytes(self, obj: Obj) -> bytes | None:
        """JSON bytes of ``obj`` when this exact version is cached."""
        hit = self.cached(obj)
        return None if hit is None else hit[0]

    def remember(self, obj: Obj, data: bytes, sel: Sel | None) -> None:
        """Cache ``data`` and ``sel`` as the latest version of ``obj``."""
        meta = obj.get("metadata") or {}
        uid = meta.get("uid")
        if uid:
            self._cache[uid] = (meta.get("resourceVersion", ""), data, sel)

    def forget(self, obj: Obj) -> None:
        """Drop the cache entry of a removed object."""
        uid = (obj.get("metadata") or {}).get("uid")
        if uid:
            self._cache.pop(uid, None)


class Views:
    """Per resource type: which fields selectors may read, compacted and expanded again."""

    def __init__(self) -> None:
        self._plans: dict[str, tuple[Paths, tuple[tuple[str, tuple[str, ...]], ...]]] = {}

    def _plan(self, rt: ResourceType) -> tuple[Paths, tuple[tuple[str, tuple[str, ...]], ...]]:
        """(paths, the same grouped by top-level key) of ``rt``'s selectable fields."""
        plan = self._plans.get(rt.key)
        if plan is None:
            extra = supported_fields(rt.resource, rt.group)[2:]  # after name and namespace
            paths = tuple(tuple(f.split(".")) for f in extra)
            if any(len(p) > 2 for p in paths):
                raise ValueError(f"selectable field deeper than two levels in {extra}")
            groups: dict[str, list[str]] = {}
            for p in paths:
                top, leaf = (p[0], p[1]) if len(p) == 2 else ("", p[0])
                groups.setdefault(top, []).append(leaf)
            grouped = tuple((top, tuple(leaves)) for top, leaves in groups.items())
            order = tuple((top, leaf) for top, leaves in grouped for leaf in leaves)
            paths = tuple((top, leaf) if top else (leaf,) for top, leaf in order)
            plan = self._plans[rt.key] = (paths, grouped)
        return plan

    def compact(self, rt: ResourceType, obj: Obj) -> Sel:
        """(name, labels, field values...) of ``obj``: all a selector can look at but namespace."""
        meta = obj.get("metadata") or {}
        out: list[Any] = [meta.get("name"), meta.get("labels")]
        for top, leaves in self._plan(rt)[1]:
            sub = obj.get(top) if top else obj
            if isinstance(sub, dict):
                out += [sub.get(leaf) for leaf in leaves]
            else:
                out += [None] * len(leaves)
        return tuple(out)

    def expand(self, rt: ResourceType, namespace: str | None, sel: Sel) -> Obj:
        """A dict with just the fields of ``sel``, which selectors judge like the object."""
        meta = {"name": sel[0], "labels": sel[1]}
        if namespace is not None:
            meta["namespace"] = namespace
        view: Obj = {"metadata": meta}
        for path, value in zip(self._plan(rt)[0], sel[2:], strict=True):
            cur = view
            for part in path[:-1]:
                cur = cur.setdefault(part, {})
            cur[path[-1]] = value
        return view


class EventRing:
    """The most recent events, bounded by count and by encoded bytes; older ones are 410 Gone."""

    def __init__(self, maxlen: int, max_bytes: int | None, floor: int) -> None:
        self.maxlen = max(1, maxlen)
        self.max_bytes = max_bytes
        self._recs: deque[_Rec] = deque()
        self._bytes = 0
        # events with rv > floor are all in the ring
        self.floor = floor

    def __len__(self) -> int:
        return len(self._recs)

    @property
    def nbytes(self) -> int:
        """Encoded bytes of the objects the ring holds (previous versions not counted)."""
        return self._bytes

    def append(self, rec: _Rec) -> None:
        """Add the newest event, dropping the oldest ones beyond the bounds."""
        recs = self._recs
        recs.append(rec)
        self._bytes += len(rec.data)
        limit = self.max_bytes
        while len(recs) > self.maxlen or (limit is not None and self._bytes > limit):
            if len(recs) == 1:
                break
            gone = recs.popleft()
            self._bytes -= len(gone.data)
            self.floor = gone.rv

    def since(self, rv: int) -> Iterator[_Rec]:
        """Records with a resourceVersion above ``rv``, oldest first."""
        recs = self._recs
        start = bisect.bisect_right(recs, rv, key=lambda r: r.rv)
        # islice walks a deque linearly; indexing each position would be quadratic
        return itertools.islice(recs, start, None)
