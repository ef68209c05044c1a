"""Micro-benchmark of the simulator Store: create N pods, update, list, delete; print rates and RSS.

Run: .venv/bin/python benchmarks/bench_store.py [N]   (no assertions; numbers only)
"""

from __future__ import annotations

import resource
import sys
import time
from typing import Any

from pytest_kubevirt_burner.sim.registry import Registry
from pytest_kubevirt_burner.sim.store import Event, Store


def rss_mib() -> float:
    """Peak resident set size of this process in MiB."""
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def pod(i: int) -> dict[str, Any]:
    return {
        "apiVersion": "v1",
        "kind": "Pod",
        "metadata": {
            "name": f"pod-{i}",
            "labels": {"app": "bench", "kube-burner-uuid": "1234", "replica": str(i % 10)},
        },
        "spec": {
            "containers": [
                {
                    "name": "c",
                    "image": "registry.k8s.io/pause:3.9",
                    "resources": {"requests": {"cpu": "10m", "memory": "16Mi"}},
                    "ports": [{"containerPort": 8080}],
                }
            ],
            "nodeSelector": {"kubernetes.io/os": "linux"},
        },
    }


def rate(label: str, n: int, seconds: float) -> None:
    print(f"{label:<28} {n:>8} ops  {seconds:7.2f} s  {n / seconds:10.0f} ops/s")


def main(n: int = 100_000) -> None:
    reg = Registry.builtin()
    pods = reg.core("pods")
    ns_rt = reg.core("namespaces")
    store = Store(reg)
    events = 0

    def count(ev: Event) -> None:
        nonlocal events
        events += 1

    store.subscribe(count)
    namespaces = [f"bench-{i}" for i in range(max(1, n // 1000))]
    for ns in namespaces:
        store.create(ns_rt, {"metadata": {"name": ns}})
    rss0 = rss_mib()

    t0 = time.perf_counter()
    for i in range(n):
        store.create(pods, pod(i), namespaces[i % len(namespaces)])
    rate("create", n, time.perf_counter() - t0)

    t0 = time.perf_counter()
    for i in range(n):
        store.mutate(
            pods,
            namespaces[i % len(namespaces)],
            f"pod-{i}",
            lambda o: o["spec"].update(nodeName="node-1"),
        )
    rate("mutate (bind)", n, time.perf_counter() - t0)

    t0 = time.perf_counter()
    for i in range(n):
        store.mutate(
            pods,
            namespaces[i % len(namespaces)],
            f"pod-{i}",
            lambda o: o["status"].update(phase="Running"),
            subresource="status",
        )
    rate("mutate status", n, time.perf_counter() - t0)

    lists = 20
    t0 = time.perf_counter()
    for _ in range(lists):
        store.list(pods, label_selector="app=bench,replica in (1,2)")
    rate("list all (label selector)", lists, time.perf_counter() - t0)
    t0 = time.perf_counter()
    for ns in namespaces:
        store.list(pods, ns)
    rate("list one namespace", len(namespaces), time.perf_counter() - t0)

    print(f"RSS peak after writes: {rss_mib():.0f} MiB (baseline {rss0:.0f} MiB)")

    t0 = time.perf_counter()
    for i in range(n):
        ns = namespaces[i % len(namespaces)]
        store.delete(pods, ns, f"pod-{i}", grace_period_seconds=0)
    rate("delete", n, time.perf_counter() - t0)
    print(f"events delivered: {events}, final rv: {store.rv}")


if __name__ == "__main__":
    main(int(sys.argv[1]) if len(sys.argv) > 1 else 100_000)
