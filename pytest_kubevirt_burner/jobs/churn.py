"""Churn of a create job (kube-burner's churnConfig): delete and re-create a share, in cycles.

Runs after the job's verification, inside its measurement window. Each cycle picks its victims
from a watch-fed inventory of the job's objects (no LIST), deletes them with the job's token
bucket, waits until the watches saw them gone, re-creates exactly the same iterations or objects
through the create job's own rendering and labelling, waits for readiness and verifies the
counts. ``namespaces`` mode deletes a contiguous random window of the job's namespaces (and the
cluster-scoped objects of their iterations); ``objects`` mode deletes, per churnable object, the
oldest ``percent`` of its copies with Foreground propagation.
"""

from __future__ import annotations

import random
import threading
import time
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass
from functools import partial
from typing import Any

from ..errors import JobFailed
from ..jobspec import ChurnSpec
from ..labels import INDEX, ITERATION, REPLICA
from ..measurements import MeasurementSet
from ..measurements.timeutil import ts_of
from ..results import JobResult
from .context import JobContext, iter_replicas
from .create import CreateJob, verify
from .preflight import Plan
from .progress import announce, finish
from .waiters import ReadinessTracker
from .watches import JobWatches, WatchFactory

Key = tuple[str, str]  # (namespace, name)


@dataclass(frozen=True)
class Entry:
    """What the inventory keeps of one object of the job."""

    index: int
    iteration: int
    replica: int
    created: int
    seen: int  # order of first sighting: breaks creationTimestamp's one-second ties


def _int(labels: dict[str, Any], key: str) -> int:
    try:
        return int(labels.get(key, -1))
    except (TypeError, ValueError):
        return -1


class Inventory:
    """Every namespace and object of the job's kinds, as its watches show them."""

    def __init__(self) -> None:
        self._cond = threading.Condition()
        self.present: dict[str, dict[Key, Entry]] = {}
        self._seen = 0

    def handler(self, kind: str) -> Any:
        """Watch callback keeping ``kind``'s objects."""
        objs = self.present.setdefault(kind, {})

        def on_event(etype: str, obj: dict[str, Any], _rx: int) -> None:
            meta = obj.get("metadata") or {}
            key = (str(meta.get("namespace") or ""), str(meta.get("name") or ""))
            labels = meta.get("labels") or {}
            with self._cond:
                if etype == "DELETED":
                    objs.pop(key, None)
                elif key not in objs:
                    self._seen += 1
                    objs[key] = Entry(
                        _int(labels, INDEX),
                        _int(labels, ITERATION),
                        _int(labels, REPLICA),
                        ts_of(meta.get("creationTimestamp")) or 0,
                        self._seen,
                    )
                self._cond.notify_all()

        return on_event

    def snapshot(self, kind: str) -> dict[Key, Entry]:
        """A copy of ``kind``'s objects."""
        with self._cond:
            return dict(self.present.get(kind, {}))

    def wait_gone(self, victims: dict[str, set[Key]], timeout: float, stop: threading.Event) -> int:
        """Block until no victim is present; returns how many remain."""
        deadline = time.monotonic() + timeout
        with self._cond:
            while True:
                left = sum(
                    1 for k, keys in victims.items() for key in keys if key in self.present[k]
                )
                if left == 0 or stop.is_set() or time.monotonic() >= deadline:
                    return left
                self._cond.wait(min(0.5, max(0.0, deadline - time.monotonic())))


