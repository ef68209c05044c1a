"""The kubeconfig the simulator writes: plain http server, bearer token, context kube-sim."""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

CONTEXT = "kube-sim"
CLUSTER = "kube-sim"
USER = "kube-sim"


@dataclass(frozen=True)
class SimKubeconfig:
    """What a simulator kubeconfig says: server URL, bearer token, namespace."""

    server: str
    token: str
    namespace: str = "default"

    def __repr__(self) -> str:
        return (
            f"SimKubeconfig(server={self.server!r}, token=<hidden>, namespace={self.namespace!r})"
        )


def render(server: str, token: str, namespace: str = "default") -> dict[str, Any]:
    """The kubeconfig document (a dict) for ``server`` with ``token``."""
    return {
        "apiVersion": "v1",
        "kind": "Config",
        "preferences": {},
        "clusters": [{"name": CLUSTER, "cluster": {"server": server}}],
        "users": [{"name": USER, "user": {"token": token}}],
        "contexts": [
            {
                "name": CONTEXT,
                "context": {"cluster": CLUSTER, "user": USER, "namespace": namespace},
            }
        ],
        "current-context": CONTEXT,
    }


def write(path: str | Path, server: str, token: str, namespace: str = "default") -> Path:
    """Write the kubeconfig atomically with mode 0600; returns the path."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w", encoding="utf-8") as fh:
        yaml.safe_dump(render(server, token, namespace), fh, default_flow_style=False)
    os.chmod(tmp, 0o600)
    os.replace(tmp, path)
    return path


def read(path: str | Path, context: str | None = None) -> SimKubeconfig:
    """Server, token and namespace of ``context`` (default: current-context) in a kubeconfig."""
    with open(path, encoding="utf-8") as fh:
        doc = yaml.safe_load(fh) or {}
    name = context or doc.get("current-context")
    ctx = _named(doc, "contexts", name)["context"]
    cluster = _named(doc, "clusters", ctx["cluster"])["cluster"]
    user = _named(doc, "users", ctx["user"]).get("user") or {}
    return SimKubeconfig(
        server=str(cluster["server"]),
        token=str(user.get("token", "")),
        namespace=str(ctx.get("namespace", "default")),
    )


def _named(doc: dict[str, Any], section: str, name: Any) -> dict[str, Any]:
    for entry in doc.get(section) or []:
        if entry.get("name") == name:
            return dict(entry)
    raise ValueError(f"kubeconfig has no {section[:-1]} named {name!r}")
