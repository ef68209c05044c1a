"""Default scheduler: binds pending pods to the least-allocated node that has room."""

from __future__ import annotations

import re
from collections import Counter
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation
from typing import Any

from ..context import SimContext
from ..store import Event, Obj
from ._common import (
    condition_true,
    deleting,
    emit_event,
    meta,
    pod_terminal,
    safe,
    set_condition,
    uid_of,
)

_SUFFIX: dict[str, int | Decimal] = {
    "": 1,
    "n": Decimal("1e-9"),
    "u": Decimal("1e-6"),
    "m": Decimal("1e-3"),
    "k": 10**3,
    "M": 10**6,
    "G": 10**9,
    "T": 10**12,
    "P": 10**15,
    "E": 10**18,
    "Ki": 2**10,
    "Mi": 2**20,
    "Gi": 2**30,
    "Ti": 2**40,
    "Pi": 2**50,
    "Ei": 2**60,
}
_QTY = re.compile(r"^([+-]?[0-9.]+(?:[eE][+-]?[0-9]+)?)(Ki|Mi|Gi|Ti|Pi|Ei|n|u|m|k|M|G|T|P|E)?$")


def parse_quantity(value: Any) -> Decimal:
    """A Kubernetes quantity (``100m``, ``1Gi``, ``4G``, ``2``) as a Decimal; ValueError if bad."""
    if isinstance(value, int | float) and not isinstance(value, bool):
        return Decimal(str(value))
    m = _QTY.match(str(value).strip())
    if not m:
        raise ValueError(f"invalid quantity {value!r}")
    try:
        return Decimal(m.group(1)) * Decimal(_SUFFIX[m.group(2) or ""])
    except InvalidOperation:
        raise ValueError(f"invalid quantity {value!r}") from None


def _millis(value: Any) -> int:
    try:
        return int((parse_quantity(value) * 1000).to_integral_value(rounding="ROUND_CEILING"))
    except ValueError:
        return 0


def _bytes(value: Any) -> int:
    try:
        return int(parse_quantity(value).to_integral_value(rounding="ROUND_CEILING"))
    except ValueError:
        return 0


def pod_requests(pod: Obj) -> tuple[int, int]:
    """(cpu millis, memory bytes) a pod requests: sum of containers, at least the largest init."""
    spec = pod.get("spec") or {}

    def one(c: dict[str, Any]) -> tuple[int, int]:
        res = c.get("resources") or {}
        req = {**(res.get("limits") or {}), **(res.get("requests") or {})}
        return _millis(req.get("cpu", 0)), _bytes(req.get("memory", 0))

    cpu = mem = 0
    for c in spec.get("containers") or []:
        a, b = one(c)
        cpu, mem = cpu + a, mem + b
    for c in spec.get("initContainers") or []:
        a, b = one(c)
        cpu, mem = max(cpu, a), max(mem, b)
    return cpu, mem


@dataclass
class NodeState:
    """What the scheduler knows about one node."""

    name: str
    labels: dict[str, str]
    cpu: int
    mem: int
    pods: int
    ready: bool
    unschedulable: bool
    used_cpu: int = 0
    used_mem: int = 0
    used_pods: int = 0
    misfit: list[str] = field(default_factory=list)

    def reasons(self, cpu: int, mem: int, selector: dict[str, str]) -> list[str]:
        """Why a pod does not fit here (empty when it fits)."""
        out: list[str] = []
        if not self.ready:
            out.append("node(s) had untolerated taint {node.kubernetes.io/not-ready: }")
            return out
        if self.unschedulable:
            return ["node(s) were unschedulable"]
        if any(self.labels.get(k) != v for k, v in selector.items()):
            return ["node(s) didn't match Pod's node affinity/selector"]
        if self.used_pods + 1 > self.pods:
            out.append("Too many pods")
        if cpu and self.used_cpu + cpu > self.cpu:
            out.append("Insufficient cpu")
        if mem and self.used_mem + mem > self.mem:
            out.append("Insufficient memory")
        return out


