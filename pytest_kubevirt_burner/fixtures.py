"""The plugin's fixtures: burner, kube_client, kube_sim and template_renderer."""

from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence
from typing import Any

import pytest

from . import report
from .cluster import ClusterClient
from .errors import DryRunDone
from .interrupt import cleanup_command
from .jobrun import dry_run_line, job_context, progress_sink, run_in_session
from .jobs.context import JobContext
from .jobs.runner import cleanup_run
from .jobspec import JobSpecError, dns1123
from .markers import job_for_item
from .measurements import slos_for_item
from .recording import record
from .results import JobResult
from .session import SESSION_KEY, BurnerSession
from .sim.process import SimProcess
from .templates import TemplateRenderer


def _session(request: pytest.FixtureRequest) -> BurnerSession:
    return request.config.stash[SESSION_KEY]


class Burner:
    """Runs the job that the test's markers describe."""

    def __init__(self, session: BurnerSession, item: pytest.Item) -> None:
        self._session = session
        self._item = item
        self.results: list[JobResult] = []
        self._cleanups: list[tuple[JobContext, JobResult]] = []

    def run(self, **overrides: Any) -> JobResult:
        """Run the job (markers, with ``overrides`` applied) and return its result."""
        session = self._session
        try:
            spec = job_for_item(self._item, overrides)
        except JobSpecError as exc:
            pytest.fail(str(exc), pytrace=False)
        if spec is None:
            pytest.fail(
                f"{self._item.nodeid}: burner.run() needs a job marker such as "
                "@pytest.mark.density(...)",
                pytrace=False,
            )
        if session.observability.stop_reason and spec.job_type == "create":
            pytest.skip(f"density jobs stopped: {session.observability.stop_reason}")
        ctx = job_context(
            session,
            spec,
            self._item.path.parent,
            metrics_dir=session.metrics_directory(),
            slos=slos_for_item(self._item),
            progress=progress_sink(
                session, spec.name, report.progress_for(self._item.config, spec.name)
            ),
        )
        run = run_in_session(session, ctx, started=self._started)
        result = run.result
        failure = list(run.failure)
        if not session.interrupts.interrupted:
            failure += self._observe(result)
        if failure:
            pytest.fail("\n".join(failure), pytrace=False)
        if result.dry_run:  # the test body's assertions would only see an empty result
            raise DryRunDone(dry_run_line(result))
        return result

    def _started(self, ctx: JobContext, result: JobResult) -> None:
        self.results.append(result)
        if ctx.spec.job_type == "create" and ctx.spec.cleanup and not result.dry_run:
            self._cleanups.append((ctx, result))

    def _observe(self, result: JobResult) -> list[str]:
        """Metrics and alerts of the job's window; lines of error/critical alerts."""
        obs = self._session.observability.job_finished(result)
        if obs is None:
            return []
        for warning in obs.warnings:
            self._item.warn(pytest.PytestWarning(f"{result.job_name}: {warning}"))
        return [f"alert: {d}" for d in obs.failing_descriptions]

    def teardown(self) -> None:
        """Delete what this test's jobs created (jobs with cleanup=True).

        After an interrupt the session deletes everything of the run instead (interrupt.py).
        Objects that could not be deleted are reported as a warning with the cleanup command.
        """
        cleanups, self._cleanups = self._cleanups, []
        if self._session.interrupts.interrupted:
            return
        for ctx, result in reversed(cleanups):
            kinds = [(av, k) for k, av in result.kinds.items()]
            try:
                remaining = cleanup_run(ctx, kinds)
                problem = f"{remaining} objects still present" if remaining else ""
                ctx.hooks.fire("afterCleanup")
                problem = "; ".join(p for p in (problem, *ctx.hooks.finish()) if p)
            except Exception as exc:
                problem = str(exc)
            if problem:
                run = self._session.run
                command = cleanup_command(run.uuid, run.kube_config, run.kube_context)
                self._item.warn(
                    pytest.PytestWarning(
                        f"{ctx.spec.name}: cleanup incomplete ({problem}); remove the leftovers "
                        f"with: {command}"
                    )
                )


@pytest.fixture
def burner(request: pytest.FixtureRequest) -> Iterator[Burner]:
    """Runs the job described by the test's markers: ``burner.run() -> JobResult``."""
    b = Burner(_session(request), request.node)
    request.node.stash[report.RESULTS_KEY] = b.results
    try:
        yield b
    finally:
        b.teardown()


@pytest.fixture(scope="session")
def kube_client(request: pytest.FixtureRequest) -> ClusterClient:
    """The session's rate-limit-aware cluster client (plain dicts in and out)."""
    return _session(request).client()


@pytest.fixture(scope="session")
def kube_sim(request: pytest.FixtureRequest) -> SimProcess:
    """The session's simulated cluster (started on first use): url, kubeconfig, ground truth."""
    return _session(request).simulator()


@pytest.fixture
def template_renderer(request: pytest.FixtureRequest) -> TemplateRenderer:
    """A sandboxed template renderer rooted at the test file's directory."""
    return TemplateRenderer(request.node.path.parent)


@pytest.fixture
def latency_recorder(request: pytest.FixtureRequest) -> Callable[..., Any]:
    """Factory: ``with latency_recorder("podLatency", label_selector="app=x") as rec:``."""

    def start(
        names: str | Sequence[str],
        *,
        label_selector: str = "",
        namespace: str | None = None,
        name: str | None = None,
    ) -> Any:
        return record(
            _session(request),
            names,
            name or dns1123(request.node.name),
            label_selector=label_selector,
            namespace=namespace,
        )

    return start
