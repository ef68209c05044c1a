"""Reports end to end: pytest-html extras and summary, terminal table, junit, summary.json, and
baseline comparison of simulator runs with different latency profiles.
"""

from __future__ import annotations

import html
import json
import re
from collections.abc import Iterator
from html.parser import HTMLParser
from pathlib import Path
from typing import Any
from xml.etree import ElementTree

import pytest

# imported here so that pytester's in-process runs find numpy/matplotlib already loaded (numpy
# cannot be imported twice in one process, and pytester unloads modules an inner run imported)
import pytest_kubevirt_burner.report.html  # noqa: F401
from pytest_kubevirt_burner.sim.process import SimProcess

from ..inner import POD, run_inner, simulator, write_templates

SUITE = """
import pytest

@pytest.mark.density(template="templates/pod.yml", replicas={replicas}, iterations=2, qps=50,
                     burst=50)
@pytest.mark.slo("podLatency.Ready", p99="30s")
def test_pods(burner):
    burner.run()

@pytest.mark.density(template="templates/pod.yml", replicas=3, qps=50, burst=50)
def test_more_pods(burner):
    burner.run()
"""

PROFILE = """\
name: {name}
seed: 3
default: {{distribution: fixed, value: 0.01}}
transitions:
  Pod.PodScheduled: {{distribution: fixed, value: {delay}}}
  Pod.Initialized: {{distribution: fixed, value: {delay}}}
  Pod.ContainersReady: {{distribution: fixed, value: {delay}}}
  Pod.Ready: {{distribution: fixed, value: {delay}}}
"""


def _sim(tmp: Path, name: str, delay: float) -> Iterator[SimProcess]:
    profile = tmp / f"{name}.yaml"
    profile.write_text(PROFILE.format(name=name, delay=delay))
    yield from simulator(nodes=3, profile=str(profile))


@pytest.fixture(scope="module")
def steady_sim(tmp_path_factory: pytest.TempPathFactory) -> Iterator[SimProcess]:
    """Pods become Ready after a fixed 4 x 0.15 s."""
    yield from _sim(tmp_path_factory.mktemp("steady"), "steady", 0.15)


@pytest.fixture(scope="module")
def slow_sim(tmp_path_factory: pytest.TempPathFactory) -> Iterator[SimProcess]:
    """Pods become Ready after a fixed 4 x 0.45 s (three times slower)."""
    yield from _sim(tmp_path_factory.mktemp("slow"), "slow", 0.45)


@pytest.fixture
def suite(pytester: pytest.Pytester) -> Any:
    write_templates(pytester, pod=POD)

    def write(replicas: int = 4) -> None:
        pytester.makepyfile(test_suite=SUITE.format(replicas=replicas))

    write()
    return write


def run_on(pytester: pytest.Pytester, sim: SimProcess | None, *args: str) -> pytest.RunResult:
    """Run the inner suite on ``sim`` (None: ``--kube-sim``)."""
    return run_inner(pytester, sim, None, *args)


class _Collect(HTMLParser):
    """Tables (by class) and svg elements of an HTML fragment."""

    def __init__(self) -> None:
        super().__init__()
        self.tables: list[str] = []
        self.svgs = 0
        self.measurements: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        a = dict(attrs)
        if tag == "table":
            self.tables.append(a.get("class") or "")
            if a.get("data-measurement"):
                self.measurements.append(str(a["data-measurement"]))
        elif tag == "svg":
            self.svgs += 1


def report_data(path: Path) -> dict[str, Any]:
    """pytest-html's JSON blob (tests, extras, environment)."""
    text = path.read_text()
    blob = re.search(r'data-jsonblob="([^"]*)"', text)
    assert blob is not None, "no data-jsonblob in the report"
    data: dict[str, Any] = json.loads(html.unescape(blob.group(1)))
    return data


def extras_html(data: dict[str, Any], nodeid: str) -> str:
    rows = data["tests"][nodeid]
    return "".join(
        e.get("content", "") for row in rows for e in row["extras"] if e["format_type"] == "html"
    )


