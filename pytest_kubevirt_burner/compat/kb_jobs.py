"""One kube-burner job (and its objects and measurements) mapped onto JobSpec keyword arguments."""

from __future__ import annotations

from typing import Any

from ..durations import parse_duration
from ..jobspec import JobType
from ..statuspaths import path_error
from . import kb_schema as kb


def _check(raw: dict[str, Any], valid: Any, what: str, where: str) -> None:
    kb.check_keys(raw, valid, what, where)


def _map(raw: Any, where: str, what: str) -> dict[str, Any]:
    if raw is None:
        return {}
    if not isinstance(raw, dict):
        raise ValueError(f"{where}: '{what}' must be a mapping, got {raw!r}")
    return raw


def _value(key: str, value: Any) -> Any:
    return kb.go_duration(value) if key in kb.DURATION_KEYS else value


def _bool(value: Any, where: str, key: str = "defaultMissingKeysWithZero") -> bool:
    if not isinstance(value, bool):
        raise ValueError(f"{where}: '{key}' must be true or false, got {value!r}")
    return value


def _seconds(value: Any, where: str, key: str) -> float:
    try:
        return parse_duration(kb.go_duration(value))
    except ValueError as exc:
        raise ValueError(f"{where}: '{key}': {exc}") from None


def _wait_options(raw: Any, where: str, what: str) -> dict[str, Any]:
    opts = _map(raw, where, what)
    _check(opts, kb.WAIT_OPTION_FIELDS, f"{what}.", where)
    out = {kb.WAIT_OPTION_FIELDS[k]: v for k, v in opts.items()}
    if "custom_status_paths" in out:
        out["custom_status_paths"] = _status_paths(out["custom_status_paths"], where, what)
    return out


def _yaml_text(value: Any) -> Any:
    """A YAML scalar decoded into a Go string field keeps its text (``true``, not ``True``)."""
    if isinstance(value, bool):
        return "true" if value else "false"
    return value


def _status_paths(raw: Any, where: str, what: str) -> list[Any]:
    """customStatusPaths entries, each key compiled as a jq query (one line naming the field)."""
    if raw is None:
        return []
    if not isinstance(raw, list):
        raise ValueError(f"{where}: '{what}.customStatusPaths' must be a list")
    out: list[Any] = []
    for i, entry in enumerate(raw):
        at = f"{what}.customStatusPaths[{i}]"
        if not isinstance(entry, dict):
            raise ValueError(f"{where}: '{at}' must be a mapping with 'key' and 'value'")
        _check(entry, ("key", "value"), f"{at}.", where)
        if (msg := path_error(str(entry.get("key", "")))) is not None:
            raise ValueError(f"{where}: '{at}.key': {msg}")
        out.append({k: _yaml_text(v) for k, v in entry.items()})
    return out


def _object(raw: Any, where: str, j: int) -> dict[str, Any]:
    what = f"objects[{j}]"
    obj = _map(raw, where, what)
    _check(obj, kb.OBJECT_FIELDS, f"{what}.", where)
    group = _map(obj.get("group"), where, f"{what}.group")
    _check(group, ("id", "gc", "pauseBeforeGC", "pauseAfterGC"), f"{what}.group.", where)
    if group.get("id", 0):
        raise ValueError(f"{where}: '{what}.group.id' > 0 (grouped execution) is not supported")
    template = obj.get("objectTemplate")
    if isinstance(template, str) and template.startswith(("http://", "https://")):
        raise ValueError(f"{where}: '{what}.objectTemplate' from a URL is not supported")
    out: dict[str, Any] = {}
    for key, value in obj.items():
        snake = kb.OBJECT_FIELDS[key]
        if snake is None:
            continue
        out[snake] = (
            _wait_options(value, where, f"{what}.waitOptions") if key == "waitOptions" else value
        )
    if out.get("label_selector") is not None:
        out["label_selector"] = {str(k): str(v) for k, v in out["label_selector"].items()}
    return out


def _churn(raw: Any, where: str) -> dict[str, Any] | None:
    churn = _map(raw, where, "churnConfig")
    _check(churn, kb.CHURN_FIELDS, "churnConfig.", where)
    out = {kb.CHURN_FIELDS[k]: _value(k, v) for k, v in churn.items()}
    duration = _seconds(out.get("duration") or 0, where, "churnConfig.duration")
    if not out.get("cycles") and duration <= 0:
        return None  # kube-burner: churn is on only when cycles > 0 or duration > 0
    out.setdefault("percent", 0)
    if out["percent"] == 0:
        raise ValueError(f"{where}: 'churnConfig.percent' must be between 1 and 100")
    return out


def _hooks(raw: Any, where: str) -> list[dict[str, Any]]:
    """kube-burner's ``hooks`` (cmd, when, background); the JobSpec validation checks values."""
    if raw is None:
        return []
    if not isinstance(raw, list):
        raise ValueError(f"{where}: 'hooks' must be a list")
    for i, hook in enumerate(raw):
        _check(
            _map(hook, where, f"hooks[{i}]"), ("cmd", "when", "background"), f"hooks[{i}].", where
        )
    return raw


