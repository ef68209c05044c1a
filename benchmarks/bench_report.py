"""Size and load time of the HTML report of a large VM density run (synthetic documents).

A metrics directory is written with N vmiLatency and podLatency documents (12 transitions
each, lognormal latencies, creation timestamps spread at 20/s) and a Prometheus metric with 40
series, then a child ``python -m pytest --kube-sim --html`` renders the report of one test
whose JobResult points at them. The page is then loaded in headless Chromium (DevTools
protocol) and the time to the load event and to the first drawn plot is measured.

    .venv/bin/python benchmarks/bench_report.py            # 10,000 VMs
    .venv/bin/python benchmarks/bench_report.py --vms 500  # smoke size
"""

from __future__ import annotations

import argparse
import asyncio
import json
import math
import random
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from pytest_kubevirt_burner.measurements.recorder import REGISTRY  # noqa: E402
from pytest_kubevirt_burner.measurements.timeutil import format_ts  # noqa: E402

JOB = "bench-vms"
UUID = "bench-uuid"
TEST = """
import json
from pathlib import Path

from pytest_kubevirt_burner.results import JobResult, Quantiles
from pytest_kubevirt_burner.report import RESULTS_KEY


def test_vms(request):
    data = json.loads(Path(__file__).with_name("result.json").read_text())
    quantiles = {k: Quantiles(**q) for k, q in data.pop("quantiles").items()}
    request.node.stash[RESULTS_KEY] = [JobResult(**data, quantiles=quantiles)]
"""


def _docs(n: int, start: float) -> tuple[list[dict[str, object]], list[dict[str, object]]]:
    rng = random.Random(7)
    vmi, pod = [], []
    fields = [f for _, f in REGISTRY["vmiLatency"].transitions if f != "vmStoppedLatency"]
    pod_fields = [f for _, f in REGISTRY["podLatency"].transitions]
    for i in range(n):
        ts = format_ts(int((start + i / 20) * 1e9))
        t, lat = 0.0, {}
        for f in fields:
            t += rng.lognormvariate(math.log(800), 0.5)
            lat[f] = round(t, 3)
        vmi.append(
            {
                "timestamp": ts,
                "metricName": "vmiLatencyMeasurement",
                "uuid": UUID,
                "jobName": JOB,
                "vmName": f"vm-{i}",
                "operation": "create",
                "churnMetric": False,
                **lat,
            }
        )
        t, plat = 0.0, {}
        for f in pod_fields:
            t += rng.lognormvariate(math.log(300), 0.5)
            plat[f] = round(t, 3)
        pod.append(
            {
                "timestamp": ts,
                "metricName": "podLatencyMeasurement",
                "uuid": UUID,
                "jobName": JOB,
                "podName": f"virt-launcher-vm-{i}",
                "operation": "create",
                "churnMetric": False,
                **plat,
            }
        )
    return vmi, pod


def _prometheus(start: float, seconds: int) -> list[dict[str, object]]:
    rng = random.Random(3)
    return [
        {
            "timestamp": format_ts(int((start + s) * 1e9)),
            "metricName": "nodeCPU",
            "labels": {"instance": f"node-{k}"},
            "value": rng.random() * k,
            "jobName": JOB,
            "uuid": UUID,
        }
        for k in range(40)
        for s in range(0, seconds, 15)
    ]


