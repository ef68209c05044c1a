"""What delete, patch and read jobs share: targets found by label selector, rate-limited calls.

Each of these job types acts on existing objects: every ``objects`` entry names a kind and a
label selector, the matching objects are listed, and one call per object is sent with a token of
the job's bucket. Calls are counted by verb in ``JobResult.operations``. The job's measurements
run around the calls like those of a create job (kube-burner runs them for every job type).
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from typing import Any

from ..jobspec import ObjectSpec
from ..labels import selector
from ..measurements import default_measurements
from .base import JobBase


class SelectorJob(JobBase):
    """A job acting on the objects its selectors match; subclasses implement ``act``."""

    verb: str = ""

    def targets(self, obj: ObjectSpec) -> list[dict[str, Any]]:
        """The objects matching ``obj``'s kind and label selector, cluster-wide."""
        return list(
            self.ctx.client.list(
                obj.api_version or "v1", obj.kind or "", label_selector=selector(obj.label_selector)
            )
        )

    def fire(self, calls: list[Callable[[], Any]]) -> None:
        """Send ``calls`` (one token each), in parallel or one by one as the job says."""
        ctx, result, lock = self.ctx, self.result, threading.Lock()

        def run(call: Callable[[], Any]) -> None:
            try:
                call()
                with lock:
                    result.operations[self.verb] = result.operations.get(self.verb, 0) + 1
            except Exception as exc:
                with lock:
                    if len(result.errors) < 100:
                        result.errors.append(f"{self.verb}: {exc}")

        parallel = ctx.spec.execution_mode == "parallel"
        with ThreadPoolExecutor(max_workers=ctx.workers if parallel else 1) as pool:
            for call in calls:
                if ctx.stop.is_set():
                    break
                ctx.limiter.wait()
                pool.submit(run, call)
                if not parallel and ctx.spec.object_delay and not ctx.sleep(ctx.spec.object_delay):
                    break

    def run(self) -> None:
        """Start the job's measurements, act, and judge the job by its errors."""
        kinds = [o.kind or "" for o in self.ctx.spec.objects]
        names = self.ctx.measurements
        self.open_measurements(default_measurements(kinds) if names is None else list(names))
        self.watch_measurements()
        self.watches.start()
        self.act()
        self.result.verified = not self.result.errors
        self.check_not_empty()

    def check_not_empty(self) -> None:
        """Fail when the selectors matched nothing (a gate that would pass by accident)."""
        spec = self.ctx.spec
        if spec.allow_empty or self.ctx.stop.is_set() or any(self.result.expected.values()):
            return
        wanted = "; ".join(
            f"{o.kind} {selector(o.label_selector) or '(no selector)'}" for o in spec.objects
        )
        raise self.fail(
            f"the selectors matched no object ({wanted}); pass allow_empty=True if that is intended"
        )

    def act(self) -> None:
        """Send the job's calls (every subclass overrides this)."""
        raise NotImplementedError
