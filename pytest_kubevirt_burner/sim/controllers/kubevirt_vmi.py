"""VirtualMachineInstance lifecycle: Pending -> Scheduling -> Scheduled -> Running -> final."""

from __future__ import annotations

from typing import Any

from ..context import SimContext
from ..errors import ApiError
from ..store import Obj
from . import kubevirt_migratable
from ._common import emit_event
from .kubevirt_common import (
    FINAL_PHASES,
    LAUNCHER_IMAGE,
    VIRT_CONTROLLER,
    VMI_FINALIZER,
    Types,
    add_phase,
    cond_true,
    deleting,
    drop_condition,
    meta,
    now,
    safe_delete,
    set_condition,
    status,
    transition,
    uid,
    write_meta,
    write_status,
)
from .kubevirt_launcher import launcher_pod, pod_ready, pod_unschedulable, qos_class
from .kubevirt_state import Fired, Kv

KIND = "vmi"
NOT_RUNNING = ("GuestNotRunning", "Guest VM is not reported as running")
PAUSED_GATE = (
    "ReadinessGatesNotReady",
    'the status of pod readiness gate "kubevirt.io/virtual-machine-unpaused" is not "True",'
    " but False",
)


def reconcile_vmi(kv: Kv, ns: str, name: str, fired: Fired) -> None:
    """Move one VMI one step further through its lifecycle."""
    vmi = kv.ctx.store.get(kv.t.vmi, ns, name)
    if vmi is None:
        return
    phase = str(status(vmi).get("phase") or "")
    if deleting(vmi):
        _reconcile_deleting(kv, vmi, phase, fired)
        return
    if phase == "" or (phase == "Pending" and not _has_condition(vmi, "Ready")):
        _pending(kv, vmi)
    elif phase == "Pending":
        if kv.due(KIND, vmi, "Scheduling", "VirtualMachineInstance.Scheduling", fired):
            _scheduling(kv, vmi)
    elif phase == "Scheduling":
        pod = kv.current_pod(vmi)
        if pod is None or deleting(pod):
            _fail(kv, vmi, "PodNotExists", "virt-launcher pod has disappeared")
        elif pod_ready(pod):
            if kv.due(KIND, vmi, "Scheduled", "VirtualMachineInstance.Scheduled", fired):
                _scheduled(kv, vmi, pod)
        else:
            _sync_unschedulable(kv, vmi, pod)
    elif phase in ("Scheduled", "Running"):
        pod = kv.current_pod(vmi)
        if pod is None or status(pod).get("phase") in FINAL_PHASES:
            _fail(kv, vmi, "PodNotExists", "virt-launcher pod has disappeared")
        elif phase == "Scheduled" and kv.due(
            KIND, vmi, "Running", "VirtualMachineInstance.Running", fired
        ):
            _running(kv, vmi, pod)


def _pending(kv: Kv, vmi: Obj) -> None:
    if VMI_FINALIZER not in (meta(vmi).get("finalizers") or []):
        vmi = (
            write_meta(
                kv.ctx,
                kv.t.vmi,
                vmi,
                lambda o: o["metadata"].setdefault("finalizers", []).append(VMI_FINALIZER),
            )
            or vmi
        )

    admitted = status(vmi).get("phase") == "Pending"  # set by the mutating webhook

    def fn(st: dict[str, Any], ts: str) -> None:
        if not admitted:
            add_phase(st, "Pending", ts)
        st.setdefault("guestOSInfo", {})
        st.setdefault("activePods", {})
        st["runtimeUser"] = 107
        set_condition(st, "Ready", "False", ts, *NOT_RUNNING)

    if admitted:  # its ground truth was recorded when the VMI was stored
        write_status(kv.ctx, kv.t.vmi, vmi, lambda st: fn(st, now(kv.ctx)[1]))
    else:
        transition(kv.ctx, kv.t.vmi, vmi, "Pending", fn)


def _pod_condition_time(pod: Obj, ctype: str) -> str | None:
    for c in status(pod).get("conditions") or []:
        if c.get("type") == ctype and c.get("status") == "True":
            return c.get("lastTransitionTime")  # type: ignore[no-any-return]
    return None


def _has_condition(obj: Obj, ctype: str) -> bool:
    return any(c.get("type") == ctype for c in status(obj).get("conditions") or [])


