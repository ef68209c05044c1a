"""ResilientWatch against the simulator: order, resume after cut streams, relist after 410."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterator
from typing import Any

import pytest

from pytest_kubevirt_burner.cluster import ClusterClient, ResilientWatch, WatchEvent
from pytest_kubevirt_burner.sim.process import SimProcess


class Collector:
    """Thread-safe event sink with a blocking wait."""

    def __init__(self) -> None:
        self.events: list[WatchEvent] = []
        self._cond = threading.Condition()

    def __call__(self, event: WatchEvent) -> None:
        if event.obj["metadata"]["name"] == ROOT_CA:  # in every namespace, as on real clusters
            return
        with self._cond:
            self.events.append(event)
            self._cond.notify_all()

    def wait_for(self, done: Callable[[list[WatchEvent]], bool], timeout: float = 15.0) -> bool:
        with self._cond:
            return self._cond.wait_for(lambda: done(self.events), timeout)

    def summary(self) -> list[tuple[str, str, bool]]:
        return [(e.type, e.obj["metadata"]["name"], e.synthetic) for e in self.events]


ROOT_CA = "kube-root-ca.crt"


def start_sim(*, faults: str = "", extra: tuple[str, ...] = ()) -> SimProcess:
    proc = SimProcess(faults=faults or (), extra_args=extra, ground_truth=False)
    try:
        proc.start()
    except BaseException:
        proc.cleanup()
        raise
    return proc


@pytest.fixture
def sim_client(request: pytest.FixtureRequest) -> Iterator[ClusterClient]:
    kwargs: dict[str, Any] = getattr(request, "param", {})
    proc = start_sim(**kwargs)
    try:
        with ClusterClient.from_config(str(proc.kubeconfig), env={}, workers=4) as client:
            yield client
    finally:
        proc.cleanup()


def cm(name: str, data: str = "0") -> dict[str, Any]:
    return {
        "apiVersion": "v1",
        "kind": "ConfigMap",
        "metadata": {"name": name},
        "data": {"v": data},
    }


def make_ns(client: ClusterClient, name: str) -> str:
    client.create({"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": name}})
    return name


def test_events_arrive_in_order_with_receipt_stamps(sim_client: ClusterClient) -> None:
    client = sim_client
    ns = make_ns(client, "order")
    client.create(cm("before"), ns)
    sink = Collector()
    with ResilientWatch(client, "v1", "ConfigMap", ns, on_event=sink) as watch:
        assert watch.wait_synced(10)
        client.create(cm("c1"), ns)
        client.patch("v1", "ConfigMap", "c1", {"data": {"v": "1"}}, "merge", ns)
        client.patch("v1", "ConfigMap", "c1", {"data": {"v": "2"}}, "merge", ns)
        client.delete("v1", "ConfigMap", "c1", ns)
        assert sink.wait_for(lambda ev: len(ev) >= 5)
    assert sink.summary() == [
        ("ADDED", "before", True),
        ("ADDED", "c1", False),
        ("MODIFIED", "c1", False),
        ("MODIFIED", "c1", False),
        ("DELETED", "c1", False),
    ]
    rvs = [int(e.obj["metadata"]["resourceVersion"]) for e in sink.events]
    assert rvs == sorted(rvs)
    assert [e.obj["data"]["v"] for e in sink.events[1:4]] == ["0", "1", "2"]
    walls = [e.received_at_ns for e in sink.events]
    monos = [e.received_monotonic_ns for e in sink.events]
    assert walls == sorted(walls) and monos == sorted(monos)
    # + 1: the namespace's kube-root-ca.crt, there as on real clusters
    assert watch.events == 5 + 1 and watch.relists == 0


def test_stop_is_prompt_and_iterator_ends(sim_client: ClusterClient) -> None:
    watch = ResilientWatch(sim_client, "v1", "ConfigMap", "default").start()
    assert watch.wait_synced(10)
    watch.stop(timeout=5)
    assert watch._thread is not None and not watch._thread.is_alive()
    # nothing happened (but the namespace's root CA ConfigMap); the iterator ends after stop
    assert [e for e in watch if e.obj["metadata"]["name"] != ROOT_CA] == []


@pytest.mark.parametrize("sim_client", [{"faults": "watch-cut=1s"}], indirect=True)
def test_resume_after_cuts_loses_and_duplicates_nothing(sim_client: ClusterClient) -> None:
    client = sim_client
    ns = make_ns(client, "cuts")
    sink = Collector()
    expected: list[tuple[str, str, str]] = []  # (type, uid, rv) as the writes reported them
    with ResilientWatch(client, "v1", "ConfigMap", ns, on_event=sink) as watch:
        assert watch.wait_synced(10)
        deadline = time.monotonic() + 3.5  # spans at least three server-side cuts
        i = 0
        while time.monotonic() < deadline or i < 30:
            obj = client.create(cm(f"c{i}"), ns)
            uid = obj["metadata"]["uid"]
            expected.append(("ADDED", uid, obj["metadata"]["resourceVersion"]))
            obj = client.patch("v1", "ConfigMap", f"c{i}", {"data": {"v": "1"}}, "merge", ns)
            expected.append(("MODIFIED", uid, obj["metadata"]["resourceVersion"]))
            if i % 3 == 0:
                client.delete("v1", "ConfigMap", f"c{i}", ns)
                expected.append(("DELETED", uid, ""))
            i += 1
            time.sleep(0.03)
        assert sink.wait_for(lambda ev: len(ev) >= len(expected), timeout=20)
        time.sleep(0.3)  # anything extra (a duplicate) would arrive now
    got = [
        (e.type, e.obj["metadata"]["uid"], e.obj["metadata"]["resourceVersion"])
        for e in sink.events
    ]
    assert len(got) == len(expected)
    # DELETED carries a new resourceVersion the client did not see: compare type and uid only.
    assert [(t, u) for t, u, _ in got] == [(t, u) for t, u, _ in expected]
    assert [g for g in got if g[0] != "DELETED"] == [x for x in expected if x[0] != "DELETED"]
    assert not any(e.synthetic for e in sink.events)
    assert watch.reconnects >= 3 and watch.relists == 0


@pytest.mark.parametrize("sim_client", [{"extra": ("--event-buffer", "10")}], indirect=True)
def test_relist_after_410_emits_only_differences(sim_client: ClusterClient) -> None:
    client = sim_client
    ns, other = make_ns(client, "gone"), make_ns(client, "noise")
    for i in range(5):
        client.create(cm(f"a{i}"), ns)
    sink = Collector()

    def strip(obj: dict[str, Any]) -> dict[str, Any]:
        return {"metadata": {"name": obj["metadata"]["name"]}, "data": obj.get("data")}

    watch = ResilientWatch(client, "v1", "ConfigMap", ns, on_event=sink, strip=strip)
    watch.start()
    try:
        assert watch.wait_synced(10)
        assert sink.wait_for(lambda ev: len(ev) == 5)
        watch.stop()
        relists_before = watch.relists
        sink.events.clear()
        # While the watch is away: real changes here, and enough writes elsewhere to push its
        # resourceVersion out of the server's 10-event buffer.
        client.patch("v1", "ConfigMap", "a0", {"data": {"v": "changed"}}, "merge", ns)
        client.delete("v1", "ConfigMap", "a1", ns)
        for name in ("b0", "b1"):
            client.create(cm(name), ns)
        for i in range(15):
            client.create(cm(f"n{i}"), other)
        watch.start()
        assert sink.wait_for(lambda ev: len(ev) >= 4)
        client.patch("v1", "ConfigMap", "a2", {"data": {"v": "live"}}, "merge", ns)
        assert sink.wait_for(lambda ev: len(ev) >= 5)
        time.sleep(0.3)
    finally:
        watch.stop()
    assert watch.relists > relists_before
    summary = sink.summary()
    assert sorted(summary[:4]) == [
        ("ADDED", "b0", True),
        ("ADDED", "b1", True),
        ("DELETED", "a1", True),
        ("MODIFIED", "a0", True),
    ]
    assert summary[4:] == [("MODIFIED", "a2", False)]
    deleted = next(e for e in sink.events if e.type == "DELETED")
    assert deleted.obj == {"metadata": {"name": "a1"}, "data": {"v": "0"}}  # the stripped copy
    assert watch.size == 6 + 1  # + 1: the namespace's kube-root-ca.crt