def test_html_report_has_job_tables_and_plots_per_test(
    pytester: pytest.Pytester, steady_sim: SimProcess, suite: Any
) -> None:
    metrics = pytester.path / "metrics"
    result = run_on(
        pytester,
        steady_sim,
        "--html=report.html",
        "--junitxml=junit.xml",
        "--metrics-directory",
        str(metrics),
    )
    result.assert_outcomes(passed=2)
    data = report_data(pytester.path / "report.html")
    for nodeid, job in (
        ("test_suite.py::test_pods", "test-pods"),
        ("test_suite.py::test_more_pods", "test-more-pods"),
    ):
        fragment = extras_html(data, nodeid)
        parsed = _Collect()
        parsed.feed(fragment)
        assert "kb-table kb-job" in parsed.tables, nodeid
        assert "podLatency" in parsed.measurements, nodeid
        assert parsed.svgs >= 3, (nodeid, parsed.svgs)  # CDF, timeline, creation rate
        assert f"kubevirt-burner job {job}" in fragment
        for svg in re.findall(r"<svg.*?</svg>", fragment, re.S):
            ElementTree.fromstring(svg)  # every inline plot is well-formed XML
    # the SLO verdict of test_pods is in its quantile table
    assert "kb-slo" in extras_html(data, "test_suite.py::test_pods")
    page = (pytester.path / "report.html").read_text()
    assert "kb-session" in page and "kubevirt-burner report" in page
    assert "token" not in page.lower().split("kb-session", 1)[1].split("</div>", 1)[0]
    # terminal table, junit properties, summary.json
    result.stdout.fnmatch_lines(
        [
            "*kubevirt-burner: 2 jobs (latencies in seconds)*",
            "Job*Type*Transition*N*P50*P95*P99*Verified*SLO*Result",
            "test-pods*create*podLatency.Ready*8*pass*pass",
        ]
    )
    junit = ElementTree.parse(pytester.path / "junit.xml")
    props = {p.get("name"): p.get("value") for p in junit.iter("property")}
    assert float(props["podLatency.Ready.P99"] or "nan") > 0.5
    assert props["burner.verdict"] == "pass"
    summary = json.loads((metrics / "summary.json").read_text())
    assert summary["passed"] is True
    jobs = {j["job"]: j for j in summary["jobs"]}
    assert jobs["test-pods"]["quantiles"]["podLatency.Ready"]["n"] == 8
    assert jobs["test-pods"]["thresholds"][0]["verdict"] == "pass"


def test_self_contained_html_on_embedded_simulator_says_simulated(
    pytester: pytest.Pytester, suite: Any
) -> None:
    result = run_on(
        pytester, None, "--html=report.html", "--self-contained-html", "-k", "test_more_pods"
    )
    result.assert_outcomes(passed=1, deselected=1)
    page = (pytester.path / "report.html").read_text()
    assert not (pytester.path / "assets").exists()
    assert "SIMULATED" in page
    fragment = extras_html(
        report_data(pytester.path / "report.html"), "test_suite.py::test_more_pods"
    )
    assert fragment.count("<svg") >= 3


def test_without_pytest_html_reports_stay_silent(
    pytester: pytest.Pytester, steady_sim: SimProcess, suite: Any
) -> None:
    result = run_on(pytester, steady_sim, "-p", "no:html", "-k", "test_more_pods")
    result.assert_outcomes(passed=1, deselected=1)
    result.stdout.no_fnmatch_line("*Generated html report*")
    assert "warning" not in result.stdout.str().lower()
    assert "Traceback" not in result.stdout.str() + result.stderr.str()
    result.stdout.fnmatch_lines(["*kubevirt-burner: 1 jobs*"])


