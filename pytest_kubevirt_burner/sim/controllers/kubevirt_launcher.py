"""The virt-launcher pod of a VirtualMachineInstance, as virt-controller renders it."""

from __future__ import annotations

import copy
import math
from typing import Any

from kubernetes.utils.quantity import parse_quantity

from ..context import SimContext
from ..store import Obj
from .kubevirt_common import (
    CREATED_BY,
    LAUNCHER_IMAGE,
    MIGRATION_LABEL,
    meta,
    owner_ref,
    status,
    suffix,
)

MI = 1024**2
# virt-launcher, libvirt and QEMU overhead added to the guest memory (order of magnitude of
# KubeVirt's GetMemoryOverhead for a small VM)
BASE_OVERHEAD = 180 * MI
PER_VCPU_OVERHEAD = 8 * MI


def _q(value: Any) -> float:
    return float(parse_quantity(str(value)))  # type: ignore[no-untyped-call]


def vcpus(vmi: Obj) -> int:
    """Number of vCPUs of the VMI domain (cores x sockets x threads)."""
    cpu = ((vmi.get("spec") or {}).get("domain") or {}).get("cpu") or {}
    return max(
        1, int(cpu.get("cores", 1)) * int(cpu.get("sockets", 1)) * int(cpu.get("threads", 1))
    )


def guest_memory(vmi: Obj) -> float:
    """Guest memory in bytes (memory.guest, else the memory request or limit)."""
    dom = (vmi.get("spec") or {}).get("domain") or {}
    res = dom.get("resources") or {}
    for value in (
        (dom.get("memory") or {}).get("guest"),
        (res.get("requests") or {}).get("memory"),
        (res.get("limits") or {}).get("memory"),
    ):
        if value is not None:
            return _q(value)
    return 0.0


def _mem(n: float) -> str:
    return f"{math.ceil(n / MI)}Mi"


