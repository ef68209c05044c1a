"""An in-process HTTP double of the Elasticsearch/OpenSearch REST surface the indexers use.

``EsDouble()`` answers like ES 9; ``EsDouble(FLAVORS["os2"])`` etc. like the other families
(see ``Flavor``). It validates what the real servers validate (ndjson terminated by a
newline, action/source pairs, lowercase index names, NaN rejected per item, the
``compatible-with`` media types each major accepts) and records every request.

Behaviour per family, from the servers' sources and docs:

- ``GET /``: Elasticsearch answers ``version.number`` + ``build_flavor`` and the tagline
  "You Know, for Search"; OpenSearch adds ``version.distribution: opensearch`` and the tagline
  "The OpenSearch Project: https://opensearch.org/".
- ``X-Elastic-Product: Elasticsearch`` on every Elasticsearch answer (7.14 and later); never
  on OpenSearch.
- Elasticsearch N accepts ``application/vnd.elasticsearch+json; compatible-with=M`` for
  M in {N-1, N} (RestCompatibleVersionHelper) and answers 400 ``media_type_header_exception``
  otherwise, or when Accept and Content-Type ask for different versions. OpenSearch does not
  know the vendor media type: a body with it is answered 406 "Content-Type header [...] is
  not supported".
- Failure knobs: whole-request status, 429 for the first N bulk requests (``Retry-After``),
  429 per item, read-only indices (403 ``cluster_block_exception`` per item), required basic
  credentials (401: ES ``security_exception`` JSON, OpenSearch plain "Unauthorized").
"""

from __future__ import annotations

import json
import re
import threading
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qsl, urlsplit

_COMPAT = re.compile(r"compatible-with=(\d+)")
_WRITE_BLOCK = "FORBIDDEN/8/index write (api)"
_VENDOR = re.compile(r"application/vnd\.elasticsearch\+")


@dataclass(frozen=True)
class Flavor:
    """One server family and version as the double imitates it."""

    family: str
    """``Elasticsearch`` or ``OpenSearch``."""
    number: str

    @property
    def major(self) -> int:
        """The major version."""
        return int(self.number.split(".")[0])

    def info(self) -> dict[str, Any]:
        """The body of ``GET /``."""
        if self.family == "OpenSearch":
            return {
                "name": "fake-node",
                "cluster_name": "fake",
                "cluster_uuid": "fakeuuid",
                "version": {
                    "distribution": "opensearch",
                    "number": self.number,
                    "build_type": "tar",
                    "build_hash": "0" * 40,
                    "build_date": "2025-01-01T00:00:00.000000Z",
                    "build_snapshot": False,
                    "lucene_version": "9.12.1",
                    "minimum_wire_compatibility_version": "7.10.0",
                    "minimum_index_compatibility_version": "7.0.0",
                },
                "tagline": "The OpenSearch Project: https://opensearch.org/",
            }
        info: dict[str, Any] = json.loads(json.dumps(INFO))
        info["version"]["number"] = self.number
        return info


FLAVORS = {
    "es7": Flavor("Elasticsearch", "7.17.28"),
    "es8": Flavor("Elasticsearch", "8.19.2"),
    "es9": Flavor("Elasticsearch", "9.1.0"),
    "os1": Flavor("OpenSearch", "1.3.20"),
    "os2": Flavor("OpenSearch", "2.19.2"),
    "os3": Flavor("OpenSearch", "3.1.0"),
}

INFO = {
    "name": "fake-node",
    "cluster_name": "fake",
    "cluster_uuid": "fakeuuid",
    "version": {
        "number": "9.1.0",
        "build_flavor": "default",
        "build_type": "tar",
        "build_hash": "0" * 40,
        "build_date": "2025-01-01T00:00:00Z",
        "build_snapshot": False,
        "lucene_version": "10.2.2",
        "minimum_wire_compatibility_version": "8.19.0",
        "minimum_index_compatibility_version": "8.0.0",
    },
    "tagline": "You Know, for Search",
}


@dataclass
class Recorded:
    """One request as the double received it."""

    method: str
    path: str
    query: dict[str, str]
    headers: dict[str, str]
    body: bytes


