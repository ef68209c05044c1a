"""kube-burner's ``deletionStrategy: gvr``: objects first, kind by kind, then their namespaces.

The ``default`` strategy (cleanup.py) deletes a job's namespaces whole and lets the namespace
controller remove their contents. ``gvr`` deletes the job's objects inside each namespace with
one delete-collection request per kind (label selector, foreground propagation), waits until
they are gone, and only then deletes the namespaces; cluster-scoped objects and objects in
namespaces the job did not create are deleted by label as well. ``delete_objects`` picks the
strategy.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Iterable

from ..cluster.client import ClusterClient
from ..cluster.errors import ClusterError
from ..cluster.ratelimit import TokenBucket
from .cleanup import CleanupReport, delete_labelled, wait_gone

STRATEGIES = ("default", "gvr")


def delete_objects(
    strategy: str,
    client: ClusterClient,
    label_selector: str,
    kinds: Iterable[tuple[str, str]],
    limiter: TokenBucket,
    timeout: float,
    stop: threading.Event | None = None,
) -> CleanupReport:
    """Delete what ``label_selector`` matches with kube-burner's deletion ``strategy``."""
    if strategy == "gvr":
        return delete_by_gvr(client, label_selector, kinds, limiter, timeout, stop)
    return delete_labelled(client, label_selector, kinds, limiter, timeout, stop)


def _split(
    client: ClusterClient, kinds: Iterable[tuple[str, str]]
) -> tuple[list[tuple[str, str]], list[tuple[str, str]]]:
    """(namespaced, cluster-scoped) kinds, Namespace itself left out."""
    namespaced: list[tuple[str, str]] = []
    cluster: list[tuple[str, str]] = []
    for api_version, kind in kinds:
        if kind == "Namespace":
            continue
        info = client.resource_for(api_version, kind)
        (namespaced if info.namespaced else cluster).append((api_version, kind))
    return namespaced, cluster


def delete_by_gvr(
    client: ClusterClient,
    label_selector: str,
    kinds: Iterable[tuple[str, str]],
    limiter: TokenBucket,
    timeout: float,
    stop: threading.Event | None = None,
) -> CleanupReport:
    """Delete the matching objects per namespace and kind, wait for them, then the namespaces."""
    kinds = sorted(set(kinds))
    report = CleanupReport()
    deadline = time.monotonic() + timeout
    namespaced, cluster = _split(client, kinds)

    def collection(api_version: str, kind: str, namespace: str | None) -> None:
        try:
            done = client.delete_collection(
                api_version,
                kind,
                namespace=namespace,
                label_selector=label_selector,
                propagation="Foreground",
                limiter=limiter,
            )
            report.deleted += len(done.get("items") or [])
        except ClusterError:
            report.errors += 1

    for api_version, kind in cluster:
        if stop is not None and stop.is_set():
            return report
        collection(api_version, kind, None)
    own = sorted(
        n["metadata"]["name"] for n in client.list("v1", "Namespace", label_selector=label_selector)
    )
    others: set[str] = set()
    for api_version, kind in namespaced:
        for obj in client.list(api_version, kind, label_selector=label_selector):
            namespace = obj["metadata"].get("namespace")
            if namespace and namespace not in own:
                others.add(namespace)
    for namespace in [*sorted(others), *own]:
        for api_version, kind in namespaced:
            if stop is not None and stop.is_set():
                return report
            collection(api_version, kind, namespace)
        left = _wait_namespace(client, namespace, label_selector, namespaced, deadline, stop)
        if left:
            report.remaining = left
            return report
    for name in own:
        if stop is not None and stop.is_set():
            return report
        try:
            if client.delete("v1", "Namespace", name, missing_ok=True, limiter=limiter):
                report.deleted += 1
        except ClusterError:
            report.errors += 1
    left_time = max(0.0, deadline - time.monotonic())
    report.remaining = wait_gone(client, label_selector, kinds, left_time, stop)
    return report


def _wait_namespace(
    client: ClusterClient,
    namespace: str,
    label_selector: str,
    kinds: list[tuple[str, str]],
    deadline: float,
    stop: threading.Event | None,
) -> int:
    """Poll until no object of ``kinds`` matches in ``namespace``; how many remain at the end."""
    delay = 0.1
    while True:
        remaining = sum(
            client.count(av, k, namespace=namespace, label_selector=label_selector)
            for av, k in kinds
        )
        if remaining == 0 or time.monotonic() >= deadline:
            return remaining
        if stop is not None:
            if stop.wait(delay):
                return remaining
        else:
            time.sleep(delay)
        delay = min(delay * 2, 2.0)
