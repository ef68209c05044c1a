"""Pick the indexer for a search server from its own answer to ``GET /`` (or the config's type).

Elasticsearch answers ``version.number`` (no ``distribution``) and the ``X-Elastic-Product:
Elasticsearch`` header; OpenSearch answers ``version.distribution: opensearch`` (also when it
reports 7.10.2 for compatibility) and no such header.
"""

from __future__ import annotations

import base64
import os
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import requests

from ..measurements.writer import Doc
from .base import (
    BulkIndexer,
    IndexerError,
    IndexResult,
    Preparer,
    check_index_name,
    index_files,
    one_line,
    resolve_auth,
)
from .local import iter_documents

__all__ = ["KINDS", "AutoIndexer", "ServerInfo", "open_indexer", "probe"]

KINDS = ("elastic", "opensearch")
"""kube-burner's ``indexerConfig.type`` values for a search server."""
SUPPORTED = {"Elasticsearch": "7.17, 8.x, 9.x", "OpenSearch": "1.x, 2.x, 3.x"}


@dataclass(frozen=True, slots=True)
class ServerInfo:
    """What a search server says about itself."""

    url: str
    family: str
    """``Elasticsearch`` or ``OpenSearch``."""
    version: str
    major: int
    minor: int

    def __str__(self) -> str:
        return f"{self.family} {self.version}"


def _version(number: str) -> tuple[int, int]:
    parts = number.split("-")[0].split(".")
    try:
        return int(parts[0]), int(parts[1]) if len(parts) > 1 else 0
    except ValueError:
        raise ValueError(number) from None


def _auth_header(basic: tuple[str, str] | None, api_key: str | None) -> dict[str, str]:
    if api_key:
        return {"Authorization": f"ApiKey {api_key}"}
    if basic is not None:
        token = base64.b64encode(f"{basic[0]}:{basic[1]}".encode()).decode()
        return {"Authorization": f"Basic {token}"}
    return {}


def probe(
    url: str,
    *,
    basic: tuple[str, str] | None = None,
    api_key: str | None = None,
    verify: bool | str = True,
    timeout: float = 10.0,
) -> ServerInfo:
    """``GET /`` on ``url`` (credentials removed); IndexerError with a one-line reason."""
    try:
        resp = requests.get(
            url.rstrip("/") + "/",
            headers={"Accept": "application/json", **_auth_header(basic, api_key)},
            timeout=timeout,
            verify=verify,
        )
    except requests.exceptions.SSLError as exc:
        raise IndexerError(url, f"TLS error: {one_line(str(exc), 200)}") from None
    except requests.exceptions.Timeout:
        raise IndexerError(url, f"no answer within {timeout:g} s") from None
    except requests.exceptions.RequestException as exc:
        text = str(exc)
        why = "connection refused" if "Connection refused" in text else one_line(text, 200)
        raise IndexerError(url, f"unreachable: {why}") from None
    try:
        body: Any = resp.json()
    except ValueError:
        body = None
    if resp.status_code in (401, 403):
        detail = ""
        if isinstance(body, Mapping) and isinstance(body.get("error"), Mapping):
            detail = f": {body['error'].get('type', '')}"
        what = "authentication failed" if resp.status_code == 401 else "access denied"
        raise IndexerError(url, f"HTTP {resp.status_code}{detail}: {what} (check the credentials)")
    if resp.status_code >= 500:
        error = body.get("error") if isinstance(body, Mapping) else None
        detail = (
            f" {error.get('type', '')}: {error.get('reason', '')}"
            if isinstance(error, Mapping)
            else f" {resp.reason}"
        )
        raise IndexerError(url, f"HTTP {resp.status_code}{detail}")
    version = body.get("version") if isinstance(body, Mapping) else None
    number = version.get("number") if isinstance(version, Mapping) else None
    if not resp.ok or not isinstance(number, str):
        raise IndexerError(
            url,
            f"not an Elasticsearch or OpenSearch server"
            f" (GET / answered HTTP {resp.status_code} without a version number)",
        )
    assert isinstance(version, Mapping)
    distribution = str(version.get("distribution") or "")
    tagline = str(body.get("tagline") or "") if isinstance(body, Mapping) else ""
    if distribution.lower() == "opensearch" or "OpenSearch" in tagline:
        family = "OpenSearch"
    elif resp.headers.get("X-Elastic-Product") == "Elasticsearch" or not distribution:
        family = "Elasticsearch"
    else:
        raise IndexerError(url, f"unknown search server distribution {distribution!r}")
    try:
        major, minor = _version(number)
    except ValueError:
        raise IndexerError(url, f"unreadable version number {number!r}") from None
    info = ServerInfo(url, family, number, major, minor)
    if family == "Elasticsearch" and (major < 7 or (major == 7 and minor < 14)):
        raise IndexerError(
            url, f"{info} is not supported (Elasticsearch {SUPPORTED['Elasticsearch']})"
        )
    return info


