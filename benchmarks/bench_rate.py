"""Create rate accuracy and throughput ceiling of the plugin's real create path.

1. Rate accuracy: a density job (CreateJob, 32 workers, ConfigMaps rendered from a template) at
   qps 20, 100, 500 and 1,000 with burst = qps. The first ``burst`` tokens are free; after them
   the achieved rate is (tokens - burst) / (last - first). Reported for dispatch (token handed
   out) and completion (create answered), on the sink server and on the simulator.
2. Throughput ceiling, limiter off, the same pre-rendered ConfigMaps (or pods with
   ``--kind pod``), interleaved rounds:
   CreateJob.run (render + label + create), ClusterClient.create from T threads, raw urllib3 POSTs
   from T threads, and a naive loop over the official client's create_namespaced_config_map
   (create_namespaced_pod).
   Against the sink (measures the client) and the simulator (measures the pair).

    .venv/bin/python benchmarks/bench_rate.py                 # full run, ~3 min
    .venv/bin/python benchmarks/bench_rate.py --small         # smoke run, ~20 s

Prints tables; asserts nothing about timings.
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
import uuid as uuidlib
from collections.abc import Callable
from pathlib import Path
from typing import Any

import orjson
import urllib3

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
sys.path.insert(0, str(Path(__file__).resolve().parent))

from benchutil import SinkServer, machine, run_threads
from kubernetes import client as k8s
from kubernetes import config as k8s_config

from pytest_kubevirt_burner.cluster import ClusterClient, TokenBucket
from pytest_kubevirt_burner.jobs.context import JobContext
from pytest_kubevirt_burner.jobs.create import CreateJob
from pytest_kubevirt_burner.jobs.preflight import Plan, build_plan
from pytest_kubevirt_burner.jobspec import build_job
from pytest_kubevirt_burner.results import JobResult
from pytest_kubevirt_burner.sim.process import SimProcess
from pytest_kubevirt_burner.templates import TemplateRenderer

Obj = dict[str, Any]
CONFIGMAP = """\
apiVersion: v1
kind: ConfigMap
metadata:
  name: cm-{{ Iteration }}-{{ Replica }}
data:
  job: "{{ JobName }}"
  run: "{{ UUID }}"
  payload: "{{ 'x' * 256 }}"
"""
POD = """\
apiVersion: v1
kind: Pod
metadata:
  name: pod-{{ Iteration }}-{{ Replica }}
spec:
  containers:
  - name: pause
    image: registry.k8s.io/pause:3.9
    resources:
      requests:
        cpu: 10m
        memory: 16Mi
"""
# --kind: (template, plural, official client method, label)
KINDS = {
    "configmap": (CONFIGMAP, "configmaps", "create_namespaced_config_map", "ConfigMaps"),
    "pod": (POD, "pods", "create_namespaced_pod", "Pods"),
}
_seq = iter(range(1_000_000))


class RecordingBucket(TokenBucket):
    """A TokenBucket that records when each token was handed out (monotonic seconds)."""

    __slots__ = ("times",)

    def __init__(self, qps: float, burst: int) -> None:
        super().__init__(qps, burst)
        self.times: list[float] = []

    def wait(self) -> float:
        """Take a token and note the time."""
        waited = super().wait()
        self.times.append(time.monotonic())
        return waited


class Target:
    """A server (sink or simulator) with a plugin client, a kubeconfig and a bearer token."""

    def __init__(self, name: str, url: str, kubeconfig: Path, token: str, threads: int) -> None:
        self.name = name
        self.url = url
        self.kubeconfig = kubeconfig
        self.token = token
        self.client = ClusterClient.from_config(str(kubeconfig), env={}, workers=64)
        self.client.discover()
        self.threads = threads
        self.kind = "configmap"  # what the throughput modes create

    def close(self) -> None:
        """Close the plugin client's connections."""
        self.client.close()


def new_job(
    target: Target, workdir: Path, n: int, qps: float, burst: int, kind: str = "configmap"
) -> tuple[CreateJob, Plan]:
    """A CreateJob of ``n`` objects of ``kind`` in one fresh namespace (no watches, no cleanup)."""
    template = workdir / f"{kind}.yml"
    template.write_text(KINDS[kind][0])
    name = f"bench-{next(_seq)}"
    spec = build_job(
        "bench",
        "create",
        {
            "template": template.name,
            "replicas": n,
            "qps": qps,
            "burst": burst,
            "namespace": name,
            "namespaced_iterations": False,
            "cleanup": False,
            "verify_objects": False,
        },
        workdir,
        name,
    )
    ctx = JobContext(
        spec=spec,
        client=target.client,
        renderer=TemplateRenderer(workdir),
        uuid=str(uuidlib.uuid4()),
        runid=str(uuidlib.uuid4()),
    )
    plan = build_plan(ctx)
    assert not plan.problems, plan.problems
    result = JobResult(job_name=name, job_type="create", uuid=ctx.uuid)
    return CreateJob(ctx, plan, result, None), plan


