"""Extra HTML report sections contributed by plugins (``pytest_burner_report_sections``)."""

from __future__ import annotations

from dataclasses import dataclass
from html import escape

import pytest


@dataclass(frozen=True)
class ReportSection:
    """A titled section of the HTML report; ``html`` is a trusted fragment."""

    title: str
    html: str

    def render(self) -> str:
        """The section as an HTML fragment (the title escaped)."""
        return f'<div class="kb-report kb-extra"><h2>{escape(self.title)}</h2>{self.html}</div>'


def extra_sections(config: pytest.Config) -> list[str]:
    """HTML of every section the plugins return, in hook call order."""
    out: list[str] = []
    for returned in config.hook.pytest_burner_report_sections(config=config):
        for section in returned or ():
            out.append(section.render() if isinstance(section, ReportSection) else str(section))
    return out


class ExtraSectionsHooks:
    """Appends the plugins' sections after the session section of the pytest-html report."""

    def __init__(self, config: pytest.Config) -> None:
        self.config = config

    @pytest.hookimpl(optionalhook=True, trylast=True)
    def pytest_html_results_summary(
        self, prefix: list[str], summary: list[str], postfix: list[str], session: pytest.Session
    ) -> None:
        """Add the plugins' sections to the report's summary postfix."""
        postfix.extend(extra_sections(self.config))
