"""What a request means to the API server (verb, group, resource, scope); Status replies."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

import orjson
from aiohttp import web

from .errors import ApiError

TRUE_VALUES = frozenset({"1", "t", "T", "TRUE", "true", "True"})
APPLY_CONTENT_TYPE = "application/apply-patch+yaml"
NAMESPACE_SUBRESOURCES = frozenset({"status", "finalize"})
_INFO_KEY = "kube_sim.request_info"


@dataclass(frozen=True, slots=True)
class RequestInfo:
    """Classification of one request, as the real apiserver's RequestInfoFactory does it."""

    api: bool  # under /api or /apis (resource or discovery request)
    verb: str  # metrics verb: GET LIST WATCH POST PUT PATCH APPLY DELETE DELETECOLLECTION
    k8s_verb: str  # authorization verb: get list watch create update patch delete ...
    group: str = ""
    version: str = ""
    resource: str = ""
    subresource: str = ""
    namespace: str = ""
    name: str = ""
    dry_run: str = ""

    @property
    def scope(self) -> str:
        """``resource`` (named or create), ``namespace``, ``cluster`` or empty (non-resource)."""
        if not self.resource:
            return ""
        if self.name or self.k8s_verb == "create":
            return "resource"
        return "namespace" if self.namespace else "cluster"

    @property
    def long_running(self) -> bool:
        """Watches hold their connection; they take no inflight seat after they start."""
        return self.verb == "WATCH"

    @property
    def mutating(self) -> bool:
        """Whether the request writes (inflight ``request_kind="mutating"``)."""
        return self.k8s_verb not in ("get", "list", "watch")


_METHOD_VERBS = {
    "GET": "get",
    "HEAD": "get",
    "POST": "create",
    "PUT": "update",
    "PATCH": "patch",
    "DELETE": "delete",
}


def parse_request_info(
    method: str, path: str, query: Mapping[str, str], content_type: str = ""
) -> RequestInfo:
    """Classify a request from its method, path, query and content type."""
    method = method.upper()
    k8s_verb = _METHOD_VERBS.get(method, method.lower())
    parts = [p for p in path.split("/") if p]
    if not parts or parts[0] not in ("api", "apis"):
        return RequestInfo(False, method, k8s_verb)
    if parts[0] == "api":
        group, rest = "", parts[1:]
    else:
        group, rest = (parts[1] if len(parts) > 1 else ""), parts[2:]
    version, rest = (rest[0], rest[1:]) if rest else ("", [])
    watch = query.get("watch", "") in TRUE_VALUES
    if rest and rest[0] == "watch":
        watch, rest = True, rest[1:]
    namespace = ""
    if rest and rest[0] == "namespaces" and len(rest) > 1:
        namespace = rest[1]
        if len(rest) > 2 and rest[2] not in NAMESPACE_SUBRESOURCES:
            rest = rest[2:]
    if not rest:  # discovery (/api, /apis/group, /apis/group/version)
        return RequestInfo(True, method, k8s_verb, group, version)
    resource = rest[0]
    name = rest[1] if len(rest) > 1 else ""
    subresource = rest[2] if len(rest) > 2 else ""
    verb = method
    if method in ("GET", "HEAD"):
        if watch:
            verb, k8s_verb = "WATCH", "watch"
        elif not name:
            verb, k8s_verb = "LIST", "list"
    elif method == "PATCH" and content_type.startswith(APPLY_CONTENT_TYPE):
        verb = "APPLY"
    elif method == "DELETE" and not name:
        verb, k8s_verb = "DELETECOLLECTION", "deletecollection"
    dry_run = ",".join(sorted(v for v in query.get("dryRun", "").split(",") if v))
    return RequestInfo(
        True, verb, k8s_verb, group, version, resource, subresource, namespace, name, dry_run
    )


def request_info(request: web.BaseRequest) -> RequestInfo:
    """The RequestInfo of an aiohttp request (computed once per request)."""
    cached = request.get(_INFO_KEY)
    if isinstance(cached, RequestInfo):
        return cached
    info = parse_request_info(
        request.method, request.path, request.query, request.headers.get("Content-Type", "")
    )
    request[_INFO_KEY] = info
    return info


def status_response(err: ApiError) -> web.Response:
    """A metav1.Status JSON response for ``err`` (with its headers)."""
    return web.Response(
        status=err.code,
        body=orjson.dumps(err.status()),
        content_type="application/json",
        headers=err.headers,
    )
