"""Objects every cluster has: the kubernetes Service, root CA ConfigMaps, node Leases, storage.

* ``default/kubernetes`` Service, Endpoints and EndpointSlice (kube-apiserver's
  ``pkg/controlplane/controller/kubernetesservice``);
* ``kube-root-ca.crt`` ConfigMap in every namespace, recreated when deleted
  (kube-controller-manager's ``pkg/controller/certificates/rootcacertpublisher``);
* one Lease per node in ``kube-node-lease``, renewed every 10 s (kubelet's
  ``pkg/kubelet/nodelease``, ``renewInterval`` = 0.25 * 40 s);
* a default StorageClass with its CSIDriver, VolumeSnapshotClass and CDI StorageProfile, and the
  ``kubevirt`` KubeVirt and ``cdi`` CDI custom resources an installed KubeVirt + CDI has.
"""

from __future__ import annotations

import contextlib
from typing import Any

from ..context import SimContext
from ..errors import ApiError
from ..pki import ca_bundle
from ..resources import ResourceType
from ..store import Event, Obj, now_rfc3339
from ._common import meta, safe

ROOT_CA_NAME = "kube-root-ca.crt"
ROOT_CA_DESCRIPTION = (
    "Contains a CA bundle that can be used to verify the kube-apiserver when using internal"
    " endpoints such as the internal service IP or kubernetes.default.svc. No other usage is"
    " guaranteed across distributions of Kubernetes clusters."
)
API_SERVICE_IP = "10.96.0.1"
API_ENDPOINT_IP = "10.0.255.1"  # the simulated control-plane node's address
API_PORT = 6443
LEASE_NAMESPACE = "kube-node-lease"
LEASE_DURATION_SECONDS = 40
LEASE_RENEW_SECONDS = 10.0
STORAGE_CLASS = "standard"
CSI_DRIVER = "hostpath.csi.k8s.io"
SNAPSHOT_CLASS = "csi-hostpath-snapclass"
KUBEVIRT_NAMESPACE = "kubevirt"
CDI_NAMESPACE = "cdi"
KUBEVIRT_VERSION = "v1.6.0"
CDI_VERSION = "v1.62.0"
DEFAULT_CLASS_ANNOTATION = "storageclass.kubernetes.io/is-default-class"
SNAPSHOT_DEFAULT_ANNOTATION = "snapshot.storage.kubernetes.io/is-default-class"


def micro_time(at: float) -> str:
    """A metav1.MicroTime (RFC 3339 with microseconds)."""
    return f"{now_rfc3339(at)[:-1]}.{int((at % 1) * 1_000_000):06d}Z"


def _storage_objects() -> list[tuple[str, str, Obj]]:
    """(group, resource, object) of the default storage setup."""
    default = {DEFAULT_CLASS_ANNOTATION: "true"}
    return [
        ("storage.k8s.io", "csidrivers", {
            "metadata": {"name": CSI_DRIVER},
            "spec": {"attachRequired": False, "podInfoOnMount": True,
                     "volumeLifecycleModes": ["Persistent", "Ephemeral"],
                     "fsGroupPolicy": "File", "storageCapacity": False,
                     "requiresRepublish": False, "seLinuxMount": False},
        }),
        ("storage.k8s.io", "storageclasses", {
            "metadata": {"name": STORAGE_CLASS, "annotations": default},
            "provisioner": CSI_DRIVER,
            "reclaimPolicy": "Delete",
            "volumeBindingMode": "Immediate",
            "allowVolumeExpansion": True,
        }),
        ("snapshot.storage.k8s.io", "volumesnapshotclasses", {
            "metadata": {"name": SNAPSHOT_CLASS,
                         "annotations": {SNAPSHOT_DEFAULT_ANNOTATION: "true"}},
            "driver": CSI_DRIVER,
            "deletionPolicy": "Delete",
        }),
        ("cdi.kubevirt.io", "storageprofiles", {
            "metadata": {"name": STORAGE_CLASS},
            "spec": {},
            "status": {
                "storageClass": STORAGE_CLASS,
                "provisioner": CSI_DRIVER,
                "claimPropertySets": [
                    {"accessModes": ["ReadWriteMany"], "volumeMode": "Block"},
                    {"accessModes": ["ReadWriteOnce"], "volumeMode": "Filesystem"},
                ],
                "cloneStrategy": "csi-clone",
                "dataImportCronSourceFormat": "pvc",
                "snapshotClass": SNAPSHOT_CLASS,
            },
        }),
    ]  # fmt: skip


