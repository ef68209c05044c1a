"""Deployment -> ReplicaSet -> Pod controllers with replica status and Available tracking."""

from __future__ import annotations

import contextlib
import copy
from typing import Any

from ..context import SimContext
from ..errors import ApiError
from ..resources import ResourceType
from ..store import Event, Obj, now_rfc3339
from ._common import (
    condition_true,
    controller_ref,
    deleting,
    get_condition,
    meta,
    owner_ref,
    pod_active,
    pod_phase,
    rand_suffix,
    safe,
    set_condition,
    short_hash,
    uid_of,
)
from .owned import OwnerController

BATCH = 500  # pods created per reconcile pass; the rest follow on the next loop turn


def pod_from_template(
    owner: Obj, template: dict[str, Any], name: str, labels: dict[str, str] | None = None
) -> Obj:
    """A pod built from a pod template, controlled by ``owner``."""
    tmeta = template.get("metadata") or {}
    pod_labels = {**(tmeta.get("labels") or {}), **(labels or {})}
    md: dict[str, Any] = {
        "name": name,
        "namespace": meta(owner).get("namespace"),
        "labels": pod_labels,
        "ownerReferences": [owner_ref(owner)],
    }
    if tmeta.get("annotations"):
        md["annotations"] = dict(tmeta["annotations"])
    return {
        "apiVersion": "v1",
        "kind": "Pod",
        "metadata": md,
        "spec": copy.deepcopy(template.get("spec") or {}),
    }


def create_pod(
    ctx: SimContext,
    owner: Obj,
    template: dict[str, Any],
    prefix: str,
    labels: dict[str, str] | None = None,
    node: str | None = None,
) -> bool:
    """Create one ``<prefix>-<5 chars>`` pod; False when the namespace refuses new objects."""
    rt = ctx.registry.core("pods")
    ns = meta(owner).get("namespace")
    for _ in range(8):
        pod = pod_from_template(owner, template, f"{prefix}-{rand_suffix(ctx.rng)}", labels)
        if node is not None:
            pod["spec"]["nodeName"] = node
        try:
            ctx.store.create(rt, pod, ns)
            return True
        except ApiError as exc:
            if exc.code != 409:
                return False
    return False


def replicas(obj: Obj) -> int:
    """``spec.replicas`` (default 1)."""
    value = (obj.get("spec") or {}).get("replicas")
    return 1 if value is None else int(value)


def _rank(pod: Obj) -> tuple[int, int, int]:
    """Deletion preference: unscheduled < pending < not ready < ready."""
    return (
        int(bool((pod.get("spec") or {}).get("nodeName"))),
        int(pod_phase(pod) == "Running"),
        int(condition_true(pod, "Ready")),
    )


def surplus(pods: list[Obj], n: int) -> list[Obj]:
    """The ``n`` pods a controller deletes first when scaling down (newest among equals)."""
    newest = sorted(pods, key=lambda p: meta(p).get("creationTimestamp") or "", reverse=True)
    return sorted(newest, key=_rank)[:n]


class ReplicaSetController(OwnerController):
    """Keeps ``spec.replicas`` pods per ReplicaSet and reports ready/available counts."""

    kind = "ReplicaSet"

    def __init__(self, ctx: SimContext) -> None:
        super().__init__(ctx, "apps", "replicasets")

    def reconcile(self, rs: Obj) -> None:
        """Create or delete pods towards ``spec.replicas``; write status."""
        uid = uid_of(rs)
        ns, name = self.where[uid]
        want = replicas(rs)
        active, _, _ = self.tracker.counts(uid)
        if not deleting(rs):
            if active < want:
                template = (rs.get("spec") or {}).get("template") or {}
                for _ in range(min(want - active, BATCH)):
                    if not create_pod(self.ctx, rs, template, name):
                        break
                if want - active > BATCH:
                    self.queue(uid)
            elif active > want:
                pods = [p for p in self.tracker.of(uid).values() if pod_active(p)]
                for pod in surplus(pods, active - want):
                    with contextlib.suppress(ApiError):
                        self.ctx.store.delete(self.pods_rt, ns, meta(pod)["name"])
        self.write_status(rs, want)

    def write_status(self, rs: Obj, want: int) -> None:
        """Status from the tracked pod counts; record Available when all replicas are ready."""
        uid = uid_of(rs)
        active, ready, _ = self.tracker.counts(uid)
        at = self.ctx.clock()

        def fn(o: Obj) -> None:
            st = o.setdefault("status", {})
            st["replicas"] = active
            st["fullyLabeledReplicas"] = active
            st["readyReplicas"] = ready
            st["availableReplicas"] = ready
            st["observedGeneration"] = meta(o).get("generation", 1)

        m = meta(rs)
        new = self.ctx.store.mutate(
            self.rt, m.get("namespace"), m["name"], fn, subresource="status"
        )
        now_available = ready >= want and active == want
        if new is not None and now_available and not self.available.get(uid):
            self.ctx.ground_truth.record(new, "Available", at)
        self.available[uid] = now_available


