"""vmiLatency: a VirtualMachine, its VMI and its virt-launcher pod joined into one sample.

Joins: VMI -> VM by ownerReference (kind VirtualMachine), else by the same name in the same
namespace, else the VMI is standalone (its own root); launcher pod -> VMI by the label
``kubevirt.io/created-by=<vmi uid>`` (pods seen before their VMI are buffered until it appears).

Day-2: ``mark_operation`` (start/restart/stop) closes the VM's current sample as it stands and
opens a new one measured from the operation's request time: start/restart samples bind only a
VMI other than the previous one (or, when the previous one was never seen, one created after the
request) and count VMReady only when its lastTransitionTime is not before the request; a stop
sample measures VMStopped (printableStatus Stopped).
"""

from __future__ import annotations

import sys
from typing import Any, ClassVar

from ..labels import ITERATION, REPLICA
from .base import (
    DELETED,
    DONE,
    FAILED,
    HOOKED,
    STANDALONE,
    UNTRACKED,
    Obj,
    Recorder,
    Sample,
    WatchSpec,
    meta,
    status,
    true_conditions,
)
from .timeutil import MISSING, floor_second, label_int, ts_of
from .vmim import phase_times

NEW_VMI_OPS = frozenset({"start", "restart"})
ARMED = 1 << 8  # Sample.flags: a day-2 sample saw its VM not ready after the request
OPERATIONS = NEW_VMI_OPS | {"stop"}
CREATED_BY = "kubevirt.io/created-by"
MIGRATION_JOB = "kubevirt.io/migrationJobUID"

# (name, creationTimestamp ns, nodeName, ((transition index, lastTransitionTime ns), ...), rx)
PodObs = tuple[str, int | None, str, tuple[tuple[int, int | None], ...], int]

VM_READY, VMI_CREATED, VMI_RUNNING, POD_CREATED, POD_READY, VM_STOPPED = 0, 1, 5, 6, 11, 12
_PHASES = {"Pending": 2, "Scheduling": 3, "Scheduled": 4, "Running": 5}
_POD_CONDITIONS = {
    "PodScheduled": 7,
    "Initialized": 8,
    "ContainersReady": 9,
    "PodReadyToStartContainers": 10,
    "Ready": 11,
}
_CREATE_PROFILE = tuple(range(12))
_STANDALONE_PROFILE = tuple(range(1, 12))


def _labels(s: Sample, m: Obj) -> None:
    labels = m.get("labels") or {}
    if ITERATION in labels:
        s.iteration = label_int(labels, ITERATION)
    if REPLICA in labels:
        s.replica = label_int(labels, REPLICA)


def _strip_pod(obj: Obj, rx: int) -> PodObs:
    conds = tuple(
        (_POD_CONDITIONS[c], ltt) for c, ltt in true_conditions(obj) if c in _POD_CONDITIONS
    )
    node = str((obj.get("spec") or {}).get("nodeName") or "")
    m = meta(obj)
    return str(m.get("name") or ""), ts_of(m.get("creationTimestamp")), node, conds, rx


