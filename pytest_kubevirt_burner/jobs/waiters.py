"""Watch-driven readiness tracking: no LIST polling; fed by the job's watches."""

from __future__ import annotations

import threading
import time
from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

from .readiness import is_ready, state_of

# (event type, object, received_at_ns) -> None
EventCallback = Callable[[str, dict[str, Any], int], None]


@dataclass
class WaitTarget:
    """One kind to wait for: how many ready objects are expected, and how readiness is judged."""

    api_version: str
    kind: str
    expected: int
    custom: Sequence[tuple[str, str]] = ()
    label_selector: str = ""


@dataclass
class _KindState:
    # Ready objects keep only their uid; the state and name of the others are kept for reports.
    # ready_count is O(1), so a waiter woken by every event never walks tens of thousands.
    target: WaitTarget
    ready: set[str] = field(default_factory=set)
    pending: dict[str, tuple[str, str, str]] = field(default_factory=dict)  # state, ns, name

    @property
    def ready_count(self) -> int:
        return len(self.ready)

    @property
    def seen(self) -> int:
        return len(self.ready) + len(self.pending)


class ReadinessTracker:
    """Tracks readiness of a job's objects per kind from watch events."""

    def __init__(self, targets: Sequence[WaitTarget]) -> None:
        self._cond = threading.Condition()
        self._kinds: dict[str, _KindState] = {t.kind: _KindState(t) for t in targets}

    @property
    def targets(self) -> list[WaitTarget]:
        """What is waited for."""
        return [ks.target for ks in self._kinds.values()]

    def handler(self, kind: str) -> EventCallback:
        """The watch callback feeding readiness of ``kind``."""

        def on_event(etype: str, obj: dict[str, Any], _received_ns: int) -> None:
            meta = obj.get("metadata") or {}
            uid = meta.get("uid")
            if not uid:
                return
            ks = self._kinds[kind]
            ready = etype != "DELETED" and is_ready(obj, ks.target.custom)
            state = "" if ready or etype == "DELETED" else state_of(obj)
            with self._cond:
                if etype == "DELETED":
                    ks.ready.discard(uid)
                    ks.pending.pop(uid, None)
                elif ready:
                    ks.ready.add(uid)
                    ks.pending.pop(uid, None)
                else:
                    ks.ready.discard(uid)
                    ns, name = str(meta.get("namespace", "")), str(meta.get("name", ""))
                    ks.pending[uid] = (state, ns, name)
                self._cond.notify_all()

        return on_event

    def set_expected(self, kind: str, expected: int) -> None:
        """Change how many ready objects of ``kind`` are expected (e.g. after scaling)."""
        with self._cond:
            self._kinds[kind].target.expected = expected

    def done(self) -> bool:
        """Whether every kind has its expected number of ready objects."""
        return all(ks.ready_count >= ks.target.expected for ks in self._kinds.values())

    def wait(self, timeout: float, stop: threading.Event | None = None) -> bool:
        """Block until done, ``timeout`` seconds pass, or ``stop`` is set; True when done."""
        deadline = time.monotonic() + timeout
        with self._cond:
            while not self.done():
                left = deadline - time.monotonic()
                if left <= 0 or (stop is not None and stop.is_set()):
                    return False
                self._cond.wait(min(left, 0.5))
            return True

    def ready_counts(self) -> dict[str, int]:
        """Ready objects per kind."""
        with self._cond:
            return {k: ks.ready_count for k, ks in self._kinds.items()}

    def not_ready_report(self, limit: int = 5) -> str:
        """``Pod: 3/10 ready (Pending: 7), first not ready: ns/a, ns/b`` for each lagging kind."""
        parts = []
        with self._cond:
            for kind, ks in self._kinds.items():
                if ks.ready_count >= ks.target.expected:
                    continue
                states = Counter(state for state, _, _ in ks.pending.values())
                missing = ks.target.expected - ks.seen
                if missing > 0:
                    states["not seen"] += missing
                by_state = ", ".join(f"{s}: {n}" for s, n in states.most_common())
                names = [f"{ns}/{name}".lstrip("/") for _, ns, name in ks.pending.values()][:limit]
                first = f"; first not ready: {', '.join(names)}" if names else ""
                parts.append(
                    f"{kind}: {ks.ready_count}/{ks.target.expected} ready ({by_state}){first}"
                )
        return "; ".join(parts)
