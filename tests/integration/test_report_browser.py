"""The HTML report in headless Chromium: no console errors, every plot drawn, a screenshot.

Chromium is driven over the DevTools protocol (aiohttp websocket). Skipped only when no
chromium binary is installed, or while the report hooks are not wired into the plugin.
"""

from __future__ import annotations

import asyncio
import base64
import contextlib
import json
import os
import shutil
import signal
import subprocess
import time
from pathlib import Path
from typing import Any

import aiohttp
import pytest

import pytest_kubevirt_burner.report.html  # noqa: F401 (numpy must load once, before pytester)

from ..inner import run_inner, write_templates

POD = """\
apiVersion: v1
kind: Pod
metadata:
  name: p-{{.Replica}}
spec:
  containers:
  - name: c
    image: registry.k8s.io/pause:3.9
"""
SUITE = """
import pytest

@pytest.mark.density(template="templates/pod.yml", replicas=20, iterations=2, qps=100, burst=20)
@pytest.mark.slo("podLatency.Ready", p99="30s")
def test_pods(burner):
    burner.run()
"""
CHROMIUM_FLAGS = (
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--remote-debugging-address=127.0.0.1",
    "--remote-debugging-port=0",
    "--window-size=1400,1000",
)
PLOT_SIZES = """Array.from(document.querySelectorAll('svg.kb-plot')).map(e => {
  const r = e.getBoundingClientRect(); return [e.dataset.plot, r.width, r.height]; })"""


def chromium() -> str:
    for name in ("chromium", "chromium-browser", "google-chrome"):
        path = shutil.which(name)
        if path:
            return path
    pytest.skip("no chromium binary (Debian package `chromium`)")


@pytest.fixture
def report_html(pytester: pytest.Pytester) -> Path:
    """A self-contained report of one density test on the embedded simulator."""
    write_templates(pytester, pod=POD)
    pytester.makepyfile(test_suite=SUITE)
    result = run_inner(pytester, None, None, "--html=report.html", "--self-contained-html")
    result.assert_outcomes(passed=1)
    return pytester.path / "report.html"


class Browser:
    """A headless Chromium process and its DevTools endpoint."""

    def __init__(self, binary: str, profile: Path) -> None:
        self.profile = profile
        self.proc = subprocess.Popen(
            [binary, *CHROMIUM_FLAGS, f"--user-data-dir={profile}", "about:blank"],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
            start_new_session=True,
        )

    def port(self, timeout: float = 30.0) -> int:
        marker = self.profile / "DevToolsActivePort"
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if marker.exists() and marker.read_text().strip():
                return int(marker.read_text().split()[0])
            if self.proc.poll() is not None:
                raise RuntimeError(f"chromium exited with {self.proc.returncode}")
            time.sleep(0.05)
        raise TimeoutError("chromium did not open its DevTools port")

    def stop(self) -> None:
        if self.proc.poll() is None:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(self.proc.pid, signal.SIGTERM)
            try:
                self.proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                os.killpg(self.proc.pid, signal.SIGKILL)
                self.proc.wait()


async def inspect(
    port: int, url: str, screenshot: Path, expression: str = "null", full_page: bool = True
) -> dict[str, Any]:
    """Load ``url``; return console errors, plot sizes and ``expression``'s value; save a
    screenshot (of the whole page, or of the first screen)."""
    async with aiohttp.ClientSession() as http:
        async with http.get(f"http://127.0.0.1:{port}/json/list") as resp:
            targets = await resp.json()
        page = next(t for t in targets if t.get("type") == "page")
        async with http.ws_connect(page["webSocketDebuggerUrl"], max_msg_size=0) as ws:
            ids = iter(range(1, 10_000))
            errors: list[str] = []
            loaded = asyncio.Event()
            pending: dict[int, asyncio.Future[Any]] = {}

            async def reader() -> None:
                async for msg in ws:
                    data = json.loads(msg.data)
                    method = data.get("method", "")
                    params = data.get("params", {})
                    if "id" in data and data["id"] in pending:
                        pending.pop(data["id"]).set_result(data.get("result", data))
                    elif method == "Page.loadEventFired":
                        loaded.set()
                    elif method == "Runtime.exceptionThrown":
                        errors.append(json.dumps(params.get("exceptionDetails", {}))[:300])
                    elif method == "Runtime.consoleAPICalled" and params.get("type") == "error":
                        errors.append(json.dumps(params.get("args", []))[:300])
                    elif method == "Log.entryAdded" and params["entry"].get("level") == "error":
                        errors.append(params["entry"].get("text", "")[:300])

            async def call(method: str, **params: Any) -> Any:
                n = next(ids)
                pending[n] = asyncio.get_running_loop().create_future()
                await ws.send_json({"id": n, "method": method, "params": params})
                return await asyncio.wait_for(pending[n], 30)

            task = asyncio.create_task(reader())
            try:
                for domain in ("Page", "Runtime", "Log"):
                    await call(f"{domain}.enable")
                await call("Page.navigate", url=url)
                await asyncio.wait_for(loaded.wait(), 30)
                await asyncio.sleep(0.5)  # pytest-html renders the table from JSON after load
                sizes = await call("Runtime.evaluate", expression=PLOT_SIZES, returnByValue=True)
                value = await call("Runtime.evaluate", expression=expression, returnByValue=True)
                shot = await call(
                    "Page.captureScreenshot", format="png", captureBeyondViewport=full_page
                )
                screenshot.write_bytes(base64.b64decode(shot["data"]))
            finally:
                task.cancel()
            return {
                "errors": errors,
                "plots": sizes["result"]["value"],
                "value": value["result"].get("value"),
            }


