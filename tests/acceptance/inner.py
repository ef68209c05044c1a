"""Helpers for acceptance tests: write a suite with templates and run it against a simulator."""

from __future__ import annotations

from pathlib import Path

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


def write_templates(pytester: pytest.Pytester, **templates: str) -> None:
    """Write ``templates/<name>.yml`` for every keyword (``pod=POD`` -> templates/pod.yml)."""
    directory = pytester.path / "templates"
    directory.mkdir(exist_ok=True)
    for name, text in templates.items():
        (directory / f"{name}.yml").write_text(text)


def run_inner(
    pytester: pytest.Pytester, sim: SimProcess, metrics: Path, *args: str
) -> pytest.RunResult:
    """Run pytest in-process on the pytester files against ``sim``, results in ``metrics``."""
    return pytester.runpytest(
        "-p",
        "no:cacheprovider",
        f"--rootdir={pytester.path}",
        "--kube-config",
        str(sim.kubeconfig),
        "--metrics-directory",
        str(metrics),
        *args,
    )
