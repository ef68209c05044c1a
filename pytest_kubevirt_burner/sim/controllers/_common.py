"""Helpers shared by the simulator controllers: conditions, owners, selectors, events, pod state."""

from __future__ import annotations

import contextlib
import hashlib
import logging
import random
from collections.abc import Callable
from typing import Any

import orjson

from ..context import SimContext
from ..errors import ApiError
from ..store import Event, Obj, now_rfc3339

log = logging.getLogger("pytest_kubevirt_burner.sim.controllers")

NAME_CHARS = "bcdfghjklmnpqrstvwxz2456789"


def safe(fn: Callable[..., None]) -> Callable[..., None]:
    """Wrap a listener or timer callback so that a bug is logged instead of breaking the store."""

    def wrapper(*args: Any) -> None:
        try:
            fn(*args)
        except ApiError as exc:
            log.debug("%s: %s %s", getattr(fn, "__name__", fn), exc.code, exc.message)
        except Exception:
            log.exception("controller callback %s failed", getattr(fn, "__name__", fn))

    return wrapper


def rand_suffix(rng: random.Random, n: int = 5) -> str:
    """Random name suffix from the alphabet the API server uses for generateName."""
    return "".join(rng.choice(NAME_CHARS) for _ in range(n))


def short_hash(data: Any, n: int = 10) -> str:
    """Stable hash of a JSON-able value spelled in the safe name alphabet (pod-template-hash)."""
    digest = hashlib.sha256(orjson.dumps(data, option=orjson.OPT_SORT_KEYS)).digest()
    return "".join(NAME_CHARS[b % len(NAME_CHARS)] for b in digest[:n])


def meta(obj: Obj) -> dict[str, Any]:
    """``metadata`` of an object (empty dict if absent)."""
    m: dict[str, Any] = obj.get("metadata") or {}
    return m


def uid_of(obj: Obj) -> str:
    """``metadata.uid``."""
    return str(meta(obj).get("uid", ""))


def deleting(obj: Obj) -> bool:
    """Whether the object has a deletionTimestamp."""
    return bool(meta(obj).get("deletionTimestamp"))


def get_condition(obj: Obj, ctype: str) -> dict[str, Any] | None:
    """The status condition of type ``ctype`` or None."""
    for cond in (obj.get("status") or {}).get("conditions") or []:
        if cond.get("type") == ctype:
            c: dict[str, Any] = cond
            return c
    return None


def condition_true(obj: Obj, ctype: str) -> bool:
    """Whether condition ``ctype`` has status True."""
    cond = get_condition(obj, ctype)
    return cond is not None and cond.get("status") == "True"


def set_condition(
    obj: Obj,
    ctype: str,
    status: str,
    at: float,
    reason: str | None = None,
    message: str | None = None,
    probe: bool = False,
) -> None:
    """Set a condition in place; lastTransitionTime moves only when the status changes."""
    conds: list[dict[str, Any]] = obj.setdefault("status", {}).setdefault("conditions", [])
    stamp = now_rfc3339(at)
    for cond in conds:
        if cond.get("type") == ctype:
            if cond.get("status") != status:
                cond["lastTransitionTime"] = stamp
            cond["status"] = status
            break
    else:
        cond = {"type": ctype, "status": status, "lastTransitionTime": stamp}
        conds.append(cond)
    if probe:
        cond["lastProbeTime"] = None
    if reason is None:
        cond.pop("reason", None)
    else:
        cond["reason"] = reason
    if message is None:
        cond.pop("message", None)
    else:
        cond["message"] = message


def controller_ref(obj: Obj) -> dict[str, Any] | None:
    """The ownerReference with ``controller: true``, if any."""
    for ref in meta(obj).get("ownerReferences") or []:
        if ref.get("controller"):
            r: dict[str, Any] = ref
            return r
    return None


def owner_ref(owner: Obj, block: bool = True) -> dict[str, Any]:
    """A controller ownerReference pointing at ``owner``."""
    m = meta(owner)
    return {
        "apiVersion": owner["apiVersion"],
        "kind": owner["kind"],
        "name": m["name"],
        "uid": m["uid"],
        "controller": True,
        "blockOwnerDeletion": block,
    }


def selector_matches(selector: dict[str, Any] | None, labels: dict[str, str]) -> bool:
    """LabelSelector (matchLabels + matchExpressions) against a label map; empty matches all."""
    if not selector:
        return True
    for k, v in (selector.get("matchLabels") or {}).items():
        if labels.get(k) != v:
            return False
    for expr in selector.get("matchExpressions") or []:
        key, op, values = expr.get("key"), expr.get("operator"), expr.get("values") or []
        if op == "In" and labels.get(key) not in values:
            return False
        if op == "NotIn" and key in labels and labels[key] in values:
            return False
        if op == "Exists" and key not in labels:
            return False
        if op == "DoesNotExist" and key in labels:
            return False
    return True