@dataclass
class EsState:
    """Indices, documents and failure modes (mutate between requests from the test)."""

    indices: dict[str, dict[str, Any]] = field(default_factory=dict)
    """index -> {"body": create body, "docs": {id: source}}"""
    requests: list[Recorded] = field(default_factory=list)
    fail_status: int | None = None
    """Answer every request with this status (e.g. 500)."""
    fail_bulk_after: int | None = None
    """Let this many bulk requests succeed, then answer 500 to the next ones."""
    bulk_count: int = 0
    server_major: int = 9
    flavor: Flavor = field(default_factory=lambda: FLAVORS["es9"])
    throttle_bulk: int = 0
    """Answer this many of the next bulk requests with 429 (whole request)."""
    throttle_items: int = 0
    """Refuse this many of the next documents with a per-item 429."""
    read_only: set[str] = field(default_factory=set)
    """Indices whose writes are blocked (403 cluster_block_exception per item)."""
    credentials: str | None = None
    """Required ``Authorization`` header value (401 without it)."""
    not_a_search_server: bool = False
    """Answer like a plain web server (HTML on every path)."""
    keep: bool = True
    """Keep request bodies and documents (benchmarks turn it off to measure the client only)."""
    lock: threading.Lock = field(default_factory=threading.Lock)

    def bulk_bodies(self) -> list[bytes]:
        """Bodies of every _bulk request, in order."""
        return [r.body for r in self.requests if r.path.endswith("/_bulk")]