def _scheduling(kv: Kv, vmi: Obj) -> None:
    if kv.current_pod(vmi) is None:
        for _ in range(5):
            try:
                pod = kv.ctx.store.create(
                    kv.t.pod, launcher_pod(kv.ctx, vmi), meta(vmi)["namespace"]
                )
                # virt-controller watch/vmi/lifecycle.go
                message = f"Created virtual machine pod {meta(pod)['name']}"
                emit_event(
                    kv.ctx, vmi, "SuccessfulCreate", message, VIRT_CONTROLLER, now(kv.ctx)[0]
                )
                break
            except ApiError as err:
                if err.reason != "AlreadyExists":
                    raise
    transition(kv.ctx, kv.t.vmi, vmi, "Scheduling", lambda st, ts: add_phase(st, "Scheduling", ts))


def _sync_unschedulable(kv: Kv, vmi: Obj, pod: Obj) -> None:
    cond = pod_unschedulable(pod)
    if cond is None:
        return
    ts = str(cond.get("lastTransitionTime") or now(kv.ctx)[1])

    def fn(st: dict[str, Any]) -> None:
        set_condition(
            st,
            "PodScheduled",
            "False",
            ts,
            str(cond.get("reason") or "Unschedulable"),
            str(cond.get("message") or ""),
        )

    write_status(kv.ctx, kv.t.vmi, vmi, fn)


def _scheduled(kv: Kv, vmi: Obj, pod: Obj) -> None:
    node = str(pod["spec"]["nodeName"])
    if (meta(vmi).get("labels") or {}).get("kubevirt.io/nodeName") != node:
        vmi = (
            write_meta(
                kv.ctx,
                kv.t.vmi,
                vmi,
                lambda o: (
                    o["metadata"].setdefault("labels", {}).__setitem__("kubevirt.io/nodeName", node)
                ),
            )
            or vmi
        )
    spec = vmi.get("spec") or {}
    cpu = (spec.get("domain") or {}).get("cpu") or {}
    migratable = kubevirt_migratable.conditions(kv.ctx, vmi)

    def fn(st: dict[str, Any], ts: str) -> None:
        add_phase(st, "Scheduled", ts)
        st["nodeName"] = node
        st["activePods"] = {uid(pod): node}
        st["qosClass"] = status(pod).get("qosClass") or qos_class(pod)
        st["launcherContainerImageVersion"] = LAUNCHER_IMAGE
        st["migrationTransport"] = "Unix"
        st["currentCPUTopology"] = {
            "cores": int(cpu.get("cores", 1)),
            "sockets": int(cpu.get("sockets", 1)),
            "threads": int(cpu.get("threads", 1)),
        }
        st["machine"] = {"type": "q35"}
        st["selinuxContext"] = "none"
        drop_condition(st, "PodScheduled")
        for ctype, cstatus, reason, message in migratable:
            set_condition(st, ctype, cstatus, ts, reason, message)

    transition(kv.ctx, kv.t.vmi, vmi, "Scheduled", fn)


def _interfaces(kv: Kv, vmi: Obj, pod: Obj) -> list[dict[str, Any]]:
    spec = vmi.get("spec") or {}
    ifaces = ((spec.get("domain") or {}).get("devices") or {}).get("interfaces") or [
        {"name": "default"}
    ]
    ip = status(pod).get("podIP") or (
        f"10.{kv.ctx.rng.randint(128, 255)}.{kv.ctx.rng.randint(0, 255)}."
        f"{kv.ctx.rng.randint(2, 254)}"
    )
    out = []
    for i, iface in enumerate(ifaces):
        octets = [kv.ctx.rng.randint(0, 255) for _ in range(5)]
        mac = iface.get("macAddress") or "02:" + ":".join(f"{b:02x}" for b in octets)
        entry: dict[str, Any] = {
            "name": iface.get("name", "default"),
            "interfaceName": f"eth{i}",
            "mac": mac,
            "infoSource": "domain, guest-agent",
            "queueCount": 1,
            "linkState": "up",
            "podInterfaceName": "eth0" if i == 0 else f"pod{i}",
        }
        if i == 0:
            entry["ipAddress"] = ip
            entry["ipAddresses"] = [ip]
        out.append(entry)
    return out


