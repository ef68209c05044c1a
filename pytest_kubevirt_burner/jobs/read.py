"""The read job: LIST each selector, then GET every object found, for every iteration."""

from __future__ import annotations

from collections.abc import Callable
from functools import partial
from typing import Any

from .selectjobs import SelectorJob


class ReadJob(SelectorJob):
    """kube-burner's ``read`` job type."""

    job_type = "read"
    verb = "get"

    def act(self) -> None:
        """Every iteration: one LIST (one token) per entry, then a GET per object found."""
        ctx, result = self.ctx, self.result
        for _ in range(ctx.spec.iterations):
            for obj in ctx.spec.objects:
                ctx.limiter.wait()
                items = self.targets(obj)
                result.found[obj.kind or ""] = len(items)
                calls: list[Callable[[], Any]] = [
                    partial(
                        ctx.client.get,
                        obj.api_version or "v1",
                        obj.kind or "",
                        item["metadata"]["name"],
                        namespace=item["metadata"].get("namespace"),
                    )
                    for item in items
                ]
                self.fire(calls)
            if not ctx.sleep(ctx.spec.job_iteration_delay):
                break
