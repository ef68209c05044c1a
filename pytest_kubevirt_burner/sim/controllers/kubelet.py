"""Simulated kubelet: runs bound pods through their conditions, completes job pods, deletes pods."""

from __future__ import annotations

import calendar
import hashlib
import time
from typing import Any

from ..context import SimContext
from ..store import Event, Obj, now_rfc3339
from ._common import (
    condition_true,
    controller_ref,
    deleting,
    emit_event,
    meta,
    pod_phase,
    pod_terminal,
    safe,
    set_condition,
    uid_of,
)
from .nodes import node_index

STEPS = ("Initialized", "ContainersReady", "Ready", "Succeeded")


def _parse_time(stamp: str) -> float:
    return float(calendar.timegm(time.strptime(stamp, "%Y-%m-%dT%H:%M:%SZ")))


def _image_id(image: str) -> str:
    repo = image.split("@", 1)[0]
    last = repo.rsplit("/", 1)[-1]
    if ":" in last:
        repo = repo[: len(repo) - len(last)] + last.split(":", 1)[0]
    if "/" not in repo:
        repo = f"docker.io/library/{repo}"
    elif "." not in repo.split("/", 1)[0]:
        repo = f"docker.io/{repo}"
    return f"{repo}@sha256:{hashlib.sha256(image.encode()).hexdigest()}"


def _container_statuses(
    pod: Obj, state: dict[str, Any], ready: bool, started: bool, key: str = "containers"
) -> list[Any]:
    uid = uid_of(pod)
    out = []
    for c in (pod.get("spec") or {}).get(key) or []:
        image = str(c.get("image", ""))
        st: dict[str, Any] = {
            "name": c.get("name", ""),
            "image": image,
            "imageID": _image_id(image) if "waiting" not in state else "",
            "ready": ready,
            "restartCount": 0,
            "started": started,
            "state": state,
        }
        if "waiting" not in state:
            digest = hashlib.sha256(f"{uid}/{c.get('name')}".encode()).hexdigest()
            st["containerID"] = f"containerd://{digest}"
        out.append(st)
    return out


class Kubelet:
    """Drives pods bound to existing nodes: Initialized -> ContainersReady -> Ready/Running."""

    def __init__(self, ctx: SimContext) -> None:
        self.ctx = ctx
        self.pods_rt = ctx.registry.core("pods")
        self.nodes_rt = ctx.registry.core("nodes")
        # node name -> free host numbers; pod uid -> (node, number)
        self.ip_next: dict[str, int] = {}
        self.ip_free: dict[str, list[int]] = {}
        self.ips: dict[str, tuple[str, int]] = {}

    def start(self) -> None:
        """Subscribe and pick up existing pods."""
        self.ctx.store.subscribe(safe(self.on_event), [self.pods_rt.key])
        for pod in self.ctx.store.list(self.pods_rt):
            self._reconcile(pod)

    def on_event(self, ev: Event) -> None:
        """Schedule the next step of a pod, or its removal."""
        if ev.rt.key != self.pods_rt.key:
            return
        if ev.type == "DELETED":
            uid = uid_of(ev.obj)
            for step in (*STEPS, "Deleted"):
                self.ctx.cancel(("pod", uid, step))
            self._free_ip(uid)
            return
        self._reconcile(ev.obj)

    def _next_step(self, pod: Obj) -> str | None:
        if not condition_true(pod, "Initialized"):
            return "Initialized"
        if not condition_true(pod, "ContainersReady"):
            return "ContainersReady"
        if not condition_true(pod, "Ready"):
            return "Ready"
        ref = controller_ref(pod)
        if ref is not None and ref.get("kind") == "Job":
            return "Succeeded"
        return None

    def _reconcile(self, pod: Obj) -> None:
        uid = uid_of(pod)
        m = meta(pod)
        ns, name = m.get("namespace", ""), m["name"]
        if deleting(pod):
            for other in STEPS:
                self.ctx.cancel(("pod", uid, other))
            key = ("pod", uid, "Deleted")
            if not self.ctx.pending(key):
                delay = self.ctx.delay("Pod.Deleted")
                grace = m.get("deletionGracePeriodSeconds")
                if grace is not None:
                    delay = min(delay, float(grace))
                if m.get("deletionTimestamp"):
                    left = _parse_time(m["deletionTimestamp"]) - self.ctx.clock()
                    delay = max(0.0, min(delay, left))
                self.ctx.schedule(key, delay, safe(lambda: self._delete(ns, name, uid)))
            return
        node = (pod.get("spec") or {}).get("nodeName")
        if not node or pod_terminal(pod):
            return
        step = self._next_step(pod)
        if step is None:
            return
        key = ("pod", uid, step)
        if self.ctx.pending(key):
            return
        if self.ctx.store.get(self.nodes_rt, None, node) is None:
            return
        delay_key = "Job.Complete" if step == "Succeeded" else f"Pod.{step}"
        self.ctx.schedule(
            key, self.ctx.delay(delay_key), safe(lambda: self._advance(ns, name, uid, step))
        )

    def _advance(self, ns: str, name: str, uid: str, step: str) -> None:
        pod = self.ctx.store.get(self.pods_rt, ns, name)
        if pod is None or uid_of(pod) != uid or deleting(pod) or self._next_step(pod) != step:
            return
        at = self.ctx.clock()
        recorded = [step]
        if step == "Initialized":
            if get_missing_scheduled(pod):
                recorded.insert(0, "PodScheduled")
            host_ip = self._host_ip(pod["spec"]["nodeName"])
            pod_ip = self._alloc_ip(uid, pod["spec"]["nodeName"])
            fn = _initialize(at, host_ip, pod_ip)
        elif step == "ContainersReady":
            fn = _containers_ready(at)
        elif step == "Ready":
            recorded.append("Running")
            fn = _ready(at)
        else:
            fn = _succeeded(at)
        new = self.ctx.store.mutate(self.pods_rt, ns, name, fn, subresource="status")
        if new is None:
            return
        for transition in recorded:
            self.ctx.ground_truth.record(new, transition, at)
        if step == "ContainersReady":
            node = new["spec"]["nodeName"]
            for c in new["spec"].get("containers") or []:
                emit_event(
                    self.ctx,
                    new,
                    "Started",
                    f"Started container {c.get('name')}",
                    "kubelet",
                    at,
                    node,
                )

    def _delete(self, ns: str, name: str, uid: str) -> None:
        pod = self.ctx.store.get(self.pods_rt, ns, name)
        if pod is None or uid_of(pod) != uid:
            return
        at = self.ctx.clock()
        obj, removed = self.ctx.store.delete(
            self.pods_rt, ns, name, grace_period_seconds=0, preconditions={"uid": uid}
        )
        if removed:
            self.ctx.ground_truth.record(obj, "Deleted", at)

    def _host_ip(self, node: str) -> str:
        obj = self.ctx.store.get(self.nodes_rt, None, node)
        for addr in ((obj or {}).get("status") or {}).get("addresses") or []:
            if addr.get("type") == "InternalIP":
                return str(addr["address"])
        return "10.0.0.1"

    def _alloc_ip(self, uid: str, node: str) -> str:
        if uid not in self.ips:
            free = self.ip_free.setdefault(node, [])
            if free:
                num = free.pop()
            else:
                num = self.ip_next.get(node, 0)
                self.ip_next[node] = num + 1
            self.ips[uid] = (node, num)
        node, num = self.ips[uid]
        idx = node_index(node)
        return f"10.{244 + num // 253}.{idx % 256}.{num % 253 + 2}"

    def _free_ip(self, uid: str) -> None:
        entry = self.ips.pop(uid, None)
        if entry is not None:
            self.ip_free.setdefault(entry[0], []).append(entry[1])


