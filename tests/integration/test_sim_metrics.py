"""/metrics parses, carries the real names, labels and buckets, and moves with the cluster."""

from __future__ import annotations

import gzip
import shutil
import socket
import subprocess
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import orjson
import pytest
import urllib3
from prometheus_client.parser import text_string_to_metric_families
from prometheus_client.samples import Sample

from pytest_kubevirt_burner.sim.metrics import POD_START_BUCKETS, REQUEST_BUCKETS, VMI_PHASE_BUCKETS
from pytest_kubevirt_burner.sim.process import SimProcess

from ._simproc import Http, namespace, pod, running, vm, wait_for

NS = "metrics-test"


@pytest.fixture(scope="module")
def simproc(tmp_path_factory: pytest.TempPathFactory) -> Iterator[SimProcess]:
    """One simulator for the module, with a running pod and a running VM in it."""
    with running(tmp_path_factory.mktemp("simmetrics"), seed=2, nodes=2) as proc:
        http = Http(proc)
        assert http.request("POST", "/api/v1/namespaces", namespace(NS)).status == 201
        base = f"/api/v1/namespaces/{NS}/pods"
        assert http.request("POST", base, pod("p1", cpu="500m", memory="256Mi")).status == 201
        vms = f"/apis/kubevirt.io/v1/namespaces/{NS}/virtualmachines"
        assert http.request("POST", vms, vm("vm1")).status == 201
        wait_for(lambda: http.json("GET", f"{base}/p1").get("status", {}).get("phase") == "Running")
        vmi = f"/apis/kubevirt.io/v1/namespaces/{NS}/virtualmachineinstances/vm1"
        wait_for(lambda: http.json("GET", vmi).get("status", {}).get("phase") == "Running")
        http.close()
        yield proc


@pytest.fixture(scope="module")
def http(simproc: SimProcess) -> Iterator[Http]:
    """Raw HTTP access to the module's simulator."""
    h = Http(simproc)
    try:
        yield h
    finally:
        h.close()


def scrape(http: Http) -> dict[str, Any]:
    """Families by name, parsed with prometheus_client's own parser."""
    resp = http.request("GET", "/metrics", token="")
    assert resp.status == 200
    assert resp.headers["Content-Type"].startswith("text/plain; version=0.0.4")
    return {f.name: f for f in text_string_to_metric_families(resp.data.decode())}


def samples(families: dict[str, Any], family: str, name: str | None = None) -> list[Sample]:
    """Samples of ``family`` (optionally only those named ``name``)."""
    assert family in families, f"{family} missing"
    return [s for s in families[family].samples if name is None or s.name == name]


def bucket_bounds(families: dict[str, Any], family: str, **labels: str) -> list[float]:
    """The ``le`` bounds of one histogram series."""
    out = []
    for s in samples(families, family, family + "_bucket"):
        if all(s.labels.get(k) == v for k, v in labels.items()):
            out.append(float(s.labels["le"]))
    return sorted(set(out))


def test_apiserver_request_metrics(http: Http) -> None:
    fams = scrape(http)
    assert fams["apiserver_request"].type == "counter"
    total = samples(fams, "apiserver_request", "apiserver_request_total")
    expected = {"verb", "dry_run", "group", "version", "resource", "subresource", "scope",
                "component", "code", "apiserver"}  # fmt: skip
    assert all(set(s.labels) == expected for s in total)
    created = [s for s in total if s.labels["verb"] == "POST" and s.labels["resource"] == "pods"]
    assert created and created[0].labels["scope"] == "resource"
    assert created[0].labels["code"] == "201"
    vm_create = [s for s in total if s.labels["resource"] == "virtualmachines"]
    assert vm_create[0].labels["group"] == "kubevirt.io"
    assert fams["apiserver_request_duration_seconds"].type == "histogram"
    bounds = bucket_bounds(fams, "apiserver_request_duration_seconds", verb="POST")
    assert bounds == [*REQUEST_BUCKETS, float("inf")]
    kinds = {s.labels["request_kind"] for s in samples(fams, "apiserver_current_inflight_requests")}
    assert kinds == {"readOnly", "mutating"}
    assert "apiserver_flowcontrol_rejected_requests" in fams


