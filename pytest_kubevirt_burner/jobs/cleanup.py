"""Deleting what jobs created: only objects carrying our labels, rate-limited, waited for.

Also the session's cleanup after an interrupt (``cleanup_after_interrupt``), which deletes
everything labelled with the run's uuid with a bucket of its own (no job is running then).
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any

from ..cluster.errors import ClusterError
from ..cluster.ratelimit import TokenBucket
from ..interrupt import InterruptHandler, cleanup_command
from ..labels import JOB, UUID
from ..results import JobResult


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


CLEANUP_QPS = 20.0
CLEANUP_BURST = 20
CLEANUP_TIMEOUT = 300.0


def _created(results: list[JobResult]) -> tuple[dict[str, int], list[tuple[str, str]]]:
    counts: dict[str, int] = {}
    kinds: dict[str, str] = {}
    for result in results:
        if getattr(result, "dry_run", False) or result.job_type not in ("create", "kubevirt"):
            continue
        for kind, n in result.created.items():
            counts[kind] = counts.get(kind, 0) + n
        kinds.update(result.kinds)
    return counts, sorted((av, k) for k, av in kinds.items())


def cleanup_after_interrupt(
    handler: InterruptHandler,
    results: list[JobResult],
    client: Callable[[], Any] | None,
    uuid: str,
    target: tuple[str | None, str | None],
    keep: bool,
    write: Callable[[str], None],
) -> None:
    """After an interrupted session: delete everything labelled with this run's uuid.

    ``client`` returns the session's ClusterClient (None when no cluster was used); ``target``
    is (kubeconfig path, context) for the printed command. Never raises.
    """
    counts, kinds = _created(results)
    if client is None or not kinds:  # no create job started (kinds are known from preflight)
        return
    what = ", ".join(f"{k}: {n}" for k, n in sorted(counts.items())) or "namespaces only"
    command = cleanup_command(uuid, *target)
    if keep or handler.skip_cleanup:
        why = "--burner-keep-on-interrupt" if keep else "second signal"
        write(
            f"kubevirt-burner: cleanup skipped ({why}); this run's objects are left on the "
            f"cluster (created: {what}); remove them with: {command}"
        )
        return
    write(f"kubevirt-burner: interrupted; deleting this run's objects (uuid {uuid}: {what})")
    try:
        with handler.cleaning():
            report = delete_labelled(
                client(),
                this_run_selector(uuid),
                kinds,
                TokenBucket(CLEANUP_QPS, CLEANUP_BURST),
                CLEANUP_TIMEOUT,
                handler.cleanup_stop,
            )
    except KeyboardInterrupt:
        report = None
    except (ClusterError, OSError) as exc:
        write(f"kubevirt-burner: cleanup failed: {exc}; remove the leftovers with: {command}")
        return
    if report is None or handler.skip_cleanup:
        write(
            f"kubevirt-burner: cleanup aborted (second signal); this run's objects may be left "
            f"on the cluster (created: {what}); remove them with: {command}"
        )
    elif report.remaining:
        write(
            f"kubevirt-burner: {report.remaining} objects of this run are still being deleted; "
            f"check or finish with: {command}"
        )
    else:
        write(f"kubevirt-burner: deleted this run's objects ({report.deleted} delete requests)")
