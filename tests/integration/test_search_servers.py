"""Indexer selection, media types, retries and failure messages per server family.

Uses the HTTP doubles of ``tests/esdouble.py`` with the real clients; the opt-in tests at the
end run against real servers named by environment variables.
"""

from __future__ import annotations

import os
import uuid as uuidlib
from collections.abc import Iterator
from typing import Any

import pytest

from pytest_kubevirt_burner.indexers.base import BulkIndexer, IndexerError
from pytest_kubevirt_burner.indexers.elasticsearch import ElasticIndexer
from pytest_kubevirt_burner.indexers.opensearch import OpenSearchIndexer
from pytest_kubevirt_burner.indexers.select import AutoIndexer, open_indexer, probe

from ..esdouble import FLAVORS, EsDouble

PASSWORD = "s3cr3t-pw"


def docs(n: int) -> list[dict[str, Any]]:
    return [
        {"timestamp": "2026-01-01T00:00:00Z", "value": float(i), "uuid": "u", "metricName": "m"}
        for i in range(n)
    ]


@pytest.fixture(params=list(FLAVORS))
def double(request: pytest.FixtureRequest) -> Iterator[EsDouble]:
    with EsDouble(request.param) as es:
        yield es


def opened(es: EsDouble, index: str = "kb", **kw: Any) -> BulkIndexer:
    indexer, _ = open_indexer(es.url, index, env={}, **kw)
    indexer.retry_backoff = 0.01
    return indexer


def test_probe_tells_the_family_and_version(double: EsDouble) -> None:
    info = probe(double.url)
    flavor = double.state.flavor
    assert (info.family, info.version, info.major) == (flavor.family, flavor.number, flavor.major)


def test_each_family_gets_its_client_and_media_types(double: EsDouble) -> None:
    indexer = opened(double, chunk_size=10)
    result = indexer.index_documents(docs(25))
    assert (result.indexed, result.failed) == (25, 0)
    assert len(double.docs("kb")) == 25
    sent = [r for r in double.state.requests if r.path != "/"]  # GET / is the probe
    media = {r.headers.get(h, "") for r in sent for h in ("accept", "content-type")}
    major = double.state.flavor.major
    if double.state.flavor.family == "OpenSearch":
        assert isinstance(indexer, OpenSearchIndexer)
        assert not any("vnd.elasticsearch" in m for m in media)
    else:
        assert isinstance(indexer, ElasticIndexer)
        compat = {m.split("compatible-with=")[1] for m in media if "compatible-with" in m}
        assert compat == (set() if major == 7 else {str(major)})
    indexer.close()


@pytest.mark.parametrize("flavor", ["es7", "es8", "os1", "os3"])
def test_the_es9_client_alone_is_refused(flavor: str) -> None:
    """Why the indexer adapts: ES 8/7 refuse compatible-with=9; OpenSearch the vendor type."""
    with EsDouble(flavor) as es:
        result = ElasticIndexer(es.url, "kb", env={}).index_documents(docs(3))
        assert (result.indexed, result.failed) == (0, 3)
        assert es.docs("kb") == {}


def test_es8_double_answers_like_es8_to_a_newer_client() -> None:
    with EsDouble("es8") as es:
        import requests

        resp = requests.put(
            f"{es.url}/kb",
            data=b"{}",
            headers={
                "Accept": "application/vnd.elasticsearch+json; compatible-with=9",
                "Content-Type": "application/vnd.elasticsearch+json; compatible-with=9",
            },
            timeout=5,
        )
        assert resp.status_code == 400
        error = resp.json()["error"]
        assert error["type"] == "media_type_header_exception"
        assert error["caused_by"]["reason"].startswith(
            "Accept version must be either version 8 or 7, but found 9."
        )
        assert resp.headers["X-Elastic-Product"] == "Elasticsearch"


@pytest.mark.parametrize("flavor", ["es9", "os2"])
def test_throttled_bulk_requests_are_retried(flavor: str) -> None:
    with EsDouble(flavor) as es:
        es.state.throttle_bulk = 2
        result = opened(es, chunk_size=50).index_documents(docs(120))
        assert (result.indexed, result.failed) == (120, 0)
        assert es.state.bulk_count == 3 + 2  # three chunks, two refused and sent again
        assert len(es.docs("kb")) == 120


@pytest.mark.parametrize("flavor", ["es7", "os1"])
def test_throttled_documents_are_retried_with_backoff(flavor: str) -> None:
    with EsDouble(flavor) as es:
        es.state.throttle_items = 7
        result = opened(es, chunk_size=50).index_documents(docs(100))
        assert (result.indexed, result.failed, result.reason) == (100, 0, "")
        assert len(es.docs("kb")) == 100


