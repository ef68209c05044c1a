"""The resource types the simulated API server serves, and a registry that CRDs extend."""

from __future__ import annotations

from dataclasses import dataclass
from functools import cached_property

ALL_VERBS = (
    "create",
    "delete",
    "deletecollection",
    "get",
    "list",
    "patch",
    "update",
    "watch",
)


@dataclass(frozen=True)
class ResourceType:
    """One served resource: group/version/resource plus what discovery says of it."""

    group: str
    version: str
    resource: str
    kind: str
    singular: str
    namespaced: bool
    short_names: tuple[str, ...] = ()
    subresources: tuple[str, ...] = ()
    verbs: tuple[str, ...] = ALL_VERBS
    categories: tuple[str, ...] = ()
    # kinds whose status is only written through the /status subresource
    has_status: bool = True

    # computed once: the store and every controller read these on each event
    @cached_property
    def api_version(self) -> str:
        """``v1`` for core, ``group/version`` otherwise."""
        return f"{self.group}/{self.version}" if self.group else self.version

    @cached_property
    def key(self) -> str:
        """Storage key (version independent): ``group/resource``."""
        return f"{self.group}/{self.resource}"

    @cached_property
    def list_kind(self) -> str:
        """Kind of the list object (``PodList``)."""
        return f"{self.kind}List"


@dataclass(frozen=True)
class Subresource:
    """A subresource served in discovery (``virtualmachines/start``)."""

    group: str
    version: str
    parent: str
    name: str
    kind: str
    verbs: tuple[str, ...]
    namespaced: bool = True


def _core(resource: str, kind: str, namespaced: bool = True, **kw: object) -> ResourceType:
    return ResourceType("", "v1", resource, kind, kind.lower(), namespaced, **kw)  # type: ignore[arg-type]


BUILTIN: tuple[ResourceType, ...] = (
    _core("namespaces", "Namespace", False, short_names=("ns",), subresources=("status",)),
    _core("nodes", "Node", False, short_names=("no",), subresources=("status",)),
    _core("pods", "Pod", short_names=("po",), subresources=("status",), categories=("all",)),
    _core("services", "Service", short_names=("svc",), subresources=("status",)),
    _core("endpoints", "Endpoints", short_names=("ep",), has_status=False),
    _core("configmaps", "ConfigMap", short_names=("cm",), has_status=False),
    _core("secrets", "Secret", has_status=False),
    _core("serviceaccounts", "ServiceAccount", short_names=("sa",), has_status=False),
    _core(
        "persistentvolumeclaims",
        "PersistentVolumeClaim",
        short_names=("pvc",),
        subresources=("status",),
    ),
    _core(
        "persistentvolumes",
        "PersistentVolume",
        False,
        short_names=("pv",),
        subresources=("status",),
    ),
    _core("events", "Event", short_names=("ev",), has_status=False),
    ResourceType(
        "apps",
        "v1",
        "deployments",
        "Deployment",
        "deployment",
        True,
        ("deploy",),
        ("status", "scale"),
        categories=("all",),
    ),
    ResourceType(
        "apps",
        "v1",
        "replicasets",
        "ReplicaSet",
        "replicaset",
        True,
        ("rs",),
        ("status", "scale"),
        categories=("all",),
    ),
    ResourceType(
        "apps",
        "v1",
        "statefulsets",
        "StatefulSet",
        "statefulset",
        True,
        ("sts",),
        ("status", "scale"),
        categories=("all",),
    ),
    ResourceType(
        "apps",
        "v1",
        "daemonsets",
        "DaemonSet",
        "daemonset",
        True,
        ("ds",),
        ("status",),
        categories=("all",),
    ),
    ResourceType("batch", "v1", "jobs", "Job", "job", True, (), ("status",), categories=("all",)),
    ResourceType(
        "networking.k8s.io",
        "v1",
        "networkpolicies",
        "NetworkPolicy",
        "networkpolicy",
        True,
        ("netpol",),
        (),
        has_status=False,
    ),
    ResourceType(
        "kubevirt.io",
        "v1",
        "virtualmachines",
        "VirtualMachine",
        "virtualmachine",
        True,
        ("vm", "vms"),
        ("status",),
        categories=("all",),
    ),
    ResourceType(
        "kubevirt.io",
        "v1",
        "virtualmachineinstances",
        "VirtualMachineInstance",
        "virtualmachineinstance",
        True,
        ("vmi", "vmis"),
        ("status",),
        categories=("all",),
    ),
    ResourceType(
        "kubevirt.io",
        "v1",
        "virtualmachineinstancemigrations",
        "VirtualMachineInstanceMigration",
        "virtualmachineinstancemigration",
        True,
        ("vmim", "vmims"),
        ("status",),
        categories=("all",),
    ),
    ResourceType(
        "kubevirt.io",
        "v1",
        "virtualmachineinstancereplicasets",
        "VirtualMachineInstanceReplicaSet",
        "virtualmachineinstancereplicaset",
        True,
        ("vmirs", "vmirss"),
        ("status", "scale"),
        categories=("all",),
    ),
    ResourceType(
        "cdi.kubevirt.io",
        "v1beta1",
        "datavolumes",
        "DataVolume",
        "datavolume",
        True,
        ("dv", "dvs"),
        ("status",),
        categories=("all",),
    ),
    ResourceType(
        "apiextensions.k8s.io",
        "v1",
        "customresourcedefinitions",
        "CustomResourceDefinition",
        "customresourcedefinition",
        False,
        ("crd", "crds"),
        ("status",),
    ),
)

SUBRESOURCES_KUBEVIRT: tuple[Subresource, ...] = (
    Subresource("subresources.kubevirt.io", "v1", "virtualmachines", "start", "", ("update",)),
    Subresource("subresources.kubevirt.io", "v1", "virtualmachines", "stop", "", ("update",)),
    Subresource("subresources.kubevirt.io", "v1", "virtualmachines", "restart", "", ("update",)),
    Subresource("subresources.kubevirt.io", "v1", "virtualmachines", "migrate", "", ("update",)),
    Subresource("subresources.kubevirt.io", "v1", "virtualmachines", "addvolume", "", ("update",)),
    Subresource(
        "subresources.kubevirt.io", "v1", "virtualmachines", "removevolume", "", ("update",)
    ),
    Subresource(
        "subresources.kubevirt.io", "v1", "virtualmachineinstances", "pause", "", ("update",)
    ),
    Subresource(
        "subresources.kubevirt.io", "v1", "virtualmachineinstances", "unpause", "", ("update",)
    ),
    Subresource(
        "subresources.kubevirt.io", "v1", "virtualmachineinstances", "addvolume", "", ("update",)
    ),
    Subresource(
        "subresources.kubevirt.io", "v1", "virtualmachineinstances", "removevolume", "", ("update",)
    ),
)
