"""Hooks for plugins that extend kubevirt-burner (registered with ``add_hookspecs``).

Implement them in a ``conftest.py`` or in a plugin module, as any pytest hook. See
docs/extending.md for a complete example.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import pluggy

if TYPE_CHECKING:
    import pytest

    from .measurements.registry import MeasurementRegistry
    from .report.sections import ReportSection
    from .results import JobResult

hookspec = pluggy.HookspecMarker("pytest")


@hookspec(historic=True)
def pytest_burner_register_measurements(registry: MeasurementRegistry) -> None:
    """Register custom measurements: ``registry.register(RecorderSubclass, kinds=[...])``.

    Called once when pytest configures; a plugin registered later (a conftest.py further down
    the tree) is called when it registers. Measurements are forgotten when the session ends.
    """


@hookspec
def pytest_burner_job_finished(config: pytest.Config, result: JobResult) -> None:
    """A job finished (passed or failed) and ``result`` is final: counts, quantiles, errors."""


@hookspec
def pytest_burner_index_documents(config: pytest.Config, documents: list[dict[str, Any]]) -> None:
    """``documents`` are about to be sent to Elasticsearch: change, add or remove in place.

    Called with batches of the session's result documents (every file of the metrics
    directory) when ``--es-server`` is given; the files on disk are left as they are.
    """


@hookspec
def pytest_burner_report_sections(config: pytest.Config) -> list[str | ReportSection] | None:
    """Extra sections for the HTML report, after the kubevirt-burner session section.

    Return HTML fragments (trusted: escape what you interpolate) or ``ReportSection`` objects
    (a title and an HTML body), or None. Called only when pytest-html writes a report.
    """
