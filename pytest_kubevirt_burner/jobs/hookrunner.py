"""Job hooks (kube-burner's ``hooks``): commands run at the stages of a job.

``fire(when)`` starts the stage's background hooks, then runs its foreground hooks one after the
other, as kube-burner's HookManager does. Each hook runs in its own process group, in the job's
directory (the config's or the test file's), with the inherited environment plus ``KUBECONFIG``,
``UUID`` and ``JOB_NAME``; its output (stdout and stderr) goes to
``<metrics dir>/hooks/<job>-<when>-<n>.log``. A hook that exits non-zero, cannot start or
outlives its timeout (then its process group is killed) is a failure line naming the hook and
its last output lines; the job continues, as in kube-burner, and fails at its end
(``finish``), which also waits for the background hooks (kube-burner waits for them too), each
within its own timeout.
"""

from __future__ import annotations

import os
import signal
import subprocess
import tempfile
import threading
import time
from dataclasses import dataclass
from pathlib import Path
from typing import IO

from ..jobfields import HookSpec
from ..jobspec import hook_script

TAIL_LINES = 5


@dataclass
class _Running:
    index: int
    hook: HookSpec
    proc: subprocess.Popen[bytes]
    log: Path
    keep: bool
    started: float
    stdin: IO[bytes] | None


class HookRunner:
    """The hooks of one job run."""

    def __init__(
        self,
        hooks: tuple[HookSpec, ...],
        *,
        job: str,
        cwd: Path,
        env: dict[str, str],
        log_dir: Path | None,
        stop: threading.Event | None = None,
    ) -> None:
        self.hooks = hooks
        self.job = job
        self.cwd = cwd
        self.env = {**os.environ, **env}
        self.log_dir = log_dir
        self.stop = stop or threading.Event()
        self.failures: list[str] = []
        self.fired: set[str] = set()
        self.ran: list[tuple[str, int, int | None]] = []  # (when, index, exit code)
        self._background: list[_Running] = []

    def fire(self, when: str, *, once: bool = False) -> None:
        """Run the hooks of stage ``when`` (background ones started, foreground ones waited)."""
        if once and when in self.fired:
            return
        self.fired.add(when)
        chosen = [(i, h) for i, h in enumerate(self.hooks) if h.when == when]
        for i, hook in chosen:
            if hook.background:
                running = self._start(i, hook)
                if running is not None:
                    self._background.append(running)
        for i, hook in chosen:
            if not hook.background:
                running = self._start(i, hook)
                if running is not None:
                    self._wait(running)

    def finish(self) -> list[str]:
        """Wait for the background hooks (each within its timeout); every failure line so far."""
        background, self._background = self._background, []
        for running in background:
            self._wait(running)
        failures, self.failures = self.failures, []
        return failures

    def kill(self) -> None:
        """Stop every background hook still running (an interrupted job)."""
        for running in self._background:
            _killpg(running.proc)

    # -- one process --------------------------------------------------------------------------
    def _name(self, index: int, hook: HookSpec) -> str:
        return f"{self.job}: hooks[{index}] ({hook.when}) {list(hook.cmd)!r}"

    def _start(self, index: int, hook: HookSpec) -> _Running | None:
        keep = self.log_dir is not None
        if self.log_dir is not None:
            self.log_dir.mkdir(parents=True, exist_ok=True)
            log = self.log_dir / f"{self.job}-{hook.when}-{index}.log"
        else:
            fd, name = tempfile.mkstemp(prefix="burner-hook-", suffix=".log")
            os.close(fd)
            log = Path(name)
        cmd, stdin = self._command(hook)
        try:
            with log.open("ab") as out:
                proc = subprocess.Popen(
                    cmd,
                    cwd=self.cwd,
                    env=self.env,
                    stdin=stdin if stdin is not None else subprocess.DEVNULL,
                    stdout=out,
                    stderr=subprocess.STDOUT,
                    start_new_session=True,
                )
        except OSError as exc:
            if stdin is not None:
                stdin.close()
            self.failures.append(f"{self._name(index, hook)} could not start: {exc.strerror}")
            self.ran.append((hook.when, index, None))
            return None
        return _Running(index, hook, proc, log, keep, time.monotonic(), stdin)

    def _command(self, hook: HookSpec) -> tuple[list[str], IO[bytes] | None]:
        """The argv; a relative script that is not executable, or found in the ``scripts/``
        directory, is fed to ``sh -s -`` (as kube-burner runs the scripts it embeds)."""
        program = hook.cmd[0]
        if "/" in program and not Path(program).is_absolute():
            path = hook_script(self.cwd, program)
            local = path == self.cwd / program
            if path is not None and not (local and os.access(path, os.X_OK)):
                return ["/bin/sh", "-s", "-", *hook.cmd[1:]], path.open("rb")
        return list(hook.cmd), None

    def _wait(self, running: _Running) -> None:
        proc, hook = running.proc, running.hook
        deadline = running.started + hook.timeout
        code: int | None = None
        while code is None:
            left = deadline - time.monotonic()
            if left <= 0 or self.stop.is_set():
                break
            try:
                code = proc.wait(timeout=min(left, 0.5))
            except subprocess.TimeoutExpired:
                continue
        if running.stdin is not None:
            running.stdin.close()
        name = self._name(running.index, hook)
        if code is None:
            _killpg(proc)
            why = (
                "stopped: the job was interrupted"
                if self.stop.is_set()
                else (f"did not finish within its timeout ({hook.timeout:g}s); stopped")
            )
            self.failures.append(f"{name} {why}{_tail(running.log)}")
        elif code != 0:
            self.failures.append(f"{name} exited with {code}{_tail(running.log)}")
        self.ran.append((hook.when, running.index, code))
        if not running.keep:
            running.log.unlink(missing_ok=True)


def _tail(log: Path) -> str:
    """`` ; last output: a | b`` of the log's last lines ('' when it wrote nothing)."""
    try:
        lines = [ln.strip() for ln in log.read_text(errors="replace").splitlines() if ln.strip()]
    except OSError:
        return ""
    return f"; last output: {' | '.join(lines[-TAIL_LINES:])}" if lines else ""


def _killpg(proc: subprocess.Popen[bytes]) -> None:
    """SIGTERM the hook's process group, SIGKILL it if it is still there after 5 s."""
    if proc.poll() is not None:
        return
    try:
        os.killpg(proc.pid, signal.SIGTERM)
        proc.wait(timeout=5)
    except subprocess.TimeoutExpired:
        os.killpg(proc.pid, signal.SIGKILL)
        proc.wait()
    except ProcessLookupError:
        pass
