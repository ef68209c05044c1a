"""Simulated KubeVirt (virt-controller, virt-handler, virt-api subresources) and CDI.

VirtualMachine -> VirtualMachineInstance -> virt-launcher pod -> VMI Running -> VM Ready, with
migrations, replica sets and DataVolumes, each transition after a delay drawn from the latency
profile (``<Kind>.<Transition>``) and recorded in the ground truth.
"""

from __future__ import annotations

from ..context import SimContext
from .cdi import reconcile_dv
from .kubevirt_migration import reconcile_vmim
from .kubevirt_state import Kv
from .kubevirt_subresources import handle_subresource
from .kubevirt_vm import reconcile_vm
from .kubevirt_vmi import reconcile_vmi
from .kubevirt_vmirs import reconcile_vmirs

__all__ = ["handle_subresource", "register"]


def register(ctx: SimContext) -> Kv:
    """Start the KubeVirt and CDI controllers on ``ctx`` (they react to store events)."""
    kv = Kv(ctx)
    kv.handlers.update(
        {
            "vm": reconcile_vm,
            "vmi": reconcile_vmi,
            "vmim": reconcile_vmim,
            "vmirs": reconcile_vmirs,
            "dv": reconcile_dv,
        }
    )
    t = kv.t
    ctx.store.subscribe(
        kv.on_event, [r.key for r in (t.pod, t.vmi, t.vm, t.vmim, t.vmirs, t.dv, t.pvc)]
    )
    return kv
