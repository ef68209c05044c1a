"""The summary rows and the HTML built from the Jinja2 templates (autoescaped)."""

from __future__ import annotations

import re
from xml.etree import ElementTree

from pytest_kubevirt_burner.report.html import summary_html
from pytest_kubevirt_burner.report.jobpage import comparison_data, item_html
from pytest_kubevirt_burner.report.model import (
    JobComparison,
    JobView,
    QStats,
    SloEntry,
    slo_entries,
    steady_qps,
)
from pytest_kubevirt_burner.report.plots import overlay_cdf, summary_plot
from pytest_kubevirt_burner.report.rows import JobRow, entry_numbers, job_row, sorted_rows
from pytest_kubevirt_burner.results import JobResult, Quantiles, SloVerdict

KEY = "podLatency.Ready"


def _verdict(value: float, threshold: float = 30.0, metric: str = "p99") -> SloVerdict:
    passed = value <= threshold
    sign = "<=" if passed else ">"
    line = f"{KEY} {metric.upper()} = {value:g}s {sign} {threshold:g}s (n=10, client clock)"
    return SloVerdict(
        "podLatency", "Ready", metric, threshold, value, passed, threshold - value, n=10, line=line
    )


def _view(name: str, p99: float, verdict: SloVerdict | None = None, **fields: object) -> JobView:
    r = JobResult(job_name=name, job_type="create", uuid="u", verified=True, **fields)  # type: ignore[arg-type]
    if verdict is not None:
        r.slo_verdicts = [verdict]
    q = Quantiles(KEY, 10, p99 / 2, p99, p99, 0.01, p99, p99 / 2)
    return JobView("t.py::test", r, {KEY: QStats.from_quantiles(KEY, q)}, None, slo_entries(r))


def test_threshold_and_value_come_from_the_structured_verdict() -> None:
    entry = SloEntry.of(_verdict(0.25))
    assert entry_numbers(entry) == ("P99", 30.0, 0.25)
    assert entry_numbers(SloEntry(KEY, "fail", "x", None, "p50", 1.0, 2.0)) == ("P50", 1.0, 2.0)


def test_row_has_threshold_margin_and_steady_qps() -> None:
    view = _view(
        "pods",
        0.25,
        _verdict(0.25),
        expected={"Pod": 80},
        created={"Pod": 80},
        ready={"Pod": 80},
        qps_requested=20.0,
        qps_achieved=25.0,
    )
    view.summary = {"jobConfig": {"burst": 20}}
    row = job_row(view)
    t = row.threshold("P99")
    assert t is not None and t.threshold == 30.0 and t.margin is not None
    assert abs(t.margin - 29.75) < 1e-9
    assert row.qps_steady == 25.0 * 60 / 80  # the burst of 20 does not count
    assert row.objects == "Pod 80/80 ready"
    assert JobRow.from_dict(row.to_dict()) == row


def test_steady_qps_is_unknown_when_everything_fits_in_the_burst() -> None:
    r = JobResult("cms", "create", "u", created={"ConfigMap": 5}, qps_achieved=400.0)
    assert steady_qps(r, 50) is None
    assert steady_qps(r, None) == 400.0


def test_objects_wording_per_job_type() -> None:
    delete = JobResult("d", "delete", "u", expected={"Namespace": 1}, operations={"delete": 1})
    patch = JobResult("p", "patch", "u", expected={"Deployment": 20}, operations={"patch": 300})
    ops = JobResult("k", "kubevirt", "u", expected={"restart": 20}, ready={"restart": 18})
    cms = JobResult("c", "create", "u", expected={"ConfigMap": 5}, created={"ConfigMap": 5})
    pods = JobResult("p", "create", "u", expected={"Pod": 9}, created={"Pod": 9}, ready={"Pod": 3})
    results = (delete, patch, ops, cms, pods)
    texts = [job_row(JobView("t", r, {}, None, [])).objects for r in results]
    assert texts == [
        "Namespace 1 deleted",
        "Deployment 20, 300 patch requests",
        "restart 18/20 VMs done",
        "ConfigMap 5/5 created",
        "Pod 9/9 created, 3 ready",
    ]


