"""KubeVirt op conditions and the OpTracker: completion only after the request, per op."""

from __future__ import annotations

from typing import Any

import pytest

from pytest_kubevirt_burner.jobs.kubevirt_ops import (
    PendingOp,
    add_volume_body,
    evaluate,
    migration_object,
    request_body,
)
from pytest_kubevirt_burner.jobs.kubevirt_wait import OpTracker
from pytest_kubevirt_burner.jobspec import JobSpecError, build_job
from pytest_kubevirt_burner.measurements.timeutil import format_ts

S = 1_000_000_000
T0 = 1_800_000_000 * S + 400_000_000  # request at .4 of a second


def vm(ready: str | None, ltt: int, printable: str = "Running", reason: str = "") -> dict[str, Any]:
    conds = []
    if ready is not None:
        conds.append(
            {
                "type": "Ready",
                "status": ready,
                "lastTransitionTime": format_ts(ltt - ltt % S),
                "reason": reason,
            }
        )
    return {
        "metadata": {"namespace": "ns", "name": "vm"},
        "status": {"printableStatus": printable, "conditions": conds},
    }


def vmi(uid: str, phase: str = "Running", **status: Any) -> dict[str, Any]:
    return {
        "metadata": {"namespace": "ns", "name": "vm", "uid": uid},
        "status": {"phase": phase, **status},
    }


def op(kind: str, **inputs: Any) -> PendingOp:
    return PendingOp(kind, "ns", "vm", 0, 0, inputs=inputs, t_ns=T0)


def test_start_needs_a_ready_after_the_request() -> None:
    o = op("start")
    assert evaluate(o, vm("True", T0 - 5 * S), vmi("new"), "") == "stale"
    assert evaluate(o, vm("True", T0), vmi("new"), "") == "ambiguous"  # same second
    assert evaluate(o, vm("True", T0 + S), vmi("new"), "") == "fresh"
    assert evaluate(o, vm("False", T0 + S), vmi("new"), "") == "not"
    o.old_vmi_uid = "new"
    assert evaluate(o, vm("True", T0 + S), vmi("new"), "") == "stale"  # same VMI as before


def test_stop_restart_pause_migrate_and_volumes() -> None:
    stopped = vm("False", T0 + S, "Stopped", "VMINotExists")
    assert evaluate(op("stop"), stopped, None, "") == "fresh"
    assert evaluate(op("stop"), vm("False", T0 + S, "Stopping"), None, "") == "not"
    restart = op("restart")
    restart.old_vmi_uid = "old"
    assert evaluate(restart, vm("True", T0 + S), vmi("old"), "") == "stale"
    assert evaluate(restart, vm("True", T0 + S), vmi("new"), "") == "fresh"
    paused = {"type": "Paused", "status": "True", "lastTransitionTime": format_ts(T0 + S)}
    assert evaluate(op("pause"), None, vmi("u", conditions=[paused]), "") == "fresh"
    assert evaluate(op("unpause"), None, vmi("u", conditions=[paused]), "") == "not"
    assert evaluate(op("unpause"), None, vmi("u"), "") == "ambiguous"
    mig = op("migrate")
    mig.vmim_uid = "m1"
    done = {"migrationUid": "m1", "completed": True}
    assert evaluate(mig, None, vmi("u", migrationState=done), "Succeeded") == "fresh"
    other = {"migrationUid": "m0", "completed": True}
    assert evaluate(mig, None, vmi("u", migrationState=other), "Succeeded") == "not"
    add = op("add-volume", volumeName="d")
    ready = [{"name": "d", "phase": "Ready"}]
    assert evaluate(add, None, vmi("u", volumeStatus=ready), "") == "ambiguous"
    assert evaluate(add, None, vmi("u"), "") == "not"
    remove = op("remove-volume", volumeName="d")
    assert evaluate(remove, None, vmi("u"), "") == "ambiguous"


