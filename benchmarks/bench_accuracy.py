"""Measurement accuracy: the plugin's client-clock pod latencies against the simulator's truth.

A pod density job runs in a child ``python -m pytest`` against a simulator with a YAML latency
profile of uniform delays and ``--ground-truth``. Every per-object document of
podLatencyMeasurement-<job>.json is joined (namespace, name) with the ground truth, whose
``Created`` record is t0 and whose PodScheduled / Initialized / ContainersReady / Ready records
are the true transition times. The error of a latency is measured minus true.

    .venv/bin/python benchmarks/bench_accuracy.py                  # 5,000 pods at qps 200
    .venv/bin/python benchmarks/bench_accuracy.py --pods 200       # smoke run

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


def main(argv: list[str] | None = None) -> int:
    """Run the job and print the error distribution."""
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    p.add_argument("--pods", type=int, default=5000)
    p.add_argument("--qps", type=int, default=200)
    p.add_argument("--per-ns", type=int, default=100)
    p.add_argument("--nodes", type=int, default=0)
    p.add_argument("--bound-ms", type=float, default=50.0, help="the accuracy target")
    args = p.parse_args(argv)
    print(f"machine: {machine()}", flush=True)
    with tempfile.TemporaryDirectory(prefix="bench-accuracy-") as tmp:
        work = Path(tmp)
        (work / "profile.yml").write_text(PROFILE)
        suite = work / "suite"
        write_suite(suite, "pods", args.pods, args.qps, args.per_ns)
        sim = SimProcess(
            nodes=args.nodes or max(3, math.ceil(args.pods / 250)),
            node_pods=300,
            profile=str(work / "profile.yml"),
            ground_truth=True,
            workdir=work / "sim",
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
            proc = subprocess.run(cmd, cwd=suite, env=env, capture_output=True, text=True)
            if proc.returncode != 0:
                raise RuntimeError(f"pytest exited with {proc.returncode}:\n{proc.stdout[-3000:]}")
            sim.stop()
            truth = sim.read_ground_truth()
        finally:
            sim.cleanup()
        docs = read_json_array(metrics / "podLatencyMeasurement-test-scale.json")
    errs = errors_ms(docs, truth)
    print(
        f"\n{args.pods} pods at qps {args.qps}; {len(docs)} documents; client clock; "
        f"error = measured - true (ms)"
    )
    print(
        f"{'transition':>16}{'n':>7}{'P50 |e|':>9}{'P90 |e|':>9}{'P99 |e|':>9}{'max |e|':>9}"
        f"{'mean e':>9}{f'<= {args.bound_ms:g} ms':>10}"
    )
    for transition, values in errs.items():
        if not values:
            continue
        absolute = sorted(abs(v) for v in values)
        within = sum(1 for v in absolute if v <= args.bound_ms) / len(absolute)
        finite = [v for v in values if math.isfinite(v)]
        mean = sum(finite) / len(finite) if finite else math.nan
        print(
            f"{transition:>16}{len(values):>7}{nearest_rank(absolute, 50):>9.2f}"
            f"{nearest_rank(absolute, 90):>9.2f}{nearest_rank(absolute, 99):>9.2f}"
            f"{absolute[-1]:>9.2f}{mean:>9.2f}{within * 100:>9.2f}%"
        )
    return 0


if __name__ == "__main__":
    sys.exit(main())
