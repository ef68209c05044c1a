"""KubeVirt day-2 operations: the request each op sends and the condition that completes it.

Every op is judged on the watch-fed state of its VM/VMI (and, for migrate, of the migration it
created). A condition can hold "fresh" (provably reached after the request: a lastTransitionTime
in a later second than the request, or a migration uid we created), "ambiguous" (holds, but the
timestamp has the request's second or there is none), "stale" (holds since before the request)
or not at all. An ambiguous condition completes the op only once the op was *armed*: a state not
satisfying the condition was seen at or after the request (see ``kubevirt_wait``).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Literal

from ..cluster.errors import ApiError
from ..measurements.timeutil import ts_of

Obj = dict[str, Any]
State = Literal["fresh", "ambiguous", "stale", "not"]
SUBRESOURCE_GROUP = "subresources.kubevirt.io/v1"
KUBEVIRT_API = "kubevirt.io/v1"
VMIM_KIND = "VirtualMachineInstanceMigration"
CONFLICT_RETRIES = 15  # kube-burner retries add-volume on Conflict this often
VM_RESOURCE, VMI_RESOURCE = "virtualmachines", "virtualmachineinstances"


@dataclass
class PendingOp:
    """One operation sent to one VM (or VMI) in one iteration, and its progress."""

    op: str
    namespace: str
    name: str
    iteration: int
    index: int
    inputs: dict[str, Any] = field(default_factory=dict)
    wait: bool = True
    t_ns: int = 0
    old_vmi_uid: str | None = None
    vmim_uid: str | None = None
    armed: bool = False
    sent: bool = False
    satisfied_ns: int | None = None
    done_ns: int | None = None
    error: str | None = None

    @property
    def key(self) -> tuple[str, str]:
        """(namespace, name) of the target."""
        return self.namespace, self.name

    @property
    def t_sec(self) -> int:
        """The request time truncated to the second (the precision of API timestamps)."""
        return self.t_ns - self.t_ns % 1_000_000_000

    @property
    def finished(self) -> bool:
        """Completed or failed."""
        return self.done_ns is not None or self.error is not None

    @property
    def volume(self) -> str:
        """inputVars.volumeName (volume ops)."""
        return str(self.inputs.get("volumeName") or "")

    def describe(self) -> str:
        """``restart ns/vm (iteration 1)``."""
        return f"{self.op} {self.namespace}/{self.name} (iteration {self.iteration})"


def _status(obj: Obj | None) -> Obj:
    st = (obj or {}).get("status")
    return st if isinstance(st, dict) else {}


def _uid(obj: Obj | None) -> str | None:
    meta = (obj or {}).get("metadata") or {}
    return str(meta["uid"]) if meta.get("uid") else None


def condition(obj: Obj | None, ctype: str) -> Obj | None:
    """The status condition of type ``ctype``, or None."""
    for cond in _status(obj).get("conditions") or ():
        if isinstance(cond, dict) and cond.get("type") == ctype:
            return cond
    return None


def _by_time(cond: Obj, t_sec: int) -> State:
    ltt = ts_of(cond.get("lastTransitionTime"))
    if ltt is None or ltt == t_sec:
        return "ambiguous"
    return "fresh" if ltt > t_sec else "stale"


def _cond_state(obj: Obj | None, ctype: str, want: str, t_sec: int, reason: str = "") -> State:
    cond = condition(obj, ctype)
    if cond is None or cond.get("status") != want:
        return "not"
    if reason and cond.get("reason") != reason:
        return "not"
    return _by_time(cond, t_sec)


def _volume_names(vm: Obj | None) -> set[str]:
    spec = (((vm or {}).get("spec") or {}).get("template") or {}).get("spec") or {}
    return {str(v.get("name")) for v in spec.get("volumes") or () if isinstance(v, dict)}


def _volume_ready(op: PendingOp, vm: Obj | None, vmi: Obj | None) -> bool | None:
    """Whether the op's volume is attached (None: no VMI and nothing else to judge by)."""
    if vmi is None or _status(vmi).get("phase") != "Running":
        if op.inputs.get("persist") and vm is not None:
            return op.volume in _volume_names(vm)
        return None
    return any(
        isinstance(v, dict) and v.get("name") == op.volume and v.get("phase") == "Ready"
        for v in _status(vmi).get("volumeStatus") or ()
    )


