"""Collection-time checks: every job of the session is rendered and resolved before any runs."""

from __future__ import annotations

from collections.abc import Sequence

import pytest

from . import markers
from .jobs.context import JobContext
from .jobs.preflight import build_plan
from .session import BurnerSession
from .templates import TemplateRenderer


def preflight_items(session: BurnerSession, items: Sequence[pytest.Item]) -> list[str]:
    """Problems found by rendering and resolving every create job (empty when all is well)."""
    problems: list[str] = []
    renderers: dict[str, TemplateRenderer] = {}
    for item in items:
        spec = markers.job_for_item(item)
        if spec is None or spec.job_type != "create":
            continue
        base = str(item.path.parent)
        renderer = renderers.setdefault(base, TemplateRenderer(item.path.parent))
        ctx = JobContext(
            spec=spec.scaled(session.run.scale),
            client=session.client(),
            renderer=renderer,
            uuid=session.run.uuid,
            runid=session.runid,
        )
        problems.extend(f"{item.nodeid}: {p}" for p in build_plan(ctx).problems)
    return list(dict.fromkeys(problems))
