"""Which cluster to talk to: kubeconfig/context/in-cluster resolution and client configuration.

Resolution order: an explicit ``--kube-config`` path, then ``$KUBECONFIG`` (its first entry),
then ``~/.kube/config``, then the in-cluster service account. Every failure is a one-line
``ClusterConfigError`` that never contains credentials: kubeconfig contents are only ever
reported by position (line numbers, key names), never quoted.
"""

from __future__ import annotations

import difflib
import os
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal
from urllib.parse import urlsplit, urlunsplit

import yaml
from kubernetes.client import Configuration
from kubernetes.config.config_exception import ConfigException
from kubernetes.config.incluster_config import (
    SERVICE_CERT_FILENAME,
    SERVICE_HOST_ENV_NAME,
    SERVICE_PORT_ENV_NAME,
    SERVICE_TOKEN_FILENAME,
    InClusterConfigLoader,
)
from kubernetes.config.kube_config import load_kube_config

from .errors import ClusterConfigError

Source = Literal["--kube-config", "$KUBECONFIG", "~/.kube/config", "in-cluster"]


@dataclass(frozen=True, slots=True)
class ClusterTarget:
    """A resolved cluster: where its configuration came from and which context/server it names."""

    source: Source
    path: str | None
    """The kubeconfig file (None for in-cluster)."""
    context: str | None
    """The context that will be used (None for in-cluster)."""
    server: str
    """The API server URL (for messages; never carries credentials)."""
    namespace: str = "default"
    """The context's namespace (used when a call names none)."""
    environ: Mapping[str, str] = field(default_factory=dict, repr=False, compare=False)
    token_file: str = field(default=SERVICE_TOKEN_FILENAME, repr=False)
    ca_file: str = field(default=SERVICE_CERT_FILENAME, repr=False)

    def describe(self) -> str:
        """One line naming the target, e.g. ``kubeconfig /x (context sim) -> http://..``."""
        if self.source == "in-cluster":
            return f"in-cluster service account -> {self.server}"
        return f"{self.source} {self.path} (context {self.context}) -> {self.server}"


def _one_line(text: str) -> str:
    return " ".join(str(text).split())


def _home(env: Mapping[str, str]) -> Path:
    home = env.get("HOME")
    return Path(home) if home else Path.home()


def _read_kubeconfig(path: str) -> dict[str, Any]:
    """Parse and shape-check a kubeconfig; errors never quote the file's contents."""
    try:
        text = Path(path).read_text(encoding="utf-8")
    except OSError as exc:
        raise ClusterConfigError(f"{path}: cannot read: {exc.strerror or exc}") from None
    except UnicodeDecodeError:
        raise ClusterConfigError(f"{path}: not a kubeconfig (not UTF-8 text)") from None
    try:
        data = yaml.safe_load(text)
    except yaml.MarkedYAMLError as exc:
        line = exc.problem_mark.line + 1 if exc.problem_mark else "?"
        problem = _one_line(exc.problem or "syntax error")
        raise ClusterConfigError(
            f"{path}: not a kubeconfig: invalid YAML at line {line}: {problem}"
        ) from None
    except yaml.YAMLError:
        raise ClusterConfigError(f"{path}: not a kubeconfig: invalid YAML") from None
    if not isinstance(data, dict):
        raise ClusterConfigError(f"{path}: not a kubeconfig (expected a mapping)")
    if data.get("kind", "Config") != "Config" or not isinstance(data.get("contexts"), list):
        raise ClusterConfigError(f"{path}: not a kubeconfig (no 'contexts' list)")
    return data


def _named(entries: Any) -> dict[str, dict[str, Any]]:
    out: dict[str, dict[str, Any]] = {}
    for entry in entries if isinstance(entries, list) else []:
        if isinstance(entry, dict) and isinstance(entry.get("name"), str):
            body = next((v for k, v in entry.items() if k != "name"), None)
            out[entry["name"]] = body if isinstance(body, dict) else {}
    return out


def _pick_context(path: str, data: dict[str, Any], wanted: str | None) -> tuple[str, str, str]:
    """Return (context name, server URL, namespace) or raise a one-line error."""
    contexts = _named(data.get("contexts"))
    available = ", ".join(sorted(contexts)) or "none"
    name = wanted if wanted is not None else data.get("current-context")
    if not name:
        raise ClusterConfigError(
            f"{path}: no current-context set and no --kube-context given "
            f"(available contexts: {available})"
        )
    if name not in contexts:
        close = difflib.get_close_matches(str(name), list(contexts), n=1)
        hint = f"; did you mean '{close[0]}'?" if close else ""
        raise ClusterConfigError(
            f"{path}: context '{name}' not found (available contexts: {available}){hint}"
        )
    cluster_name = contexts[name].get("cluster")
    clusters = _named(data.get("clusters"))
    if cluster_name not in clusters:
        raise ClusterConfigError(f"{path}: context '{name}' names unknown cluster '{cluster_name}'")
    server = clusters[str(cluster_name)].get("server")
    if not isinstance(server, str) or not server:
        raise ClusterConfigError(f"{path}: cluster '{cluster_name}' has no server URL")
    namespace = contexts[name].get("namespace") or "default"
    return str(name), _without_userinfo(server.rstrip("/")), str(namespace)