def evaluate(op: PendingOp, vm: Obj | None, vmi: Obj | None, vmim_phase: str) -> State:
    """How far ``op``'s completion condition holds on the current VM/VMI/VMIM state."""
    kind = op.op
    if kind == "start":
        if op.inputs.get("startPaused"):
            state = _cond_state(vm if vm is not None else vmi, "Paused", "True", op.t_sec)
        else:
            state = _cond_state(vm, "Ready", "True", op.t_sec)
        new_vmi = vmi is not None and _uid(vmi) != op.old_vmi_uid
        return state if state == "not" or new_vmi else "stale"
    if kind == "stop":
        if _status(vm).get("printableStatus") != "Stopped":
            return "not"
        return _cond_state(vm, "Ready", "False", op.t_sec, reason="VMINotExists")
    if kind == "restart":
        state = _cond_state(vm, "Ready", "True", op.t_sec)
        running = _status(vmi).get("phase") == "Running" and _uid(vmi) != op.old_vmi_uid
        return state if state == "not" or (running and vmi is not None) else "stale"
    if kind == "pause":
        return _cond_state(vmi, "Paused", "True", op.t_sec)
    if kind == "unpause":
        if vmi is None or _status(vmi).get("phase") != "Running":
            return "not"
        paused = condition(vmi, "Paused")
        return "ambiguous" if paused is None or paused.get("status") != "True" else "not"
    if kind == "migrate":
        mstate = _status(vmi).get("migrationState") or {}
        if not op.vmim_uid or mstate.get("migrationUid") != op.vmim_uid:
            return "not"
        done = bool(mstate.get("completed")) and not mstate.get("failed")
        return "fresh" if done and vmim_phase in ("Succeeded", "") else "not"
    if kind in ("add-volume", "remove-volume"):
        ready = _volume_ready(op, vm, vmi)
        if ready is None:
            return "not"
        return "ambiguous" if ready == (kind == "add-volume") else "not"
    raise ValueError(f"unknown kubevirt operation {kind!r}")


def failure(op: PendingOp, vmi: Obj | None, vmim_phase: str) -> str | None:
    """Why ``op`` can no longer complete (a failed migration), else None."""
    if op.op != "migrate" or not op.vmim_uid:
        return None
    if vmim_phase == "Failed":
        return f"{op.describe()}: migration failed"
    mstate = _status(vmi).get("migrationState") or {}
    if mstate.get("migrationUid") == op.vmim_uid and mstate.get("failed"):
        return f"{op.describe()}: migration failed: {mstate.get('failureReason', 'unknown')}"
    return None


# -- requests -------------------------------------------------------------------------------------


def _volume_source(client: Any, op: PendingOp) -> Obj:
    """A DataVolume source when a DataVolume of that name exists, else a PVC (as kube-burner)."""
    try:
        client.get("cdi.kubevirt.io/v1beta1", "DataVolume", op.volume, op.namespace)
        return {"dataVolume": {"name": op.volume, "hotpluggable": True}}
    except Exception:  # no DataVolume (or no CDI at all): a PersistentVolumeClaim
        return {"persistentVolumeClaim": {"claimName": op.volume, "hotpluggable": True}}


def add_volume_body(client: Any, op: PendingOp) -> Obj:
    """AddVolumeOptions from inputVars volumeName, diskType, serial, cache."""
    inputs = op.inputs
    bus = {"bus": "scsi"}
    disk: Obj = {"name": op.volume, "serial": str(inputs.get("serial") or op.volume)}
    disk["lun" if inputs.get("diskType") == "lun" else "disk"] = bus
    if inputs.get("cache"):
        disk["cache"] = str(inputs["cache"])
    return {"name": op.volume, "disk": disk, "volumeSource": _volume_source(client, op)}


def request_body(op: PendingOp) -> tuple[str, str, Obj]:
    """(resource, subresource, body) of the subresource call of ``op`` (not migrate)."""
    force = bool(op.inputs.get("force"))
    on_vm = VM_RESOURCE
    if op.op == "start":
        return on_vm, "start", {"paused": True} if op.inputs.get("startPaused") else {}
    if op.op == "stop":
        return on_vm, "stop", {"gracePeriod": 0} if force else {}
    if op.op == "restart":
        return on_vm, "restart", {"gracePeriodSeconds": 0} if force else {}
    if op.op in ("pause", "unpause"):
        return VMI_RESOURCE, op.op, {}
    resource = VM_RESOURCE if op.inputs.get("persist") else VMI_RESOURCE
    if op.op == "remove-volume":
        return resource, "removevolume", {"name": op.volume}
    return resource, "addvolume", {}


def send(client: Any, op: PendingOp, migration: Obj | None = None) -> Obj | None:
    """Send ``op``'s request (no rate limiting here); returns the created migration, if any."""
    if op.op == "migrate":
        assert migration is not None
        created: Obj = client.create(migration, namespace=op.namespace)
        return created
    resource, sub, body = request_body(op)
    if op.op == "add-volume":
        body = add_volume_body(client, op)
    attempt = 0
    while True:
        try:
            client.subresource(SUBRESOURCE_GROUP, resource, op.name, op.namespace, sub, body)
            return None
        except ApiError as exc:
            modified = exc.status == 409 and "has been modified" in str(exc)
            if not (op.op.endswith("volume") and modified) or attempt >= CONFLICT_RETRIES:
                raise
            attempt += 1


def migration_object(op: PendingOp, job: str, labels: dict[str, str]) -> Obj:
    """The VirtualMachineInstanceMigration kube-burner creates for ``migrate``."""
    return {
        "apiVersion": KUBEVIRT_API,
        "kind": VMIM_KIND,
        "metadata": {
            "generateName": f"{op.name}-{job}-{op.iteration}-",
            "namespace": op.namespace,
            "labels": dict(labels),
        },
        "spec": {"vmiName": op.name},
    }
