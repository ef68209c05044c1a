"""EndpointSlices following the Endpoints of each Service (one IPv4 slice per Service).

Real clusters compute slices from Services and Pods (kube-controller-manager's
``pkg/controller/endpointslice``); the simulator derives them from the Endpoints its own
controller writes, which hold the same addresses, so both stay consistent.
"""

from __future__ import annotations

import contextlib
from typing import Any

from ..context import SimContext
from ..errors import ApiError
from ..store import Event, Obj
from ._common import meta, safe, short_hash

SERVICE_NAME_LABEL = "kubernetes.io/service-name"
MANAGED_BY_LABEL = "endpointslice.kubernetes.io/managed-by"
MANAGED_BY = "endpointslice-controller.k8s.io"
SKIP_MIRROR_LABEL = "endpointslice.kubernetes.io/skip-mirror"


def slice_name(service: str) -> str:
    """The (stable) name of the slice of ``service``: ``<service>-<5 chars>``."""
    return f"{service[:57]}-{short_hash(service, 5)}"


def _endpoint(addr: dict[str, Any], ready: bool) -> dict[str, Any]:
    ep: dict[str, Any] = {
        "addresses": [addr["ip"]],
        "conditions": {"ready": ready, "serving": ready, "terminating": False},
    }
    if addr.get("nodeName"):
        ep["nodeName"] = addr["nodeName"]
    if addr.get("targetRef"):
        ep["targetRef"] = addr["targetRef"]
    return ep


def slice_of(endpoints: Obj) -> Obj:
    """The EndpointSlice holding the addresses and ports of ``endpoints``."""
    m = meta(endpoints)
    eps: list[dict[str, Any]] = []
    ports: list[dict[str, Any]] = []
    for subset in endpoints.get("subsets") or []:
        eps += [_endpoint(a, True) for a in subset.get("addresses") or []]
        eps += [_endpoint(a, False) for a in subset.get("notReadyAddresses") or []]
        ports = ports or [dict(p) for p in subset.get("ports") or []]
    labels = {
        **(m.get("labels") or {}),
        SERVICE_NAME_LABEL: m["name"],
        MANAGED_BY_LABEL: MANAGED_BY,
    }
    return {
        "apiVersion": "discovery.k8s.io/v1",
        "kind": "EndpointSlice",
        "metadata": {"name": slice_name(m["name"]), "namespace": m["namespace"], "labels": labels},
        "addressType": "IPv4",
        "endpoints": eps,
        "ports": ports,
    }


class SliceController:
    """Creates, updates and deletes the slice of every Endpoints object."""

    def __init__(self, ctx: SimContext) -> None:
        self.ctx = ctx
        self.ep_rt = ctx.registry.core("endpoints")
        self.slice_rt = ctx.registry.get("discovery.k8s.io", "v1", "endpointslices")

    def start(self) -> None:
        """Subscribe to Endpoints and take in the existing ones."""
        if self.slice_rt is None:
            return
        self.ctx.store.subscribe(safe(self.on_event), [self.ep_rt.key])
        for ep in self.ctx.store.list(self.ep_rt):
            self.on_event(Event("ADDED", self.ep_rt, ep, None, 0))

    def on_event(self, ev: Event) -> None:
        """Write the slice of a changed Endpoints object, delete it with the Endpoints."""
        assert self.slice_rt is not None
        m = meta(ev.obj)
        if (m.get("labels") or {}).get(SKIP_MIRROR_LABEL) == "true":
            return
        ns, name = m["namespace"], slice_name(m["name"])
        if ev.type == "DELETED":
            with contextlib.suppress(ApiError):
                self.ctx.store.delete(self.slice_rt, ns, name)
            return
        want = slice_of(ev.obj)
        if self.ctx.store.get(self.slice_rt, ns, name) is None:
            with contextlib.suppress(ApiError):  # namespace terminating
                self.ctx.store.create(self.slice_rt, want, ns)
            return

        def fn(o: Obj) -> None:
            o["endpoints"] = want["endpoints"]
            o["ports"] = want["ports"]
            o["metadata"]["labels"] = want["metadata"]["labels"]

        self.ctx.store.mutate(self.slice_rt, ns, name, fn)


def register(ctx: SimContext) -> None:
    """Start the EndpointSlice controller."""
    SliceController(ctx).start()