def test_baseline_flags_the_slower_run_and_passes_the_equal_one(
    pytester: pytest.Pytester, steady_sim: SimProcess, slow_sim: SimProcess, suite: Any
) -> None:
    base = pytester.path / "base"
    run_on(
        pytester, steady_sim, "--metrics-directory", str(base), "-k", "test_pods"
    ).assert_outcomes(passed=1, deselected=1)
    gate = [
        "--burner-baseline",
        str(base),
        "--burner-regression",
        "podLatency.Ready:P99:25%",
        "-k",
        "test_pods",
    ]

    slow = run_on(pytester, slow_sim, "--metrics-directory", str(pytester.path / "slow"), *gate)
    slow.assert_outcomes(failed=1, deselected=1)
    slow.stdout.re_match_lines([r".*podLatency\.Ready P99 regressed \d+\.\d% \(.*s -> .*s\) > 25%"])
    slow.stdout.fnmatch_lines(
        ["*baseline comparison*", "*test-pods*podLatency.Ready*P99*REGRESSED"]
    )

    same = run_on(
        pytester,
        steady_sim,
        "--metrics-directory",
        str(pytester.path / "same"),
        "--html=report.html",
        *gate,
    )
    same.assert_outcomes(passed=1, deselected=1)
    fragment = extras_html(report_data(pytester.path / "report.html"), "test_suite.py::test_pods")
    assert "Baseline comparison" in fragment and "kb-compare" in fragment

    suite(replicas=5)  # a different job: compared only with force
    other = run_on(pytester, steady_sim, "--metrics-directory", str(pytester.path / "other"), *gate)
    other.assert_outcomes(failed=1, deselected=1)
    out = other.stdout.str()
    assert "test-pods: not compared with baseline" in out
    assert "jobConfig differs in objects[0].replicas" in out
    forced = run_on(
        pytester,
        steady_sim,
        "--metrics-directory",
        str(pytester.path / "forced"),
        *gate[:3],
        "podLatency.Ready:P99:25%:force",
        "-k",
        "test_pods",
    )
    forced.assert_outcomes(passed=1, deselected=1)


def test_bad_regression_spec_is_one_usage_error_line(
    pytester: pytest.Pytester, steady_sim: SimProcess, suite: Any
) -> None:
    result = run_on(
        pytester,
        steady_sim,
        "--burner-baseline",
        str(pytester.path),
        "--burner-regression",
        "podLatency.Redy:P99:10%",
    )
    assert result.ret == pytest.ExitCode.USAGE_ERROR
    result.stderr.fnmatch_lines(["ERROR: --burner-regression 'podLatency.Redy:P99:10%'*Ready*"])


STEADY_SUITE = """
import pytest

@pytest.mark.density(template="templates/pod.yml", replicas=20, iterations=3, qps=20, burst=10)
@pytest.mark.slo("podLatency.Ready", p99="30s", p50="20s")
def test_pods_qps20(burner):
    burner.run()

@pytest.mark.density(template="templates/cm.yml", replicas=5, qps=50, burst=50)
def test_configmaps(burner):
    burner.run()

@pytest.mark.density(template="templates/pod.yml", replicas=2, qps=50, burst=50)
@pytest.mark.slo("podLatency.Ready", p99="1ms")
def test_too_strict(burner):
    burner.run()
"""
CONFIGMAP = """\
apiVersion: v1
kind: ConfigMap
metadata:
  name: cm-{{.Replica}}
data:
  a: b
"""


class _Summary(HTMLParser):
    """Rows of the kb-summary table: data attributes and cell texts."""

    def __init__(self) -> None:
        super().__init__()
        self.rows: list[dict[str, Any]] = []
        self._in = False
        self._cell: list[str] | None = None

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        a = dict(attrs)
        if tag == "table":
            self._in = "kb-summary" in (a.get("class") or "")
        elif tag == "tr" and self._in and a.get("data-job"):
            self.rows.append({**a, "cells": []})
        elif tag == "td" and self._in and self.rows:
            self._cell = []

    def handle_endtag(self, tag: str) -> None:
        if tag == "td" and self._cell is not None:
            self.rows[-1]["cells"].append(" ".join("".join(self._cell).split()))
            self._cell = None
        elif tag == "table":
            self._in = False

    def handle_data(self, data: str) -> None:
        if self._cell is not None:
            self._cell.append(data)


