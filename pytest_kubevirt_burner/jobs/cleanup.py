"""Deleting what jobs created: only objects carrying our labels, rate-limited, waited for."""

from __future__ import annotations

import threading
import time
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from ..cluster.errors import ClusterError
from ..cluster.ratelimit import TokenBucket
from .labels import JOB, UUID


@dataclass
class CleanupReport:
    """What a cleanup deleted and what it could not remove in time."""

    deleted: int = 0
    remaining: int = 0
    errors: int = 0


def delete_labelled(
    client: Any,
    label_selector: str,
    kinds: Iterable[tuple[str, str]],
    limiter: TokenBucket,
    timeout: float,
    stop: threading.Event | None = None,
) -> CleanupReport:
    """Delete namespaces and objects of ``kinds`` matching ``label_selector``, then wait.

    Namespaces carrying the labels are deleted whole (their contents go with them); objects of
    the given kinds that match the selector elsewhere (pre-existing namespaces, cluster scope)
    are deleted one by one.
    """
    report = CleanupReport()
    victims: list[tuple[str, str, str, str | None]] = []
    namespaces = client.list("v1", "Namespace", label_selector=label_selector)
    ns_names = {n["metadata"]["name"] for n in namespaces}
    victims += [("v1", "Namespace", name, None) for name in sorted(ns_names)]
    for api_version, kind in kinds:
        if kind == "Namespace":
            continue
        for obj in client.list(api_version, kind, label_selector=label_selector):
            meta = obj["metadata"]
            if meta.get("namespace") in ns_names or meta.get("deletionTimestamp"):
                continue
            victims.append((api_version, kind, meta["name"], meta.get("namespace")))
    for api_version, kind, name, namespace in victims:
        if stop is not None and stop.is_set():
            break
        try:
            if (
                client.delete(
                    api_version, kind, name, namespace=namespace, missing_ok=True, limiter=limiter
                )
                is not None
            ):
                report.deleted += 1
        except ClusterError:
            report.errors += 1
    report.remaining = wait_gone(client, label_selector, kinds, timeout, stop)
    return report


def wait_gone(
    client: Any,
    label_selector: str,
    kinds: Iterable[tuple[str, str]],
    timeout: float,
    stop: threading.Event | None = None,
    namespaces: bool = True,
) -> int:
    """Poll (with backoff) until no namespace (unless ``namespaces=False``) or object of
    ``kinds`` matches; returns how many remain."""
    kinds = list(kinds)
    deadline = time.monotonic() + timeout
    delay = 0.1
    while True:
        remaining = 0
        if namespaces:
            remaining = client.count("v1", "Namespace", label_selector=label_selector)
        for api_version, kind in kinds:
            if kind != "Namespace":
                remaining += client.count(api_version, kind, label_selector=label_selector)
        if remaining == 0 or time.monotonic() >= deadline:
            return remaining
        if stop is not None and stop.wait(delay):
            return remaining
        if stop is None:
            time.sleep(delay)
        delay = min(delay * 2, 2.0)


def previous_runs_selector(job: str) -> str:
    """Objects of earlier runs of ``job`` (any uuid)."""
    return f"{JOB}={job}"


def this_run_selector(uuid: str, job: str | None = None) -> str:
    """Objects of this run (optionally of one job only)."""
    return f"{UUID}={uuid}" + (f",{JOB}={job}" if job else "")
