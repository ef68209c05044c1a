"""Running one job inside the pytest session: the path every job takes, marker or config.

``job_context`` is the one place a JobContext is built (for the ``burner`` fixture, for the
items of a kube-burner config and for the collection-time preflight). ``run_in_session`` runs a
job with the session's results list and interrupt handler, and hands the finished JobResult to
``_job_finished``, the one place every finished job passes.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from pathlib import Path

import pytest

from . import hooks
from .errors import JobFailed, JobSpecError
from .jobs.context import JobContext, Renderer
from .jobs.progress import ProgressSink
from .jobs.progress_lines import ProgressLines
from .jobs.runner import new_result, run_job
from .jobs.watches import WatchFactory, resilient_watches
from .jobspec import JobSpec
from .measurements import Slo
from .results import JobResult
from .session import BurnerSession
from .templates import TemplateRenderer


def progress_sink(
    session: BurnerSession, job: str, bar: ProgressSink | None
) -> ProgressSink | None:
    """The live bar on a terminal; without one, lines every --burner-progress-interval s."""
    if getattr(bar, "enabled", bar is not None):
        return bar
    console, interval = session.console, session.run.progress_interval
    if console.enabled and not console.is_tty and interval > 0:
        return ProgressLines(job, console.line, interval)
    return bar


def job_context(
    session: BurnerSession,
    spec: JobSpec,
    base_dir: Path,
    *,
    metrics_dir: Path | None,
    slos: Iterable[Slo] = (),
    measurements: Iterable[str] | None = None,
    progress: ProgressSink | None = None,
    renderer: Renderer | None = None,
) -> JobContext:
    """The JobContext of ``spec`` (scaled by --burner-scale) on the session's cluster.

    ``metrics_dir`` None (or ``skip_indexing`` on the job) writes no documents.
    """
    return JobContext(
        spec=spec.scaled(session.run.scale),
        client=session.client(),
        renderer=renderer
        if renderer is not None
        else TemplateRenderer(base_dir, missing_key_zero=spec.default_missing_keys_with_zero),
        uuid=session.run.uuid,
        runid=session.runid,
        metrics_dir=None if spec.skip_indexing else metrics_dir,
        clock=session.run.latency_clock,
        metadata=session.metadata(),
        slos=list(slos),
        measurements=None if measurements is None else list(measurements),
        progress=progress,
        hook_dir=base_dir,
        hook_env=_hook_env(session) if spec.hooks else {},
        notify=session.console.line,
    )


def _hook_env(session: BurnerSession) -> dict[str, str]:
    """``KUBECONFIG`` of the session's cluster for the job's hooks (when it is a file)."""
    run = session.run
    path = str(session.simulator().kubeconfig) if run.kube_sim else run.kube_config
    return {"KUBECONFIG": str(path)} if path else {}


@dataclass
class JobRun:
    """A finished job: its result and, when it failed, the lines that say why."""

    ctx: JobContext
    result: JobResult
    failure: list[str] = field(default_factory=list)


def run_in_session(
    session: BurnerSession,
    ctx: JobContext,
    *,
    started: Callable[[JobContext, JobResult], None] | None = None,
    watch_factory: WatchFactory | None = None,
) -> JobRun:
    """Run ``ctx``'s job as part of the session; a failed job is reported, not raised.

    The result joins ``session.results`` (an interrupt's cleanup reads it) and is handed to
    ``started`` before the job starts; the session's interrupt handler sets the job's stop
    flag; a KeyboardInterrupt (or any unexpected error) stops the job's workers and propagates.
    """
    result = new_result(ctx, dry_run=session.run.dry_run)
    session.results.append(result)
    if started is not None:
        started(ctx, result)
    run = JobRun(ctx, result)
    session.interrupts.track(ctx.stop)
    try:
        run_job(ctx, watch_factory or resilient_watches(ctx.client), result)
    except (JobFailed, JobSpecError) as exc:
        result.errors.append(str(exc))
        run.failure = [str(exc), *result.slo_breaches]
    except BaseException:
        ctx.stop.set()
        raise
    finally:
        session.interrupts.untrack(ctx.stop)
        _job_finished(session.config, result)
    if not run.failure:
        run.failure = list(result.slo_breaches)
    return run


def dry_run_line(result: JobResult) -> str:
    """What a dry-run job would do: the kinds and counts it would create."""
    if result.expected:
        kinds = ", ".join(f"{k}: {n}" for k, n in sorted(result.expected.items()))
        return (
            f"dry run: {result.job_name} would create {kinds} "
            f"({result.rendered} documents rendered and resolved)"
        )
    return f"dry run: {result.job_name} ({result.job_type} job) validated; nothing is sent"


def _job_finished(config: pytest.Config, result: JobResult) -> None:
    """Every finished job passes here (also failed and interrupted ones): extenders' hook."""
    hooks.job_finished(config, result)
