"""Turns a JobSpec into a JobResult: preflight, cleanup, create or act, wait, verify."""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

from ..cluster.ratelimit import TokenBucket
from ..interrupt import critical
from ..jobspec import JobSpecError
from ..measurements import MeasurementSet, default_measurements, evaluate
from ..measurements.documents import job_summary_document
from ..measurements.recorder import JOB_SUMMARY_FILE
from ..measurements.writer import append_job_summary
from .churn import run_churn
from .cleanup import delete_labelled, previous_runs_selector, this_run_selector
from .context import CreatedHook, JobContext
from .create import CreateJob, verify
from .kubevirt import run_kubevirt
from .preflight import Plan, build_plan
from .progress import ProgressTicker, pause
from .readiness import WAITED_KINDS
from .result import JobResult
from .selectjobs import run_delete, run_patch, run_read
from .waiters import ReadinessTracker, WaitTarget
from .watches import JobWatches, WatchFactory


class JobFailed(Exception):
    """The job ran but did not meet its goal; the message is what the test shows."""


def _wait_targets(ctx: JobContext, plan: Plan) -> list[WaitTarget]:
    spec = ctx.spec
    targets: dict[str, WaitTarget] = {}
    for obj in spec.objects:
        if not obj.wait:
            continue
        opts = obj.wait_options
        if opts.kind:
            targets[opts.kind] = WaitTarget(
                opts.api_version or "v1",
                opts.kind,
                0,
                opts.custom_status_paths,
                ",".join(f"{k}={v}" for k, v in opts.label_selector.items()),
            )
    for kind, (api_version, _) in plan.kinds.items():
        if kind in targets or (spec.wait_for and kind not in spec.wait_for):
            continue
        custom = next(
            (
                o.wait_options.custom_status_paths
                for o in spec.objects
                if o.wait and o.wait_options.custom_status_paths and not o.wait_options.kind
            ),
            (),
        )
        if kind in WAITED_KINDS or custom:
            targets[kind] = WaitTarget(
                api_version, kind, plan.expected.get(kind, 0), custom, plan.index_selector(kind)
            )
    return list(targets.values())


def preflight(ctx: JobContext) -> Plan:
    """Validate everything the job will send; raise JobSpecError listing every problem."""
    plan = build_plan(ctx)
    if plan.problems:
        raise JobSpecError("\n".join(dict.fromkeys(plan.problems)))
    return plan


def cleanup_previous(ctx: JobContext, plan: Plan) -> None:
    """Delete leftovers of earlier runs of this job (kube-burner's cleanup at start)."""
    limiter = TokenBucket(ctx.spec.qps, ctx.spec.burst)
    report = delete_labelled(
        ctx.client,
        previous_runs_selector(ctx.spec.name),
        [(av, k) for k, (av, _) in plan.kinds.items()],
        limiter,
        ctx.spec.max_wait_timeout,
        ctx.stop,
    )
    if report.remaining:
        raise JobFailed(
            f"{ctx.spec.name}: {report.remaining} objects of an earlier run are still "
            "being deleted after max_wait_timeout"
        )


def cleanup_run(ctx: JobContext, kinds: list[tuple[str, str]]) -> int:
    """Delete this run's objects of this job; returns how many remain."""
    limiter = TokenBucket(ctx.spec.qps, ctx.spec.burst)
    report = delete_labelled(
        ctx.client,
        this_run_selector(ctx.uuid, ctx.spec.name),
        kinds,
        limiter,
        ctx.spec.max_wait_timeout,
    )
    return report.remaining


def _measurements(ctx: JobContext, plan: Plan) -> MeasurementSet:
    spec = ctx.spec
    dv_templates = any(
        o.template is not None and "dataVolumeTemplates" in o.template.read_text()
        for o in spec.objects
    )
    names = default_measurements(plan.kinds, data_volume_templates=dv_templates)
    if ctx.measurements is not None:  # a kube-burner config names its measurements
        names = [n for n in ctx.measurements if n in names]
    return MeasurementSet(
        names,
        job_name=spec.name,
        uuid=ctx.uuid,
        metrics_dir=ctx.metrics_dir,
        metadata=ctx.metadata,
        clock=ctx.clock,
    )