class DeploymentController:
    """Creates one ReplicaSet per pod template, scales it, and reports Deployment status."""

    def __init__(self, ctx: SimContext) -> None:
        self.ctx = ctx
        self.rt = ctx.registry.lookup("apps", "deployments")
        self.rs_rt: ResourceType = ctx.registry.lookup("apps", "replicasets")
        self.where: dict[str, tuple[str, str]] = {}
        self.owned: dict[str, dict[str, Obj]] = {}

    def start(self) -> None:
        """Subscribe and take in existing objects."""
        self.ctx.store.subscribe(safe(self.on_event), [self.rs_rt.key, self.rt.key])
        for rs in self.ctx.store.list(self.rs_rt):
            self.on_event(Event("ADDED", self.rs_rt, rs, None, 0))
        for d in self.ctx.store.list(self.rt):
            self.on_event(Event("ADDED", self.rt, d, None, 0))

    def on_event(self, ev: Event) -> None:
        """Requeue the Deployment concerned."""
        if ev.rt.key == self.rs_rt.key:
            ref = controller_ref(ev.obj)
            if ref is None or ref.get("kind") != "Deployment":
                return
            owner, name = str(ref["uid"]), meta(ev.obj)["name"]
            if ev.type == "DELETED":
                self.owned.get(owner, {}).pop(name, None)
            else:
                self.owned.setdefault(owner, {})[name] = ev.obj
            self.queue(owner)
        elif ev.rt.key == self.rt.key:
            uid = uid_of(ev.obj)
            if ev.type == "DELETED":
                self.where.pop(uid, None)
                self.owned.pop(uid, None)
                self.ctx.cancel(("deployment", uid))
            else:
                self.where[uid] = (meta(ev.obj).get("namespace", ""), meta(ev.obj)["name"])
                self.queue(uid)

    def queue(self, uid: str) -> None:
        """Reconcile soon (coalesced)."""
        if uid in self.where and not self.ctx.pending(("deployment", uid)):
            self.ctx.schedule(("deployment", uid), 0, safe(lambda: self.reconcile(uid)))

    def reconcile(self, uid: str) -> None:
        """Ensure the current ReplicaSet exists with the desired replicas; old ones go to 0."""
        ns, name = self.where.get(uid, ("", ""))
        d = self.ctx.store.get(self.rt, ns, name)
        if d is None or uid_of(d) != uid:
            return
        spec = d.get("spec") or {}
        template = copy.deepcopy(spec.get("template") or {})
        tpl_hash = short_hash(template)
        rs_name = f"{name}-{tpl_hash}"
        owned = self.owned.get(uid, {})
        want = replicas(d)
        created = False
        if not deleting(d):
            if rs_name not in owned:
                created = self._create_rs(d, rs_name, tpl_hash, template, owned, want)
            elif replicas(owned[rs_name]) != want:
                self._scale(ns, rs_name, want)
            for other, rs in list(owned.items()):
                if other != rs_name and replicas(rs) != 0:
                    self._scale(ns, other, 0)
        self.write_status(d, self.owned.get(uid, {}).get(rs_name), want, created)

    def _create_rs(
        self,
        d: Obj,
        rs_name: str,
        tpl_hash: str,
        template: dict[str, Any],
        owned: dict[str, Obj],
        want: int,
    ) -> bool:
        revs = [
            int(
                (meta(r).get("annotations") or {}).get("deployment.kubernetes.io/revision", "0")
                or 0
            )
            for r in owned.values()
        ]
        labels = {
            **((template.get("metadata") or {}).get("labels") or {}),
            "pod-template-hash": tpl_hash,
        }
        template.setdefault("metadata", {})["labels"] = labels
        selector = copy.deepcopy((d.get("spec") or {}).get("selector") or {})
        selector.setdefault("matchLabels", {})["pod-template-hash"] = tpl_hash
        rs = {
            "apiVersion": "apps/v1",
            "kind": "ReplicaSet",
            "metadata": {
                "name": rs_name,
                "namespace": meta(d).get("namespace"),
                "labels": labels,
                "annotations": {
                    "deployment.kubernetes.io/revision": str(max(revs, default=0) + 1),
                    "deployment.kubernetes.io/desired-replicas": str(want),
                    "deployment.kubernetes.io/max-replicas": str(want + max(1, want // 4)),
                },
                "ownerReferences": [owner_ref(d)],
            },
            "spec": {
                "replicas": want,
                "selector": selector,
                "template": template,
                "minReadySeconds": (d.get("spec") or {}).get("minReadySeconds", 0),
            },
        }
        try:
            self.ctx.store.create(self.rs_rt, rs, meta(d).get("namespace"))
        except ApiError:
            return False
        return True

    def _scale(self, ns: str, name: str, n: int) -> None:
        def fn(o: Obj) -> None:
            o["spec"]["replicas"] = n
            o.setdefault("metadata", {}).setdefault("annotations", {})[
                "deployment.kubernetes.io/desired-replicas"
            ] = str(n)

        self.ctx.store.mutate(self.rs_rt, ns, name, fn)

    def write_status(self, d: Obj, new_rs: Obj | None, want: int, created: bool) -> None:
        """Aggregate ReplicaSet status; Available/Progressing conditions; ground truth."""
        uid = uid_of(d)
        owned = list(self.owned.get(uid, {}).values())

        def total(field: str) -> int:
            return sum(int((r.get("status") or {}).get(field) or 0) for r in owned)

        available = total("availableReplicas")
        updated = int(((new_rs or {}).get("status") or {}).get("replicas") or 0)
        rs_name = meta(new_rs)["name"] if new_rs else ""
        old_zero = all(replicas(r) == 0 for r in owned if r is not new_rs)
        at = self.ctx.clock()
        was_available = condition_true(d, "Available")

        def fn(o: Obj) -> None:
            st = o.setdefault("status", {})
            st.update(
                replicas=total("replicas"),
                updatedReplicas=updated,
                readyReplicas=total("readyReplicas"),
                availableReplicas=available,
                unavailableReplicas=max(want - available, 0),
                observedGeneration=meta(o).get("generation", 1),
            )
            if available >= want:
                set_condition(
                    o,
                    "Available",
                    "True",
                    at,
                    "MinimumReplicasAvailable",
                    "Deployment has minimum availability.",
                )
            else:
                set_condition(
                    o,
                    "Available",
                    "False",
                    at,
                    "MinimumReplicasUnavailable",
                    "Deployment does not have minimum availability.",
                )
            if new_rs is not None and updated == want and available >= want and old_zero:
                reason, msg = (
                    "NewReplicaSetAvailable",
                    f'ReplicaSet "{rs_name}" has successfully progressed.',
                )
            elif created:
                reason, msg = "NewReplicaSetCreated", f'Created new replica set "{rs_name}"'
            else:
                reason, msg = "ReplicaSetUpdated", f'ReplicaSet "{rs_name}" is progressing.'
            prog = get_condition(o, "Progressing")
            if prog is None or prog.get("reason") != reason or prog.get("message") != msg:
                set_condition(o, "Progressing", "True", at, reason, msg)
                cond = get_condition(o, "Progressing") or {}
                cond["lastUpdateTime"] = now_rfc3339(at)
            avail = get_condition(o, "Available") or {}
            avail["lastUpdateTime"] = avail.get("lastTransitionTime")

        m = meta(d)
        new = self.ctx.store.mutate(
            self.rt, m.get("namespace"), m["name"], fn, subresource="status"
        )
        if new is not None and not was_available and condition_true(new, "Available"):
            self.ctx.ground_truth.record(new, "Available", at)


def register(ctx: SimContext) -> None:
    """Start the ReplicaSet and Deployment controllers."""
    ReplicaSetController(ctx).start()
    DeploymentController(ctx).start()