def _unsupported(raw: dict[str, Any], where: str) -> None:
    if raw.get("watchers"):
        raise ValueError(f"{where}: 'watchers' is not supported")
    if raw.get("incrementalLoad") is not None:
        raise ValueError(f"{where}: 'incrementalLoad' is not supported")
    if raw.get("metricsAggregate"):
        raise ValueError(f"{where}: 'metricsAggregate: true' is not supported")
    closing = raw.get("metricsClosing", "afterJobPause")
    if closing not in kb.METRICS_CLOSING:
        raise ValueError(
            f"{where}: 'metricsClosing' must be one of {', '.join(kb.METRICS_CLOSING)}, "
            f"got {closing!r}"
        )
    if closing != "afterJobPause":
        raise ValueError(f"{where}: 'metricsClosing: {closing}' is not supported")


def job_kwargs(raw: dict[str, Any], where: str) -> tuple[JobType, dict[str, Any], dict[str, Any]]:
    """(job type, JobSpec keywords, extra KbJob fields) of one kube-burner job."""
    _check(raw, kb.JOB_FIELDS, "", where)
    job_type = raw.get("jobType", "create")
    if job_type not in kb.JOB_TYPES:
        raise ValueError(
            f"{where}: unknown jobType {job_type!r}{kb.suggest(str(job_type), kb.JOB_TYPES)}"
        )
    _unsupported(raw, where)
    kwargs: dict[str, Any] = {}
    for key, value in raw.items():
        snake = kb.JOB_FIELDS[key]
        if snake is not None:
            kwargs[snake] = _value(key, value)
    if not kwargs.get("max_wait_timeout"):
        kwargs.pop("max_wait_timeout", None)  # 0: kube-burner's --timeout (4h)
    if job_type in ("delete", "read"):
        kwargs.pop("execution_mode", None)  # forced sequential
    if job_type == "delete":
        kwargs.pop("wait_when_finished", None)  # forced false
    objects = raw.get("objects")
    if objects is None:
        objects = []  # no objects: the job runs as a no-op, as in kube-burner
    if not isinstance(objects, list):
        raise ValueError(f"{where}: 'objects' must be a list")
    kwargs["objects"] = [_object(o, where, j) for j, o in enumerate(objects)]
    if job_type == "create":
        for j, obj in enumerate(kwargs["objects"]):
            if not obj.get("object_template"):
                raise ValueError(f"{where}: objects[{j}] needs an 'objectTemplate'")
    kwargs["hooks"] = _hooks(raw.get("hooks"), where)
    churn = _churn(raw.get("churnConfig"), where)
    if churn is not None:
        kwargs["churn"] = churn
    labels = _map(raw.get("preLoadNodeLabels"), where, "preLoadNodeLabels")
    extras = {
        "gc": bool(raw.get("gc", False)),
        "preload": job_type == "create" and bool(raw.get("preLoadImages", True)),
        "preload_period": _seconds(raw.get("preLoadPeriod", "10m"), where, "preLoadPeriod"),
        "preload_node_labels": {str(k): str(v) for k, v in labels.items()},
        "skip_indexing": bool(raw.get("skipIndexing", False)),
        "missing_key_zero": _bool(raw.get("defaultMissingKeysWithZero", False), where),
    }
    return kb.JOB_TYPES[job_type], kwargs, extras  # type: ignore[return-value]


def measurement_list(
    global_list: list[Any], job_list: Any, where: str
) -> tuple[list[str], dict[str, list[Any]]]:
    """Measurement names (job entries override global ones by name) and their thresholds."""
    if job_list is not None and not isinstance(job_list, list):
        raise ValueError(f"{where}: 'measurements' must be a list")
    merged: dict[str, dict[str, Any]] = {}
    for i, entry in enumerate([*global_list, *(job_list or [])]):
        what = f"measurements[{i}]"
        entry = _map(entry, where, what)
        _check(entry, kb.MEASUREMENT_KEYS, f"{what}.", where)
        name = entry.get("name")
        if name in kb.UNSUPPORTED_MEASUREMENTS:
            raise ValueError(f"{where}: measurement {name!r} is not supported")
        if name not in kb.MEASUREMENTS:
            raise ValueError(
                f"{where}: unknown measurement {name!r}{kb.suggest(str(name), kb.MEASUREMENTS)}"
            )
        for key in ("quantilesIndexer", "timeseriesIndexer"):
            if entry.get(key):
                raise ValueError(f"{where}: measurement {name}: '{key}' is not supported")
        merged[str(name)] = {**merged.get(str(name), {}), **entry}
    names = [kb.MEASUREMENTS[n] for n in merged]
    thresholds = {kb.MEASUREMENTS[n]: list(e.get("thresholds") or []) for n, e in merged.items()}
    return names, {k: v for k, v in thresholds.items() if v}
