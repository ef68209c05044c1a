"""Discovery documents (/version, /api, /apis, APIResourceList) built from the live Registry."""

from __future__ import annotations

import re
from typing import Any

from .registry import Registry
from .resources import SUBRESOURCES_KUBEVIRT, ResourceType

KUBE_VERSION = (1, 31, 0)
SUBRESOURCES_GROUP = "subresources.kubevirt.io"
SUBRESOURCES_VERSION = "v1"
_SUB_VERBS = {"status": ["get", "patch", "update"], "scale": ["get", "patch", "update"]}
_VERSION_RE = re.compile(r"^v(\d+)(?:(alpha|beta)(\d+))?$")


def version_info() -> dict[str, str]:
    """The VersionInfo document with every field the clients require."""
    major, minor, patch = KUBE_VERSION
    return {
        "major": str(major),
        "minor": str(minor),
        "gitVersion": f"v{major}.{minor}.{patch}-sim",
        "gitCommit": "0000000000000000000000000000000000000000",
        "gitTreeState": "clean",
        "buildDate": "2026-01-01T00:00:00Z",
        "goVersion": "go1.22.0",
        "compiler": "gc",
        "platform": "linux/amd64 (simulated)",
    }


def api_versions(server_address: str) -> dict[str, Any]:
    """The /api document."""
    return {
        "kind": "APIVersions",
        "versions": ["v1"],
        "serverAddressByClientCIDRs": [
            {"clientCIDR": "0.0.0.0/0", "serverAddress": server_address}
        ],
    }


def version_priority(version: str) -> tuple[int, int, int]:
    """Sort key: GA before beta before alpha, higher numbers first (use with reverse=True)."""
    m = _VERSION_RE.match(version)
    if m is None:
        return (-1, 0, 0)
    level = {"alpha": 0, "beta": 1, None: 2}[m.group(2)]
    return (level, int(m.group(1)), int(m.group(3) or 0))


def _group_versions(registry: Registry) -> dict[str, list[str]]:
    groups = registry.groups()
    groups.setdefault(SUBRESOURCES_GROUP, [SUBRESOURCES_VERSION])
    return {g: sorted(vs, key=version_priority, reverse=True) for g, vs in sorted(groups.items())}


def _group_doc(name: str, versions: list[str]) -> dict[str, Any]:
    gvs = [{"groupVersion": f"{name}/{v}", "version": v} for v in versions]
    return {"name": name, "versions": gvs, "preferredVersion": gvs[0]}


def api_group_list(registry: Registry) -> dict[str, Any]:
    """The /apis document."""
    groups = [_group_doc(g, vs) for g, vs in _group_versions(registry).items()]
    return {"kind": "APIGroupList", "apiVersion": "v1", "groups": groups}


def api_group(registry: Registry, group: str) -> dict[str, Any] | None:
    """The /apis/<group> document, or None when the group is not served."""
    versions = _group_versions(registry).get(group)
    if not versions:
        return None
    return {"kind": "APIGroup", "apiVersion": "v1", **_group_doc(group, versions)}


def _resource_doc(rt: ResourceType) -> list[dict[str, Any]]:
    main: dict[str, Any] = {
        "name": rt.resource,
        "singularName": rt.singular,
        "namespaced": rt.namespaced,
        "kind": rt.kind,
        "verbs": list(rt.verbs),
    }
    if rt.short_names:
        main["shortNames"] = list(rt.short_names)
    if rt.categories:
        main["categories"] = list(rt.categories)
    out = [main]
    for sub in rt.subresources:
        doc: dict[str, Any] = {
            "name": f"{rt.resource}/{sub}",
            "singularName": "",
            "namespaced": rt.namespaced,
            "kind": rt.kind,
            "verbs": _SUB_VERBS.get(sub, ["get"]),
        }
        if sub == "scale":
            doc.update(group="autoscaling", version="v1", kind="Scale")
        out.append(doc)
    return out


def api_resource_list(registry: Registry, group: str, version: str) -> dict[str, Any] | None:
    """The /api/v1 or /apis/<group>/<version> document, or None when not served."""
    resources: list[dict[str, Any]] = []
    if group == SUBRESOURCES_GROUP and version == SUBRESOURCES_VERSION:
        for sub in SUBRESOURCES_KUBEVIRT:
            resources.append(
                {
                    "name": f"{sub.parent}/{sub.name}",
                    "singularName": "",
                    "namespaced": sub.namespaced,
                    "kind": sub.kind,
                    "verbs": list(sub.verbs),
                }
            )
    else:
        types = [rt for rt in registry if rt.group == group and rt.version == version]
        if not types:
            return None
        for rt in sorted(types, key=lambda t: t.resource):
            resources.extend(_resource_doc(rt))
    gv = f"{group}/{version}" if group else version
    return {
        "kind": "APIResourceList",
        "apiVersion": "v1",
        "groupVersion": gv,
        "resources": resources,
    }