class Scheduler:
    """Binds pods after the ``Pod.PodScheduled`` delay; tracks node allocation incrementally."""

    def __init__(self, ctx: SimContext) -> None:
        self.ctx = ctx
        self.pods_rt = ctx.registry.core("pods")
        self.nodes_rt = ctx.registry.core("nodes")
        self.nodes: dict[str, NodeState] = {}
        # pod uid -> (node, cpu, mem) of every pod counted against a node
        self.bound: dict[str, tuple[str, int, int]] = {}
        # pod uid -> (namespace, name), FIFO, waiting for room
        self.unschedulable: dict[str, tuple[str, str]] = {}

    def start(self) -> None:
        """Subscribe and take in existing nodes and pods."""
        self.ctx.store.subscribe(safe(self.on_event), [self.pods_rt.key, self.nodes_rt.key])
        for node in self.ctx.store.list(self.nodes_rt):
            self._node_changed(node, removed=False)
        for pod in self.ctx.store.list(self.pods_rt):
            self._pod_changed(pod, removed=False)

    def on_event(self, ev: Event) -> None:
        """Keep node state and accounting current; queue new pending pods."""
        if ev.rt.key == self.pods_rt.key:
            self._pod_changed(ev.obj, removed=ev.type == "DELETED")
        elif ev.rt.key == self.nodes_rt.key:
            self._node_changed(ev.obj, removed=ev.type == "DELETED")

    def _node_changed(self, node: Obj, removed: bool) -> None:
        name = meta(node)["name"]
        if removed:
            self.nodes.pop(name, None)
            return
        alloc = (node.get("status") or {}).get("allocatable") or {}
        st = self.nodes.get(name)
        was_ready = st is not None and st.ready and not st.unschedulable
        new = NodeState(
            name,
            dict(meta(node).get("labels") or {}),
            _millis(alloc.get("cpu", 0)),
            _bytes(alloc.get("memory", 0)),
            int(_bytes(alloc.get("pods", 110))),
            condition_true(node, "Ready"),
            bool((node.get("spec") or {}).get("unschedulable")),
        )
        if st is not None:
            new.used_cpu, new.used_mem, new.used_pods = st.used_cpu, st.used_mem, st.used_pods
        self.nodes[name] = new
        if new.ready and not new.unschedulable and not was_ready:
            self._retry_soon()

    def _pod_changed(self, pod: Obj, removed: bool) -> None:
        uid = uid_of(pod)
        node = (pod.get("spec") or {}).get("nodeName")
        if removed or pod_terminal(pod):
            self.unschedulable.pop(uid, None)
            self.ctx.cancel(("pod", uid, "PodScheduled"))
            if self._release(uid):
                self._retry_soon()
            return
        if node:
            self.unschedulable.pop(uid, None)
            if uid not in self.bound:
                cpu, mem = pod_requests(pod)
                self._charge(uid, node, cpu, mem)
            return
        if deleting(pod) or uid in self.unschedulable:
            return
        if (pod.get("spec") or {}).get("schedulerName", "default-scheduler") != "default-scheduler":
            return
        key = ("pod", uid, "PodScheduled")
        if not self.ctx.pending(key):
            ns, name = meta(pod).get("namespace", ""), meta(pod)["name"]
            self.ctx.schedule(
                key, self.ctx.delay("Pod.PodScheduled"), safe(lambda: self._try(ns, name, uid))
            )

    def _charge(self, uid: str, node: str, cpu: int, mem: int) -> None:
        self.bound[uid] = (node, cpu, mem)
        st = self.nodes.get(node)
        if st is not None:
            st.used_cpu += cpu
            st.used_mem += mem
            st.used_pods += 1

    def _release(self, uid: str) -> bool:
        entry = self.bound.pop(uid, None)
        if entry is None:
            return False
        st = self.nodes.get(entry[0])
        if st is not None:
            st.used_cpu -= entry[1]
            st.used_mem -= entry[2]
            st.used_pods -= 1
        return True

    def _retry_soon(self) -> None:
        if self.unschedulable and not self.ctx.pending(("scheduler", "retry")):
            self.ctx.schedule(("scheduler", "retry"), 0, safe(self._retry))

    def _retry(self) -> None:
        for uid, (ns, name) in list(self.unschedulable.items()):
            self._try(ns, name, uid, retry=True)

    def _try(self, ns: str, name: str, uid: str, retry: bool = False) -> None:
        pod = self.ctx.store.get(self.pods_rt, ns, name)
        if pod is None or uid_of(pod) != uid or deleting(pod) or pod_terminal(pod):
            self.unschedulable.pop(uid, None)
            return
        if (pod.get("spec") or {}).get("nodeName"):
            self.unschedulable.pop(uid, None)
            return
        cpu, mem = pod_requests(pod)
        selector = dict((pod.get("spec") or {}).get("nodeSelector") or {})
        best: NodeState | None = None
        why: Counter[str] = Counter()
        for st in self.nodes.values():
            reasons = st.reasons(cpu, mem, selector)
            if reasons:
                why.update(reasons)
                continue
            if best is None or self._score(st) < self._score(best):
                best = st
        at = self.ctx.clock()
        if best is None:
            self.unschedulable[uid] = (ns, name)
            total = len(self.nodes)
            detail = ", ".join(f"{n} {r}" for r, n in sorted(why.items()))
            msg = (
                f"0/{total} nodes are available: {detail}."
                if detail
                else ("no nodes available to schedule pods")
            )
            self.ctx.store.mutate(
                self.pods_rt,
                ns,
                name,
                lambda p: set_condition(p, "PodScheduled", "False", at, "Unschedulable", msg, True),
                subresource="status",
            )
            return
        self.unschedulable.pop(uid, None)
        self._charge(uid, best.name, cpu, mem)

        def bind(p: Obj) -> None:
            p.setdefault("spec", {})["nodeName"] = best.name

        if self.ctx.store.mutate(self.pods_rt, ns, name, bind) is None:
            self._release(uid)
            return
        done = self.ctx.store.mutate(
            self.pods_rt,
            ns,
            name,
            lambda p: set_condition(p, "PodScheduled", "True", at, probe=True),
            subresource="status",
        )
        if done is not None:
            self.ctx.ground_truth.record(done, "PodScheduled", at)
            emit_event(
                self.ctx,
                done,
                "Scheduled",
                f"Successfully assigned {ns}/{name} to {best.name}",
                "default-scheduler",
                at,
            )

    @staticmethod
    def _score(st: NodeState) -> float:
        """Least allocated: the larger of the cpu/memory/pod fractions in use."""
        return max(
            st.used_cpu / st.cpu if st.cpu else 0.0,
            st.used_mem / st.mem if st.mem else 0.0,
            st.used_pods / st.pods if st.pods else 1.0,
        )


def register(ctx: SimContext) -> Scheduler:
    """Start the scheduler."""
    sched = Scheduler(ctx)
    sched.start()
    return sched