def _create_and_wait(
    ctx: JobContext,
    plan: Plan,
    result: JobResult,
    tracker: ReadinessTracker | None,
    watch_note: Callable[[], str] = lambda: "",
) -> None:
    job = CreateJob(ctx, plan, result, tracker)

    def sample() -> tuple[dict[str, int], dict[str, int], dict[str, int], float]:
        ready = tracker.ready_counts() if tracker is not None else {}
        return job.created(), ready, plan.expected, job.achieved_qps()

    try:
        with ProgressTicker(ctx.progress, sample):
            _run_and_wait(ctx, job, tracker, watch_note)
    finally:
        result.created = job.created()
        result.qps_achieved = job.achieved_qps()
        if tracker is not None:
            result.ready = tracker.ready_counts()


def _run_and_wait(
    ctx: JobContext,
    job: CreateJob,
    tracker: ReadinessTracker | None,
    watch_note: Callable[[], str],
) -> None:
    spec = ctx.spec
    job.run()
    if ctx.stop.is_set():
        raise KeyboardInterrupt
    if (
        tracker is not None
        and spec.wait_when_finished
        and not tracker.wait(spec.max_wait_timeout, ctx.stop)
    ):
        if ctx.stop.is_set():
            raise KeyboardInterrupt
        raise JobFailed(
            f"{spec.name}: not ready after max_wait_timeout "
            f"({spec.max_wait_timeout:g}s): {tracker.not_ready_report()}{watch_note()}"
        )


def run_create(ctx: JobContext, plan: Plan, result: JobResult, watch_factory: WatchFactory) -> None:
    """The create job: watches first, then creates, waiting, pause, verification and SLOs."""
    spec = ctx.spec
    result.expected = dict(plan.expected)
    if spec.cleanup:
        cleanup_previous(ctx, plan)
    targets = _wait_targets(ctx, plan)
    tracker = ReadinessTracker(targets) if targets else None
    ms = _measurements(ctx, plan)
    watches = JobWatches(watch_factory, ctx.run_selector)
    if tracker is not None:
        for t in targets:
            watches.add(t.api_version, t.kind, tracker.handler(t.kind), t.label_selector)
    for w in ms.watches():
        watches.add(w.api_version, w.kind, ms.handler(w.kind), w.label_selector)
    ctx.on_created = _chain(ctx.on_created, ms.on_created)
    error: BaseException | None = None
    try:
        watches.start()
        _create_and_wait(ctx, plan, result, tracker, watches.problems)
        if not pause(ctx.progress, spec.job_pause, ctx.sleep):
            raise KeyboardInterrupt
        if spec.verify_objects:
            result.verified = verify(ctx, plan, result)
            if not result.verified and spec.error_on_verify:
                detail = ", ".join(
                    f"{k}: expected {result.expected.get(k, 0)}, found {n}"
                    for k, n in result.found.items()
                    if n != result.expected.get(k, 0)
                )
                raise JobFailed(f"{spec.name}: object verification failed ({detail})")
        else:
            result.verified = True
        if spec.churn is not None:
            run_churn(ctx, plan, result, ms, tracker, watch_factory)
    except BaseException as exc:
        error = exc
        raise
    finally:
        with critical():  # a signal now must not cut the results short
            watches.stop()
            _account_requests(ctx, result)
            _finish_measurements(ctx, ms, result, error)


def _chain(first: CreatedHook | None, second: CreatedHook) -> CreatedHook:
    if first is None:
        return second

    def both(obj: dict[str, Any], t_ns: int) -> None:
        first(obj, t_ns)
        second(obj, t_ns)

    return both


