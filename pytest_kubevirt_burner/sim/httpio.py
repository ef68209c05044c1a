"""HTTP plumbing of the simulated API server: request bodies, JSON responses, Status errors."""

from __future__ import annotations

import logging
from typing import Any

import orjson
import yaml
from aiohttp import web

from .errors import ApiError, bad_request
from .resources import ResourceType
from .store import Obj

log = logging.getLogger(__name__)

MAX_BODY = 3 * 1024 * 1024
JSON = "application/json"
YAML = "application/yaml"
PATCH_TYPES = (
    "application/json-patch+json",
    "application/merge-patch+json",
    "application/strategic-merge-patch+json",
    "application/apply-patch+yaml",
)
_ACCEPTED = "application/json, application/yaml, application/vnd.kubernetes.protobuf"


def json_bytes(
    data: bytes, status: int = 200, headers: dict[str, str] | None = None
) -> web.Response:
    """A response carrying already encoded JSON."""
    return web.Response(body=data, status=status, content_type=JSON, headers=headers)


def json_obj(obj: Any, status: int = 200) -> web.Response:
    """A response carrying ``obj`` encoded as JSON."""
    return json_bytes(orjson.dumps(obj), status)


def status_response(err: ApiError) -> web.Response:
    """The metav1.Status response of ``err`` with its code and headers."""
    return json_bytes(orjson.dumps(err.status()), err.code, dict(err.headers) or None)


def internal_error(exc: BaseException) -> ApiError:
    """500 InternalError with a short message (the traceback goes to the log only)."""
    log.error("internal error while serving a request", exc_info=exc)
    return ApiError(500, "InternalError", f"Internal error occurred: {type(exc).__name__}")


def unsupported_media(ctype: str) -> ApiError:
    """415 UnsupportedMediaType."""
    return ApiError(
        415,
        "UnsupportedMediaType",
        f"the body of the request was in an unknown format ({ctype or 'none'}) - accepted media"
        f" types include: {_ACCEPTED}",
    )


def method_not_allowed() -> ApiError:
    """405 MethodNotAllowed."""
    return ApiError(
        405,
        "MethodNotAllowed",
        "the server does not allow this method on the requested resource",
        {},
    )


async def read_body(request: web.Request) -> bytes:
    """The raw request body, refusing more than 3 MiB with 413."""
    too_large = ApiError(
        413, "RequestEntityTooLarge", f"Request entity too large: limit is {MAX_BODY}"
    )
    length = request.content_length
    if length is not None and length > MAX_BODY:
        raise too_large
    chunks: list[bytes] = []
    size = 0
    while True:
        chunk = await request.content.readany()
        if not chunk:
            break
        size += len(chunk)
        if size > MAX_BODY:
            raise too_large
        chunks.append(chunk)
    return b"".join(chunks)


def decode(data: bytes, ctype: str) -> Any:
    """Parse a JSON (or YAML) body, 400 on malformed input."""
    try:
        if ctype == YAML or ctype.endswith("+yaml"):
            return yaml.safe_load(data)
        return orjson.loads(data)
    except (orjson.JSONDecodeError, yaml.YAMLError) as exc:
        raise bad_request(f"error decoding request body: {str(exc).splitlines()[0]}") from None


async def read_object(request: web.Request) -> Obj:
    """A JSON (or YAML) object body; 415 for other media types, 400 when malformed."""
    ctype = request.content_type if request.headers.get("Content-Type") else JSON
    if ctype not in (JSON, YAML):
        raise unsupported_media(ctype)
    data = await read_body(request)
    obj = decode(data, ctype)
    if not isinstance(obj, dict):
        raise bad_request("the request body must be a JSON object")
    return obj


def check_kind(rt: ResourceType, obj: Obj) -> None:
    """Fill apiVersion/kind when absent; 400 when they do not match the URL."""
    api_version = obj.get("apiVersion")
    kind = obj.get("kind")
    if api_version and api_version != rt.api_version:
        raise bad_request(
            f"the API version in the data ({api_version}) does not match the expected API"
            f" version ({rt.api_version})"
        )
    if kind and kind != rt.kind:
        raise bad_request(
            f"the kind in the data ({kind}) does not match the expected kind ({rt.kind})"
        )
    obj["apiVersion"] = rt.api_version
    obj["kind"] = rt.kind


def check_identity(obj: Obj, namespace: str | None, name: str | None) -> None:
    """Fill metadata.namespace from the URL; 400 on a namespace or name mismatch."""
    meta = obj.get("metadata")
    if meta is None:
        meta = obj["metadata"] = {}
    elif not isinstance(meta, dict):
        raise bad_request("metadata must be an object")
    if namespace is not None:
        body_ns = meta.get("namespace")
        if body_ns and body_ns != namespace:
            raise bad_request(
                "the namespace of the provided object does not match the namespace sent on the"
                " request"
            )
        meta["namespace"] = namespace
    if name is not None and meta.get("name") != name:
        if not meta.get("name"):
            meta["name"] = name
        else:
            raise bad_request(
                f"the name of the object ({meta.get('name')}) does not match the name on the URL"
                f" ({name})"
            )


def dry_run(values: list[str]) -> bool:
    """Whether the dryRun values request a dry run (400 for unknown values)."""
    for v in values:
        if v != "All":
            raise bad_request(f"Invalid dry run value: {v!r} (supported: All)")
    return bool(values)
