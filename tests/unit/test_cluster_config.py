"""Cluster target resolution: order, one-line errors, no credentials in messages or reprs."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml
from kubernetes.client import Configuration

from pytest_kubevirt_burner.cluster import (
    ClusterClient,
    ClusterConfigError,
    load_configuration,
    resolve_target,
)

TOKEN = "s3cr3t-t0ken-value-1234567890"


def kubeconfig(
    path: Path,
    server: str = "http://127.0.0.1:1",
    contexts: tuple[str, ...] = ("sim",),
    current: str | None = "sim",
    insecure: bool | None = None,
    namespace: str | None = None,
) -> Path:
    cluster: dict[str, object] = {"server": server}
    if insecure is not None:
        cluster["insecure-skip-tls-verify"] = insecure
    ctx: dict[str, object] = {"cluster": "c", "user": "u"}
    if namespace:
        ctx["namespace"] = namespace
    data: dict[str, object] = {
        "apiVersion": "v1",
        "kind": "Config",
        "clusters": [{"name": "c", "cluster": cluster}],
        "users": [{"name": "u", "user": {"token": TOKEN}}],
        "contexts": [{"name": n, "context": ctx} for n in contexts],
    }
    if current:
        data["current-context"] = current
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(yaml.safe_dump(data))
    return path


def error_of(*args: object, **kwargs: object) -> str:
    with pytest.raises(ClusterConfigError) as info:
        resolve_target(*args, **kwargs)  # type: ignore[arg-type]
    message = str(info.value)
    assert "\n" not in message
    assert TOKEN not in message and TOKEN not in repr(info.value)
    return message


def test_explicit_path_wins_over_everything(tmp_path: Path) -> None:
    explicit = kubeconfig(tmp_path / "explicit", server="http://127.0.0.1:7001/")
    env_file = kubeconfig(tmp_path / "env", server="http://127.0.0.1:7002")
    kubeconfig(tmp_path / "home/.kube/config", server="http://127.0.0.1:7003")
    env = {"KUBECONFIG": str(env_file), "HOME": str(tmp_path / "home")}
    target = resolve_target(str(explicit), None, env)
    assert (target.source, target.path, target.context) == ("--kube-config", str(explicit), "sim")
    assert target.server == "http://127.0.0.1:7001"
    assert target.namespace == "default"


def test_explicit_path_must_exist(tmp_path: Path) -> None:
    missing = tmp_path / "nope"
    env = {"KUBECONFIG": str(kubeconfig(tmp_path / "env"))}
    assert error_of(str(missing), None, env) == f"--kube-config: {missing}: no such file"


def test_kubeconfig_env_first_entry(tmp_path: Path) -> None:
    first = kubeconfig(tmp_path / "a", server="http://127.0.0.1:7010", namespace="work")
    second = kubeconfig(tmp_path / "b", server="http://127.0.0.1:7011")
    env = {"KUBECONFIG": f"{first}:{second}", "HOME": str(tmp_path)}
    target = resolve_target(None, None, env)
    assert (target.source, target.path, target.server) == (
        "$KUBECONFIG",
        str(first),
        "http://127.0.0.1:7010",
    )
    assert target.namespace == "work"


def test_kubeconfig_env_entry_must_exist(tmp_path: Path) -> None:
    missing = tmp_path / "gone"
    kubeconfig(tmp_path / "home/.kube/config")
    env = {"KUBECONFIG": f"{missing}:{tmp_path / 'other'}", "HOME": str(tmp_path / "home")}
    assert error_of(None, None, env) == f"$KUBECONFIG: {missing}: no such file"


def test_home_kube_config_then_in_cluster(tmp_path: Path) -> None:
    home_cfg = kubeconfig(tmp_path / "home/.kube/config", server="https://10.0.0.1:6443")
    env = {"HOME": str(tmp_path / "home"), "KUBERNETES_SERVICE_HOST": "10.96.0.1"}
    target = resolve_target(None, None, env)
    assert (target.source, target.path) == ("~/.kube/config", str(home_cfg))
    home_cfg.unlink()
    env["KUBERNETES_SERVICE_PORT"] = "443"
    target = resolve_target(None, None, env)
    assert (target.source, target.path, target.server) == (
        "in-cluster",
        None,
        "https://10.96.0.1:443",
    )


def test_nothing_found_lists_what_was_tried(tmp_path: Path) -> None:
    home = tmp_path / "home"
    assert error_of(None, None, {"HOME": str(home), "KUBECONFIG": ""}) == (
        "no cluster configuration found (tried --kube-config (not given), "
        f"$KUBECONFIG (not set), {home}/.kube/config (no such file), "
        "in-cluster (KUBERNETES_SERVICE_HOST not set))"
    )


def test_context_selection_and_unknown_context(tmp_path: Path) -> None:
    path = kubeconfig(tmp_path / "cfg", contexts=("sim", "other"), current="sim")
    assert resolve_target(str(path), "other", {}).context == "other"
    assert error_of(str(path), "simm", {}) == (
        f"{path}: context 'simm' not found (available contexts: other, sim); did you mean 'sim'?"
    )
    assert error_of(str(path), "zzz", {}) == (
        f"{path}: context 'zzz' not found (available contexts: other, sim)"
    )


def test_no_current_context(tmp_path: Path) -> None:
    path = kubeconfig(tmp_path / "cfg", contexts=("a", "b"), current=None)
    assert error_of(str(path), None, {}) == (
        f"{path}: no current-context set and no --kube-context given (available contexts: a, b)"
    )


def test_not_yaml_never_quotes_the_file(tmp_path: Path) -> None:
    path = tmp_path / "broken"
    path.write_text(f"users:\n- name: u\n  user: {{token: {TOKEN}\n  : [\n")
    message = error_of(str(path), None, {})
    assert message.startswith(f"{path}: not a kubeconfig: invalid YAML at line ")


@pytest.mark.parametrize(
    ("text", "why"),
    [
        ("- a\n- b\n", "(expected a mapping)"),
        ("just a string\n", "(expected a mapping)"),
        ("apiVersion: v1\nkind: Pod\n", "(no 'contexts' list)"),
        (f"users: [{{name: u, user: {{token: {TOKEN}}}}}]\n", "(no 'contexts' list)"),
    ],
)
def test_not_a_kubeconfig(tmp_path: Path, text: str, why: str) -> None:
    path = tmp_path / "cfg"
    path.write_text(text)
    assert error_of(str(path), None, {}) == f"{path}: not a kubeconfig {why}"


def test_context_given_but_only_in_cluster(tmp_path: Path) -> None:
    env = {"HOME": str(tmp_path), "KUBERNETES_SERVICE_HOST": "10.0.0.1"}
    assert error_of(None, "sim", env).startswith(
        "--kube-context sim: no kubeconfig found, only in-cluster config (tried "
    )


def test_configuration_is_private_and_verifies_tls(tmp_path: Path) -> None:
    before = Configuration.get_default_copy().host
    secure = resolve_target(str(kubeconfig(tmp_path / "a", server="https://h:6443")), None, {})
    config = load_configuration(secure)
    assert config.host == "https://h:6443"
    assert config.verify_ssl is True
    assert config.api_key["BearerToken"] == f"Bearer {TOKEN}"
    assert Configuration.get_default_copy().host == before
    insecure_path = kubeconfig(tmp_path / "b", server="https://h:6443", insecure=True)
    assert load_configuration(resolve_target(str(insecure_path), None, {})).verify_ssl is False


def test_load_errors_are_one_line_without_token(tmp_path: Path) -> None:
    path = tmp_path / "cfg"
    data = {
        "kind": "Config",
        "clusters": [{"name": "c", "cluster": {"server": "https://h:1"}}],
        "users": [{"name": "u", "user": {"token": TOKEN, "client-key": "/missing/key"}}],
        "contexts": [{"name": "x", "context": {"cluster": "c", "user": "u"}}],
        "current-context": "x",
    }
    path.write_text(yaml.safe_dump(data))
    target = resolve_target(str(path), None, {})
    with pytest.raises(ClusterConfigError) as info:
        load_configuration(target)
    assert str(info.value).startswith(f"{path}: cannot load: ")
    assert "\n" not in str(info.value) and TOKEN not in str(info.value)


def test_token_never_in_reprs(tmp_path: Path) -> None:
    path = kubeconfig(tmp_path / "cfg", server="https://user:pw@h:6443")
    target = resolve_target(str(path), None, {})
    assert target.server == "https://h:6443"
    with ClusterClient(target, workers=2) as client:
        for text in (repr(target), target.describe(), repr(client), str(client.stats)):
            assert TOKEN not in text and "pw" not in text
