"""One live run per create job and cluster: a lease annotation on the job's first namespace.

While a create job runs, its first namespace carries ``kubevirt-burner.io/live-run: "<uuid>
<unix time>"``, renewed every few seconds and removed when the job ends. Before it cleans up or
creates anything, a create job looks for that annotation, fresh and naming another uuid, on the
namespaces of its name, and refuses to start: a second run of the same job would delete the
first one's objects as leftovers of an earlier run. A lease not renewed for ``TTL`` seconds
(its run was killed) is ignored.
"""

from __future__ import annotations

import contextlib
import threading
import time

from ..cluster.errors import ClusterError
from ..cluster.verbs import PatchType
from ..labels import JOB
from .context import JobContext

LEASE = "kubevirt-burner.io/live-run"
TTL = 45.0  # seconds without renewal after which a lease is stale
PERIOD = 10.0  # renewal period once the namespace exists


def live_run(ctx: JobContext, now: float | None = None) -> str | None:
    """A line naming another live run of this job on the cluster, or None."""
    now = time.time() if now is None else now
    items = ctx.client.list("v1", "Namespace", label_selector=f"{JOB}={ctx.spec.name}")
    for ns in items:
        meta = ns.get("metadata") or {}
        value = str((meta.get("annotations") or {}).get(LEASE) or "")
        uuid, _, stamp = value.partition(" ")
        try:
            age = now - float(stamp)
        except ValueError:
            continue
        if uuid and uuid != ctx.uuid and age < TTL:
            return (
                f"run {uuid} is running this job on the cluster now (lease on namespace "
                f"{meta.get('name')}, renewed {max(age, 0.0):.0f}s ago); refusing to start a "
                "second run that would delete its objects: wait for it, or give the job "
                "another name"
            )
    return None


class JobLease:
    """Holds the lease on ``namespace`` from ``start()`` until ``stop()`` (a daemon thread)."""

    def __init__(self, ctx: JobContext, namespace: str) -> None:
        self.ctx = ctx
        self.namespace = namespace
        self._done = threading.Event()
        self._thread = threading.Thread(target=self._run, name="burner-lease", daemon=True)
        self._held = False

    def __enter__(self) -> JobLease:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._done.set()
        self._thread.join(timeout=5)
        if self._held:
            with contextlib.suppress(ClusterError):
                self._annotate(None)

    def _annotate(self, value: str | None) -> None:
        body = {"metadata": {"annotations": {LEASE: value}}}
        self.ctx.client.patch("v1", "Namespace", self.namespace, body, PatchType.MERGE)

    def _run(self) -> None:
        """Renew until stopped; every 2 s until the namespace exists, then every PERIOD s."""
        while not self._done.is_set():
            try:
                self._annotate(f"{self.ctx.uuid} {time.time():.0f}")
                self._held = True
            except ClusterError:
                pass  # not created yet (404) or a transient error: try again soon
            if self._done.wait(PERIOD if self._held else 2.0):
                return
