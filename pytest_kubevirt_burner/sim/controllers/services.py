"""Endpoints controller: each Service with a selector gets Endpoints listing its pods' IPs."""

from __future__ import annotations

import bisect
import contextlib
import heapq
from collections.abc import Callable, Iterable, Iterator
from typing import Any

from ..context import SimContext
from ..errors import ApiError
from ..store import Event, Obj
from ._common import deleting, meta, pod_ready, pod_terminal, safe

BATCH_SECONDS = 0.02  # endpoint updates of one service are batched over this window
# like the real controller: beyond this many addresses an Endpoints object is truncated
MAX_ADDRESSES = 1000
OVER_CAPACITY = "endpoints.kubernetes.io/over-capacity"

Entry = tuple[str, str]  # (pod IP, pod uid): the order of addresses in a subset


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


def _target_port(port: dict[str, Any], pods: Iterable[Obj]) -> int:
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


class _Members:
    """The pods one service selects, kept sorted by IP so a sync never scans the namespace."""

    __slots__ = ("addresses", "names", "not_ready", "ready", "selector", "where")

    def __init__(self, selector: dict[str, Any]) -> None:
        self.selector = selector
        self.ready: list[Entry] = []
        self.not_ready: list[Entry] = []
        self.where: dict[str, tuple[Entry, bool]] = {}  # pod uid -> (entry, ready)
        self.addresses: dict[str, dict[str, Any]] = {}  # pod uid -> its address
        self.names: dict[str, str] = {}  # pod uid -> pod name

    def selects(self, pod: Obj) -> bool:
        """Whether the service's selector matches the pod's labels."""
        labels = meta(pod).get("labels") or {}
        return all(labels.get(k) == v for k, v in self.selector.items())

    def update(self, pod: Obj, removed: bool) -> bool:
        """Take in a pod's new state; returns whether this service's endpoints may change."""
        m = meta(pod)
        uid = str(m.get("uid"))
        was = self._drop(uid)
        ip = (pod.get("status") or {}).get("podIP")
        if removed or not ip or deleting(pod) or pod_terminal(pod) or not self.selects(pod):
            return was
        ready = pod_ready(pod)
        entry = (str(ip), uid)
        bisect.insort(self.ready if ready else self.not_ready, entry)
        self.where[uid] = (entry, ready)
        self.names[uid] = m["name"]
        self.addresses[uid] = {
            "ip": ip,
            "nodeName": (pod.get("spec") or {}).get("nodeName"),
            "targetRef": {"kind": "Pod", "name": m["name"], "namespace": m.get("namespace"),
                          "uid": m.get("uid")},
        }  # fmt: skip
        return True

    def _drop(self, uid: str) -> bool:
        found = self.where.pop(uid, None)
        if found is None:
            return False
        entry, ready = found
        entries = self.ready if ready else self.not_ready
        i = bisect.bisect_left(entries, entry)
        if i < len(entries) and entries[i] == entry:
            del entries[i]
        del self.addresses[uid]
        del self.names[uid]
        return True

    def in_order(self) -> Iterator[str]:
        """Uids of every member pod by IP, ready or not."""
        return (uid for _, uid in heapq.merge(self.ready, self.not_ready))