def _operator_objects(at: float) -> list[tuple[str, str, Obj]]:
    """(group, resource, object) of the installed KubeVirt and CDI operators' custom resources."""
    stamp = now_rfc3339(at)

    def cond(ctype: str, status: str, reason: str, message: str) -> dict[str, str]:
        return {"type": ctype, "status": status, "reason": reason, "message": message,
                "lastProbeTime": stamp, "lastTransitionTime": stamp}  # fmt: skip

    conditions = [
        cond("Available", "True", "AllComponentsReady", "All components are ready."),
        cond("Progressing", "False", "AllComponentsReady", "All components are ready."),
        cond("Degraded", "False", "AllComponentsReady", "All components are ready."),
    ]
    return [
        ("kubevirt.io", "kubevirts", {
            "metadata": {"name": "kubevirt", "namespace": KUBEVIRT_NAMESPACE,
                         "finalizers": ["foregroundDeleteKubeVirt"]},
            "spec": {"certificateRotateStrategy": {}, "configuration": {},
                     "customizeComponents": {}, "imagePullPolicy": "IfNotPresent",
                     "workloadUpdateStrategy": {}},
            "status": {
                "phase": "Deployed",
                "conditions": conditions,
                "observedKubeVirtVersion": KUBEVIRT_VERSION,
                "targetKubeVirtVersion": KUBEVIRT_VERSION,
                "observedKubeVirtRegistry": "quay.io/kubevirt",
                "targetKubeVirtRegistry": "quay.io/kubevirt",
                "operatorVersion": KUBEVIRT_VERSION,
                "defaultArchitecture": "amd64",
            },
        }),
        ("cdi.kubevirt.io", "cdis", {
            "metadata": {"name": "cdi", "finalizers": ["operator.cdi.kubevirt.io"]},
            "spec": {"imagePullPolicy": "IfNotPresent", "infra": {}, "workload": {}},
            "status": {"phase": "Deployed", "conditions": conditions,
                       "observedVersion": CDI_VERSION, "targetVersion": CDI_VERSION,
                       "operatorVersion": CDI_VERSION},
        }),
    ]  # fmt: skip


def _api_service_objects() -> list[tuple[str, str, Obj]]:
    """(group, resource, object) of the ``default/kubernetes`` Service and its endpoints."""
    labels = {"component": "apiserver", "provider": "kubernetes"}
    return [
        ("", "services", {
            "metadata": {"name": "kubernetes", "namespace": "default", "labels": labels},
            "spec": {"type": "ClusterIP", "clusterIP": API_SERVICE_IP,
                     "ports": [{"name": "https", "port": 443, "protocol": "TCP",
                                "targetPort": API_PORT}],
                     "sessionAffinity": "None", "ipFamilies": ["IPv4"],
                     "ipFamilyPolicy": "SingleStack", "internalTrafficPolicy": "Cluster"},
        }),
        ("", "endpoints", {
            "metadata": {"name": "kubernetes", "namespace": "default",
                         "labels": {"endpointslice.kubernetes.io/skip-mirror": "true"}},
            "subsets": [{"addresses": [{"ip": API_ENDPOINT_IP}],
                         "ports": [{"name": "https", "port": API_PORT, "protocol": "TCP"}]}],
        }),
        ("discovery.k8s.io", "endpointslices", {
            "metadata": {"name": "kubernetes", "namespace": "default",
                         "labels": {"kubernetes.io/service-name": "kubernetes"}},
            "addressType": "IPv4",
            "endpoints": [{"addresses": [API_ENDPOINT_IP],
                           "conditions": {"ready": True, "serving": True, "terminating": False}}],
            "ports": [{"name": "https", "port": API_PORT, "protocol": "TCP"}],
        }),
    ]  # fmt: skip


