"""Command-line options and ini values, resolved once into a RunConfig."""

from __future__ import annotations

import os
import shutil
import tempfile
import uuid as uuidlib
from dataclasses import dataclass, field
from pathlib import Path

import pytest

GROUP = "kubevirt-burner"


def add_options(parser: pytest.Parser) -> None:
    """Register every option of the plugin (CLI wins over ini)."""
    group = parser.getgroup(GROUP, "Kubernetes/KubeVirt performance and scale tests")

    def opt(name: str, ini: str | None = None, ini_type: str = "string", **kw: object) -> None:
        group.addoption(name, **kw)
        if ini:
            parser.addini(ini, str(kw.get("help", "")), type=ini_type)  # type: ignore[arg-type]

    opt(
        "--kube-config",
        "kube_config",
        metavar="PATH",
        dest="kube_config",
        default=None,
        help="kubeconfig of the cluster (default: $KUBECONFIG, ~/.kube/config, in-cluster)",
    )
    opt(
        "--kube-context",
        "kube_context",
        metavar="NAME",
        dest="kube_context",
        default=None,
        help="kubeconfig context to use",
    )
    opt(
        "--kube-sim",
        "kube_sim",
        "bool",
        action="store_true",
        dest="kube_sim",
        default=None,
        help="start the embedded simulated cluster for this session and run against it",
    )
    opt(
        "--kube-sim-profile",
        "kube_sim_profile",
        metavar="NAME_OR_FILE",
        dest="kube_sim_profile",
        default=None,
        help="latency profile of the simulated cluster: fast, realistic or a YAML file",
    )
    opt(
        "--kube-sim-nodes",
        "kube_sim_nodes",
        metavar="N",
        dest="kube_sim_nodes",
        type=int,
        default=None,
        help="number of simulated nodes (default 3)",
    )
    opt(
        "--kube-sim-prometheus",
        None,
        action="store_true",
        dest="kube_sim_prometheus",
        default=False,
        help="with --kube-sim: start a Prometheus scraping the simulator",
    )
    opt(
        "--burner-uuid",
        "burner_uuid",
        metavar="UUID",
        dest="burner_uuid",
        default=None,
        help="run id stamped as label kube-burner.io/uuid (default: a fresh uuid4)",
    )
    opt(
        "--metrics-directory",
        "metrics_directory",
        metavar="DIR",
        dest="metrics_directory",
        default=None,
        help="where result documents are written (default collected-metrics)",
    )
    opt(
        "--prometheus-url",
        "prometheus_url",
        metavar="URL",
        dest="prometheus_url",
        default=None,
        help="Prometheus base URL for metrics and alert profiles",
    )
    opt(
        "--prometheus-token",
        None,
        metavar="TOKEN",
        dest="prometheus_token",
        default=None,
        help="bearer token for Prometheus (or $PROMETHEUS_TOKEN)",
    )
    opt(
        "--prometheus-username",
        None,
        metavar="USER",
        dest="prometheus_username",
        default=None,
        help="basic-auth user for Prometheus (password from $PROMETHEUS_PASSWORD)",
    )
    opt(
        "--prometheus-ca-cert",
        "prometheus_ca_cert",
        metavar="FILE",
        dest="prometheus_ca_cert",
        default=None,
        help="CA bundle to verify Prometheus' TLS certificate",
    )
    opt(
        "--prometheus-skip-tls-verify",
        None,
        action="store_true",
        dest="prometheus_skip_tls_verify",
        default=False,
        help="do not verify Prometheus' TLS certificate (verification is on by default)",
    )
    opt(
        "--prometheus-step",
        "prometheus_step",
        metavar="DURATION",
        dest="prometheus_step",
        default=None,
        help="range-query step of metrics and alert profiles (default 30s)",
    )
    opt(
        "--metrics-profile",
        None,
        metavar="FILE",
        dest="metrics_profile",
        action="append",
        default=[],
        help="kube-burner metrics profile (repeatable)",
    )
    opt(
        "--alert-profile",
        None,
        metavar="FILE",
        dest="alert_profile",
        action="append",
        default=[],
        help="kube-burner alert profile (repeatable)",
    )
    opt(
        "--es-server",
        "es_server",
        metavar="URL",
        dest="es_server",
        default=None,
        help="Elasticsearch server to index documents into (in addition to local files)",
    )
    opt(
        "--es-index",
        "es_index",
        metavar="NAME",
        dest="es_index",
        default=None,
        help="Elasticsearch index name",
    )
    opt(
        "--es-ca-cert",
        "es_ca_cert",
        metavar="FILE",
        dest="es_ca_cert",
        default=None,
        help="CA bundle to verify Elasticsearch's TLS certificate",
    )
    opt(
        "--es-skip-tls-verify",
        None,
        action="store_true",
        dest="es_skip_tls_verify",
        default=False,
        help="do not verify Elasticsearch's TLS certificate (verification is on by default)",
    )
    opt(
        "--burner-scale",
        "burner_scale",
        metavar="FACTOR",
        dest="burner_scale",
        type=float,
        default=None,
        help="multiply iterations (or replicas) of every job, e.g. 0.01 for a smoke run",
    )
    opt(
        "--burner-dry-run",
        "burner_dry_run",
        "bool",
        action="store_true",
        dest="burner_dry_run",
        default=None,
        help="render and validate every job, resolve kinds through discovery, create nothing",
    )
    opt(
        "--burner-progress-interval",
        "burner_progress_interval",
        metavar="SECONDS",
        dest="burner_progress_interval",
        type=float,
        default=None,
        help="without a terminal (CI logs): a progress line per running job every SECONDS "
        "(default 10; 0 turns the lines off)",
    )
    opt(
        "--burner-baseline",
        None,
        metavar="PATH",
        dest="burner_baseline",
        default=None,
        help="an earlier metrics directory to compare with",
    )
    opt(
        "--burner-regression",
        None,
        metavar="SPEC",
        dest="burner_regression",
        action="append",
        default=[],
        help="fail on regression, e.g. vmiLatency.VMIRunning:P99:10%% (repeatable)",
    )
    opt(
        "--kube-burner-config",
        None,
        metavar="FILE",
        dest="kube_burner_config",
        default=None,
        help="collect a kube-burner config YAML: each job becomes a test item",
    )
    opt(
        "--kube-burner-set",
        None,
        metavar="KEY=VALUE",
        dest="kube_burner_set",
        action="append",
        default=[],
        help="kube-burner --set override for --kube-burner-config (repeatable)",
    )
    opt(
        "--kube-burner-user-data",
        None,
        metavar="FILE",
        dest="kube_burner_user_data",
        default=None,
        help="kube-burner --user-data file for --kube-burner-config",
    )
    opt(
        "--burner-keep-on-interrupt",
        None,
        action="store_true",
        dest="burner_keep_on_interrupt",
        default=False,
        help="when the run is interrupted (SIGINT/SIGTERM), keep what it created instead of "
        "deleting every object labelled with its uuid",
    )
    opt(
        "--latency-clock",
        "latency_clock",
        metavar="client|server",
        dest="latency_clock",
        default=None,
        choices=("client", "server"),
        help="which clock quantiles use (both are always recorded; default client)",
    )


