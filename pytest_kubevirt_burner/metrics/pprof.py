"""kube-burner's pprof measurement: profiles of the API server and of component pods.

The API server's own profiles are fetched through the cluster client's connection; a pod's are
fetched through the API server's pod proxy
(``/api/v1/namespaces/<ns>/pods/[https:]<pod>:<port>/proxy/<path>``). Collection happens at
job start, at job end and every ``interval`` in between, on a background thread.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Iterable, Mapping
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import parse_qsl, quote, urlsplit

from ..cluster import ClusterClient
from ..cluster.errors import ClusterError

__all__ = ["PprofCollector", "PprofTarget", "parse_targets"]

_KEYS = {"name", "namespace", "labelSelector", "bearerToken", "url", "certFile", "keyFile"}
_UNSENDABLE = ("bearerToken", "certFile", "keyFile")


@dataclass(frozen=True, slots=True)
class PprofTarget:
    """One pprofTargets entry; without namespace and labelSelector it is the API server."""

    name: str
    url: str
    namespace: str | None = None
    label_selector: str | None = None

    @property
    def is_apiserver(self) -> bool:
        """True when the profile comes from the API server itself."""
        return not self.namespace and not self.label_selector

    def request(self) -> tuple[str, list[tuple[str, str]], str, int | None]:
        """(path, query pairs, scheme, port) of the profile ``url``."""
        parts = urlsplit(self.url)
        path = parts.path if parts.path.startswith("/") else f"/{parts.path}"
        return path, parse_qsl(parts.query), parts.scheme or "http", parts.port


def parse_targets(entries: Iterable[Mapping[str, Any]]) -> tuple[list[PprofTarget], list[str]]:
    """Validate kube-burner pprofTargets; returns targets and warnings (ValueError if invalid)."""
    targets: list[PprofTarget] = []
    warnings: list[str] = []
    for number, entry in enumerate(entries, start=1):
        unknown = sorted(set(entry) - _KEYS)
        if unknown:
            raise ValueError(f"pprofTargets entry {number}: unknown key {unknown[0]!r}")
        name, url = str(entry.get("name") or ""), str(entry.get("url") or "")
        if not name or not url:
            raise ValueError(f"pprofTargets entry {number}: name and url are required")
        target = PprofTarget(
            name, url, entry.get("namespace") or None, entry.get("labelSelector") or None
        )
        if not target.is_apiserver and target.request()[3] is None:
            raise ValueError(
                f"pprofTargets entry {number} ({name}): url must name the pod port,"
                " e.g. https://localhost:8443/debug/pprof/heap"
            )
        given = [k for k in _UNSENDABLE if entry.get(k)]
        if given:
            warnings.append(
                f"pprof target {name}: {', '.join(given)} not used (profiles are fetched with"
                " the cluster credentials through the API server)"
            )
        targets.append(target)
    return targets, warnings


def _stamp(ts: float) -> str:
    return time.strftime("%Y%m%dT%H%M%S", time.gmtime(ts)) + f".{int(ts * 1000) % 1000:03d}Z"


def _safe(text: str) -> str:
    return "".join(c if c.isalnum() or c in "-_." else "_" for c in text)


class PprofCollector:
    """Collects profiles for one job; ``start()``/``stop()`` bracket the job."""

    def __init__(
        self,
        client: ClusterClient,
        targets: list[PprofTarget],
        directory: Path,
        job_name: str,
        *,
        interval: float | None = None,
        timeout: float = 60.0,
    ) -> None:
        self.client = client
        self.targets = targets
        self.directory = Path(directory) / "pprof"
        self.job_name = job_name
        self.interval = interval
        self.timeout = timeout
        self.files: list[Path] = []
        self.warnings: list[str] = []
        self._lock = threading.Lock()
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self._stopped = False

    def _fetch(self, path: str, query: list[tuple[str, str]], read_timeout: float) -> bytes:
        resp = self.client.open_stream(path, query, read_timeout=read_timeout)
        try:
            data: bytes = resp.read()
        finally:
            resp.release_conn()
        return data

    def _sources(self, target: PprofTarget) -> list[tuple[str, str]]:
        """(label for the file name, request path) pairs of a target right now."""
        path, _, scheme, port = target.request()
        if target.is_apiserver:
            return [("apiserver", path)]
        pods = self.client.list("v1", "Pod", target.namespace, target.label_selector)
        out = []
        for pod in pods:
            meta = pod.get("metadata") or {}
            if (pod.get("status") or {}).get("phase") != "Running":
                continue
            pod_name, ns = str(meta.get("name")), str(meta.get("namespace") or target.namespace)
            prefix = "https:" if scheme == "https" else ""
            proxy = (
                f"/api/v1/namespaces/{quote(ns)}/pods/{prefix}{quote(pod_name)}:{port}/proxy{path}"
            )
            out.append((pod_name, proxy))
        if not out:
            self._warn(f"pprof target {target.name}: no running pod matches")
        return out

    def _warn(self, message: str) -> None:
        with self._lock:
            if message not in self.warnings:
                self.warnings.append(message)

    def _collect_target(self, target: PprofTarget, when: float) -> None:
        _, query, _, _ = target.request()
        seconds = next((float(v) for k, v in query if k == "seconds" and v.isdigit()), 0.0)
        try:
            sources = self._sources(target)
        except ClusterError as exc:
            self._warn(f"pprof target {target.name}: cannot list pods: {exc}")
            return
        for label, path in sources:
            try:
                data = self._fetch(path, query, seconds + self.timeout)
            except (ClusterError, OSError) as exc:
                self._warn(f"pprof target {target.name} ({label}): GET {path}: {exc}")
                continue
            name = f"{_safe(self.job_name)}-{_safe(target.name)}-{_safe(label)}-{_stamp(when)}"
            file = self.directory / f"{name}.pprof"
            self.directory.mkdir(parents=True, exist_ok=True)
            file.write_bytes(data)
            with self._lock:
                self.files.append(file)

    def collect(self) -> None:
        """Fetch every target once (targets in parallel); failures become warnings."""
        if not self.targets:
            return
        when = time.time()
        with ThreadPoolExecutor(max_workers=min(8, len(self.targets))) as pool:
            list(pool.map(lambda t: self._collect_target(t, when), self.targets))

    def _loop(self) -> None:
        assert self.interval is not None
        while not self._stop.wait(self.interval):
            self.collect()

    def start(self) -> None:
        """Collect once (job start) and, with an interval, start the periodic thread."""
        self.collect()
        if self.interval and self.interval > 0:
            self._thread = threading.Thread(
                target=self._loop, name=f"pprof-{self.job_name}", daemon=True
            )
            self._thread.start()

    def stop(self) -> list[Path]:
        """Stop the thread, collect once more (job end); returns every file written."""
        if self._stopped:
            with self._lock:
                return list(self.files)
        self._stopped = True
        self._stop.set()
        if self._thread is not None:
            self._thread.join()
            self._thread = None
        self.collect()
        with self._lock:
            return list(self.files)