def prerender(target: Target, workdir: Path, n: int) -> tuple[str, list[Obj]]:
    """A fresh namespace and ``n`` objects rendered and labelled by the plugin's renderer."""
    job, _ = new_job(target, workdir, n, 1e9, 1_000_000_000, target.kind)
    ns = job.ctx.spec.namespace_for(0)
    job.ensure_namespace(ns)
    docs = []
    for replica in range(1, n + 1):
        for doc in job.ctx.render(0, job.ctx.spec.objects[0], 0, replica):
            doc["metadata"]["namespace"] = ns
            docs.append(doc)
    return ns, docs


def mode_createjob(target: Target, workdir: Path, n: int) -> float:
    """CreateJob.run with the limiter effectively off: render, label, create from 32 workers."""
    job, _ = new_job(target, workdir, n, 1e9, 1_000_000_000, target.kind)
    start = time.perf_counter()
    job.run()
    secs = time.perf_counter() - start
    if job.result.errors or sum(job.created().values()) != n:
        raise RuntimeError(f"CreateJob: {job.result.errors[:3]}")
    return secs


def mode_ours(target: Target, workdir: Path, n: int) -> float:
    """ClusterClient.create of pre-rendered objects from ``threads`` threads."""
    _, docs = prerender(target, workdir, n)
    limiter = TokenBucket.unlimited()
    return run_threads(n, target.threads, lambda i: target.client.create(docs[i], limiter=limiter))


def mode_raw(target: Target, workdir: Path, n: int) -> float:
    """urllib3 POSTs of the same pre-rendered objects from ``threads`` threads."""
    ns, docs = prerender(target, workdir, n)
    bodies = [orjson.dumps(d) for d in docs]
    pool = urllib3.PoolManager(maxsize=target.threads, retries=False)
    url = f"{target.url}/api/v1/namespaces/{ns}/{KINDS[target.kind][1]}"
    headers = {
        "Authorization": f"Bearer {target.token}",
        "Content-Type": "application/json",
        "Accept": "application/json",
    }

    def one(i: int) -> None:
        resp = pool.request("POST", url, body=bodies[i], headers=headers)
        if resp.status != 201:
            raise RuntimeError(f"raw create: HTTP {resp.status}")
        orjson.loads(resp.data)

    try:
        return run_threads(n, target.threads, one)
    finally:
        pool.clear()


def mode_typed(target: Target, workdir: Path, n: int) -> float:
    """The naive way: one thread, the official client's typed create_namespaced_* method."""
    ns, docs = prerender(target, workdir, n)
    new_client: Callable[..., Any] = k8s_config.new_client_from_config
    api_client = new_client(config_file=str(target.kubeconfig))
    create: Callable[[str, Any], Any] = getattr(k8s.CoreV1Api(api_client), KINDS[target.kind][2])
    try:
        start = time.perf_counter()
        for doc in docs:
            create(ns, doc)
        return time.perf_counter() - start
    finally:
        api_client.close()


def mode_ours_1(target: Target, workdir: Path, n: int) -> float:
    """ClusterClient.create of pre-rendered objects from one thread (per-request cost)."""
    _, docs = prerender(target, workdir, n)
    limiter = TokenBucket.unlimited()
    return run_threads(n, 1, lambda i: target.client.create(docs[i], limiter=limiter))


def mode_raw_1(target: Target, workdir: Path, n: int) -> float:
    """urllib3 POSTs from one thread."""
    threads, target.threads = target.threads, 1
    try:
        return mode_raw(target, workdir, n)
    finally:
        target.threads = threads


JOB, OURS, RAW, TYPED, OURS1, RAW1 = (
    "CreateJob.run (render+create, 32 workers)",
    "ClusterClient.create, T threads",
    "raw urllib3 POST, T threads",
    "official typed create_*, 1 thread",
    "ClusterClient.create, 1 thread",
    "raw urllib3 POST, 1 thread",
)
MODES: list[tuple[str, Callable[[Target, Path, int], float]]] = [
    (JOB, mode_createjob),
    (OURS, mode_ours),
    (RAW, mode_raw),
    (TYPED, mode_typed),
    (OURS1, mode_ours_1),
    (RAW1, mode_raw_1),
]


def throughput(target: Target, workdir: Path, n: int, rounds: int) -> dict[str, list[float]]:
    """creates/s of every mode in every round; the mode order rotates between rounds."""
    rates: dict[str, list[float]] = {name: [] for name, _ in MODES}
    for r in range(rounds):
        for j in [(r + i) % len(MODES) for i in range(len(MODES))]:
            name, fn = MODES[j]
            rates[name].append(n / fn(target, workdir, n))
    return rates


