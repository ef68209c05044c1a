"""Extra HTML report sections contributed by plugins (``pytest_burner_report_sections``)."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class ReportSection:
    """A titled section of the HTML report; ``html`` is a trusted fragment."""

    title: str
    html: str