def test_tracker_completes_an_ambiguous_ready_only_after_seeing_it_not_ready() -> None:
    tracker = OpTracker()
    vm_events, vmi_events = (
        tracker.handler("VirtualMachine"),
        tracker.handler("VirtualMachineInstance"),
    )
    vm_events("ADDED", vm("True", T0), T0 - S)  # became ready in the request's second
    vmi_events("ADDED", vmi("old"), T0 - S)
    restart = op("restart")
    tracker.register(restart)
    tracker.sent(restart)
    vmi_events("MODIFIED", vmi("new"), T0 + 10)
    assert restart.done_ns is None  # Ready=True of the same second: not proof
    vm_events("MODIFIED", vm("False", T0), T0 + 20)
    vm_events("MODIFIED", vm("True", T0), T0 + 30)
    assert restart.done_ns == T0 + 30 and restart.armed


def test_tracker_keeps_a_completion_seen_before_the_answer() -> None:
    tracker = OpTracker()
    vmi_events = tracker.handler("VirtualMachineInstance")
    vmi_events("ADDED", vmi("u"), T0 - S)
    add = op("add-volume", volumeName="d")
    tracker.register(add)
    vmi_events("MODIFIED", vmi("u", volumeStatus=[{"name": "d", "phase": "Ready"}]), T0 + 5)
    assert add.done_ns is None
    tracker.sent(add)
    assert add.done_ns == T0 + 5
    assert tracker.wait([add], 0.1)


def test_request_bodies_follow_kube_burner() -> None:
    assert request_body(op("stop", force=True)) == ("virtualmachines", "stop", {"gracePeriod": 0})
    assert request_body(op("restart", force=True))[2] == {"gracePeriodSeconds": 0}
    assert request_body(op("start", startPaused=True))[2] == {"paused": True}
    assert request_body(op("pause"))[:2] == ("virtualmachineinstances", "pause")
    assert request_body(op("remove-volume", volumeName="d", persist=True)) == (
        "virtualmachines",
        "removevolume",
        {"name": "d"},
    )

    class NoDv:
        def get(self, *args: Any) -> Any:
            raise LookupError

    body = add_volume_body(NoDv(), op("add-volume", volumeName="d", diskType="lun", cache="none"))
    assert body["disk"] == {"name": "d", "serial": "d", "lun": {"bus": "scsi"}, "cache": "none"}
    assert body["volumeSource"] == {
        "persistentVolumeClaim": {"claimName": "d", "hotpluggable": True}
    }
    mig = migration_object(PendingOp("migrate", "ns", "vm", 2, 0), "job", {"k": "v"})
    assert mig["metadata"]["generateName"] == "vm-job-2-" and mig["spec"] == {"vmiName": "vm"}


@pytest.mark.parametrize(
    "kwargs,message",
    [
        ({"kubevirt_op": "reboot"}, "must be one of start, stop"),
        ({"kubevirt_op": "add-volume"}, "add-volume needs input_vars.volumeName"),
        (
            {"kubevirt_op": "stop", "kind": "VirtualMachineInstance"},
            "stop acts on a VirtualMachine",
        ),
        ({}, "needs a 'kubevirt_op'"),
    ],
)
def test_kubevirt_spec_validation(kwargs: dict[str, Any], message: str, tmp_path: Any) -> None:
    with pytest.raises(JobSpecError, match=message):
        build_job("t", "kubevirt", {"label_selector": {"a": "b"}, **kwargs}, tmp_path, "j")


def test_churn_spec_validation(tmp_path: Any) -> None:
    (tmp_path / "t.yml").write_text("kind: ConfigMap\n")
    base = {"template": "t.yml"}
    spec = build_job("t", "create", {**base, "churn": {"cycles": 2, "percent": 30}}, tmp_path, "j")
    assert spec.churn is not None and spec.churn.mode == "namespaces"
    for churn, message in [
        ({"cycles": 1, "percent": 101}, "must be <= 100"),
        ({"percent": 10}, "needs 'cycles' or 'duration'"),
        ({"cycles": 1, "mode": "pods"}, "must be namespaces or objects"),
        ({"cycles": 1, "deleteDelay": "1s"}, "did you mean 'delete_delay'"),
    ]:
        with pytest.raises(JobSpecError, match=message):
            build_job("t", "create", {**base, "churn": churn}, tmp_path, "j")
    with pytest.raises(JobSpecError, match="needs namespaced_iterations=True"):
        build_job(
            "t",
            "create",
            {**base, "churn": {"cycles": 1}, "namespaced_iterations": False},
            tmp_path,
            "j",
        )