class ClusterObjects:
    """Creates the cluster's standing objects and keeps root CA ConfigMaps and Leases current."""

    def __init__(self, ctx: SimContext) -> None:
        self.ctx = ctx
        self.ns_rt = ctx.registry.core("namespaces")
        self.cm_rt = ctx.registry.core("configmaps")
        self.nodes_rt = ctx.registry.core("nodes")
        self.lease_rt = ctx.registry.get("coordination.k8s.io", "v1", "leases")
        self.ca = ca_bundle()

    def start(self) -> None:
        """Create what is missing, then follow namespaces, root CA ConfigMaps and nodes."""
        for ns in (KUBEVIRT_NAMESPACE, CDI_NAMESPACE):
            self._create(self.ns_rt, {"metadata": {"name": ns}})
        for group, resource, obj in (
            _api_service_objects() + _storage_objects() + _operator_objects(self.ctx.clock())
        ):
            rt = self.ctx.registry.lookup(group, resource)
            status = obj.pop("status", None)
            created = self._create(rt, obj)
            if created is not None and status is not None:
                self._set_status(rt, created, status)
        self.ctx.store.subscribe(
            safe(self.on_event), [self.ns_rt.key, self.cm_rt.key, self.nodes_rt.key]
        )
        for nsobj in self.ctx.store.list(self.ns_rt):
            self._ensure_root_ca(meta(nsobj)["name"])
        for node in self.ctx.store.list(self.nodes_rt):
            self._renew(meta(node)["name"])

    def on_event(self, ev: Event) -> None:
        """New namespace → root CA ConfigMap; its deletion → recreate; node → Lease."""
        key = ev.rt.key
        if key == self.ns_rt.key:
            if ev.type == "ADDED":
                name = meta(ev.obj)["name"]
                self.ctx.schedule(
                    ("ns", name, "rootca"), 0, safe(lambda: self._ensure_root_ca(name))
                )
        elif key == self.cm_rt.key:
            if ev.type == "DELETED" and meta(ev.obj)["name"] == ROOT_CA_NAME:
                ns = meta(ev.obj)["namespace"]
                self.ctx.schedule(("ns", ns, "rootca"), 0, safe(lambda: self._ensure_root_ca(ns)))
        elif ev.type == "ADDED":
            self._renew(meta(ev.obj)["name"])
        elif ev.type == "DELETED":
            self.ctx.cancel(("lease", meta(ev.obj)["name"]))

    def _create(self, rt: ResourceType, obj: Obj) -> Obj | None:
        m = obj["metadata"]
        if self.ctx.store.get(rt, m.get("namespace"), m["name"]) is not None:
            return None
        obj = {"apiVersion": rt.api_version, "kind": rt.kind, **obj}
        with contextlib.suppress(ApiError):  # namespace terminating, or created concurrently
            return self.ctx.store.create(rt, obj, m.get("namespace"))
        return None

    def _set_status(self, rt: ResourceType, obj: Obj, status: dict[str, Any]) -> None:
        def fn(o: Obj) -> None:
            o["status"] = status

        sub = "status" if rt.has_status else None
        self.ctx.store.mutate(
            rt, meta(obj).get("namespace"), meta(obj)["name"], fn, subresource=sub
        )

    def _ensure_root_ca(self, ns: str) -> None:
        nsobj = self.ctx.store.get(self.ns_rt, None, ns)
        if nsobj is None or meta(nsobj).get("deletionTimestamp"):
            return
        self._create(
            self.cm_rt,
            {
                "metadata": {
                    "name": ROOT_CA_NAME,
                    "namespace": ns,
                    "annotations": {"kubernetes.io/description": ROOT_CA_DESCRIPTION},
                },
                "data": {"ca.crt": self.ca},
            },
        )

    def _renew(self, node_name: str) -> None:
        if self.lease_rt is None:
            return
        node = self.ctx.store.get(self.nodes_rt, None, node_name)
        if node is None:
            return
        now = micro_time(self.ctx.clock())
        lease = self.ctx.store.get(self.lease_rt, LEASE_NAMESPACE, node_name)
        if lease is None:
            self._create(
                self.lease_rt,
                {
                    "metadata": {
                        "name": node_name,
                        "namespace": LEASE_NAMESPACE,
                        "ownerReferences": [
                            {
                                "apiVersion": "v1",
                                "kind": "Node",
                                "name": node_name,
                                "uid": meta(node)["uid"],
                            }
                        ],
                    },
                    "spec": {
                        "holderIdentity": node_name,
                        "leaseDurationSeconds": LEASE_DURATION_SECONDS,
                        "renewTime": now,
                    },
                },
            )
        else:

            def fn(o: Obj) -> None:
                o.setdefault("spec", {})["renewTime"] = now

            with contextlib.suppress(ApiError):
                self.ctx.store.mutate(self.lease_rt, LEASE_NAMESPACE, node_name, fn)
        self.ctx.schedule(
            ("lease", node_name), LEASE_RENEW_SECONDS, safe(lambda: self._renew(node_name))
        )


def register(ctx: SimContext) -> ClusterObjects:
    """Start the cluster-objects controller."""
    ctrl = ClusterObjects(ctx)
    ctrl.start()
    return ctrl
