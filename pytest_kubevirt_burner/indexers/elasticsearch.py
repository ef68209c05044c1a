"""Elasticsearch 7.17, 8.x and 9.x with the official ``elasticsearch`` (9.x) client.

The N.x client sends ``compatible-with=N`` media types, which an older server refuses with a
400 (ES 8 accepts 7 and 8, ES 9 accepts 8 and 9). For an older server the client's transport
rewrites them per request: ``compatible-with=8`` for ES 8 and plain ``application/json`` /
``application/x-ndjson`` for ES 7. Everything else (product check, retries, the bulk helper)
is the client's own.
"""

from __future__ import annotations

import os
import re
from collections.abc import Callable, Iterable, Mapping, Sequence
from typing import Any

from elastic_transport import Transport, TransportApiResponse, TransportError
from elasticsearch import ApiError, Elasticsearch, helpers
from elasticsearch._version import __versionstr__

from .base import INDEX_BODY, BulkIndexer, IndexResult, document_id, one_line

__all__ = ["INDEX_BODY", "ElasticIndexer", "IndexResult", "compat_transport", "document_id"]

CLIENT_MAJOR = int(__versionstr__.split(".")[0])
_COMPAT = re.compile(r"application/vnd\.elasticsearch\+([\w-]+);\s*compatible-with=\d+")


def _rewrite(value: str, major: int) -> str:
    if major >= 8:
        return _COMPAT.sub(rf"application/vnd.elasticsearch+\1; compatible-with={major}", value)
    return _COMPAT.sub(r"application/\1", value)


def compat_transport(major: int) -> type[Transport]:
    """A Transport sending the media types an Elasticsearch ``major`` server accepts."""
    if major >= CLIENT_MAJOR:
        return Transport

    class CompatTransport(Transport):
        server_major = major

        def perform_request(
            self, method: str, target: str, *, headers: Any = None, **kwargs: Any
        ) -> TransportApiResponse:
            if headers:
                headers = headers.copy()
                for name in ("accept", "content-type"):
                    if name in headers:
                        headers[name] = _rewrite(headers[name], self.server_major)
            return super().perform_request(method, target, headers=headers, **kwargs)

    return CompatTransport


def _reason(exc: BaseException) -> str:
    if isinstance(exc, ApiError):
        body = exc.body if isinstance(exc.body, Mapping) else {}
        error = body.get("error")
        detail = error.get("reason") if isinstance(error, Mapping) else None
        cause = error.get("caused_by") if isinstance(error, Mapping) else None
        if isinstance(cause, Mapping) and cause.get("reason"):
            detail = f"{detail}: {cause['reason']}" if detail else cause["reason"]
        kind = exc.error if isinstance(exc.error, str) and exc.error != "None" else ""
        text = f"HTTP {exc.status_code} {kind}".rstrip() + (f": {detail}" if detail else "")
        return one_line(text)
    text = str(exc)
    if "Connection refused" in text:
        return "connection refused"
    if type(exc).__name__ == "UnsupportedProductError":
        return "the server is not Elasticsearch (no X-Elastic-Product header)"
    return one_line(f"{type(exc).__name__}: {text}")


class ElasticIndexer(BulkIndexer):
    """Indexes kube-burner documents into one Elasticsearch index with the official client.

    ``server_major`` (7, 8 or 9; default: the client's) selects the media types the server
    accepts.
    """

    family = "Elasticsearch"
    errors = (ApiError, TransportError)

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
        server_major: int = CLIENT_MAJOR,
    ) -> None:
        from .base import resolve_auth

        urls = [servers] if isinstance(servers, str) else list(servers)
        clean, basic = resolve_auth(urls, username, password, env)
        super().__init__(clean, index, chunk_size)
        api_key = api_key or env.get("ES_API_KEY") or None
        kwargs: dict[str, Any] = {
            "request_timeout": request_timeout,
            "max_retries": max_retries,
            "retry_on_timeout": True,
            "verify_certs": verify,
            "transport_class": compat_transport(server_major),
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
        self.server_major = server_major
        self.client = Elasticsearch(clean, **kwargs)

    def _exists(self) -> bool:
        return bool(self.client.indices.exists(index=self.index))

    def _create(self) -> None:
        try:
            self.client.indices.create(index=self.index, **INDEX_BODY)
        except ApiError as exc:
            if exc.error != "resource_already_exists_exception":
                raise

    def _bulk(self) -> Callable[..., Iterable[tuple[bool, Any]]]:
        return helpers.streaming_bulk

    def reason(self, exc: BaseException) -> str:
        """One-line reason for an elasticsearch/elastic-transport exception."""
        return _reason(exc)
