"""Client benchmark against the simulator (indicative numbers, not a pass/fail test).

1. Create throughput with the limiter off, same simulator, same pre-rendered pod dicts:
   ClusterClient.create (threads) vs raw urllib3 POSTs (threads) vs a naive loop over the
   official client's typed ``CoreV1Api.create_namespaced_pod``.
2. Achieved vs requested rate for ``qps`` 20, 100 and 500 (burst = qps, as kube-burner configs
   usually set it) through the token bucket.

Usage: python benchmarks/bench_client.py [--small] [--objects N] [--threads N]
"""

from __future__ import annotations

import argparse
import itertools
import sys
import time
from collections.abc import Callable
from typing import Any

import orjson
import urllib3
from benchutil import run_threads
from kubernetes import client as k8s
from kubernetes import config as k8s_config

from pytest_kubevirt_burner.cluster import ClusterClient, TokenBucket
from pytest_kubevirt_burner.sim.process import SimProcess

Obj = dict[str, Any]
_seq = itertools.count()


def render_configmaps(ns: str, n: int) -> list[Obj]:
    """Pre-rendered ConfigMaps: no controllers act on them, so the server does less work."""
    return [
        {
            "apiVersion": "v1",
            "kind": "ConfigMap",
            "metadata": {"name": f"cm-{i}", "namespace": ns, "labels": {"bench": ns}},
            "data": {"key": "x" * 1024},
        }
        for i in range(n)
    ]


def render_pods(ns: str, n: int) -> list[Obj]:
    """Pre-rendered pod dicts, as the plugin's renderer would hand them to the client."""
    return [
        {
            "apiVersion": "v1",
            "kind": "Pod",
            "metadata": {
                "name": f"pod-{i}",
                "namespace": ns,
                "labels": {"kube-burner.io/uuid": "bench", "kube-burner.io/job": ns},
            },
            "spec": {
                "containers": [
                    {
                        "name": "c",
                        "image": "registry.k8s.io/pause:3.9",
                        "resources": {"requests": {"cpu": "1m", "memory": "1Mi"}},
                    }
                ]
            },
        }
        for i in range(n)
    ]


def fresh_namespace(client: ClusterClient, name: str) -> str:
    client.create({"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": name}})
    return name


Render = Callable[[str, int], list[Obj]]


def bench_ours(client: ClusterClient, render: Render, n: int, threads: int) -> float:
    pods = render(fresh_namespace(client, f"ours-{threads}-{next(_seq)}"), n)
    limiter = TokenBucket.unlimited()

    def one(i: int) -> None:
        client.create(pods[i], limiter=limiter)

    return run_threads(n, threads, one)


def bench_raw(
    sim: SimProcess, client: ClusterClient, render: Render, n: int, threads: int
) -> float:
    ns = fresh_namespace(client, f"raw-{threads}-{next(_seq)}")
    objs = render(ns, n)
    bodies = [orjson.dumps(p) for p in objs]
    plural = "pods" if objs[0]["kind"] == "Pod" else "configmaps"
    pool = urllib3.PoolManager(maxsize=threads)
    url = f"{sim.url}/api/v1/namespaces/{ns}/{plural}"
    headers = {
        "Authorization": f"Bearer {sim.token}",
        "Content-Type": "application/json",
        "Accept": "application/json",
    }

    def one(i: int) -> None:
        resp = pool.request("POST", url, body=bodies[i], headers=headers, retries=False)
        if resp.status != 201:
            raise RuntimeError(f"raw create: HTTP {resp.status}")
        orjson.loads(resp.data)

    try:
        return run_threads(n, threads, one)
    finally:
        pool.clear()


def bench_typed(sim: SimProcess, client: ClusterClient, render: Render, n: int) -> float:
    ns = fresh_namespace(client, f"typed-{next(_seq)}")
    objs = render(ns, n)
    new_client: Callable[..., Any] = k8s_config.new_client_from_config
    api_client = new_client(config_file=str(sim.kubeconfig))
    core = k8s.CoreV1Api(api_client)
    create: Callable[[str, Any], Any] = (
        core.create_namespaced_pod
        if objs[0]["kind"] == "Pod"
        else core.create_namespaced_config_map
    )
    try:
        start = time.perf_counter()
        for obj in objs:
            create(ns, obj)  # the naive way: typed models both ways
        return time.perf_counter() - start
    finally:
        api_client.close()


