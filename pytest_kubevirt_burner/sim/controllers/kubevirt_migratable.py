"""Whether a VMI can be live-migrated: the LiveMigratable and StorageLiveMigratable conditions.

As virt-handler computes them (kubevirt/kubevirt@d923fdb8 ``pkg/virt-handler/vm.go``
calculateLiveMigrationCondition / calculateLiveStorageMigrationCondition, checkVolumesForMigration;
``pkg/network/vmispec/interface.go`` VerifyVMIMigratable): the pod-network interface must use
masquerade, passt, a binding plugin, or bridge with the allow annotation; every PVC or DataVolume
volume must be ReadWriteMany.
"""

from __future__ import annotations

from typing import Any

from ..context import SimContext
from ..store import Obj
from .kubevirt_common import meta

ALLOW_BRIDGE = "kubevirt.io/allow-pod-bridge-network-live-migration"
INTERFACE_REASON = "InterfaceNotLiveMigratable"
DISKS_REASON = "DisksNotLiveMigratable"
NOT_MIGRATABLE = "NotMigratable"
INTERFACE_MESSAGE = (
    "cannot migrate VMI which does not use masquerade or a migratable plugin to connect to the"
    " pod network"
)
SHARED = "live migration requires that all PVCs must be shared (using ReadWriteMany access mode)"


def interface_error(vmi: Obj) -> str | None:
    """Why the pod-network interface prevents migration, or None."""
    spec = vmi.get("spec") or {}
    ifaces = ((spec.get("domain") or {}).get("devices") or {}).get("interfaces") or []
    if not ifaces:
        return None
    pod_net = next((n for n in spec.get("networks") or [] if "pod" in n), None)
    if pod_net is None:
        return None
    primary = next((i for i in ifaces if i.get("name") == pod_net.get("name")), None)
    if primary is None:
        return f"no primary interface found for network {pod_net.get('name')}"
    if "masquerade" in primary or "passtBinding" in primary or "binding" in primary:
        return None
    if "bridge" in primary and ALLOW_BRIDGE in (meta(vmi).get("annotations") or {}):
        return None
    return INTERFACE_MESSAGE


def volume_error(ctx: SimContext, vmi: Obj) -> str | None:
    """Why a PVC or DataVolume volume prevents migration (not ReadWriteMany), or None."""
    pvc_rt = ctx.registry.core("persistentvolumeclaims")
    ns = str(meta(vmi).get("namespace") or "")
    for volume in (vmi.get("spec") or {}).get("volumes") or []:
        source: dict[str, Any] | None = volume.get("persistentVolumeClaim") or volume.get(
            "dataVolume"
        )
        if source is None:
            continue
        claim = str(source.get("claimName") or source.get("name") or "")
        pvc = ctx.store.get(pvc_rt, ns, claim)
        if pvc is None:
            return f"cannot migrate VMI: Unable to determine if PVC {claim} is shared, {SHARED}"
        modes = (pvc.get("status") or {}).get("accessModes") or (pvc.get("spec") or {}).get(
            "accessModes"
        )
        if "ReadWriteMany" not in (modes or []):
            return f"cannot migrate VMI: PVC {claim} is not shared, {SHARED}"
    return None


def conditions(ctx: SimContext, vmi: Obj) -> list[tuple[str, str, str, str]]:
    """(type, status, reason, message) of LiveMigratable and StorageLiveMigratable."""
    net = interface_error(vmi)
    disks = volume_error(ctx, vmi)
    if net is not None:
        live = ("LiveMigratable", "False", INTERFACE_REASON, net)
    elif disks is not None:
        live = ("LiveMigratable", "False", DISKS_REASON, disks)
    else:
        live = ("LiveMigratable", "True", "", "")
    if net is not None:
        storage = ("StorageLiveMigratable", "False", NOT_MIGRATABLE, f"{INTERFACE_REASON}: {net}")
    else:
        storage = ("StorageLiveMigratable", "True", "", "")
    return [live, storage]
