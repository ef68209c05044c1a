"""An in-process HTTP double of the Elasticsearch REST surface the indexers use.

It answers like ES 9 (product-check header, compatibility media types mirrored), validates
what real ES validates (ndjson terminated by a newline, action/source pairs, lowercase index
names, NaN rejected per item, compat version) and records every request for assertions.
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

    def _send(self, status: int, body: Any = None, *, head: bool = False) -> None:
        accept = self.headers.get("Accept", "")
        m = _COMPAT.search(accept)
        ctype = (
            f"application/vnd.elasticsearch+json;compatible-with={m.group(1)}"
            if m
            else "application/json"
        )
        data = b"" if body is None else json.dumps(body).encode()
        self.send_response(status)
        self.send_header("X-Elastic-Product", "Elasticsearch")
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
        with state.lock:
            if state.keep:
                state.requests.append(rec)
            status, answer = self._route(state, rec)
        self._send(status, answer, head=self.command == "HEAD")

    def _route(self, state: EsState, rec: Recorded) -> tuple[int, Any]:
        if state.fail_status is not None:
            return state.fail_status, _error("test_failure", "told to fail", state.fail_status)
        for header in ("accept", "content-type"):
            m = _COMPAT.search(rec.headers.get(header, ""))
            if m and int(m.group(1)) > state.server_major:
                return 400, _error(
                    "media_type_header_exception",
                    "Invalid media-type value on headers [Accept, Content-Type]",
                    400,
                )
        if rec.body and "content-type" not in rec.headers:
            return 400, _error("illegal_argument_exception", "missing Content-Type", 400)
        segs = [s for s in rec.path.split("/") if s]
        if not segs:
            return 200, INFO
        if segs == ["_cluster", "health"]:
            return 200, {"cluster_name": "fake", "status": "green", "number_of_nodes": 1}
        if segs[-1] == "_bulk" and rec.method in ("PUT", "POST"):
            return self._bulk(state, segs[0] if len(segs) == 2 else None, rec.body)
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

    def _bulk(self, state: EsState, url_index: str | None, body: bytes) -> tuple[int, Any]:
        state.bulk_count += 1
        if state.fail_bulk_after is not None and state.bulk_count > state.fail_bulk_after:
            return 500, _error("test_failure", "bulk told to fail", 500)
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
            store = state.indices.setdefault(index, {"body": {}, "docs": {}})["docs"]
            existed = doc_id in store
            if state.keep:
                store[doc_id] = source
            items.append({op: {"_index": index, "_id": doc_id, "_version": 1,
                               "result": "updated" if existed else "created",
                               "status": 200 if existed else 201}})  # fmt: skip
        return 200, {"errors": errors, "took": 1, "items": items}

    do_GET = do_PUT = do_POST = do_HEAD = do_DELETE = _handle


def _reject_constant(name: str) -> Any:
    raise ValueError(f"Non-standard token '{name}'")


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    state: EsState


class EsDouble:
    """Start with ``with EsDouble() as es:``; ``es.url``, ``es.state``; ``stop()`` = down."""

    def __init__(self) -> None:
        self.state = EsState()
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
