"""Ground truth of object creation: the exact moment each object was stored."""

from __future__ import annotations

from ..context import SimContext
from ..store import Event


def register(ctx: SimContext) -> None:
    """Record a ``Created`` transition for every object the store admits."""

    def on_event(event: Event) -> None:
        if event.type == "ADDED":
            ctx.ground_truth.record(event.obj, "Created", ctx.clock())

    ctx.store.subscribe(on_event)
