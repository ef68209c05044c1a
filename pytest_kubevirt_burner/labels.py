"""The kube-burner.io labels stamped on every object a job creates, and their injection."""

from __future__ import annotations

from typing import Any

UUID = "kube-burner.io/uuid"
RUNID = "kube-burner.io/runid"
JOB = "kube-burner.io/job"
INDEX = "kube-burner.io/index"
ITERATION = "kube-burner.io/job-iteration"
REPLICA = "kube-burner.io/replica"

# kinds whose pod (or VMI) template gets the labels too, so measurements find their children
TEMPLATED_KINDS = {
    "Deployment",
    "DaemonSet",
    "ReplicaSet",
    "StatefulSet",
    "Job",
    "VirtualMachine",
    "VirtualMachineInstanceReplicaSet",
    "ReplicationController",
}


def run_labels(uuid: str, runid: str, job: str) -> dict[str, str]:
    """Labels shared by every object of a job run."""
    return {UUID: uuid, RUNID: runid, JOB: job}


def object_labels(base: dict[str, str], index: int, iteration: int, replica: int) -> dict[str, str]:
    """Labels of one created object."""
    return {**base, INDEX: str(index), ITERATION: str(iteration), REPLICA: str(replica)}


def selector(labels: dict[str, str]) -> str:
    """``k=v,k2=v2`` label selector string."""
    return ",".join(f"{k}={v}" for k, v in labels.items())


def _merge(meta: dict[str, Any], labels: dict[str, str]) -> None:
    # template labels win over ours, as in kube-burner
    existing = meta.get("labels") or {}
    meta["labels"] = {**labels, **existing}


def stamp(obj: dict[str, Any], labels: dict[str, str]) -> dict[str, Any]:
    """Put ``labels`` on ``obj`` and on its pod/VMI/DataVolume templates (in place)."""
    _merge(obj.setdefault("metadata", {}), labels)
    kind = obj.get("kind")
    spec = obj.get("spec")
    if not isinstance(spec, dict):
        return obj
    if kind in TEMPLATED_KINDS and isinstance(spec.get("template"), dict):
        _merge(spec["template"].setdefault("metadata", {}), labels)
        if kind == "StatefulSet":
            sel = spec.setdefault("selector", {}).setdefault("matchLabels", {})
            for key in (UUID, JOB):
                if key in labels:
                    sel.setdefault(key, labels[key])
    if kind == "VirtualMachine":
        for dvt in spec.get("dataVolumeTemplates") or []:
            if isinstance(dvt, dict):
                _merge(dvt.setdefault("metadata", {}), labels)
    return obj