def _finish_measurements(
    ctx: JobContext, ms: MeasurementSet, result: JobResult, error: BaseException | None
) -> None:
    """Evaluate SLOs, then write quantiles and the jobSummary whatever happened."""
    result.all_quantiles = ms.all_quantiles()
    report = evaluate(ctx.slos, result.all_quantiles, ctx.clock)
    result.slo_lines = report.lines()
    result.slo_breaches = report.lines("gate") if report.failed else []
    errors = list(result.errors) + result.slo_breaches
    if isinstance(error, JobFailed):
        errors.append(str(error))
    result.finished_at = time.time()
    result.quantiles = ms.finalize(
        passed=None if error is None and not result.slo_breaches else False,
        result=result,
        job_config=ctx.spec,
        interrupted=isinstance(error, KeyboardInterrupt),
        reason="" if error is None else (str(error) or type(error).__name__),
        execution_errors=errors,
    )


def new_result(ctx: JobContext, dry_run: bool = False) -> JobResult:
    """An empty result for ``ctx``'s job, stamped with its start time."""
    spec = ctx.spec
    return JobResult(
        job_name=spec.name,
        job_type=spec.job_type,
        uuid=ctx.uuid,
        dry_run=dry_run,
        qps_requested=spec.qps,
        started_at=time.time(),
    )


def run_job(ctx: JobContext, watch_factory: WatchFactory, result: JobResult) -> JobResult:
    """Run ``ctx.spec`` into ``result``, which is filled in as far as the job got."""
    spec, dry_run = ctx.spec, result.dry_run
    ctx.stats_before = ctx.client.stats.snapshot() if hasattr(ctx.client, "stats") else None
    try:
        if spec.job_type == "create":
            plan = preflight(ctx)
            result.rendered = plan.rendered
            result.kinds = {k: av for k, (av, _) in plan.kinds.items()}
            result.expected = dict(plan.expected)
            if dry_run:
                result.verified = True
                return result
            run_create(ctx, plan, result, watch_factory)
        elif dry_run:
            result.verified = True
        elif spec.job_type == "delete":
            run_delete(ctx, result)
        elif spec.job_type == "patch":
            run_patch(ctx, result)
        elif spec.job_type == "read":
            run_read(ctx, result)
        elif spec.job_type == "kubevirt":
            run_kubevirt(ctx, result, watch_factory, _finish_measurements)
        else:
            raise JobSpecError(f"{spec.name}: job type {spec.job_type!r} is not supported")
    except BaseException as exc:
        if spec.job_type not in ("create", "kubevirt") and not dry_run:
            with critical():
                _write_summary(ctx, result, exc)
        raise
    else:  # (a return inside the try would skip this block)
        if spec.job_type not in ("create", "kubevirt") and not dry_run:
            _write_summary(ctx, result, None)
        return result
    finally:
        result.finished_at = time.time()
        _account_requests(ctx, result)


def _account_requests(ctx: JobContext, result: JobResult) -> None:
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


def _write_summary(ctx: JobContext, result: JobResult, error: BaseException | None) -> None:
    """jobSummary for jobs without latency measurements (delete, patch, read)."""
    if ctx.metrics_dir is None:
        return
    result.finished_at = time.time()
    _account_requests(ctx, result)
    errors = list(result.errors) + ([str(error)] if error is not None else [])
    append_job_summary(
        ctx.metrics_dir / JOB_SUMMARY_FILE,
        job_summary_document(
            uuid=ctx.uuid,
            job_name=ctx.spec.name,
            started_ns=int(result.started_at * 1e9),
            ended_ns=int(result.finished_at * 1e9),
            passed=error is None and not result.errors,
            job_config=ctx.spec,
            result=result,
            interrupted=isinstance(error, KeyboardInterrupt),
            reason="" if error is None else str(error),
            execution_errors=errors,
            metadata=ctx.metadata,
        ),
    )
