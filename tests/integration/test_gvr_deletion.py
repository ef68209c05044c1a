"""kube-burner's deletion strategies against the simulator: ``gvr`` deletes the objects before
their namespaces, ``default`` deletes the namespaces whole.

The order is read from the watch history (resourceVersions are the store's global order), so
nothing here depends on timing.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from kubernetes import client, config, watch

from pytest_kubevirt_burner.cluster import ClusterClient
from pytest_kubevirt_burner.cluster.ratelimit import TokenBucket
from pytest_kubevirt_burner.jobs.gvr import delete_objects
from pytest_kubevirt_burner.sim.process import SimProcess

from ..inner import simulator

SELECTOR = "kube-burner.io/job=gvr-test"
LABELS = {"kube-burner.io/job": "gvr-test"}
KINDS = [("v1", "Pod"), ("v1", "ConfigMap"), ("v1", "Namespace")]


@pytest.fixture(scope="module")
def sim() -> Iterator[SimProcess]:
    yield from simulator(nodes=1, profile="fast", seed=3)


@pytest.fixture(scope="module")
def cluster(sim: SimProcess) -> Iterator[ClusterClient]:
    with ClusterClient.from_config(str(sim.kubeconfig), env={}, workers=4) as c:
        yield c


@pytest.fixture(scope="module")
def core(sim: SimProcess) -> Iterator[Any]:
    api = config.new_client_from_config(str(sim.kubeconfig))  # type: ignore[no-untyped-call]
    try:
        yield client.CoreV1Api(api)
    finally:
        api.close()


def _populate(cluster: ClusterClient, prefix: str) -> list[str]:
    names = [f"{prefix}-0", f"{prefix}-1"]
    for ns in names:
        cluster.create(
            {"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": ns, "labels": LABELS}}
        )
        for i in range(2):
            cluster.create(
                {
                    "apiVersion": "v1",
                    "kind": "Pod",
                    "metadata": {"name": f"p{i}", "namespace": ns, "labels": LABELS},
                    "spec": {"containers": [{"name": "c", "image": "registry.k8s.io/pause:3.9"}]},
                }
            )
        cluster.create(
            {
                "apiVersion": "v1",
                "kind": "ConfigMap",
                "metadata": {"name": "cm", "namespace": ns, "labels": LABELS},
            }
        )
    return names


def _history(core: Any, rv: str, names: list[str]) -> tuple[dict[str, int], dict[str, int]]:
    """(namespace -> rv it started terminating, namespace -> rv its last pod was deleted)."""
    terminating: dict[str, int] = {}
    w: Any = watch.Watch()  # type: ignore[no-untyped-call]
    for ev in w.stream(core.list_namespace, resource_version=rv, timeout_seconds=10):
        meta = ev["object"].metadata
        if meta.name in names and meta.deletion_timestamp and meta.name not in terminating:
            terminating[meta.name] = int(meta.resource_version)
        if len(terminating) == len(names):
            w.stop()
    pods_gone: dict[str, int] = {}
    deleted = 0
    w = watch.Watch()  # type: ignore[no-untyped-call]
    for ev in w.stream(core.list_pod_for_all_namespaces, resource_version=rv, timeout_seconds=10):
        meta = ev["object"].metadata
        if ev["type"] == "DELETED" and meta.namespace in names:
            at = int(meta.resource_version)
            pods_gone[meta.namespace] = max(pods_gone.get(meta.namespace, 0), at)
            deleted += 1
        if deleted == 2 * len(names):
            w.stop()
    return terminating, pods_gone


def test_gvr_deletes_objects_before_their_namespaces(cluster: ClusterClient, core: Any) -> None:
    names = _populate(cluster, "gvr")
    rv = core.list_namespace().metadata.resource_version
    report = delete_objects("gvr", cluster, SELECTOR, KINDS, TokenBucket(50, 50), 60.0)
    assert report.remaining == 0 and report.errors == 0
    assert report.deleted == 2 * (2 + 1) + 2  # pods and configmaps per namespace, namespaces
    terminating, pods_gone = _history(core, rv, names)
    assert set(terminating) == set(names) == set(pods_gone)
    assert all(pods_gone[ns] < terminating[ns] for ns in names)
    assert cluster.count("v1", "Namespace", label_selector=SELECTOR) == 0


def test_default_deletes_namespaces_whole(cluster: ClusterClient, core: Any) -> None:
    names = _populate(cluster, "dflt")
    rv = core.list_namespace().metadata.resource_version
    report = delete_objects("default", cluster, SELECTOR, KINDS, TokenBucket(50, 50), 60.0)
    assert report.remaining == 0 and report.deleted == len(names)  # only the namespaces
    terminating, pods_gone = _history(core, rv, names)
    assert all(terminating[ns] < pods_gone[ns] for ns in names)
