"""Simulator benchmarks: write throughput against a trivial aiohttp echo server, and scale.

    .venv/bin/python benchmarks/bench_sim.py                       # 10,000 pods + 3,000 VMs
    .venv/bin/python benchmarks/bench_sim.py --pods 500 --vms 100  # CI smoke run

Throughput: echo and simulator bursts alternate (``--rounds``), each measured as creates/s and
as server CPU per create until the server is idle again; the simulator keeps three pod watches
open. Scale: wall time, simulator CPU seconds and peak RSS (VmHWM) per phase. Prints tables;
asserts nothing about timings. See docs/benchmarks.md.
"""

from __future__ import annotations

import argparse
import math
import os
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import orjson
import urllib3

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from pytest_kubevirt_burner.sim.process import SimProcess

NS = "bench"
CLK_TCK = os.sysconf("SC_CLK_TCK")
ECHO_SERVER = r"""
import itertools, sys, uuid
import orjson
from aiohttp import web
rv = itertools.count(1)
async def create(request):
    obj = orjson.loads(await request.read())
    meta = obj.setdefault("metadata", {})
    meta["uid"] = str(uuid.uuid4())
    meta["resourceVersion"] = str(next(rv))
    return web.Response(status=201, body=orjson.dumps(obj), content_type="application/json")
app = web.Application()
app.router.add_post("/api/v1/namespaces/{ns}/pods", create)
async def main():
    runner = web.AppRunner(app, access_log=None)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    host, port = runner.addresses[0][:2]
    print(f"listening on http://{host}:{port}", flush=True)
    import asyncio
    await asyncio.Event().wait()
import asyncio
asyncio.run(main())
"""


def pod_body(i: int) -> bytes:
    """A pre-rendered pod."""
    return orjson.dumps(
        {
            "apiVersion": "v1",
            "kind": "Pod",
            "metadata": {"name": f"pod-{i}", "labels": {"app": "bench"}},
            "spec": {
                "containers": [
                    {
                        "name": "main",
                        "image": "registry.k8s.io/pause:3.9",
                        "resources": {"requests": {"cpu": "10m", "memory": "16Mi"}},
                    }
                ]
            },
        }
    )


def vm_body(i: int) -> bytes:
    """A pre-rendered running VirtualMachine."""
    return orjson.dumps(
        {
            "apiVersion": "kubevirt.io/v1",
            "kind": "VirtualMachine",
            "metadata": {"name": f"vm-{i}", "labels": {"app": "bench"}},
            "spec": {
                "runStrategy": "Always",
                "template": {
                    "spec": {
                        "domain": {
                            "devices": {"disks": [{"name": "root", "disk": {"bus": "virtio"}}]},
                            "resources": {"requests": {"cpu": "10m", "memory": "64Mi"}},
                        },
                        "volumes": [
                            {"name": "root", "containerDisk": {"image": "quay.io/fedora:40"}}
                        ],
                    }
                },
            },
        }
    )


class Client:
    """A raw urllib3 client shared by the worker threads."""

    def __init__(self, url: str, token: str | None, threads: int) -> None:
        self.url = url
        self.headers = {"Content-Type": "application/json"}
        if token:
            self.headers["Authorization"] = f"Bearer {token}"
        self.pool = urllib3.PoolManager(maxsize=threads + 4, retries=False)
        self.threads = threads

    def post_all(self, path: str, bodies: list[bytes]) -> float:
        """POST every body with ``threads`` threads; returns the wall time."""

        def work(chunk: list[bytes]) -> None:
            for body in chunk:
                resp = self.pool.request("POST", self.url + path, body=body, headers=self.headers)
                if resp.status != 201:
                    raise RuntimeError(f"POST {path}: {resp.status} {resp.data[:200]!r}")

        chunks = [bodies[i :: self.threads] for i in range(self.threads)]
        start = time.perf_counter()
        with ThreadPoolExecutor(self.threads) as pool:
            for fut in [pool.submit(work, c) for c in chunks]:
                fut.result()
        return time.perf_counter() - start

    def watch(self, path: str, on_event: Callable[[dict[str, Any]], None]) -> threading.Thread:
        """Follow a watch stream in a daemon thread, calling ``on_event`` per event."""
        resp = self.pool.request(
            "GET",
            self.url + path,
            headers=self.headers,
            preload_content=False,
            timeout=urllib3.Timeout(connect=5, read=None),
        )

        def follow() -> None:
            buf = b""
            try:
                for chunk in resp.stream(65536):
                    buf += chunk
                    *lines, buf = buf.split(b"\n")
                    for line in lines:
                        if line:
                            on_event(orjson.loads(line))
            except (urllib3.exceptions.HTTPError, OSError):
                pass

        thread = threading.Thread(target=follow, daemon=True)
        thread.start()
        return thread