def _error(kind: str, reason: str, status: int, index: str | None = None) -> dict[str, Any]:
    cause: dict[str, Any] = {"type": kind, "reason": reason}
    if index:
        cause["index"] = index
    return {"error": {"root_cause": [cause], **cause}, "status": status}


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server: _Server

    def log_message(self, format: str, *args: Any) -> None:  # silence stderr
        return

    def _send(
        self,
        status: int,
        body: Any = None,
        *,
        head: bool = False,
        extra: dict[str, str] | None = None,
    ) -> None:
        flavor = self.server.state.flavor
        accept = self.headers.get("Accept", "")
        m = _COMPAT.search(accept)
        ctype = (
            f"application/vnd.elasticsearch+json;compatible-with={m.group(1)}"
            if m and flavor.family == "Elasticsearch"
            else "application/json; charset=UTF-8"
        )
        if isinstance(body, bytes):
            data, ctype = body, (extra or {}).pop("Content-Type", "text/plain; charset=UTF-8")
        else:
            data = b"" if body is None else json.dumps(body).encode()
        self.send_response(status)
        if flavor.family == "Elasticsearch" and not self.server.state.not_a_search_server:
            self.send_header("X-Elastic-Product", "Elasticsearch")
        for name, value in (extra or {}).items():
            self.send_header(name, value)
        self.send_header("Content-Type", ctype)
        self.send_header("Content-Length", "0" if head else str(len(data)))
        self.end_headers()
        if not head:
            self.wfile.write(data)

    def _handle(self) -> None:
        state = self.server.state
        length = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(length) if length else b""
        parts = urlsplit(self.path)
        rec = Recorded(
            self.command,
            parts.path,
            dict(parse_qsl(parts.query)),
            {k.lower(): v for k, v in self.headers.items()},
            body,
        )
        extra: dict[str, str] = {}
        with state.lock:
            if state.keep:
                state.requests.append(rec)
            status, answer = self._route(state, rec, extra)
        self._send(status, answer, head=self.command == "HEAD", extra=extra)

    def _route(self, state: EsState, rec: Recorded, extra: dict[str, str]) -> tuple[int, Any]:
        if state.not_a_search_server:
            extra["Content-Type"] = "text/html"
            return 200, b"<html><body>It works!</body></html>"
        if state.credentials is not None and rec.headers.get("authorization") != state.credentials:
            if state.flavor.family == "OpenSearch":
                return 401, b"Unauthorized"
            extra["WWW-Authenticate"] = 'Basic realm="security" charset="UTF-8"'
            return 401, _error(
                "security_exception",
                f"missing authentication credentials for REST request [{rec.path}]",
                401,
            )
        if state.fail_status is not None:
            return state.fail_status, _error("test_failure", "told to fail", state.fail_status)
        refused = self._media_types(state, rec)
        if refused is not None:
            return refused
        if rec.body and "content-type" not in rec.headers:
            return 400, _error("illegal_argument_exception", "missing Content-Type", 400)
        segs = [s for s in rec.path.split("/") if s]
        if not segs:
            if state.flavor == FLAVORS["es9"]:
                return 200, INFO
            return 200, state.flavor.info()
        if segs == ["_cluster", "health"]:
            return 200, {"cluster_name": "fake", "status": "green", "number_of_nodes": 1}
        if segs[0] == "_cluster" and len(segs) == 1:
            return 405, _error("illegal_argument_exception", "unsupported", 405)
        if segs[-1] == "_bulk" and rec.method in ("PUT", "POST"):
            return self._bulk(state, segs[0] if len(segs) == 2 else None, rec.body, extra)
        index = segs[0]
        if len(segs) == 1:
            return self._index_op(state, index, rec)
        if index not in state.indices:
            return 404, _error("index_not_found_exception", f"no such index [{index}]", 404, index)
        docs = state.indices[index]["docs"]
        if segs[1] == "_refresh":
            return 200, {"_shards": {"total": 2, "successful": 1, "failed": 0}}
        if segs[1] == "_count":
            return 200, {"count": len(docs)}
        if segs[1] == "_search":
            hits = [{"_index": index, "_id": i, "_source": d} for i, d in docs.items()]
            return 200, {"hits": {"total": {"value": len(hits), "relation": "eq"}, "hits": hits}}
        return 405, _error("illegal_argument_exception", f"unsupported {rec.path}", 405)

    def _media_types(self, state: EsState, rec: Recorded) -> tuple[int, Any] | None:
        flavor = state.flavor
        ctype = rec.headers.get("content-type", "")
        if flavor.family == "OpenSearch":
            if rec.body and _VENDOR.search(ctype):
                return 406, {
                    "error": f"Content-Type header [{ctype}] is not supported",
                    "status": 406,
                }
            return None
        current = state.server_major if flavor == FLAVORS["es9"] else flavor.major
        accept = _COMPAT.search(rec.headers.get("accept", ""))
        content = _COMPAT.search(ctype) if rec.body else None
        wanted = {"Accept": accept, "Content-Type": content}
        for name, m in wanted.items():
            if m and not current - 1 <= int(m.group(1)) <= current:
                value = rec.headers.get(name.lower(), "")
                return 400, _media_error(
                    f"{name} version must be either version {current} or {current - 1},"
                    f" but found {m.group(1)}. {name}={value}"
                )
        if accept and content and accept.group(1) != content.group(1):
            return 400, _media_error(
                "A compatible version is required on both Content-Type and Accept headers if"
                " either one has requested a compatible version and the compatible versions"
                " must match."
            )
        return None

    def _index_op(self, state: EsState, index: str, rec: Recorded) -> tuple[int, Any]:
        if rec.method == "HEAD":
            return (200 if index in state.indices else 404), None
        if rec.method == "PUT":
            if index != index.lower():
                return 400, _error("invalid_index_name_exception", "must be lowercase", 400)
            if index in state.indices:
                return 400, _error(
                    "resource_already_exists_exception", f"index [{index}] already exists", 400
                )
            create = json.loads(rec.body) if rec.body else {}
            state.indices[index] = {"body": create, "docs": {}}
            return 200, {"acknowledged": True, "shards_acknowledged": True, "index": index}
        if rec.method == "GET" and index in state.indices:
            return 200, {index: {"mappings": state.indices[index]["body"].get("mappings", {})}}
        return 404, _error("index_not_found_exception", f"no such index [{index}]", 404, index)

    def _bulk(
        self, state: EsState, url_index: str | None, body: bytes, extra: dict[str, str]
    ) -> tuple[int, Any]:
        state.bulk_count += 1
        if state.fail_bulk_after is not None and state.bulk_count > state.fail_bulk_after:
            return 500, _error("test_failure", "bulk told to fail", 500)
        if state.throttle_bulk > 0:
            state.throttle_bulk -= 1
            extra["Retry-After"] = "0"
            return 429, _error(
                "es_rejected_execution_exception", "rejected execution of bulk (queue full)", 429
            )
        if not body.endswith(b"\n"):
            return 400, _error(
                "illegal_argument_exception",
                "The bulk request must be terminated by a newline [\\n]",
                400,
            )
        lines = body.split(b"\n")[:-1]
        if len(lines) % 2:
            return 400, _error("illegal_argument_exception", "unpaired action/source", 400)
        items: list[dict[str, Any]] = []
        errors = False
        for action_line, source_line in zip(lines[0::2], lines[1::2], strict=True):
            action = json.loads(action_line)
            op, meta = next(iter(action.items()))
            index = meta.get("_index", url_index)
            doc_id = meta.get("_id") or f"auto-{state.bulk_count}-{len(items)}"
            try:
                source = json.loads(source_line, parse_constant=_reject_constant)
            except ValueError as exc:
                errors = True
                items.append({op: {"_index": index, "_id": doc_id, "status": 400, "error": {
                    "type": "document_parsing_exception", "reason": str(exc)}}})  # fmt: skip
                continue
            if index in state.read_only:
                errors = True
                items.append({op: {"_index": index, "_id": doc_id, "status": 403, "error": {
                    "type": "cluster_block_exception",
                    "reason": f"index [{index}] blocked by: [{_WRITE_BLOCK}];"}}})  # fmt: skip
                continue
            if state.throttle_items > 0:
                state.throttle_items -= 1
                errors = True
                items.append({op: {"_index": index, "_id": doc_id, "status": 429, "error": {
                    "type": "es_rejected_execution_exception",
                    "reason": "rejected execution (queue capacity reached)"}}})  # fmt: skip
                continue
            store = state.indices.setdefault(index, {"body": {}, "docs": {}})["docs"]
            existed = doc_id in store
            if state.keep:
                store[doc_id] = source
            items.append({op: {"_index": index, "_id": doc_id, "_version": 1,
                               "result": "updated" if existed else "created",
                               "status": 200 if existed else 201}})  # fmt: skip
        return 200, {"errors": errors, "took": 1, "items": items}

    do_GET = do_PUT = do_POST = do_HEAD = do_DELETE = _handle


