"""Scale and cost growth of the plugin: VM and pod density runs on the simulator.

Each run starts a fresh simulator (``fast`` profile, enough nodes) and runs a generated density
suite in a child ``python -m pytest`` (the plugin exactly as users run it, ``--kube-config`` of the
simulator). The plugin's CPU and peak RSS come from ``os.wait4`` of that child, so they are
separate from the simulator's, which come from /proc/<pid>/stat and VmHWM.

    .venv/bin/python benchmarks/bench_scale.py --vms 10000              # 30,000 objects
    .venv/bin/python benchmarks/bench_scale.py --pods 30000
    .venv/bin/python benchmarks/bench_scale.py --growth 1000,3000,10000 # VMs; a table
    .venv/bin/python benchmarks/bench_scale.py --vms 50 --pods 100      # smoke run

Prints a table (and ``--json FILE`` writes the rows); asserts nothing about timings.
"""

from __future__ import annotations

import argparse
import json
import math
import os
import subprocess
import sys
import tempfile
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
sys.path.insert(0, str(Path(__file__).resolve().parent))

from benchutil import ROOT, machine, proc_cpu, proc_status_kib

from pytest_kubevirt_burner.sim.process import SimProcess

VM_TEMPLATE = ROOT / "example_suites" / "kubevirt-density" / "templates" / "vm-ephemeral.yml"
POD_TEMPLATE = """\
apiVersion: v1
kind: Pod
metadata:
  name: {{ JobName }}-{{ Replica }}
  labels:
    app: density
spec:
  containers:
  - name: pause
    image: registry.k8s.io/pause:3.9
    resources:
      requests:
        cpu: 10m
        memory: 16Mi
"""
VM_VARS = {
    "name": "vm",
    "OS": "fedora",
    "cpuCores": 1,
    "memory": "64Mi",
    "createVMI": True,
    "image": "quay.io/kubevirt/fedora-container-disk-images:35",
}
SUITE = """\
import json, os, resource, threading, time
from pathlib import Path
import pytest


def _status(key):
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith(key + ":"):
            return int(line.split()[1])
    return -1


@pytest.mark.density(**{kwargs})
def test_scale(burner):
    before = resource.getrusage(resource.RUSAGE_SELF)
    rss_before = _status("VmRSS")
    samples, done = [], threading.Event()

    def sample_rss():  # (seconds since the job started, VmRSS KiB) every 20 ms
        while not done.wait(0.02):
            samples.append((time.monotonic() - t0, _status("VmRSS")))

    t0 = time.monotonic()
    sampler = threading.Thread(target=sample_rss, daemon=True)
    sampler.start()
    result = burner.run()
    wall = time.monotonic() - t0
    done.set()
    sampler.join()
    after = resource.getrusage(resource.RUSAGE_SELF)
    create_end = result.create_seconds or 0.0
    phase_rss = {{
        "create": max([r for t, r in samples if t <= create_end], default=rss_before),
        "wait, verify, finalise": max([r for t, r in samples if t > create_end], default=0),
    }}
    Path(os.environ["BENCH_OUT"]).write_text(json.dumps({{
        "job_wall_s": wall,
        "job_cpu_s": after.ru_utime + after.ru_stime - before.ru_utime - before.ru_stime,
        "maxrss_before_kib": before.ru_maxrss,
        "maxrss_after_kib": after.ru_maxrss,
        "rss_before_kib": rss_before,
        "rss_after_kib": _status("VmRSS"),
        "create_s": result.create_seconds,
        "created": result.created,
        "ready": result.ready,
        "verified": result.verified,
        "qps_achieved": result.qps_achieved,
        "phase_rss_kib": phase_rss,
    }}))
    assert result.verified
"""


@dataclass
class Row:
    """One density run."""

    what: str
    count: int
    objects: int  # tracked: VM + VMI + launcher pod per VM, one per pod
    wall_s: float  # child pytest process, start to exit
    job_wall_s: float  # burner.run()
    create_s: float
    plugin_cpu_s: float  # the whole child process
    job_cpu_s: float  # inside burner.run()
    plugin_hwm_mib: float
    job_rss_growth_mib: float  # peak RSS after burner.run() minus RSS before it
    sim_cpu_s: float
    sim_hwm_mib: float
    ready: dict[str, int]
    verified: bool
    variant: str = "current"
    phase_rss_mib: dict[str, float] = field(default_factory=dict)  # sampled VmRSS peak per phase

    @property
    def cpu_ms_per_object(self) -> float:
        """Plugin CPU per tracked object, whole process."""
        return self.plugin_cpu_s * 1000 / self.objects

    @property
    def job_cpu_ms_per_object(self) -> float:
        """Plugin CPU per tracked object inside the job."""
        return self.job_cpu_s * 1000 / self.objects

    @property
    def bytes_per_object(self) -> float:
        """Peak RSS growth during the job per tracked object."""
        return self.job_rss_growth_mib * 1024 * 1024 / self.objects


