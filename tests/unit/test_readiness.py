"""Readiness rules per kind and the custom status path evaluator."""

from __future__ import annotations

from typing import Any

import pytest

from pytest_kubevirt_burner import labels
from pytest_kubevirt_burner.jobs.readiness import (
    is_ready,
    state_of,
    status_path,
    validate_status_path,
)


def cond(ctype: str, status: str) -> dict[str, str]:
    return {"type": ctype, "status": status}


@pytest.mark.parametrize(
    ("obj", "ready"),
    [
        (
            {"kind": "Pod", "status": {"phase": "Running", "conditions": [cond("Ready", "True")]}},
            True,
        ),
        (
            {"kind": "Pod", "status": {"phase": "Running", "conditions": [cond("Ready", "False")]}},
            False,
        ),
        ({"kind": "Pod", "status": {"phase": "Pending"}}, False),
        ({"kind": "Deployment", "spec": {"replicas": 3}, "status": {"readyReplicas": 3}}, True),
        ({"kind": "Deployment", "spec": {"replicas": 3}, "status": {"readyReplicas": 2}}, False),
        ({"kind": "StatefulSet", "spec": {}, "status": {"readyReplicas": 1}}, True),
        ({"kind": "DaemonSet", "status": {"desiredNumberScheduled": 2, "numberReady": 2}}, True),
        ({"kind": "DaemonSet", "status": {"desiredNumberScheduled": 0, "numberReady": 0}}, False),
        ({"kind": "Job", "status": {"conditions": [cond("Complete", "True")]}}, True),
        ({"kind": "VirtualMachine", "status": {"conditions": [cond("Ready", "True")]}}, True),
        ({"kind": "VirtualMachine", "status": {}}, False),
        ({"kind": "PersistentVolumeClaim", "status": {"phase": "Bound"}}, True),
        ({"kind": "ConfigMap"}, True),
    ],
)
def test_is_ready(obj: dict[str, Any], ready: bool) -> None:
    assert is_ready(obj) is ready


def test_custom_status_paths() -> None:
    obj = {
        "kind": "Widget",
        "status": {"phase": "Done", "conditions": [cond("Ready", "True")], "ok": True},
    }
    assert is_ready(obj, [(".phase", "Done")])
    assert is_ready(obj, [('.conditions[] | select(.type == "Ready") | .status', "True")])
    assert is_ready(obj, [(".ok", "true")])
    assert not is_ready(obj, [(".phase", "Running")])
    assert status_path(obj["status"], ".missing.deep") is None
    assert validate_status_path(".phase") is None
    assert validate_status_path(".a | length") is None  # any jq query, as kube-burner
    assert "does not compile" in (validate_status_path(".a | select(") or "")


def test_state_of() -> None:
    pending = {
        "kind": "Pod",
        "status": {
            "phase": "Pending",
            "conditions": [{"type": "PodScheduled", "status": "False", "reason": "Unschedulable"}],
        },
    }
    assert state_of(pending) == "Pending/Unschedulable"
    assert (
        state_of({"kind": "VirtualMachine", "status": {"printableStatus": "Starting"}})
        == "Starting"
    )


def test_stamp_injects_into_templates() -> None:
    lab = labels.object_labels(labels.run_labels("u", "r", "j"), 0, 2, 3)
    vm = {
        "kind": "VirtualMachine",
        "metadata": {"labels": {labels.JOB: "mine"}},
        "spec": {"template": {"metadata": {}}, "dataVolumeTemplates": [{"metadata": {}}]},
    }
    labels.stamp(vm, lab)
    assert vm["metadata"]["labels"][labels.JOB] == "mine"  # template labels win
    assert vm["metadata"]["labels"][labels.ITERATION] == "2"
    assert vm["spec"]["template"]["metadata"]["labels"][labels.UUID] == "u"
    assert vm["spec"]["dataVolumeTemplates"][0]["metadata"]["labels"][labels.REPLICA] == "3"
    sts = {
        "kind": "StatefulSet",
        "spec": {"template": {"metadata": {}}, "selector": {"matchLabels": {"app": "x"}}},
    }
    labels.stamp(sts, lab)
    assert sts["spec"]["selector"]["matchLabels"] == {"app": "x", labels.UUID: "u", labels.JOB: "j"}
