"""The watches of one job: one per (apiVersion, kind, selector), shared by all their consumers.

When a kind has a consumer of every object of the run and others that narrow it with an extra
selector (readiness counts only the job's own objects, vmiLatency only launcher pods), the
narrower consumers share the broad watch and filter labels client-side: one stream, one JSON
decode and one cache per kind instead of one per selector. Labels used this way (kube-burner.io
index labels, kubevirt.io=virt-launcher) never change on a live object.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

from ..cluster.watch import ResilientWatch, WatchEvent
from .selectors import LabelMatch, label_matcher

# (event type, object, received_at_ns) -> None
EventCallback = Callable[[str, dict[str, Any], int], None]
# (api_version, kind, label_selector, callback) -> a started-on-demand watch
WatchFactory = Callable[[str, str, str, EventCallback], Any]


class JobWatches:
    """Registers consumers, then starts every watch before the job's first create."""

    def __init__(self, factory: WatchFactory, run_selector: str) -> None:
        self._factory = factory
        self._run_selector = run_selector
        # (api_version, kind) -> extra selector -> callbacks
        self._consumers: dict[tuple[str, str], dict[str, list[EventCallback]]] = {}
        self._watches: list[Any] = []

    def add(
        self, api_version: str, kind: str, callback: EventCallback, extra_selector: str = ""
    ) -> None:
        """Deliver events of ``kind`` matching the run's labels (and ``extra_selector``)."""
        groups = self._consumers.setdefault((api_version, kind), {})
        groups.setdefault(extra_selector, []).append(callback)

    def _selector(self, extra: str) -> str:
        return ",".join(s for s in (self._run_selector, extra) if s)

    def start(self, sync_timeout: float = 60.0) -> None:
        """Start every watch and wait until each has delivered its initial list."""
        for (api_version, kind), groups in self._consumers.items():
            broad = list(groups.get("", []))
            for extra, callbacks in groups.items():
                match = label_matcher(extra) if extra and broad else None
                if match is not None:
                    broad.append(_filtered(match, _fan_out(callbacks)))
                elif extra:
                    self._watches.append(
                        self._factory(api_version, kind, self._selector(extra), _fan_out(callbacks))
                    )
            if broad:
                self._watches.append(
                    self._factory(api_version, kind, self._run_selector, _fan_out(broad))
                )
        for w in self._watches:
            w.start()
        deadline = time.monotonic() + sync_timeout
        for w in self._watches:
            w.wait_synced(max(0.0, deadline - time.monotonic()))

    def problems(self) -> str:
        """``; watches failing: <last error> (N errors)`` while a watch cannot reach the API."""
        failing = [w for w in self._watches if getattr(w, "failing", False)]
        if not failing:
            return ""
        errors = sum(int(getattr(w, "errors", 0)) for w in failing)
        return f"; watches failing: {failing[0].last_error} ({errors} errors)"

    def stop(self) -> None:
        """Stop every watch (all at once, so a slow one does not delay the others)."""
        for w in self._watches:
            w.stop(0)
        for w in self._watches:
            w.stop()
        self._watches.clear()


def _filtered(match: LabelMatch, callback: EventCallback) -> EventCallback:
    def deliver(event_type: str, obj: dict[str, Any], received_ns: int) -> None:
        labels = (obj.get("metadata") or {}).get("labels") or {}
        if match(labels):
            callback(event_type, obj, received_ns)

    return deliver


def _fan_out(callbacks: list[EventCallback]) -> EventCallback:
    if len(callbacks) == 1:
        return callbacks[0]

    def deliver(event_type: str, obj: dict[str, Any], received_ns: int) -> None:
        for cb in callbacks:
            cb(event_type, obj, received_ns)

    return deliver


def forward(callback: EventCallback) -> Callable[[WatchEvent], None]:
    """Adapt an ``(event type, object, received_at_ns)`` callback to ResilientWatch events."""

    def deliver(ev: WatchEvent) -> None:
        callback(ev.type, ev.obj, ev.received_at_ns)

    return deliver


def resilient_watches(client: Any) -> WatchFactory:
    """The WatchFactory of a real cluster: one ResilientWatch per request."""

    def factory(api_version: str, kind: str, selector: str, callback: EventCallback) -> Any:
        return ResilientWatch(
            client, api_version, kind, label_selector=selector, on_event=forward(callback)
        )

    return factory