def print_throughput(target: Target, n: int, rates: dict[str, list[float]]) -> None:
    """One row per mode (median and per-round rates), then the target ratios."""
    med = {k: sorted(v)[len(v) // 2] for k, v in rates.items()}
    what = KINDS[target.kind][3]
    print(f"\nthroughput on {target.name}: {n} {what} per mode per round, T={target.threads}")
    print(f"{'mode':44}{'median/s':>10}  per round")
    for name, values in rates.items():
        per = " ".join(f"{v:7.0f}" for v in values)
        print(f"{name:44}{med[name]:10.0f}  {per}")

    # Same-round ratios resist drift of a shared machine better than ratios of medians.
    def paired(a: str, b: str) -> str:
        vals = sorted(x / y for x, y in zip(rates[a], rates[b], strict=True))
        return f"{vals[len(vals) // 2]:.2f}"

    print(
        f"ratios (median of same-round ratios): ClusterClient/raw {paired(OURS, RAW)}"
        f"  CreateJob/raw {paired(JOB, RAW)}  ClusterClient/typed {paired(OURS, TYPED)}"
        f"  CreateJob/typed {paired(JOB, TYPED)}"
    )
    print(
        f"one thread each: ClusterClient/raw {paired(OURS1, RAW1)}"
        f"  ClusterClient/typed {paired(OURS1, TYPED)}"
    )


def rate(target: Target, workdir: Path, qps: int, seconds: float) -> tuple[int, float, float]:
    """(tokens, dispatch ratio, completion ratio) of a CreateJob at ``qps`` with burst = qps."""
    n = qps + int(qps * seconds)
    job, _ = new_job(target, workdir, n, qps, qps)
    bucket = RecordingBucket(qps, qps)
    job.limiter = bucket
    done: list[int] = []
    job.ctx.on_created = lambda _obj, t_ns: done.append(time.monotonic_ns())
    job.run()
    if job.result.errors:
        raise RuntimeError(f"rate {qps}: {job.result.errors[:3]}")
    times = bucket.times
    steady = len(times) - qps
    dispatch = steady / (times[-1] - times[0]) / qps
    completion = steady / (max(done) / 1e9 - times[0]) / qps
    return len(times), dispatch, completion


def main(argv: list[str] | None = None) -> int:
    """Run both parts on the sink and on the simulator; print tables."""
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    p.add_argument("--small", action="store_true", help="smoke run: few objects, short windows")
    p.add_argument("--objects", type=int, default=0, help="objects per mode per round")
    p.add_argument("--rounds", type=int, default=3)
    p.add_argument("--threads", type=int, default=8, help="T: threads of the threaded modes")
    p.add_argument("--seconds", type=float, default=0, help="steady window of each rate run")
    p.add_argument("--rates", default="20,100,500,1000")
    p.add_argument("--sink-procs", type=int, default=2)
    p.add_argument("--kind", choices=sorted(KINDS), default="configmap", help="throughput objects")
    p.add_argument("--skip-sim", action="store_true")
    p.add_argument("--skip-throughput", action="store_true")
    p.add_argument("--skip-rate", action="store_true")
    args = p.parse_args(argv)
    n = args.objects or (100 if args.small else 2000)
    seconds = args.seconds or (1.0 if args.small else 10.0)
    rounds = 1 if args.small else args.rounds
    print(f"machine: {machine()}")
    with tempfile.TemporaryDirectory(prefix="bench-rate-") as tmp:
        work = Path(tmp)
        sink = SinkServer(work, args.sink_procs).start()
        sim = None
        targets = []
        try:
            targets.append(Target("sink", sink.url, sink.kubeconfig, "sink-token", args.threads))
            if not args.skip_sim:
                sim = SimProcess(nodes=3, profile="fast", ground_truth=False, workdir=work / "sim")
                sim.start()
                targets.append(
                    Target("simulator", sim.url, sim.kubeconfig, sim.token, args.threads)
                )
            if not args.skip_throughput:
                for target in targets:
                    target.kind = args.kind
                    mode_ours(target, work, 200)  # warm-up: connections, discovery, templates
                    print_throughput(target, n, throughput(target, work, n, rounds))
            if not args.skip_rate:
                for target in targets:
                    print(f"\nrate accuracy on {target.name} (CreateJob, burst = qps, ConfigMaps)")
                    print(f"{'qps':>6}{'tokens':>8}{'dispatch/qps':>14}{'completed/qps':>15}")
                    for q in [int(x) for x in args.rates.split(",")]:
                        tokens, disp, comp = rate(target, work, q, seconds)
                        print(f"{q:6d}{tokens:8d}{disp:14.3f}{comp:15.3f}", flush=True)
        finally:
            for target in targets:
                target.close()
            if sim is not None:
                sim.cleanup()
            sink.stop()
    return 0


if __name__ == "__main__":
    sys.exit(main())
