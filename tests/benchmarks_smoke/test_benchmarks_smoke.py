"""Every benchmark runs end to end at a small size (no timing assertions: CI machines are noisy).

Each runs as its users run it, ``python benchmarks/<file> <small options>``, in a child process
that must exit 0 within the guard and print its table.
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
GUARD_SECONDS = 120  # a hang guard; each run takes well under 60 s on 2 cores

CASES = [
    ("bench_client.py", ["--small"], ["creates/s", "achieved qps"]),
    (
        "bench_sim.py",
        ["--pods", "300", "--vms", "50", "--writes", "300", "--rounds", "1"],
        ["write throughput", "scale (fast profile)"],
    ),
    ("bench_store.py", ["2000"], []),
    ("bench_growth.py", ["--marks", "200,400", "--window", "100"], []),
    ("bench_indexing.py", ["--small"], []),
    ("bench_rate.py", ["--small"], ["throughput on sink", "rate accuracy on simulator"]),
    (
        "bench_accuracy.py",
        ["--pods", "200", "--qps", "100"],
        ["; 200 documents", "ContainersReady"],
    ),
    ("bench_scale.py", ["--vms", "50", "--pods", "100"], ["50 vms", "100 pods"]),
    ("bench_report.py", ["--vms", "200"], ["report size"]),
]


@pytest.mark.slow
@pytest.mark.parametrize(
    ("script", "args", "expected"), CASES, ids=[c[0].removesuffix(".py") for c in CASES]
)
def test_benchmark_runs(script: str, args: list[str], expected: list[str]) -> None:
    """The benchmark exits 0 and prints its table."""
    proc = subprocess.run(
        [sys.executable, str(ROOT / "benchmarks" / script), *args],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=GUARD_SECONDS,
    )
    assert proc.returncode == 0, f"{script} exited {proc.returncode}:\n{proc.stderr[-3000:]}"
    for text in expected:
        assert text in proc.stdout, f"{script}: {text!r} missing from:\n{proc.stdout[-3000:]}"
