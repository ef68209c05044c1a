"""kube-burner's published Grafana dashboards read fields our documents carry.

The dashboards (``tests/data/grafana-dashboards``) are parsed: every Elasticsearch target gives
the metricNames its Lucene query selects and the fields it reads (query terms, metric and
bucket aggregations, the jobSummary table's visible columns). A density suite on the simulator
with a Prometheus scraping it writes the documents; each field must exist in a document of
that metricName.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from pytest_kubevirt_burner.indexers.local import is_document_array, iter_documents
from pytest_kubevirt_burner.metrics.promserver import PrometheusProcess
from pytest_kubevirt_burner.sim.process import SimProcess

from ..inner import POD, run_inner, write_templates
from .test_indexing import DV, VM

DASHBOARDS = Path(__file__).resolve().parents[1] / "data" / "grafana-dashboards"
_NAME = re.compile(r'metricName(?:\.keyword)?\s*:\s*"?([A-Za-z0-9_+\-]+)"?')
_TERM = re.compile(r"([A-Za-z_][\w.]*)\s*(?::|>|<|>=|<=)\s*")
_NO_FIELD = {"raw_data", "raw_document", "count", "logs"}  # their "field" is ignored by Grafana
_META = {"_id", "_index", "_type", "highlight", "sort", "uuid", "metricName", "select field"}
OURS = (
    "podLatencyMeasurement",
    "podLatencyQuantilesMeasurement",
    "vmiLatencyMeasurement",
    "vmiLatencyQuantilesMeasurement",
    "vmimLatencyMeasurement",
    "vmimLatencyQuantilesMeasurement",
    "dvLatencyMeasurement",
    "dvLatencyQuantilesMeasurement",
    "jobSummary",
)
QUANTILE_FIELDS = ("timestamp", "uuid", "metricName", "jobName", "quantileName", "P99", "P95",
                   "P50", "max", "avg")  # fmt: skip


def _walk(node: Any) -> Iterator[dict[str, Any]]:
    if isinstance(node, dict):
        yield node
        for value in node.values():
            yield from _walk(value)
    elif isinstance(node, list):
        for value in node:
            yield from _walk(value)


def _base(field: str) -> str:
    return field.removesuffix(".keyword")


def dashboard_fields(path: Path) -> dict[str, set[str]]:
    """metricName -> fields the dashboard reads from documents of that metricName."""
    out: dict[str, set[str]] = {}
    for panel in _walk(json.loads(path.read_text())):
        for target in panel.get("targets") or []:
            query = str(target.get("query") or "")
            names = _NAME.findall(query)
            fields = {_base(f) for f in _TERM.findall(query)}
            for key in ("metrics", "bucketAggs"):
                fields |= {
                    _base(m["field"])
                    for m in target.get(key) or []
                    if m.get("field") and m.get("type") not in _NO_FIELD
                }
            if any(m.get("type") == "raw_data" for m in target.get("metrics") or []):
                fields |= _table_columns(panel)
            for name in names:
                out.setdefault(name, set()).update(fields - _META)
    return out


def _table_columns(panel: dict[str, Any]) -> set[str]:
    """Columns a raw-data table shows: named by its organize transformation, not hidden."""
    shown: set[str] = set()
    for step in panel.get("transformations") or []:
        if step.get("id") == "organize":
            options = step["options"]
            hidden = {k for k, v in options.get("excludeByName", {}).items() if v}
            shown |= set(options.get("indexByName", {})) - hidden
    return shown


def has_field(doc: dict[str, Any], dotted: str) -> bool:
    node: Any = doc
    for part in dotted.split("."):
        if not isinstance(node, dict) or part not in node:
            return False
        node = node[part]
    return True


SUITE = """
import pytest

FAST = dict(qps=50, burst=50, max_wait_timeout="60s")
SEL = {"kube-burner.io/job": "dash-vms"}

@pytest.mark.density(template="templates/pod.yml", replicas=2, iterations=2, name="dash-pods",
                     **FAST)
def test_pods(burner):
    assert burner.run().verified

@pytest.mark.density(objects=[{"template": "templates/vm.yml"}, {"template": "templates/dv.yml"}],
                     iterations=2, name="dash-vms", cleanup=False, **FAST)
def test_vms(burner):
    assert burner.run().verified

@pytest.mark.kubevirt_op("migrate", label_selector=SEL, **FAST)
def test_migrate(burner):
    assert burner.run().verified

@pytest.mark.delete(kind="Namespace", label_selector=SEL)
def test_delete(burner):
    assert burner.run().verified
"""
PROFILE = """\
- query: sum(apiserver_request_total) by (verb, resource)
  metricName: APIRequestRate
- query: count(kube_node_info) by (node)
  metricName: nodeCount
  instant: true
"""


@pytest.fixture
def documents(pytester: pytest.Pytester, sim: SimProcess, tmp_path: Path) -> dict[str, list[Any]]:
    """Documents of one density run with a metrics profile, by metricName."""
    write_templates(pytester, pod=POD, vm=VM, dv=DV)
    pytester.makepyfile(test_suite=SUITE)
    (pytester.path / "mp.yml").write_text(PROFILE)
    metrics = tmp_path / "metrics"
    with PrometheusProcess([sim.url], workdir=tmp_path / "prom") as prom:
        prom.wait_for_data("apiserver_request_total")
        result = run_inner(
            pytester, sim, metrics, "--prometheus-url", prom.url, "--metrics-profile", "mp.yml",
            "--prometheus-step", "1s",
        )  # fmt: skip
    result.assert_outcomes(passed=4)
    by_name: dict[str, list[Any]] = {}
    for path in sorted(metrics.glob("*.json")):
        if is_document_array(path):
            for doc in iter_documents(path):
                by_name.setdefault(doc["metricName"], []).append(doc)
    return by_name


def test_dashboards_parse_into_queries() -> None:
    latest = dashboard_fields(DASHBOARDS / "kube-burner-latest.json")
    assert {"podReadyLatency", "timestamp"} <= latest["podLatencyMeasurement"]
    assert {"jobConfig.qps", "elapsedTime"} <= latest["jobSummary"]
    assert (
        "vmReadyLatency"
        in dashboard_fields(DASHBOARDS / "cnv-kubevirt.json")["vmiLatencyMeasurement"]
    )


def test_every_dashboard_field_exists_in_our_documents(documents: dict[str, list[Any]]) -> None:
    missing: list[str] = []
    assert set(OURS) <= set(documents), sorted(documents)
    for dashboard in sorted(DASHBOARDS.glob("*.json")):
        for name, fields in sorted(dashboard_fields(dashboard).items()):
            if name in OURS:
                docs = documents[name]
                wanted = fields
            else:  # a metrics-profile document: labels come from the Prometheus series
                docs = documents["APIRequestRate"]
                wanted = {f for f in fields if not f.startswith("labels.")} | {"labels"}
            for field in sorted(wanted):
                if not any(has_field(d, field) for d in docs):
                    missing.append(f"{dashboard.name}: {name}: {field}")
    for name in OURS:
        if "Quantiles" in name:
            missing += [
                f"{name}: {f}"
                for f in QUANTILE_FIELDS
                if not any(has_field(d, f) for d in documents[name])
            ]
    assert missing == []