class Churner(CreateJob):
    """The create job's machinery (bucket, rendering, labels, hooks) applied to churn cycles."""

    def __init__(
        self,
        ctx: JobContext,
        plan: Plan,
        result: JobResult,
        tracker: ReadinessTracker | None,
        inventory: Inventory,
    ) -> None:
        super().__init__(ctx, plan, result, tracker)
        self.inventory = inventory
        self.rng = random.Random()
        churn = ctx.spec.churn
        assert churn is not None
        self.churn: ChurnSpec = churn

    # -- choosing victims -------------------------------------------------------------------------
    def namespace_victims(self) -> tuple[dict[str, set[Key]], list[int]]:
        """A contiguous random window of namespaces: victims by kind, iterations to re-create."""
        spec = self.ctx.spec
        per_ns = spec.iterations_per_namespace
        count = -(-spec.iterations // per_ns)
        n = max(self.churn.percent * count // 100, 1)
        first = self.rng.randint(0, count - n)
        step = max((o.repeat_every_n_iterations for o in spec.objects), default=1)
        if step > 1:  # kube-burner aligns the window to repeatEveryNIterations (shared objects)
            n = min(-(-n // step) * step, (count // step) * step) or count
            first = step * self.rng.randint(0, (count - n) // step)
        iterations = list(range(first * per_ns, min((first + n) * per_ns, spec.iterations)))
        names = {spec.namespace_for(it) for it in iterations}
        victims: dict[str, set[Key]] = {"Namespace": {("", name) for name in names}}
        wanted = set(iterations)
        for kind, (_, namespaced) in self.plan.kinds.items():
            own = self.plan.indices.get(kind, set())
            victims[kind] = {
                key
                for key, e in self.inventory.snapshot(kind).items()
                if e.index in own
                and ((namespaced and key[0] in names) or (not namespaced and e.iteration in wanted))
            }
        return victims, iterations

    def object_victims(self) -> dict[str, dict[Key, Entry]]:
        """Per kind, the oldest ``percent`` of the copies of every churnable object."""
        churnable = {i for i, o in enumerate(self.ctx.spec.objects) if o.churn}
        out: dict[str, dict[Key, Entry]] = {}
        for kind in self.plan.kinds:
            for index in sorted(self.plan.indices.get(kind, set()) & churnable):
                copies = [
                    (e.created, e.seen, key, e)
                    for key, e in self.inventory.snapshot(kind).items()
                    if e.index == index
                ]
                copies.sort()
                n = max(self.churn.percent * len(copies) // 100, 1) if copies else 0
                out.setdefault(kind, {}).update({key: e for _, _, key, e in copies[:n]})
        return out

    # -- deleting and re-creating -----------------------------------------------------------------
    def delete(self, kind: str, keys: set[Key], propagation: str) -> None:
        """Delete ``keys`` of ``kind`` (one token each)."""
        api_version = "v1" if kind == "Namespace" else self.plan.kinds[kind][0]
        for ns, name in sorted(keys):
            self.ctx.client.delete(
                api_version,
                kind,
                name,
                namespace=ns or None,
                propagation=propagation,
                missing_ok=True,
                limiter=self.limiter,
            )

    def _submit(
        self, pool: ThreadPoolExecutor, doc: dict[str, Any], ns: str | None
    ) -> Future[None]:
        self.limiter.wait()
        fut = pool.submit(self._create_one, doc, ns)
        name = str((doc.get("metadata") or {}).get("name", ""))
        fut.add_done_callback(partial(self._collect, name=name, kind=str(doc["kind"])))
        return fut

    def recreate_iterations(self, iterations: list[int]) -> int:
        """Create every object of ``iterations`` again; returns how many were sent."""
        ctx, spec, sent = self.ctx, self.ctx.spec, 0
        with ThreadPoolExecutor(ctx.workers, thread_name_prefix="burner-churn") as pool:
            for it in iterations:
                ns = spec.namespace_for(it)
                self._namespaces.discard(ns)
                if self._namespaced_any():
                    self.ensure_namespace(ns)
                for index, obj, replica in iter_replicas(spec, it):
                    for doc in ctx.render(index, obj, it, replica):
                        _, namespaced = self.plan.kinds[str(doc["kind"])]
                        target = (doc.get("metadata") or {}).get("namespace") or ns
                        self._submit(pool, doc, target if namespaced else None)
                        sent += 1
        return sent

    def recreate_objects(self, victims: dict[str, dict[Key, Entry]]) -> int:
        """Create each victim again from its object, iteration and replica."""
        ctx, sent = self.ctx, 0
        with ThreadPoolExecutor(ctx.workers, thread_name_prefix="burner-churn") as pool:
            for kind, entries in victims.items():
                namespaced = self.plan.kinds[kind][1]
                for (ns, name), e in sorted(entries.items()):
                    obj = ctx.spec.objects[e.index]
                    for doc in ctx.render(e.index, obj, e.iteration, max(e.replica, 1)):
                        meta = doc.get("metadata") or {}
                        if doc.get("kind") == kind and meta.get("name") == name:
                            self._submit(pool, doc, ns if namespaced else None)
                            sent += 1
        return sent

    def wait_tracker(self, victims: dict[str, set[Key]]) -> None:
        """Wait until readiness no longer counts the deleted objects (its watches may lag)."""
        if self.tracker is None:
            return
        deadline = time.monotonic() + self.ctx.spec.max_wait_timeout
        while not self.ctx.stop.is_set() and time.monotonic() < deadline:
            counts = self.tracker.ready_counts()
            if all(
                counts.get(k, 0) <= self.plan.expected.get(k, 0) - len(keys)
                for k, keys in victims.items()
                if k in counts
            ):
                return
            time.sleep(0.01)


def _inventory_watches(ctx: JobContext, plan: Plan, factory: WatchFactory) -> tuple[Any, Any]:
    inventory = Inventory()
    watches = JobWatches(factory, ctx.run_selector)
    watches.add("v1", "Namespace", inventory.handler("Namespace"))
    for kind, (api_version, _) in plan.kinds.items():
        if kind != "Namespace":
            watches.add(api_version, kind, inventory.handler(kind))
    return inventory, watches


def run_churn(
    ctx: JobContext,
    plan: Plan,
    result: JobResult,
    ms: MeasurementSet,
    tracker: ReadinessTracker | None,
    watch_factory: WatchFactory,
) -> None:
    """Churn cycles until ``cycles`` or ``duration``; raises JobFailed when a cycle fails."""
    spec, churn = ctx.spec, ctx.spec.churn
    assert churn is not None
    inventory, watches = _inventory_watches(ctx, plan, watch_factory)
    churner = Churner(ctx, plan, result, tracker, inventory)
    result.churn_started_at = time.time()
    ms.set_churn(True)
    deadline = time.monotonic() + churn.duration if churn.duration else float("inf")
    try:
        watches.start()
        while (churn.cycles == 0 or result.churn_cycles < churn.cycles) and (
            time.monotonic() < deadline
        ):
            cycle = result.churn_cycles + 1
            announce(
                ctx.progress,
                f"churn cycle {cycle} of {churn.cycles or '-'}",
                cycle - 1,
                churn.cycles or None,
            )
            if churn.mode == "namespaces":
                victims, iterations = churner.namespace_victims()
                churner.delete("Namespace", victims["Namespace"], "Background")
                for kind, keys in victims.items():
                    if kind != "Namespace" and not plan.kinds[kind][1]:
                        churner.delete(kind, keys, "Background")
            else:
                chosen = churner.object_victims()
                victims = {k: set(v) for k, v in chosen.items()}
                for kind, keys in victims.items():
                    churner.delete(kind, keys, "Foreground")
            left = inventory.wait_gone(victims, spec.max_wait_timeout, ctx.stop)
            if ctx.stop.is_set():
                raise KeyboardInterrupt
            if left:
                raise JobFailed(
                    f"{spec.name}: churn cycle {cycle}: {left} deleted objects still present "
                    f"after max_wait_timeout ({spec.max_wait_timeout:g}s)"
                )
            churner.wait_tracker({k: v for k, v in victims.items() if k != "Namespace"})
            errors_before = len(result.errors)
            if not ctx.sleep(churn.delete_delay):
                raise KeyboardInterrupt
            if churn.mode == "namespaces":
                churner.recreate_iterations(iterations)
            else:
                churner.recreate_objects(chosen)
            result.churn_objects += sum(len(v) for k, v in victims.items() if k != "Namespace")
            _wait_and_verify(ctx, plan, result, tracker, cycle, errors_before)
            result.churn_cycles = cycle
            announce(
                ctx.progress,
                f"churn cycle {cycle} of {churn.cycles or '-'}",
                cycle,
                churn.cycles or None,
            )
            more = churn.cycles == 0 or cycle < churn.cycles
            if more and time.monotonic() < deadline and not ctx.sleep(churn.delay):
                raise KeyboardInterrupt
    finally:
        finish(ctx.progress)
        watches.stop()
        ms.set_churn(False)
        result.churn_ended_at = time.time()


def _wait_and_verify(
    ctx: JobContext,
    plan: Plan,
    result: JobResult,
    tracker: ReadinessTracker | None,
    cycle: int,
    errors_before: int,
) -> None:
    spec = ctx.spec
    if tracker is not None and not tracker.wait(spec.max_wait_timeout, ctx.stop):
        if ctx.stop.is_set():
            raise KeyboardInterrupt
        raise JobFailed(
            f"{spec.name}: churn cycle {cycle}: not ready after max_wait_timeout "
            f"({spec.max_wait_timeout:g}s): {tracker.not_ready_report()}"
        )
    if not verify(ctx, plan, result):
        detail = ", ".join(
            f"{k}: expected {plan.expected.get(k, 0)}, found {n}"
            for k, n in result.found.items()
            if n != plan.expected.get(k, 0)
        )
        raise JobFailed(f"{spec.name}: churn cycle {cycle}: object verification failed ({detail})")
    if len(result.errors) > errors_before:
        raise JobFailed(f"{spec.name}: churn cycle {cycle}: {result.errors[errors_before]}")
