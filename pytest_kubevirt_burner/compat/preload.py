"""kube-burner's preLoadImages: pull a create job's images on every node before the job runs.

The images are taken from the job's templates (pod templates of Pods and workload kinds, and the
containerDisk volumes of VMs, VMIs and VMI replica sets) rendered for the first iteration. A
DaemonSet in a namespace of its own gets one init container per image; once it is ready on every
(selected) node, the namespace is deleted and waited for. No images: nothing to do.
"""

from __future__ import annotations

import random
from collections.abc import Iterator
from typing import Any

from ..jobs.cleanup import delete_labelled
from ..jobs.context import JobContext, iter_replicas
from ..jobs.waiters import ReadinessTracker, WaitTarget
from ..jobs.watches import JobWatches, WatchFactory

POD_TEMPLATE_KINDS = {"Deployment", "DaemonSet", "ReplicaSet", "Job", "StatefulSet"}
VM_KINDS = {"VirtualMachine", "VirtualMachineInstanceReplicaSet"}
PRELOAD_LABEL = "kube-burner.io/preload"
PAUSE_IMAGE = "registry.k8s.io/pause:3.9"


def _pod_images(pod_spec: dict[str, Any]) -> Iterator[str]:
    for key in ("initContainers", "containers"):
        for c in pod_spec.get(key) or ():
            if isinstance(c, dict) and c.get("image"):
                yield str(c["image"])


def _disk_images(vmi_spec: dict[str, Any]) -> Iterator[str]:
    for vol in vmi_spec.get("volumes") or ():
        disk = (vol or {}).get("containerDisk") or {}
        if disk.get("image"):
            yield str(disk["image"])


def images_of(doc: dict[str, Any]) -> list[str]:
    """The images ``doc`` makes nodes pull."""
    kind, spec = doc.get("kind"), doc.get("spec") or {}
    template_spec = (spec.get("template") or {}).get("spec") or {}
    if kind == "Pod":
        return list(_pod_images(spec))
    if kind in POD_TEMPLATE_KINDS:
        return list(_pod_images(template_spec))
    if kind in VM_KINDS:
        return list(_disk_images(template_spec))
    if kind == "VirtualMachineInstance":
        return list(_disk_images(spec))
    return []


def job_images(ctx: JobContext) -> list[str]:
    """Every image of the job's objects (first iteration), in order, without duplicates."""
    found: list[str] = []
    for index, obj, replica in iter_replicas(ctx.spec, 0):
        if replica > 1:
            continue
        for doc in ctx.render(index, obj, 0, replica):
            found.extend(images_of(doc))
    return list(dict.fromkeys(found))


def _daemonset(name: str, images: list[str], node_labels: dict[str, str]) -> dict[str, Any]:
    pod_spec: dict[str, Any] = {
        "initContainers": [
            {"name": f"pull-{i}", "image": image, "command": ["/bin/sh", "-c", "true"]}
            for i, image in enumerate(images)
        ],
        "containers": [{"name": "pause", "image": PAUSE_IMAGE}],
        "terminationGracePeriodSeconds": 0,
    }
    if node_labels:
        pod_spec["nodeSelector"] = dict(node_labels)
    return {
        "apiVersion": "apps/v1",
        "kind": "DaemonSet",
        "metadata": {"name": name, "labels": {"app": name}},
        "spec": {
            "selector": {"matchLabels": {"app": name}},
            "template": {"metadata": {"labels": {"app": name}}, "spec": pod_spec},
        },
    }


def preload_images(
    ctx: JobContext,
    factory: WatchFactory,
    period: float,
    node_labels: dict[str, str],
) -> str:
    """Pull the job's images on every node; returns a one-line account (or raises)."""
    images = job_images(ctx)
    if not images:
        return f"{ctx.spec.name}: preLoadImages: no images to pull"
    client, label = ctx.client, f"{PRELOAD_LABEL}={ctx.uuid}"
    namespace = f"preload-kube-burner-{random.randint(10000, 99999)}"
    limiter = ctx.limiter
    ns = {
        "apiVersion": "v1",
        "kind": "Namespace",
        "metadata": {"name": namespace, "labels": {PRELOAD_LABEL: ctx.uuid}},
    }
    tracker = ReadinessTracker([WaitTarget("apps/v1", "DaemonSet", 1)])
    watches = JobWatches(factory, label)
    watches.add("apps/v1", "DaemonSet", tracker.handler("DaemonSet"))
    ds = _daemonset("preload", images, node_labels)
    ds["metadata"]["labels"][PRELOAD_LABEL] = ctx.uuid
    try:
        client.create(ns, limiter=limiter)
        watches.start()
        client.create(ds, namespace=namespace, limiter=limiter)
        if not tracker.wait(period, ctx.stop):
            raise RuntimeError(
                f"{ctx.spec.name}: preLoadImages: images not pulled on every node within "
                f"preLoadPeriod ({period:g}s): {tracker.not_ready_report()}"
            )
    finally:
        watches.stop()
        delete_labelled(client, label, [], limiter, period)
    return f"{ctx.spec.name}: preLoadImages: pulled {len(images)} images on every node"
