"""State-derived metrics kept incrementally from store events and rendered as text at scrape time.

kube-state-metrics (pods, nodes, namespaces), cAdvisor-style container usage, KubeVirt phase
counts, object counts; plus the exact-time observations of pod start and VMI phase transitions.
"""

from __future__ import annotations

import time
from collections import Counter
from collections.abc import Callable
from typing import Any, Protocol

from .controllers.scheduler import parse_quantity
from .store import Event, Obj, Store

POD_PHASES = ("Pending", "Running", "Succeeded", "Failed", "Unknown")
NAMESPACE_PHASES = ("Active", "Terminating")
CONDITION_STATUSES = ("true", "false", "unknown")
CPU_USAGE_FRACTION = 0.1  # simulated containers use a tenth of their cpu request
RSS_FRACTION = 0.6  # ... and 60% of their memory request as RSS
WSS_FRACTION = 0.8  # ... and 80% as working set
DEFAULT_CPU_MILLIS = 100
DEFAULT_MEMORY_BYTES = 64 * 1024**2
APISERVER = "kube-apiserver"
CADVISOR = 'job="kubelet",service="kubelet",metrics_path="/metrics/cadvisor"'
NONE = "<none>"


class Observer(Protocol):
    """Where exact-time histogram observations go (SimMetrics)."""

    def observe_pod_start(self, node: str, seconds: float) -> None: ...

    def observe_vmi_phase(self, phase: str, seconds: float, *, deletion: bool = False) -> None: ...


def esc(value: str) -> str:
    """Escape a label value for the text format."""
    if "\\" in value or '"' in value or "\n" in value:
        return value.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n")
    return value


def _cpu_cores(value: Any) -> float:
    try:
        return float(parse_quantity(value))
    except ValueError:
        return 0.0


def _bytes(value: Any) -> float:
    try:
        return float(parse_quantity(value))
    except ValueError:
        return 0.0


class PodState:
    """What the metrics need to remember about one pod."""

    __slots__ = ("containers", "cpu_done", "created", "name", "namespace", "node", "phase",
                 "phase_lines", "running_since", "uid", "usage")  # fmt: skip

    def __init__(self, obj: Obj, created: float) -> None:
        meta = obj.get("metadata") or {}
        self.uid: str = meta.get("uid", "")
        self.namespace: str = meta.get("namespace", "")
        self.name: str = meta.get("name", "")
        self.created = created
        self.phase = ""
        self.node = ""
        self.running_since: float | None = None
        self.cpu_done = 0.0
        self.phase_lines: str | None = None
        self.containers: list[tuple[str, str, float, float]] | None = None
        # cached cAdvisor lines: (cpu line prefixes with cores, rss lines, working-set lines)
        self.usage: tuple[list[tuple[str, float]], str, str] | None = None

    def parse_containers(self, obj: Obj) -> None:
        """Remember name, image, cpu cores and memory bytes requested by each container."""
        self.containers = []
        for c in (obj.get("spec") or {}).get("containers") or []:
            res = c.get("resources") or {}
            req = {**(res.get("limits") or {}), **(res.get("requests") or {})}
            cpu = _cpu_cores(req["cpu"]) if "cpu" in req else DEFAULT_CPU_MILLIS / 1000
            mem = _bytes(req["memory"]) if "memory" in req else DEFAULT_MEMORY_BYTES
            self.containers.append((str(c.get("name", "")), str(c.get("image", "")), cpu, mem))

    def cpu_seconds(self, cpu: float, now: float) -> float:
        """Simulated cumulative cpu seconds of a container requesting ``cpu`` cores."""
        running = now - self.running_since if self.running_since is not None else 0.0
        return (self.cpu_done + running) * cpu * CPU_USAGE_FRACTION

    def usage_lines(self) -> tuple[list[tuple[str, float]], str, str]:
        """The (cached) cAdvisor-style sample lines of this pod's containers."""
        if self.usage is None:
            cpu_prefixes, rss, wss = [], [], []
            for cname, image, cpu, mem in self.containers or ():
                labels = (
                    f'container="{esc(cname)}",pod="{esc(self.name)}",'
                    f'namespace="{esc(self.namespace)}",node="{esc(self.node)}",'
                    f'name="{esc(cname)}",image="{esc(image)}",'
                    f'id="/kubepods/pod{self.uid}/{esc(cname)}",{CADVISOR}'
                )
                cpu_prefixes.append(
                    (f'container_cpu_usage_seconds_total{{{labels},cpu="total"}} ', cpu)
                )
                rss.append(f"container_memory_rss{{{labels}}} {int(mem * RSS_FRACTION)}\n")
                wss.append(
                    f"container_memory_working_set_bytes{{{labels}}} {int(mem * WSS_FRACTION)}\n"
                )
            self.usage = (cpu_prefixes, "".join(rss), "".join(wss))
        return self.usage