def _without_userinfo(url: str) -> str:
    parts = urlsplit(url)
    if parts.username is None and parts.password is None:
        return url
    netloc = parts.hostname or ""
    if parts.port:
        netloc = f"{netloc}:{parts.port}"
    return urlunsplit(parts._replace(netloc=netloc))


def _from_file(source: Source, path: str, context: str | None) -> ClusterTarget:
    data = _read_kubeconfig(path)
    name, server, namespace = _pick_context(path, data, context)
    return ClusterTarget(source, path, name, server, namespace)


def resolve_target(
    kube_config: str | None,
    kube_context: str | None,
    env: Mapping[str, str] = os.environ,
) -> ClusterTarget:
    """Find the cluster: explicit path, $KUBECONFIG, ~/.kube/config, then in-cluster."""
    if kube_config:
        path = os.path.expanduser(kube_config)
        if not os.path.isfile(path):
            raise ClusterConfigError(f"--kube-config: {kube_config}: no such file")
        return _from_file("--kube-config", path, kube_context)
    tried: list[str] = ["--kube-config (not given)"]
    env_value = env.get("KUBECONFIG", "")
    first = next((p for p in env_value.split(os.pathsep) if p.strip()), "")
    if first:
        path = os.path.expanduser(first)
        if not os.path.isfile(path):
            raise ClusterConfigError(f"$KUBECONFIG: {first}: no such file")
        return _from_file("$KUBECONFIG", path, kube_context)
    tried.append("$KUBECONFIG (not set)")
    default = _home(env) / ".kube" / "config"
    if default.is_file():
        return _from_file("~/.kube/config", str(default), kube_context)
    tried.append(f"{default} (no such file)")
    host, port = env.get(SERVICE_HOST_ENV_NAME), env.get(SERVICE_PORT_ENV_NAME)
    if host:
        if kube_context:
            raise ClusterConfigError(
                f"--kube-context {kube_context}: no kubeconfig found, only in-cluster config "
                f"(tried {', '.join(tried)})"
            )
        hostport = f"[{host}]" if ":" in host else host
        server = f"https://{hostport}:{port}" if port else f"https://{hostport}"
        ns_file = Path(SERVICE_TOKEN_FILENAME).with_name("namespace")
        try:
            namespace = ns_file.read_text(encoding="utf-8").strip() or "default"
        except OSError:
            namespace = "default"
        return ClusterTarget("in-cluster", None, None, server, namespace, environ=dict(env))
    tried.append(f"in-cluster ({SERVICE_HOST_ENV_NAME} not set)")
    raise ClusterConfigError(f"no cluster configuration found (tried {', '.join(tried)})")


_load_kube_config: Callable[..., None] = load_kube_config
_incluster_loader: Callable[..., Any] = InClusterConfigLoader


def load_configuration(target: ClusterTarget) -> Configuration:
    """Build a fresh client Configuration for the target (never touches the global default)."""
    config: Configuration = type.__call__(Configuration)
    try:
        if target.source == "in-cluster":
            loader: Any = _incluster_loader(
                token_filename=target.token_file,
                cert_filename=target.ca_file,
                environ=target.environ,
            )
            loader.load_and_set(config)
        else:
            _load_kube_config(
                config_file=target.path,
                context=target.context,
                client_configuration=config,
                persist_config=False,
            )
    except ClusterConfigError:
        raise
    except (ConfigException, OSError, ValueError, KeyError, TypeError) as exc:
        where = target.path if target.path else "in-cluster config"
        message = _scrub(_one_line(str(exc)), _secrets(target))[:300]
        raise ClusterConfigError(f"{where}: cannot load: {message}") from None
    return config


_SECRET_KEYS = ("token", "password", "client-key-data", "client-certificate-data")


def _secrets(target: ClusterTarget) -> list[str]:
    """Credential values present in the target's kubeconfig (to scrub them from messages)."""
    if target.path is None:
        return []
    try:
        data = yaml.safe_load(Path(target.path).read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, yaml.YAMLError):
        return []
    found: list[str] = []
    for user in _named(data.get("users") if isinstance(data, dict) else None).values():
        found += [str(user[k]) for k in _SECRET_KEYS if user.get(k)]
    return [s for s in found if len(s) >= 4]


def _scrub(message: str, secrets: list[str]) -> str:
    for secret in secrets:
        message = message.replace(secret, "<redacted>")
    return message
