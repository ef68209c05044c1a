"""The simulated cluster's controllers, started in dependency order on the running event loop."""

from __future__ import annotations

import importlib
from types import ModuleType

from ..context import SimContext
from . import (
    cluster,
    created,
    gc,
    jobs,
    kubelet,
    namespaces,
    nodes,
    scheduler,
    services,
    sets,
    slices,
    volumes,
    workloads,
)

# nodes first (the scheduler and DaemonSets need them), then pod placement and lifecycle,
# then owners of pods, then cluster plumbing (standing objects last: they need the nodes);
# CRDs and KubeVirt last
_BUILTIN: tuple[ModuleType, ...] = (
    created,
    nodes,
    scheduler,
    kubelet,
    gc,
    namespaces,
    workloads,
    sets,
    jobs,
    services,
    slices,
    volumes,
    cluster,
)
_OPTIONAL = ("crd", "kubevirt")


def _optional(name: str) -> ModuleType | None:
    try:
        return importlib.import_module(f"{__name__}.{name}")
    except ModuleNotFoundError as exc:
        if exc.name == f"{__name__}.{name}":
            return None
        raise


def start(ctx: SimContext) -> None:
    """Register every controller with ``ctx`` (call from inside the running event loop)."""
    for mod in _BUILTIN:
        mod.register(ctx)
    for name in _OPTIONAL:
        extra = _optional(name)
        if extra is not None:
            extra.register(ctx)


def stop(ctx: SimContext) -> None:
    """Cancel every pending controller timer and flush the ground truth."""
    ctx.cancel_all()
    ctx.ground_truth.flush()
