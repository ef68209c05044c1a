"""Load a kube-burner config: render it as kube-burner does, apply --set, validate, map to JobSpecs.

Rendering data, lowest precedence first: the environment, the ``--kube-burner-user-data`` file,
then ``UUID`` (kube-burner's code order). ``--kube-burner-set a.b.0.c=v`` overrides are merged into
the rendered YAML (numeric segments index lists; values are YAML scalars). Every key is checked
strictly before anything touches a cluster; problems are one line naming the file, the job and
the key, with the closest valid key.
"""

from __future__ import annotations

import os
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from ..durations import parse_duration
from ..jobspec import JobSpec, JobSpecError, build_job
from ..measurements import Slo, slos_from_thresholds
from ..metrics.profiles import ProfileError, load_alert_profile, load_metrics_profile
from ..templates import TemplateError, TemplateRenderer
from ..yamlerrors import describe
from . import kb_schema as kb
from .kb_jobs import job_kwargs, measurement_list


class KubeBurnerConfigError(ValueError):
    """The config (or an override) is invalid; the message is one line naming where."""


@dataclass(frozen=True)
class EsEndpoint:
    """An elastic/opensearch indexer named in ``metricsEndpoints``."""

    kind: str
    servers: tuple[str, ...]
    index: str
    verify: bool


@dataclass(frozen=True)
class PromEndpoint:
    """A ``metricsEndpoints`` entry with metrics or alert profiles (secrets stay out of repr)."""

    position: int
    url: str
    step: float
    verify: bool
    metrics: tuple[Path, ...]
    alerts: tuple[Path, ...]
    alias: str
    token: str | None = field(default=None, repr=False)
    username: str | None = None
    password: str | None = field(default=None, repr=False)

    @property
    def label(self) -> str:
        """``metricsEndpoints[N]``, plus the alias when the config gives one."""
        where = f"metricsEndpoints[{self.position}]"
        return where if self.alias == f"indexer-{self.position}" else f"{where} ({self.alias})"


@dataclass
class KbJob:
    """One job of the config, ready to run."""

    position: int
    spec: JobSpec
    measurements: list[str]
    slos: list[Slo]
    gc: bool = False
    preload: bool = False
    preload_period: float = 600.0
    preload_node_labels: dict[str, str] = field(default_factory=dict)
    skip_indexing: bool = False
    missing_key_zero: bool = False  # defaultMissingKeysWithZero


@dataclass
class KubeBurnerConfig:
    """A validated kube-burner config."""

    path: Path
    jobs: list[KbJob]
    metrics_directory: Path | None = None
    tarball: Path | None = None
    """``createTarball: true``: the metrics directory is written to this tarball at the end."""
    elastic: list[EsEndpoint] = field(default_factory=list)
    prometheus: list[PromEndpoint] = field(default_factory=list)
    gc: bool = False
    cluster_health: bool = False
    function_templates: list[Path] = field(default_factory=list)
    deletion_strategy: str = "default"  # global.deletionStrategy, carried on every JobSpec

    def renderer(self, job: KbJob | None = None) -> TemplateRenderer:
        """The object-template renderer of ``job``: kube-burner's readFile, function templates
        and the job's ``defaultMissingKeysWithZero``."""
        return TemplateRenderer(
            self.path.parent,
            function_templates=self.function_templates,
            missing_key_zero=bool(job and job.missing_key_zero),
            config_dir=self.path.parent,
        )


def read_user_data(path: str | Path) -> dict[str, Any]:
    """The ``--kube-burner-user-data`` file: a YAML or JSON mapping."""
    try:
        data = yaml.safe_load(Path(path).read_text())
    except OSError as exc:
        raise KubeBurnerConfigError(
            f"--kube-burner-user-data {path}: cannot read: {exc.strerror or exc}"
        ) from None
    except yaml.YAMLError as exc:
        problem, where = describe(exc)
        raise KubeBurnerConfigError(
            f"--kube-burner-user-data {path}: invalid YAML{where}: {problem}"
        ) from None
    if data is None:
        return {}
    if not isinstance(data, dict):
        raise KubeBurnerConfigError(f"--kube-burner-user-data {path}: must be a mapping")
    return data


def render(path: Path, data: Mapping[str, Any], *, allow_missing: bool = False) -> str:
    """The config text rendered as a Go template (missing keys are errors unless
    ``allow_missing``, kube-burner's ``--allow-missing``: then they are Go's zero value)."""
    renderer = TemplateRenderer(path.parent, missing_key_zero=allow_missing)
    try:
        return renderer.render_string(path.read_text(), dict(data), source=str(path), dialect="go")
    except OSError as exc:
        raise KubeBurnerConfigError(f"{path}: cannot read: {exc.strerror or exc}") from None
    except TemplateError as exc:
        raise KubeBurnerConfigError(f"{path}: template error: {exc}") from None


