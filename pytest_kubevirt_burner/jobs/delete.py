"""The delete job: delete every object each selector matches, then wait until they are gone."""

from __future__ import annotations

from collections.abc import Callable
from functools import partial
from typing import Any

from ..labels import selector
from .cleanup import wait_gone
from .selectjobs import SelectorJob


class DeleteJob(SelectorJob):
    """kube-burner's ``delete`` job type."""

    job_type = "delete"
    verb = "delete"

    def act(self) -> None:
        """Delete the targets of every entry, then (wait_for_deletion) wait for them to go."""
        ctx, result = self.ctx, self.result
        for obj in ctx.spec.objects:
            api_version = obj.api_version or "v1"
            items = self.targets(obj)
            result.expected[obj.kind or ""] = len(items)
            calls: list[Callable[[], Any]] = [
                partial(
                    ctx.client.delete,
                    api_version,
                    obj.kind or "",
                    item["metadata"]["name"],
                    namespace=item["metadata"].get("namespace"),
                    missing_ok=True,
                )
                for item in items
            ]
            self.fire(calls)
        if not ctx.spec.wait_for_deletion:
            return
        for obj in ctx.spec.objects:
            left = wait_gone(
                ctx.client,
                selector(obj.label_selector),
                [(obj.api_version or "v1", obj.kind or "")],
                ctx.spec.max_wait_timeout,
                ctx.stop,
                namespaces=obj.kind == "Namespace",  # only the kind this entry deletes
            )
            result.found[obj.kind or ""] = left
            if left:
                result.errors.append(
                    f"{left} {obj.kind} objects still present after max_wait_timeout"
                )
