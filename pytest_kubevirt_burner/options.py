"""Command-line options and ini values declared as data, resolved once into a RunConfig.

``OPTIONS`` is the table of every option of the plugin. ``add_options`` registers each one with
pytest (``addoption`` and, when it has an ini name, ``addini``); ``raw_values`` reads them back
(the command line wins over the ini file); ``resolve`` turns those values into a RunConfig,
raising a one-line ``pytest.UsageError`` on a bad value.
"""

from __future__ import annotations

import os
import shutil
import tempfile
import uuid as uuidlib
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

import pytest

GROUP = "kubevirt-burner"
GROUP_DESCRIPTION = "Kubernetes/KubeVirt performance and scale tests"

Kind = Literal["string", "int", "float", "bool", "list"]


@dataclass(frozen=True)
class OptionDecl:
    """One option: its flag, ini name, value kind, default, help text and option group.

    ``kind`` decides how pytest parses it: ``string``/``int``/``float`` take a value, ``bool``
    is a flag (``store_true``), ``list`` is repeatable (``append``). The ini value (when ``ini``
    is set) is used only when the flag is absent from the command line.
    """

    flag: str
    help: str
    ini: str | None = None
    kind: Kind = "string"
    default: Any = None
    metavar: str | None = None
    choices: tuple[str, ...] | None = None
    group: str = GROUP

    @property
    def dest(self) -> str:
        """The attribute name pytest stores the value under (``--kube-config`` -> kube_config)."""
        return self.flag.lstrip("-").replace("-", "_")

    @property
    def ini_type(self) -> Literal["string", "bool"]:
        """The ``addini`` type: ``bool`` for flags, ``string`` for everything else."""
        return "bool" if self.kind == "bool" else "string"

    def addoption_kwargs(self) -> dict[str, Any]:
        """Keyword arguments of ``parser.addoption`` for this option."""
        kw: dict[str, Any] = {"dest": self.dest, "default": self.default, "help": self.help}
        if self.kind == "bool":
            kw["action"] = "store_true"
        elif self.kind == "list":
            kw["action"] = "append"
            kw["default"] = list(self.default or [])
        elif self.kind == "int":
            kw["type"] = int
        elif self.kind == "float":
            kw["type"] = float
        if self.metavar is not None:
            kw["metavar"] = self.metavar
        if self.choices is not None:
            kw["choices"] = self.choices
        return kw


def _o(
    flag: str, help: str, ini: str | None = None, kind: Kind = "string", **kw: Any
) -> OptionDecl:
    return OptionDecl(flag, help, ini, kind, **kw)


