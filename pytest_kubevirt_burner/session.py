"""Session state: the cluster (real or simulated), run ids, and the jobs' results."""

from __future__ import annotations

import atexit
import contextlib
import uuid as uuidlib
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
import yaml

from . import hooks
from .cluster import ApiError, ClusterClient, ClusterError, resolve_target
from .console import Console
from .interrupt import InterruptHandler
from .jobs.cleanup import cleanup_after_interrupt
from .observability import Observability
from .options import RunConfig
from .results import JobResult
from .runlock import MetricsDirectoryBusy, RunLock
from .sim.process import SimProcess
from .stashkeys import SESSION_KEY

__all__ = ["SESSION_KEY", "BurnerSession"]  # SESSION_KEY lives in the leaf stashkeys.py


def read_user_metadata(path: str | None) -> dict[str, Any]:
    """``--kube-burner-user-metadata FILE`` (kube-burner's ``--user-metadata``): a YAML mapping
    merged into every document; UsageError naming the option and file when it is not one."""
    if not path:
        return {}
    where = f"--kube-burner-user-metadata {path}"
    try:
        data = yaml.safe_load(Path(path).read_text())
    except OSError as exc:
        raise pytest.UsageError(f"{where}: cannot read: {exc.strerror or exc}") from None
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        line = f" (line {mark.line + 1})" if mark is not None else ""
        raise pytest.UsageError(f"{where}: invalid YAML{line}") from None
    if not isinstance(data, dict):
        raise pytest.UsageError(f"{where}: must be a mapping")
    return {str(k): v for k, v in data.items()}


