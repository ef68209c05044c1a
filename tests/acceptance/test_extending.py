"""docs/extending.md's example plugin, run exactly as written: a measurement, a report section
and a document field added through the hookspecs.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from pathlib import Path

import pytest

# imported here so that pytester's in-process runs find numpy/matplotlib already loaded
import pytest_kubevirt_burner.report.html  # noqa: F401
from pytest_kubevirt_burner.measurements import REGISTRY
from pytest_kubevirt_burner.sim.process import SimProcess

from ..esdouble import EsDouble
from ..inner import run_inner

DOC = Path(__file__).resolve().parents[2] / "docs" / "extending.md"


def example_files() -> dict[str, str]:
    """The fenced blocks of docs/extending.md whose first line names a file (``# conftest.py``)."""
    blocks = re.findall(r"```(?:python|yaml)\n# ([\w/.]+)\n(.*?)```", DOC.read_text(), re.S)
    return {name: body for name, body in blocks}


@pytest.fixture
def es() -> Iterator[EsDouble]:
    with EsDouble() as double:
        yield double


def test_the_documented_example_files_are_found() -> None:
    assert set(example_files()) == {"conftest.py", "test_pods.py", "templates/pod.yml"}


def test_example_plugin_adds_a_measurement_a_report_section_and_a_field(
    pytester: pytest.Pytester, sim: SimProcess, es: EsDouble, tmp_path: Path
) -> None:
    for name, body in example_files().items():
        path = pytester.path / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(body)
    metrics = tmp_path / "metrics"
    result = run_inner(
        pytester,
        sim,
        metrics,
        "--html=report.html",
        "--self-contained-html",
        "--es-server",
        es.url,
        "--es-index",
        "ext",
    )
    result.assert_outcomes(passed=1)

    docs = json.loads((metrics / "podReadyLatencyMeasurement-ready-pods.json").read_text())
    assert len(docs) == 4
    assert {d["metricName"] for d in docs} == {"podReadyLatencyMeasurement"}
    assert all(d["readyLatency"] >= 0 for d in docs)
    quantiles = json.loads(
        (metrics / "podReadyLatencyQuantilesMeasurement-ready-pods.json").read_text()
    )
    assert [q["quantileName"] for q in quantiles] == ["Ready"]
    assert (metrics / "podLatencyMeasurement-ready-pods.json").is_file()

    page = (pytester.path / "report.html").read_text()
    assert "Pod readiness" in page
    assert re.search(r"<td>ready-pods</td><td>\d+\.\d{3} s</td>", page)

    indexed = list(es.docs("ext").values())
    assert any(d["metricName"] == "podReadyLatencyMeasurement" for d in indexed)
    assert indexed and all(d["ciBuild"] == "local" for d in indexed)
    # the file on disk stays as written
    assert "ciBuild" not in docs[0]

    # measurements registered by a session are forgotten when it ends
    assert "podReadyLatency" not in REGISTRY


def test_a_refused_measurement_is_one_usage_error_line(pytester: pytest.Pytester) -> None:
    pytester.makeconftest(
        """
        from pytest_kubevirt_burner.measurements.simple import PodLatency

        def pytest_burner_register_measurements(registry):
            registry.register(PodLatency)
        """
    )
    pytester.makepyfile("def test_nothing():\n    pass\n")
    result = pytester.runpytest("-p", "no:cacheprovider")
    assert result.ret == pytest.ExitCode.USAGE_ERROR
    result.stderr.fnmatch_lines(
        [
            "ERROR: pytest_burner_register_measurements: measurement 'podLatency' is already "
            "registered"
        ]
    )
    assert sorted(REGISTRY) == sorted(
        ["podLatency", "vmiLatency", "vmimLatency", "dataVolumeLatency", "jobLatency", "pvcLatency"]
    )
