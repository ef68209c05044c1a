"""API groups a Kubernetes + KubeVirt + CDI cluster serves beyond the core set in resources.py.

Names, short names, scopes, categories and status subresources follow the upstream definitions:
kubernetes/kubernetes ``pkg/registry/*/rest/storage_*.go`` and ``staging/src/k8s.io/api``,
kubernetes-csi/external-snapshotter ``client/config/crd``, kubevirt/kubevirt
``pkg/virt-operator/resource/generate/components/crds.go`` and kubevirt/containerized-data-importer
``pkg/operator/resources/cluster`` (the CRD short names).
"""

from __future__ import annotations

from .resources import ResourceType


def _t(
    group: str,
    version: str,
    resource: str,
    kind: str,
    namespaced: bool = True,
    short: tuple[str, ...] = (),
    subs: tuple[str, ...] = (),
    cats: tuple[str, ...] = (),
) -> ResourceType:
    return ResourceType(
        group,
        version,
        resource,
        kind,
        kind.lower(),
        namespaced,
        short,
        subs,
        categories=cats,
        has_status="status" in subs,
    )


_ST = ("status",)
_ALL = ("all",)

# fmt: off
KUBERNETES: tuple[ResourceType, ...] = (
    _t("", "v1", "resourcequotas", "ResourceQuota", short=("quota",), subs=_ST),
    _t("", "v1", "limitranges", "LimitRange", short=("limits",)),
    _t("", "v1", "podtemplates", "PodTemplate"),
    _t("", "v1", "replicationcontrollers", "ReplicationController", short=("rc",),
       subs=("status", "scale"), cats=_ALL),
    _t("rbac.authorization.k8s.io", "v1", "roles", "Role"),
    _t("rbac.authorization.k8s.io", "v1", "rolebindings", "RoleBinding"),
    _t("rbac.authorization.k8s.io", "v1", "clusterroles", "ClusterRole", False),
    _t("rbac.authorization.k8s.io", "v1", "clusterrolebindings", "ClusterRoleBinding", False),
    _t("storage.k8s.io", "v1", "storageclasses", "StorageClass", False, ("sc",)),
    _t("storage.k8s.io", "v1", "csidrivers", "CSIDriver", False),
    _t("storage.k8s.io", "v1", "csinodes", "CSINode", False),
    _t("storage.k8s.io", "v1", "volumeattachments", "VolumeAttachment", False, subs=_ST),
    _t("storage.k8s.io", "v1", "csistoragecapacities", "CSIStorageCapacity"),
    _t("policy", "v1", "poddisruptionbudgets", "PodDisruptionBudget", short=("pdb",), subs=_ST),
    _t("events.k8s.io", "v1", "events", "Event", short=("ev",)),
    _t("coordination.k8s.io", "v1", "leases", "Lease"),
    _t("discovery.k8s.io", "v1", "endpointslices", "EndpointSlice"),
    _t("scheduling.k8s.io", "v1", "priorityclasses", "PriorityClass", False, ("pc",)),
    _t("node.k8s.io", "v1", "runtimeclasses", "RuntimeClass", False),
    _t("networking.k8s.io", "v1", "ingresses", "Ingress", short=("ing",), subs=_ST),
    _t("networking.k8s.io", "v1", "ingressclasses", "IngressClass", False),
    _t("batch", "v1", "cronjobs", "CronJob", short=("cj",), subs=_ST, cats=_ALL),
    _t("autoscaling", "v2", "horizontalpodautoscalers", "HorizontalPodAutoscaler",
       short=("hpa",), subs=_ST, cats=_ALL),
    _t("apps", "v1", "controllerrevisions", "ControllerRevision"),
    # kubernetes-csi/external-snapshotter: the snapshot CRDs every CSI cluster installs
    _t("snapshot.storage.k8s.io", "v1", "volumesnapshots", "VolumeSnapshot", short=("vs",),
       subs=_ST),
    _t("snapshot.storage.k8s.io", "v1", "volumesnapshotcontents", "VolumeSnapshotContent",
       False, ("vsc", "vscs"), _ST),
    _t("snapshot.storage.k8s.io", "v1", "volumesnapshotclasses", "VolumeSnapshotClass", False,
       ("vsclass", "vsclasses")),
)

KUBEVIRT: tuple[ResourceType, ...] = (
    _t("kubevirt.io", "v1", "kubevirts", "KubeVirt", True, ("kv", "kvs"), _ST, _ALL),
    _t("snapshot.kubevirt.io", "v1beta1", "virtualmachinesnapshots", "VirtualMachineSnapshot",
       True, ("vmsnapshot", "vmsnapshots"), _ST, _ALL),
    _t("snapshot.kubevirt.io", "v1beta1", "virtualmachinesnapshotcontents",
       "VirtualMachineSnapshotContent", True, ("vmsnapshotcontent", "vmsnapshotcontents"), _ST,
       _ALL),
    _t("snapshot.kubevirt.io", "v1beta1", "virtualmachinerestores", "VirtualMachineRestore",
       True, ("vmrestore", "vmrestores"), _ST, _ALL),
    _t("export.kubevirt.io", "v1beta1", "virtualmachineexports", "VirtualMachineExport", True,
       ("vmexport", "vmexports"), _ST, _ALL),
    _t("clone.kubevirt.io", "v1beta1", "virtualmachineclones", "VirtualMachineClone", True,
       ("vmclone", "vmclones"), _ST, _ALL),
    _t("pool.kubevirt.io", "v1alpha1", "virtualmachinepools", "VirtualMachinePool", True,
       ("vmpool", "vmpools"), ("status", "scale"), _ALL),
    _t("instancetype.kubevirt.io", "v1beta1", "virtualmachineinstancetypes",
       "VirtualMachineInstancetype", True, ("vminstancetype", "vminstancetypes", "vmf", "vmfs"),
       (), _ALL),
    _t("instancetype.kubevirt.io", "v1beta1", "virtualmachineclusterinstancetypes",
       "VirtualMachineClusterInstancetype", False,
       ("vmclusterinstancetype", "vmclusterinstancetypes", "vmcf", "vmcfs")),
    _t("instancetype.kubevirt.io", "v1beta1", "virtualmachinepreferences",
       "VirtualMachinePreference", True, ("vmpref", "vmprefs", "vmp", "vmps"), (), _ALL),
    _t("instancetype.kubevirt.io", "v1beta1", "virtualmachineclusterpreferences",
       "VirtualMachineClusterPreference", False, ("vmcp", "vmcps")),
    _t("migrations.kubevirt.io", "v1alpha1", "migrationpolicies", "MigrationPolicy", False,
       (), _ST, _ALL),
)

CDI: tuple[ResourceType, ...] = (
    _t("cdi.kubevirt.io", "v1beta1", "datasources", "DataSource", True, ("das",), _ST, _ALL),
    _t("cdi.kubevirt.io", "v1beta1", "dataimportcrons", "DataImportCron", True,
       ("dic", "dics"), _ST, _ALL),
    _t("cdi.kubevirt.io", "v1beta1", "storageprofiles", "StorageProfile", False, (), _ST),
    _t("cdi.kubevirt.io", "v1beta1", "cdis", "CDI", False, ("cdi", "cdis"), _ST),
    _t("cdi.kubevirt.io", "v1beta1", "cdiconfigs", "CDIConfig", False, (), _ST),
)
# fmt: on

EXTRA: tuple[ResourceType, ...] = KUBERNETES + KUBEVIRT + CDI