def test_read_only_index_stops_after_one_refused_chunk(double: EsDouble) -> None:
    double.state.read_only.add("kb")
    result = opened(double, chunk_size=20).index_documents(docs(100))
    assert (result.indexed, result.failed) == (0, 100)
    assert result.reason == (
        "HTTP 403 cluster_block_exception: index [kb] blocked by: [FORBIDDEN/8/index write (api)];"
    )
    assert double.state.bulk_count == 1


def test_credentials_are_required_and_never_shown(double: EsDouble) -> None:
    double.state.credentials = "Basic ZWxhc3RpYzpzM2NyM3QtcHc="  # elastic:s3cr3t-pw
    with pytest.raises(IndexerError) as info:
        open_indexer(double.url, "kb", env={})
    assert str(info.value) == (
        f"{double.url}: HTTP 401"
        + (": security_exception" if double.state.flavor.family == "Elasticsearch" else "")
        + ": authentication failed (check the credentials)"
    )
    wrong = double.url.replace("http://", "http://elastic:wrong@")
    with pytest.raises(IndexerError) as bad:
        open_indexer(wrong, "kb", env={})
    assert "wrong" not in str(bad.value) and "HTTP 401" in str(bad.value)
    good = double.url.replace("http://", f"http://elastic:{PASSWORD}@")
    indexer, _ = open_indexer(good, "kb", env={})
    assert indexer.index_documents(docs(3)).indexed == 3
    assert PASSWORD not in repr(indexer) and PASSWORD not in indexer.where


def test_not_a_search_server() -> None:
    with EsDouble() as es:
        es.state.not_a_search_server = True
        with pytest.raises(IndexerError) as info:
            open_indexer(es.url, "kb", env={})
        assert str(info.value) == (
            f"{es.url}: not an Elasticsearch or OpenSearch server"
            " (GET / answered HTTP 200 without a version number)"
        )


@pytest.mark.parametrize(
    ("name", "message"),
    [
        ("perf results", "index name 'perf results' must not contain ' '"),
        ("_perf", "index name '_perf' must not start with '_'"),
        ("a/b", "index name 'a/b' must not contain '/'"),
        ("  ", "no index name given"),
    ],
)
def test_wrong_index_name_is_refused_before_anything_is_sent(name: str, message: str) -> None:
    with EsDouble() as es:
        with pytest.raises(ValueError, match=f"^{message}$"):
            open_indexer(es.url, name, env={})
        assert es.state.requests == []


def test_unreachable_server_counts_documents_and_names_the_server() -> None:
    down = EsDouble()
    down.stop()
    with pytest.raises(IndexerError, match=r": unreachable: connection refused$"):
        open_indexer(down.url, "kb", env={})
    auto = AutoIndexer(down.url.replace("http://", f"http://u:{PASSWORD}@"), "kb", env={})
    result = auto.index_documents(iter(docs(9)))
    assert (result.indexed, result.failed, result.reason) == (
        0,
        9,
        "unreachable: connection refused",
    )
    assert auto.where == f"search server {down.url} (index kb)"
    assert PASSWORD not in repr(auto)


def test_config_type_and_server_answer(double: EsDouble) -> None:
    """kube-burner's ``type`` names the expected family; the server's own answer decides."""
    for kind in ("elastic", "opensearch"):
        indexer, info = open_indexer(double.url, "kb", kind=kind, env={})
        assert info.family == double.state.flavor.family
        indexer.close()
    with pytest.raises(ValueError, match="indexer type 'local' is not a search server"):
        open_indexer(double.url, "kb", kind="local", env={})


# -- real servers (opt-in) ------------------------------------------------------------------------
REAL = ["ES_SERVER", "ES7_SERVER", "ES8_SERVER", "OS_SERVER", "OS1_SERVER", "OS3_SERVER"]


@pytest.mark.parametrize("variable", REAL)
def test_real_server(variable: str) -> None:
    url = os.environ.get(variable)
    if not url:
        pytest.skip(f"set {variable}=<url> to run against a real server")
    index = f"pytest-kubevirt-burner-{uuidlib.uuid4().hex[:8]}"
    indexer, info = open_indexer(url, index, verify=False)
    try:
        result = indexer.index_documents(docs(20))
        assert (result.indexed, result.failed) == (20, 0), result.reason
        again = indexer.index_documents(docs(20))
        assert again.failed == 0
        indexer.client.indices.refresh(index=index)
        assert indexer.client.count(index=index)["count"] == 20
        mapping = indexer.client.indices.get_mapping(index=index)[index]["mappings"]
        assert mapping["properties"]["value"]["type"] == "double"
        assert mapping["properties"]["uuid"]["fields"]["keyword"]["type"] == "keyword"
        print(f"{variable}: {info}")
    finally:
        indexer.client.indices.delete(index=index)
        indexer.close()
