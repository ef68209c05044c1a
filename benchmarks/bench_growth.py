"""Simulator CPU per pod create (to Running) as the store grows, in one process.

usage: python benchmarks/bench_growth.py [--marks 1000,5000,10000,20000] [--window 1000]
                                         [--namespaces K] [--services]

The store is filled to each mark, then the CPU of ``--window`` more creates (each until the pod
is Running, through every controller) is measured. A flat column means no per-write cost grows
with the number of stored objects. ``--services`` adds a Service selecting every pod.
"""

from __future__ import annotations

import argparse
import asyncio
import time
from typing import Any

from pytest_kubevirt_burner.sim.context import NodeShape
from pytest_kubevirt_burner.sim.gctune import tune_gc
from pytest_kubevirt_burner.sim.server import SimConfig, Simulator
from pytest_kubevirt_burner.sim.store import Event

POD: dict[str, Any] = {
    "metadata": {"name": "", "labels": {"app": "bench"}},
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


async def measure(marks: list[int], window: int, namespaces: int, services: bool) -> None:
    total = marks[-1] + window
    sim = Simulator(
        SimConfig(
            nodes=max(3, total // 400 + 1),
            profile="fast",
            seed=1,
            node_shape=NodeShape(pods=500),
            ground_truth=None,
        )
    )
    await sim.start()
    store, reg = sim.store, sim.registry
    pods = reg.core("pods")
    names = [f"bench-{k}" for k in range(namespaces)]
    for ns in names:
        store.create(reg.core("namespaces"), {"metadata": {"name": ns}})
        if services:
            store.create(
                reg.core("services"),
                {
                    "metadata": {"name": "svc"},
                    "spec": {"selector": {"app": "bench"}, "ports": [{"port": 80}]},
                },
                ns,
            )
    running = [0]

    def on_event(ev: Event) -> None:
        new = (ev.obj.get("status") or {}).get("phase")
        old = ((ev.old or {}).get("status") or {}).get("phase")
        if ev.type == "MODIFIED" and new == "Running" and old != "Running":
            running[0] += 1

    store.subscribe(on_event)
    made = 0

    async def create(n: int) -> None:
        nonlocal made
        for _ in range(n):
            body = {**POD, "metadata": {**POD["metadata"], "name": f"pod-{made}"}}
            store.create(pods, body, names[made % len(names)])
            made += 1
            if made % 50 == 0:
                await asyncio.sleep(0.001)  # let the controllers' timers run
        while running[0] < made:
            await asyncio.sleep(0.02)

    print(f"{'stored pods':>12} {'ms CPU/create':>14}")
    for mark in marks:
        await create(mark - made)
        c0 = time.process_time()
        await create(window)
        per = 1000 * (time.process_time() - c0) / window
        print(f"{mark:>12} {per:>14.3f}", flush=True)
    await sim.stop()


def main() -> None:
    """Parse options and run the measurement."""
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--marks", default="1000,5000,10000,20000")
    ap.add_argument("--window", type=int, default=1000)
    ap.add_argument("--namespaces", type=int, default=1)
    ap.add_argument("--services", action="store_true")
    args = ap.parse_args()
    marks = sorted(int(x) for x in args.marks.split(","))
    tune_gc()
    asyncio.run(measure(marks, args.window, args.namespaces, args.services))


if __name__ == "__main__":
    main()
