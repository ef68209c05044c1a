"""Simulated nodes (created at start, Ready after a delay) and the default namespaces/accounts."""

from __future__ import annotations

import contextlib
from typing import Any

from ..context import NodeShape, SimContext
from ..errors import ApiError
from ..store import Event, Obj, now_rfc3339
from ._common import meta, safe, set_condition, short_hash

DEFAULT_NAMESPACES = ("default", "kube-system", "kube-public", "kube-node-lease")
KUBELET_VERSION = "v1.33.1"


def node_name(index: int) -> str:
    """Name of the ``index``-th simulated node."""
    return f"sim-node-{index}"


def node_index(name: str) -> int:
    """Index of a simulated node from its name (a stable hash for other names)."""
    prefix = "sim-node-"
    if name.startswith(prefix) and name[len(prefix) :].isdigit():
        return int(name[len(prefix) :])
    return sum(name.encode()) % 200 + 1000


def node_ip(index: int) -> str:
    """InternalIP of a simulated node."""
    return f"10.0.{index // 250}.{index % 250 + 2}"


def _resources(shape: NodeShape) -> dict[str, str]:
    cpu = shape.cpu_millis
    return {
        "cpu": str(cpu // 1000) if cpu % 1000 == 0 else f"{cpu}m",
        "memory": f"{shape.memory_bytes // 1024}Ki",
        "pods": str(shape.pods),
        "ephemeral-storage": "104857600Ki",
        "hugepages-1Gi": "0",
        "hugepages-2Mi": "0",
    }


def _node(index: int, shape: NodeShape, at: float) -> Obj:
    name = node_name(index)
    stamp = now_rfc3339(at)
    digest = short_hash(name, 32)
    conditions: list[dict[str, Any]] = [
        {
            "type": ctype,
            "status": "False",
            "reason": reason,
            "message": message,
            "lastHeartbeatTime": stamp,
            "lastTransitionTime": stamp,
        }
        for ctype, reason, message in (
            ("MemoryPressure", "KubeletHasSufficientMemory", "kubelet has sufficient memory"),
            ("DiskPressure", "KubeletHasNoDiskPressure", "kubelet has no disk pressure"),
            ("PIDPressure", "KubeletHasSufficientPID", "kubelet has sufficient PID available"),
            ("Ready", "KubeletNotReady", "container runtime status check may not have completed"),
        )
    ]
    return {
        "apiVersion": "v1",
        "kind": "Node",
        "metadata": {
            "name": name,
            "labels": {
                "kubernetes.io/hostname": name,
                "kubernetes.io/os": "linux",
                "kubernetes.io/arch": "amd64",
                "beta.kubernetes.io/os": "linux",
                "beta.kubernetes.io/arch": "amd64",
                "node-role.kubernetes.io/worker": "",
                "kubevirt.io/schedulable": "true",
                "type": "sim",
            },
            "annotations": {"node.alpha.kubernetes.io/ttl": "0"},
        },
        "spec": {
            "podCIDR": f"10.244.{index % 256}.0/24",
            "podCIDRs": [f"10.244.{index % 256}.0/24"],
            "providerID": f"sim://{name}",
        },
        "status": {
            "capacity": _resources(shape),
            "allocatable": _resources(shape),
            "conditions": conditions,
            "addresses": [
                {"type": "InternalIP", "address": node_ip(index)},
                {"type": "Hostname", "address": name},
            ],
            "daemonEndpoints": {"kubeletEndpoint": {"Port": 10250}},
            "nodeInfo": {
                "architecture": "amd64",
                "bootID": f"{digest[:8]}-{digest[8:12]}-{digest[12:16]}-{digest[16:20]}",
                "containerRuntimeVersion": "containerd://1.7.27",
                "kernelVersion": "6.1.0-sim",
                "kubeProxyVersion": KUBELET_VERSION,
                "kubeletVersion": KUBELET_VERSION,
                "machineID": digest,
                "operatingSystem": "linux",
                "osImage": "Simulated Linux",
                "systemUUID": f"{digest[:8]}-sim-{index:04d}",
            },
            "images": [],
            "phase": "Running",
        },
    }


class NodeController:
    """Creates the nodes and default namespaces; makes nodes Ready; gives namespaces a SA."""

    def __init__(self, ctx: SimContext) -> None:
        self.ctx = ctx
        self.nodes_rt = ctx.registry.core("nodes")
        self.ns_rt = ctx.registry.core("namespaces")
        self.sa_rt = ctx.registry.core("serviceaccounts")

    def start(self) -> None:
        """Subscribe, then create namespaces and nodes that do not exist yet."""
        self.ctx.store.subscribe(safe(self.on_event), [self.ns_rt.key, self.nodes_rt.key])
        for ns in DEFAULT_NAMESPACES:
            if self.ctx.store.get(self.ns_rt, None, ns) is None:
                self.ctx.store.create(
                    self.ns_rt, {"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": ns}}
                )
        for nsobj in self.ctx.store.list(self.ns_rt):
            self._ensure_sa(meta(nsobj)["name"])
        for i in range(self.ctx.nodes):
            name = node_name(i)
            node = self.ctx.store.get(self.nodes_rt, None, name)
            if node is None:
                node = self.ctx.store.create(
                    self.nodes_rt, _node(i, self.ctx.node_shape, self.ctx.clock())
                )
            self._watch_ready(node)

    def on_event(self, ev: Event) -> None:
        """Namespaces get their default ServiceAccount; new sim nodes become Ready."""
        if ev.rt.key == self.ns_rt.key and ev.type == "ADDED":
            name = meta(ev.obj)["name"]
            self.ctx.schedule(("ns", name, "sa"), 0, safe(lambda: self._ensure_sa(name)))
        elif ev.rt.key == self.nodes_rt.key and ev.type == "ADDED":
            self._watch_ready(ev.obj)

    def _ensure_sa(self, ns: str) -> None:
        if self.ctx.store.get(self.sa_rt, ns, "default") is not None:
            return
        nsobj = self.ctx.store.get(self.ns_rt, None, ns)
        if nsobj is None or meta(nsobj).get("deletionTimestamp"):
            return
        with contextlib.suppress(ApiError):  # created concurrently or namespace terminating
            self.ctx.store.create(
                self.sa_rt,
                {
                    "apiVersion": "v1",
                    "kind": "ServiceAccount",
                    "metadata": {"name": "default", "namespace": ns},
                },
                ns,
            )

    def _watch_ready(self, node: Obj) -> None:
        name = meta(node)["name"]
        if not name.startswith("sim-node-"):
            return
        ready = next(
            (c for c in (node.get("status") or {}).get("conditions") or [] if c["type"] == "Ready"),
            None,
        )
        key = ("node", name, "Ready")
        if (ready is None or ready.get("status") != "True") and not self.ctx.pending(key):
            self.ctx.schedule(key, self.ctx.delay("Node.Ready"), safe(lambda: self._ready(name)))

    def _ready(self, name: str) -> None:
        at = self.ctx.clock()

        def fn(node: Obj) -> None:
            set_condition(
                node, "Ready", "True", at, "KubeletReady", "kubelet is posting ready status"
            )
            for cond in node["status"]["conditions"]:
                cond["lastHeartbeatTime"] = now_rfc3339(at)

        node = self.ctx.store.mutate(self.nodes_rt, None, name, fn, subresource="status")
        if node is not None:
            self.ctx.ground_truth.record(node, "Ready", at)


def register(ctx: SimContext) -> NodeController:
    """Start the node controller."""
    ctrl = NodeController(ctx)
    ctrl.start()
    return ctrl