def _media_error(reason: str) -> dict[str, Any]:
    wrapper = _error(
        "media_type_header_exception",
        "Invalid media-type value on headers [Accept, Content-Type]",
        400,
    )
    wrapper["error"]["caused_by"] = {"type": "status_exception", "reason": reason}
    return wrapper


def _reject_constant(name: str) -> Any:
    raise ValueError(f"Non-standard token '{name}'")


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    state: EsState


class EsDouble:
    """Start with ``with EsDouble() as es:``; ``es.url``, ``es.state``; ``stop()`` = down."""

    def __init__(self, flavor: Flavor | str | None = None) -> None:
        self.state = EsState()
        if flavor is not None:
            self.state.flavor = FLAVORS[flavor] if isinstance(flavor, str) else flavor
            self.state.server_major = self.state.flavor.major
        self._server = _Server(("127.0.0.1", 0), _Handler)
        self._server.state = self.state
        self.url = f"http://127.0.0.1:{self._server.server_address[1]}"
        self._thread = threading.Thread(
            target=self._server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True
        )

    def start(self) -> EsDouble:
        """Serve in a background thread."""
        self._thread.start()
        return self

    def stop(self) -> None:
        """Stop serving and release the port."""
        if self._thread.is_alive():
            self._server.shutdown()
            self._thread.join()
        self._server.server_close()

    def docs(self, index: str) -> dict[str, Any]:
        """Documents of ``index`` by id."""
        return dict(self.state.indices.get(index, {}).get("docs", {}))

    def __enter__(self) -> EsDouble:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()
