"""Run the simulator in a child process: start, wait for its first line, stop, read ground truth."""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from collections.abc import Sequence
from pathlib import Path
from types import TracebackType
from typing import Any

import orjson

from . import kubeconfig

READY_PREFIX = "listening on "


class SimProcessError(RuntimeError):
    """The simulator did not start (or died); the message carries its stderr tail."""


class SimProcess:
    """A simulator subprocess (``python -m pytest_kubevirt_burner.sim``) and its files."""

    def __init__(
        self,
        *,
        nodes: int | None = None,
        profile: str | None = None,
        seed: int | None = None,
        faults: str | Sequence[str] = (),
        ground_truth: bool | str | Path = True,
        node_cpu: str | None = None,
        node_memory: str | None = None,
        node_pods: int | None = None,
        token: str | None = None,
        anonymous_auth: bool = False,
        workdir: str | Path | None = None,
        extra_args: Sequence[str] = (),
        startup_timeout: float = 30.0,
        env: dict[str, str] | None = None,
    ) -> None:
        self._own_workdir = workdir is None
        self.workdir = Path(workdir or tempfile.mkdtemp(prefix="kube-sim-"))
        self.workdir.mkdir(parents=True, exist_ok=True)
        self.kubeconfig = self.workdir / "kubeconfig"
        self.ground_truth: Path | None = None
        if ground_truth is True:
            self.ground_truth = self.workdir / "ground-truth.jsonl"
        elif ground_truth:
            self.ground_truth = Path(ground_truth)
        self.stdout_path = self.workdir / "sim.stdout"
        self.stderr_path = self.workdir / "sim.stderr"
        self.startup_timeout = startup_timeout
        self.env = env
        args = ["--port", "0", "--kubeconfig", str(self.kubeconfig)]
        for flag, value in (
            ("--nodes", nodes),
            ("--profile", profile),
            ("--seed", seed),
            ("--node-cpu", node_cpu),
            ("--node-memory", node_memory),
            ("--node-pods", node_pods),
            ("--ground-truth", self.ground_truth),
        ):
            if value is not None:
                args += [flag, str(value)]
        if anonymous_auth:
            args.append("--anonymous-auth")
        for spec in [faults] if isinstance(faults, str) else faults:
            args += ["--faults", spec]
        self._token = token
        self.args = [*args, *extra_args]
        self.url = ""
        self.proc: subprocess.Popen[bytes] | None = None

    @property
    def pid(self) -> int:
        """Process id of the running simulator."""
        if self.proc is None:
            raise SimProcessError("simulator not started")
        return self.proc.pid

    @property
    def returncode(self) -> int | None:
        """Exit code once it exited, else None."""
        return None if self.proc is None else self.proc.poll()

    @property
    def token(self) -> str:
        """The bearer token clients must send (read from the kubeconfig)."""
        return self._token or kubeconfig.read(self.kubeconfig).token

    def command(self) -> list[str]:
        """The command line that starts the simulator."""
        return [sys.executable, "-m", "pytest_kubevirt_burner.sim", *self.args]

    def start(self) -> SimProcess:
        """Launch and wait for ``listening on URL``; SimProcessError with stderr tail if not."""
        env = dict(os.environ if self.env is None else self.env)
        if self._token is not None:
            env["KUBE_SIM_TOKEN"] = self._token
        with open(self.stdout_path, "wb") as out, open(self.stderr_path, "wb") as err:
            self.proc = subprocess.Popen(
                self.command(), stdout=out, stderr=err, stdin=subprocess.DEVNULL, env=env
            )
        deadline = time.monotonic() + self.startup_timeout
        while True:
            line = self._first_line()
            if line is not None:
                break
            if self.proc.poll() is not None:
                raise SimProcessError(
                    f"simulator exited with code {self.proc.returncode} before it was ready"
                    f"{self._stderr_note()}"
                )
            if time.monotonic() > deadline:
                self.stop(timeout=2.0)
                raise SimProcessError(
                    f"simulator not ready after {self.startup_timeout:g} s{self._stderr_note()}"
                )
            time.sleep(0.01)
        if not line.startswith(READY_PREFIX):
            self.stop(timeout=2.0)
            raise SimProcessError(f"unexpected first line {line!r}{self._stderr_note()}")
        self.url = line[len(READY_PREFIX) :].strip()
        return self

    def _first_line(self) -> str | None:
        data = self.stdout_path.read_bytes()
        if b"\n" not in data:
            return None
        return data.split(b"\n", 1)[0].decode("utf-8", "replace")

    def stderr_tail(self, lines: int = 20) -> str:
        """The last ``lines`` lines the simulator wrote to stderr."""
        try:
            text = self.stderr_path.read_text("utf-8", "replace")
        except OSError:
            return ""
        return "\n".join(text.splitlines()[-lines:])

    def _stderr_note(self) -> str:
        tail = self.stderr_tail()
        return f"; stderr:\n{tail}" if tail else " (stderr empty)"

    def stop(self, timeout: float = 10.0) -> int:
        """SIGTERM, wait up to ``timeout`` s, then SIGKILL; returns the exit code."""
        proc = self.proc
        if proc is None:
            return 0
        if proc.poll() is None:
            proc.send_signal(signal.SIGTERM)
            try:
                proc.wait(timeout)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()
        return proc.returncode

    def signal(self, sig: int) -> None:
        """Send ``sig`` to the simulator."""
        if self.proc is not None and self.proc.poll() is None:
            self.proc.send_signal(sig)

    def read_ground_truth(self) -> list[dict[str, Any]]:
        """Every ground-truth record written so far (flushed every 0.2 s and at exit)."""
        if self.ground_truth is None or not self.ground_truth.exists():
            return []
        records = []
        for line in self.ground_truth.read_bytes().splitlines():
            if line.strip():
                try:
                    records.append(orjson.loads(line))
                except orjson.JSONDecodeError:
                    break  # a line being written right now
        return records

    def cleanup(self) -> None:
        """Stop the process and delete the work directory if this object created it."""
        self.stop()
        if self._own_workdir:
            shutil.rmtree(self.workdir, ignore_errors=True)

    def __enter__(self) -> SimProcess:
        return self.start() if self.proc is None else self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stop()

    def __repr__(self) -> str:
        return f"SimProcess(url={self.url!r}, pid={self.proc.pid if self.proc else None})"