class EndpointsController:
    """Keeps Endpoints in step with Services and the ready state of their pods."""

    def __init__(self, ctx: SimContext) -> None:
        self.ctx = ctx
        self.svc_rt = ctx.registry.core("services")
        self.ep_rt = ctx.registry.core("endpoints")
        self.pods_rt = ctx.registry.core("pods")
        # namespace -> service name -> the pods it selects
        self.services: dict[str, dict[str, _Members]] = {}

    def start(self) -> None:
        """Subscribe and take in existing services."""
        self.ctx.store.subscribe(safe(self.on_event), [self.svc_rt.key, self.pods_rt.key])
        for svc in self.ctx.store.list(self.svc_rt):
            self.on_event(Event("ADDED", self.svc_rt, svc, None, 0))

    def on_event(self, ev: Event) -> None:
        """Requeue services whose selector matches a changed pod, or that changed themselves."""
        ns = meta(ev.obj).get("namespace", "")
        if ev.rt.key == self.svc_rt.key:
            self._service_changed(ns, ev)
        elif ev.rt.key == self.pods_rt.key and ns in self.services:
            if ev.type == "MODIFIED" and _pod_key(ev.old) == _pod_key(ev.obj):
                return
            for name, members in self.services[ns].items():
                if members.update(ev.obj, ev.type == "DELETED"):
                    self.queue(ns, name, BATCH_SECONDS)

    def _service_changed(self, ns: str, ev: Event) -> None:
        name = meta(ev.obj)["name"]
        selector = (ev.obj.get("spec") or {}).get("selector")
        in_ns = self.services.get(ns, {})
        if ev.type == "DELETED" or not selector:
            in_ns.pop(name, None)
            if not in_ns:
                self.services.pop(ns, None)
        elif name not in in_ns or in_ns[name].selector != selector:
            members = _Members(dict(selector))
            for pod in self.ctx.store.list(self.pods_rt, ns):
                members.update(pod, False)
            self.services.setdefault(ns, {})[name] = members
        self.queue(ns, name, 0)

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
        members = self.services.get(ns, {}).get(name)
        if members is None:  # no selector: the Endpoints are left to their owner
            return
        subsets, truncated = self._subsets(svc, members)
        if existing is None:
            labels = dict(meta(svc).get("labels") or {})
            ep: Obj = {
                "apiVersion": "v1",
                "kind": "Endpoints",
                "metadata": {"name": name, "namespace": ns, "labels": labels},
                "subsets": subsets,
            }
            if truncated:
                ep["metadata"]["annotations"] = {OVER_CAPACITY: "truncated"}
            with contextlib.suppress(ApiError):
                self.ctx.store.create(self.ep_rt, ep, ns)
            return

        def fn(o: Obj) -> None:
            o["subsets"] = subsets
            notes = o["metadata"].get("annotations") or {}
            if truncated:
                o["metadata"]["annotations"] = {**notes, OVER_CAPACITY: "truncated"}
            elif OVER_CAPACITY in notes:
                rest = {k: v for k, v in notes.items() if k != OVER_CAPACITY}
                if rest:
                    o["metadata"]["annotations"] = rest
                else:
                    del o["metadata"]["annotations"]

        self.ctx.store.mutate(self.ep_rt, ns, name, fn)

    def _subsets(self, svc: Obj, members: _Members) -> tuple[list[dict[str, Any]], bool]:
        """One subset of at most MAX_ADDRESSES addresses, ready ones first (as the real one)."""
        n_ready, n_not = len(members.ready), len(members.not_ready)
        if not n_ready and not n_not:
            return [], False
        keep_ready = min(n_ready, MAX_ADDRESSES)
        keep_not = min(n_not, MAX_ADDRESSES - keep_ready)
        ns = meta(svc).get("namespace")
        pods = self._pods(ns, members)
        ports = []
        for port in (svc.get("spec") or {}).get("ports") or []:
            entry: dict[str, Any] = {
                "port": _target_port(port, pods()),
                "protocol": port.get("protocol", "TCP"),
            }
            if port.get("name"):
                entry["name"] = port["name"]
            ports.append(entry)
        subset: dict[str, Any] = {"ports": ports}
        if keep_ready:
            subset["addresses"] = [members.addresses[u] for _, u in members.ready[:keep_ready]]
        if keep_not:
            subset["notReadyAddresses"] = [
                members.addresses[u] for _, u in members.not_ready[:keep_not]
            ]
        return [subset], keep_ready + keep_not < n_ready + n_not

    def _pods(self, ns: str | None, members: _Members) -> Callable[[], Iterator[Obj]]:
        def pods() -> Iterator[Obj]:
            for uid in members.in_order():
                pod = self.ctx.store.get(self.pods_rt, ns, members.names[uid])
                if pod is not None:
                    yield pod

        return pods


def register(ctx: SimContext) -> None:
    """Start the Endpoints controller."""
    EndpointsController(ctx).start()