def throughput(
    sim: SimProcess, client: ClusterClient, render: Render, n: int, threads: int, rounds: int = 3
) -> list[tuple[str, int, int, float]]:
    """(mode, threads, objects, seconds) per mode, in interleaved rounds (shared server drift)."""
    modes: list[tuple[str, int, Callable[[int], float]]] = [
        ("ClusterClient.create", threads, lambda k: bench_ours(client, render, k, threads)),
        ("raw urllib3 POST", threads, lambda k: bench_raw(sim, client, render, k, threads)),
        ("ClusterClient.create", 1, lambda k: bench_ours(client, render, k, 1)),
        ("raw urllib3 POST", 1, lambda k: bench_raw(sim, client, render, k, 1)),
        ("typed create_* loop (official)", 1, lambda k: bench_typed(sim, client, render, k)),
    ]
    totals = [0.0] * len(modes)
    for r in range(rounds):
        for j in [(r + i) % len(modes) for i in range(len(modes))]:
            totals[j] += modes[j][2](n // rounds)
    done = (n // rounds) * rounds
    return [(name, t, done, secs) for (name, t, _), secs in zip(modes, totals, strict=True)]


def bench_rate(client: ClusterClient, qps: int, n: int, threads: int) -> tuple[float, float]:
    """Return (steady dispatch rate after the burst, end-to-end completion rate)."""
    pods = render_pods(fresh_namespace(client, f"rate-{qps}"), n)
    limiter = TokenBucket(qps, qps)
    dispatched: list[float] = [0.0] * n

    def one(i: int) -> None:
        limiter.wait()
        dispatched[i] = time.perf_counter()
        client.create(pods[i], limiter=TokenBucket.unlimited())

    elapsed = run_threads(n, threads, one)
    times = sorted(dispatched)
    # A token bucket allows at most burst + qps*T tokens in any window T.
    steady = (n - qps) / (times[-1] - times[0]) if n > qps else float("nan")
    return steady, n / elapsed


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--small", action="store_true", help="smoke run with few objects")
    parser.add_argument("--objects", type=int, default=0, help="objects per throughput mode")
    parser.add_argument("--threads", type=int, default=8)
    args = parser.parse_args(argv)
    n = args.objects or (200 if args.small else 3000)
    rate_n = {20: 60, 100: 200, 500: 1000} if args.small else {20: 2000, 100: 3000, 500: 5000}
    threads = args.threads
    sim = SimProcess(nodes=20, ground_truth=False)
    sim.start()
    try:
        with ClusterClient.from_config(str(sim.kubeconfig), env={}, workers=threads) as client:
            client.discover()
            print(f"simulator {sim.url}; {n} pods per mode; {threads} threads", flush=True)
            print(
                f"\n{'kind':10} {'mode':34} {'threads':>7} {'objects':>8} {'seconds':>8} "
                f"{'creates/s':>10}",
                flush=True,
            )
            for label, render in (("Pod", render_pods), ("ConfigMap", render_configmaps)):
                for mode, t, done, secs in throughput(sim, client, render, n, threads):
                    print(
                        f"{label:10} {mode:34} {t:7d} {done:8d} {secs:8.2f} {done / secs:10.0f}",
                        flush=True,
                    )
            print(
                f"\n{'requested qps':>13} {'objects':>8} {'achieved qps':>13} {'ratio':>6} "
                f"{'end-to-end qps':>15}",
                flush=True,
            )
            for qps, count in rate_n.items():
                steady, e2e = bench_rate(client, qps, count, max(threads, 16))
                print(
                    f"{qps:13d} {count:8d} {steady:13.1f} {steady / qps:6.3f} {e2e:15.1f}",
                    flush=True,
                )
            snap = client.stats.snapshot()
            print(
                f"\nclient stats: {snap.total_requests} requests, {snap.retries} retries, "
                f"{snap.http_429} x 429, {snap.http_5xx} x 5xx, errors {snap.errors}"
            )
    finally:
        sim.cleanup()
    return 0


if __name__ == "__main__":
    sys.exit(main())
