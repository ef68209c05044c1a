"""A watch on the simulator reads its stream with kernel receive stamps, on a thread of its own."""

from __future__ import annotations

import sys
import threading
from collections.abc import Iterator

import pytest

from pytest_kubevirt_burner.cluster import ClusterClient, ResilientWatch, WatchEvent
from pytest_kubevirt_burner.sim.process import SimProcess


@pytest.fixture
def client() -> Iterator[ClusterClient]:
    proc = SimProcess(ground_truth=False)
    try:
        proc.start()
        with ClusterClient.from_config(str(proc.kubeconfig), env={}, workers=4) as c:
            yield c
    finally:
        proc.cleanup()


def test_a_blocked_consumer_gets_every_event_in_order(client: ClusterClient) -> None:
    client.create({"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": "rx"}})
    handled: list[WatchEvent] = []
    release, done = threading.Event(), threading.Event()

    def blocked(event: WatchEvent) -> None:
        release.wait(30)  # the consumer is stuck while the stream keeps arriving
        handled.append(event)
        if len(handled) == 6:
            done.set()

    # the namespace's own kube-root-ca.crt is not one of the test's objects
    with ResilientWatch(client, "v1", "ConfigMap", "rx", "rx=1", on_event=blocked) as watch:
        assert watch.wait_synced(10)
        for i in range(6):
            meta = {"name": f"c{i}", "labels": {"rx": "1"}}
            body = {"apiVersion": "v1", "kind": "ConfigMap", "metadata": meta}
            client.create(body, "rx")
        release.set()
        assert done.wait(30)
        assert watch.kernel_stamps == sys.platform.startswith("linux")
    assert [e.obj["metadata"]["name"] for e in handled] == [f"c{i}" for i in range(6)]
    stamps = [e.received_at_ns for e in handled]
    assert stamps == sorted(stamps)
