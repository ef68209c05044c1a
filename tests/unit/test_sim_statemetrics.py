"""State metrics kept from store events: exact-time observations and rendered families."""

from __future__ import annotations

from typing import Any

from prometheus_client.parser import text_string_to_metric_families

from pytest_kubevirt_burner.sim.metrics import SimMetrics, fake_pprof
from pytest_kubevirt_burner.sim.registry import Registry
from pytest_kubevirt_burner.sim.store import Event, EventType

REG = Registry.builtin()
PODS = REG.core("pods")
VMIS = REG.lookup("kubevirt.io", "virtualmachineinstances")


class Clock:
    """A settable clock."""

    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def _pod(phase: str, node: str = "") -> dict[str, Any]:
    spec: dict[str, Any] = {
        "containers": [
            {"name": "c", "image": "img", "resources": {"requests": {"cpu": "2", "memory": "1Gi"}}}
        ]
    }
    if node:
        spec["nodeName"] = node
    return {
        "metadata": {"uid": "u1", "namespace": "ns", "name": "p"},
        "spec": spec,
        "status": {"phase": phase},
    }


def _families(m: SimMetrics) -> dict[str, Any]:
    return {f.name: f for f in text_string_to_metric_families(m.render().decode())}


def _emit(m: SimMetrics, etype: EventType, rt: Any, obj: dict[str, Any]) -> None:
    m.state.on_event(Event(etype, rt, obj, None, 1))


def test_pod_start_and_cpu_use_exact_times() -> None:
    clock = Clock()
    m = SimMetrics(clock=clock)
    _emit(m, "ADDED", PODS, _pod("Pending"))
    clock.now += 2.5
    _emit(m, "MODIFIED", PODS, _pod("Running", "n1"))
    clock.now += 10
    fams = _families(m)
    start = {s.name: s.value for s in fams["kubelet_pod_start_duration_seconds"].samples}
    assert start["kubelet_pod_start_duration_seconds_sum"] == 2.5
    assert start["kubelet_pod_start_duration_seconds_count"] == 1
    cpu = fams["container_cpu_usage_seconds"].samples[0]
    assert cpu.value == 10 * 2 * 0.1  # 10 s running at a tenth of 2 cores
    assert cpu.labels["node"] == "n1"
    rss = fams["container_memory_rss"].samples[0]
    assert rss.value == int(1024**3 * 0.6)
    phases = {s.labels["phase"]: s.value for s in fams["kube_pod_status_phase"].samples}
    assert phases["Running"] == 1 and phases["Pending"] == 0
    storage = fams["apiserver_storage_objects"].samples
    assert [(s.labels["resource"], s.value) for s in storage] == [("pods", 1)]
    # leaving Running freezes the counter
    _emit(m, "MODIFIED", PODS, _pod("Succeeded", "n1"))
    clock.now += 100
    assert "container_cpu_usage_seconds" not in {f.name for f in _families(m).values() if f.samples}
    _emit(m, "DELETED", PODS, _pod("Succeeded", "n1"))
    fams = _families(m)
    assert not fams["kube_pod_status_phase"].samples
    assert fams["apiserver_storage_objects"].samples[0].value == 0


def _vmi(phase: str, node: str = "", deleting: bool = False) -> dict[str, Any]:
    meta: dict[str, Any] = {"uid": "v1", "namespace": "ns", "name": "vm"}
    if deleting:
        meta["deletionTimestamp"] = "2026-01-01T00:00:00Z"
    return {"metadata": meta, "status": {"phase": phase, "nodeName": node}}


def test_vmi_phase_transitions_and_counts() -> None:
    clock = Clock()
    m = SimMetrics(clock=clock)
    _emit(m, "ADDED", VMIS, _vmi(""))
    clock.now += 1
    _emit(m, "MODIFIED", VMIS, _vmi("Pending"))
    clock.now += 2
    _emit(m, "MODIFIED", VMIS, _vmi("Scheduled", "n2"))
    _emit(m, "MODIFIED", VMIS, _vmi("Scheduled", "n2"))  # no phase change: no observation
    clock.now += 4
    _emit(m, "MODIFIED", VMIS, _vmi("Running", "n2"))
    fams = _families(m)
    family = "kubevirt_vmi_phase_transition_time_from_creation_seconds"
    sums = {s.labels["phase"]: s.value for s in fams[family].samples if s.name.endswith("_sum")}
    assert sums == {"Pending": 1.0, "Scheduled": 3.0, "Running": 7.0}
    counts = [(s.labels["phase"], s.labels["node"], s.value)
              for s in fams["kubevirt_vmi_phase_count"].samples]  # fmt: skip
    assert counts == [("running", "n2", 1)]
    _emit(m, "MODIFIED", VMIS, _vmi("Running", "n2", deleting=True))
    clock.now += 3
    _emit(m, "MODIFIED", VMIS, _vmi("Succeeded", "n2", deleting=True))
    fams = _families(m)
    deletion = "kubevirt_vmi_phase_transition_time_from_deletion_seconds"
    assert [s.value for s in fams[deletion].samples if s.name.endswith("_sum")] == [3.0]


def test_inflight_and_nodes_render() -> None:
    m = SimMetrics()
    node = {
        "metadata": {"name": "n1"},
        "status": {"conditions": [{"type": "Ready", "status": "True"}]},
    }
    _emit(m, "ADDED", REG.core("nodes"), node)
    fams = _families(m)
    inflight = {
        s.labels["request_kind"]: s.value
        for s in fams["apiserver_current_inflight_requests"].samples
    }
    assert inflight == {"readOnly": 0, "mutating": 0}
    conds = {s.labels["status"]: s.value for s in fams["kube_node_status_condition"].samples}
    assert conds == {"true": 1, "false": 0, "unknown": 0}


def test_fake_pprof_is_gzip() -> None:
    body = fake_pprof("inuse_space", "bytes")
    assert body[:2] == b"\x1f\x8b"
