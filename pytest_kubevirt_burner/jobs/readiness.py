"""When an object counts as ready, per kind, and a short state name for progress and errors."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from .. import statuspaths

REPLICA_KINDS = {
    "Deployment",
    "ReplicaSet",
    "StatefulSet",
    "ReplicationController",
    "VirtualMachineInstanceReplicaSet",
}
CONDITION_READY = {
    "VirtualMachine": "Ready",
    "VirtualMachineInstance": "Ready",
    "DataVolume": "Ready",
    "DataSource": "Ready",
    "Job": "Complete",
}
WAITED_KINDS = REPLICA_KINDS | set(CONDITION_READY) | {"Pod", "DaemonSet", "PersistentVolumeClaim"}


def _condition(obj: dict[str, Any], ctype: str) -> str | None:
    for cond in (obj.get("status") or {}).get("conditions") or []:
        if isinstance(cond, dict) and cond.get("type") == ctype:
            return str(cond.get("status"))
    return None


def status_path(status: dict[str, Any], expr: str) -> Any:
    """The first value of kube-burner's customStatusPaths jq query over ``.status``."""
    return statuspaths.first_output(status, expr)


def validate_status_path(expr: str) -> str | None:
    """An error message when ``expr`` is not a valid customStatusPaths jq query."""
    return statuspaths.path_error(expr)


def is_ready(obj: dict[str, Any], custom: Sequence[tuple[str, str]] = ()) -> bool:
    """Whether ``obj`` reached its kind's ready state (or every custom status path matches)."""
    status = obj.get("status") or {}
    if custom:
        return statuspaths.all_match(status, custom)
    kind = obj.get("kind", "")
    if kind == "Pod":
        return status.get("phase") == "Running" and _condition(obj, "Ready") == "True"
    if kind in REPLICA_KINDS:
        want = (obj.get("spec") or {}).get("replicas", 1)
        return int(status.get("readyReplicas") or 0) >= int(want)
    if kind == "DaemonSet":
        desired = int(status.get("desiredNumberScheduled") or 0)
        return desired > 0 and int(status.get("numberReady") or 0) >= desired
    if kind == "PersistentVolumeClaim":
        return status.get("phase") == "Bound"
    if kind in CONDITION_READY:
        return _condition(obj, CONDITION_READY[kind]) == "True"
    return True


def state_of(obj: dict[str, Any]) -> str:
    """A short state for reports: pod phase, printableStatus, or ready/not-ready."""
    status = obj.get("status") or {}
    kind = obj.get("kind", "")
    if kind == "VirtualMachine" and status.get("printableStatus"):
        return str(status["printableStatus"])
    if "phase" in status:
        phase = str(status["phase"])
        if kind == "Pod" and phase == "Pending":
            for cond in status.get("conditions") or []:
                if cond.get("type") == "PodScheduled" and cond.get("status") == "False":
                    return f"Pending/{cond.get('reason', 'Unschedulable')}"
        return phase
    return "Ready" if is_ready(obj) else "NotReady"
