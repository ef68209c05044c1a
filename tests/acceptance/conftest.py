"""Fixtures for plugin acceptance tests: one simulator per module, inner pytest runs against it."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from kubernetes import client, config

from pytest_kubevirt_burner.sim.process import SimProcess

from ..inner import run_inner, simulator


@pytest.fixture(scope="module")
def sim() -> Iterator[SimProcess]:
    """A simulated cluster (fast profile, 3 nodes) shared by a test module."""
    yield from simulator(nodes=3, profile="fast", seed=7)


@pytest.fixture(scope="module")
def core(sim: SimProcess) -> Iterator[Any]:
    """The official client's CoreV1Api on ``sim`` (ground truth for what the plugin did)."""
    api = config.new_client_from_config(config_file=str(sim.kubeconfig))
    try:
        yield client.CoreV1Api(api)
    finally:
        api.close()


@pytest.fixture
def run_burner(pytester: pytest.Pytester, sim: SimProcess) -> Any:
    """Run pytest in-process on the files made with ``pytester`` against ``sim``."""

    def run(*args: str) -> pytest.RunResult:
        return run_inner(pytester, sim, None, *args)

    return run