def write_suite(suite: Path, what: str, count: int, qps: int, per_ns: int) -> None:
    """A one-test density suite for ``count`` VMs or pods, ``per_ns`` per namespace."""
    suite.mkdir(parents=True, exist_ok=True)
    per_ns = min(per_ns, count)
    kwargs: dict[str, Any] = {
        "replicas": per_ns,
        "iterations": math.ceil(count / per_ns),
        "qps": qps,
        "burst": qps,
        "namespace": f"scale-{what}",
        "max_wait_timeout": "60m",
        "cleanup": False,
    }
    if what == "vms":
        (suite / "vm.yml").write_text(VM_TEMPLATE.read_text())
        kwargs.update(template="vm.yml", input_vars=VM_VARS, wait_for=["VirtualMachine"])
    else:
        (suite / "pod.yml").write_text(POD_TEMPLATE)
        kwargs.update(template="pod.yml")
    (suite / "test_scale.py").write_text(SUITE.format(kwargs=repr(kwargs)))


def run_one(
    work: Path,
    what: str,
    count: int,
    args: argparse.Namespace,
    py_spy: str | None = None,
    plugin_path: str = "",
) -> Row:
    """One density run on a fresh simulator; the plugin runs in a child pytest.

    ``plugin_path`` puts another copy of the package first on the child's PYTHONPATH (an A/B
    comparison of two versions of the plugin against the same simulator code).
    """
    count = math.ceil(count / min(args.per_ns, count)) * min(args.per_ns, count)
    objects = count * 3 if what == "vms" else count
    nodes = args.nodes or max(3, math.ceil(count * 1.2 / args.node_pods))
    suite = work / f"suite-{what}-{count}{'-b' if plugin_path else ''}"
    write_suite(suite, what, count, args.qps, args.per_ns)
    out = suite / "out.json"
    sim = SimProcess(
        nodes=nodes,
        node_pods=args.node_pods,
        profile="fast",
        seed=1,
        ground_truth=False,
        workdir=suite / "sim",
    )
    sim.start()
    try:
        sim_cpu0 = proc_cpu(sim.pid)
        cmd = [
            sys.executable,
            "-m",
            "pytest",
            "-p",
            "no:cacheprovider",
            "-q",
            "--kube-config",
            str(sim.kubeconfig),
            "--metrics-directory",
            str(suite / "metrics"),
            str(suite / "test_scale.py"),
        ]
        if py_spy:
            spy = Path(sys.executable).parent / "py-spy"
            cmd = [str(spy), "record", "--gil", "-r", "100", "-f", "raw", "-o", py_spy, "--", *cmd]
        env = {**os.environ, "BENCH_OUT": str(out)}
        if plugin_path:
            env["PYTHONPATH"] = os.pathsep.join(filter(None, [plugin_path, env.get("PYTHONPATH")]))
        t0 = time.monotonic()
        log = (suite / "pytest.log").open("w")
        child = subprocess.Popen(cmd, cwd=suite, env=env, stdout=log, stderr=subprocess.STDOUT)
        _, status, usage = os.wait4(child.pid, 0)
        wall = time.monotonic() - t0
        log.close()
        sim_cpu = proc_cpu(sim.pid) - sim_cpu0
        sim_hwm = proc_status_kib(sim.pid) / 1024
    finally:
        sim.cleanup()
    if status != 0 or not out.exists():
        tail = (suite / "pytest.log").read_text()[-3000:]
        raise RuntimeError(f"{what} {count}: pytest exited with {status}:\n{tail}")
    inner = json.loads(out.read_text())
    return Row(
        what=what,
        count=count,
        objects=objects,
        wall_s=wall,
        job_wall_s=inner["job_wall_s"],
        create_s=inner["create_s"],
        plugin_cpu_s=usage.ru_utime + usage.ru_stime,
        job_cpu_s=inner["job_cpu_s"],
        plugin_hwm_mib=usage.ru_maxrss / 1024,
        job_rss_growth_mib=(inner["maxrss_after_kib"] - inner["rss_before_kib"]) / 1024,
        sim_cpu_s=sim_cpu,
        sim_hwm_mib=sim_hwm,
        ready=inner["ready"],
        verified=inner["verified"],
        variant="before" if plugin_path else "current",
        phase_rss_mib={k: v / 1024 for k, v in inner.get("phase_rss_kib", {}).items()},
    )


