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