def _count(http: Http, verb: str, resource: str, code: str) -> float:
    fams = scrape(http)
    return sum(
        s.value
        for s in samples(fams, "apiserver_request", "apiserver_request_total")
        if (s.labels["verb"], s.labels["resource"], s.labels["code"]) == (verb, resource, code)
    )


def test_request_counters_move(http: Http) -> None:
    before = _count(http, "LIST", "configmaps", "200")
    for _ in range(3):
        assert http.request("GET", f"/api/v1/namespaces/{NS}/configmaps").status == 200
    assert _count(http, "LIST", "configmaps", "200") == before + 3
    missing = _count(http, "GET", "configmaps", "404")
    assert http.request("GET", f"/api/v1/namespaces/{NS}/configmaps/nope").status == 404
    assert _count(http, "GET", "configmaps", "404") == missing + 1


def test_object_counts(http: Http) -> None:
    fams = scrape(http)
    for family in ("apiserver_storage_objects", "etcd_object_counts"):
        counts = {s.labels["resource"]: s.value for s in samples(fams, family)}
        assert counts["namespaces"] >= 5
        assert counts["nodes"] == 2
        assert counts["virtualmachines.kubevirt.io"] == 1
        assert counts["virtualmachineinstances.kubevirt.io"] == 1


def test_pod_phase_and_start_duration(http: Http) -> None:
    fams = scrape(http)
    phases = {
        s.labels["phase"]: s.value
        for s in samples(fams, "kube_pod_status_phase")
        if s.labels["pod"] == "p1" and s.labels["namespace"] == NS
    }
    assert phases == {"Pending": 0, "Running": 1, "Succeeded": 0, "Failed": 0, "Unknown": 0}
    start = samples(fams, "kubelet_pod_start_duration_seconds")
    assert {s.labels["job"] for s in start} == {"kubelet"}
    node = start[0].labels["node"]
    assert bucket_bounds(fams, "kubelet_pod_start_duration_seconds", node=node) == [
        *map(float, POD_START_BUCKETS),
        float("inf"),
    ]
    count = sum(s.value for s in start if s.name.endswith("_count"))
    assert count >= 2  # p1 and the VM's virt-launcher pod


def test_vmi_metrics(http: Http) -> None:
    fams = scrape(http)
    family = "kubevirt_vmi_phase_transition_time_from_creation_seconds"
    assert bucket_bounds(fams, family, phase="Running") == [
        *map(float, VMI_PHASE_BUCKETS),
        float("inf"),
    ]
    running = [
        s for s in samples(fams, family, family + "_count") if s.labels["phase"] == "Running"
    ]
    assert running[0].value == 1
    total = [s for s in samples(fams, family, family + "_sum") if s.labels["phase"] == "Running"]
    assert 0 < total[0].value < 10
    counts = samples(fams, "kubevirt_vmi_phase_count")
    assert [(s.labels["phase"], s.value) for s in counts] == [("running", 1)]
    assert counts[0].labels["node"].startswith("sim-node-")


def test_node_and_namespace_state(http: Http) -> None:
    fams = scrape(http)
    ready = {
        (s.labels["node"], s.labels["status"]): s.value
        for s in samples(fams, "kube_node_status_condition")
        if s.labels["condition"] == "Ready"
    }
    assert ready[("sim-node-0", "true")] == 1 and ready[("sim-node-0", "false")] == 0
    phases = {
        (s.labels["namespace"], s.labels["phase"]): s.value
        for s in samples(fams, "kube_namespace_status_phase")
    }
    assert phases[(NS, "Active")] == 1 and phases[(NS, "Terminating")] == 0