OPTIONS: tuple[OptionDecl, ...] = (
    _o("--kube-config", "kubeconfig of the cluster (default: $KUBECONFIG, ~/.kube/config, "
       "in-cluster)", "kube_config", metavar="PATH"),
    _o("--kube-context", "kubeconfig context to use", "kube_context", metavar="NAME"),
    _o("--kube-sim", "start the embedded simulated cluster for this session and run against it",
       "kube_sim", "bool"),
    _o("--kube-sim-profile", "latency profile of the simulated cluster: fast, realistic or a "
       "YAML file", "kube_sim_profile", metavar="NAME_OR_FILE"),
    _o("--kube-sim-nodes", "number of simulated nodes (default 3)", "kube_sim_nodes", "int",
       metavar="N"),
    _o("--kube-sim-crds", "with --kube-sim: also serve the CRDs of this file or directory, or "
       "'openshift' (repeatable)", kind="list", metavar="FILE_OR_DIR"),
    _o("--kube-sim-prometheus", "with --kube-sim: start a Prometheus scraping the simulator",
       kind="bool", default=False),
    _o("--burner-uuid", "run id stamped as label kube-burner.io/uuid (default: a fresh uuid4)",
       "burner_uuid", metavar="UUID"),
    _o("--metrics-directory", "where result documents are written (default collected-metrics)",
       "metrics_directory", metavar="DIR"),
    _o("--prometheus-url", "Prometheus base URL for metrics and alert profiles",
       "prometheus_url", metavar="URL"),
    _o("--prometheus-token", "bearer token for Prometheus (or $PROMETHEUS_TOKEN)",
       metavar="TOKEN"),
    _o("--prometheus-username", "basic-auth user for Prometheus (password from "
       "$PROMETHEUS_PASSWORD)", metavar="USER"),
    _o("--prometheus-ca-cert", "CA bundle to verify Prometheus' TLS certificate",
       "prometheus_ca_cert", metavar="FILE"),
    _o("--prometheus-skip-tls-verify", "do not verify Prometheus' TLS certificate (verification "
       "is on by default)", kind="bool", default=False),
    _o("--prometheus-step", "range-query step of metrics and alert profiles (default 30s)",
       "prometheus_step", metavar="DURATION"),
    _o("--metrics-profile", "kube-burner metrics profile (repeatable)", kind="list",
       metavar="FILE"),
    _o("--alert-profile", "kube-burner alert profile (repeatable)", kind="list", metavar="FILE"),
    _o("--es-server", "Elasticsearch server to index documents into (in addition to local "
       "files)", "es_server", metavar="URL"),
    _o("--es-index", "Elasticsearch index name", "es_index", metavar="NAME"),
    _o("--es-ca-cert", "CA bundle to verify Elasticsearch's TLS certificate", "es_ca_cert",
       metavar="FILE"),
    _o("--es-skip-tls-verify", "do not verify Elasticsearch's TLS certificate (verification is "
       "on by default)", kind="bool", default=False),
    _o("--es-allow-failures", "do not fail the session when documents could not be indexed",
       kind="bool", default=False),
    _o("--burner-scale", "multiply iterations (or replicas) of every job, e.g. 0.01 for a smoke "
       "run", "burner_scale", "float", metavar="FACTOR"),
    _o("--burner-dry-run", "render and validate every job, resolve kinds through discovery, "
       "create nothing", "burner_dry_run", "bool"),
    _o("--burner-progress-interval", "without a terminal (CI logs): a progress line per running "
       "job every SECONDS (default 10; 0 turns the lines off)", "burner_progress_interval",
       metavar="SECONDS"),
    _o("--burner-baseline", "an earlier metrics directory to compare with", metavar="PATH"),
    _o("--burner-regression", "fail on regression, e.g. vmiLatency.VMIRunning:P99:10%% "
       "(repeatable)", kind="list", metavar="SPEC"),
    _o("--kube-burner-config", "collect a kube-burner config YAML: each job becomes a test item",
       metavar="FILE"),
    _o("--kube-burner-set", "kube-burner --set override for --kube-burner-config (repeatable)",
       kind="list", metavar="KEY=VALUE"),
    _o("--kube-burner-user-data", "kube-burner --user-data file for --kube-burner-config",
       metavar="FILE"),
    _o("--kube-burner-user-metadata", "kube-burner --user-metadata: a YAML mapping merged into "
       "the metadata of every document (jobSummary, measurements, metrics)", metavar="FILE"),
    _o("--kube-burner-allow-missing", "kube-burner --allow-missing: variables the config names "
       "but nobody defines render as Go's zero value instead of failing", kind="bool",
       default=False),
    _o("--kube-burner-fill-undefined", "as kube-burner-ocp's wrappers do: variables the config "
       'names but neither the environment nor the user data defines become "" (0 when compared '
       "with a number)", kind="bool", default=False),
    _o("--burner-keep-on-interrupt", "when the run is interrupted (SIGINT/SIGTERM), keep what it "
       "created instead of deleting every object labelled with its uuid", kind="bool",
       default=False),
    _o("--latency-clock", "which clock quantiles use (both are always recorded; default client)",
       "latency_clock", metavar="client|server", choices=("client", "server")),
)  # fmt: skip
"""Every option of the plugin, in ``--help`` order (the public contract: names never change)."""

GROUP_DESCRIPTIONS = {GROUP: GROUP_DESCRIPTION}


def add_options(parser: pytest.Parser) -> None:
    """Register every declared option and ini value with pytest (CLI wins over ini)."""
    for decl in OPTIONS:
        group = parser.getgroup(decl.group, GROUP_DESCRIPTIONS.get(decl.group, decl.group))
        group.addoption(decl.flag, **decl.addoption_kwargs())
        if decl.ini:
            parser.addini(decl.ini, decl.help, type=decl.ini_type)


def _absent(value: object) -> bool:
    """Whether an option value means "not given" (None, an unset flag, an empty list)."""
    return value is None or value is False or (isinstance(value, list) and not value)


def raw_values(config: pytest.Config) -> dict[str, Any]:
    """``dest -> value`` of every declared option: the command line, else the ini file.

    The ini value is used only when the option was not given on the command line; an empty ini
    value counts as absent (the option's default stays).
    """
    values: dict[str, Any] = {}
    for decl in OPTIONS:
        value = config.getoption(decl.dest, decl.default)
        if _absent(value) and decl.ini is not None:
            ini_value = config.getini(decl.ini)
            if not _absent(ini_value) and ini_value != "":
                value = ini_value
        values[decl.dest] = value
    return values


