"""Serves the example suites (example_suites/) when pytest runs from the repository root.

``pytest --kube-sim example_suites`` (or one suite, ``example_suites/density``) runs them against
the embedded simulator, ``--kube-config`` against a cluster. This file adds what the suites share:
every example test carries the ``example_suite`` marker (``-m "not example_suite"`` leaves them
out of a mixed run). A dry run needs nothing here: ``burner.run()`` ends the test body once the
job is rendered and validated (the plugin's dry run).

Only items under example_suites/ are touched: the tests under tests/ (with their own conftest)
and the plugin's behaviour elsewhere stay as they are.
"""

from __future__ import annotations

from pathlib import Path

import pytest

EXAMPLE_SUITES = Path(__file__).resolve().parent / "example_suites"


def is_example(path: Path) -> bool:
    """Whether ``path`` is inside example_suites/."""
    return EXAMPLE_SUITES in Path(path).resolve().parents


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line("markers", "example_suite: a test of example_suites/")


@pytest.hookimpl(tryfirst=True)
def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    for item in items:
        if is_example(item.path):
            item.add_marker(pytest.mark.example_suite)
