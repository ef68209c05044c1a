"""Helpers shared by the scale, rate and accuracy benchmarks: a sink server, process figures.

The sink is a minimal HTTP/1.1 server on raw asyncio protocols, forked into several processes on
one listening socket. It answers discovery for ``v1`` (pods, configmaps, namespaces) and echoes
every POST body back with 201, so a client benchmark against it measures the client, not the
server.
"""

from __future__ import annotations

import contextlib
import os
import platform
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Callable
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
CLK_TCK = os.sysconf("SC_CLK_TCK")

SINK_SERVER = r"""
import asyncio, os, socket, sys
import orjson
RES = [
    {"name": n, "kind": k, "namespaced": ns, "verbs": ["create", "get", "list"]}
    for n, k, ns in (("pods", "Pod", True), ("configmaps", "ConfigMap", True),
                     ("namespaces", "Namespace", False))
]
DOCS = {
    b"/api": {"kind": "APIVersions", "versions": ["v1"]},
    b"/apis": {"kind": "APIGroupList", "groups": []},
    b"/api/v1": {"kind": "APIResourceList", "groupVersion": "v1", "resources": RES},
    b"/version": {"major": "1", "minor": "31", "gitVersion": "v1.31.0-sink"},
}
DOCS = {k: orjson.dumps(v) for k, v in DOCS.items()}
HEAD = b"HTTP/1.1 %s\r\nContent-Type: application/json\r\nContent-Length: %d\r\n\r\n"

class Sink(asyncio.Protocol):
    def connection_made(self, transport):
        self.t = transport
        self.buf = b""
    def data_received(self, data):
        buf = self.buf + data
        while True:
            end = buf.find(b"\r\n\r\n")
            if end < 0:
                break
            head = buf[:end]
            low = head.lower()
            i = low.find(b"content-length:")
            n = 0
            if i >= 0:
                j = low.find(b"\r\n", i)
                n = int(head[i + 15:j if j >= 0 else len(head)])
            if len(buf) < end + 4 + n:
                break
            body = buf[end + 4:end + 4 + n]
            buf = buf[end + 4 + n:]
            method, path = head.split(b" ", 2)[:2]
            if method == b"POST":
                status, out = b"201 Created", body
            else:
                out = DOCS.get(path.split(b"?", 1)[0])
                status = b"200 OK" if out is not None else b"404 Not Found"
                out = out if out is not None else b"{}"
            self.t.write(HEAD % (status, len(out)) + out)
        self.buf = buf

sock = socket.socket()
sock.bind(("127.0.0.1", 0))
sock.listen(1024)
procs = int(sys.argv[1])
for _ in range(procs - 1):
    if os.fork() == 0:
        break
async def main():
    loop = asyncio.get_running_loop()
    server = await loop.create_server(Sink, sock=sock)
    if os.getpid() == PARENT:
        print(f"listening on http://127.0.0.1:{sock.getsockname()[1]}", flush=True)
    await asyncio.Event().wait()
"""


class SinkServer:
    """The sink in ``procs`` forked processes (all in one process group); use as a context."""

    def __init__(self, workdir: Path, procs: int = 2) -> None:
        self.workdir = workdir
        self.procs = procs
        self.proc: subprocess.Popen[str] | None = None
        self.url = ""
        self.kubeconfig = workdir / "sink-kubeconfig"

    def start(self) -> SinkServer:
        """Start the processes and write a kubeconfig pointing at them."""
        from pytest_kubevirt_burner.sim import kubeconfig

        code = "PARENT = __import__('os').getpid()\n" + SINK_SERVER + "\nasyncio.run(main())\n"
        self.proc = subprocess.Popen(
            [sys.executable, "-c", code, str(self.procs)],
            stdout=subprocess.PIPE,
            text=True,
            start_new_session=True,
        )
        assert self.proc.stdout is not None
        self.url = self.proc.stdout.readline().split()[-1]
        kubeconfig.write(self.kubeconfig, self.url, "sink-token")
        return self

    def stop(self) -> None:
        """Stop every sink process (the process group this object started)."""
        if self.proc is not None:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(self.proc.pid, signal.SIGTERM)
            self.proc.wait(10)
            self.proc = None

    def __enter__(self) -> SinkServer:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()


def proc_cpu(pid: int) -> float:
    """utime + stime of ``pid`` in seconds (from /proc/<pid>/stat)."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / CLK_TCK


def proc_status_kib(pid: int, key: str = "VmHWM") -> int:
    """A ``/proc/<pid>/status`` figure in KiB (VmHWM: peak RSS, VmRSS: current RSS)."""
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith(key + ":"):
            return int(line.split()[1])
    return -1


def machine() -> str:
    """``date; nproc; CPU model; memory`` as one line for the results."""
    model = "unknown"
    for line in Path("/proc/cpuinfo").read_text().splitlines():
        if line.startswith("model name"):
            model = line.split(":", 1)[1].strip()
            break
    mem_kib = 0
    for line in Path("/proc/meminfo").read_text().splitlines():
        if line.startswith("MemTotal:"):
            mem_kib = int(line.split()[1])
    load = os.getloadavg()[0]
    return (
        f"{time.strftime('%Y-%m-%d %H:%M UTC', time.gmtime())}; nproc {os.cpu_count()}; "
        f"{model}; {mem_kib / 1024 / 1024:.1f} GiB; Python {platform.python_version()}; "
        f"load {load:.2f} at start"
    )


def run_threads(n: int, threads: int, one: Callable[[int], object]) -> float:
    """Call ``one(i)`` for every i from ``threads`` threads; return the wall time."""
    counter = iter(range(n))
    lock = threading.Lock()
    errors: list[BaseException] = []

    def worker() -> None:
        while True:
            with lock:
                i = next(counter, None)
            if i is None:
                return
            try:
                one(i)
            except BaseException as exc:
                errors.append(exc)
                return

    start = time.perf_counter()
    pool = [threading.Thread(target=worker) for _ in range(threads)]
    for t in pool:
        t.start()
    for t in pool:
        t.join()
    if errors:
        raise errors[0]
    return time.perf_counter() - start
