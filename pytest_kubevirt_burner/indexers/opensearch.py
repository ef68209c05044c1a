"""OpenSearch 1.x, 2.x and 3.x with the ``opensearch-py`` client (no product check, plain JSON)."""

from __future__ import annotations

import os
from collections.abc import Callable, Iterable, Mapping, Sequence
from typing import Any

import orjson
from opensearchpy import OpenSearch, helpers
from opensearchpy.exceptions import ConnectionError as OsConnectionError
from opensearchpy.exceptions import TransportError

from ..measurements.writer import Doc
from .base import INDEX_BODY, BulkIndexer, one_line, resolve_auth

__all__ = ["OpenSearchIndexer"]


def _reason(exc: BaseException) -> str:
    if isinstance(exc, OsConnectionError):
        text = str(exc)
        return "connection refused" if "Connection refused" in text else one_line(text)
    if isinstance(exc, TransportError) and isinstance(exc.status_code, int):
        info = exc.info if isinstance(exc.info, Mapping) else {}
        error = info.get("error")
        kind = error.get("type") if isinstance(error, Mapping) else error
        detail = error.get("reason") if isinstance(error, Mapping) else None
        text = f"HTTP {exc.status_code} {kind or exc.error}" + (f": {detail}" if detail else "")
        return one_line(text)
    return one_line(f"{type(exc).__name__}: {exc}")


class OpenSearchIndexer(BulkIndexer):
    """Indexes kube-burner documents into one OpenSearch index with ``opensearch-py``."""

    family = "OpenSearch"
    errors = (TransportError,)

    def __init__(
        self,
        servers: str | Sequence[str],
        index: str,
        *,
        verify: bool = True,
        ca_certs: str | None = None,
        username: str | None = None,
        password: str | None = None,
        env: Mapping[str, str] = os.environ,
        chunk_size: int = 500,
        request_timeout: float = 30.0,
        max_retries: int = 2,
    ) -> None:
        urls = [servers] if isinstance(servers, str) else list(servers)
        clean, basic = resolve_auth(urls, username, password, env)
        super().__init__(clean, index, chunk_size)
        kwargs: dict[str, Any] = {
            "timeout": request_timeout,
            "max_retries": max_retries,
            "retry_on_timeout": True,
            "retry_on_status": (429, 502, 503, 504),
            "verify_certs": verify,
            "ssl_show_warn": verify,
        }
        if ca_certs:
            kwargs["ca_certs"] = ca_certs
        if basic is not None:
            kwargs["http_auth"] = basic
        self.auth_kind = "basic" if basic else "none"
        self.client = OpenSearch(clean, **kwargs)

    def _exists(self) -> bool:
        return bool(self.client.indices.exists(index=self.index))

    def _create(self) -> None:
        try:
            self.client.indices.create(index=self.index, body=INDEX_BODY)
        except TransportError as exc:
            if exc.error != "resource_already_exists_exception":
                raise

    def _bulk(self) -> Callable[..., Iterable[tuple[bool, Any]]]:
        return helpers.streaming_bulk

    def _source(self, doc: Doc) -> str:
        return orjson.dumps(doc, option=orjson.OPT_NON_STR_KEYS, default=str).decode()

    def reason(self, exc: BaseException) -> str:
        """One-line reason for an opensearch-py exception."""
        return _reason(exc)