def _cpu(n: float) -> str:
    millis = math.ceil(n * 1000)
    return str(millis // 1000) if millis % 1000 == 0 else f"{millis}m"


def compute_resources(vmi: Obj) -> dict[str, dict[str, str]]:
    """Requests/limits of the ``compute`` container: guest resources plus overhead."""
    res = (((vmi.get("spec") or {}).get("domain") or {}).get("resources")) or {}
    req, lim = res.get("requests") or {}, res.get("limits") or {}
    overhead = BASE_OVERHEAD + PER_VCPU_OVERHEAD * vcpus(vmi)
    mem = _q(req["memory"]) if "memory" in req else guest_memory(vmi)
    cpu = req.get("cpu", lim.get("cpu"))
    out: dict[str, dict[str, str]] = {
        "requests": {
            "cpu": _cpu(_q(cpu)) if cpu is not None else f"{100 * vcpus(vmi)}m",
            "memory": _mem(mem + overhead),
            "ephemeral-storage": "50M",
        }
    }
    limits: dict[str, str] = {}
    if "cpu" in lim:
        limits["cpu"] = _cpu(_q(lim["cpu"]))
    if "memory" in lim:
        limits["memory"] = _mem(_q(lim["memory"]) + overhead)
    if limits:
        out["limits"] = limits
    return out


def qos_class(pod: Obj) -> str:
    """The pod QoS class computed from its container resources."""
    containers = (pod.get("spec") or {}).get("containers") or []
    guaranteed, any_request = True, False
    for c in containers:
        res = c.get("resources") or {}
        req, lim = res.get("requests") or {}, res.get("limits") or {}
        any_request = any_request or bool(req) or bool(lim)
        for r in ("cpu", "memory"):
            if r not in lim or req.get(r, lim[r]) != lim[r]:
                guaranteed = False
    if guaranteed and containers:
        return "Guaranteed"
    return "Burstable" if any_request else "BestEffort"


def hostname(vmi: Obj) -> str:
    """spec.hostname, else the VMI name up to the first dot, at most 63 characters."""
    host = (vmi.get("spec") or {}).get("hostname")
    return str(host) if host else str(meta(vmi)["name"]).split(".")[0][:63]


def launcher_pod(ctx: SimContext, vmi: Obj, migration: Obj | None = None) -> Obj:
    """A new virt-launcher pod for ``vmi`` (a migration target pod when ``migration`` is set)."""
    m, spec = meta(vmi), vmi.get("spec") or {}
    name = str(m["name"])
    labels = dict(m.get("labels") or {})
    labels.pop("kubevirt.io/nodeName", None)
    labels.update(
        {
            "kubevirt.io": "virt-launcher",
            CREATED_BY: str(m["uid"]),
            "vm.kubevirt.io/name": hostname(vmi),
            "vmi.kubevirt.io/id": name[:63],
        }
    )
    if migration is not None:
        labels[MIGRATION_LABEL] = str(meta(migration)["uid"])
    containers: list[dict[str, Any]] = [
        {
            "name": "compute",
            "image": LAUNCHER_IMAGE,
            "imagePullPolicy": "IfNotPresent",
            "command": [
                "/usr/bin/virt-launcher-monitor",
                "--qemu-timeout",
                "301s",
                "--name",
                name,
                "--uid",
                str(m["uid"]),
                "--namespace",
                str(m.get("namespace")),
            ],
            "resources": compute_resources(vmi),
            "securityContext": {"runAsNonRoot": True, "runAsUser": 107, "privileged": False},
            "terminationMessagePath": "/dev/termination-log",
            "terminationMessagePolicy": "File",
        }
    ]
    for vol in spec.get("volumes") or []:
        disk = vol.get("containerDisk")
        if disk:
            containers.append(
                {
                    "name": f"volume{vol['name']}",
                    "image": disk.get("image", ""),
                    "imagePullPolicy": disk.get("imagePullPolicy", "IfNotPresent"),
                    "command": ["/usr/bin/container-disk"],
                    "resources": {
                        "requests": {"cpu": "1m", "memory": "1M", "ephemeral-storage": "50M"},
                        "limits": {"cpu": "10m", "memory": "40M"},
                    },
                }
            )
    grace = int(spec.get("terminationGracePeriodSeconds", 30))
    pod_spec: dict[str, Any] = {
        "containers": containers,
        **({"initContainers": init_containers(vmi)} if len(containers) > 1 else {}),
        "restartPolicy": "Never",
        "dnsPolicy": "ClusterFirst",
        "automountServiceAccountToken": False,
        "enableServiceLinks": False,
        "hostname": hostname(vmi),
        "schedulerName": spec.get("schedulerName", "default-scheduler"),
        "securityContext": {"runAsUser": 107, "runAsGroup": 107, "fsGroup": 107},
        "terminationGracePeriodSeconds": grace + 15,
        "volumes": [
            {"name": "private", "emptyDir": {}},
            {"name": "public", "emptyDir": {}},
            {"name": "sockets", "emptyDir": {}},
        ],
    }
    if "initContainers" in pod_spec:
        pod_spec["volumes"].append({"name": "virt-bin-share-dir", "emptyDir": {}})
    for key in ("nodeSelector", "tolerations", "priorityClassName", "subdomain"):
        if spec.get(key):
            pod_spec[key] = copy.deepcopy(spec[key])
    affinity = copy.deepcopy(spec.get("affinity")) or {}
    if migration is not None:
        # the target pod must not land on the node that hosts the VMI
        node = str(status(vmi).get("nodeName", ""))
        term = {
            "matchExpressions": [
                {"key": "kubernetes.io/hostname", "operator": "NotIn", "values": [node]}
            ]
        }
        node_aff = affinity.setdefault("nodeAffinity", {})
        req = node_aff.setdefault(
            "requiredDuringSchedulingIgnoredDuringExecution", {"nodeSelectorTerms": [term]}
        )
        for t in req.get("nodeSelectorTerms", []):
            if t is not term:
                t.setdefault("matchExpressions", []).append(term["matchExpressions"][0])
        added = (migration.get("spec") or {}).get("addedNodeSelector") or {}
        if added:
            pod_spec["nodeSelector"] = {**(pod_spec.get("nodeSelector") or {}), **added}
    if affinity:
        pod_spec["affinity"] = affinity
    return {
        "apiVersion": "v1",
        "kind": "Pod",
        "metadata": {
            "name": f"virt-launcher-{name}-{suffix(ctx)}",
            "generateName": f"virt-launcher-{name}-",
            "namespace": m.get("namespace"),
            "labels": labels,
            "annotations": {
                "kubevirt.io/domain": name,
                "kubectl.kubernetes.io/default-container": "compute",
                "kubevirt.io/migrationTransportUnix": "true",
            },
            "ownerReferences": [owner_ref(vmi)],
        },
        "spec": pod_spec,
    }


def init_containers(vmi: Obj) -> list[dict[str, Any]]:
    """virt-controller's init containers for containerDisks (services/template.go,
    container-disk/container-disk.go): copy the container-disk binary, pre-pull each image."""
    nonroot = {
        "runAsUser": 107,
        "runAsNonRoot": True,
        "allowPrivilegeEscalation": False,
        "capabilities": {"drop": ["ALL"]},
    }
    minimal = {
        "requests": {"cpu": "1m", "memory": "1M", "ephemeral-storage": "50M"},
        "limits": {"cpu": "10m", "memory": "40M"},
    }
    out: list[dict[str, Any]] = [
        {
            "name": "container-disk-binary",
            "image": LAUNCHER_IMAGE,
            "imagePullPolicy": "IfNotPresent",
            "command": ["/usr/bin/cp"],
            "args": ["--preserve=all", "/usr/bin/container-disk", "/init/usr/bin/container-disk"],
            "resources": minimal,
            "securityContext": nonroot,
            "volumeMounts": [{"name": "virt-bin-share-dir", "mountPath": "/init/usr/bin"}],
        }
    ]
    for vol in (vmi.get("spec") or {}).get("volumes") or []:
        disk = vol.get("containerDisk")
        if disk:
            out.append(
                {
                    "name": f"volume{vol['name']}-init",
                    "image": disk.get("image", ""),
                    "imagePullPolicy": disk.get("imagePullPolicy", "IfNotPresent"),
                    "command": ["/usr/bin/container-disk"],
                    "args": ["--no-op"],
                    "resources": minimal,
                    "securityContext": nonroot,
                }
            )
    return out


def pod_ready(pod: Obj) -> bool:
    """Bound to a node, Running and Ready."""
    st = status(pod)
    if not (pod.get("spec") or {}).get("nodeName") or st.get("phase") != "Running":
        return False
    return any(
        c.get("type") == "Ready" and c.get("status") == "True" for c in st.get("conditions") or []
    )


def pod_unschedulable(pod: Obj) -> dict[str, Any] | None:
    """The PodScheduled=False condition of a pod the scheduler could not place."""
    for c in status(pod).get("conditions") or []:
        if c.get("type") == "PodScheduled" and c.get("status") == "False":
            return dict(c)
    return None