def proc_times(pid: int) -> tuple[float, float]:
    """(user, system) CPU seconds of ``pid``."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return int(fields[11]) / CLK_TCK, int(fields[12]) / CLK_TCK


def proc_cpu(pid: int) -> float:
    """utime + stime of ``pid`` in seconds."""
    return sum(proc_times(pid))


def proc_hwm_mib(pid: int) -> float:
    """Peak resident set size (VmHWM) of ``pid`` in MiB."""
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024
    return float("nan")


class Echo:
    """The trivial aiohttp echo server in a child process."""

    def __init__(self) -> None:
        self.proc = subprocess.Popen(
            [sys.executable, "-c", ECHO_SERVER], stdout=subprocess.PIPE, text=True
        )
        assert self.proc.stdout is not None
        self.url = self.proc.stdout.readline().split()[-1]
        self.pid = self.proc.pid

    def close(self) -> None:
        """Stop the server."""
        self.proc.terminate()
        self.proc.wait(10)


def wait_idle(pid: int, timeout: float = 120.0, quiet: float = 0.03) -> None:
    """Wait until ``pid`` uses under ``quiet`` of a core over 0.25 s (its backlog is done)."""
    end = time.monotonic() + timeout
    last = proc_cpu(pid)
    while time.monotonic() < end:
        time.sleep(0.25)
        now = proc_cpu(pid)
        if now - last < quiet * 0.25:
            return
        last = now


def _sim(workdir: Path, objects: int) -> SimProcess:
    nodes = max(3, math.ceil(objects / 400))
    return SimProcess(
        workdir=workdir, profile="fast", nodes=nodes, node_pods=500, ground_truth=False, seed=1
    )


@dataclass
class Burst:
    """One timed burst of creates against one server."""

    rate: float  # creates/s while the clients were posting
    cpu_ms: float  # server CPU per create, including work it finished after the burst
    sys_ms: float  # the kernel's part of it (socket writes)
    client_ms: float  # CPU of this (client) process per create, watch readers included


def burst(client: Client, pid: int, path: str, bodies: list[bytes]) -> Burst:
    """POST ``bodies``; measure the rate and the server's CPU until it is idle again."""
    wait_idle(pid)
    user0, sys0 = proc_times(pid)
    own0 = time.process_time()
    rate = len(bodies) / client.post_all(path, bodies)
    wait_idle(pid)
    user1, sys1 = proc_times(pid)
    per = 1000 / len(bodies)
    own = (time.process_time() - own0) * per
    return Burst(rate, (user1 + sys1 - user0 - sys0) * per, (sys1 - sys0) * per, own)


@dataclass
class Throughput:
    """Interleaved echo and simulator bursts of one run."""

    echo: list[Burst]
    sim: list[Burst]
    seen: int

    @property
    def ratio(self) -> float:
        """Best simulator rate over best echo rate (best of N resists background load)."""
        return max(b.rate for b in self.sim) / max(b.rate for b in self.echo)

    @property
    def median_ratio(self) -> float:
        """Median over rounds of the simulator/echo rate ratio of the same round."""
        return statistics.median(s.rate / e.rate for s, e in zip(self.sim, self.echo, strict=True))

    @property
    def cpu_ratio(self) -> float:
        """Echo CPU per create over simulator CPU per create (medians)."""
        return statistics.median(b.cpu_ms for b in self.echo) / statistics.median(
            b.cpu_ms for b in self.sim
        )


def throughput(workdir: Path, writes: int, threads: int, rounds: int) -> Throughput:
    """Alternate echo and simulator bursts of ``writes`` pod creates, ``rounds`` times each."""
    path = f"/api/v1/namespaces/{NS}/pods"
    echo = Echo()
    try:
        with _sim(workdir, (writes + 1) * (rounds + 1)) as sim:
            eclient = Client(echo.url, None, threads)
            client = Client(sim.url, sim.token, threads)
            ns = orjson.dumps({"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": NS}})
            client.post_all("/api/v1/namespaces", [ns])
            seen = [0, 0, 0]
            lock = threading.Lock()

            def counter(i: int) -> Callable[[dict[str, Any]], None]:
                def count(_: dict[str, Any]) -> None:
                    with lock:
                        seen[i] += 1

                return count

            for i in range(3):
                client.watch(f"{path}?watch=1", counter(i))
            warm = [pod_body(10_000_000 + i) for i in range(200)]
            eclient.post_all(path, warm)
            client.post_all(path, warm)
            result = Throughput([], [], 0)
            for r in range(rounds):
                bodies = [pod_body(r * writes + i) for i in range(writes)]
                result.echo.append(burst(eclient, echo.pid, path, bodies))
                result.sim.append(burst(client, sim.pid, path, bodies))
            result.seen = min(seen)
            return result
    finally:
        echo.close()


@dataclass
class ScaleResult:
    """One scale phase."""

    what: str
    count: int
    create_s: float
    ready_s: float
    cpu_s: float
    hwm_mib: float