def _cpu(http: Http) -> float:
    series = [
        s
        for s in samples(
            scrape(http), "container_cpu_usage_seconds", "container_cpu_usage_seconds_total"
        )
        if s.labels["pod"] == "p1"
    ]
    assert len(series) == 1
    labels = series[0].labels
    assert (labels["container"], labels["namespace"], labels["cpu"]) == ("main", NS, "total")
    assert labels["node"].startswith("sim-node-") and labels["job"] == "kubelet"
    return float(series[0].value)


def test_container_usage_grows(http: Http) -> None:
    first = _cpu(http)
    wait_for(lambda: _cpu(http) > first, timeout=5)
    rss = [s for s in samples(scrape(http), "container_memory_rss") if s.labels["pod"] == "p1"]
    assert rss[0].value == int(256 * 1024**2 * 0.6)
    launcher = [
        s
        for s in samples(scrape(http), "container_memory_rss")
        if s.labels["pod"].startswith("virt-launcher-vm1-")
    ]
    assert {s.labels["container"] for s in launcher} >= {"compute"}


def test_process_metrics(http: Http) -> None:
    fams = scrape(http)
    assert samples(fams, "process_cpu_seconds")[0].value > 0
    assert samples(fams, "process_resident_memory_bytes")[0].value > 10 * 1024**2


@pytest.mark.parametrize("path", ["heap", "goroutine", "profile?seconds=0.2"])
def test_pprof_endpoints(http: Http, path: str) -> None:
    resp = http.request("GET", f"/debug/pprof/{path}")
    assert resp.status == 200
    assert resp.headers["Content-Type"] == "application/octet-stream"
    raw = gzip.decompress(resp.data)
    assert raw.startswith(b"\x0a\x04\x08\x01\x10\x02")  # Profile.sample_type {type: 1, unit: 2}
    assert http.request("GET", "/debug/pprof/").status == 200


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def test_prometheus_scrapes_the_simulator(simproc: SimProcess, tmp_path: Path) -> None:
    binary = shutil.which("prometheus")
    if binary is None:
        pytest.skip("prometheus not installed (apt-get install prometheus)")
    port = _free_port()
    target = simproc.url.removeprefix("http://")
    config = tmp_path / "prometheus.yml"
    config.write_text(
        "global: {scrape_interval: 1s, scrape_timeout: 1s, evaluation_interval: 1s}\n"
        "scrape_configs:\n"
        "  - job_name: kube-sim\n"
        "    honor_labels: true\n"
        f"    static_configs: [{{targets: ['{target}']}}]\n"
    )
    log = open(tmp_path / "prometheus.log", "wb")  # noqa: SIM115 - closed in finally
    proc = subprocess.Popen(
        [
            binary,
            f"--config.file={config}",
            f"--storage.tsdb.path={tmp_path / 'data'}",
            f"--web.listen-address=127.0.0.1:{port}",
        ],
        stdout=log,
        stderr=subprocess.STDOUT,
    )
    pool = urllib3.PoolManager(retries=False)

    def query(expr: str) -> list[Any]:
        try:
            resp = pool.request(
                "GET", f"http://127.0.0.1:{port}/api/v1/query", fields={"query": expr}
            )
        except urllib3.exceptions.HTTPError:
            return []
        if resp.status != 200:
            return []
        return list(orjson.loads(resp.data)["data"]["result"])

    try:
        expr = 'sum(apiserver_request_total{apiserver="kube-apiserver",verb="POST"})'
        result = wait_for(lambda: query(expr), timeout=30, interval=0.5)
        assert float(result[0]["value"][1]) >= 3
        phase = f'kube_pod_status_phase{{namespace="{NS}",pod="p1",phase="Running"}}'
        assert float(wait_for(lambda: query(phase), timeout=10)[0]["value"][1]) == 1
        kubelet = 'count(kubelet_pod_start_duration_seconds_bucket{job="kubelet"})'
        assert wait_for(lambda: query(kubelet), timeout=10)
    finally:
        proc.terminate()
        proc.wait(10)
        log.close()
