"""Watch streams through the official client and raw HTTP: order, resume, 410, bookmarks."""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Iterator
from typing import Any

import pytest
import urllib3
from kubernetes import config, watch
from kubernetes.client.exceptions import ApiException

from . import simserver
from .simserver import TOKEN, SimServer

NS = "default"


@pytest.fixture(scope="module")
def sim(tmp_path_factory: pytest.TempPathFactory) -> Iterator[SimServer]:
    """A simulator with a small event buffer and a fast bookmark period."""
    yield from simserver.running(
        tmp_path_factory.mktemp("sim"), watch_buffer=50, bookmark_period=0.3, watch_queue=100
    )


def cm(name: str, **labels: str) -> dict[str, Any]:
    return {"metadata": {"name": name, "labels": labels}, "data": {}}


def stream_lines(sim: SimServer, path: str, read_timeout: float = 10.0) -> Iterator[dict[str, Any]]:
    """Yield the decoded NDJSON lines of a raw watch request."""
    http = urllib3.PoolManager()
    resp = http.request(
        "GET",
        sim.url + path,
        headers={"Authorization": f"Bearer {TOKEN}"},
        preload_content=False,
        timeout=urllib3.Timeout(read=read_timeout),
    )
    assert resp.status == 200
    assert resp.headers["Content-Type"].startswith("application/json")
    buf = b""
    try:
        for chunk in resp.stream(4096):
            buf += chunk
            while b"\n" in buf:
                line, buf = buf.split(b"\n", 1)
                yield json.loads(line)
    finally:
        resp.release_conn()


def later(delay: float, fn: Any) -> threading.Thread:
    """Run ``fn`` after ``delay`` s in a thread."""

    def run() -> None:
        time.sleep(delay)
        fn()

    t = threading.Thread(target=run, daemon=True)
    t.start()
    return t


def test_watch_streams_events_in_order(core: Any) -> None:
    rv = core.list_namespaced_config_map(NS).metadata.resource_version

    def writes() -> None:
        core.create_namespaced_config_map(NS, cm("w1"))
        core.patch_namespaced_config_map("w1", NS, {"data": {"a": "1"}})
        core.delete_namespaced_config_map("w1", NS)

    later(0.2, writes)
    seen = []
    w = watch.Watch()
    for ev in w.stream(core.list_namespaced_config_map, NS, resource_version=rv, timeout_seconds=5):
        seen.append((ev["type"], ev["object"].metadata.name))
        if len(seen) == 3:
            w.stop()
    assert seen == [("ADDED", "w1"), ("MODIFIED", "w1"), ("DELETED", "w1")]


def test_watch_without_rv_sends_current_state_first(core: Any) -> None:
    core.create_namespaced_config_map(NS, cm("initial"))
    w = watch.Watch()
    first = next(iter(w.stream(core.list_namespaced_config_map, NS, timeout_seconds=2)))
    w.stop()
    assert first["type"] == "ADDED"
    core.delete_namespaced_config_map("initial", NS)


def test_watch_resumes_after_cut_stream(sim: SimServer, core: Any) -> None:
    rv = core.list_namespaced_config_map(NS).metadata.resource_version
    sim.call(lambda: setattr(sim.ctx, "watch_cut_seconds", 0.5))
    try:

        def writes() -> None:
            for i in range(4):
                core.create_namespaced_config_map(NS, cm(f"cut{i}"))
                time.sleep(0.4)

        later(0.1, writes)
        names = []
        w = watch.Watch()
        deadline = time.monotonic() + 15
        for ev in w.stream(core.list_namespaced_config_map, NS, resource_version=rv):
            names.append(ev["object"].metadata.name)
            if len(names) == 4 or time.monotonic() > deadline:
                w.stop()
    finally:
        sim.call(lambda: setattr(sim.ctx, "watch_cut_seconds", None))
    assert names == ["cut0", "cut1", "cut2", "cut3"]


def test_too_old_resource_version_gives_410(sim: SimServer, core: Any) -> None:
    old_rv = core.list_namespaced_config_map(NS).metadata.resource_version
    for i in range(60):  # more than the buffer of 50 events
        core.create_namespaced_config_map(NS, cm(f"old{i}"))
    events = list(
        stream_lines(sim, f"/api/v1/namespaces/{NS}/configmaps?watch=1&resourceVersion={old_rv}")
    )
    assert len(events) == 1
    err = events[0]
    assert err["type"] == "ERROR"
    assert err["object"]["code"] == 410 and err["object"]["reason"] == "Expired"
    assert err["object"]["message"].startswith(f"too old resource version: {old_rv} (")
    with pytest.raises(ApiException) as exc:
        for _ in watch.Watch().stream(
            core.list_namespaced_config_map, NS, resource_version=old_rv, timeout_seconds=2
        ):
            pass
    assert exc.value.status == 410
    core.delete_collection_namespaced_config_map(NS)