HEADER = (
    f"{'run':>10}{'v':>2}{'objects':>9}{'wall s':>8}{'job s':>7}{'create s':>9}"
    f"{'cpu s':>7}{'ms/obj':>8}{'job ms/obj':>11}{'peak MiB':>9}{'B/obj':>7}"
    f"{'sim cpu s':>10}{'sim MiB':>8}"
)


def fmt(r: Row) -> str:
    """A table row."""
    return (
        f"{f'{r.count} {r.what}':>10}{r.variant[:1]:>2}{r.objects:>9}{r.wall_s:>8.1f}"
        f"{r.job_wall_s:>7.1f}"
        f"{r.create_s:>9.1f}{r.plugin_cpu_s:>7.1f}{r.cpu_ms_per_object:>8.3f}"
        f"{r.job_cpu_ms_per_object:>11.3f}{r.plugin_hwm_mib:>9.0f}{r.bytes_per_object:>7.0f}"
        f"{r.sim_cpu_s:>10.1f}{r.sim_hwm_mib:>8.0f}"
    )


def main(argv: list[str] | None = None) -> int:
    """Run the requested density runs and print a table."""
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    p.add_argument("--vms", type=int, default=0, help="VMs of a VM density run")
    p.add_argument("--pods", type=int, default=0, help="pods of a pod density run")
    p.add_argument("--growth", default="", help="comma-separated VM counts, e.g. 1000,3000,10000")
    p.add_argument("--qps", type=int, default=1000, help="job qps (= burst)")
    p.add_argument("--per-ns", type=int, default=100, help="replicas per iteration/namespace")
    p.add_argument("--nodes", type=int, default=0, help="simulated nodes (default: by count)")
    p.add_argument("--node-pods", type=int, default=300)
    p.add_argument("--py-spy", default="", help="profile the plugin of the last run to FILE")
    p.add_argument("--json", default="", help="write the rows to FILE")
    p.add_argument(
        "--ab",
        default="",
        metavar="DIR",
        help="also run every size with the package copy in DIR ('b' rows), interleaved",
    )
    args = p.parse_args(argv)
    runs = [("vms", int(c)) for c in args.growth.split(",") if c]
    runs += [("vms", args.vms)] if args.vms else []
    runs += [("pods", args.pods)] if args.pods else []
    if not runs:
        p.error("give --vms, --pods or --growth")
    print(f"machine: {machine()}", flush=True)
    print(HEADER, flush=True)
    rows = []
    with tempfile.TemporaryDirectory(prefix="bench-scale-") as tmp:
        for i, (what, count) in enumerate(runs):
            spy = args.py_spy if args.py_spy and i == len(runs) - 1 else None
            variants = [args.ab, ""] if args.ab else [""]
            pair = []
            for variant in variants[:: 1 if i % 2 == 0 else -1]:  # alternate the order
                row = run_one(Path(tmp), what, count, args, spy, variant)
                rows.append(row)
                pair.append(row)
                print(fmt(row), flush=True)
                if row.phase_rss_mib:
                    phases = ", ".join(f"{k} {v:.0f} MiB" for k, v in row.phase_rss_mib.items())
                    print(f"{'':>12}sampled peak RSS per phase: {phases}", flush=True)
            if len(pair) == 2:
                b, c = sorted(pair, key=lambda r: r.variant)
                print(
                    f"{'':>12}current/before: job cpu {c.job_cpu_s / b.job_cpu_s:.2f}, "
                    f"process cpu {c.plugin_cpu_s / b.plugin_cpu_s:.2f}, peak RSS "
                    f"{c.plugin_hwm_mib / b.plugin_hwm_mib:.2f}, RSS growth "
                    f"{c.job_rss_growth_mib / max(b.job_rss_growth_mib, 1e-9):.2f}, job wall "
                    f"{c.job_wall_s / b.job_wall_s:.2f}",
                    flush=True,
                )
    if args.json:
        Path(args.json).write_text(json.dumps([asdict(r) for r in rows], indent=1))
    return 0


if __name__ == "__main__":
    sys.exit(main())
