"""Job controller: runs ``parallelism`` pods until ``completions`` succeed, then Complete."""

from __future__ import annotations

from typing import Any

from ..context import SimContext
from ..store import Event, Obj, now_rfc3339
from ._common import (
    PodTracker,
    condition_true,
    deleting,
    meta,
    pod_phase,
    safe,
    set_condition,
    uid_of,
)
from .workloads import create_pod


class JobController:
    """Creates job pods, counts successes (monotonic), and marks the Job Complete."""

    def __init__(self, ctx: SimContext) -> None:
        self.ctx = ctx
        self.rt = ctx.registry.lookup("batch", "jobs")
        self.pods_rt = ctx.registry.core("pods")
        self.tracker = PodTracker("Job")
        self.where: dict[str, tuple[str, str]] = {}
        # job uid -> uids of its pods seen Succeeded (survives pod deletion)
        self.succeeded: dict[str, set[str]] = {}

    def start(self) -> None:
        """Subscribe and take in existing objects."""
        self.ctx.store.subscribe(safe(self.on_event), [self.pods_rt.key, self.rt.key])
        for pod in self.ctx.store.list(self.pods_rt):
            self.on_event(Event("ADDED", self.pods_rt, pod, None, 0))
        for job in self.ctx.store.list(self.rt):
            self.on_event(Event("ADDED", self.rt, job, None, 0))

    def on_event(self, ev: Event) -> None:
        """Requeue the Job concerned."""
        if ev.rt.key == self.pods_rt.key:
            owner = self.tracker.observe(ev)
            if owner is None:
                return
            if pod_phase(ev.obj) == "Succeeded":
                self.succeeded.setdefault(owner, set()).add(uid_of(ev.obj))
            self.queue(owner)
        elif ev.rt.key == self.rt.key:
            uid = uid_of(ev.obj)
            if ev.type == "DELETED":
                self.where.pop(uid, None)
                self.succeeded.pop(uid, None)
                self.ctx.cancel(("job", uid))
            else:
                self.where[uid] = (meta(ev.obj).get("namespace", ""), meta(ev.obj)["name"])
                self.queue(uid)

    def queue(self, uid: str) -> None:
        """Reconcile soon (coalesced)."""
        if uid in self.where and not self.ctx.pending(("job", uid)):
            self.ctx.schedule(("job", uid), 0, safe(lambda: self.reconcile(uid)))

    def reconcile(self, uid: str) -> None:
        """Create pods up to parallelism, write status, complete when enough succeeded."""
        if uid not in self.where:
            return
        job = self.ctx.store.get(self.rt, *self.where[uid])
        if job is None or uid_of(job) != uid or condition_true(job, "Complete"):
            return
        spec = job.get("spec") or {}
        completions: int | None = spec.get("completions")
        parallelism = int(spec.get("parallelism", 1) if spec.get("parallelism") is not None else 1)
        active, ready, _ = self.tracker.counts(uid)
        done_count = len(self.succeeded.get(uid, ()))
        if completions is None:
            done = done_count >= 1 and active == 0
            want = 0 if done_count else parallelism
        else:
            done = done_count >= completions
            want = min(parallelism, completions - done_count)
        if not done and not deleting(job) and not spec.get("suspend"):
            name = meta(job)["name"]
            labels = {
                "batch.kubernetes.io/controller-uid": uid,
                "batch.kubernetes.io/job-name": name,
                "controller-uid": uid,
                "job-name": name,
            }
            template = spec.get("template") or {}
            for _ in range(max(0, want - active)):
                if not create_pod(self.ctx, job, template, name, labels):
                    break
            active, ready, _ = self.tracker.counts(uid)
        self._status(job, active, ready, done_count, done)

    def _status(self, job: Obj, active: int, ready: int, succeeded: int, done: bool) -> None:
        at = self.ctx.clock()

        def fn(o: Obj) -> None:
            st: dict[str, Any] = o.setdefault("status", {})
            st.setdefault("startTime", now_rfc3339(at))
            st.update(
                active=active,
                ready=ready,
                succeeded=succeeded,
                failed=0,
                terminating=0,
                uncountedTerminatedPods={},
            )
            if done:
                set_condition(
                    o,
                    "SuccessCriteriaMet",
                    "True",
                    at,
                    "CompletionsReached",
                    "Reached expected number of succeeded pods",
                    True,
                )
                set_condition(
                    o,
                    "Complete",
                    "True",
                    at,
                    "CompletionsReached",
                    "Reached expected number of succeeded pods",
                    True,
                )
                st["completionTime"] = now_rfc3339(at)
                st["active"] = 0
            for cond in st.get("conditions") or []:
                cond["lastProbeTime"] = cond["lastTransitionTime"]

        m = meta(job)
        new = self.ctx.store.mutate(
            self.rt, m.get("namespace"), m["name"], fn, subresource="status"
        )
        if new is not None and done:
            self.ctx.ground_truth.record(new, "Complete", at)


def register(ctx: SimContext) -> None:
    """Start the Job controller."""
    JobController(ctx).start()
