"""Elasticsearch indexer: kube-burner's single index, sha256 ids, streaming bulk, no data loss."""

from __future__ import annotations

import hashlib
import os
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import unquote, urlsplit, urlunsplit

import orjson
from elastic_transport import TransportError
from elasticsearch import ApiError, Elasticsearch, helpers

from ..measurements.writer import Doc
from .local import ReadStats, iter_documents

__all__ = ["INDEX_BODY", "ElasticIndexer", "IndexResult", "document_id"]

# Only the two fields whose dynamic mapping can go wrong are mapped; every string keeps the
# default text + .keyword multi-field the kube-burner dashboards query.
INDEX_BODY: dict[str, Any] = {
    "mappings": {
        "properties": {"timestamp": {"type": "date"}, "value": {"type": "double"}},
    }
}
_CANONICAL = orjson.OPT_SORT_KEYS | orjson.OPT_NON_STR_KEYS

Preparer = Callable[[list[Doc]], None]
"""Changes a batch of documents in place before it is indexed (the index_documents hook)."""


def prepared(docs: Iterable[Doc], prepare: Preparer, batch: int = 500) -> Iterator[Doc]:
    """``docs`` in batches of ``batch``, each passed through ``prepare`` before it is yielded."""
    chunk: list[Doc] = []
    for doc in docs:
        chunk.append(doc)
        if len(chunk) >= batch:
            prepare(chunk)
            yield from chunk
            chunk = []
    if chunk:
        prepare(chunk)
        yield from chunk


def document_id(doc: Mapping[str, Any]) -> str:
    """Hex sha256 of the document's canonical JSON (sorted keys): re-indexing is idempotent."""
    return hashlib.sha256(orjson.dumps(doc, option=_CANONICAL, default=str)).hexdigest()


@dataclass(frozen=True, slots=True)
class IndexResult:
    """Outcome of one indexing call: counts and, when something failed, a one-line reason."""

    indexed: int
    failed: int
    reason: str = ""

    def __add__(self, other: IndexResult) -> IndexResult:
        return IndexResult(
            self.indexed + other.indexed, self.failed + other.failed, self.reason or other.reason
        )

    def summary(self) -> str:
        """``N documents not indexed: <reason>`` or ``N documents indexed``."""
        if self.failed:
            return f"{self.failed} documents not indexed: {self.reason}"
        return f"{self.indexed} documents indexed"


def _split_credentials(url: str) -> tuple[str, str | None, str | None]:
    """Remove ``user:pass@`` from a URL (kube-burner's way of passing credentials)."""
    parts = urlsplit(url)
    if parts.username is None:
        return url, None, None
    host = parts.hostname or ""
    netloc = f"[{host}]" if ":" in host else host
    if parts.port is not None:
        netloc += f":{parts.port}"
    clean = urlunsplit((parts.scheme, netloc, parts.path, parts.query, parts.fragment))
    return clean, unquote(parts.username), unquote(parts.password or "")


def _reason(exc: BaseException) -> str:
    if isinstance(exc, ApiError):
        body = exc.body if isinstance(exc.body, Mapping) else {}
        error = body.get("error")
        detail = error.get("reason") if isinstance(error, Mapping) else None
        text = f"HTTP {exc.status_code} {exc.error}" + (f": {detail}" if detail else "")
        return " ".join(text.split())[:300]
    text = str(exc)
    if "Connection refused" in text:
        return "connection refused"
    return " ".join(f"{type(exc).__name__}: {text}".split())[:300]


