"""Endpoints controller: each Service with a selector gets Endpoints listing its pods' IPs."""

from __future__ import annotations

import contextlib
from typing import Any

from ..context import SimContext
from ..errors import ApiError
from ..store import Event, Obj
from ._common import deleting, meta, pod_ready, pod_terminal, safe

BATCH_SECONDS = 0.02  # endpoint updates of one service are batched over this window


def _pod_key(pod: Obj | None) -> tuple[Any, ...]:
    """What of a pod matters to endpoints."""
    if pod is None:
        return ()
    st = pod.get("status") or {}
    return (
        tuple(sorted((meta(pod).get("labels") or {}).items())),
        st.get("podIP"),
        pod_ready(pod),
        deleting(pod),
        pod_terminal(pod),
    )


def _target_port(port: dict[str, Any], pods: list[Obj]) -> int:
    target = port.get("targetPort", port.get("port"))
    if isinstance(target, int):
        return target
    if isinstance(target, str) and target.isdigit():
        return int(target)
    for pod in pods:
        for c in (pod.get("spec") or {}).get("containers") or []:
            for cp in c.get("ports") or []:
                if cp.get("name") == target:
                    return int(cp["containerPort"])
    return int(port.get("port", 0))


class EndpointsController:
    """Keeps Endpoints in step with Services and the ready state of their pods."""

    def __init__(self, ctx: SimContext) -> None:
        self.ctx = ctx
        self.svc_rt = ctx.registry.core("services")
        self.ep_rt = ctx.registry.core("endpoints")
        self.pods_rt = ctx.registry.core("pods")
        # namespace -> service name -> selector
        self.selectors: dict[str, dict[str, dict[str, str]]] = {}

    def start(self) -> None:
        """Subscribe and take in existing services."""
        self.ctx.store.subscribe(safe(self.on_event), [self.svc_rt.key, self.pods_rt.key])
        for svc in self.ctx.store.list(self.svc_rt):
            self.on_event(Event("ADDED", self.svc_rt, svc, None, 0))

    def on_event(self, ev: Event) -> None:
        """Requeue services whose selector matches a changed pod, or that changed themselves."""
        ns = meta(ev.obj).get("namespace", "")
        if ev.rt.key == self.svc_rt.key:
            name = meta(ev.obj)["name"]
            selector = (ev.obj.get("spec") or {}).get("selector")
            if ev.type == "DELETED" or not selector:
                self.selectors.get(ns, {}).pop(name, None)
            else:
                self.selectors.setdefault(ns, {})[name] = dict(selector)
            self.queue(ns, name, 0)
        elif ev.rt.key == self.pods_rt.key and ns in self.selectors:
            if ev.type == "MODIFIED" and _pod_key(ev.old) == _pod_key(ev.obj):
                return
            labels = [meta(ev.obj).get("labels") or {}]
            if ev.old is not None:
                labels.append(meta(ev.old).get("labels") or {})
            for name, sel in self.selectors[ns].items():
                if any(all(lb.get(k) == v for k, v in sel.items()) for lb in labels):
                    self.queue(ns, name, BATCH_SECONDS)

    def queue(self, ns: str, name: str, delay: float) -> None:
        """Reconcile one service after ``delay`` (coalesced)."""
        key = ("endpoints", ns, name)
        if not self.ctx.pending(key):
            self.ctx.schedule(key, delay, safe(lambda: self.reconcile(ns, name)))

    def reconcile(self, ns: str, name: str) -> None:
        """Write the Endpoints of one service (or delete them with the service)."""
        svc = self.ctx.store.get(self.svc_rt, ns, name)
        existing = self.ctx.store.get(self.ep_rt, ns, name)
        if svc is None:
            if existing is not None:
                with contextlib.suppress(ApiError):
                    self.ctx.store.delete(self.ep_rt, ns, name)
            return
        selector = (svc.get("spec") or {}).get("selector")
        if not selector:
            return
        expr = ",".join(f"{k}={v}" for k, v in sorted(selector.items()))
        pods = [
            p
            for p in self.ctx.store.list(self.pods_rt, ns, label_selector=expr)
            if (p.get("status") or {}).get("podIP") and not deleting(p) and not pod_terminal(p)
        ]
        subsets = self._subsets(svc, pods)
        if existing is None:
            ep = {
                "apiVersion": "v1",
                "kind": "Endpoints",
                "metadata": {
                    "name": name,
                    "namespace": ns,
                    "labels": dict(meta(svc).get("labels") or {}),
                },
                "subsets": subsets,
            }
            with contextlib.suppress(ApiError):
                self.ctx.store.create(self.ep_rt, ep, ns)
            return

        def fn(o: Obj) -> None:
            o["subsets"] = subsets

        self.ctx.store.mutate(self.ep_rt, ns, name, fn)

    @staticmethod
    def _subsets(svc: Obj, pods: list[Obj]) -> list[dict[str, Any]]:
        ready: list[dict[str, Any]] = []
        not_ready: list[dict[str, Any]] = []
        for pod in sorted(pods, key=lambda p: str(p["status"]["podIP"])):
            m = meta(pod)
            addr = {
                "ip": pod["status"]["podIP"],
                "nodeName": (pod.get("spec") or {}).get("nodeName"),
                "targetRef": {
                    "kind": "Pod",
                    "name": m["name"],
                    "namespace": m.get("namespace"),
                    "uid": m.get("uid"),
                },
            }
            (ready if pod_ready(pod) else not_ready).append(addr)
        if not ready and not not_ready:
            return []
        ports = []
        for port in (svc.get("spec") or {}).get("ports") or []:
            entry: dict[str, Any] = {
                "port": _target_port(port, pods),
                "protocol": port.get("protocol", "TCP"),
            }
            if port.get("name"):
                entry["name"] = port["name"]
            ports.append(entry)
        subset: dict[str, Any] = {"ports": ports}
        if ready:
            subset["addresses"] = ready
        if not_ready:
            subset["notReadyAddresses"] = not_ready
        return [subset]


def register(ctx: SimContext) -> None:
    """Start the Endpoints controller."""
    EndpointsController(ctx).start()
