"""ES indexing with the official client against an HTTP double (and a real ES if $ES_SERVER)."""

from __future__ import annotations

import hashlib
import json
import os
import subprocess
import sys
import uuid as uuidlib
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from pytest_kubevirt_burner.indexers.elasticsearch import ElasticIndexer, document_id
from pytest_kubevirt_burner.indexers.local import LocalIndexer
from pytest_kubevirt_burner.measurements.writer import ArrayFileWriter, append_job_summary
from pytest_kubevirt_burner.metrics.pipeline import ObservabilityPipeline

from ..esdouble import EsDouble

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture
def es() -> Iterator[EsDouble]:
    double = EsDouble().start()
    try:
        yield double
    finally:
        double.stop()


def metric_docs(n: int, job: str = "density") -> list[dict[str, Any]]:
    return [
        {
            "timestamp": f"2026-01-01T00:00:{i % 60:02d}Z",
            "labels": {"verb": "POST", "resource": "pods"},
            "value": float(i),
            "uuid": "u-1",
            "query": "sum(x)",
            "metricName": "APIRequestRate",
            "jobName": job,
        }
        for i in range(n)
    ]


def bulk_lines(es: EsDouble) -> list[tuple[dict[str, Any], dict[str, Any]]]:
    pairs = []
    for body in es.state.bulk_bodies():
        assert body.endswith(b"\n")
        lines = body.split(b"\n")[:-1]
        pairs += [
            (json.loads(a), json.loads(s)) for a, s in zip(lines[::2], lines[1::2], strict=True)
        ]
    return pairs


def test_bulk_bodies_ids_and_mapping(es: EsDouble) -> None:
    indexer = ElasticIndexer(es.url, "Kube-Burner", chunk_size=100)
    docs = metric_docs(250)
    result = indexer.index_documents(iter(docs))
    assert (result.indexed, result.failed, result.reason) == (250, 0, "")
    create = [r for r in es.state.requests if r.method == "PUT" and r.path == "/kube-burner"]
    assert len(create) == 1
    body = json.loads(create[0].body)
    assert body["mappings"]["properties"] == {
        "timestamp": {"type": "date"},
        "value": {"type": "double"},
    }
    assert len(es.state.bulk_bodies()) == 3  # chunked
    pairs = bulk_lines(es)
    assert [source for _, source in pairs] == docs  # every field, in order
    for action, source in pairs:
        meta = action["index"]
        assert meta["_index"] == "kube-burner"
        canonical = json.dumps(source, sort_keys=True, separators=(",", ":")).encode()
        assert meta["_id"] == hashlib.sha256(canonical).hexdigest() == document_id(source)
    bulk = next(r for r in es.state.requests if r.path.endswith("/_bulk"))
    assert "x-ndjson" in bulk.headers["content-type"]
    indexer.close()


def test_reindexing_is_idempotent(es: EsDouble) -> None:
    indexer = ElasticIndexer(es.url, "kb")
    docs = metric_docs(40)
    assert indexer.index_documents(docs).indexed == 40
    assert indexer.index_documents(docs).indexed == 40
    assert len(es.docs("kb")) == 40  # same ids: overwritten, not duplicated


def test_credentials_are_sent_but_never_shown(es: EsDouble) -> None:
    with_creds = es.url.replace("http://", "http://elastic:s3cr%40t@")
    indexer = ElasticIndexer(with_creds, "kb", env={})
    assert "s3cr" not in repr(indexer) and "s3cr" not in str(indexer.servers)
    indexer.index_documents(metric_docs(1))
    assert es.state.requests[0].headers["authorization"] == "Basic ZWxhc3RpYzpzM2NyQHQ="
    keyed = ElasticIndexer(es.url, "kb", env={"ES_API_KEY": "a2V5"})
    keyed.index_documents(metric_docs(1))
    assert es.state.requests[-1].headers["authorization"] == "ApiKey a2V5"
    assert "a2V5" not in repr(keyed)


def test_server_error_counts_every_document_not_indexed(es: EsDouble) -> None:
    es.state.fail_status = 500
    result = ElasticIndexer(es.url, "kb").index_documents(metric_docs(30))
    assert (result.indexed, result.failed) == (0, 30)
    assert result.summary().startswith("30 documents not indexed: HTTP 500")


def test_failure_mid_stream_stops_and_counts_the_rest(es: EsDouble) -> None:
    es.state.fail_bulk_after = 1
    result = ElasticIndexer(es.url, "kb", chunk_size=100).index_documents(metric_docs(450))
    assert (result.indexed, result.failed) == (100, 350)
    assert es.state.bulk_count == 2  # no hammering a failing server


def test_server_down(tmp_path: Path) -> None:
    down = EsDouble()
    down.stop()  # the port is closed
    result = ElasticIndexer(down.url, "kb").index_documents(metric_docs(7))
    assert (result.indexed, result.failed, result.reason) == (0, 7, "connection refused")