def test_failures_and_regressions_come_first_then_the_largest_change() -> None:
    def row(job: str, verdict: str = "pass", regressed: bool = False, base: float = 1.0) -> JobRow:
        return JobRow(
            job,
            "t",
            "create",
            "-",
            verdict,
            KEY,
            0.5,
            1.0,
            [],
            20,
            None,
            "",
            0,
            0,
            0,
            regressed,
            base,
        )

    rows = [row("a"), row("b", base=0.5), row("c", "fail"), row("d", regressed=True)]
    assert [r.job for r in sorted_rows(rows)] == ["c", "d", "b", "a"]


def test_summary_html_is_escaped_and_shows_threshold_beside_value() -> None:
    evil = "<script>alert(1)</script>"
    views = [
        _view(evil, 0.25, _verdict(0.25)),
        _view("slow", 40.0, _verdict(40.0)),
    ]
    html = summary_html([job_row(v) for v in views])
    assert "<script>alert" not in html and "&lt;script&gt;" in html
    assert html.index('data-job="slow"') < html.index('data-job="&lt;script&gt;')  # failure first
    failed, passed = re.findall(r'<td class="kb-p99">(.*?)</td>', html, re.S)
    assert "0.250" in passed and 'SLO &le; 30s,<span class="kb-margin"> margin +29.8s' in passed
    assert "40.000" in failed and "margin -10s" in failed and "kb-fail" in failed
    assert 'class="kb-row-fail' in html


def test_job_section_escapes_and_sorts_regressions_first() -> None:
    view = _view("a<b", 0.25)
    view.comparison = JobComparison(
        "a<b",
        rows=[(KEY, "P50", 1.0, 1.1), (KEY, "P99", 1.0, 2.0), (KEY, "P95", 1.0, 0.9)],
        regressions=[f"{KEY} P99 regressed 100.0% (1s -> 2s) > 10%"],
    )
    data = comparison_data(view)
    assert data is not None
    assert [r["name"] for r in data["rows"]] == [f"{KEY} P99", f"{KEY} P50", f"{KEY} P95"]
    html = item_html([view], None)
    assert "a&lt;b" in html and "a<b" not in html
    assert 'class="kb-table kb-job"' in html and "kb-compare" in html


def test_summary_and_overlay_plots_keep_few_series() -> None:
    svg = summary_plot(
        [("a (Ready)", 0.5, 1.0, 30.0, 0.8, False), ("b (Ready)", 1.0, 40.0, 30.0, None, True)],
        "s",
    )
    ElementTree.fromstring(svg)
    assert int(re.findall(r'data-series="(\d+)"', svg)[0]) <= 8
    samples = {f"T{i}": [float(i + j) for j in range(50)] for i in range(12)}
    overlay = overlay_cdf(samples, samples, "overlay", "o")
    assert int(re.findall(r'data-series="(\d+)"', overlay)[0]) == 8  # 4 transitions x 2 runs


def test_plugin_sections_are_trusted_html_with_escaped_titles() -> None:
    from types import SimpleNamespace

    from pytest_kubevirt_burner.report.html import extra_sections
    from pytest_kubevirt_burner.report.sections import ReportSection
    from pytest_kubevirt_burner.report.templating import render

    def hook(config: object) -> list[object]:
        return [[ReportSection("Extra <1>", "<b>bold</b>"), "<i>fragment</i>"]]

    config = SimpleNamespace(hook=SimpleNamespace(pytest_burner_report_sections=hook))
    sections = extra_sections(config)  # type: ignore[arg-type]
    assert [s.title for s in sections] == ["Extra <1>", ""]
    html = render("session.html.j2", facts=[], sections=sections, results="")
    assert "<b>bold</b>" in html and "<i>fragment</i>" in html and "Extra &lt;1&gt;" in html


def test_terminal_comparison_lists_regressions_first() -> None:
    from pytest_kubevirt_burner.report.terminal import comparison_table

    view = _view("pods", 0.25)
    view.comparison = JobComparison(
        "pods",
        rows=[(KEY, "P50", 1.0, 1.5), (KEY, "P95", 1.0, 0.9), (KEY, "P99", 1.0, 1.2)],
        regressions=[f"{KEY} P99 regressed 20.0% (1s -> 1.2s) > 10%"],
    )
    lines = comparison_table([view])
    assert [ln.split()[2] for ln in lines[1:]] == ["P99", "P50", "P95"]
    assert lines[1].endswith("REGRESSED")
