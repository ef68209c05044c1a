"""PATCH bodies: JSON patch, JSON merge patch, strategic merge patch and server-side apply."""

from __future__ import annotations

from typing import Any

import jsonpatch
import jsonpointer
import orjson
import yaml

from .admission import invalid_error
from .errors import ApiError, bad_request
from .resources import BUILTIN, ResourceType

Obj = dict[str, Any]

JSON_PATCH = "application/json-patch+json"
MERGE_PATCH = "application/merge-patch+json"
STRATEGIC_PATCH = "application/strategic-merge-patch+json"
APPLY_PATCH = "application/apply-patch+yaml"
PATCH_TYPES = (JSON_PATCH, MERGE_PATCH, STRATEGIC_PATCH, APPLY_PATCH)

# patchMergeKey of the keyed lists of the built-in kinds, by field name
MERGE_KEYS = {
    "containers": "name",
    "initContainers": "name",
    "ephemeralContainers": "name",
    "volumes": "name",
    "env": "name",
    "volumeMounts": "mountPath",
    "volumeDevices": "devicePath",
    "imagePullSecrets": "name",
    "conditions": "type",
    "ownerReferences": "uid",
    "hostAliases": "ip",
    "topologySpreadConstraints": "topologyKey",
    "resourceClaims": "name",
    "schedulingGates": "name",
    "addresses": "type",
    "ports": "containerPort",
}
SET_LISTS = frozenset({"finalizers"})  # primitive lists with patchStrategy merge
_BUILTIN = frozenset((rt.group, rt.resource) for rt in BUILTIN if "kubevirt.io" not in rt.group)
_DELETE = object()
_PATCH_OPTIONS = ResourceType("meta.k8s.io", "v1", "patchoptions", "PatchOptions", "", False)


def apply_patch(
    rt: ResourceType,
    current: Obj | None,
    body: bytes,
    content_type: str,
    field_manager: str | None,
    force: bool,
) -> Obj:
    """The object that results from applying a PATCH ``body`` of ``content_type`` to ``current``.

    ``current`` None is only valid for server-side apply (the caller then creates the result).
    Raises ApiError: 415 for an unsupported type (strategic merge on custom kinds), 400 for a
    malformed body, 422 when a JSON patch operation fails, 404 when there is nothing to patch.
    """
    ctype = content_type.split(";", 1)[0].strip().lower()
    if ctype not in PATCH_TYPES:
        raise unsupported_media_type(ctype)
    if ctype == STRATEGIC_PATCH and not is_builtin(rt):
        raise unsupported_media_type(ctype)
    if ctype == APPLY_PATCH:
        if not field_manager:
            cause = {
                "reason": "FieldValueRequired",
                "message": "Required value: is required for apply patch",
                "field": "fieldManager",
            }
            raise invalid_error(_PATCH_OPTIONS, "", [cause])
        return server_side_apply(rt, current, body)
    if current is None:
        raise ApiError(404, "NotFound", "the server could not find the requested resource", {})
    base = _copy(current)
    if ctype == JSON_PATCH:
        return json_patch(base, body)
    patch = _load_json(body)
    if not isinstance(patch, dict):
        raise bad_request(
            f"the patch must be a JSON object, not {_json_type(patch)} (content type {ctype})"
        )
    if ctype == MERGE_PATCH:
        return _as_object(merge_patch(base, patch))
    return _as_object(strategic_merge(base, patch, rt))


def unsupported_media_type(ctype: str) -> ApiError:
    """415 UnsupportedMediaType for a PATCH content type the resource does not accept."""
    accepted = [JSON_PATCH, MERGE_PATCH, APPLY_PATCH]
    return ApiError(
        415,
        "UnsupportedMediaType",
        f"the body of the request was in an unknown format ({ctype or 'none'}) - accepted media"
        f" types include: {', '.join(accepted)}",
    )


def is_builtin(rt: ResourceType) -> bool:
    """Whether ``rt`` is a built-in Kubernetes kind (strategic merge patch applies)."""
    return (rt.group, rt.resource) in _BUILTIN


def _copy(obj: Obj) -> Obj:
    out: Obj = orjson.loads(orjson.dumps(obj))
    return out


def _load_json(body: bytes) -> Any:
    try:
        return orjson.loads(body)
    except orjson.JSONDecodeError as exc:
        raise bad_request(f"the patch body is not valid JSON: {exc}") from None


def _json_type(value: Any) -> str:
    return {list: "an array", str: "a string", type(None): "null", bool: "a boolean"}.get(
        type(value), "a number"
    )


def _as_object(value: Any) -> Obj:
    if not isinstance(value, dict):
        raise bad_request("the patched object must be a JSON object")
    return value


def _rejected(message: str) -> ApiError:
    return ApiError(
        422,
        "Invalid",
        "the server rejected our request due to an error in our request",
        {"causes": [{"reason": "UnexpectedServerResponse", "message": message}]},
    )


def json_patch(base: Obj, body: bytes) -> Obj:
    """Apply an RFC 6902 operation list (422 when an operation fails, as the real server)."""
    ops = _load_json(body)
    if not isinstance(ops, list):
        raise bad_request(
            f"json: cannot unmarshal {_json_type(ops).split()[-1]} into Go value of type"
            " jsonpatch.Patch"
        )
    try:
        result = jsonpatch.JsonPatch(ops).apply(base, in_place=True)
    except jsonpatch.JsonPatchTestFailed as exc:
        raise _rejected(f"testing value failed: {exc}") from None
    except (
        jsonpatch.JsonPatchException,
        jsonpointer.JsonPointerException,
        KeyError,
        IndexError,
        TypeError,
        ValueError,
    ) as exc:
        raise _rejected(str(exc) or type(exc).__name__) from None
    if not isinstance(result, dict):
        raise _rejected("the patched document is not a JSON object")
    return result


