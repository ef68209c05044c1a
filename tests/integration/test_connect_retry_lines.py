"""Connection retries are reported as they happen (no silent minutes on an unreachable cluster)."""

from __future__ import annotations

import socket
from pathlib import Path

import pytest

from pytest_kubevirt_burner.cluster import ClusterClient, ClusterError, resolve_target
from pytest_kubevirt_burner.cluster.transport import RetryPolicy

from .test_cluster_client import write_kubeconfig


def _closed_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def test_every_connection_retry_reaches_the_hook(tmp_path: Path) -> None:
    url = f"http://127.0.0.1:{_closed_port()}"
    target = resolve_target(str(write_kubeconfig(tmp_path / "kc", url)), None, {})
    client = ClusterClient(target, retry=RetryPolicy(max_retries=3, base=0.01, jitter=0.0))
    seen: list[tuple[str, str]] = []
    client.stats.on_retry = lambda verb, cause, delay: seen.append((verb, cause))
    try:
        with pytest.raises(ClusterError, match="cannot reach the cluster"):
            client.server_version()
    finally:
        client.close()
    assert seen == [("get", "connection")] * 3