_ACTION = re.compile(r"\{\{.*?\}\}")
_VARIABLE = re.compile(r"\.([a-zA-Z_][a-zA-Z0-9_]*)")
_NUMERIC = re.compile(r"(?:ne|eq|gt|lt|ge|le)\s+\.([a-zA-Z_][a-zA-Z0-9_]*)\s+\d")


def undefined_defaults(text: str, defined: Mapping[str, Any]) -> dict[str, Any]:
    """kube-burner-ocp's fill-in for variables a config names but nobody defines: ``0`` when
    the config compares it with a number, else ``""`` (its ``defaultUndefinedTemplateVars``)."""
    numeric = set(_NUMERIC.findall(text))
    out: dict[str, Any] = {}
    for action in _ACTION.findall(text):
        for name in _VARIABLE.findall(action):
            if name not in defined and name not in out:
                out[name] = 0 if name in numeric else ""
    return out


def _scalar(text: str) -> Any:
    try:
        value = yaml.safe_load(text)
    except yaml.YAMLError:
        return text
    return text if isinstance(value, dict | list) or (value is None and text) else value


def split_sets(values: Sequence[str]) -> list[tuple[str, str]]:
    """``["a.b=1,c=x", "d=2"]`` -> [("a.b", "1"), ("c", "x"), ("d", "2")] (kube-burner's --set)."""
    pairs = []
    for value in values:
        for part in re.split(r",(?=[^,=]+=)", value):
            key, sep, val = part.partition("=")
            if not sep or not key.strip():
                raise KubeBurnerConfigError(f"--kube-burner-set {part!r}: expected KEY=VALUE")
            pairs.append((key.strip(), val))
    return pairs


def apply_set(data: dict[str, Any], key: str, value: str) -> None:
    """Set ``key`` (dotted, numeric segments index lists) to the YAML scalar ``value``."""
    parts = key.split(".")
    node: Any = data
    for depth, part in enumerate(parts):
        last = depth == len(parts) - 1
        where = ".".join(parts[: depth + 1])
        if isinstance(node, list):
            if not part.isdigit() or int(part) >= len(node):
                raise KubeBurnerConfigError(
                    f"--kube-burner-set {key}: '{where}' is not an index of a list of {len(node)}"
                )
            if last:
                node[int(part)] = _scalar(value)
            else:
                node = node[int(part)]
        elif isinstance(node, dict):
            if last:
                node[part] = _scalar(value)
            else:
                node = node.setdefault(part, {})
        else:
            raise KubeBurnerConfigError(f"--kube-burner-set {key}: '{where}' is not a mapping")


def _mapping(value: Any, where: str) -> dict[str, Any]:
    if value is None:
        return {}
    if not isinstance(value, dict):
        raise KubeBurnerConfigError(f"{where}: must be a mapping, got {value!r}")
    return value


def _profiles(ep: dict[str, Any], key: str, base: Path, at: str) -> tuple[Path, ...]:
    """The endpoint's ``metrics``/``alerts`` files (relative to the config), each loaded once."""
    names = ep.get(key) or []
    if not isinstance(names, list) or not all(isinstance(n, str) and n for n in names):
        raise KubeBurnerConfigError(f"{at}: '{key}' must be a list of file names")
    what = "metrics" if key == "metrics" else "alert"
    paths = []
    for name in names:
        if name.startswith(("http://", "https://")):
            raise KubeBurnerConfigError(f"{at}: {what} profile URL {name!r} is not supported")
        path = base / name
        if not path.is_file():
            raise KubeBurnerConfigError(f"{at}: {what} profile '{name}' not found ({path})")
        try:
            if key == "metrics":
                load_metrics_profile(path)
            else:
                load_alert_profile(path)
        except ProfileError as exc:
            raise KubeBurnerConfigError(f"{at}: {exc}") from None
        paths.append(path)
    return tuple(paths)