@dataclass(frozen=True)
class RunConfig:
    """Resolved session settings."""

    kube_config: str | None
    kube_context: str | None
    kube_sim: bool
    kube_sim_profile: str
    kube_sim_nodes: int
    uuid: str
    metrics_directory: Path
    scale: float
    dry_run: bool
    latency_clock: str
    prometheus_url: str | None = None
    es_server: str | None = None
    es_index: str | None = None
    keep_on_interrupt: bool = False
    progress_interval: float = 10.0
    later: dict[str, object] = field(default_factory=dict)


def _get(config: pytest.Config, dest: str, ini: str | None = None) -> object:
    value = config.getoption(dest)
    if value is None and ini is not None:
        ini_value = config.getini(ini)
        if ini_value not in ("", None, []):
            return ini_value
        return None
    return value


# options that are accepted now but whose features are not built yet
NOT_YET: dict[str, str] = {}


def resolve(config: pytest.Config) -> RunConfig:
    """Read options and ini values into a RunConfig; raise pytest.UsageError on bad values."""
    for dest, flag in NOT_YET.items():
        value = _get(config, dest, dest if dest in ("prometheus_url", "es_server") else None)
        if value not in (None, False, []):
            raise pytest.UsageError(f"{flag}: not yet available in this version")
    scale_raw = _get(config, "burner_scale", "burner_scale")
    try:
        scale = float(scale_raw) if scale_raw is not None else 1.0  # type: ignore[arg-type]
    except ValueError:
        raise pytest.UsageError(f"--burner-scale: not a number: {scale_raw!r}") from None
    if scale <= 0:
        raise pytest.UsageError(f"--burner-scale: must be > 0, got {scale}")
    # a pytest-xdist worker uses the controller's uuid (handed over in workerinput)
    inherited = getattr(config, "workerinput", {}).get(WORKER_UUID_KEY)
    run_uuid = str(inherited or _get(config, "burner_uuid", "burner_uuid") or uuidlib.uuid4())
    if len(run_uuid) > 63 or not run_uuid.replace("-", "").isalnum():
        raise pytest.UsageError(
            f"--burner-uuid: must be a valid label value (letters, digits, '-', at most 63), "
            f"got {run_uuid!r}"
        )
    clock = str(_get(config, "latency_clock", "latency_clock") or "client")
    if clock not in ("client", "server"):
        raise pytest.UsageError(f"latency_clock: must be client or server, got {clock!r}")
    nodes_raw = _get(config, "kube_sim_nodes", "kube_sim_nodes")
    try:
        nodes = int(nodes_raw) if nodes_raw is not None else 3  # type: ignore[call-overload]
    except ValueError:
        raise pytest.UsageError(f"--kube-sim-nodes: not an integer: {nodes_raw!r}") from None
    if nodes < 1:
        raise pytest.UsageError(f"--kube-sim-nodes: must be >= 1, got {nodes}")
    metrics_dir = Path(
        str(_get(config, "metrics_directory", "metrics_directory") or "collected-metrics")
    )
    kube_sim = bool(_get(config, "kube_sim", "kube_sim"))
    kube_config = _get(config, "kube_config", "kube_config")
    if kube_sim and kube_config:
        raise pytest.UsageError("--kube-sim and --kube-config exclude each other: choose one")
    return RunConfig(
        kube_config=str(kube_config) if kube_config else None,
        kube_context=str(_get(config, "kube_context", "kube_context") or "") or None,
        kube_sim=kube_sim,
        kube_sim_profile=str(_get(config, "kube_sim_profile", "kube_sim_profile") or "fast"),
        kube_sim_nodes=nodes,
        uuid=run_uuid,
        metrics_directory=metrics_dir,
        scale=scale,
        dry_run=bool(_get(config, "burner_dry_run", "burner_dry_run")),
        keep_on_interrupt=bool(config.getoption("burner_keep_on_interrupt", False)),
        latency_clock=clock,
        progress_interval=_progress_interval(config),
    )


