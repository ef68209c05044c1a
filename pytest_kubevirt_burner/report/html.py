"""pytest-html 4.x integration: per-test job tables and inline SVG plots, a session section.

Registered only when pytest-html writes a report (``--html``); every hook of pytest-html's own
is an ``optionalhook``. Plots are inline SVG inside ``extras.html``, so the report works with
and without ``--self-contained-html`` and needs no script.
"""

from __future__ import annotations

import os
from collections.abc import Generator, Sequence
from html import escape
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit, urlunsplit

import pytest

from .compare import change_text
from .model import (
    STATS,
    Doc,
    JobView,
    ReportState,
    fmt_table_s,
    object_documents,
    run_settings,
    safe_read,
    transitions_of,
    views_for,
)
from .plots import creation_rate, latency_cdf, prometheus_series, timeline
from .terminal import results_table

CSS = """<style>
.kb-report{font-family:sans-serif;font-size:13px}
.kb-table{border-collapse:collapse;margin:4px 0 10px}
.kb-table th,.kb-table td{border:1px solid #ccc;padding:2px 6px;text-align:right}
.kb-table th:first-child,.kb-table td:first-child{text-align:left}
.kb-fail{color:#b00;font-weight:bold}.kb-pass{color:#070}.kb-warn{color:#a60}
.kb-plots{display:flex;flex-wrap:wrap;gap:8px}
.kb-plot{max-width:100%;height:auto;width:560px}
</style>"""
_KNOWN_FILES = ("jobSummary.json", "alert.json")
_EXTRAS = "extras"  # TestReport has no declared ``extras`` attribute; pytest-html reads it


def table(head: Sequence[str], rows: Sequence[Sequence[str]], cls: str, **data: str) -> str:
    """An HTML table; cells are escaped, a cell starting with ``<span`` is trusted markup."""
    attrs = "".join(f' data-{k}="{escape(v)}"' for k, v in data.items())
    out = [f'<table class="kb-table {cls}"{attrs}><tr>']
    out += [f"<th>{escape(h)}</th>" for h in head]
    out.append("</tr>")
    for row in rows:
        cells = (c if c.startswith("<span class=") else escape(c) for c in row)
        out.append("<tr>" + "".join(f"<td>{c}</td>" for c in cells) + "</tr>")
    return "".join(out) + "</table>"


def verdict_span(verdict: str) -> str:
    """A coloured pass/fail/warn label."""
    cls = (
        "kb-fail"
        if verdict.lower().startswith("fail")
        else ("kb-warn" if verdict.lower().startswith("warn") else "kb-pass")
    )
    return f'<span class="{cls}">{escape(verdict)}</span>'


def job_table(view: JobView) -> str:
    """Objects, iterations, qps requested/achieved, elapsed, retries, 429s, verified."""
    r = view.result
    cfg = (view.summary or {}).get("jobConfig") or {}
    objects = (
        ", ".join(
            f"{k} {r.created.get(k, 0)}/{r.expected.get(k, 0)} (ready {r.ready.get(k, 0)})"
            for k in sorted(set(r.expected) | set(r.created))
        )
        or "-"
    )
    row = [
        r.job_name,
        r.job_type,
        objects,
        str(cfg.get("jobIterations", cfg.get("iterations", "-"))),
        f"{r.qps_requested:g}",
        f"{r.qps_achieved:.2f}",
        f"{r.elapsed:.1f}s",
        str(r.retries),
        str(r.throttled_429),
        "dry run" if r.dry_run else "yes" if r.verified else "NO",
        verdict_span(view.verdict),
    ]
    head = [
        "job",
        "type",
        "objects",
        "iterations",
        "qps requested",
        "qps achieved",
        "elapsed",
        "retries",
        "429s",
        "verified",
        "verdict",
    ]
    return table(head, [row], "kb-job", job=r.job_name)


