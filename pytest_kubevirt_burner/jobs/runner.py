"""Runs one job of any type: prepare, then run and finish, with the request accounting.

The dispatcher is thin on purpose: what a job type does lives in its own module (registry.py
names them), what every job shares (measurements, SLOs, documents) in jobs/base.py.
"""

from __future__ import annotations

import time

from ..errors import JobFailed
from ..interrupt import critical
from ..results import JobResult
from .cleanup import this_run_selector
from .context import JobContext
from .gvr import delete_objects
from .registry import job_for
from .watches import WatchFactory


def new_result(ctx: JobContext, dry_run: bool = False) -> JobResult:
    """An empty result for ``ctx``'s job, stamped with its start time."""
    spec = ctx.spec
    return JobResult(
        job_name=spec.name,
        job_type=spec.job_type,
        uuid=ctx.uuid,
        dry_run=dry_run,
        iterations=spec.iterations,
        qps_requested=spec.qps,
        started_at=time.time(),
    )


def run_job(ctx: JobContext, watch_factory: WatchFactory, result: JobResult) -> JobResult:
    """Run ``ctx.spec`` into ``result``, which is filled in as far as the job got.

    ``prepare`` always runs (a dry run stops after it); ``finish`` runs after ``run`` whatever
    happened, in a critical section so that a signal cannot cut the results short.
    """
    ctx.stats_before = ctx.client.stats.snapshot()
    job = job_for(ctx, result, watch_factory)
    try:
        job.prepare()
        if result.dry_run:
            result.verified = True
            return result
        error: BaseException | None = None
        ctx.hooks.fire("beforeJobExecution")
        try:
            job.run()
            ctx.hooks.fire("afterJobExecution", once=True)
            ctx.hooks.fire("beforeCleanup")
        except BaseException as exc:
            error = exc
            ctx.hooks.kill()
            raise
        finally:
            with critical():
                account_requests(ctx, result)
                job.finish(error)
                hook_failures = ctx.hooks.finish()
        if hook_failures:
            raise JobFailed("\n".join(hook_failures))
        return result
    finally:
        result.finished_at = time.time()
        account_requests(ctx, result)


def account_requests(ctx: JobContext, result: JobResult) -> None:
    """Requests, retries, 429s, 5xx and connection errors the job met so far."""
    before = ctx.stats_before
    if before is None:
        return
    after = ctx.client.stats.snapshot()
    result.requests = after.total_requests - before.total_requests
    result.retries = after.retries - before.retries
    result.throttled_429 = after.http_429 - before.http_429
    result.server_errors = after.http_5xx - before.http_5xx
    result.connection_errors = after.connection_errors - before.connection_errors
    result.deduplicated_creates = after.deduplicated_creates - before.deduplicated_creates


def cleanup_run(ctx: JobContext, kinds: list[tuple[str, str]]) -> int:
    """Delete this run's objects of this job (with the job's bucket and deletion strategy);
    returns how many remain."""
    report = delete_objects(
        ctx.spec.deletion_strategy,
        ctx.client,
        this_run_selector(ctx.uuid, ctx.spec.name),
        kinds,
        ctx.limiter,
        ctx.spec.max_wait_timeout,
    )
    return report.remaining
