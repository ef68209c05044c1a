"""The create (density) job: plan, clean earlier runs, watch, create, wait, verify, churn."""

from __future__ import annotations

import contextlib
from collections.abc import Callable
from typing import Any

from ..errors import JobSpecError
from ..measurements import MeasurementSet, default_measurements
from ..results import JobResult
from .base import JobBase
from .churn import run_churn
from .cleanup import previous_runs_selector
from .context import CreatedHook, JobContext
from .create import CreateJob, verify
from .gvr import delete_objects
from .lease import JobLease, live_run
from .preflight import Plan, build_plan
from .progress import ProgressTicker, pause
from .readiness import WAITED_KINDS
from .waiters import ReadinessTracker, WaitTarget
from .watches import WatchFactory


def wait_targets(ctx: JobContext, plan: Plan) -> list[WaitTarget]:
    """What the job waits for: each object's waitOptions kind, then every waited kind created."""
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


def _chain(first: CreatedHook | None, second: CreatedHook) -> CreatedHook:
    if first is None:
        return second

    def both(obj: dict[str, Any], t_ns: int) -> None:
        first(obj, t_ns)
        second(obj, t_ns)

    return both


class DensityJob(JobBase):
    """kube-burner's ``create`` job type (the ``density`` marker)."""

    job_type = "create"

    def __init__(self, ctx: JobContext, result: JobResult, watch_factory: WatchFactory) -> None:
        super().__init__(ctx, result, watch_factory)
        self.plan: Plan | None = None
        self.tracker: ReadinessTracker | None = None

    def prepare(self) -> None:
        """Render and resolve every object the job will send; JobSpecError lists each problem."""
        plan = build_plan(self.ctx)
        if plan.problems:
            raise JobSpecError("\n".join(dict.fromkeys(plan.problems)))
        self.plan = plan
        self.result.rendered = plan.rendered
        self.result.kinds = {k: av for k, (av, _) in plan.kinds.items()}
        self.result.expected = dict(plan.expected)

    def _measurement_names(self, plan: Plan) -> list[str]:
        dv_templates = any(
            o.template is not None and "dataVolumeTemplates" in o.template.read_text()
            for o in self.ctx.spec.objects
        )
        names = default_measurements(plan.kinds, data_volume_templates=dv_templates)
        if self.ctx.measurements is not None:  # a kube-burner config names its measurements
            names = [n for n in self.ctx.measurements if n in names]
        return names

    def run(self) -> None:
        """Watches first, then creates, waiting, pause, verification and churn."""
        ctx, spec, plan = self.ctx, self.ctx.spec, self.plan
        assert plan is not None, "prepare() runs first"
        ms = self.open_measurements(self._measurement_names(plan))
        namespaced = any(ns for _, ns in plan.kinds.values())
        if namespaced and (other := live_run(ctx)) is not None:
            raise self.fail(other)  # before anything is deleted or created
        with JobLease(ctx, spec.namespace_for(0)) if namespaced else contextlib.nullcontext():
            self._run_leased(plan, ms)

    def _run_leased(self, plan: Plan, ms: MeasurementSet) -> None:
        """Everything after the live-run check, while this run holds the job's lease."""
        ctx, spec = self.ctx, self.ctx.spec
        if spec.cleanup and plan.kinds:
            ctx.hooks.fire("beforeGC")
            self._cleanup_previous(plan)
            ctx.hooks.fire("afterGC")
        targets = wait_targets(ctx, plan)
        self.tracker = tracker = ReadinessTracker(targets) if targets else None
        if tracker is not None:
            for t in targets:
                self.watches.add(t.api_version, t.kind, tracker.handler(t.kind), t.label_selector)
        self.watch_measurements()
        ctx.on_created = _chain(ctx.on_created, ms.on_created)
        self.watches.start()
        self._create_and_wait(plan, tracker)
        ctx.hooks.fire("afterJobExecution", once=True)
        if not pause(ctx.progress, spec.job_pause, ctx.sleep):
            raise KeyboardInterrupt
        if spec.verify_objects:
            self.result.verified = verify(ctx, plan, self.result)
            if not self.result.verified and spec.error_on_verify:
                r = self.result
                detail = ", ".join(
                    f"{k}: expected {r.expected.get(k, 0)}, found {n}"
                    for k, n in r.found.items()
                    if n != r.expected.get(k, 0)
                )
                raise self.fail(f"object verification failed ({detail})")
        else:
            self.result.verified = True
        if spec.churn is not None:
            ctx.hooks.fire("beforeChurn")
            run_churn(ctx, plan, self.result, ms, tracker, self.watch_factory)
            ctx.hooks.fire("afterChurn")

    def _cleanup_previous(self, plan: Plan) -> None:
        """Delete leftovers of earlier runs of this job (kube-burner's cleanup at start)."""
        ctx = self.ctx
        report = delete_objects(
            ctx.spec.deletion_strategy,
            ctx.client,
            previous_runs_selector(ctx.spec.name),
            [(av, k) for k, (av, _) in plan.kinds.items()],
            ctx.limiter,
            ctx.spec.max_wait_timeout,
            ctx.stop,
        )
        if report.remaining:
            raise self.fail(
                f"{report.remaining} objects of an earlier run are still being deleted after "
                "max_wait_timeout"
            )

    def _create_and_wait(self, plan: Plan, tracker: ReadinessTracker | None) -> None:
        job = CreateJob(self.ctx, plan, self.result, tracker)

        def sample() -> tuple[dict[str, int], dict[str, int], dict[str, int], float]:
            ready = tracker.ready_counts() if tracker is not None else {}
            return job.created(), ready, plan.expected, job.achieved_qps()

        try:
            with ProgressTicker(self.ctx.progress, sample):
                self._run_and_wait(job, tracker, self.watches.problems)
        finally:
            self.result.created = job.created()
            self.result.refused = job.refused()
            self.result.qps_achieved = job.achieved_qps()
            if tracker is not None:
                self.result.ready = tracker.ready_counts()

    def _run_and_wait(
        self, job: CreateJob, tracker: ReadinessTracker | None, watch_note: Callable[[], str]
    ) -> None:
        ctx, spec = self.ctx, self.ctx.spec
        job.run()
        if ctx.stop.is_set():
            raise KeyboardInterrupt
        if job.refused():  # fail fast: a refused object is never waited for
            report = job.refusal_report()
            ctx.say(f"kubevirt-burner: {spec.name}: {report}")
            raise self.fail(report)
        if (
            tracker is not None
            and spec.wait_when_finished
            and not tracker.wait(spec.max_wait_timeout, ctx.stop)
        ):
            if ctx.stop.is_set():
                raise KeyboardInterrupt
            raise self.fail(
                f"not ready after max_wait_timeout ({spec.max_wait_timeout:g}s): "
                f"{tracker.not_ready_report()}{watch_note()}"
            )
