"""When an object counts as ready, per kind, and a short state name for progress and errors."""

from __future__ import annotations

import re
from collections.abc import Sequence
from typing import Any

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

_SELECT = re.compile(
    r"""^\.?(?P<list>[\w.]+)\[\]\s*\|\s*select\(\s*\.(?P<field>\w+)\s*==\s*"""
    r"""["'](?P<value>[^"']*)["']\s*\)\s*\|\s*\.(?P<leaf>[\w.]+)$"""
)


def _condition(obj: dict[str, Any], ctype: str) -> str | None:
    for cond in (obj.get("status") or {}).get("conditions") or []:
        if isinstance(cond, dict) and cond.get("type") == ctype:
            return str(cond.get("status"))
    return None


def _dotted(data: Any, path: str) -> Any:
    for part in [p for p in path.strip(".").split(".") if p]:
        if not isinstance(data, dict):
            return None
        data = data.get(part)
    return data


def status_path(status: dict[str, Any], expr: str) -> Any:
    """Evaluate kube-burner's customStatusPaths key over ``.status``.

    Supports dotted paths (``.phase``, ``.readyReplicas``) and the select form
    ``.conditions[] | select(.type == "Ready") | .status``.
    """
    m = _SELECT.match(expr.strip())
    if m:
        items = _dotted(status, m["list"]) or []
        for item in items if isinstance(items, list) else []:
            if isinstance(item, dict) and str(item.get(m["field"])) == m["value"]:
                return _dotted(item, m["leaf"])
        return None
    return _dotted(status, expr)


def validate_status_path(expr: str) -> str | None:
    """An error message when ``expr`` is not a supported customStatusPaths expression."""
    if _SELECT.match(expr.strip()) or re.fullmatch(r"\.?[\w]+(\.[\w]+)*", expr.strip()):
        return None
    return (
        f"unsupported customStatusPaths key {expr!r}: use a dotted path such as '.phase' "
        "or '.conditions[] | select(.type == \"Ready\") | .status'"
    )


def _fmt(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


def is_ready(obj: dict[str, Any], custom: Sequence[tuple[str, str]] = ()) -> bool:
    """Whether ``obj`` reached its kind's ready state (or every custom status path matches)."""
    status = obj.get("status") or {}
    if custom:
        return all(_fmt(status_path(status, k)) == v for k, v in custom)
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
