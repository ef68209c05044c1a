"""Helpers for tests that run the simulator as a real subprocess (SimProcess) over raw HTTP."""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import orjson
import urllib3

from pytest_kubevirt_burner.sim.process import SimProcess


@contextmanager
def running(workdir: Path, **kwargs: Any) -> Iterator[SimProcess]:
    """A started SimProcess that is always stopped afterwards."""
    proc = SimProcess(workdir=workdir, **kwargs)
    try:
        proc.start()
        yield proc
    finally:
        proc.stop()


class Http:
    """A raw urllib3 client for one simulator, sending its bearer token."""

    def __init__(self, sim: SimProcess, *, retries: bool = False) -> None:
        self.url = sim.url
        self.token = sim.token
        self.pool = urllib3.PoolManager(
            num_pools=2, maxsize=8, retries=urllib3.Retry(0) if not retries else None
        )

    def request(
        self,
        method: str,
        path: str,
        body: Any = None,
        *,
        token: str | None = None,
        timeout: float = 10.0,
        **kwargs: Any,
    ) -> urllib3.BaseHTTPResponse:
        """Send one request; ``body`` is JSON-encoded."""
        token = self.token if token is None else token
        headers = {"Authorization": f"Bearer {token}"} if token else {}
        data = None
        if body is not None:
            headers["Content-Type"] = "application/json"
            data = orjson.dumps(body)
        return self.pool.request(
            method, self.url + path, body=data, headers=headers, timeout=timeout, **kwargs
        )

    def json(self, method: str, path: str, body: Any = None) -> Any:
        """Send one request and decode the JSON answer (any status)."""
        return orjson.loads(self.request(method, path, body).data)

    def close(self) -> None:
        """Close pooled connections."""
        self.pool.clear()


def namespace(name: str) -> dict[str, Any]:
    """A Namespace object."""
    return {"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": name}}


def configmap(name: str) -> dict[str, Any]:
    """A ConfigMap object."""
    return {"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": name}, "data": {"a": "b"}}


def pod(name: str, cpu: str = "100m", memory: str = "128Mi") -> dict[str, Any]:
    """A one-container Pod object with requests."""
    return {
        "apiVersion": "v1",
        "kind": "Pod",
        "metadata": {"name": name, "labels": {"app": "sim-test"}},
        "spec": {
            "containers": [
                {
                    "name": "main",
                    "image": "registry.k8s.io/pause:3.9",
                    "resources": {"requests": {"cpu": cpu, "memory": memory}},
                }
            ]
        },
    }


def vm(name: str) -> dict[str, Any]:
    """A running KubeVirt VirtualMachine with a container disk."""
    return {
        "apiVersion": "kubevirt.io/v1",
        "kind": "VirtualMachine",
        "metadata": {"name": name},
        "spec": {
            "runStrategy": "Always",
            "template": {
                "metadata": {"labels": {"kubevirt.io/vm": name}},
                "spec": {
                    "domain": {
                        "devices": {"disks": [{"name": "root", "disk": {"bus": "virtio"}}]},
                        "resources": {"requests": {"memory": "512Mi"}},
                    },
                    "volumes": [
                        {
                            "name": "root",
                            "containerDisk": {"image": "quay.io/containerdisks/fedora:40"},
                        }
                    ],
                },
            },
        },
    }


def wait_for(pred: Callable[[], Any], timeout: float = 15.0, interval: float = 0.05) -> Any:
    """Poll ``pred`` until it returns something truthy; AssertionError on timeout."""
    deadline = time.monotonic() + timeout
    while True:
        value = pred()
        if value:
            return value
        if time.monotonic() > deadline:
            raise AssertionError(f"condition not met within {timeout} s")
        time.sleep(interval)
