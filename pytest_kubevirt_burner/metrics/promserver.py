"""Run a private Prometheus (Debian's 2.42 binary) on 127.0.0.1 scraping given targets."""

from __future__ import annotations

import shutil
import signal
import socket
import subprocess
import tempfile
import time
from collections.abc import Sequence
from pathlib import Path
from types import TracebackType
from urllib.parse import urlsplit

import requests
import yaml

__all__ = ["PrometheusProcess", "PrometheusProcessError", "create_blocks"]

_INSTALL_HINT = "prometheus is not installed: apt-get install prometheus"


class PrometheusProcessError(RuntimeError):
    """Prometheus is missing, did not start or died; the message says why (one line + log)."""


def _binary(name: str) -> str:
    found = shutil.which(name)
    if found is None:
        raise PrometheusProcessError(
            _INSTALL_HINT
            if name == "prometheus"
            else f"{name} is not installed: apt-get install prometheus"
        )
    return found


def _free_port() -> int:
    # Prometheus cannot report a port it picked itself, so one is chosen here.
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        port: int = s.getsockname()[1]
        return port


def create_blocks(openmetrics: str, storage: Path) -> None:
    """Backfill ``storage`` from OpenMetrics text (must end with ``# EOF``) via promtool."""
    storage.mkdir(parents=True, exist_ok=True)
    source = storage.parent / f".{storage.name}.om"
    source.write_text(openmetrics if openmetrics.endswith("\n") else openmetrics + "\n")
    try:
        proc = subprocess.run(
            [_binary("promtool"), "tsdb", "create-blocks-from", "openmetrics",
             str(source), str(storage)],
            capture_output=True, text=True, timeout=60, check=False,
        )  # fmt: skip
    finally:
        source.unlink(missing_ok=True)
    if proc.returncode != 0:
        tail = " ".join((proc.stderr or proc.stdout).split())[-300:]
        raise PrometheusProcessError(f"promtool could not backfill {storage}: {tail}")


class PrometheusProcess:
    """A Prometheus child process with its own config, storage and 127.0.0.1 port."""

    def __init__(
        self,
        targets: Sequence[str] = (),
        *,
        token: str | None = None,
        scrape_interval: str = "1s",
        workdir: str | Path | None = None,
        storage: str | Path | None = None,
        startup_timeout: float = 20.0,
    ) -> None:
        self._own_workdir = workdir is None
        self.workdir = Path(workdir or tempfile.mkdtemp(prefix="kb-prometheus-"))
        self.workdir.mkdir(parents=True, exist_ok=True)
        self.storage = Path(storage) if storage else self.workdir / "data"
        self.targets = list(targets)
        self.scrape_interval = scrape_interval
        self.startup_timeout = startup_timeout
        self._token = token
        self.config_path = self.workdir / "prometheus.yml"
        self.log_path = self.workdir / "prometheus.log"
        self.url = ""
        self.proc: subprocess.Popen[bytes] | None = None

    def __repr__(self) -> str:
        return f"PrometheusProcess(url={self.url!r}, targets={self.targets!r})"

    def _config(self) -> dict[str, object]:
        scrape_configs = []
        for number, target in enumerate(self.targets):
            parts = urlsplit(target if "://" in target else f"http://{target}")
            job: dict[str, object] = {
                "job_name": f"target-{number}",
                "honor_labels": True,  # keep the cluster's own job/service/node labels
                "scheme": parts.scheme or "http",
                "metrics_path": parts.path or "/metrics",
                "static_configs": [{"targets": [parts.netloc]}],
            }
            if self._token:
                token_file = self.workdir / "token"
                token_file.write_text(self._token)
                token_file.chmod(0o600)
                job["authorization"] = {"type": "Bearer", "credentials_file": str(token_file)}
            if parts.scheme == "https":
                job["tls_config"] = {"insecure_skip_verify": True}
            scrape_configs.append(job)
        interval = self.scrape_interval
        return {
            "global": {
                "scrape_interval": interval,
                "scrape_timeout": interval,  # must not exceed the interval
                "evaluation_interval": interval,
            },
            "scrape_configs": scrape_configs,
        }

    def start(self) -> PrometheusProcess:
        """Write the config, launch, and wait for ``/-/ready``."""
        binary = _binary("prometheus")
        self.config_path.write_text(yaml.safe_dump(self._config(), sort_keys=False))
        port = _free_port()
        self.url = f"http://127.0.0.1:{port}"
        args = [
            binary,
            f"--config.file={self.config_path}",
            f"--storage.tsdb.path={self.storage}",
            f"--web.listen-address=127.0.0.1:{port}",
            "--storage.tsdb.retention.time=100y",  # backfilled blocks may be old
            "--log.level=warn",
        ]
        with open(self.log_path, "ab") as log:
            self.proc = subprocess.Popen(
                args, stdout=log, stderr=log, stdin=subprocess.DEVNULL, start_new_session=True
            )
        deadline = time.monotonic() + self.startup_timeout
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise PrometheusProcessError(
                    f"prometheus exited with code {self.proc.returncode}: {self.log_tail()}"
                )
            try:
                if requests.get(f"{self.url}/-/ready", timeout=1).status_code == 200:
                    return self
            except requests.RequestException:
                pass
            time.sleep(0.05)
        self.stop()
        raise PrometheusProcessError(
            f"prometheus not ready after {self.startup_timeout:g} s: {self.log_tail()}"
        )

    def wait_for_data(self, query: str = "up", timeout: float = 20.0) -> None:
        """Block until ``query`` returns something (the first scrape takes about 6 s)."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            try:
                resp = requests.post(f"{self.url}/api/v1/query", data={"query": query}, timeout=2)
                if resp.ok and resp.json()["data"]["result"]:
                    return
            except (requests.RequestException, ValueError, KeyError):
                pass
            time.sleep(0.2)
        raise PrometheusProcessError(f"no data for {query!r} after {timeout:g} s")

    def log_tail(self, chars: int = 600) -> str:
        """The end of Prometheus' log, on one line."""
        try:
            text = self.log_path.read_text("utf-8", "replace")
        except OSError:
            return "(no log)"
        return " ".join(text.split())[-chars:] or "(log empty)"

    def stop(self, timeout: float = 10.0) -> None:
        """SIGTERM, then SIGKILL after ``timeout``; removes the work dir if it was created here."""
        proc = self.proc
        if proc is not None and proc.poll() is None:
            proc.send_signal(signal.SIGTERM)
            try:
                proc.wait(timeout)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()
        self.proc = None
        if self._own_workdir:
            shutil.rmtree(self.workdir, ignore_errors=True)

    def __enter__(self) -> PrometheusProcess:
        return self.start() if self.proc is None else self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stop()