def write_run(directory: Path, n: int) -> dict[str, object]:
    """The metrics files of a synthetic N-VM job; the JobResult fields for the test."""
    start = 1_790_000_000.0
    vmi, pod = _docs(n, start)
    metrics = directory / "metrics"
    metrics.mkdir(parents=True)
    (metrics / f"vmiLatencyMeasurement-{JOB}.json").write_text(json.dumps(vmi))
    (metrics / f"podLatencyMeasurement-{JOB}.json").write_text(json.dumps(pod))
    (metrics / "nodeCPU.json").write_text(json.dumps(_prometheus(start, n // 20 + 60)))
    summary = {
        "metricName": "jobSummary",
        "jobName": JOB,
        "uuid": UUID,
        "jobConfig": {"qps": 20, "burst": 20, "jobIterations": n},
    }
    (metrics / "jobSummary.json").write_text(json.dumps([summary]))
    values = sorted(d["vmiRunningLatency"] / 1000 for d in vmi)  # type: ignore[operator]

    def q(p: float) -> float:
        return values[min(len(values) - 1, math.ceil(p * len(values)) - 1)]

    key = "vmiLatency.VMIRunning"
    return {
        "job_name": JOB,
        "job_type": "create",
        "uuid": UUID,
        "verified": True,
        "expected": {"VirtualMachine": n},
        "created": {"VirtualMachine": n},
        "ready": {"VirtualMachine": n},
        "started_at": start,
        "finished_at": start + n / 20 + 30,
        "qps_requested": 20.0,
        "qps_achieved": n / ((n - 1) / 20),
        "quantiles": {
            key: {
                "name": key,
                "n": n,
                "p50": q(0.5),
                "p95": q(0.95),
                "p99": q(0.99),
                "min": values[0],
                "max": values[-1],
                "avg": sum(values) / n,
            }
        },
    }


def render(directory: Path, n: int) -> tuple[Path, float]:
    """Write the run and the test; render the report in a child pytest; (page, seconds)."""
    result = write_run(directory, n)
    (directory / "result.json").write_text(json.dumps(result))
    (directory / "test_bench_report.py").write_text(TEST)
    began = time.perf_counter()
    subprocess.run(
        [
            sys.executable,
            "-m",
            "pytest",
            "-q",
            "-p",
            "no:cacheprovider",
            "--kube-sim",
            "--metrics-directory",
            str(directory / "metrics"),
            "--html=report.html",
            "--self-contained-html",
            "test_bench_report.py",
        ],
        cwd=directory,
        check=True,
        stdout=subprocess.DEVNULL,
        env={"PYTHONPATH": str(ROOT), "PATH": "/usr/bin:/bin"},
    )
    return directory / "report.html", time.perf_counter() - began


LOAD = """new Promise(done => requestAnimationFrame(() => requestAnimationFrame(() =>
  done([performance.now(), document.querySelectorAll('svg.kb-plot').length]))))"""


async def load_times(port: int, url: str) -> tuple[float, float, int]:
    """Seconds to the load event and to two frames after it (plots drawn); plot count."""
    import aiohttp

    async with aiohttp.ClientSession() as http:
        async with http.get(f"http://127.0.0.1:{port}/json/list") as resp:
            page = next(t for t in await resp.json() if t.get("type") == "page")
        async with http.ws_connect(page["webSocketDebuggerUrl"], max_msg_size=0) as ws:
            ids = iter(range(1, 1000))

            async def call(method: str, **params: object) -> dict[str, object]:
                n = next(ids)
                await ws.send_json({"id": n, "method": method, "params": params})
                while True:
                    msg = json.loads((await ws.receive()).data)
                    if msg.get("id") == n:
                        return msg.get("result", {})  # type: ignore[no-any-return]
                    if msg.get("method") == "Page.loadEventFired":
                        loaded.append(time.perf_counter())

            loaded: list[float] = []
            await call("Page.enable")
            began = time.perf_counter()
            await call("Page.navigate", url=url)
            while not loaded:
                msg = json.loads((await ws.receive()).data)
                if msg.get("method") == "Page.loadEventFired":
                    loaded.append(time.perf_counter())
            value = await call(
                "Runtime.evaluate", expression=LOAD, awaitPromise=True, returnByValue=True
            )
            drawn = time.perf_counter()
            plots = value["result"]["value"][1]  # type: ignore[index]
            return loaded[0] - began, drawn - began, int(plots)


def main() -> None:
    """Render, measure, print one table row."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--vms", type=int, default=10_000)
    args = parser.parse_args()
    # the browser driver of the report tests (ROOT is on sys.path: tests/ is a package)
    from tests.integration.test_report_browser import Browser, chromium

    with tempfile.TemporaryDirectory() as tmp:
        page, seconds = render(Path(tmp), args.vms)
        size = page.stat().st_size
        browser = Browser(chromium(), Path(tmp) / "profile")
        try:
            url = page.as_uri() + "?collapsed="  # every row expanded: every plot drawn
            load, drawn, plots = asyncio.run(load_times(browser.port(), url))
        finally:
            browser.stop()
    head = [
        "VMs",
        "report size",
        "plots",
        "render (child pytest, s)",
        "load event (s)",
        "drawn (s)",
    ]
    print("| " + " | ".join(head) + " |")
    print("|---|---|---|---|---|---|")
    row = [f"{args.vms:,}", f"{size / 1e6:.2f} MB", str(plots), f"{seconds:.1f}"]
    print("| " + " | ".join([*row, f"{load:.2f}", f"{drawn:.2f}"]) + " |")


if __name__ == "__main__":
    main()
