"""A density suite on the simulator indexes into a double of every supported search server.

Each run indexes the session's result files (pod, VMI, VMIM and DataVolume latencies,
jobSummary) at session end; every document of the metrics directory must arrive exactly once,
with the content-hash id, into the one index.
"""

from __future__ import annotations

import json
import tarfile
from collections import Counter
from pathlib import Path

import pytest

from pytest_kubevirt_burner.indexers.base import document_id
from pytest_kubevirt_burner.indexers.local import iter_documents
from pytest_kubevirt_burner.sim.process import SimProcess

from ..esdouble import FLAVORS, EsDouble
from ..inner import POD, VM, run_inner, write_templates

DV = """\
apiVersion: cdi.kubevirt.io/v1beta1
kind: DataVolume
metadata:
  name: disk-{{.Replica}}
spec:
  source: {blank: {}}
  storage: {resources: {requests: {storage: 1Gi}}}
"""
SUITE = """
import pytest

FAST = dict(qps=50, burst=50, max_wait_timeout="60s")
SEL = {{"kube-burner.io/job": "vms-{tag}"}}

@pytest.mark.density(template="templates/pod.yml", replicas=2, iterations=2,
                     name="pods-{tag}", **FAST)
def test_pods(burner):
    assert burner.run().verified

@pytest.mark.density(objects=[{{"template": "templates/vm.yml"}},
                              {{"template": "templates/dv.yml"}}],
                     iterations=2, name="vms-{tag}", cleanup=False, **FAST)
def test_vms(burner):
    assert burner.run().verified

@pytest.mark.kubevirt_op("migrate", label_selector=SEL, **FAST)
def test_migrate(burner):
    assert burner.run().verified

@pytest.mark.delete(kind="Namespace", label_selector=SEL)
def test_delete(burner):
    assert burner.run().verified
"""
KINDS = (
    "podLatencyMeasurement",
    "podLatencyQuantilesMeasurement",
    "vmiLatencyMeasurement",
    "vmiLatencyQuantilesMeasurement",
    "vmimLatencyMeasurement",
    "dvLatencyMeasurement",
    "jobSummary",
)


def write_suite(pytester: pytest.Pytester, tag: str) -> None:
    """The density suite (pods, VMs with DataVolumes, a migration, deletion) for ``tag``."""
    write_templates(pytester, pod=POD, vm=VM, dv=DV)
    pytester.makepyfile(test_suite=SUITE.format(tag=tag))


def bulk_ids(es: EsDouble) -> Counter[str]:
    """How often each document id was sent in a bulk request."""
    ids: Counter[str] = Counter()
    for body in es.state.bulk_bodies():
        for line in body.split(b"\n")[:-1:2]:
            ids[json.loads(line)["index"]["_id"]] += 1
    return ids


@pytest.mark.parametrize("flavor", list(FLAVORS))
def test_density_suite_indexes_every_document_once(
    pytester: pytest.Pytester, sim: SimProcess, tmp_path: Path, flavor: str
) -> None:
    write_suite(pytester, flavor)
    metrics = tmp_path / "metrics"
    with EsDouble(flavor) as es:
        result = run_inner(
            pytester,
            sim,
            metrics,
            "--burner-uuid",
            f"idx-{flavor}",
            "--es-server",
            es.url,
            "--es-index",
            "Perf-Results",
        )
        result.assert_outcomes(passed=4)
        assert result.ret == 0
        stored = es.docs("perf-results")
        sent = bulk_ids(es)
        creates = [r for r in es.state.requests if r.method == "PUT" and "_bulk" not in r.path]
    files = sorted(p for p in metrics.glob("*.json") if p.name != "summary.json")  # the report's
    on_disk = [d for p in files for d in iter_documents(p)]
    names = {d["metricName"] for d in on_disk}
    assert set(KINDS) <= names, names
    ids = [document_id(d) for d in on_disk]
    assert len(set(ids)) == len(ids)  # documents are distinct
    assert sent == Counter(ids)  # each sent exactly once, nothing else sent
    assert stored == {document_id(d): d for d in on_disk}
    assert [r.path for r in creates] == ["/perf-results"]
    family = FLAVORS[flavor].family
    result.stdout.fnmatch_lines(
        [f"*kubevirt-burner: {family} http://127.0.0.1:*: {len(ids)} documents indexed"]
    )


PODS_ONLY = """
import pytest

@pytest.mark.density(template="templates/pod.yml", replicas=2, name="fail-{tag}", qps=50,
                     burst=50)
def test_pods(burner):
    assert burner.run().verified
"""