def test_report_renders_in_headless_chromium(report_html: Path, tmp_path: Path) -> None:
    binary = chromium()
    browser = Browser(binary, tmp_path / "chromium-profile")
    shot = tmp_path / "report.png"
    try:
        url = report_html.as_uri() + "?collapsed="  # every row expanded
        seen = asyncio.run(inspect(browser.port(), url, shot))
    finally:
        browser.stop()
    print(f"screenshot: {shot}")
    assert seen["errors"] == []
    plots = seen["plots"]
    assert len(plots) >= 3, plots  # CDF, timeline, creation rate
    for name, width, height in plots:
        assert width > 50 and height > 50, (name, width, height)
    assert shot.stat().st_size > 10_000


QPS20_SUITE = """
import pytest

@pytest.mark.density(template="templates/pod.yml", replicas=20, iterations=3, qps=20, burst=10)
@pytest.mark.slo("podLatency.Ready", p99="30s")
def test_pods_qps20(burner):
    burner.run()

@pytest.mark.density(template="templates/pod.yml", replicas=5, qps=50, burst=50)
def test_few_pods(burner):
    burner.run()
"""
FIRST_SCREEN = """(() => {
  const box = e => { const r = e.getBoundingClientRect(); return [r.top, r.bottom]; };
  const table = document.querySelector('table.kb-summary');
  const plot = document.querySelector('svg.kb-summary-plot');
  const row = table && table.querySelector('tr[data-job="test-pods-qps20"]');
  const p99 = row && row.querySelector('td.kb-p99');
  return {
    height: window.innerHeight,
    table: table && box(table),
    plot: plot && box(plot),
    p99: p99 && p99.textContent,
    thresholdInValueCell: !!(p99 && p99.querySelector('.kb-thr')),
    qps: row && row.querySelector('td.kb-qps').textContent,
    series: Array.from(document.querySelectorAll('svg.kb-plot')).map(
      e => [e.dataset.plot, Number(e.dataset.series),
            e.querySelectorAll('g[id*="legend_"] text').length]),
  };
})()"""


def test_summary_and_cross_job_plot_are_on_the_first_screen(
    pytester: pytest.Pytester, tmp_path: Path
) -> None:
    binary = chromium()
    pytester.mkdir("templates")
    (pytester.path / "templates" / "pod.yml").write_text(POD)
    pytester.makepyfile(test_suite=QPS20_SUITE)
    result = pytester.runpytest("-p", "no:cacheprovider", "--kube-sim", "--html=report.html")
    result.assert_outcomes(passed=2)
    browser = Browser(binary, tmp_path / "chromium-profile")
    shot = tmp_path / "first-screen.png"
    try:
        url = (pytester.path / "report.html").as_uri() + "?collapsed="  # every plot drawn
        seen = asyncio.run(inspect(browser.port(), url, shot, FIRST_SCREEN, full_page=False))
    finally:
        browser.stop()
    print(f"screenshot: {shot}")
    assert seen["errors"] == []
    info = seen["value"]
    # the summary table and the cross-job plot are entirely on the first screen
    assert info["table"] and info["table"][1] <= info["height"], info
    assert info["plot"] and info["plot"][1] <= info["height"], info
    # the SLO threshold and margin sit in the same cell as the measured P99
    assert info["thresholdInValueCell"] and "SLO ≤ 30s" in info["p99"], info
    assert "margin +" in info["p99"], info
    # the steady-state qps of the qps=20 job, not its burst
    achieved = float(info["qps"].split("/")[0])
    assert abs(achieved - 20) <= 2, info["qps"]
    # every plot of the page: at most 8 series (counted by matplotlib and by legend entries)
    assert len(info["series"]) >= 4, info["series"]
    for name, series, legend in info["series"]:
        assert series <= 8 and legend <= 8, (name, series, legend)