def open_indexer(
    servers: str | Sequence[str],
    index: str,
    *,
    kind: str | None = None,
    verify: bool = True,
    ca_certs: str | None = None,
    env: Mapping[str, str] = os.environ,
    chunk_size: int = 500,
    request_timeout: float = 30.0,
    max_retries: int = 2,
) -> tuple[BulkIndexer, ServerInfo]:
    """Probe the servers and return the indexer that fits the first one answering.

    ``kind`` is kube-burner's ``indexer.type`` (``elastic``/``opensearch``); the server's own
    answer wins when they disagree. ValueError for bad input, IndexerError for the server.
    """
    if kind is not None and kind not in KINDS:
        raise ValueError(
            f"indexer type {kind!r} is not a search server (expected elastic or opensearch)"
        )
    urls = [servers] if isinstance(servers, str) else list(servers)
    if not urls:
        raise ValueError("no search server given")
    check_index_name(index)
    clean, basic = resolve_auth(urls, None, None, env)
    api_key = env.get("ES_API_KEY") or None
    tls: bool | str = (ca_certs or True) if verify else False
    first: IndexerError | None = None
    info: ServerInfo | None = None
    for url in clean:
        try:
            info = probe(url, basic=basic, api_key=api_key, verify=tls, timeout=request_timeout)
            break
        except IndexerError as exc:
            first = first or exc
    if info is None:
        assert first is not None
        raise first
    common: dict[str, Any] = {
        "verify": verify,
        "ca_certs": ca_certs,
        "env": env,
        "chunk_size": chunk_size,
        "request_timeout": request_timeout,
        "max_retries": max_retries,
    }
    indexer: BulkIndexer
    if info.family == "OpenSearch":
        from .opensearch import OpenSearchIndexer

        indexer = OpenSearchIndexer(urls, index, **common)
    else:
        from .elasticsearch import ElasticIndexer

        indexer = ElasticIndexer(urls, index, server_major=info.major, **common)
    return indexer, info


class AutoIndexer:
    """An indexer that probes the server on first use; failures become counted documents.

    Used at the end of a session: an unreachable or wrong server never raises, it reports
    ``N documents not indexed: <server>: <reason>`` and the result files stay as they are.
    """

    def __init__(
        self, servers: str | Sequence[str], index: str, *, kind: str | None = None, **kw: Any
    ) -> None:
        self.urls = [servers] if isinstance(servers, str) else list(servers)
        self.index = check_index_name(index)
        if kind is not None and kind not in KINDS:
            raise ValueError(f"indexer type {kind!r} is not a search server")
        clean, basic = resolve_auth(self.urls, None, None, kw.get("env", os.environ))
        self.servers = clean
        self.kind = kind
        self.auth_kind = "basic" if basic else "none"
        self._kw = kw
        self.inner: BulkIndexer | None = None
        self.info: ServerInfo | None = None
        self.error = ""

    def __repr__(self) -> str:
        return (
            f"AutoIndexer(servers={self.servers!r}, index={self.index!r}, auth={self.auth_kind!r})"
        )

    @property
    def where(self) -> str:
        """The server and index for messages (never credentials)."""
        family = str(self.info.family) if self.info else "search server"
        return f"{family} {', '.join(self.servers)} (index {self.index})"

    def connect(self) -> BulkIndexer | None:
        """Probe once; None (and ``error`` set) when the server cannot be used."""
        if self.inner is None and not self.error:
            try:
                self.inner, self.info = open_indexer(
                    self.urls, self.index, kind=self.kind, **self._kw
                )
            except IndexerError as exc:
                self.error = exc.reason if len(self.servers) == 1 else str(exc)
            except ValueError as exc:
                self.error = str(exc)
        return self.inner

    def index_documents(self, docs: Iterable[Doc]) -> IndexResult:
        """Stream ``docs`` to the server, or count them as not indexed when it is unusable."""
        inner = self.connect()
        if inner is None:
            return IndexResult(0, sum(1 for _ in docs), self.error)
        return inner.index_documents(docs)

    def index_files(
        self, paths: Iterable[Path], prepare: Preparer | None = None
    ) -> tuple[IndexResult, list[str]]:
        """Index every file (streamed); the total and one warning per damaged file."""
        return index_files(self.index_documents, paths, prepare)

    def close(self) -> None:
        """Close the inner client."""
        if self.inner is not None:
            self.inner.close()


def count_documents(paths: Iterable[Path]) -> int:
    """How many documents the result files hold (streamed)."""
    return sum(sum(1 for _ in iter_documents(p)) for p in paths)