class BurnerSession:
    """One per pytest session; connects lazily, only when a burner test needs the cluster."""

    def __init__(self, config: pytest.Config, run: RunConfig) -> None:
        self.config = config
        self.run = run
        self.runid = str(uuidlib.uuid4())
        self.user_metadata = read_user_metadata(config.getoption("kube_burner_user_metadata", None))
        self.results: list[JobResult] = []
        self._client: ClusterClient | None = None
        self._sim: SimProcess | None = None
        self.cluster_facts: dict[str, Any] = {}
        self.interrupts = InterruptHandler()
        self.observability = Observability(run.observability, hooks.document_preparer(config))
        # duplicated now (configure time, capture suspended); xdist workers stay quiet
        self.console = Console.open(quiet=hasattr(config, "workerinput"))
        self._lock: RunLock | None = None

    # --- simulator ------------------------------------------------------------------------
    def simulator(self) -> SimProcess:
        """The session's simulated cluster, started on first use."""
        if self._sim is None:
            sim = SimProcess(
                nodes=self.run.kube_sim_nodes,
                profile=self.run.kube_sim_profile,
                extra_args=[arg for crd in self.run.kube_sim_crds for arg in ("--crd", str(crd))],
            )
            try:
                sim.start()
            except Exception as exc:
                sim.cleanup()
                raise pytest.UsageError(f"--kube-sim: the simulator did not start: {exc}") from None
            self._sim = sim
            atexit.register(self.close)
        return self._sim

    # --- cluster --------------------------------------------------------------------------
    def client(self) -> ClusterClient:
        """The session's ClusterClient (connects on first use; UsageError on a bad target)."""
        if self._client is None:
            try:
                if self.run.kube_sim:
                    target = resolve_target(str(self.simulator().kubeconfig), None)
                else:
                    target = resolve_target(self.run.kube_config, self.run.kube_context)
                client = ClusterClient(target, workers=64)
                client.stats.on_retry = self._connect_retry_line(target.server)
                version = str(client.server_version().get("gitVersion", "unknown"))
                nodes = client.node_count()
                client.stats.on_retry = None
            except ApiError as exc:  # 401/403 and the like: name the cluster and kubeconfig
                raise pytest.UsageError(f"{target.describe()}: {exc}") from None
            except ClusterError as exc:
                raise pytest.UsageError(str(exc)) from None
            self.cluster_facts = {
                "server": target.server,
                "version": version,
                "nodes": nodes,
                "simulated": self.run.kube_sim,
            }
            self._client = client
        return self._client

    def _connect_retry_line(self, server: str) -> Callable[[str, str, float], None]:
        """While connecting: a line per retry, so an unreachable cluster is never silent."""
        attempts = [0]

        def line(verb: str, cause: str, delay: float) -> None:
            attempts[0] += 1
            what = "unreachable" if cause == "connection" else f"answering {cause}"
            self.console.line(
                f"kubevirt-burner: the cluster at {server} is {what}; retry {attempts[0]} "
                f"in {delay:.1f}s"
            )

        return line

    def start_observability(self) -> None:
        """Connect Prometheus/Elasticsearch when asked to (after the cluster is connected)."""
        if self.observability.wanted and self.observability.pipeline is None:
            sim_url = self._sim.url if self._sim is not None else None
            self.observability.start(
                self.metrics_directory(), self.run.uuid, self.metadata(), sim_url
            )

    def finish_observability(self) -> list[str]:
        """Index every result file into Elasticsearch; lines worth showing the user."""
        obs = self.observability
        try:
            done = obs.finish()
        finally:
            obs.close()
        lines = list(dict.fromkeys(obs.warnings))
        if done is not None and done.es_indexed and not done.es_failed:
            lines.append(f"{obs.es_where}: {done.es_indexed} documents indexed")
        return lines

    def indexing_failed(self) -> bool:
        """Documents were not indexed and ``--es-allow-failures`` was not given."""
        allowed = bool(self.config.getoption("es_allow_failures", False))
        return self.observability.failed_documents > 0 and not allowed

    def metrics_directory(self) -> Path:
        """The metrics directory, created on first use."""
        path = self.run.metrics_directory
        path.mkdir(parents=True, exist_ok=True)
        return path

    def lock_metrics_directory(self) -> None:
        """Hold the metrics directory for this run (UsageError naming the live run holding it).

        A dry run writes nothing and takes no lock; pytest-xdist workers share the controller's.
        """
        if self._lock is not None or self.run.dry_run or hasattr(self.config, "workerinput"):
            return
        lock = RunLock(self.run.metrics_directory, self.run.uuid)
        try:
            lock.acquire()
        except (MetricsDirectoryBusy, OSError) as exc:
            raise pytest.UsageError(str(exc)) from None
        self._lock = lock

    def metadata(self) -> dict[str, Any]:
        """Metadata stamped on every document (kube-burner's k8sVersion and totalNodes)."""
        facts = self.cluster_facts
        return {
            **self.user_metadata,  # --kube-burner-user-metadata; the cluster's facts win
            "k8sVersion": facts.get("version", ""),
            "totalNodes": facts.get("nodes", 0),
            "simulated": bool(facts.get("simulated", False)),
        }

    def header_lines(self) -> list[str]:
        """Lines for the terminal header describing the cluster."""
        if not self.cluster_facts:
            return []
        f = self.cluster_facts
        sim = (
            " (SIMULATED: embedded kube-sim, " + self.run.kube_sim_profile + " profile)"
            if f["simulated"]
            else ""
        )
        return [
            f"kubevirt-burner: cluster {f['server']} Kubernetes {f['version']}, "
            f"{f['nodes']} nodes{sim}",
            f"kubevirt-burner: uuid {self.run.uuid}, metrics directory {self.run.metrics_directory}"
            + (" (dry run: nothing is created)" if self.run.dry_run else ""),
        ]

    def cleanup_after_interrupt(self, write: Any) -> None:
        """After an interrupted session: delete this run's objects (see interrupt.py)."""
        target = self._client.target if self._client is not None else None
        cleanup_after_interrupt(
            self.interrupts,
            self.results,
            self.client if self._client is not None else None,
            self.run.uuid,
            (target.path if target else self.run.kube_config, self.run.kube_context),
            self.run.keep_on_interrupt,
            write,
        )

    def close(self) -> None:
        """Stop the simulator, release the client and the console."""
        self.console.close()
        if self._lock is not None:
            self._lock.release()
            self._lock = None
        if self._client is not None:
            with contextlib.suppress(Exception):
                self._client.close()
            self._client = None
        if self._sim is not None:
            with contextlib.suppress(Exception):
                self._sim.cleanup()
            self._sim = None
