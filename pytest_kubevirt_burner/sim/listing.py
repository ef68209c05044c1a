"""LIST with resourceVersion rules and limit/continue paging over consistent snapshots."""

from __future__ import annotations

import base64
import binascii
import bisect
import time
from collections import OrderedDict
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import orjson

from .errors import bad_request, gone
from .resources import ResourceType
from .store import Obj, Store

_TOO_OLD_LIST = "The resourceVersion for the provided list is too old."
_TOO_OLD_CONTINUE = (
    "The provided continue parameter is too old to display a consistent list result. You can"
    " start a new list without the continue parameter, or use the continue token in this"
    " response to retrieve the remainder of the results. Continuing with the provided token"
    " results in an inconsistent list - objects that were created, modified, or deleted between"
    " the time the first chunk was returned and now may show up in the list."
)


def _key(obj: Obj) -> tuple[str, str]:
    meta = obj["metadata"]
    return (meta.get("namespace") or "", meta["name"])


def encode_continue(rv: int, last: tuple[str, str]) -> str:
    """The opaque continue token: base64url JSON {v, rv, start}."""
    ns, name = last
    start = f"{ns}/{name}\x00" if ns else f"{name}\x00"
    raw = orjson.dumps({"v": "meta.k8s.io/v1", "rv": rv, "start": start})
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def decode_continue(token: str, namespaced: bool) -> tuple[int, tuple[str, str]]:
    """(rv, last key) of a continue token; 400 when malformed."""
    try:
        raw = base64.urlsafe_b64decode(token + "=" * (-len(token) % 4))
        data = orjson.loads(raw)
        rv = int(data["rv"])
        start = str(data["start"]).rstrip("\x00")
    except (binascii.Error, ValueError, KeyError, TypeError, orjson.JSONDecodeError):
        raise bad_request(
            "continue key is not valid: incorrect encoded start resourceVersion"
        ) from None
    if rv <= 0:
        raise bad_request("continue key is not valid: incorrect encoded start resourceVersion")
    if namespaced and "/" in start:
        ns, _, name = start.partition("/")
        return rv, (ns, name)
    return rv, ("", start)


@dataclass(slots=True)
class _Snapshot:
    items: list[Obj]
    keys: list[tuple[str, str]]
    at: float


class Lister:
    """Serves LIST requests; keeps short-lived snapshots so pages are consistent."""

    def __init__(self, store: Store, *, snapshots: int = 32, ttl: float = 300.0) -> None:
        self.store = store
        self.ttl = ttl
        self.max_snapshots = snapshots
        self._snaps: OrderedDict[tuple[Any, ...], _Snapshot] = OrderedDict()

    def _snapshot(self, key: tuple[Any, ...]) -> _Snapshot | None:
        snap = self._snaps.get(key)
        if snap is None:
            return None
        if time.monotonic() - snap.at > self.ttl:
            del self._snaps[key]
            return None
        return snap

    def _remember(self, key: tuple[Any, ...], items: list[Obj]) -> None:
        self._snaps[key] = _Snapshot(items, [_key(o) for o in items], time.monotonic())
        while len(self._snaps) > self.max_snapshots:
            self._snaps.popitem(last=False)

    def page(
        self, rt: ResourceType, namespace: str | None, q: Mapping[str, str], floor: int
    ) -> tuple[list[Obj], dict[str, Any]]:
        """Items of one page and the list metadata; ``floor`` is the oldest RV still known."""
        rv_raw = q.get("resourceVersion", "")
        rv_match = q.get("resourceVersionMatch", "")
        token = q.get("continue", "")
        label = q.get("labelSelector") or None
        field = q.get("fieldSelector") or None
        limit = _limit(q.get("limit"))
        current = self.store.rv
        rv = _parse_rv(rv_raw)
        if rv_match:
            if rv_match not in ("NotOlderThan", "Exact"):
                raise bad_request(f"unsupported resourceVersionMatch: {rv_match}")
            if not rv_raw:
                raise bad_request(
                    "resourceVersionMatch is forbidden unless resourceVersion is provided"
                )
            if token:
                raise bad_request("resourceVersionMatch is forbidden when continue is provided")
            if rv_match == "Exact" and rv == 0:
                raise bad_request(
                    'resourceVersionMatch "exact" is forbidden for resourceVersion "0"'
                )
        snap_key = (rt.key, namespace, label, field)
        if token:
            if rv_raw not in ("", "0"):
                raise bad_request("specifying resource version is not allowed when using continue")
            token_rv, last = decode_continue(token, rt.namespaced)
            snap = self._snapshot((*snap_key, token_rv))
            if snap is None and token_rv < floor:
                raise gone(_TOO_OLD_CONTINUE)
            if snap is None:
                items = self.store.list(rt, namespace, label, field)
                keys = [_key(o) for o in items]
            else:
                items, keys = snap.items, snap.keys
            start = bisect.bisect_right(keys, last)
            return self._page(rt, items, start, limit, token_rv, snap_key, remember=False)
        exact = rv is not None and rv > 0 and (rv_match == "Exact" or (limit and not rv_match))
        if exact and rv is not None and rv < current:
            raise gone(_TOO_OLD_LIST)
        items = self.store.list(rt, namespace, label, field)
        return self._page(rt, items, 0, limit, current, snap_key, remember=True)

    def _page(
        self,
        rt: ResourceType,
        items: list[Obj],
        start: int,
        limit: int | None,
        rv: int,
        snap_key: tuple[Any, ...],
        *,
        remember: bool,
    ) -> tuple[list[Obj], dict[str, Any]]:
        meta: dict[str, Any] = {"resourceVersion": str(rv)}
        if not limit or start + limit >= len(items):
            return items[start:], meta
        page = items[start : start + limit]
        if remember:
            self._remember((*snap_key, rv), items)
        meta["continue"] = encode_continue(rv, _key(page[-1]))
        meta["remainingItemCount"] = len(items) - start - limit
        return page, meta


def _limit(raw: str | None) -> int | None:
    if not raw:
        return None
    try:
        value = int(raw)
    except ValueError:
        raise bad_request(f"invalid limit: {raw}") from None
    return value if value > 0 else None


def _parse_rv(raw: str) -> int | None:
    if raw == "":
        return None
    try:
        value = int(raw)
    except ValueError:
        raise bad_request(f"invalid resource version: {raw}") from None
    if value < 0:
        raise bad_request(f"invalid resource version: {raw}")
    return value
