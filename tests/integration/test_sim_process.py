"""The simulator as a process: first line, kubeconfig, auth, signals, ground truth, CLI errors."""

from __future__ import annotations

import os
import re
import shutil
import signal
import stat
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
from kubernetes import client, config

from pytest_kubevirt_burner.sim import kubeconfig
from pytest_kubevirt_burner.sim.process import SimProcess, SimProcessError

from ._simproc import Http, namespace, running, wait_for


@pytest.fixture(scope="module")
def simproc(tmp_path_factory: pytest.TempPathFactory) -> Iterator[SimProcess]:
    """One simulator process for the module."""
    with running(tmp_path_factory.mktemp("simproc"), seed=11) as proc:
        yield proc


@pytest.fixture(scope="module")
def http(simproc: SimProcess) -> Iterator[Http]:
    """Raw HTTP access to the module's simulator."""
    h = Http(simproc)
    try:
        yield h
    finally:
        h.close()


def test_first_line_is_the_url(simproc: SimProcess) -> None:
    first = simproc.stdout_path.read_text().splitlines()[0]
    assert re.fullmatch(r"listening on http://127\.0\.0\.1:\d+", first)
    assert first == f"listening on {simproc.url}"
    assert simproc.token not in simproc.stdout_path.read_text()
    assert simproc.token not in simproc.stderr_path.read_text()
    assert simproc.token not in " ".join(simproc.command())


def test_kubeconfig_is_private_and_complete(simproc: SimProcess) -> None:
    mode = stat.S_IMODE(os.stat(simproc.kubeconfig).st_mode)
    assert mode == 0o600
    kc = kubeconfig.read(simproc.kubeconfig)
    assert kc.server == simproc.url
    assert kc.namespace == "default"
    assert kc.token and kc.token not in repr(kc)


def test_official_client_works_with_the_kubeconfig(simproc: SimProcess) -> None:
    api = config.new_client_from_config(config_file=str(simproc.kubeconfig))
    try:
        info = client.VersionApi(api).get_code()
        assert info.git_version.startswith("v1.")
        names = [ns.metadata.name for ns in client.CoreV1Api(api).list_namespace().items]
        assert "default" in names
    finally:
        api.close()


def test_wrong_or_missing_token_is_401(http: Http) -> None:
    for token in ("wrong", ""):
        resp = http.request("GET", "/api/v1/namespaces", token=token)
        assert resp.status == 401
        body = resp.json()
        assert body["kind"] == "Status"
        assert (body["reason"], body["message"], body["code"]) == (
            "Unauthorized",
            "Unauthorized",
            401,
        )
    assert http.request("GET", "/debug/pprof/heap", token="wrong").status == 401


def test_anonymous_paths(http: Http) -> None:
    for path in ("/healthz", "/readyz", "/livez", "/version", "/metrics"):
        assert http.request("GET", path, token="wrong").status == 200, path


def test_kubectl_works_with_anonymous_auth(tmp_path: Path) -> None:
    kubectl = shutil.which("kubectl")
    if kubectl is None:
        pytest.skip("kubectl not installed")
    with running(tmp_path / "sim", anonymous_auth=True) as proc:
        env = {**os.environ, "KUBECONFIG": str(proc.kubeconfig), "KUBECACHEDIR": str(tmp_path)}
        out = subprocess.run(
            [kubectl, "get", "namespaces", "-o", "name"],
            env=env,
            capture_output=True,
            text=True,
            timeout=60,
        )
        assert out.returncode == 0, out.stderr
        assert "namespace/default" in out.stdout.split()
        http = Http(proc)
        assert http.request("GET", "/api/v1/namespaces", token="wrong").status == 401
        http.close()


@pytest.mark.parametrize("sig", [signal.SIGTERM, signal.SIGINT], ids=["SIGTERM", "SIGINT"])
def test_signals_stop_cleanly_and_flush_ground_truth(tmp_path: Path, sig: signal.Signals) -> None:
    proc = SimProcess(workdir=tmp_path, seed=3, nodes=2)
    try:
        proc.start()
        http = Http(proc)
        assert http.request("POST", "/api/v1/namespaces", namespace("gt")).status == 201
        # a watch is open while the signal arrives: shutdown must not wait for it
        watch = http.request(
            "GET", "/api/v1/namespaces?watch=1", preload_content=False, timeout=30.0
        )
        assert watch.status == 200
        wait_for(lambda: any(r["kind"] == "Node" for r in proc.read_ground_truth()))
        proc.signal(sig)
        assert proc.proc is not None
        assert proc.proc.wait(timeout=10) == 0
        watch.release_conn()
        http.close()
    finally:
        proc.stop()
    assert "Traceback" not in proc.stderr_tail(200)
    records = proc.read_ground_truth()
    assert records, "ground truth is empty"
    assert proc.ground_truth is not None
    assert proc.ground_truth.read_bytes().endswith(b"\n")
    nodes = [r for r in records if r["kind"] == "Node"]
    assert {r["name"] for r in nodes} == {"sim-node-0", "sim-node-1"}
    for r in records:
        assert set(r) >= {"uid", "namespace", "name", "kind", "transition", "time"}
        assert isinstance(r["time"], float)


def _cli(*args: str, tmp_path: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "pytest_kubevirt_burner.sim", *args],
        capture_output=True,
        text=True,
        timeout=30,
        cwd=tmp_path,
    )


@pytest.mark.parametrize(
    ("args", "option"),
    [
        (["--port", "x"], "--port"),
        (["--port", "70000"], "--port"),
        (["--nodes", "-1"], "--nodes"),
        (["--node-memory", "12Q"], "--node-memory"),
        (["--node-cpu", "lots"], "--node-cpu"),
        (["--faults", "error-rate=2"], "--faults"),
        (["--faults", "bogus=1"], "--faults"),
        (["--profile", "/nonexistent/profile.yaml"], "--profile"),
        (["--seed", "abc"], "--seed"),
        (["--frobnicate"], "--frobnicate"),
    ],
)
def test_bad_cli_values_exit_2_with_one_line(tmp_path: Path, args: list[str], option: str) -> None:
    out = _cli("--kubeconfig", str(tmp_path / "kc"), *args, tmp_path=tmp_path)
    assert out.returncode == 2
    assert out.stdout == ""
    lines = out.stderr.strip().splitlines()
    assert len(lines) == 1, out.stderr
    assert option in lines[0]
    assert not (tmp_path / "kc").exists()


def test_missing_kubeconfig_option(tmp_path: Path) -> None:
    out = _cli("--port", "0", tmp_path=tmp_path)
    assert out.returncode == 2
    assert len(out.stderr.strip().splitlines()) == 1
    assert "--kubeconfig" in out.stderr


@pytest.mark.parametrize(
    "content",
    ["transitions: [1, 2", "transitions: {Pod.Ready: {distribution: weird}}", "- a list"],
)
def test_bad_profile_file(tmp_path: Path, content: str) -> None:
    profile = tmp_path / "p.yaml"
    profile.write_text(content)
    out = _cli("--kubeconfig", str(tmp_path / "kc"), "--profile", str(profile), tmp_path=tmp_path)
    assert out.returncode == 2
    lines = out.stderr.strip().splitlines()
    assert len(lines) == 1, out.stderr
    assert "--profile" in lines[0] and "p.yaml" in lines[0]


def test_start_failure_reports_stderr(tmp_path: Path) -> None:
    proc = SimProcess(workdir=tmp_path, extra_args=["--nodes", "many"])
    with pytest.raises(SimProcessError, match=r"(?s)exited with code 2.*--nodes"):
        proc.start()
