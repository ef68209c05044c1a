"""kubectl against the simulator: get, apply, watch, delete."""

from __future__ import annotations

import os
import shutil
import subprocess
import time
from pathlib import Path
from typing import Any

import pytest

from .simserver import SimServer

KUBECTL = "/usr/bin/kubectl"
pytestmark = pytest.mark.skipif(not shutil.which(KUBECTL), reason="kubectl not installed")

POD = """
apiVersion: v1
kind: Pod
metadata:
  name: kpod
  labels: {app: k}
spec:
  containers:
  - name: c
    image: busybox
"""

VM = """
apiVersion: kubevirt.io/v1
kind: VirtualMachine
metadata:
  name: kvm
spec:
  runStrategy: Halted
  template:
    spec:
      domain:
        devices: {}
        resources: {}
"""


@pytest.fixture(scope="module")
def kubectl(sim: SimServer, tmp_path_factory: pytest.TempPathFactory) -> Any:
    cache = tmp_path_factory.mktemp("kubecache")
    env = {**os.environ, "KUBECACHEDIR": str(cache), "HOME": str(cache)}

    def run(*args: str, timeout: float = 30, check: bool = True, popen: bool = False) -> Any:
        cmd = [KUBECTL, f"--kubeconfig={sim.kubeconfig}", *args]
        if popen:
            return subprocess.Popen(cmd, env=env, stdout=subprocess.PIPE, text=True)
        out = subprocess.run(cmd, env=env, capture_output=True, text=True, timeout=timeout)
        if check:
            assert out.returncode == 0, out.stderr
        return out

    return run


def test_get_pods_empty(kubectl: Any) -> None:
    out = kubectl("get", "pods")
    assert "No resources found" in out.stderr + out.stdout


def test_apply_get_delete_pod(kubectl: Any, tmp_path: Path) -> None:
    manifest = tmp_path / "pod.yaml"
    manifest.write_text(POD)
    out = kubectl("apply", "--validate=false", "-f", str(manifest))
    assert "pod/kpod created" in out.stdout
    out = kubectl("apply", "--validate=false", "-f", str(manifest))
    assert "pod/kpod" in out.stdout
    out = kubectl("get", "pods", "-o", "name")
    assert out.stdout.split() == ["pod/kpod"]
    out = kubectl("get", "pod", "kpod", "-o", "jsonpath={.metadata.labels.app}")
    assert out.stdout == "k"
    out = kubectl("delete", "pod", "kpod", "--grace-period=0", "--force", "--wait=false")
    assert "kpod" in out.stdout


def test_apply_vm_and_watch(kubectl: Any, tmp_path: Path) -> None:
    manifest = tmp_path / "vm.yaml"
    manifest.write_text(VM)
    out = kubectl("apply", "--validate=false", "-f", str(manifest))
    assert "virtualmachine.kubevirt.io/kvm created" in out.stdout
    out = kubectl("get", "vm", "kvm", "-o", "jsonpath={.spec.runStrategy}")
    assert out.stdout == "Halted"
    out = kubectl("apply", "--server-side", "--validate=false", "-f", str(manifest))
    assert "serverside-applied" in out.stdout
    watcher = kubectl("get", "vms", "-w", "-o", "name", popen=True)
    try:
        time.sleep(1.5)
        kubectl("label", "vm", "kvm", "seen=yes")
        time.sleep(1.5)
    finally:
        watcher.terminate()
        stdout, _ = watcher.communicate(timeout=10)
    assert stdout.split().count("virtualmachine.kubevirt.io/kvm") == 2
    out = kubectl("delete", "-f", str(manifest))
    assert "deleted" in out.stdout
    out = kubectl("get", "vms", "-o", "name")
    assert out.stdout.strip() == ""


def test_api_resources_and_version(kubectl: Any) -> None:
    out = kubectl("api-resources")
    assert "virtualmachines" in out.stdout and "pods" in out.stdout
    out = kubectl("version")
    assert "v1.31.0-sim" in out.stdout