@pytest.mark.parametrize("allow", [False, True])
def test_documents_not_indexed_fail_the_session_unless_allowed(
    pytester: pytest.Pytester, sim: SimProcess, tmp_path: Path, allow: bool
) -> None:
    write_templates(pytester, pod=POD)
    pytester.makepyfile(test_suite=PODS_ONLY.format(tag=str(allow).lower()))
    metrics = tmp_path / "metrics"
    with EsDouble("os2") as es:
        es.state.read_only.add("kb")
        extra = ["--es-allow-failures"] if allow else []
        result = run_inner(
            pytester, sim, metrics, "--es-server", es.url, "--es-index", "kb", *extra
        )
    result.assert_outcomes(passed=1)
    files = sorted(p for p in metrics.glob("*.json") if p.name != "summary.json")
    count = sum(1 for p in files for _ in iter_documents(p))
    assert count > 0  # every document stays on disk
    expected = (
        f"kubevirt-burner: OpenSearch {es.url} (index kb): {count} documents not indexed:"
        " HTTP 403 cluster_block_exception: index [kb] blocked by:"
        f" [FORBIDDEN/8/index write (api)]; every document stays in {metrics} (re-index:"
        f" python -m pytest_kubevirt_burner index {metrics} --es-server URL --es-index kb)\n"
    )
    assert expected in result.stdout.str()
    if allow:
        assert result.ret == pytest.ExitCode.OK
    else:
        assert result.ret == pytest.ExitCode.TESTS_FAILED
        result.stdout.fnmatch_lines(["*session failed: documents not indexed*"])


KB_CONFIG = """\
global:
  measurements:
    - name: podLatency
metricsEndpoints:
  - indexer:
      type: {kind}
      esServers: ["{url}"]
      defaultIndex: kube-burner
jobs:
  - name: kb-{kind}
    jobIterations: 2
    qps: 50
    burst: 50
    namespace: kb-{kind}
    objects:
      - objectTemplate: pod.yml
        replicas: 2
"""


@pytest.mark.parametrize(
    ("kind", "flavor"), [("opensearch", "os2"), ("elastic", "es8"), ("opensearch", "es9")]
)
def test_kube_burner_config_indexer_type(
    pytester: pytest.Pytester, sim: SimProcess, tmp_path: Path, kind: str, flavor: str
) -> None:
    """``indexer.type: opensearch|elastic`` indexes the job's documents into that server."""
    metrics = tmp_path / "metrics"
    with EsDouble(flavor) as es:
        (pytester.path / "pod.yml").write_text(POD)
        config = pytester.path / "config.yml"
        config.write_text(
            KB_CONFIG.format(kind=kind, url=es.url.replace("http://", "http://u:pw@"))
        )
        result = run_inner(pytester, sim, metrics, "--kube-burner-config", str(config))
        stored = es.docs("kube-burner")
    result.assert_outcomes(passed=1)
    assert result.ret == 0
    files = [p for p in metrics.glob("*.json") if p.name != "summary.json"]
    on_disk = {document_id(d): d for p in files for d in iter_documents(p)}
    assert stored == on_disk and len(on_disk) > 4
    result.stdout.fnmatch_lines(
        [f"{kind} {es.url} (index kube-burner): {len(on_disk)} documents indexed"]
    )
    assert "pw@" not in result.stdout.str()
    mismatch = f"{kind} {es.url} (index kube-burner): the server is Elasticsearch 9.1.0:"
    assert (mismatch in result.stdout.str()) == (flavor == "es9")


def test_kube_burner_config_create_tarball(
    pytester: pytest.Pytester, sim: SimProcess, tmp_path: Path
) -> None:
    """``indexer.createTarball`` writes the metrics directory as ``tarballName`` at the end."""
    (pytester.path / "pod.yml").write_text(POD)
    config = pytester.path / "config.yml"
    local = (
        "type: local\n"
        f"      metricsDirectory: {tmp_path}/local\n"
        "      createTarball: true\n"
        f"      tarballName: {tmp_path}/run.tgz"
    )
    text = KB_CONFIG.format(kind="tarball", url="unused")
    text = text.replace(
        'type: tarball\n      esServers: ["unused"]\n      defaultIndex: kube-burner', local
    )
    config.write_text(text)
    result = pytester.runpytest(
        "-p", "no:cacheprovider", f"--rootdir={pytester.path}", "--kube-config",
        str(sim.kubeconfig), "--kube-burner-config", str(config),
    )  # fmt: skip
    result.assert_outcomes(passed=1)
    with tarfile.open(tmp_path / "run.tgz") as tar:
        names = set(tar.getnames())
    assert {"jobSummary.json", "podLatencyMeasurement-kb-tarball.json"} <= names
    result.stdout.fnmatch_lines([f"createTarball: * files of {tmp_path}/local written to *run.tgz"])