def summary_rows(page: str) -> list[dict[str, Any]]:
    parsed = _Summary()
    parsed.feed(page)
    return parsed.rows


@pytest.fixture
def steady_suite(pytester: pytest.Pytester) -> None:
    pytester.mkdir("templates")
    (pytester.path / "templates" / "pod.yml").write_text(POD)
    (pytester.path / "templates" / "cm.yml").write_text(CONFIGMAP)
    pytester.makepyfile(test_suite=STEADY_SUITE)


def test_summary_table_leads_with_failures_thresholds_and_steady_qps(
    pytester: pytest.Pytester, steady_sim: SimProcess, steady_suite: None
) -> None:
    result = run_on(pytester, steady_sim, "--html=report.html", "--self-contained-html")
    result.assert_outcomes(passed=2, failed=1)
    page = (pytester.path / "report.html").read_text()
    # the summary is above pytest-html's results table
    assert page.index('class="kb-table kb-summary"') < page.index('id="results-table"')
    rows = summary_rows(page)
    assert rows[0]["data-job"] == "test-too-strict"  # the failure comes first
    assert "kb-row-fail" in rows[0]["class"]
    by_job = {r["data-job"]: r for r in rows}
    pods = by_job["test-pods-qps20"]
    steady = float(pods["data-qps-steady"])
    assert abs(steady - 20) <= 2, steady  # the steady rate, not the burst
    cells = pods["cells"]
    assert "Pod 60/60 ready" in cells
    assert any("SLO ≤ 30s, margin +" in c for c in cells), cells  # P99 beside its threshold
    assert any("SLO ≤ 20s, margin +" in c for c in cells), cells  # P50 beside its threshold
    assert "ConfigMap 5/5 created" in by_job["test-configmaps"]["cells"]
    assert not any("0 ready" in c for c in by_job["test-configmaps"]["cells"])
    strict = " ".join(by_job["test-too-strict"]["cells"])
    assert "SLO ≤ 1ms, margin -" in strict
    # the cross-job plot: one labelled bar per job with latency, at most 8 series per plot
    assert 'data-plot="kb-summary"' in page
    for count in re.findall(r'data-series="(\d+)"', page.replace("&#34;", '"')):
        assert int(count) <= 8
    # the job's own table: objects without "0 ready" for kinds that have no readiness
    fragment = extras_html(
        report_data(pytester.path / "report.html"), "test_suite.py::test_configmaps"
    )
    assert "ConfigMap 5/5 created" in fragment and "ready 0" not in fragment


def test_summary_table_under_xdist_collects_every_worker(
    pytester: pytest.Pytester, steady_sim: SimProcess, steady_suite: None
) -> None:
    result = run_on(pytester, steady_sim, "-n", "2", "--html=report.html", "-k", "not qps20")
    result.assert_outcomes(passed=1, failed=1)
    rows = summary_rows((pytester.path / "report.html").read_text())
    assert sorted(r["data-job"] for r in rows) == ["test-configmaps", "test-too-strict"]


def test_baseline_regression_is_first_highlighted_and_overlaid(
    pytester: pytest.Pytester, steady_sim: SimProcess, slow_sim: SimProcess, suite: Any
) -> None:
    base = pytester.path / "base"
    run_on(pytester, steady_sim, "--metrics-directory", str(base)).assert_outcomes(passed=2)
    slow = run_on(
        pytester,
        slow_sim,
        "--html=report.html",
        "--burner-baseline",
        str(base),
        "--burner-regression",
        "podLatency.Ready:P99:25%",
    )
    slow.assert_outcomes(failed=2)
    page = (pytester.path / "report.html").read_text()
    rows = summary_rows(page)
    assert "kb-row-regressed" in rows[0]["class"]
    assert rows[0]["cells"][-1].startswith("+")  # P99 change against the baseline
    fragment = extras_html(report_data(pytester.path / "report.html"), "test_suite.py::test_pods")
    assert "-overlay" in fragment and "baseline (dashed) vs current (solid)" in fragment
    compare = fragment.split('class="kb-table kb-compare"', 1)[1]
    first_row = compare.split("<tr", 2)[2]
    assert "kb-row-regressed" in first_row.split(">", 1)[0]  # regressed quantiles first


