"""What every simulator controller shares: store, latency profile, timers and ground truth."""

from __future__ import annotations

import asyncio
import random
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import IO, Any, Protocol

import orjson

from .registry import Registry
from .store import Obj, Store


class LatencyProfile(Protocol):
    """Seeded per-transition delays (see profiles.py)."""

    name: str

    def sample(self, transition: str, rng: random.Random) -> float:
        """Seconds to wait before ``transition`` (e.g. ``Pod.Ready``) happens."""
        ...


@dataclass(frozen=True)
class NodeShape:
    """Capacity of every simulated node."""

    cpu_millis: int = 32_000
    memory_bytes: int = 256 * 1024**3
    pods: int = 250


class GroundTruth:
    """Appends one JSON line per injected transition (exact wall-clock time, sub-ms precision)."""

    def __init__(self, stream: IO[bytes] | None) -> None:
        self._stream = stream

    def record(self, obj: Obj, transition: str, at: float) -> None:
        """Record that ``obj`` went through ``transition`` at epoch seconds ``at``."""
        if self._stream is None:
            return
        meta = obj.get("metadata", {})
        line = {
            "uid": meta.get("uid"),
            "namespace": meta.get("namespace"),
            "name": meta.get("name"),
            "kind": obj.get("kind"),
            "transition": transition,
            "time": at,
        }
        self._stream.write(orjson.dumps(line) + b"\n")

    def flush(self) -> None:
        """Flush buffered lines to disk."""
        if self._stream is not None:
            self._stream.flush()


@dataclass
class SimContext:
    """Shared state of one simulator process."""

    store: Store
    registry: Registry
    profile: LatencyProfile
    ground_truth: GroundTruth
    rng: random.Random
    nodes: int = 3
    node_shape: NodeShape = field(default_factory=NodeShape)
    # fault injection read by the watch handler: close every watch stream after this many seconds
    watch_cut_seconds: float | None = None
    _timers: dict[Any, asyncio.TimerHandle] = field(default_factory=dict)
    clock: Callable[[], float] = time.time

    def delay(self, transition: str) -> float:
        """A delay for ``transition`` drawn from the profile with the seeded RNG."""
        return max(0.0, self.profile.sample(transition, self.rng))

    def schedule(self, key: Any, delay: float, fn: Callable[[], None]) -> None:
        """Run ``fn`` after ``delay`` s; one pending timer per key (a new one replaces it)."""
        self.cancel(key)
        loop = asyncio.get_running_loop()

        def fire() -> None:
            self._timers.pop(key, None)
            fn()

        self._timers[key] = loop.call_later(delay, fire)

    def cancel(self, key: Any) -> None:
        """Cancel the pending timer of ``key`` if any."""
        handle = self._timers.pop(key, None)
        if handle is not None:
            handle.cancel()

    def pending(self, key: Any) -> bool:
        """Whether ``key`` has a pending timer."""
        return key in self._timers

    def cancel_all(self) -> None:
        """Cancel every pending timer (shutdown)."""
        for handle in self._timers.values():
            handle.cancel()
        self._timers.clear()
