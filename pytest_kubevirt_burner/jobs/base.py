"""The contract of every job type, and the measurement window all of them share.

A job type is a class with ``prepare()`` (validate and plan; a dry run stops after it),
``run()`` (act on the cluster; raise ``JobFailed`` or ``KeyboardInterrupt``) and
``finish(error)`` (always called after ``run``, even when it raised: stop the watches, evaluate
the SLOs, write the quantiles and the jobSummary document). ``JobBase`` implements the shared
part: the job's measurements (every job type runs the measurements it is given, as kube-burner
does), their watches, and the finishing. ``jobs/registry.py`` maps job types to classes.
"""

from __future__ import annotations

import time
from typing import ClassVar, Protocol

from ..errors import JobFailed
from ..measurements import MeasurementSet, evaluate
from ..results import JobResult
from .context import JobContext
from .watches import JobWatches, WatchFactory


class Job(Protocol):
    """What the runner calls, in order: ``prepare``, then (not in a dry run) ``run``, ``finish``."""

    ctx: JobContext
    result: JobResult

    def prepare(self) -> None:
        """Validate and plan without changing the cluster; raise JobSpecError on bad input."""
        ...

    def run(self) -> None:
        """Act on the cluster; raise JobFailed when the job misses its goal."""
        ...

    def finish(self, error: BaseException | None) -> None:
        """Stop the watches, judge the SLOs and write the job's documents, whatever happened."""
        ...


class JobBase:
    """Shared state and finishing of every job type; subclasses implement ``run``."""

    job_type: ClassVar[str] = ""

    def __init__(self, ctx: JobContext, result: JobResult, watch_factory: WatchFactory) -> None:
        self.ctx = ctx
        self.result = result
        self.watch_factory = watch_factory
        self.watches = JobWatches(watch_factory, ctx.run_selector)
        self.measurements: MeasurementSet | None = None

    # -- the contract -----------------------------------------------------------------------------
    def prepare(self) -> None:
        """Nothing to plan by default."""

    def run(self) -> None:
        """Act on the cluster (every job type overrides this)."""
        raise NotImplementedError

    def finish(self, error: BaseException | None) -> None:
        """Stop the watches, evaluate SLOs, then write quantiles and the jobSummary."""
        self.watches.stop()
        ms = self.measurements or self.open_measurements([])
        result, ctx = self.result, self.ctx
        result.all_quantiles = ms.all_quantiles()
        report = evaluate(ctx.slos, result.all_quantiles, ctx.clock)
        result.slo_verdicts = list(report.verdicts)
        errors = list(result.errors) + result.slo_breaches
        if isinstance(error, JobFailed):
            errors.append(str(error))
        result.finished_at = time.time()
        extra = dict(result.quantiles)  # quantiles the job computed itself (kubevirt ops)
        result.quantiles = ms.finalize(
            passed=None if error is None and not result.slo_breaches else False,
            result=result,
            job_config=ctx.spec,
            interrupted=isinstance(error, KeyboardInterrupt),
            reason="" if error is None else (str(error) or type(error).__name__),
            execution_errors=errors,
        )
        result.quantiles.update(extra)
        result.documents = list(ms.written)

    # -- measurements -----------------------------------------------------------------------------
    def open_measurements(
        self, names: list[str], *, ignore_existing: bool = False
    ) -> MeasurementSet:
        """Open the job's MeasurementSet of ``names``."""
        ctx = self.ctx
        self.measurements = MeasurementSet(
            names,
            job_name=ctx.spec.name,
            uuid=ctx.uuid,
            metrics_dir=ctx.metrics_dir,
            metadata=ctx.metadata,
            clock=ctx.clock,
            ignore_existing=ignore_existing,
        )
        return self.measurements

    def watch_measurements(self) -> None:
        """Route the measurements' watches (the run's objects of each kind) to the set."""
        ms = self.measurements
        if ms is None:
            return
        for w in ms.watches():
            self.watches.add(w.api_version, w.kind, ms.handler(w.kind), w.label_selector)

    def fail(self, message: str) -> JobFailed:
        """A JobFailed naming this job."""
        return JobFailed(f"{self.ctx.spec.name}: {message}")