def test_bookmarks_and_timeout(sim: SimServer, core: Any) -> None:
    rv = core.list_namespaced_config_map(NS).metadata.resource_version
    t0 = time.monotonic()
    events = list(
        stream_lines(
            sim,
            f"/api/v1/namespaces/{NS}/configmaps?watch=true&resourceVersion={rv}"
            "&allowWatchBookmarks=true&timeoutSeconds=1",
        )
    )
    elapsed = time.monotonic() - t0
    assert 0.9 < elapsed < 30  # closed by timeoutSeconds=1, not by the test's own timeout
    assert len(events) >= 2
    assert {e["type"] for e in events} == {"BOOKMARK"}
    obj = events[0]["object"]
    assert obj["kind"] == "ConfigMap" and obj["apiVersion"] == "v1"
    assert set(obj["metadata"]) == {"resourceVersion"}


def test_send_initial_events_ends_with_annotated_bookmark(sim: SimServer, core: Any) -> None:
    core.create_namespaced_config_map(NS, cm("si1"))
    core.create_namespaced_config_map(NS, cm("si2"))
    events = []
    for ev in stream_lines(
        sim,
        f"/api/v1/namespaces/{NS}/configmaps?watch=1"
        "&sendInitialEvents=true&resourceVersionMatch=NotOlderThan"
        "&allowWatchBookmarks=true&timeoutSeconds=2",
    ):
        events.append(ev)
        if ev["type"] == "BOOKMARK":
            break
    assert [e["object"]["metadata"]["name"] for e in events[:-1]] == ["si1", "si2"]
    assert events[-1]["object"]["metadata"]["annotations"] == {"k8s.io/initial-events-end": "true"}
    core.delete_collection_namespaced_config_map(NS)


def test_selector_transitions(core: Any) -> None:
    core.create_namespaced_config_map(NS, cm("sel", tier="a"))
    rv = core.list_namespaced_config_map(NS).metadata.resource_version

    def writes() -> None:
        core.patch_namespaced_config_map("sel", NS, {"metadata": {"labels": {"tier": "b"}}})
        core.patch_namespaced_config_map("sel", NS, {"data": {"x": "1"}})
        core.patch_namespaced_config_map("sel", NS, {"metadata": {"labels": {"tier": "a"}}})

    later(0.2, writes)
    seen = []
    w = watch.Watch()
    for ev in w.stream(
        core.list_namespaced_config_map,
        NS,
        resource_version=rv,
        label_selector="tier=a",
        timeout_seconds=5,
    ):
        seen.append((ev["type"], ev["object"].metadata.labels["tier"]))
        if len(seen) == 2:
            w.stop()
    assert seen == [("DELETED", "a"), ("ADDED", "a")]
    core.delete_namespaced_config_map("sel", NS)


def test_single_object_watch_by_name(core: Any) -> None:
    core.create_namespaced_config_map(NS, cm("one"))
    core.create_namespaced_config_map(NS, cm("two"))
    w = watch.Watch()
    names = set()
    for ev in w.stream(
        core.list_namespaced_config_map, NS, field_selector="metadata.name=two", timeout_seconds=1
    ):
        names.add(ev["object"].metadata.name)
    assert names == {"two"}
    core.delete_collection_namespaced_config_map(NS)


def test_slow_consumer_is_disconnected(sim: SimServer, core: Any) -> None:
    http = urllib3.PoolManager()
    resp = http.request(
        "GET",
        sim.url + f"/api/v1/namespaces/{NS}/configmaps?watch=1"
        "&resourceVersion=" + core.list_namespaced_config_map(NS).metadata.resource_version,
        headers={"Authorization": f"Bearer {TOKEN}"},
        preload_content=False,
    )
    time.sleep(0.2)
    hub = sim.ctx  # the stream is open and not being read

    def burst() -> None:
        rt = hub.registry.core("configmaps")
        for i in range(150):  # queue limit is 100 lines
            hub.store.create(rt, {"metadata": {"name": f"burst{i}"}}, NS)

    sim.call(burst)
    data = resp.read()  # the server closed the stream: read() returns
    resp.release_conn()
    assert data.count(b"\n") < 100
    core.delete_collection_namespaced_config_map(NS)


def test_dynamic_client_watch(sim: SimServer, tmp_path: Any) -> None:
    from kubernetes import dynamic

    api_client = config.new_client_from_config(config_file=str(sim.kubeconfig))
    dyn = dynamic.DynamicClient(api_client, cache_file=str(tmp_path / "cache.json"))
    cms = dyn.resources.get(api_version="v1", kind="ConfigMap")
    cms.create(body=cm("dyn"), namespace=NS)
    events = [e for e in cms.watch(namespace=NS, timeout=1)]
    assert ("ADDED", "dyn") in [(e["type"], e["object"].metadata.name) for e in events]
    cms.delete(name="dyn", namespace=NS)
    api_client.close()