def _running(kv: Kv, vmi: Obj, pod: Obj) -> None:
    spec = vmi.get("spec") or {}
    paused = spec.get("startStrategy") == "Paused"
    ifaces = _interfaces(kv, vmi, pod)
    volumes = spec.get("volumes") or []
    block = any("containerDisk" in v or "ephemeral" in v for v in volumes)
    guest = (((spec.get("domain") or {}).get("memory") or {}).get("guest")) or (
        ((spec.get("domain") or {}).get("resources") or {}).get("requests") or {}
    ).get("memory")

    def fn(st: dict[str, Any], ts: str) -> None:
        add_phase(st, "Running", ts)
        st["interfaces"] = ifaces
        st["migrationMethod"] = "BlockMigration" if block else "LiveMigration"
        st["volumeStatus"] = [
            {"name": v["name"], "target": f"vd{chr(ord('a') + i)}"} for i, v in enumerate(volumes)
        ]
        if guest:
            st["memory"] = {"guestAtBoot": guest, "guestCurrent": guest, "guestRequested": guest}
        if paused:
            set_condition(st, "Ready", "False", ts, *PAUSED_GATE)
            set_condition(
                st, "Paused", "True", ts, "PausedStartStrategy", "VMI was paused by start strategy"
            )
        else:
            set_condition(st, "Ready", "True", ts)
            # virt-controller copies the launcher pod's Ready condition (its transition time)
            pod_ready_at = _pod_condition_time(pod, "Ready")
            if pod_ready_at:
                for c in st["conditions"]:
                    if c.get("type") == "Ready":
                        c["lastTransitionTime"] = pod_ready_at

    new = transition(kv.ctx, kv.t.vmi, vmi, "Running", fn, ("Paused",) if paused else ())
    if new is not None:  # virt-handler vm.go: the domain was defined, then started
        at, node = now(kv.ctx)[0], str(status(new).get("nodeName") or "")
        emit_event(
            kv.ctx, new, "Created", "VirtualMachineInstance defined.", "virt-handler", at, node
        )
        started = "VirtualMachineInstance started."
        emit_event(kv.ctx, new, "Started", started, "virt-handler", at + 1e-6, node)


def _fail(kv: Kv, vmi: Obj, reason: str, message: str) -> None:
    def fn(st: dict[str, Any], ts: str) -> None:
        add_phase(st, "Failed", ts)
        st["reason"] = reason
        set_condition(st, "Ready", "False", ts, reason, message)

    transition(kv.ctx, kv.t.vmi, vmi, "Failed", fn)


def _reconcile_deleting(kv: Kv, vmi: Obj, phase: str, fired: Fired) -> None:
    if phase in FINAL_PHASES:
        for pod in kv.launcher_pods(vmi):
            safe_delete(kv.ctx, kv.t.pod, meta(pod)["namespace"], meta(pod)["name"], 0)
        if VMI_FINALIZER in (meta(vmi).get("finalizers") or []):
            write_meta(kv.ctx, kv.t.vmi, vmi, _drop_finalizer)
        return
    if phase not in ("Scheduled", "Running"):
        _fail(kv, vmi, "PodTerminating", "VMI was deleted before it was running")
        return
    _, ts = now(kv.ctx)
    write_status(
        kv.ctx,
        kv.t.vmi,
        vmi,
        lambda st: set_condition(
            st, "Ready", "False", ts, "PodTerminating", "virt-launcher pod is terminating"
        ),
    )
    if kv.due(KIND, vmi, "Succeeded", "VirtualMachineInstance.Succeeded", fired):
        vmi = kv.ctx.store.get(kv.t.vmi, meta(vmi)["namespace"], meta(vmi)["name"]) or vmi

        def fn(st: dict[str, Any], ts: str) -> None:
            add_phase(st, "Succeeded", ts)
            drop_condition(st, "Paused")

        transition(kv.ctx, kv.t.vmi, vmi, "Succeeded", fn)


def _drop_finalizer(o: Obj) -> None:
    o["metadata"]["finalizers"] = [
        f for f in o["metadata"].get("finalizers") or [] if f != VMI_FINALIZER
    ]


def schedule_pause(ctx: SimContext, vmi: Obj, pause: bool) -> None:
    """After the profile delay, pause (or unpause) the guest of a running VMI."""
    name = "Paused" if pause else "Unpaused"
    m = meta(vmi)
    ns, vname, vuid = str(m["namespace"]), str(m["name"]), uid(vmi)
    ctx.schedule(
        ("kv-pause", vuid),
        ctx.delay(f"VirtualMachineInstance.{name}"),
        lambda: _apply_pause(ctx, ns, vname, vuid, pause),
    )


def _apply_pause(ctx: SimContext, ns: str, name: str, vuid: str, pause: bool) -> None:
    rt = Types.of(ctx).vmi
    vmi = ctx.store.get(rt, ns, name)
    if vmi is None or uid(vmi) != vuid or status(vmi).get("phase") != "Running" or deleting(vmi):
        return
    if cond_true(vmi, "Paused") == pause:
        return

    def fn(st: dict[str, Any], ts: str) -> None:
        if pause:
            set_condition(st, "Paused", "True", ts, "PausedByUser", "VMI was paused by user")
            set_condition(st, "Ready", "False", ts, *PAUSED_GATE)
        else:
            drop_condition(st, "Paused")
            set_condition(st, "Ready", "True", ts)

    transition(ctx, rt, vmi, "Paused" if pause else "Unpaused", fn)
