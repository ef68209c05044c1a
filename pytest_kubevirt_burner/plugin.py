"""pytest11 entry point: hook wiring only; the logic lives in sibling modules."""

from __future__ import annotations

import pytest

from . import collection, markers, options
from .fixtures import burner, kube_client, kube_sim, template_renderer
from .jobspec import JobSpecError
from .session import SESSION_KEY, BurnerSession

__all__ = ["burner", "kube_client", "kube_sim", "template_renderer"]


def pytest_addoption(parser: pytest.Parser) -> None:
    options.add_options(parser)


def pytest_configure(config: pytest.Config) -> None:
    markers.register(config)
    config.stash[SESSION_KEY] = BurnerSession(config, options.resolve(config))


def pytest_collection_modifyitems(
    session: pytest.Session, config: pytest.Config, items: list[pytest.Item]
) -> None:
    """Validate every job marker before any test runs; connect when a job needs the cluster."""
    burner_session = config.stash[SESSION_KEY]
    problems: list[str] = []
    needs_cluster = False
    for item in items:
        try:
            spec = markers.validate_item(item)
        except JobSpecError as exc:
            problems.append(str(exc))
            continue
        fixtures = getattr(item, "fixturenames", ())
        if spec is not None or "kube_client" in fixtures:
            needs_cluster = True
    if problems:
        raise pytest.UsageError("\n".join(problems))
    if needs_cluster or burner_session.run.kube_sim:
        burner_session.client()
    if needs_cluster:
        problems = collection.preflight_items(burner_session, items)
        if problems:
            raise pytest.UsageError("\n".join(problems))


def pytest_report_collectionfinish(config: pytest.Config) -> list[str]:
    return config.stash[SESSION_KEY].header_lines()


def pytest_unconfigure(config: pytest.Config) -> None:
    burner_session = config.stash.get(SESSION_KEY, None)
    if burner_session is not None:
        burner_session.close()
