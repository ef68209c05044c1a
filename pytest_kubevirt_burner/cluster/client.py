"""ClusterClient: any group/version/kind as plain dicts, over one shared official ApiClient.

Every call is thread-safe, decodes with orjson (no pydantic models), counts requests, retries and
throttling in ``client.stats`` (and in a per-call ``stats`` sink), and takes a token from the
given limiter before every attempt.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from typing import Any

import orjson
import urllib3
from kubernetes.client import Configuration

from .config import ClusterTarget, load_configuration, resolve_target
from .discovery import Discovery, ResourceInfo, split_api_version
from .errors import (
    ApiError,
    ClusterConfigError,
    ClusterError,
    ClusterUnreachableError,
    UnknownKindError,
)
from .ratelimit import TokenBucket
from .stats import RequestStats, StatsSink
from .transport import Query, RetryPolicy, Timeout, Transport
from .verbs import PatchType, ResourceVerbs

__all__ = [
    "UUID_LABEL",
    "ApiError",
    "ClusterClient",
    "ClusterConfigError",
    "ClusterError",
    "ClusterTarget",
    "ClusterUnreachableError",
    "PatchType",
    "ResourceInfo",
    "UnknownKindError",
    "resolve_target",
]

Obj = dict[str, Any]
UUID_LABEL = "kube-burner.io/uuid"
_VERB_BY_METHOD = {"GET": "get", "POST": "create", "PUT": "update", "PATCH": "patch"}


def _loads(data: bytes, what: str) -> Any:
    if not data:
        return {}
    try:
        return orjson.loads(data)
    except orjson.JSONDecodeError:
        raise ClusterError(f"{what}: the server answered with a non-JSON body") from None


class ClusterClient(ResourceVerbs):
    """Rate-limited, retrying access to one cluster; share one instance between threads."""

    def __init__(
        self,
        target: ClusterTarget,
        *,
        workers: int = 16,
        limiter: TokenBucket | None = None,
        retry: RetryPolicy | None = None,
        timeout: Timeout = (10.0, 60.0),
        user_agent: str = "pytest-kubevirt-burner",
    ) -> None:
        self.target = target
        self.server = target.server
        self.default_namespace = target.namespace
        self.limiter = limiter
        """Limiter used when a call passes none (None = not throttled)."""
        self.stats = RequestStats()
        configuration: Configuration = load_configuration(target)
        configuration.connection_pool_maxsize = max(1, workers)
        configuration.retries = False
        self._transport = Transport(
            configuration,
            target.server,
            retry=retry or RetryPolicy(),
            timeout=timeout,
            stats=self.stats,
            user_agent=user_agent,
        )
        self._discovery = Discovery(self._discovery_get)

    @classmethod
    def from_config(
        cls,
        kube_config: str | None = None,
        kube_context: str | None = None,
        *,
        env: Mapping[str, str] = os.environ,
        **kwargs: Any,
    ) -> ClusterClient:
        """Resolve the target (see ``resolve_target``) and build a client for it."""
        return cls(resolve_target(kube_config, kube_context, env), **kwargs)

    @property
    def configuration(self) -> Configuration:
        """The client's own Configuration (never the global default)."""
        configuration: Configuration = self._transport.api_client.configuration
        return configuration

    def close(self) -> None:
        """Close every pooled connection."""
        self._transport.close()

    def __enter__(self) -> ClusterClient:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def __repr__(self) -> str:
        return f"ClusterClient(server={self.server!r}, source={self.target.source!r})"

    # -- plumbing -----------------------------------------------------------------------------

    def _call(
        self,
        method: str,
        path: str,
        *,
        verb: str,
        query: Query | None = None,
        body: Any = None,
        content_type: str | None = None,
        limiter: TokenBucket | None = None,
        stats: StatsSink | None = None,
        retry: RetryPolicy | None = None,
    ) -> Any:
        payload = None if body is None else body if isinstance(body, bytes) else orjson.dumps(body)
        if payload is not None and content_type is None:
            content_type = "application/json"
        resp = self._transport.request(
            method,
            path,
            verb=verb,
            query=query,
            body=payload,
            content_type=content_type,
            limiter=limiter if limiter is not None else self.limiter,
            stats=stats,
            retry=retry,
        )
        return _loads(resp.data, f"{method} {path}")

    def _discovery_get(self, path: str) -> Any:
        return self._call("GET", path, verb="get", retry=RetryPolicy(max_retries=2))

    # -- discovery ----------------------------------------------------------------------------

    def discover(self, refresh: bool = False) -> dict[str, dict[str, ResourceInfo]]:
        """All served group/versions -> {kind: ResourceInfo} (cached)."""
        return self._discovery.discover(refresh)

    def resource_for(self, api_version: str, kind: str) -> ResourceInfo:
        """Resolve apiVersion/kind; raises UnknownKindError with a close-match suggestion."""
        return self._discovery.resource_for(api_version, kind)

    def server_version(self) -> Obj:
        """The server's /version document."""
        result: Obj = self._call("GET", "/version", verb="get")
        return result

    def node_count(self) -> int:
        """Number of Node objects."""
        return len(self.list("v1", "Node"))

    # -- CRUD ---------------------------------------------------------------------------------

    def create(
        self,
        obj: Obj,
        namespace: str | None = None,
        *,
        limiter: TokenBucket | None = None,
        dry_run: bool = False,
        stats: StatsSink | None = None,
    ) -> Obj:
        """POST ``obj``; a retried create that finds its own object (same uuid label) succeeds."""
        info = self.resource_for(obj["apiVersion"], obj["kind"])
        meta = obj.get("metadata") or {}
        ns = self._ns(info, namespace or meta.get("namespace"))
        name = meta.get("name")
        path = info.path(ns)
        try:
            resp = self._transport.request(
                "POST",
                path,
                verb="create",
                query=[("dryRun", "All")] if dry_run else None,
                body=orjson.dumps(obj),
                content_type="application/json",
                limiter=limiter if limiter is not None else self.limiter,
                stats=stats,
                # Without a name a lost response cannot be told apart from a duplicate.
                retry_maybe_sent=bool(name),
            )
        except ApiError as exc:
            if not (exc.is_already_exists and exc.retried and name and not dry_run):
                raise
            ours = (meta.get("labels") or {}).get(UUID_LABEL)
            existing = self.get(info.api_version, info.kind, name, ns, limiter=limiter, stats=stats)
            theirs = ((existing.get("metadata") or {}).get("labels") or {}).get(UUID_LABEL)
            if ours is None or ours != theirs:
                raise
            self.stats.add_deduplicated("create")
            if stats is not None:
                stats.add_deduplicated("create")
            return existing
        result: Obj = _loads(resp.data, f"POST {path}")
        return result

    def subresource(
        self,
        api_version_group: str,
        resource: str,
        name: str,
        namespace: str | None,
        sub: str,
        body: Any = None,
        method: str = "PUT",
        *,
        limiter: TokenBucket | None = None,
        stats: StatsSink | None = None,
    ) -> Any:
        """Call ``/apis/<group/version>/[namespaces/<ns>/]<resource>/<name>/<sub>`` directly
        (e.g. KubeVirt's ``subresources.kubevirt.io/v1`` virtualmachines/<vm>/start)."""
        info = ResourceInfo(
            *split_api_version(api_version_group), resource, "", namespace is not None
        )
        return self.raw(
            method, info.path(namespace, name, sub), body=body, limiter=limiter, stats=stats
        )

    def raw(
        self,
        method: str,
        path: str,
        query: Mapping[str, str] | Query | None = None,
        body: Any = None,
        *,
        content_type: str | None = None,
        limiter: TokenBucket | None = None,
        stats: StatsSink | None = None,
    ) -> Any:
        """Any request; dict/list bodies are JSON-encoded, the JSON answer is decoded."""
        method = method.upper()
        pairs = list(query.items()) if isinstance(query, Mapping) else list(query or [])
        verb = _VERB_BY_METHOD.get(method, method.lower())
        return self._call(
            method,
            path,
            verb=verb,
            query=pairs,
            body=body,
            content_type=content_type,
            limiter=limiter,
            stats=stats,
        )

    def open_stream(
        self,
        path: str,
        query: Query,
        *,
        read_timeout: float,
        limiter: TokenBucket | None = None,
        stats: StatsSink | None = None,
        retry: RetryPolicy | None = None,
    ) -> urllib3.BaseHTTPResponse:
        """Open a watch-style streaming GET on the dedicated stream pool (body left unread)."""
        resp, _ = self._transport.send(
            "GET",
            path,
            verb="watch",
            query=query,
            limiter=limiter,
            stats=stats,
            retry=retry,
            streaming=True,
            timeout=(self._transport.timeout[0], read_timeout),
        )
        return resp
