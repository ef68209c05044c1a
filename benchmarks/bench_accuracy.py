"""Measurement accuracy: the plugin's client-clock pod latencies against the simulator's truth.

A pod density job runs in a child ``python -m pytest`` against a simulator with a YAML latency
profile of uniform delays and ``--ground-truth``. Every per-object document of
podLatencyMeasurement-<job>.json is joined (namespace, name) with the ground truth, whose
``Created`` record is t0 and whose PodScheduled / Initialized / ContainersReady / Ready records
are the true transition times. The error of a latency is measured minus true.

    .venv/bin/python benchmarks/bench_accuracy.py                  # 3,000 pods at 100/500/1,000 qps
    .venv/bin/python benchmarks/bench_accuracy.py --ab DIR         # DIR's package, then this one
    .venv/bin/python benchmarks/bench_accuracy.py --pods 200 --qps 100  # smoke run

Prints the distribution of |error| per transition; asserts nothing.
"""

from __future__ import annotations

import argparse
import math
import os
import subprocess
import sys
import tempfile
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
sys.path.insert(0, str(Path(__file__).resolve().parent))

from bench_scale import write_suite
from benchutil import machine

from pytest_kubevirt_burner.measurements.writer import read_json_array
from pytest_kubevirt_burner.sim.process import SimProcess

PROFILE = """\
name: uniform-accuracy
extends: fast
seed: 7
default: {distribution: uniform, low: 0.05, high: 0.5}
transitions:
  Pod.PodScheduled: {distribution: uniform, low: 0.05, high: 0.3}
  Pod.Initialized: {distribution: uniform, low: 0.1, high: 0.5}
  Pod.ContainersReady: {distribution: uniform, low: 0.2, high: 1.0}
  Pod.Ready: {distribution: uniform, low: 0.05, high: 0.3}
"""
FIELDS = {
    "PodScheduled": "schedulingLatency",
    "Initialized": "initializedLatency",
    "ContainersReady": "containersReadyLatency",
    "Ready": "podReadyLatency",
}


def nearest_rank(sorted_values: list[float], p: float) -> float:
    """clusterloader2's nearest-rank percentile of an ascending list."""
    return sorted_values[max(0, math.ceil(len(sorted_values) * p / 100) - 1)]


def errors_ms(docs: list[dict[str, Any]], truth: list[dict[str, Any]]) -> dict[str, list[float]]:
    """Signed errors (measured - true, ms) per transition; a missing value is an infinite error."""
    times: dict[tuple[str, str], dict[str, float]] = {}
    for rec in truth:
        if rec.get("kind") == "Pod":
            key = (rec["namespace"], rec["name"])
            times.setdefault(key, {}).setdefault(rec["transition"], rec["time"])
    out: dict[str, list[float]] = {t: [] for t in FIELDS}
    for doc in docs:
        true = times.get((doc["namespace"], doc["podName"]), {})
        for transition, field in FIELDS.items():
            if "Created" not in true or transition not in true:
                continue
            expected = (true[transition] - true["Created"]) * 1000
            got = doc.get(field)
            out[transition].append(math.inf if got is None else got - expected)
    return out


def run_one(work: Path, pods: int, qps: int, per_ns: int, nodes: int, plugin_path: str) -> Any:
    """One density job on a fresh simulator; returns (errors per transition, documents, load)."""
    tag = f"{qps}{'-b' if plugin_path else ''}"
    (work / "profile.yml").write_text(PROFILE)
    suite = work / f"suite-{tag}"
    write_suite(suite, "pods", pods, qps, per_ns)
    sim = SimProcess(
        nodes=nodes or max(3, math.ceil(pods / 250)),
        node_pods=300,
        profile=str(work / "profile.yml"),
        ground_truth=True,
        workdir=work / f"sim-{tag}",
    )
    sim.start()
    try:
        metrics = suite / "metrics"
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
            str(metrics),
            str(suite / "test_scale.py"),
        ]
        env = {**os.environ, "BENCH_OUT": str(suite / "out.json")}
        if plugin_path:
            env["PYTHONPATH"] = os.pathsep.join(filter(None, [plugin_path, env.get("PYTHONPATH")]))
        proc = subprocess.run(cmd, cwd=suite, env=env, capture_output=True, text=True)
        load = os.getloadavg()[0]
        if proc.returncode != 0:
            raise RuntimeError(f"pytest exited with {proc.returncode}:\n{proc.stdout[-3000:]}")
        sim.stop()
        truth = sim.read_ground_truth()
    finally:
        sim.cleanup()
    docs = read_json_array(metrics / "podLatencyMeasurement-test-scale.json")
    return errors_ms(docs, truth), len(docs), load


def print_table(errs: dict[str, list[float]], bound_ms: float) -> None:
    """The |error| distribution of every transition."""
    print(
        f"{'transition':>16}{'n':>7}{'P50 |e|':>9}{'P90 |e|':>9}{'P99 |e|':>9}{'max |e|':>9}"
        f"{'mean e':>9}{f'<= {bound_ms:g} ms':>10}"
    )
    for transition, values in errs.items():
        if not values:
            continue
        absolute = sorted(abs(v) for v in values)
        within = sum(1 for v in absolute if v <= bound_ms) / len(absolute)
        finite = [v for v in values if math.isfinite(v)]
        mean = sum(finite) / len(finite) if finite else math.nan
        print(
            f"{transition:>16}{len(values):>7}{nearest_rank(absolute, 50):>9.2f}"
            f"{nearest_rank(absolute, 90):>9.2f}{nearest_rank(absolute, 99):>9.2f}"
            f"{absolute[-1]:>9.2f}{mean:>9.2f}{within * 100:>9.2f}%",
            flush=True,
        )


def main(argv: list[str] | None = None) -> int:
    """Run the jobs and print the error distributions."""
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    p.add_argument("--pods", type=int, default=3000)
    p.add_argument("--qps", default="100,500,1000", help="comma-separated rates (burst = qps)")
    p.add_argument("--per-ns", type=int, default=100)
    p.add_argument("--nodes", type=int, default=0)
    p.add_argument("--bound-ms", type=float, default=50.0, help="the accuracy target")
    p.add_argument(
        "--ab",
        metavar="DIR",
        default="",
        help="also run the copy of the package in DIR (a directory holding "
        "pytest_kubevirt_burner/) before the current one at every rate",
    )
    args = p.parse_args(argv)
    print(f"machine: {machine()}", flush=True)
    variants = [args.ab, ""] if args.ab else [""]
    with tempfile.TemporaryDirectory(prefix="bench-accuracy-") as tmp:
        for qps in (int(q) for q in args.qps.split(",")):
            for variant in variants:
                errs, n_docs, load = run_one(
                    Path(tmp), args.pods, qps, args.per_ns, args.nodes, variant
                )
                label = f"before ({variant})" if variant else "current"
                print(
                    f"\n{label}: {args.pods} pods at qps {qps} (burst {qps}); {n_docs} documents; "
                    f"client clock; error = measured - true (ms); 1-min load {load:.2f}",
                    flush=True,
                )
                print_table(errs, args.bound_ms)
    return 0


if __name__ == "__main__":
    sys.exit(main())