class VmiLatency(Recorder):
    """vmiLatency: VM, VMI and virt-launcher pod transitions, one sample per VM (and per op)."""

    name = "vmiLatency"
    prefix = "vmiLatency"
    transitions = (
        ("VMReady", "vmReadyLatency"),
        ("VMICreated", "vmiCreatedLatency"),
        ("VMIPending", "vmiPendingLatency"),
        ("VMIScheduling", "vmiSchedulingLatency"),
        ("VMIScheduled", "vmiScheduledLatency"),
        ("VMIRunning", "vmiRunningLatency"),
        ("PodCreated", "podCreatedLatency"),
        ("PodPodScheduled", "podScheduledLatency"),
        ("PodInitialized", "podInitializedLatency"),
        ("PodContainersReady", "podContainersReadyLatency"),
        ("PodReadyToStartContainers", "podReadyToStartContainersLatency"),
        ("PodReady", "podReadyLatency"),
        ("VMStopped", "vmStoppedLatency"),
    )
    name_fields = ("vmName", "vmiName", "podName")
    watch_specs = (
        WatchSpec("kubevirt.io/v1", "VirtualMachine"),
        WatchSpec("kubevirt.io/v1", "VirtualMachineInstance"),
        WatchSpec("v1", "Pod", "kubevirt.io=virt-launcher"),
    )
    _KINDS: ClassVar[frozenset[str]] = frozenset({"VirtualMachine", "VirtualMachineInstance"})

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        # self._by_uid: VM uid -> the VM's current sample
        # ns -> name -> VM uid (nested: no per-VM key tuple, the name string is shared)
        self._vm_name: dict[str, dict[str, str]] = {}
        self._unbound: dict[tuple[str, str], Sample] = {}  # op samples whose VM is not seen yet
        self._vmi: dict[str, Sample] = {}  # VMI uid -> sample
        self._pending: dict[str, list[PodObs]] = {}  # VMI uid -> pod observations

    # -- profiles and completion -----------------------------------------------------------
    def profile(self, s: Sample) -> tuple[int, ...]:
        if s.op == "stop":
            return (VM_STOPPED,)
        return _STANDALONE_PROFILE if s.flags & STANDALONE else _CREATE_PROFILE

    def _complete(self, s: Sample) -> bool:
        if s.op == "stop":
            return s.seen(VM_STOPPED)
        if s.flags & FAILED:
            return True
        return (
            s.seen(VMI_RUNNING)
            and s.seen(POD_READY)
            and bool(s.flags & STANDALONE or s.seen(VM_READY))
        )

    def unmatched_pods(self) -> int:
        """Launcher pods whose VMI was never seen (reported at finalisation)."""
        with self._lock:
            return len(self._pending)

    # -- routing ---------------------------------------------------------------------------
    def _event(self, kind: str, event_type: str, obj: Obj, rx: int) -> None:
        if kind == "VirtualMachine":
            self._vm_event(event_type, obj, rx)
        elif kind == "VirtualMachineInstance":
            self._vmi_event(event_type, obj, rx)
        elif kind == "Pod":
            self._pod_event(obj, rx)

    def _created(self, obj: Obj, t_ns: int) -> None:
        kind = obj.get("kind")
        if kind not in self._KINDS:
            return
        m = meta(obj)
        uid = str(m.get("uid") or "")
        if not uid:
            return
        s = self._vm_sample(uid, m) if kind == "VirtualMachine" else self._vmi_sample(obj, uid)
        if s is None or s.flags & DONE:
            return
        s.flags = (s.flags | HOOKED) & ~UNTRACKED
        if kind == "VirtualMachine" or s.flags & STANDALONE:
            s.set_t0(ts_of(m.get("creationTimestamp")), t_ns)
        self._finish(s)

    # -- VirtualMachine --------------------------------------------------------------------
    def _new_vm(self, uid: str, ns: str, name: str) -> Sample:
        key = (sys.intern(ns), name)
        s = self._unbound.pop(key, None) or self._new_sample(key[0], (name, "", ""))
        self._by_uid[uid] = s
        self._vm_name.setdefault(key[0], {})[name] = uid
        return s

    def _vm_sample(self, uid: str, m: Obj) -> Sample:
        s = self._by_uid.get(uid)
        if s is None:
            s = self._new_vm(uid, str(m.get("namespace") or ""), str(m.get("name") or ""))
        return s

    def _vm_event(self, event_type: str, obj: Obj, rx: int) -> None:
        m = meta(obj)
        uid = str(m.get("uid") or "")
        if not uid:
            return
        s = self._vm_sample(uid, m)
        if s.flags & DONE:
            return
        _labels(s, m)
        if s.op is None:
            s.set_t0(ts_of(m.get("creationTimestamp")), rx)
        if s.op == "stop":
            if status(obj).get("printableStatus") == "Stopped":
                s.note(VM_STOPPED, self._ready_false_since(obj, s.t0("server")), rx)
        else:
            ready = [ltt for ctype, ltt in true_conditions(obj) if ctype == "Ready"]
            if s.op is not None and not ready:
                s.flags |= ARMED  # seen not ready after the request
            for ltt in ready:
                if self._fresh_ready(s, ltt):
                    s.note(VM_READY, ltt, rx)
        if event_type == "DELETED":
            s.flags |= DELETED | DONE
            self._emit(s)
        self._finish(s)

    @staticmethod
    def _fresh_ready(s: Sample, ltt: int | None) -> bool:
        if s.op is None:
            return True
        if ltt is None:  # no timestamp to compare: trust it only once the new VMI runs
            return s.seen(VMI_RUNNING)
        # a Ready stamped in the request's own second may predate the request: it counts only
        # once this sample saw the VM not ready
        t0 = s.t0("server")
        return ltt > t0 or (ltt == t0 and bool(s.flags & ARMED))

    @staticmethod
    def _ready_false_since(obj: Obj, t0: int) -> int | None:
        for cond in status(obj).get("conditions") or ():
            if (
                isinstance(cond, dict)
                and cond.get("type") == "Ready"
                and cond.get("status") == "False"
            ):
                t = ts_of(cond.get("lastTransitionTime"))
                return t if t is not None and t >= t0 else None
        return None

    # -- VirtualMachineInstance ------------------------------------------------------------
    def _owner(self, obj: Obj) -> Sample | None:
        m = meta(obj)
        ns, name = str(m.get("namespace") or ""), str(m.get("name") or "")
        for ref in m.get("ownerReferences") or ():
            if isinstance(ref, dict) and ref.get("kind") == "VirtualMachine" and ref.get("uid"):
                uid = str(ref["uid"])
                return self._by_uid.get(uid) or self._new_vm(uid, ns, str(ref.get("name") or ""))
        uid_by_name = self._vm_name.get(ns, {}).get(name)
        if uid_by_name is not None:
            return self._by_uid[uid_by_name]
        return self._unbound.get((ns, name))

    def _vmi_sample(self, obj: Obj, uid: str) -> Sample | None:
        s = self._vmi.get(uid)
        if s is not None:
            return s
        s = self._owner(obj)
        if s is None:
            m = meta(obj)
            s = self._new_sample(
                sys.intern(str(m.get("namespace") or "")), ("", str(m.get("name") or ""), "")
            )
            s.flags |= STANDALONE
        if s.ref is not None or not self._accepts(s, obj, uid):
            return None
        s.ref = uid
        self._vmi[uid] = s
        return s

    @staticmethod
    def _accepts(s: Sample, obj: Obj, uid: str) -> bool:
        if s.op is None:
            return True
        if s.op not in NEW_VMI_OPS:
            return False
        if s.extra is not None:
            return bool(uid != s.extra)
        created = ts_of(meta(obj).get("creationTimestamp"))
        return created is not None and created >= s.t0("server")

    def _vmi_event(self, event_type: str, obj: Obj, rx: int) -> None:
        m = meta(obj)
        uid = str(m.get("uid") or "")
        if not uid:
            return
        s = self._vmi_sample(obj, uid)
        if s is None or s.flags & DONE:
            return
        _labels(s, m)
        created = ts_of(m.get("creationTimestamp"))
        if s.flags & STANDALONE:
            s.set_t0(created, rx)
        name = str(m.get("name") or "")
        if s.names[1] != name:
            s.names = (s.names[0], s.names[0] if s.names[0] == name else name, s.names[2])
        s.note(VMI_CREATED, created, rx)
        node = status(obj).get("nodeName")
        if node:
            s.node = sys.intern(str(node))
        for phase, t in phase_times(obj).items():
            index = _PHASES.get(phase)
            if index is not None:
                s.note(index, t, rx)
            elif phase == "Failed":
                s.flags |= FAILED
        for obs in self._pending.pop(uid, ()):
            self._apply_pod(s, obs)
        if event_type == "DELETED" and not s.flags & DONE:
            s.flags |= DELETED | DONE
            self._emit(s)
        self._finish(s)

    # -- virt-launcher pod -----------------------------------------------------------------
    def _pod_event(self, obj: Obj, rx: int) -> None:
        labels = meta(obj).get("labels") or {}
        vmi_uid = labels.get(CREATED_BY)
        if labels.get("kubevirt.io") != "virt-launcher" or not vmi_uid or MIGRATION_JOB in labels:
            return
        obs = _strip_pod(obj, rx)
        s = self._vmi.get(str(vmi_uid))
        if s is None:
            self._pending.setdefault(str(vmi_uid), []).append(obs)
            return
        self._apply_pod(s, obs)
        self._finish(s)

    @staticmethod
    def _pod_key(s: Sample, name: str) -> str:
        # memory: keep only the generated suffix of "virt-launcher-<vmi>-<suffix>"
        prefix = f"virt-launcher-{s.names[1]}-"
        return "\0" + name[len(prefix) :] if s.names[1] and name.startswith(prefix) else name

    def _doc_names(self, s: Sample) -> tuple[str, ...]:
        vm_name, vmi_name, pod = s.names
        if pod.startswith("\0"):
            pod = f"virt-launcher-{vmi_name}-{pod[1:]}"
        return vm_name, vmi_name, pod

    def _apply_pod(self, s: Sample, obs: PodObs) -> None:
        name, created, node, conds, rx = obs
        stored = self._pod_key(s, name)
        if s.flags & DONE or (s.names[2] and s.names[2] != stored):
            return
        if not s.names[2]:
            s.names = (s.names[0], s.names[1], stored)
        if node and not s.node:
            s.node = sys.intern(node)
        s.note(POD_CREATED, created, rx)
        for index, ltt in conds:
            s.note(index, ltt, rx)

    # -- day-2 -----------------------------------------------------------------------------
    def mark_operation(self, kind: str, namespace: str, name: str, op: str, t_ns: int) -> None:
        """Open a new sample for VM ``namespace/name`` measured from the request at ``t_ns``."""
        if kind != "VirtualMachine" or op not in OPERATIONS:
            return
        with self._lock:
            key = (sys.intern(namespace), name)
            uid = self._vm_name.get(key[0], {}).get(name)
            old = self._by_uid.get(uid) if uid is not None else self._unbound.get(key)
            s = self._new_sample(key[0], (name, "", ""), op=sys.intern(op))
            s.flags = (s.flags | HOOKED) & ~UNTRACKED
            s.set_t0(floor_second(t_ns), t_ns)
            s.stamp = t_ns
            if old is not None:
                s.iteration, s.replica, s.extra = old.iteration, old.replica, old.ref
                if old.stamp == MISSING:
                    old.stamp = t_ns
                if not old.flags & DONE:
                    old.flags |= DONE  # the superseded sample is final as it stands
                    self._emit(old)
            if uid is not None:
                self._by_uid[uid] = s
            else:
                self._unbound[key] = s
