"""Fixtures for integration tests: a simulator per test module and clients for it."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from kubernetes import client, config

from . import simserver


@pytest.fixture(scope="module")
def sim(tmp_path_factory: pytest.TempPathFactory) -> Iterator[simserver.SimServer]:
    """A simulator running for the whole test module."""
    yield from simserver.running(tmp_path_factory.mktemp("sim"))


@pytest.fixture(scope="module")
def api(sim: simserver.SimServer) -> Iterator[Any]:
    """An ApiClient for ``sim`` built from its kubeconfig."""
    api_client = config.new_client_from_config(config_file=str(sim.kubeconfig))
    api_client.configuration.retries = False
    try:
        yield api_client
    finally:
        api_client.close()


@pytest.fixture(scope="module")
def core(api: Any) -> Any:
    """CoreV1Api on ``sim``."""
    return client.CoreV1Api(api)
