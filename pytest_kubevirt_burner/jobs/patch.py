"""The patch job: patch every object each selector matches with the rendered template."""

from __future__ import annotations

import contextlib
import json
from collections.abc import Callable
from functools import partial
from typing import Any

import yaml

from ..errors import JobSpecError
from ..jobspec import ObjectSpec
from .selectjobs import SelectorJob


class PatchJob(SelectorJob):
    """kube-burner's ``patch`` job type."""

    job_type = "patch"
    verb = "patch"

    def body(self, obj: ObjectSpec, iteration: int) -> Any:
        """The rendered patch (a mapping, or a list of operations for JSON patch)."""
        ctx = self.ctx
        if obj.template is None:
            raise JobSpecError(f"{ctx.spec.name}: a patch object needs a template")
        text = obj.template.read_text()
        rendered = ctx.renderer.render_string(
            text, ctx.variables(obj, iteration, 0), source=str(obj.template)
        )
        if rendered.lstrip().startswith(("[", "{")):  # JSON (tab-indented is not YAML)
            with contextlib.suppress(ValueError):
                return json.loads(rendered)
        return yaml.safe_load(rendered)

    def act(self) -> None:
        """Every iteration: patch each entry's targets with its rendered template."""
        ctx, result = self.ctx, self.result
        for iteration in range(ctx.spec.iterations):
            for obj in ctx.spec.objects:
                assert obj.patch_type is not None, "jobspec sets it on every patch object"
                body = self.body(obj, iteration)
                items = self.targets(obj)
                result.expected[obj.kind or ""] = len(items)
                calls: list[Callable[[], Any]] = [
                    partial(
                        ctx.client.patch,
                        obj.api_version or "v1",
                        obj.kind or "",
                        item["metadata"]["name"],
                        body,
                        obj.patch_type,
                        namespace=item["metadata"].get("namespace"),
                    )
                    for item in items
                ]
                self.fire(calls)
            if not ctx.sleep(ctx.spec.job_iteration_delay):
                break