def session_dir(tmp_path: Path) -> Path:
    """A metrics directory as a session leaves it: ours, the measurements' and jobSummary."""
    local = LocalIndexer(tmp_path)
    local.append("APIRequestRate", metric_docs(5, "job-1"))
    local.append("APIRequestRate", metric_docs(5, "job-2"))
    local.append("alert", [{"metricName": "alert", "severity": "error", "uuid": "u-1"}])
    writer = ArrayFileWriter(tmp_path / "podLatencyMeasurement-job-1.json")
    for i in range(4):
        writer.append({"metricName": "podLatencyMeasurement", "podReadyLatency": i})
    writer.close()
    append_job_summary(tmp_path / "jobSummary.json", {"metricName": "jobSummary", "uuid": "u-1"})
    return tmp_path


def test_pipeline_finish_indexes_every_session_file(es: EsDouble, tmp_path: Path) -> None:
    indexer = ElasticIndexer(es.url, "kb")
    pipeline = ObservabilityPipeline(tmp_path, "u-1", es=indexer)
    session_dir(tmp_path)
    result = pipeline.finish()
    assert (result.es_indexed, result.es_failed, result.warnings) == (16, 0, [])
    names = sorted({d["metricName"] for d in es.docs("kb").values()})
    assert names == ["APIRequestRate", "alert", "jobSummary", "podLatencyMeasurement"]
    requests = len(es.state.requests)
    assert pipeline.finish() is result  # idempotent
    assert len(es.state.requests) == requests


def test_pipeline_finish_with_es_down_keeps_local_files(tmp_path: Path) -> None:
    down = EsDouble()
    down.stop()
    pipeline = ObservabilityPipeline(tmp_path, "u-1", es=ElasticIndexer(down.url, "kb"))
    session_dir(tmp_path)
    result = pipeline.finish()
    assert (result.es_indexed, result.es_failed) == (0, 16)
    assert result.warnings == ["16 documents not indexed: connection refused"]
    assert len(json.loads((tmp_path / "APIRequestRate.json").read_text())) == 10


def run_cli(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "pytest_kubevirt_burner", *args],
        capture_output=True, text=True, timeout=60, cwd=ROOT, check=False,
    )  # fmt: skip


def test_reindex_command_end_to_end(es: EsDouble, tmp_path: Path) -> None:
    session_dir(tmp_path)
    cut = tmp_path / "nodeCPU.json"
    cut.write_bytes(b'[\n{"metricName":"nodeCPU","value":1.0},\n{"metricName":"nodeCPU","val')
    proc = run_cli("index", str(tmp_path), "--es-server", es.url, "--es-index", "kb")
    assert proc.returncode == 0, proc.stderr
    assert "17 documents from 5 files indexed into kb" in proc.stdout
    assert "nodeCPU.json: repaired an unterminated array" in proc.stdout
    assert json.loads(cut.read_text()) == [{"metricName": "nodeCPU", "value": 1.0}]
    assert len(es.docs("kb")) == 17
    again = run_cli("index", str(tmp_path), "--es-server", es.url, "--es-index", "kb")
    assert again.returncode == 0 and len(es.docs("kb")) == 17


def test_reindex_command_failures(es: EsDouble, tmp_path: Path) -> None:
    session_dir(tmp_path)
    es.state.fail_status = 500
    proc = run_cli("index", str(tmp_path), "--es-server", es.url, "--es-index", "kb")
    assert proc.returncode == 1
    assert (
        proc.stderr.strip().splitlines()[-1].startswith("error: 16 documents not indexed: HTTP 500")
    )
    usage = run_cli("index", str(tmp_path), "--es-index", "kb")
    assert usage.returncode == 2
    assert len(usage.stderr.strip().splitlines()) == 1 and "--es-server" in usage.stderr
    empty = run_cli("index", str(tmp_path / "nope"), "--es-server", es.url, "--es-index", "kb")
    assert empty.returncode == 2 and "is not a directory" in empty.stderr


@pytest.mark.skipif(
    not os.environ.get("ES_SERVER"),
    reason="set ES_SERVER=<url> to run against a real Elasticsearch",
)
def test_real_elasticsearch(tmp_path: Path) -> None:
    index = f"pytest-kubevirt-burner-{uuidlib.uuid4().hex[:8]}"
    indexer = ElasticIndexer(os.environ["ES_SERVER"], index, verify=False)
    try:
        result = indexer.index_documents(metric_docs(20))
        assert (result.indexed, result.failed) == (20, 0), result.reason
        indexer.client.indices.refresh(index=index)
        assert indexer.client.count(index=index)["count"] == 20
        mapping = indexer.client.indices.get_mapping(index=index)[index]["mappings"]
        assert mapping["properties"]["value"]["type"] == "double"
        assert mapping["properties"]["uuid"]["fields"]["keyword"]["type"] == "keyword"
    finally:
        indexer.client.indices.delete(index=index, ignore_unavailable=True)
        indexer.close()