def quantile_tables(view: JobView) -> str:
    """One table per measurement: n, missing, P50..avg (seconds) and SLO verdicts per key."""
    by_measurement: dict[str, list[str]] = {}
    for key in view.quantiles:
        by_measurement.setdefault(key.split(".", 1)[0], []).append(key)
    out = []
    for measurement, keys in by_measurement.items():
        rows = []
        for key in keys:
            q = view.quantiles[key]
            slos = [s for s in view.slos if s.key == key]
            verdict = " ".join(verdict_span(s.verdict) for s in slos) or "-"
            if slos:
                verdict = '<span class="kb-slo">' + verdict + "</span>"
            rows.append(
                [
                    key.split(".", 1)[1],
                    str(q.n),
                    str(q.missing),
                    *(fmt_table_s(q.get(s)) for s in STATS),
                    verdict,
                ]
            )
        out.append(
            f"<h4>{escape(measurement)} ({escape(view.quantiles[keys[0]].clock)} clock, "
            "seconds)</h4>"
        )
        out.append(
            table(
                ["transition", "n", "missing", *STATS, "SLO"],
                rows,
                "kb-quantiles",
                measurement=measurement,
            )
        )
    lines = [s for s in view.slos if s.verdict != "pass"]
    if lines:
        out.append(
            '<ul class="kb-slo-lines">'
            + "".join(f"<li>{verdict_span(s.verdict)} {escape(s.line)}</li>" for s in lines)
            + "</ul>"
        )
    return "".join(out)


def comparison_html(view: JobView) -> str:
    """Baseline vs current side by side, regressions first."""
    cmp = view.comparison
    if cmp is None:
        return ""
    out = ["<h4>Baseline comparison</h4>"]
    for line in [*cmp.regressions, cmp.refused]:
        if line:
            out.append(f"<p>{verdict_span('fail')} {escape(line)}</p>")
    if cmp.note:
        out.append(f"<p>{escape(cmp.note)}</p>")
    if cmp.rows:
        rows = [
            [f"{k} {s}", fmt_table_s(o), fmt_table_s(n), change_text(o, n)]
            for k, s, o, n in cmp.rows
        ]
        out.append(table(["quantile", "baseline", "current", "change"], rows, "kb-compare"))
    return "".join(out)


def _ms(value: Any) -> float | None:
    return value / 1000 if isinstance(value, int | float) and not isinstance(value, bool) else None


def job_plots(view: JobView, directory: Path | None) -> list[str]:
    """Every plot of one job as inline SVG."""
    if directory is None:
        return []
    r = view.result
    svgs: list[str] = []
    objects = object_documents(directory, r.job_name, r.uuid)
    main = (view.main_key() or "podLatency.Ready").split(".", 1)[0]
    for measurement, docs in objects.items():
        groups: dict[str, list[Doc]] = {}
        for doc in docs:
            groups.setdefault(str(doc.get("operation") or "create"), []).append(doc)
        for op, group in groups.items():
            pairs = [
                (q, f)
                for q, f in transitions_of(measurement)
                if any(d.get(f) is not None for d in group)
            ]
            rows = [[_ms(d.get(f)) for _, f in pairs] for d in group]
            names = [q for q, _ in pairs]
            title = measurement + ("" if op == "create" else f" ({op})")
            scope = f"{r.job_name}-{measurement}-{op}"
            samples = {
                n: [v for row in rows if (v := row[j]) is not None] for j, n in enumerate(names)
            }
            svgs.append(latency_cdf(samples, f"{title}: latency CDF", f"{scope}-cdf"))
            svgs.append(timeline(rows, names, f"{title}: per-object timeline", f"{scope}-tl"))
            if measurement == main and op == "create":
                svgs.append(_rate_plot(view, group, rows, scope))
    for _, svg in prometheus_series(
        prometheus_documents(directory, r.job_name, r.uuid), f"{r.job_name}-prom"
    ):
        svgs.append(svg)
    return svgs


def _rate_plot(view: JobView, docs: list[Doc], rows: list[list[float | None]], scope: str) -> str:
    from ..measurements.timeutil import ts_of

    created, ready = [], []
    for doc, row in zip(docs, rows, strict=True):
        t = ts_of(doc.get("timestamp"))
        if t is None:
            continue
        created.append(t / 1e9)
        done = [v for v in row if v is not None]
        if done and len(done) == len(row):
            ready.append(t / 1e9 + max(done))
    return creation_rate(
        created, ready, view.result.qps_requested, f"{view.name}: creation rate", f"{scope}-rate"
    )