def pod_phase(pod: Obj) -> str:
    """``status.phase`` (Pending when unset)."""
    return str((pod.get("status") or {}).get("phase") or "Pending")


def pod_terminal(pod: Obj) -> bool:
    """Whether the pod finished (Succeeded or Failed)."""
    return pod_phase(pod) in ("Succeeded", "Failed")


def pod_active(pod: Obj) -> bool:
    """Not terminal and not being deleted (what controllers count as a live replica)."""
    return not pod_terminal(pod) and not deleting(pod)


def pod_ready(pod: Obj) -> bool:
    """Active and Ready=True."""
    return pod_active(pod) and condition_true(pod, "Ready")


def emit_event(
    ctx: SimContext,
    obj: Obj,
    reason: str,
    message: str,
    component: str,
    at: float,
    host: str | None = None,
) -> None:
    """Create a core v1 Event about ``obj`` named ``<name>.<hex nanoseconds>`` like client-go."""
    m = meta(obj)
    ns = m.get("namespace") or "default"
    stamp = now_rfc3339(at)
    micro = f"{stamp[:-1]}.{int((at % 1) * 1_000_000):06d}Z"
    event = {
        "apiVersion": "v1",
        "kind": "Event",
        "metadata": {"name": f"{m['name']}.{int(at * 1e9):x}", "namespace": ns},
        "involvedObject": {
            "apiVersion": obj.get("apiVersion"),
            "kind": obj.get("kind"),
            "name": m.get("name"),
            "namespace": m.get("namespace"),
            "uid": m.get("uid"),
            "resourceVersion": m.get("resourceVersion"),
        },
        "reason": reason,
        "message": message,
        "type": "Normal",
        "source": {"component": component, **({"host": host} if host else {})},
        "firstTimestamp": stamp,
        "lastTimestamp": stamp,
        "eventTime": micro,
        "count": 1,
        "reportingComponent": component,
        "reportingInstance": host or component,
        "action": "Binding" if reason == "Scheduled" else reason,
    }
    # best effort: the namespace may be terminating
    with contextlib.suppress(ApiError):
        ctx.store.create(ctx.registry.core("events"), event, ns)


def _klass(pod: Obj) -> tuple[int, int, int]:
    return (int(pod_active(pod)), int(pod_ready(pod)), int(pod_phase(pod) == "Succeeded"))


class PodTracker:
    """Pods grouped by the uid of their controller owner of one kind, with incremental counts."""

    def __init__(self, owner_kind: str) -> None:
        self.owner_kind = owner_kind
        self.pods: dict[str, dict[str, Obj]] = {}
        # owner uid -> [active, ready, succeeded] over its current pods
        self._counts: dict[str, list[int]] = {}

    def observe(self, ev: Event) -> str | None:
        """Update from a pod event; returns the owner uid affected (or None)."""
        if not meta(ev.obj).get("ownerReferences") and (
            ev.old is None or not meta(ev.old).get("ownerReferences")
        ):
            return None  # most pods: no owner at all
        ref = controller_ref(ev.obj)
        old_ref = controller_ref(ev.old) if ev.old is not None else None
        name = meta(ev.obj).get("name", "")
        old_owner = (
            str(old_ref["uid"]) if old_ref and old_ref.get("kind") == self.owner_kind else None
        )
        owner = str(ref["uid"]) if ref and ref.get("kind") == self.owner_kind else None
        if old_owner is not None and old_owner != owner:
            self._drop(old_owner, name)
        if owner is None:
            return old_owner
        if ev.type == "DELETED":
            self._drop(owner, name)
        else:
            group = self.pods.setdefault(owner, {})
            counts = self._counts.setdefault(owner, [0, 0, 0])
            prev = group.get(name)
            if prev is not None:
                for i, v in enumerate(_klass(prev)):
                    counts[i] -= v
            group[name] = ev.obj
            for i, v in enumerate(_klass(ev.obj)):
                counts[i] += v
        return owner

    def _drop(self, owner: str, name: str) -> None:
        group = self.pods.get(owner)
        if group is None or name not in group:
            return
        counts = self._counts[owner]
        for i, v in enumerate(_klass(group.pop(name))):
            counts[i] -= v
        if not group:
            del self.pods[owner]
            del self._counts[owner]

    def of(self, owner_uid: str) -> dict[str, Obj]:
        """Current pods of an owner by name."""
        return self.pods.get(owner_uid, {})

    def counts(self, owner_uid: str) -> tuple[int, int, int]:
        """(active, ready, succeeded) pod counts of an owner."""
        c = self._counts.get(owner_uid)
        return (c[0], c[1], c[2]) if c else (0, 0, 0)