def scale(workdir: Path, pods: int, vms: int, threads: int, timeout: float) -> list[ScaleResult]:
    """``pods`` pods to Ready, then ``vms`` VMs to Running, on the fast profile."""
    results = []
    with _sim(workdir, pods + vms) as sim:
        client = Client(sim.url, sim.token, threads)
        ns = orjson.dumps({"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": NS}})
        client.post_all("/api/v1/namespaces", [ns])
        ready_pods: set[str] = set()
        running_vms: set[str] = set()
        done = threading.Condition()

        def on_pod(ev: dict[str, Any]) -> None:
            obj = ev.get("object") or {}
            conds = (obj.get("status") or {}).get("conditions") or []
            if any(c.get("type") == "Ready" and c.get("status") == "True" for c in conds):
                with done:
                    ready_pods.add(obj["metadata"]["name"])
                    done.notify_all()

        def on_vm(ev: dict[str, Any]) -> None:
            obj = ev.get("object") or {}
            if (obj.get("status") or {}).get("printableStatus") == "Running":
                with done:
                    running_vms.add(obj["metadata"]["name"])
                    done.notify_all()

        client.watch(f"/api/v1/namespaces/{NS}/pods?watch=1&labelSelector=app%3Dbench", on_pod)
        vms_path = f"/apis/kubevirt.io/v1/namespaces/{NS}/virtualmachines"
        client.watch(f"{vms_path}?watch=1", on_vm)
        phases = [
            ("pods", pods, f"/api/v1/namespaces/{NS}/pods", pod_body, ready_pods),
            ("vms", vms, vms_path, vm_body, running_vms),
        ]
        for what, count, path, render, reached in phases:
            if not count:
                continue
            bodies = [render(i) for i in range(count)]
            cpu0 = proc_cpu(sim.pid)
            t0 = time.perf_counter()
            create_s = client.post_all(path, bodies)
            with done:
                if not done.wait_for(lambda r=reached, c=count: len(r) >= c, timeout):  # type: ignore[misc]
                    raise RuntimeError(f"{what}: only {len(reached)}/{count} after {timeout} s")
            results.append(
                ScaleResult(
                    what,
                    count,
                    create_s,
                    time.perf_counter() - t0,
                    proc_cpu(sim.pid) - cpu0,
                    proc_hwm_mib(sim.pid),
                )
            )
        resp = client.pool.request("GET", sim.url + "/metrics")
        print(f"/metrics at the end: {len(resp.data) / 1024:.0f} KiB")
    return results


def main(argv: list[str] | None = None) -> int:
    """Run the benchmarks and print a table."""
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    p.add_argument("--pods", type=int, default=10_000, help="pods for the scale run")
    p.add_argument("--vms", type=int, default=3_000, help="VMs for the scale run")
    p.add_argument("--writes", type=int, default=None, help="creates for the throughput run")
    p.add_argument("--threads", type=int, default=4)
    p.add_argument("--rounds", type=int, default=3, help="interleaved throughput rounds")
    p.add_argument("--timeout", type=float, default=600.0, help="seconds to reach Ready/Running")
    p.add_argument("--skip-throughput", action="store_true")
    p.add_argument("--skip-scale", action="store_true")
    args = p.parse_args(argv)
    writes = args.writes or max(500, min(args.pods, 3000))
    with tempfile.TemporaryDirectory(prefix="bench-sim-") as tmp:
        if not args.skip_throughput:
            tp = throughput(Path(tmp) / "tp", writes, args.threads, args.rounds)
            print(
                f"\nwrite throughput: {writes} pod creates per burst, {args.threads} threads,"
                f" {args.rounds} interleaved rounds; the simulator has 3 pod watches open"
            )
            head = f"{'server':<14}{'creates/s per round':>30}{'best':>8}"
            print(head + f"{'cpu ms/create':>15}{'(sys)':>8}{'client ms':>11}")
            for name, bursts in (("aiohttp echo", tp.echo), ("simulator", tp.sim)):
                rates = " ".join(f"{b.rate:>7.0f}" for b in bursts)
                cpu = statistics.median(b.cpu_ms for b in bursts)
                sys_ms = statistics.median(b.sys_ms for b in bursts)
                own = statistics.median(b.client_ms for b in bursts)
                best = max(b.rate for b in bursts)
                print(f"{name:<14}{rates:>30}{best:>8.0f}{cpu:>15.3f}{sys_ms:>8.3f}{own:>11.3f}")
            print(f"ratio simulator/echo (best rates):   {tp.ratio:.2f}")
            print(f"ratio simulator/echo (median round): {tp.median_ratio:.2f}")
            print(f"cpu ratio echo/simulator per create: {tp.cpu_ratio:.2f}")
            print(f"(fewest events seen by one watch: {tp.seen})")
        if not args.skip_scale:
            rows = scale(Path(tmp) / "scale", args.pods, args.vms, args.threads, args.timeout)
            print("\nscale (fast profile)")
            header = f"{'phase':<8}{'count':>8}{'create s':>10}{'to ready s':>12}"
            print(header + f"{'sim cpu s':>11}{'peak RSS MiB':>14}")
            for r in rows:
                print(
                    f"{r.what:<8}{r.count:>8}{r.create_s:>10.1f}{r.ready_s:>12.1f}"
                    f"{r.cpu_s:>11.1f}{r.hwm_mib:>14.0f}"
                )
    return 0


if __name__ == "__main__":
    sys.exit(main())
