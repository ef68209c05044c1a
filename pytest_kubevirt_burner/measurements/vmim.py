"""vmimLatency: VirtualMachineInstanceMigration phases from creation to Succeeded."""

from __future__ import annotations

import sys
from typing import ClassVar

from .base import FAILED, Obj, Sample, WatchSpec, meta, status
from .simple import SimpleRecorder
from .timeutil import ts_of


def phase_times(obj: Obj) -> dict[str, int | None]:
    """phase -> server time from status.phaseTransitionTimestamps, plus the current phase."""
    st = status(obj)
    out: dict[str, int | None] = {}
    for entry in st.get("phaseTransitionTimestamps") or ():
        if isinstance(entry, dict) and entry.get("phase"):
            t = ts_of(entry.get("phaseTransitionTimestamp"))
            prev = out.get(entry["phase"])
            out[str(entry["phase"])] = t if prev is None or (t is not None and t < prev) else prev
    phase = st.get("phase")
    if phase and phase not in out:
        out[str(phase)] = None
    return out


class VmimLatency(SimpleRecorder):
    """vmimLatency: migration phases (server: phaseTransitionTimestamps; client: receipt)."""

    name = "vmimLatency"
    prefix = "vmimLatency"
    kind = "VirtualMachineInstanceMigration"
    transitions = (
        ("Pending", "pendingLatency"),
        ("Scheduling", "schedulingLatency"),
        ("Scheduled", "scheduledLatency"),
        ("PreparingTarget", "preparingTargetLatency"),
        ("TargetReady", "targetReadyLatency"),
        ("Running", "runningLatency"),
        ("Succeeded", "succeededLatency"),
    )
    name_fields = ("vmimName", "vmiName")
    watch_specs = (WatchSpec("kubevirt.io/v1", "VirtualMachineInstanceMigration"),)
    final = (6,)
    _INDEX: ClassVar[dict[str, int]] = {q: i for i, (q, _) in enumerate(transitions)}

    def _names(self, obj: Obj) -> tuple[str, ...]:
        spec = obj.get("spec") or {}
        return str(meta(obj).get("name") or ""), str(spec.get("vmiName") or "")

    def _update(self, s: Sample, obj: Obj, rx: int) -> None:
        target = (status(obj).get("migrationState") or {}).get("targetNode")
        if target and not s.node:
            s.node = sys.intern(str(target))
        for phase, t in phase_times(obj).items():
            index = self._INDEX.get(phase)
            if index is not None:
                s.note(index, t, rx)
            elif phase == "Failed":
                s.flags |= FAILED