@dataclass(frozen=True)
class ObservabilityOptions:
    """Resolved Prometheus, profile and Elasticsearch options (read by observability.py)."""

    prometheus_url: str | None = None
    kube_sim_prometheus: bool = False
    prometheus_token: str | None = None
    prometheus_username: str | None = None
    prometheus_ca_cert: str | None = None
    prometheus_skip_tls_verify: bool = False
    prometheus_step: str = "30s"
    metrics_profiles: tuple[str, ...] = ()
    alert_profiles: tuple[str, ...] = ()
    es_server: str | None = None
    es_index: str = "kube-burner"
    es_ca_cert: str | None = None
    es_skip_tls_verify: bool = False

    @property
    def wanted(self) -> bool:
        """Whether any metrics, alert or Elasticsearch option was given."""
        return bool(
            self.prometheus_url
            or self.kube_sim_prometheus
            or self.metrics_profiles
            or self.alert_profiles
            or self.es_server
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
    keep_on_interrupt: bool = False
    kube_sim_crds: tuple[str, ...] = ()
    progress_interval: float = 10.0
    observability: ObservabilityOptions = field(default_factory=ObservabilityOptions)

    @property
    def prometheus_url(self) -> str | None:
        """The Prometheus URL given with --prometheus-url (shown in the report)."""
        return self.observability.prometheus_url

    @property
    def es_server(self) -> str | None:
        """The Elasticsearch server given with --es-server (shown in the report)."""
        return self.observability.es_server


def _str(value: object) -> str | None:
    return None if value is None or value == "" else str(value)


def _number(
    values: Mapping[str, Any], dest: str, kind: type[float] | type[int], default: Any
) -> Any:
    raw = values[dest]
    if raw is None:
        return default
    try:
        return kind(raw)
    except ValueError:
        what = "a number" if kind is float else "an integer"
        flag = "--" + dest.replace("_", "-")
        raise pytest.UsageError(f"{flag}: not {what}: {raw!r}") from None


def observability_options(values: Mapping[str, Any]) -> ObservabilityOptions:
    """The observability part of the resolved ``values``."""
    return ObservabilityOptions(
        prometheus_url=_str(values["prometheus_url"]),
        kube_sim_prometheus=bool(values["kube_sim_prometheus"]),
        prometheus_token=_str(values["prometheus_token"]),
        prometheus_username=_str(values["prometheus_username"]),
        prometheus_ca_cert=_str(values["prometheus_ca_cert"]),
        prometheus_skip_tls_verify=bool(values["prometheus_skip_tls_verify"]),
        prometheus_step=_str(values["prometheus_step"]) or "30s",
        metrics_profiles=tuple(str(p) for p in values["metrics_profile"] or ()),
        alert_profiles=tuple(str(p) for p in values["alert_profile"] or ()),
        es_server=_str(values["es_server"]),
        es_index=_str(values["es_index"]) or "kube-burner",
        es_ca_cert=_str(values["es_ca_cert"]),
        es_skip_tls_verify=bool(values["es_skip_tls_verify"]),
    )


def resolve(config: pytest.Config) -> RunConfig:
    """Read options and ini values into a RunConfig; raise pytest.UsageError on bad values."""
    values = raw_values(config)
    scale = _number(values, "burner_scale", float, 1.0)
    if scale <= 0:
        raise pytest.UsageError(f"--burner-scale: must be > 0, got {scale}")
    # a pytest-xdist worker uses the controller's uuid (handed over in workerinput)
    inherited = getattr(config, "workerinput", {}).get(WORKER_UUID_KEY)
    run_uuid = str(inherited or values["burner_uuid"] or uuidlib.uuid4())
    if len(run_uuid) > 63 or not run_uuid.replace("-", "").isalnum():
        raise pytest.UsageError(
            f"--burner-uuid: must be a valid label value (letters, digits, '-', at most 63), "
            f"got {run_uuid!r}"
        )
    clock = str(values["latency_clock"] or "client")
    if clock not in ("client", "server"):
        raise pytest.UsageError(f"latency_clock: must be client or server, got {clock!r}")
    nodes = _number(values, "kube_sim_nodes", int, 3)
    if nodes < 1:
        raise pytest.UsageError(f"--kube-sim-nodes: must be >= 1, got {nodes}")
    kube_sim = bool(values["kube_sim"])
    kube_config = values["kube_config"]
    if kube_sim and kube_config:
        raise pytest.UsageError("--kube-sim and --kube-config exclude each other: choose one")
    return RunConfig(
        kube_config=str(kube_config) if kube_config else None,
        kube_context=_str(values["kube_context"]),
        kube_sim=kube_sim,
        kube_sim_profile=str(values["kube_sim_profile"] or "fast"),
        kube_sim_nodes=nodes,
        uuid=run_uuid,
        metrics_directory=Path(str(values["metrics_directory"] or "collected-metrics")),
        scale=scale,
        dry_run=bool(values["burner_dry_run"]),
        keep_on_interrupt=bool(values["burner_keep_on_interrupt"]),
        kube_sim_crds=tuple(str(c) for c in values["kube_sim_crds"] or ()),
        progress_interval=_progress_interval(values["burner_progress_interval"]),
        latency_clock=clock,
        observability=observability_options(values),
    )


def _progress_interval(raw: object) -> float:
    """--burner-progress-interval in seconds (10 by default, 0 for none)."""
    try:
        value = 10.0 if raw is None else float(str(raw))
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