class ElasticIndexer:
    """Indexes kube-burner documents into one Elasticsearch index with the official client."""

    def __init__(
        self,
        servers: str | Sequence[str],
        index: str,
        *,
        verify: bool = True,
        ca_certs: str | None = None,
        username: str | None = None,
        password: str | None = None,
        api_key: str | None = None,
        env: Mapping[str, str] = os.environ,
        chunk_size: int = 500,
        request_timeout: float = 30.0,
        max_retries: int = 2,
    ) -> None:
        urls = [servers] if isinstance(servers, str) else list(servers)
        if not urls:
            raise ValueError("no Elasticsearch server given")
        if not index.strip():
            raise ValueError("no Elasticsearch index given")
        self.index = index.strip().lower()
        self.chunk_size = chunk_size
        clean: list[str] = []
        url_user: tuple[str, str] | None = None
        for url in urls:
            plain, user, secret = _split_credentials(url)
            clean.append(plain)
            if user is not None and url_user is None:
                url_user = (user, secret or "")
        self.servers = clean
        api_key = api_key or env.get("ES_API_KEY") or None
        if username is None and env.get("ES_USERNAME"):
            username, password = env["ES_USERNAME"], env.get("ES_PASSWORD", "")
        basic = (username, password or "") if username is not None else url_user
        kwargs: dict[str, Any] = {
            "request_timeout": request_timeout,
            "max_retries": max_retries,
            "retry_on_timeout": True,
            "verify_certs": verify,
        }
        if not verify:
            kwargs["ssl_show_warn"] = False
        if ca_certs:
            kwargs["ca_certs"] = ca_certs
        if api_key:
            kwargs["api_key"] = api_key
        elif basic is not None:
            kwargs["basic_auth"] = basic
        self.auth_kind = "api_key" if api_key else "basic" if basic else "none"
        self.client = Elasticsearch(clean, **kwargs)
        self._index_ready = False

    def __repr__(self) -> str:
        auth = self.auth_kind
        return f"ElasticIndexer(servers={self.servers!r}, index={self.index!r}, auth={auth!r})"

    def close(self) -> None:
        """Close the client's connections."""
        self.client.close()

    def ensure_index(self) -> None:
        """Create the index with its mapping when it does not exist (raises on failure)."""
        if self._index_ready:
            return
        if not self.client.indices.exists(index=self.index):
            try:
                self.client.indices.create(index=self.index, **INDEX_BODY)
            except ApiError as exc:
                if exc.error != "resource_already_exists_exception":
                    raise
        self._index_ready = True

    def _actions(self, docs: Iterable[Doc], counter: list[int]) -> Iterator[Doc]:
        for doc in docs:
            counter[0] += 1
            yield doc

    def _expand(self, doc: bytes | str | Doc) -> tuple[dict[str, Any], bytes | Doc | None]:
        assert isinstance(doc, dict)
        return (
            {"index": {"_index": self.index, "_id": document_id(doc)}},
            orjson.dumps(doc, option=orjson.OPT_NON_STR_KEYS, default=str),
        )

    def index_documents(self, docs: Iterable[Doc]) -> IndexResult:
        """Stream ``docs`` into the index; never raises for server or network failures."""
        source = iter(docs)
        try:
            self.ensure_index()
        except (ApiError, TransportError) as exc:
            return IndexResult(0, sum(1 for _ in source), _reason(exc))
        pulled = [0]
        indexed = 0
        reason = ""
        try:
            for ok, item in helpers.streaming_bulk(
                self.client,
                self._actions(source, pulled),
                chunk_size=self.chunk_size,
                expand_action_callback=self._expand,
                raise_on_error=False,
                raise_on_exception=False,
                max_retries=2,
                initial_backoff=1,
                yield_ok=True,
            ):
                if ok:
                    indexed += 1
                    continue
                info: dict[str, Any] = next(iter(item.values()), {})
                if not reason:
                    reason = _item_reason(info)
                if "exception" in info:
                    break  # the whole request failed: keep the rest for a later re-index
        except (ApiError, TransportError) as exc:
            reason = reason or _reason(exc)
        remaining = sum(1 for _ in source)
        return IndexResult(indexed, pulled[0] - indexed + remaining, reason)

    def index_files(
        self, paths: Iterable[Path], prepare: Preparer | None = None
    ) -> tuple[IndexResult, list[str]]:
        """Index every file (streamed); returns the total and one warning per damaged file.

        ``prepare`` (when given) sees every batch of documents before it is indexed.
        """
        total = IndexResult(0, 0)
        warnings: list[str] = []
        for path in paths:
            stats = ReadStats()
            docs: Iterable[Doc] = iter_documents(path, stats)
            if prepare is not None:
                docs = prepared(docs, prepare, self.chunk_size)
            try:
                total += self.index_documents(docs)
            except OSError as exc:
                warnings.append(f"{path}: cannot read: {exc.strerror or exc}")
                continue
            if stats.unterminated or stats.dropped_lines:
                warnings.append(
                    f"{path}: file was cut short ({stats.dropped_lines} unreadable lines skipped)"
                )
        return total, warnings


def _item_reason(info: Mapping[str, Any]) -> str:
    exc = info.get("exception")
    if isinstance(exc, BaseException):
        return _reason(exc)
    error = info.get("error")
    if isinstance(error, Mapping):
        text = f"{error.get('type', 'error')}: {error.get('reason', '')}"
    else:
        text = str(error)
    return " ".join(f"HTTP {info.get('status', '?')} {text}".split())[:300]