def _prometheus(i: int, ep: dict[str, Any], base: Path, at: str) -> PromEndpoint | None:
    """The endpoint's Prometheus side; None when it names no profiles (kube-burner: no client)."""
    metrics = _profiles(ep, "metrics", base, at)
    alerts = _profiles(ep, "alerts", base, at)
    if not (metrics or alerts):
        return None
    url = ep.get("endpoint")
    if not isinstance(url, str) or not url.startswith(("http://", "https://")):
        raise KubeBurnerConfigError(
            f"{at}: 'endpoint' (an http:// or https:// Prometheus URL) is required with "
            "'metrics' or 'alerts'"
        )
    try:
        step = parse_duration(kb.go_duration(ep.get("step", "30s")))
    except ValueError as exc:
        raise KubeBurnerConfigError(f"{at}: 'step': {exc}") from None
    if step <= 0:
        raise KubeBurnerConfigError(f"{at}: 'step' must be positive")
    skip = ep.get("skipTLSVerify", False)
    if not isinstance(skip, bool):
        raise KubeBurnerConfigError(f"{at}: 'skipTLSVerify' must be true or false")
    token, username, password = (ep.get(k) for k in ("token", "username", "password"))
    return PromEndpoint(
        position=i,
        url=url,
        step=step,
        verify=not skip,  # kube-burner defaults to true; TLS stays verified unless asked
        metrics=metrics,
        alerts=alerts,
        alias=str(ep.get("alias") or f"indexer-{i}"),
        token=str(token) if token else None,
        username=str(username) if username else None,
        password=str(password) if password is not None else None,
    )


def _endpoints(cfg: KubeBurnerConfig, raw: Any, where: str, uuid: str) -> None:
    if raw is None:
        return
    if not isinstance(raw, list):
        raise KubeBurnerConfigError(f"{where}: 'metricsEndpoints' must be a list")
    for i, ep in enumerate(raw):
        at = f"{where}: metricsEndpoints[{i}]"
        ep = _mapping(ep, at)
        try:
            kb.check_keys(ep, kb.ENDPOINT_KEYS, "", at)
            idx = _mapping(ep.get("indexer"), f"{at}.indexer")
            kb.check_keys(idx, kb.INDEXER_KEYS, "indexer.", at)
        except ValueError as exc:
            raise KubeBurnerConfigError(str(exc)) from None
        prom = _prometheus(i, ep, cfg.path.parent, at)
        if prom is not None:
            cfg.prometheus.append(prom)
        kind = idx.get("type")
        if idx.get("createTarball"):
            if kind != "local":
                raise KubeBurnerConfigError(f"{at}: 'indexer.createTarball' needs type: local")
            cfg.tarball = Path(str(idx.get("tarballName") or "kube-burner-metrics.tgz"))
        if kind == "local":
            directory = str(idx.get("metricsDirectory") or "collected-metrics-{{.UUID}}")
            cfg.metrics_directory = Path(directory.replace("{{.UUID}}", uuid))
        elif kind in ("elastic", "opensearch"):
            servers = idx.get("esServers") or []
            if not isinstance(servers, list) or not servers or not idx.get("defaultIndex"):
                raise KubeBurnerConfigError(
                    f"{at}: an {kind} indexer needs 'esServers' (a list) and 'defaultIndex'"
                )
            verify = not idx.get("insecureSkipVerify", False)
            cfg.elastic.append(
                EsEndpoint(kind, tuple(map(str, servers)), str(idx["defaultIndex"]), verify)
            )
        elif kind == "tsdb":
            raise KubeBurnerConfigError(f"{at}: indexer type 'tsdb' is not supported")
        elif kind is not None:
            raise KubeBurnerConfigError(
                f"{at}: unknown indexer type {kind!r}{kb.suggest(str(kind), kb.INDEXER_TYPES)}"
            )


def _global(cfg: KubeBurnerConfig, raw: dict[str, Any], where: str) -> list[dict[str, Any]]:
    at = f"{where}: global"
    try:
        kb.check_keys(raw, kb.GLOBAL_KEYS, "global.", where)
    except ValueError as exc:
        raise KubeBurnerConfigError(str(exc)) from None
    for key in ("gcMetrics", "waitWhenFinished"):
        if raw.get(key):
            raise KubeBurnerConfigError(f"{at}: '{key}: true' is not supported")
    strategy = raw.get("deletionStrategy", "default")
    if strategy not in ("default", "gvr"):
        raise KubeBurnerConfigError(
            f"{at}: 'deletionStrategy' must be default or gvr, got {strategy!r}"
        )
    cfg.deletion_strategy = str(strategy)
    timeout = kb.go_duration(raw.get("requestTimeout", "60s"))
    if str(timeout) not in ("60s", "1m", "1m0s", "60", "60.0"):
        raise KubeBurnerConfigError(
            f"{at}: 'requestTimeout' other than 60s is not supported (the client uses 60s)"
        )
    cfg.gc = bool(raw.get("gc", False))
    cfg.cluster_health = bool(raw.get("clusterHealth", False))
    measurements = raw.get("measurements") or []
    if not isinstance(measurements, list):
        raise KubeBurnerConfigError(f"{at}: 'measurements' must be a list")
    return measurements


