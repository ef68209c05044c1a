"""Collection-time checks: every job of the session is rendered and resolved before any runs."""

from __future__ import annotations

from collections.abc import Sequence

import pytest

from . import markers, options
from .jobrun import job_context
from .jobs.preflight import build_plan
from .jobspec import JobSpecError
from .session import BurnerSession
from .templates import TemplateRenderer

CLUSTER_FIXTURES = {"kube_client", "latency_recorder"}


def preflight_items(session: BurnerSession, items: Sequence[pytest.Item]) -> list[str]:
    """Problems found by rendering and resolving every create job (empty when all is well)."""
    problems: list[str] = []
    renderers: dict[tuple[str, bool], TemplateRenderer] = {}
    for item in items:
        spec = markers.job_for_item(item)
        if spec is None or spec.job_type != "create":
            continue
        zero = spec.default_missing_keys_with_zero
        key = (str(item.path.parent), zero)
        if key not in renderers:
            renderers[key] = TemplateRenderer(item.path.parent, missing_key_zero=zero)
        renderer = renderers[key]
        ctx = job_context(session, spec, item.path.parent, metrics_dir=None, renderer=renderer)
        problems.extend(f"{item.nodeid}: {p}" for p in build_plan(ctx).problems)
    return list(dict.fromkeys(problems))


def prepare(session: BurnerSession, items: Sequence[pytest.Item]) -> None:
    """Validate every burner marker; when a job needs the cluster, connect and preflight all.

    Raises pytest.UsageError listing every problem, before anything is created.
    """
    problems: list[str] = []
    needs_cluster = False
    for item in items:
        try:
            spec = markers.validate_item(item)
        except JobSpecError as exc:
            problems.append(str(exc))
            continue
        if spec is not None or CLUSTER_FIXTURES & set(getattr(item, "fixturenames", ())):
            needs_cluster = True
    if problems:
        raise pytest.UsageError("\n".join(problems))
    if not (needs_cluster or session.run.kube_sim):
        return
    problem = options.metrics_directory_problem(session.run.metrics_directory)
    if problem:  # before anything is created, not as lost results at the end
        raise pytest.UsageError(problem)
    session.lock_metrics_directory()
    session.client()
    session.start_observability()
    if needs_cluster:
        problems = preflight_items(session, items)
        if problems:
            raise pytest.UsageError("\n".join(problems))