def _progress_interval(config: pytest.Config) -> float:
    """--burner-progress-interval in seconds (10 by default, 0 for none)."""
    raw = _get(config, "burner_progress_interval", "burner_progress_interval")
    try:
        value = 10.0 if raw is None else float(raw)  # type: ignore[arg-type]
    except ValueError:
        raise pytest.UsageError(f"--burner-progress-interval: not a number: {raw!r}") from None
    if value < 0:
        raise pytest.UsageError(f"--burner-progress-interval: must be >= 0, got {raw}")
    return value


MIN_FREE_BYTES = 1 << 20
WORKER_UUID_KEY = "kubevirt_burner_uuid"  # workerinput key of the controller's run uuid


def metrics_directory_problem(path: Path) -> str | None:
    """Why results could not be written to ``path`` (None when a write probe succeeds).

    Nothing is left behind: a missing directory is probed in its nearest existing parent.
    """
    probe_dir = path
    while not probe_dir.exists():
        if probe_dir.parent == probe_dir:
            break
        probe_dir = probe_dir.parent
    where = f"--metrics-directory {path}"
    if not probe_dir.is_dir():
        return f"{where}: {probe_dir} is not a directory"
    try:
        with tempfile.NamedTemporaryFile(dir=probe_dir, prefix=".burner-probe-") as probe:
            probe.write(b"x" * 4096)
            probe.flush()
            os.fsync(probe.fileno())
    except OSError as exc:
        return f"{where}: cannot write results in {probe_dir}: {exc.strerror or exc}"
    free = shutil.disk_usage(probe_dir).free
    if free < MIN_FREE_BYTES:
        return (
            f"{where}: only {free // 1024} KiB free in {probe_dir} "
            f"(at least {MIN_FREE_BYTES >> 20} MiB needed)"
        )
    return None