def merge_patch(target: Any, patch: Any) -> Any:
    """RFC 7386 JSON merge patch: maps merge recursively, null deletes, anything else replaces."""
    if not isinstance(patch, dict):
        return patch
    if not isinstance(target, dict):
        target = {}
    for key, value in patch.items():
        if value is None:
            target.pop(key, None)
        else:
            target[key] = merge_patch(target.get(key), value)
    return target


def _merge_key(rt: ResourceType, path: tuple[str, ...]) -> str | None:
    field = path[-1]
    if field == "ports" and rt.resource == "services" and path == ("spec", "ports"):
        return "port"
    return MERGE_KEYS.get(field)


def strategic_merge(original: Any, patch: Any, rt: ResourceType, path: tuple[str, ...] = ()) -> Any:
    """Strategic merge patch of ``patch`` into ``original`` (modified in place and returned)."""
    if not isinstance(patch, dict):
        return patch
    if not isinstance(original, dict):
        original = {}
    directive = patch.get("$patch")
    if directive == "replace":
        return _strip(patch)
    if directive == "delete":
        return _DELETE
    if directive not in (None, "merge"):
        raise bad_request(f"Unknown patch type: {directive!r}")
    orders: dict[str, list[Any]] = {}
    for key, value in patch.items():
        if key.startswith("$deleteFromPrimitiveList/"):
            name = key.split("/", 1)[1]
            cur = original.get(name)
            if isinstance(cur, list) and isinstance(value, list):
                original[name] = [x for x in cur if x not in value]
        elif key.startswith("$setElementOrder/") and isinstance(value, list):
            orders[key.split("/", 1)[1]] = value
    for key, value in patch.items():
        if key.startswith("$"):
            continue
        if value is None:
            original.pop(key, None)
        elif isinstance(value, dict):
            merged = strategic_merge(original.get(key), value, rt, (*path, key))
            if merged is _DELETE:
                original.pop(key, None)
            else:
                original[key] = merged
        elif isinstance(value, list):
            original[key] = _merge_list(original.get(key), value, rt, (*path, key))
        else:
            original[key] = value
    for name, order in orders.items():
        if isinstance(original.get(name), list):
            original[name] = _reorder(original[name], order, _merge_key(rt, (*path, name)))
    retain = patch.get("$retainKeys")
    if isinstance(retain, list):
        keep = set(retain)
        for key in [k for k in original if k not in keep]:
            del original[key]
    return original


def _strip(value: Any) -> Any:
    """``value`` without strategic-merge directives."""
    if isinstance(value, dict):
        return {k: _strip(v) for k, v in value.items() if not k.startswith("$")}
    if isinstance(value, list):
        return [_strip(v) for v in value if not (isinstance(v, dict) and "$patch" in v)]
    return value


def _merge_list(
    original: Any, patch: list[Any], rt: ResourceType, path: tuple[str, ...]
) -> list[Any]:
    cur = original if isinstance(original, list) else []
    if path[-1] in SET_LISTS:
        return cur + [x for x in patch if x not in cur]
    key = _merge_key(rt, path)
    if key is None or any(isinstance(x, dict) and x.get("$patch") == "replace" for x in patch):
        return [_strip(x) for x in patch if not (isinstance(x, dict) and "$patch" in x)]
    result = list(cur)
    for item in patch:
        if not isinstance(item, dict) or key not in item:
            result.append(_strip(item))
            continue
        idx = next(
            (i for i, x in enumerate(result) if isinstance(x, dict) and x.get(key) == item[key]),
            None,
        )
        if item.get("$patch") == "delete":
            if idx is not None:
                del result[idx]
        elif idx is None:
            result.append(_strip(item))
        else:
            result[idx] = strategic_merge(result[idx], item, rt, path)
    return result


def _reorder(items: list[Any], order: list[Any], key: str | None) -> list[Any]:
    def ident(x: Any) -> Any:
        return x.get(key) if key and isinstance(x, dict) else orjson.dumps(x)

    rank = {ident(x): i for i, x in enumerate(order)}
    listed = sorted((x for x in items if ident(x) in rank), key=lambda x: rank[ident(x)])
    return listed + [x for x in items if ident(x) not in rank]


def server_side_apply(rt: ResourceType, current: Obj | None, body: bytes) -> Obj:
    """Create-or-merge of the applied configuration (no managedFields tracking)."""
    try:
        applied = yaml.safe_load(body)
    except yaml.YAMLError as exc:
        raise bad_request(f"error decoding YAML: {exc}") from None
    if not isinstance(applied, dict):
        raise bad_request("the apply patch must be a YAML or JSON object")
    applied = _copy(applied)
    kind = applied.get("kind")
    if kind and kind != rt.kind:
        raise bad_request(
            f"the kind in the data ({kind}) does not match the expected kind ({rt.kind})"
        )
    api_version = applied.get("apiVersion")
    if api_version and api_version != rt.api_version:
        raise bad_request(
            f"the API version in the data ({api_version}) does not match the expected API"
            f" version ({rt.api_version})"
        )
    if not isinstance(applied.setdefault("metadata", {}), dict):
        raise bad_request("metadata must be an object")
    if current is None:
        applied["apiVersion"] = rt.api_version
        applied["kind"] = rt.kind
        return _strip(applied)  # type: ignore[no-any-return]
    base = _copy(current)
    if is_builtin(rt):
        return _as_object(strategic_merge(base, _strip(applied), rt))
    return _as_object(merge_patch(base, applied))
