"""OpTracker: completion of KubeVirt day-2 operations from watch events, per VM and iteration.

The tracker keeps the latest VM, VMI and migration state it was shown and, for every pending
operation, re-evaluates its condition (``kubevirt_ops.evaluate``) on each event for that VM. An
op is registered just before its request is sent; it is *armed* when the state at registration,
or any state seen afterwards, does not satisfy its condition. It completes on a "fresh" state, or
on an "ambiguous" one once armed: a Ready condition whose lastTransitionTime has the request's
second counts only if the tracker saw the VM not ready after the request. No LIST polling.
"""

from __future__ import annotations

import threading
import time
from collections import Counter
from collections.abc import Callable, Sequence
from typing import Any

from .kubevirt_ops import Obj, PendingOp, evaluate, failure

EventCallback = Callable[[str, dict[str, Any], int], None]


def _key(obj: Obj) -> tuple[str, str]:
    meta = obj.get("metadata") or {}
    return str(meta.get("namespace") or ""), str(meta.get("name") or "")


class OpTracker:
    """Watch-fed state of the targeted VMs and the completion of operations on them."""

    def __init__(self) -> None:
        self._cond = threading.Condition()
        self._vms: dict[tuple[str, str], Obj] = {}
        self._vmis: dict[tuple[str, str], Obj] = {}
        self._vmim_phase: dict[str, str] = {}
        self._pending: dict[tuple[str, str], list[PendingOp]] = {}
        self._by_vmim: dict[str, PendingOp] = {}

    # -- watch input ------------------------------------------------------------------------------
    def handler(self, kind: str) -> EventCallback:
        """The watch callback for VirtualMachine, VirtualMachineInstance or the migrations."""

        def on_event(etype: str, obj: Obj, rx: int) -> None:
            with self._cond:
                if kind == "VirtualMachineInstanceMigration":
                    self._on_vmim(etype, obj, rx)
                else:
                    store = self._vms if kind == "VirtualMachine" else self._vmis
                    key = _key(obj)
                    if etype == "DELETED":
                        store.pop(key, None)
                    else:
                        store[key] = obj
                    self._check(key, rx)
                self._cond.notify_all()

        return on_event

    def _on_vmim(self, etype: str, obj: Obj, rx: int) -> None:
        uid = str((obj.get("metadata") or {}).get("uid") or "")
        phase = str((obj.get("status") or {}).get("phase") or "")
        if etype == "DELETED" and phase not in ("Succeeded", "Failed"):
            phase = "Failed"
        self._vmim_phase[uid] = phase
        op = self._by_vmim.get(uid)
        if op is not None:
            self._check(op.key, rx)

    def _check(self, key: tuple[str, str], rx: int) -> None:
        for op in self._pending.get(key, ()):
            self._judge(op, rx)

    def _judge(self, op: PendingOp, rx: int) -> None:
        # Events between registration and the request's answer still arm the op (and may
        # satisfy it: a hotplug is written before the answer); completion waits for the answer.
        if op.finished:
            return
        vmi = self._vmis.get(op.key)
        phase = self._vmim_phase.get(op.vmim_uid or "", "")
        reason = failure(op, vmi, phase) if op.sent else None
        if reason is not None:
            op.error = reason
            return
        state = evaluate(op, self._vms.get(op.key), vmi, phase)
        if state == "not":
            op.armed = True
            op.satisfied_ns = None
        elif state == "fresh" or (state == "ambiguous" and op.armed):
            if op.satisfied_ns is None:
                op.satisfied_ns = max(rx, op.t_ns)
            if op.sent:
                op.done_ns = op.satisfied_ns

    # -- operations -------------------------------------------------------------------------------
    def current_vmi_uid(self, key: tuple[str, str]) -> str | None:
        """uid of the VMI of ``key`` as last seen."""
        with self._cond:
            meta = (self._vmis.get(key) or {}).get("metadata") or {}
            return str(meta["uid"]) if meta.get("uid") else None

    def register(self, op: PendingOp) -> None:
        """Track ``op`` from now on; call right before its request is sent (t_ns set)."""
        with self._cond:
            meta = (self._vmis.get(op.key) or {}).get("metadata") or {}
            op.old_vmi_uid = str(meta["uid"]) if meta.get("uid") else None
            state = evaluate(op, self._vms.get(op.key), self._vmis.get(op.key), "")
            op.armed = state == "not"
            self._pending.setdefault(op.key, []).append(op)

    def sent(self, op: PendingOp, vmim_uid: str | None = None) -> None:
        """The request of ``op`` was accepted; judge it on the state seen so far."""
        with self._cond:
            op.sent = True
            if vmim_uid:
                op.vmim_uid = vmim_uid
                self._by_vmim[vmim_uid] = op
            self._judge(op, time.time_ns())
            self._cond.notify_all()

    def failed(self, op: PendingOp, reason: str) -> None:
        """The request of ``op`` failed."""
        with self._cond:
            op.error = reason
            self._cond.notify_all()

    def wait(
        self, ops: Sequence[PendingOp], timeout: float, stop: threading.Event | None = None
    ) -> bool:
        """Block until every op in ``ops`` finished (or ``timeout``/``stop``); True when done."""
        deadline = time.monotonic() + timeout
        with self._cond:
            while not all(op.finished for op in ops):
                left = deadline - time.monotonic()
                if left <= 0 or (stop is not None and stop.is_set()):
                    return False
                self._cond.wait(min(left, 0.5))
            return True

    def forget(self, ops: Sequence[PendingOp]) -> None:
        """Stop tracking finished ``ops`` (keeps memory flat over many iterations)."""
        with self._cond:
            for op in ops:
                if not op.finished:
                    continue
                pending = self._pending.get(op.key, [])
                if op in pending:
                    pending.remove(op)
                if op.vmim_uid:
                    self._by_vmim.pop(op.vmim_uid, None)

    def report(self, ops: Sequence[PendingOp], limit: int = 5) -> str:
        """``restart: 8/10 done; not done: ns/a (Starting), ...`` for ops still pending."""
        with self._cond:
            lagging = [op for op in ops if not op.finished]
            by_op = Counter(op.op for op in ops)
            done = Counter(op.op for op in ops if op.done_ns is not None)
            parts = [f"{name}: {done[name]}/{n} done" for name, n in by_op.items()]
            names = []
            for op in lagging[:limit]:
                st = (self._vms.get(op.key) or self._vmis.get(op.key) or {}).get("status") or {}
                state = st.get("printableStatus") or st.get("phase") or "not seen"
                names.append(f"{op.namespace}/{op.name} ({state})")
        tail = f"; not done: {', '.join(names)}" if names else ""
        return "; ".join(parts) + tail
