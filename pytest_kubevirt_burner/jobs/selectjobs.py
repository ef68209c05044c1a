"""Jobs that act on existing objects found by label selector: delete, patch and read."""

from __future__ import annotations

import contextlib
import json
import threading
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from functools import partial
from typing import Any

import yaml

from ..cluster.ratelimit import TokenBucket
from ..jobspec import ObjectSpec
from .cleanup import wait_gone
from .context import JobContext
from .labels import selector
from .result import JobResult


def _targets(ctx: JobContext, obj: ObjectSpec) -> list[dict[str, Any]]:
    return list(
        ctx.client.list(
            obj.api_version or "v1", obj.kind, label_selector=selector(obj.label_selector)
        )
    )


def _fire(
    ctx: JobContext,
    result: JobResult,
    calls: list[Callable[[], Any]],
    limiter: TokenBucket,
    verb: str,
) -> None:
    lock = threading.Lock()

    def run(call: Callable[[], Any]) -> None:
        try:
            call()
            with lock:
                result.created[verb] = result.created.get(verb, 0) + 1
        except Exception as exc:
            with lock:
                if len(result.errors) < 100:
                    result.errors.append(f"{verb}: {exc}")

    parallel = ctx.spec.execution_mode == "parallel"
    with ThreadPoolExecutor(max_workers=ctx.workers if parallel else 1) as pool:
        for call in calls:
            if ctx.stop.is_set():
                break
            limiter.wait()
            pool.submit(run, call)
            if not parallel and ctx.spec.object_delay and not ctx.sleep(ctx.spec.object_delay):
                break


def run_delete(ctx: JobContext, result: JobResult) -> None:
    """Delete every object matching each entry's selector, then wait until they are gone."""
    limiter = TokenBucket(ctx.spec.qps, ctx.spec.burst)
    kinds = []
    for obj in ctx.spec.objects:
        api_version = obj.api_version or "v1"
        kinds.append((api_version, obj.kind or ""))
        items = _targets(ctx, obj)
        result.expected[obj.kind or ""] = len(items)
        calls: list[Callable[[], Any]] = [
            partial(
                ctx.client.delete,
                api_version,
                obj.kind,
                item["metadata"]["name"],
                namespace=item["metadata"].get("namespace"),
                missing_ok=True,
            )
            for item in items
        ]
        _fire(ctx, result, calls, limiter, "delete")
    if ctx.spec.wait_for_deletion:
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
    result.verified = not result.errors


def _patch_body(ctx: JobContext, obj: ObjectSpec, iteration: int) -> Any:
    """The rendered patch (a mapping, or a list of operations for JSON patch)."""
    if obj.template is None:
        raise ValueError(f"{ctx.spec.name}: a patch object needs a template")
    text = obj.template.read_text()
    rendered = ctx.renderer.render_string(
        text, ctx.variables(obj, iteration, 0), source=str(obj.template)
    )
    if rendered.lstrip().startswith(("[", "{")):  # JSON (may be tab-indented, which YAML refuses)
        with contextlib.suppress(ValueError):
            return json.loads(rendered)
    return yaml.safe_load(rendered)


def run_patch(ctx: JobContext, result: JobResult) -> None:
    """Patch every matching object with the rendered template, per iteration."""
    limiter = TokenBucket(ctx.spec.qps, ctx.spec.burst)
    short = {
        "application/json-patch+json": "json",
        "application/merge-patch+json": "merge",
        "application/strategic-merge-patch+json": "strategic",
        "application/apply-patch+yaml": "apply",
    }
    for iteration in range(ctx.spec.iterations):
        for obj in ctx.spec.objects:
            body = _patch_body(ctx, obj, iteration)
            items = _targets(ctx, obj)
            result.expected[obj.kind or ""] = len(items)
            calls: list[Callable[[], Any]] = [
                partial(
                    ctx.client.patch,
                    obj.api_version or "v1",
                    obj.kind,
                    item["metadata"]["name"],
                    body,
                    short[obj.patch_type or ""],
                    namespace=item["metadata"].get("namespace"),
                )
                for item in items
            ]
            _fire(ctx, result, calls, limiter, "patch")
        if not ctx.sleep(ctx.spec.job_iteration_delay):
            break
    result.verified = not result.errors


def run_read(ctx: JobContext, result: JobResult) -> None:
    """LIST each selector, then GET every object found, for every iteration."""
    limiter = TokenBucket(ctx.spec.qps, ctx.spec.burst)
    for _ in range(ctx.spec.iterations):
        for obj in ctx.spec.objects:
            limiter.wait()
            items = _targets(ctx, obj)
            result.found[obj.kind or ""] = len(items)
            calls: list[Callable[[], Any]] = [
                partial(
                    ctx.client.get,
                    obj.api_version or "v1",
                    obj.kind,
                    item["metadata"]["name"],
                    namespace=item["metadata"].get("namespace"),
                )
                for item in items
            ]
            _fire(ctx, result, calls, limiter, "get")
        if not ctx.sleep(ctx.spec.job_iteration_delay):
            break
    result.verified = not result.errors
