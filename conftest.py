"""Serves the example suites (example_suites/) when pytest runs from the repository root.

``pytest --kube-sim example_suites`` (or one suite, ``example_suites/density``) runs them against
the embedded simulator, ``--kube-config`` against a cluster. This file adds what the suites share:

- a dry run (``--burner-dry-run``) renders and validates every job and then skips the test with
  that outcome, since the suites' assertions are about objects a dry run never creates;
- every example test carries the ``example_suite`` marker (``-m "not example_suite"`` leaves them
  out of a mixed run).

Only items under example_suites/ are touched: the tests under tests/ (with their own conftest)
and the plugin's behaviour elsewhere stay as they are.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from pytest_kubevirt_burner.results import JobResult

EXAMPLE_SUITES = Path(__file__).resolve().parent / "example_suites"


def is_example(path: Path) -> bool:
    """Whether ``path`` is inside example_suites/."""
    return EXAMPLE_SUITES in Path(path).resolve().parents


class ExampleBurner:
    """The plugin's ``burner`` for an example test: a dry run ends in a skip with its outcome."""

    def __init__(self, burner: Any) -> None:
        self._burner = burner

    def run(self, **overrides: Any) -> JobResult:
        """Run the job; under --burner-dry-run skip once it has been rendered and validated."""
        result: JobResult = self._burner.run(**overrides)
        if result.dry_run:
            pytest.skip(f"dry run: {result.job_name} rendered and validated, nothing created")
        return result

    def __getattr__(self, name: str) -> Any:
        return getattr(self._burner, name)


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line("markers", "example_suite: a test of example_suites/")


@pytest.hookimpl(tryfirst=True)
def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    for item in items:
        if is_example(item.path):
            item.add_marker(pytest.mark.example_suite)


@pytest.fixture
def burner(burner: Any, request: pytest.FixtureRequest) -> Any:
    """The plugin's ``burner``; in example suites, wrapped by ExampleBurner."""
    return ExampleBurner(burner) if is_example(request.node.path) else burner
