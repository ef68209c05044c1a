"""Helpers of the reliability tests: suites written to disk, run as pytest subprocesses
against a SimProcess, and the cluster inspected through the official kubernetes client."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from kubernetes import client, config

from pytest_kubevirt_burner.measurements.writer import read_json_array
from pytest_kubevirt_burner.sim.process import SimProcess

UUID_LABEL = "kube-burner.io/uuid"

# pytester's in-process runs (acceptance tests) drop the modules they imported first, and the
# kubernetes client imports its pydantic models lazily: two generations of a model class would
# make CoreV1Api refuse our V1Pod. Import every model at collection, before any inner run.
for _module in (client, client.models):
    for _name in getattr(_module, "__all__", ()):
        getattr(_module, _name)

POD = """\
apiVersion: v1
kind: Pod
metadata:
  name: pod-{{.Iteration}}-{{.Replica}}
spec:
  containers:
  - name: c
    image: registry.k8s.io/pause:3.9
    resources: {requests: {cpu: 10m, memory: 16Mi}}
"""

VM = """\
apiVersion: kubevirt.io/v1
kind: VirtualMachine
metadata:
  name: vm-{{.Iteration}}-{{.Replica}}
spec:
  runStrategy: Always
  template:
    spec:
      domain:
        devices:
          disks:
          - name: containerdisk
            disk: {bus: virtio}
        resources:
          requests: {memory: 64Mi}
      volumes:
      - name: containerdisk
        containerDisk: {image: quay.io/kubevirt/cirros-container-disk-demo}
"""


def write_suite(root: Path, body: str, templates: dict[str, str] | None = None) -> Path:
    """A directory with ``test_suite.py`` and ``templates/*``; returns it."""
    root.mkdir(parents=True, exist_ok=True)
    tdir = root / "templates"
    tdir.mkdir(exist_ok=True)
    for name, text in (templates or {"pod.yml": POD, "vm.yml": VM}).items():
        (tdir / name).write_text(text)
    (root / "test_suite.py").write_text(body)
    return root


def pytest_command(suite: Path, *args: str) -> list[str]:
    """The command line of an inner pytest run of ``suite``."""
    return [
        sys.executable,
        "-m",
        "pytest",
        "-p",
        "no:cacheprovider",
        "-p",
        "no:randomly",
        str(suite),
        f"--rootdir={suite}",
        *args,
    ]


def env() -> dict[str, str]:
    """Environment of inner runs: unbuffered, no inherited kubeconfig."""
    e = {k: v for k, v in os.environ.items() if k not in ("KUBECONFIG", "PYTEST_ADDOPTS")}
    e["PYTHONUNBUFFERED"] = "1"
    return e


def run_pytest(suite: Path, *args: str, timeout: float = 240) -> subprocess.CompletedProcess[str]:
    """Run pytest on ``suite`` in a subprocess; stdout and stderr merged into ``stdout``."""
    return subprocess.run(
        pytest_command(suite, *args),
        cwd=suite,
        env=env(),
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        timeout=timeout,
        check=False,
    )


@contextmanager
def popen_pytest(suite: Path, *args: str) -> Iterator[subprocess.Popen[bytes]]:
    """A running inner pytest (its own process group); killed on exit if still running."""
    proc = subprocess.Popen(
        pytest_command(suite, *args),
        cwd=suite,
        env=env(),
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        start_new_session=True,
    )
    try:
        yield proc
    finally:
        if proc.poll() is None:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait()
        if proc.stdout is not None:
            proc.stdout.close()


def wait_until(cond: Callable[[], bool], timeout: float, what: str) -> None:
    """Poll ``cond`` every 50 ms until it is true; AssertionError naming ``what`` on timeout."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if cond():
            return
        time.sleep(0.05)
    raise AssertionError(f"timed out after {timeout:g}s waiting for {what}")


@dataclass
class Cluster:
    """The official client on a simulator: the independent view of what exists."""

    api: Any
    core: Any
    custom: Any

    @classmethod
    @contextmanager
    def of(cls, sim: SimProcess) -> Iterator[Cluster]:
        """Clients for ``sim`` (closed on exit)."""
        api = config.new_client_from_config(config_file=str(sim.kubeconfig))
        try:
            yield cls(api, client.CoreV1Api(api), client.CustomObjectsApi(api))
        finally:
            api.close()

    def pods(self, selector: str = "") -> list[tuple[str, str]]:
        """(namespace, name) of every pod matching ``selector``."""
        items = self.core.list_pod_for_all_namespaces(label_selector=selector).items
        return [(p.metadata.namespace, p.metadata.name) for p in items]

    def vms(self, selector: str = "") -> list[tuple[str, str]]:
        """(namespace, name) of every VirtualMachine matching ``selector``."""
        body = self.custom.list_cluster_custom_object(
            "kubevirt.io", "v1", "virtualmachines", label_selector=selector
        )
        return [(i["metadata"]["namespace"], i["metadata"]["name"]) for i in body["items"]]

    def namespaces(self, selector: str = "") -> list[str]:
        """Names of namespaces matching ``selector`` (terminating ones included)."""
        return [n.metadata.name for n in self.core.list_namespace(label_selector=selector).items]

    def live_namespaces(self, selector: str = "") -> list[str]:
        """Namespaces matching ``selector`` that are not being deleted."""
        items = self.core.list_namespace(label_selector=selector).items
        return [n.metadata.name for n in items if n.metadata.deletion_timestamp is None]

    def terminating(self, selector: str = "") -> int:
        """How many namespaces matching ``selector`` are being deleted (one LIST)."""
        items = self.core.list_namespace(label_selector=selector).items
        return sum(1 for n in items if n.metadata.deletion_timestamp is not None)

    def ours(self, uuid: str) -> dict[str, int]:
        """How many namespaces, pods and VMs carry run ``uuid``'s label (live ones)."""
        sel = f"{UUID_LABEL}={uuid}"
        return {
            "namespaces": len(self.live_namespaces(sel)),
            "pods": len(self.pods(sel)),
            "vms": len(self.vms(sel)),
        }

    def labelled(self) -> dict[str, int]:
        """Namespaces, pods and VMs carrying any kube-burner uuid label."""
        return {
            "namespaces": len(self.live_namespaces(UUID_LABEL)),
            "pods": len(self.pods(UUID_LABEL)),
            "vms": len(self.vms(UUID_LABEL)),
        }


def summary(metrics: Path) -> list[dict[str, Any]]:
    """The jobSummary documents of a metrics directory ([] when missing)."""
    path = metrics / "jobSummary.json"
    return read_json_array(path) if path.exists() else []


def docs(metrics: Path, name: str) -> list[dict[str, Any]]:
    """The documents of one result file ([] when missing)."""
    path = metrics / name
    return read_json_array(path) if path.exists() else []