_PROM_CACHE: dict[tuple[str, int, int], list[Doc]] = {}


def prometheus_documents(directory: Path, job: str, uuid: str) -> list[Doc]:
    """Prometheus documents (``<metricName>.json``) of ``job`` in a metrics directory."""
    out: list[Doc] = []
    for path in sorted(directory.glob("*.json")):
        name = path.name
        if name in _KNOWN_FILES or "Measurement-" in name or name.startswith("summary"):
            continue
        stat = path.stat()
        key = (str(path), stat.st_mtime_ns, stat.st_size)
        docs = _PROM_CACHE.get(key)
        if docs is None:
            docs = [d for d in safe_read(path) if "value" in d and "metricName" in d]
            _PROM_CACHE[key] = docs
        out += [d for d in docs if d.get("jobName") == job and d.get("uuid") in (None, uuid)]
    return out


def alerts_html(directory: Path | None, view: JobView) -> str:
    """Alerts fired during the job (``alert.json``)."""
    if directory is None:
        return ""
    docs = [
        d
        for d in safe_read(directory / "alert.json")
        if d.get("jobName") == view.name and d.get("uuid") in (None, view.result.uuid)
    ]
    if not docs:
        return ""
    rows = [
        [str(d.get("timestamp", "")), str(d.get("severity", "")), str(d.get("description", ""))]
        for d in docs
    ]
    return "<h4>Alerts</h4>" + table(["time", "severity", "description"], rows, "kb-alerts")


def item_html(views: Sequence[JobView], directory: Path | None, plots: bool = True) -> str:
    """The HTML extra of one test: per job its tables, comparison, alerts and plots."""
    out = [CSS, '<div class="kb-report">']
    for view in views:
        out.append(f"<h3>kubevirt-burner job {escape(view.name)}</h3>")
        out.append(job_table(view))
        reasons = view.reasons()
        if reasons:
            out.append(
                '<ul class="kb-reasons">'
                + "".join(f"<li>{escape(x)}</li>" for x in reasons)
                + "</ul>"
            )
        out.append(quantile_tables(view))
        out.append(comparison_html(view))
        out.append(alerts_html(directory, view))
        if plots:
            out.append('<div class="kb-plots">' + "".join(job_plots(view, directory)) + "</div>")
    return "".join(out) + "</div>"


def _safe_url(value: object) -> str:
    """A URL without credentials (``user:pass@`` is dropped)."""
    parts = urlsplit(str(value))
    host = parts.hostname or ""
    netloc = host + (f":{parts.port}" if parts.port else "")
    return urlunsplit((parts.scheme, netloc, parts.path, "", ""))


def session_html(config: pytest.Config, views: Sequence[JobView]) -> str:
    """Cluster facts, run ids, options and every job's headline row."""
    from ..session import SESSION_KEY

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
    out = [CSS, '<div class="kb-report kb-session"><h2>kubevirt-burner</h2>']
    out.append(table(["setting", "value"], rows, "kb-facts"))
    if views:
        lines = results_table(views)
        out.append(f'<pre class="kb-results">{escape(os.linesep.join(lines))}</pre>')
    return "".join(out) + "</div>"


class HtmlHooks:
    """pytest-html hooks: per-test extras, the session section and the report title."""

    def __init__(self, config: pytest.Config, state: ReportState) -> None:
        self.config = config
        self.state = state
        self._title_report: Any = None

    @pytest.hookimpl(wrapper=True)
    def pytest_runtest_makereport(
        self, item: pytest.Item, call: pytest.CallInfo[None]
    ) -> Generator[None, pytest.TestReport, pytest.TestReport]:
        """On the call phase: append the HTML extra of the test's jobs to ``report.extras``."""
        report = yield
        if report.when == "call":
            views = views_for(item)
            if views:
                from pytest_html import extras

                html = item_html(views, run_settings(item.config)[0])
                setattr(report, _EXTRAS, [*getattr(report, _EXTRAS, []), extras.html(html)])
        return report

    def _title(self) -> str:
        from ..session import SESSION_KEY

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
        """The session section: cluster, run ids, options, every job's headline."""
        if self._title_report is not None:
            self._title_report.title = self._title()
        postfix.append(session_html(self.config, self.state.views()))