LIVE_SUITE = """
import pytest

@pytest.mark.density(template="templates/pod.yml", replicas=30, iterations=2, qps=20, burst=5,
                     job_pause="1s")
def test_pods(burner):
    burner.run()

@pytest.mark.density(template="templates/cm.yml", replicas=5, qps=50, burst=50)
def test_configmaps(burner):
    burner.run()

@pytest.mark.density(template="templates/pod.yml", replicas=4, iterations=2, qps=50, burst=50,
                     churn={"cycles": 2, "percent": 50, "delete_delay": "50ms"})
def test_churn(burner):
    burner.run()
"""


def run_in_pty(args: list[str], cwd: Path, timeout: float = 240) -> str:
    """Run ``args`` with a pseudo-terminal (160 columns) as its stdio; everything it wrote."""
    import fcntl
    import os
    import pty
    import select
    import struct
    import subprocess
    import termios
    import time

    master, slave = pty.openpty()
    fcntl.ioctl(slave, termios.TIOCSWINSZ, struct.pack("HHHH", 40, 160, 0, 0))
    env = {**os.environ, "TERM": "xterm", "COLUMNS": "160"}
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(Path.cwd()), env.get("PYTHONPATH")]))
    proc = subprocess.Popen(args, stdin=slave, stdout=slave, stderr=slave, cwd=cwd, env=env)
    os.close(slave)
    chunks: list[bytes] = []
    deadline = time.monotonic() + timeout
    try:
        while time.monotonic() < deadline:
            ready, _, _ = select.select([master], [], [], 0.5)
            if ready:
                try:
                    data = os.read(master, 65536)
                except OSError:  # the child closed the terminal
                    break
                if not data:
                    break
                chunks.append(data)
            elif proc.poll() is not None:
                break
    finally:
        if proc.poll() is None:
            proc.kill()
        proc.wait()
        os.close(master)
    return b"".join(chunks).decode("utf-8", "replace")


def test_live_progress_on_a_pseudo_terminal(pytester: pytest.Pytester) -> None:
    import sys

    pytester.mkdir("templates")
    (pytester.path / "templates" / "pod.yml").write_text(POD)
    (pytester.path / "templates" / "cm.yml").write_text(CONFIGMAP)
    pytester.makepyfile(test_live=LIVE_SUITE)
    out = run_in_pty(
        [sys.executable, "-m", "pytest", "-p", "no:cacheprovider", "--kube-sim", "test_live.py"],
        pytester.path,
    )
    frames = [f.strip() for f in out.replace("\x1b[K", "").replace("\n", "\r").split("\r")]
    assert "3 passed" in out, out[-2000:]
    pods = [f for f in frames if f.startswith("test-pods [")]
    assert any(re.search(r"\] +\d+% creating \| Pod \d+/60 created", f) for f in pods), pods
    # the rate shown is the steady one (never the burst) and the ETA comes from it
    rates = [float(m[1]) for f in pods if (m := re.search(r"\| (\d+\.\d) qps \|", f))]
    assert rates and all(r < 30 for r in rates), pods
    assert any(re.search(r"ETA \d", f) for f in pods if "creating" in f), pods
    assert any("100% pausing 1s" in f for f in pods), pods
    cms = [f for f in frames if f.startswith("test-configmaps [")]
    assert cms and all("ConfigMap 5/5 created |" in f for f in cms[-1:]), cms
    assert not any("0 ready" in f for f in cms)
    churn = [f for f in frames if f.startswith("test-churn [")]
    assert any("churn cycle 1 of 2" in f for f in churn), churn
    assert any("100% churn cycle 2 of 2" in f for f in churn), churn