def get_missing_scheduled(pod: Obj) -> bool:
    """Whether the pod never went through the scheduler (nodeName preset, no PodScheduled)."""
    return not any(c.get("type") == "PodScheduled" for c in pod["status"].get("conditions") or [])


def _initialize(at: float, host_ip: str, pod_ip: str) -> Any:
    def fn(pod: Obj) -> None:
        st = pod.setdefault("status", {})
        names = [c.get("name") for c in pod["spec"].get("containers") or []]
        msg = f"containers with unready status: [{' '.join(str(n) for n in names)}]"
        if get_missing_scheduled(pod):
            set_condition(pod, "PodScheduled", "True", at, probe=True)
        set_condition(pod, "PodReadyToStartContainers", "True", at, probe=True)
        set_condition(pod, "Initialized", "True", at, probe=True)
        set_condition(pod, "Ready", "False", at, "ContainersNotReady", msg, True)
        set_condition(pod, "ContainersReady", "False", at, "ContainersNotReady", msg, True)
        st["phase"] = pod_phase(pod)
        st["hostIP"] = host_ip
        st["hostIPs"] = [{"ip": host_ip}]
        st["podIP"] = pod_ip
        st["podIPs"] = [{"ip": pod_ip}]
        st["startTime"] = now_rfc3339(at)
        st.setdefault("qosClass", "BestEffort")
        st["containerStatuses"] = _container_statuses(
            pod, {"waiting": {"reason": "ContainerCreating"}}, False, False
        )
        if pod["spec"].get("initContainers"):  # they ran to completion before Initialized
            stamp = now_rfc3339(at)
            done = {"exitCode": 0, "reason": "Completed", "startedAt": stamp, "finishedAt": stamp}
            st["initContainerStatuses"] = _container_statuses(
                pod, {"terminated": done}, True, False, "initContainers"
            )

    return fn


def _containers_ready(at: float) -> Any:
    def fn(pod: Obj) -> None:
        running = {"running": {"startedAt": now_rfc3339(at)}}
        pod["status"]["containerStatuses"] = _container_statuses(pod, running, True, True)
        set_condition(pod, "ContainersReady", "True", at, probe=True)

    return fn


def _ready(at: float) -> Any:
    def fn(pod: Obj) -> None:
        set_condition(pod, "Ready", "True", at, probe=True)
        pod["status"]["phase"] = "Running"

    return fn


def _succeeded(at: float) -> Any:
    def fn(pod: Obj) -> None:
        stamp = now_rfc3339(at)
        statuses = pod["status"].get("containerStatuses") or []
        for cs in statuses:
            started = ((cs.get("state") or {}).get("running") or {}).get("startedAt", stamp)
            cs["state"] = {
                "terminated": {
                    "exitCode": 0,
                    "reason": "Completed",
                    "startedAt": started,
                    "finishedAt": stamp,
                    "containerID": cs.get("containerID"),
                }
            }
            cs["ready"] = False
            cs["started"] = False
        set_condition(pod, "Ready", "False", at, "PodCompleted", None, True)
        set_condition(pod, "ContainersReady", "False", at, "PodCompleted", None, True)
        set_condition(pod, "PodReadyToStartContainers", "False", at, None, None, True)
        pod["status"]["phase"] = "Succeeded"

    return fn


def register(ctx: SimContext) -> Kubelet:
    """Start the kubelet."""
    kubelet = Kubelet(ctx)
    kubelet.start()
    return kubelet
