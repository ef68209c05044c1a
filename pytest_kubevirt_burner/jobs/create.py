"""Creating a job's objects: namespaces, rate-limited creates from a worker pool, verification.

The machinery of the create job type (jobs/density.py) and of its churn cycles (jobs/churn.py).
"""

from __future__ import annotations

import sys
import threading
import time
from collections import Counter
from concurrent.futures import Future, ThreadPoolExecutor
from functools import partial
from typing import Any

from ..cluster.errors import ApiError
from ..errors import JobFailed
from ..labels import selector
from ..results import JobResult
from .context import JobContext, iter_replicas, now_ns
from .preflight import Plan
from .waiters import ReadinessTracker


class CreateJob:
    """Runs one create job; results accumulate in ``self.result`` even if it is interrupted."""

    def __init__(
        self, ctx: JobContext, plan: Plan, result: JobResult, tracker: ReadinessTracker | None
    ) -> None:
        self.ctx = ctx
        self.plan = plan
        self.result = result
        self.tracker = tracker
        self.limiter = ctx.limiter
        self._lock = threading.Lock()
        self._created: Counter[str] = Counter()
        self._namespaces: set[str] = set()
        self.first_create: float | None = None
        self.last_create: float | None = None
        # Rendered documents waiting for a worker are bounded: when the server is slower than
        # qps, an unbounded backlog would hold thousands of rendered objects in memory.
        self._slots = threading.Semaphore(max(1, ctx.workers) * 4)
        # creates the server refused for good (4xx other than 429): never waited for
        self._refused: Counter[str] = Counter()
        self._refusals: Counter[str] = Counter()  # by reason
        self._first_refusal: dict[str, str] = {}  # reason -> the server's first message

    # --- namespaces -----------------------------------------------------------------------
    def ensure_namespace(self, name: str) -> None:
        """Create the iteration's namespace with the run's labels (once)."""
        if name in self._namespaces:
            return
        spec = self.ctx.spec
        ns = {
            "apiVersion": "v1",
            "kind": "Namespace",
            "metadata": {
                "name": name,
                "labels": {**spec.namespace_labels, **self.ctx.base_labels},
                "annotations": dict(spec.namespace_annotations),
            },
        }
        try:
            self.ctx.client.create(ns, limiter=self.limiter)
        except ApiError as exc:
            if not exc.is_already_exists:
                if is_final(exc):
                    raise JobFailed(
                        f"{spec.name}: namespace {name}: create refused by the server "
                        f"({exc.status} {exc.reason}): {exc.message}"
                    ) from None
                raise
        self._namespaces.add(name)

    @property
    def namespaces(self) -> list[str]:
        """Namespaces this job made or used, in creation order."""
        return sorted(self._namespaces)

    # --- creates --------------------------------------------------------------------------
    def _create_one(self, doc: dict[str, Any], namespace: str | None) -> None:
        created = self.ctx.client.create(doc, namespace=namespace, limiter=None)
        t_ns = now_ns()
        with self._lock:
            self._created[str(doc.get("kind"))] += 1
            self.last_create = time.monotonic()
        if self.ctx.on_created is not None:
            obj = created if isinstance(created, dict) else doc
            meta = obj.get("metadata")
            if isinstance(meta, dict) and isinstance(meta.get("uid"), str):
                meta["uid"] = sys.intern(meta["uid"])  # the string the watches hand out too
            self.ctx.on_created(obj, t_ns)

    def _collect(self, fut: Future[None], *, name: str, kind: str) -> None:
        exc = fut.exception()
        if exc is None:
            return
        say = ""
        with self._lock:
            if len(self.result.errors) < 100:
                self.result.errors.append(f"create {name}: {exc}")
            if isinstance(exc, ApiError) and is_final(exc):
                self._refused[kind] += 1
                self._refusals[exc.reason] += 1
                self._first_refusal.setdefault(exc.reason, f"{exc.status} {exc.reason}: {exc}")
                if sum(self._refusals.values()) <= SHOWN_REFUSALS:
                    say = f"{kind} {name}: create refused ({exc.status} {exc.reason}): {exc}"
        if say:
            self.ctx.say(f"kubevirt-burner: {self.ctx.spec.name}: {say}")

    def refused(self) -> dict[str, int]:
        """Creates the server refused with a final status (4xx other than 429), by kind."""
        with self._lock:
            return dict(self._refused)

    def refusal_report(self) -> str:
        """One line: how many creates were refused, by kind, and the server's message per reason."""
        with self._lock:
            kinds = ", ".join(f"{k}: {n}" for k, n in sorted(self._refused.items()))
            total = sum(self._refused.values())
            reasons = "; ".join(
                f"{n}x {self._first_refusal[r]}" for r, n in self._refusals.most_common()
            )
        return f"{total} creates refused by the server ({kinds}): {reasons}"

    def run(self) -> None:
        """Create every iteration, honouring qps/burst, delays, pod_wait and the stop flag."""
        spec, ctx = self.ctx.spec, self.ctx
        if spec.pre_create_namespaces:
            for it in range(spec.iterations):
                if self._namespaced_any():
                    self.ensure_namespace(spec.namespace_for(it))
        start = time.monotonic()
        with ThreadPoolExecutor(
            max_workers=ctx.workers, thread_name_prefix="burner-create"
        ) as pool:
            try:
                self._create_all(pool)
            except BaseException:
                ctx.stop.set()  # creates not yet sent are dropped, in-flight ones finish
                pool.shutdown(wait=False, cancel_futures=True)
                raise
        self.result.create_seconds = time.monotonic() - start

    def _done(self, fut: Future[None], *, name: str, kind: str) -> None:
        self._slots.release()
        self._collect(fut, name=name, kind=kind)

    def _create_all(self, pool: ThreadPoolExecutor) -> None:
        """Submit every create of every iteration (main thread; workers send them)."""
        spec, ctx = self.ctx.spec, self.ctx
        for it in range(spec.iterations):
            if ctx.stop.is_set():
                break
            ctx.hooks.fire("onEachIteration")
            ns = spec.namespace_for(it)
            if self._namespaced_any():
                self.ensure_namespace(ns)
            for index, obj, replica in iter_replicas(spec, it):
                if ctx.stop.is_set():
                    break
                for doc in ctx.render(index, obj, it, replica):
                    _, namespaced = self.plan.kinds[str(doc["kind"])]
                    target_ns = None
                    if namespaced:
                        target_ns = (doc.get("metadata") or {}).get("namespace") or ns
                    self.limiter.wait()
                    if ctx.stop.is_set():
                        break
                    if self.first_create is None:
                        self.first_create = time.monotonic()
                    while not self._slots.acquire(timeout=0.5):
                        if ctx.stop.is_set():
                            return
                    fut = pool.submit(self._create_one, doc, target_ns)
                    name = str((doc.get("metadata") or {}).get("name", ""))
                    fut.add_done_callback(partial(self._done, name=name, kind=str(doc["kind"])))
            if self.refused():  # fail fast: what was refused will never become ready
                continue
            if spec.pod_wait and not spec.wait_when_finished and self.tracker is not None:
                self._wait_iteration(it)
            if it < spec.iterations - 1 and not ctx.sleep(spec.job_iteration_delay):
                break

    def _namespaced_any(self) -> bool:
        return any(ns for _, ns in self.plan.kinds.values())

    def _wait_iteration(self, iteration: int) -> None:
        """pod_wait: wait until the objects of iterations 0..iteration of waited kinds are ready."""
        tracker = self.tracker
        assert tracker is not None
        spec, done = self.ctx.spec, iteration + 1
        waited = {t.kind: t.expected for t in tracker.targets}
        for kind, expected in waited.items():
            own = self.plan.indices.get(kind, set())
            mine = [o for i, o in enumerate(spec.objects) if i in own and not o.run_once]
            full = sum(o.replicas * o.iterations_created(spec.iterations) for o in mine)
            so_far = sum(o.replicas * o.iterations_created(done) for o in mine)
            once = max(0, expected - full)
            tracker.set_expected(kind, min(expected, once + so_far))
        tracker.wait(spec.max_wait_timeout, self.ctx.stop)
        for kind, expected in waited.items():
            tracker.set_expected(kind, expected)

    def created(self) -> dict[str, int]:
        """Objects created so far, by kind."""
        with self._lock:
            return dict(self._created)

    def achieved_qps(self) -> float:
        """Creates per second between the first and the last create request."""
        total = sum(self.created().values())
        if not total or self.first_create is None or self.last_create is None:
            return 0.0
        span = self.last_create - self.first_create
        return total / span if span > 0 else float(total)


SHOWN_REFUSALS = 5  # refused creates printed one by one; the rest are counted per reason


def is_final(exc: ApiError) -> bool:
    """Whether the server refused for good: a 4xx other than 429 (no retry can change it)."""
    return 400 <= exc.status < 500 and exc.status != 429


def verify(ctx: JobContext, plan: Plan, result: JobResult) -> bool:
    """LIST every created kind by the run's labels and compare with the expected counts."""
    base = selector(ctx.base_labels)
    ok = True
    for kind, (api_version, _) in plan.kinds.items():
        sel = ",".join(s for s in (base, plan.index_selector(kind)) if s)
        found = ctx.client.count(api_version, kind, label_selector=sel)
        result.found[kind] = found
        if found != plan.expected.get(kind, 0):
            ok = False
    return ok
