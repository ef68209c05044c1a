"""StatefulSet (ordered or parallel ordinals, claim templates) and DaemonSet (a pod per node)."""

from __future__ import annotations

import contextlib
import copy
from typing import Any

from ..context import SimContext
from ..errors import ApiError
from ..store import Event, Obj
from ._common import (
    deleting,
    meta,
    pod_active,
    pod_ready,
    short_hash,
    uid_of,
)
from .owned import OwnerController
from .workloads import create_pod, pod_from_template, replicas


def _ordinal(name: str) -> int:
    tail = name.rsplit("-", 1)[-1]
    return int(tail) if tail.isdigit() else -1


class StatefulSetController(OwnerController):
    """Pods ``<name>-0..N-1``; OrderedReady waits for each to be Ready, Parallel does not."""

    kind = "StatefulSet"

    def __init__(self, ctx: SimContext) -> None:
        super().__init__(ctx, "apps", "statefulsets")
        self.pvc_rt = ctx.registry.core("persistentvolumeclaims")

    def reconcile(self, obj: Obj) -> None:
        """Create missing ordinals, delete those above spec.replicas, write status."""
        spec = obj.get("spec") or {}
        name, ns = meta(obj)["name"], meta(obj).get("namespace", "")
        want = replicas(obj)
        ordered = spec.get("podManagementPolicy", "OrderedReady") != "Parallel"
        pods = self.tracker.of(uid_of(obj))
        revision = f"{name}-{short_hash(spec.get('template') or {})}"
        if not deleting(obj):
            for i in range(want):
                pod = pods.get(f"{name}-{i}")
                if pod is None:
                    self._create(obj, i, revision)
                    if ordered:
                        break
                elif ordered and not pod_ready(pod):
                    break
            extra = sorted((p for p in pods if _ordinal(p) >= want), key=_ordinal, reverse=True)
            if ordered and any(deleting(pods[p]) for p in extra):
                extra = []
            for pod_name in extra[:1] if ordered else extra:
                if not deleting(pods[pod_name]):
                    with contextlib.suppress(ApiError):
                        self.ctx.store.delete(self.pods_rt, ns, pod_name)
        live = [p for p in pods.values() if pod_active(p)]
        ready = sum(1 for p in live if pod_ready(p))
        fields = {
            "replicas": len(live),
            "readyReplicas": ready,
            "availableReplicas": ready,
            "currentReplicas": len(live),
            "updatedReplicas": len(live),
            "currentRevision": revision,
            "updateRevision": revision,
            "collisionCount": 0,
        }
        self._status(obj, fields, ready == want and len(live) == want)

    def _create(self, sts: Obj, i: int, revision: str) -> None:
        spec = sts.get("spec") or {}
        name = meta(sts)["name"]
        pod_name = f"{name}-{i}"
        template = copy.deepcopy(spec.get("template") or {})
        volumes = template.setdefault("spec", {}).setdefault("volumes", [])
        for claim in spec.get("volumeClaimTemplates") or []:
            cname = (claim.get("metadata") or {}).get("name", "data")
            pvc_name = f"{cname}-{pod_name}"
            self._ensure_pvc(sts, claim, pvc_name)
            volumes.append({"name": cname, "persistentVolumeClaim": {"claimName": pvc_name}})
        labels = {
            "controller-revision-hash": revision,
            "statefulset.kubernetes.io/pod-name": pod_name,
            "apps.kubernetes.io/pod-index": str(i),
        }
        pod = pod_from_template(sts, template, pod_name, labels)
        pod["spec"]["hostname"] = pod_name
        if spec.get("serviceName"):
            pod["spec"]["subdomain"] = spec["serviceName"]
        with contextlib.suppress(ApiError):
            self.ctx.store.create(self.pods_rt, pod, meta(sts).get("namespace"))

    def _ensure_pvc(self, sts: Obj, claim: dict[str, Any], pvc_name: str) -> None:
        ns = meta(sts).get("namespace")
        if self.ctx.store.get(self.pvc_rt, ns, pvc_name) is not None:
            return
        labels = dict(((sts.get("spec") or {}).get("selector") or {}).get("matchLabels") or {})
        labels.update((claim.get("metadata") or {}).get("labels") or {})
        pvc = {
            "apiVersion": "v1",
            "kind": "PersistentVolumeClaim",
            "metadata": {"name": pvc_name, "namespace": ns, "labels": labels},
            "spec": copy.deepcopy(claim.get("spec") or {}),
        }
        with contextlib.suppress(ApiError):
            self.ctx.store.create(self.pvc_rt, pvc, ns)


class DaemonSetController(OwnerController):
    """One pod per node matching the template's nodeSelector, bound directly to the node."""

    kind = "DaemonSet"

    def __init__(self, ctx: SimContext) -> None:
        super().__init__(ctx, "apps", "daemonsets")
        self.nodes_rt = ctx.registry.core("nodes")

    def event_keys(self) -> list[str]:
        """Pods, DaemonSets and nodes."""
        return [*super().event_keys(), self.nodes_rt.key]

    def on_event(self, ev: Event) -> None:
        """Nodes coming and going requeue every DaemonSet."""
        if ev.rt.key == self.nodes_rt.key:
            if ev.type != "MODIFIED" or (ev.old or {}).get("metadata", {}).get("labels") != meta(
                ev.obj
            ).get("labels"):
                for uid in list(self.where):
                    self.queue(uid)
            return
        super().on_event(ev)

    def reconcile(self, obj: Obj) -> None:
        """Create missing per-node pods, delete misplaced ones, write status."""
        spec = obj.get("spec") or {}
        template = spec.get("template") or {}
        selector = (template.get("spec") or {}).get("nodeSelector") or {}
        nodes = [
            meta(n)["name"]
            for n in self.ctx.store.list(self.nodes_rt)
            if all((meta(n).get("labels") or {}).get(k) == v for k, v in selector.items())
        ]
        by_node: dict[str, list[Obj]] = {}
        for pod in self.tracker.of(uid_of(obj)).values():
            if pod_active(pod):
                by_node.setdefault((pod.get("spec") or {}).get("nodeName") or "", []).append(pod)
        ns = meta(obj).get("namespace", "")
        if not deleting(obj):
            revision = short_hash(template)
            for node in nodes:
                if node not in by_node:
                    labels = {"controller-revision-hash": revision, "pod-template-generation": "1"}
                    create_pod(self.ctx, obj, template, meta(obj)["name"], labels, node)
            wanted = set(nodes)
            for node, pods in by_node.items():
                for pod in pods if node not in wanted else pods[1:]:
                    with contextlib.suppress(ApiError):
                        self.ctx.store.delete(self.pods_rt, ns, meta(pod)["name"])
        scheduled = sum(1 for n in nodes if n in by_node)
        ready = sum(1 for n in nodes if any(pod_ready(p) for p in by_node.get(n, [])))
        fields = {
            "desiredNumberScheduled": len(nodes),
            "currentNumberScheduled": scheduled,
            "updatedNumberScheduled": scheduled,
            "numberMisscheduled": sum(1 for n in by_node if n not in nodes),
            "numberReady": ready,
            "numberAvailable": ready,
            "numberUnavailable": len(nodes) - ready,
        }
        self._status(obj, fields, ready == len(nodes))


def register(ctx: SimContext) -> None:
    """Start the StatefulSet and DaemonSet controllers."""
    StatefulSetController(ctx).start()
    DaemonSetController(ctx).start()