def _function_templates(path: Path, raw: dict[str, Any]) -> list[Path]:
    """``global.functionTemplates``: files (relative to the config) whose ``define``s every
    object template may use; each must exist and parse."""
    names = raw.get("functionTemplates") or []
    at = f"{path}: global.functionTemplates"
    if not isinstance(names, list) or not all(isinstance(n, str) and n for n in names):
        raise KubeBurnerConfigError(f"{at}: must be a list of file names")
    paths = []
    for i, name in enumerate(names):
        full = path.parent / name
        if not full.is_file():
            raise KubeBurnerConfigError(f"{at}[{i}]: '{name}' not found ({full})")
        try:
            check = TemplateRenderer(path.parent, function_templates=[full])
            check.render_string("", {}, source=str(full), dialect="go")  # compiles every define
        except TemplateError as exc:
            raise KubeBurnerConfigError(f"{at}[{i}]: {exc}") from None
        paths.append(full)
    return paths


def load(
    path: str | Path,
    *,
    uuid: str,
    user_data: Mapping[str, Any] | None = None,
    overrides: Sequence[str] = (),
    env: Mapping[str, str] | None = None,
    allow_missing: bool = False,
    fill_undefined: bool = False,
) -> KubeBurnerConfig:
    """Render, override, validate and map a kube-burner config (nothing touches a cluster).

    ``allow_missing``: kube-burner's ``--allow-missing``. ``fill_undefined``: what
    kube-burner-ocp's wrappers do, see ``undefined_defaults``.
    """
    path = Path(path).resolve()
    data = {**(os.environ if env is None else env), **(user_data or {}), "UUID": uuid}
    if fill_undefined:
        try:
            data = {**undefined_defaults(path.read_text(), data), **data}
        except OSError as exc:
            raise KubeBurnerConfigError(f"{path}: cannot read: {exc.strerror or exc}") from None
    text = render(path, data, allow_missing=allow_missing)
    try:
        raw = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        problem, where = describe(exc)
        raise KubeBurnerConfigError(
            f"{path}: not valid YAML after rendering{where}: {problem}"
        ) from None
    raw = _mapping(raw, str(path))
    for key, value in split_sets(overrides):
        apply_set(raw, key, value)
    try:
        kb.check_keys(raw, kb.TOP_KEYS, "", str(path))
    except ValueError as exc:
        raise KubeBurnerConfigError(str(exc)) from None
    cfg = KubeBurnerConfig(path=path, jobs=[])
    _endpoints(cfg, raw.get("metricsEndpoints"), str(path), uuid)
    cfg.function_templates = _function_templates(path, _mapping(raw.get("global"), "global"))
    global_measurements = _global(cfg, _mapping(raw.get("global"), f"{path}: global"), str(path))
    jobs = raw.get("jobs")
    if not isinstance(jobs, list) or not jobs:
        raise KubeBurnerConfigError(f"{path}: 'jobs' must be a non-empty list")
    seen: set[str] = set()
    for i, job in enumerate(jobs):
        cfg.jobs.append(_job(path, i, job, global_measurements, seen, cfg.deletion_strategy))
    return cfg


def _job(
    path: Path,
    i: int,
    raw: Any,
    global_measurements: list[dict[str, Any]],
    seen: set[str],
    deletion_strategy: str = "default",
) -> KbJob:
    name = str(raw.get("name", "")) if isinstance(raw, dict) else ""
    where = f"{path}: job {name!r} (jobs[{i}])"
    if not isinstance(raw, dict):
        raise KubeBurnerConfigError(f"{where}: must be a mapping")
    if not name:
        raise KubeBurnerConfigError(f"{where}: 'name' is required")
    if name in seen:
        raise KubeBurnerConfigError(f"{where}: duplicate job name")
    seen.add(name)
    try:
        job_type, kwargs, extras = job_kwargs(raw, where)
        kwargs["deletion_strategy"] = deletion_strategy
        names, thresholds = measurement_list(global_measurements, raw.get("measurements"), where)
        kwargs.setdefault("allow_empty", True)  # kube-burner passes on an empty selector
        spec = build_job(where, job_type, kwargs, path.parent, name)
        slos = [s for m, t in thresholds.items() for s in slos_from_thresholds(m, t, where)]
    except (ValueError, JobSpecError) as exc:
        raise KubeBurnerConfigError(kb.camel_message(str(exc))) from None
    return KbJob(position=i, spec=spec, measurements=names, slos=slos, **extras)
