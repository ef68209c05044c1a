"""Helpers of the reliability tests: suites written to disk, run as pytest subprocesses
against a SimProcess, and the cluster inspected through the official kubernetes client."""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from kubernetes import client, config

from pytest_kubevirt_burner.measurements.writer import read_json_array
from pytest_kubevirt_burner.sim.process import SimProcess

from ..inner import popen_pytest, run_pytest

__all__ = [
    "POD",
    "VM",
    "Cluster",
    "docs",
    "popen_pytest",
    "run_pytest",
    "summary",
    "wait_until",
    "write_suite",
]

UUID_LABEL = "kube-burner.io/uuid"

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