class StateMetrics:
    """Incremental state counters fed by store events."""

    def __init__(self, observer: Observer, clock: Callable[[], float] = time.time) -> None:
        self.observer = observer
        self.clock = clock
        self.objects: Counter[str] = Counter()
        self.pods: dict[str, PodState] = {}
        self.nodes: dict[str, list[tuple[str, str]]] = {}
        self.namespaces: dict[str, str] = {}
        self.vmis: dict[str, tuple[str, str, float, float | None]] = {}
        self.vmi_counts: Counter[tuple[str, str]] = Counter()

    def attach(self, store: Store) -> None:
        """Take in what ``store`` already holds, then follow its writes."""
        for rt in store.registry:
            for obj in store.list(rt):
                self.on_event(Event("ADDED", rt, obj, None, store.rv))
        store.subscribe(self.on_event)

    def on_event(self, ev: Event) -> None:
        """Store listener: update counters for one write."""
        rt = ev.rt
        label = f"{rt.resource}.{rt.group}" if rt.group else rt.resource
        if ev.type == "ADDED":
            self.objects[label] += 1
        elif ev.type == "DELETED":
            self.objects[label] -= 1
        key = rt.key
        if key == "/pods":
            self._pod(ev)
        elif key == "kubevirt.io/virtualmachineinstances":
            self._vmi(ev)
        elif key == "/nodes":
            self._node(ev)
        elif key == "/namespaces":
            name = (ev.obj.get("metadata") or {}).get("name", "")
            if ev.type == "DELETED":
                self.namespaces.pop(name, None)
            else:
                self.namespaces[name] = (ev.obj.get("status") or {}).get("phase") or "Active"

    def _pod(self, ev: Event) -> None:
        obj = ev.obj
        uid = (obj.get("metadata") or {}).get("uid", "")
        now = self.clock()
        if ev.type == "DELETED":
            self.pods.pop(uid, None)
            return
        pod = self.pods.get(uid)
        if pod is None:
            pod = self.pods[uid] = PodState(obj, now)
        status = obj.get("status") or {}
        phase = status.get("phase") or "Pending"
        node = (obj.get("spec") or {}).get("nodeName") or ""
        if node != pod.node:
            pod.node, pod.usage = node, None
        if phase == pod.phase:
            return
        if phase == "Running" and pod.running_since is None:
            if pod.containers is None:
                pod.parse_containers(obj)
            pod.running_since = now
            self.observer.observe_pod_start(pod.node, now - pod.created)
        elif phase != "Running" and pod.running_since is not None:
            pod.cpu_done += now - pod.running_since
            pod.running_since = None
        pod.phase = phase
        pod.phase_lines = None

    def _vmi(self, ev: Event) -> None:
        obj = ev.obj
        meta = obj.get("metadata") or {}
        uid = meta.get("uid", "")
        now = self.clock()
        prev = self.vmis.get(uid)
        if prev is not None:
            self.vmi_counts[(prev[0], prev[1])] -= 1
        if ev.type == "DELETED":
            self.vmis.pop(uid, None)
            return
        status = obj.get("status") or {}
        phase = status.get("phase") or ""
        node = status.get("nodeName") or ""
        created = prev[2] if prev is not None else now
        deleted = prev[3] if prev is not None else None
        if deleted is None and meta.get("deletionTimestamp"):
            deleted = now
        if phase and (prev is None or prev[0] != phase):
            self.observer.observe_vmi_phase(phase, now - created)
            if deleted is not None and phase in ("Succeeded", "Failed"):
                self.observer.observe_vmi_phase(phase, now - deleted, deletion=True)
        self.vmis[uid] = (phase, node, created, deleted)
        self.vmi_counts[(phase, node)] += 1

    def _node(self, ev: Event) -> None:
        name = (ev.obj.get("metadata") or {}).get("name", "")
        if ev.type == "DELETED":
            self.nodes.pop(name, None)
            return
        conditions = (ev.obj.get("status") or {}).get("conditions") or []
        self.nodes[name] = [(str(c.get("type")), str(c.get("status"))) for c in conditions]

    def render(self) -> str:
        """Every state-derived family in Prometheus text format."""
        now = self.clock()
        out: list[str] = []
        self._objects(out)
        self._pod_phases(out)
        self._node_lines(out)
        head(out, "kube_namespace_status_phase", "gauge", "kube-state-metrics namespace phase.")
        for ns, phase in sorted(self.namespaces.items()):
            for p in NAMESPACE_PHASES:
                out.append(
                    f'kube_namespace_status_phase{{namespace="{esc(ns)}",phase="{p}"}} '
                    f"{int(p == phase)}\n"
                )
        head(out, "kubevirt_vmi_phase_count", "gauge", "Sum of VMIs per phase and node.")
        for (phase, node), count in sorted(self.vmi_counts.items()):
            if count > 0 and phase:
                out.append(
                    f'kubevirt_vmi_phase_count{{phase="{phase.lower()}",node="{esc(node)}",'
                    f'os="{NONE}",workload="{NONE}",flavor="{NONE}",instance_type="{NONE}",'
                    f'preference="{NONE}"}} {count}\n'
                )
        self._containers(out, now)
        return "".join(out)

    def _objects(self, out: list[str]) -> None:
        items = sorted(self.objects.items())
        for name, help_text in (
            ("apiserver_storage_objects", "Number of stored objects at the time of last check"
             " split by kind."),
            ("etcd_object_counts", "Number of stored objects at the time of last check split"
             " by kind. (deprecated)"),
        ):  # fmt: skip
            head(out, name, "gauge", help_text)
            out.extend(
                f'{name}{{resource="{res}",apiserver="{APISERVER}"}} {count}\n'
                for res, count in items
            )

    def _pod_phases(self, out: list[str]) -> None:
        head(out, "kube_pod_status_phase", "gauge", "The pods current phase.")
        for pod in self.pods.values():
            if pod.phase_lines is None:
                labels = f'namespace="{esc(pod.namespace)}",pod="{esc(pod.name)}",uid="{pod.uid}"'
                pod.phase_lines = "".join(
                    f'kube_pod_status_phase{{{labels},phase="{p}"}} {int(p == pod.phase)}\n'
                    for p in POD_PHASES
                )
            out.append(pod.phase_lines)

    def _node_lines(self, out: list[str]) -> None:
        head(out, "kube_node_status_condition", "gauge", "The condition of a cluster node.")
        for node, conditions in sorted(self.nodes.items()):
            for ctype, cstatus in conditions:
                for s in CONDITION_STATUSES:
                    out.append(
                        f'kube_node_status_condition{{node="{esc(node)}",condition="{esc(ctype)}",'
                        f'status="{s}"}} {int(s == cstatus.lower())}\n'
                    )
        head(out, "kube_node_role", "gauge", "The role of a cluster node.")
        out.extend(
            f'kube_node_role{{node="{esc(n)}",role="worker"}} 1\n' for n in sorted(self.nodes)
        )

    def _containers(self, out: list[str], now: float) -> None:
        running = [(*p.usage_lines(), p) for p in self.pods.values() if p.running_since is not None]
        head(out, "container_cpu_usage_seconds_total", "counter",
             "Cumulative cpu time consumed in seconds.")  # fmt: skip
        for cpu_prefixes, _, _, pod in running:
            for prefix, cores in cpu_prefixes:
                out.append(f"{prefix}{pod.cpu_seconds(cores, now):.6f}\n")
        head(out, "container_memory_rss", "gauge", "Size of RSS in bytes.")
        out.extend(rss for _, rss, _, _ in running)
        head(out, "container_memory_working_set_bytes", "gauge", "Current working set in bytes.")
        out.extend(wss for _, _, wss, _ in running)


def head(out: list[str], name: str, mtype: str, help_text: str) -> None:
    """Append the HELP and TYPE lines of a family."""
    out.append(f"# HELP {name} {help_text}\n# TYPE {name} {mtype}\n")
