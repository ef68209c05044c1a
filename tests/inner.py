"""The one helper for inner pytest runs of the plugin: in-process (pytester) or as a subprocess.

Every inner run gets the same base arguments (no cache provider, its own rootdir) and names its
cluster the same way: ``--kube-config`` of a SimProcess, or ``--kube-sim`` when none is given.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest

from pytest_kubevirt_burner.sim.process import SimProcess

POD = """\
apiVersion: v1
kind: Pod
metadata:
  name: p-{{.Replica}}
spec:
  containers:
  - name: c
    image: registry.k8s.io/pause:3.9
"""

VM = """\
apiVersion: kubevirt.io/v1
kind: VirtualMachine
metadata:
  name: vm-{{.Replica}}
spec:
  runStrategy: Always
  template:
    spec:
      domain:
        devices: {}
        resources: {requests: {memory: 128Mi}}
      terminationGracePeriodSeconds: 0
"""


def simulator(**kwargs: Any) -> Iterator[SimProcess]:
    """A started SimProcess for a fixture to ``yield from``; cleaned up afterwards."""
    proc = SimProcess(**kwargs)
    proc.start()
    try:
        yield proc
    finally:
        proc.cleanup()


def write_templates(pytester: pytest.Pytester, **templates: str) -> None:
    """Write ``templates/<name>.yml`` for every keyword (``pod=POD`` -> templates/pod.yml)."""
    directory = pytester.path / "templates"
    directory.mkdir(exist_ok=True)
    for name, text in templates.items():
        (directory / f"{name}.yml").write_text(text)


def inner_args(root: Path, *args: str, metrics: Path | None = None) -> list[str]:
    """Base arguments of an inner run rooted at ``root`` (results in ``metrics`` when given)."""
    out = ["-p", "no:cacheprovider", f"--rootdir={root}"]
    if metrics is not None:
        out += ["--metrics-directory", str(metrics)]
    return [*out, *args]


def cluster_args(sim: SimProcess | None) -> list[str]:
    """The cluster of an inner run: ``sim``'s kubeconfig, or the embedded simulator."""
    return ["--kube-sim"] if sim is None else ["--kube-config", str(sim.kubeconfig)]


def run_inner(
    pytester: pytest.Pytester, sim: SimProcess | None, metrics: Path | None, *args: str
) -> pytest.RunResult:
    """Run pytest in-process on the pytester files against ``sim`` (None: ``--kube-sim``)."""
    return pytester.runpytest(
        *inner_args(pytester.path, *cluster_args(sim), *args, metrics=metrics)
    )


def pytest_command(suite: Path, *args: str) -> list[str]:
    """The command line of an inner pytest run of ``suite`` in a subprocess."""
    return [
        sys.executable,
        "-m",
        "pytest",
        "-p",
        "no:randomly",
        str(suite),
        *inner_args(suite, *args),
    ]


def inner_env() -> dict[str, str]:
    """Environment of subprocess runs: unbuffered, no inherited kubeconfig or pytest options."""
    e = {k: v for k, v in os.environ.items() if k not in ("KUBECONFIG", "PYTEST_ADDOPTS")}
    e["PYTHONUNBUFFERED"] = "1"
    return e


def _run(command: list[str], cwd: Path, timeout: float) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        command,
        cwd=cwd,
        env=inner_env(),
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        timeout=timeout,
        check=False,
    )


def run_pytest(suite: Path, *args: str, timeout: float = 240) -> subprocess.CompletedProcess[str]:
    """Run pytest on ``suite`` in a subprocess; stdout and stderr merged into ``stdout``."""
    return _run(pytest_command(suite, *args), suite, timeout)


def run_pytest_in(
    directory: Path, *args: str, timeout: float = 240
) -> subprocess.CompletedProcess[str]:
    """Run pytest in ``directory`` as a user would there (pytest finds rootdir and conftests)."""
    command = [sys.executable, "-m", "pytest", "-p", "no:cacheprovider", *args]
    return _run(command, directory, timeout)


@contextmanager
def popen_pytest(suite: Path, *args: str) -> Iterator[subprocess.Popen[bytes]]:
    """A running inner pytest (its own process group); killed on exit if still running."""
    proc = subprocess.Popen(
        pytest_command(suite, *args),
        cwd=suite,
        env=inner_env(),
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
