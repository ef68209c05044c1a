"""pytest-html 4.x integration: the summary at the top, per-test job sections, the run section.

Registered only when pytest-html writes a report (``--html``); every hook of pytest-html's own
is an ``optionalhook``. Plots are inline SVG inside ``extras.html``, so the report works with
and without ``--self-contained-html`` and needs no script. Each test's summary rows travel on
its report (``kubevirt_burner_rows``), so under pytest-xdist the controller, which writes the
page, sees every worker's jobs.
"""

from __future__ import annotations

import os
import threading
from collections.abc import Generator, Sequence
from pathlib import Path
from typing import Any, NamedTuple
from urllib.parse import urlsplit, urlunsplit

import pytest
from markupsafe import Markup

from ..stashkeys import SESSION_KEY
from .jobpage import item_html
from .model import JobView, ReportState, run_settings, views_for
from .plots import summary_plot
from .rows import ROWS_ATTR, JobRow, job_row, sorted_rows
from .sections import ReportSection
from .templating import render
from .terminal import results_table

__all__ = ["HtmlHooks", "item_html", "session_html", "summary_html"]
_EXTRAS = "extras"  # TestReport has no declared ``extras`` attribute; pytest-html reads it


class Section(NamedTuple):
    """An extra section of the run section: a title and its body (Markup is trusted HTML)."""

    title: str
    body: Any


def _safe_url(value: object) -> str:
    """A URL without credentials (``user:pass@`` is dropped)."""
    parts = urlsplit(str(value))
    host = parts.hostname or ""
    netloc = host + (f":{parts.port}" if parts.port else "")
    return urlunsplit((parts.scheme, netloc, parts.path, "", ""))


def summary_html(rows: Sequence[JobRow], baseline: bool = False) -> str:
    """The table of every job (failures and regressions first) and the cross-job plot."""
    ordered = sorted_rows(rows)
    plot = summary_plot(
        [
            (
                f"{r.job} ({(r.key or '-').split('.')[-1]})",
                r.p50,
                r.p99,
                t.threshold if (t := r.threshold("P99")) else None,
                r.baseline_p99,
                r.verdict == "fail" or r.regressed,
            )
            for r in ordered
        ],
        "kb-summary",
    ).replace('class="kb-plot"', 'class="kb-plot kb-summary-plot"', 1)
    return render(
        "summary.html.j2",
        rows=ordered,
        failed=sum(r.verdict == "fail" for r in rows),
        regressed=sum(r.regressed for r in rows),
        baseline=baseline or any(r.baseline_p99 is not None for r in rows),
        plot=Markup(plot),
    )


def extra_sections(config: pytest.Config) -> list[Section]:
    """Sections contributed by plugins through ``pytest_burner_report_sections``."""
    out = []
    for returned in config.hook.pytest_burner_report_sections(config=config):
        for raw in returned or ():
            if isinstance(raw, ReportSection):
                out.append(Section(raw.title, Markup(raw.html)))
            else:  # a bare string is a trusted HTML fragment, as the hookspec says
                out.append(Section("", Markup(str(raw))))
    return out


def session_html(config: pytest.Config, views: Sequence[JobView]) -> str:
    """Cluster facts, run ids, options, plugins' sections and every job's headline row."""
    session = config.stash.get(SESSION_KEY, None)
    facts = dict(getattr(session, "cluster_facts", {}) or {})
    run = getattr(session, "run", None)
    rows: list[list[str]] = []
    if facts:
        simulated = " (SIMULATED cluster: nothing here measures a real one)"
        rows += [
            [
                "cluster",
                _safe_url(facts.get("server", "")) + (simulated if facts.get("simulated") else ""),
            ],
            ["Kubernetes", str(facts.get("version", ""))],
            ["nodes", str(facts.get("nodes", ""))],
        ]
    if run is not None:
        rows += [
            ["uuid", str(run.uuid)],
            ["runid", str(getattr(session, "runid", ""))],
            ["metrics directory", str(run.metrics_directory)],
            ["latency clock", str(run.latency_clock)],
            ["scale", f"{run.scale:g}"],
            ["dry run", str(bool(run.dry_run)).lower()],
        ]
        if run.kube_sim:
            rows.append(["simulator profile", str(run.kube_sim_profile)])
        for label, value in (("prometheus", run.prometheus_url), ("elasticsearch", run.es_server)):
            if value:
                rows.append([label, _safe_url(value)])
    base = config.getoption("burner_baseline", None)
    if base:
        rows.append(["baseline", str(base)])
    for spec in config.getoption("burner_regression", None) or []:
        rows.append(["regression gate", str(spec)])
    results = os.linesep.join(results_table(views)) if views else ""
    return render("session.html.j2", facts=rows, sections=extra_sections(config), results=results)


class HtmlHooks:
    """pytest-html hooks: per-test extras, the summary at the top, the run section, the title."""

    def __init__(self, config: pytest.Config, state: ReportState) -> None:
        self.config = config
        self.state = state
        self._title_report: Any = None
        self._lock = threading.Lock()
        self._rows: list[JobRow] = []

    @pytest.hookimpl(wrapper=True)
    def pytest_runtest_makereport(
        self, item: pytest.Item, call: pytest.CallInfo[None]
    ) -> Generator[None, pytest.TestReport, pytest.TestReport]:
        """On the call phase: the test's HTML extra and its summary rows go on the report."""
        report = yield
        if report.when == "call":
            views = views_for(item)
            if views:
                from pytest_html import extras

                base = item.config.getoption("burner_baseline", None)
                html = item_html(
                    views,
                    run_settings(item.config)[0],
                    baseline=Path(str(base)) if base else None,
                )
                setattr(report, _EXTRAS, [*getattr(report, _EXTRAS, []), extras.html(html)])
                setattr(report, ROWS_ATTR, [job_row(v).to_dict() for v in views])
        return report

    def pytest_runtest_logreport(self, report: pytest.TestReport) -> None:
        """Collect the summary rows of each test (here, or sent by an xdist worker)."""
        rows = getattr(report, ROWS_ATTR, None)
        if report.when != "call" or not isinstance(rows, list):
            return
        with self._lock:
            self._rows += [JobRow.from_dict(r) for r in rows if isinstance(r, dict)]

    def rows(self) -> list[JobRow]:
        """Every summary row seen so far."""
        with self._lock:
            return list(self._rows)

    def _title(self) -> str:
        session = self.config.stash.get(SESSION_KEY, None)
        facts = getattr(session, "cluster_facts", {}) or {}
        title = "kubevirt-burner report"
        if facts:
            sim = " (SIMULATED)" if facts.get("simulated") else ""
            title += f": {_safe_url(facts.get('server', ''))}{sim}, Kubernetes "
            title += f"{facts.get('version', '?')}, {facts.get('nodes', '?')} nodes"
        return title

    @pytest.hookimpl(optionalhook=True)
    def pytest_html_report_title(self, report: Any) -> None:
        """The title (completed with the cluster's facts once they are known)."""
        self._title_report = report
        report.title = self._title()

    @pytest.hookimpl(optionalhook=True)
    def pytest_html_results_summary(
        self, prefix: list[str], summary: list[str], postfix: list[str], session: pytest.Session
    ) -> None:
        """The job summary above the results (prefix) and the run section below (postfix)."""
        if self._title_report is not None:
            self._title_report.title = self._title()
        rows = self.rows()
        if rows:
            base = bool(self.config.getoption("burner_baseline", None))
            prefix.append(summary_html(rows, baseline=base))
        postfix.append(session_html(self.config, self.state.views()))
