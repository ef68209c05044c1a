"""kube-burner metrics profiles and alert profiles: strict loading and Go-template rendering."""

from __future__ import annotations

import os
import re
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

from ..templates import TemplateError, TemplateRenderer
from ..yamlerrors import describe

__all__ = [
    "SEVERITIES",
    "AlertRule",
    "MetricQuery",
    "ProfileError",
    "alerts_elapsed",
    "load_alert_profile",
    "load_metrics_profile",
    "metrics_elapsed",
]

SEVERITIES = ("info", "warning", "error", "critical")
_METRIC_KEYS: dict[str, type] = {
    "query": str,
    "metricName": str,
    "instant": bool,
    "captureStart": bool,
}
_ALERT_KEYS: dict[str, type] = {"expr": str, "description": str, "severity": str}
# Prometheus-style prefix kube-burner puts in front of every alert description.
_DESCRIPTION_PREFIX = "{{$labels := .Labels}}{{$value := .Value}}"
_LABEL_REF = re.compile(r"\$labels\.([A-Za-z_][A-Za-z0-9_]*)")
_SAFE_LOADER: type[yaml.SafeLoader] = getattr(yaml, "CSafeLoader", yaml.SafeLoader)


class ProfileError(Exception):
    """A profile file is unreadable or invalid; the message is one line naming the file."""

    def __init__(self, message: str) -> None:
        self.message = " ".join(message.split())
        super().__init__(self.message)


def metrics_elapsed(seconds: float) -> str:
    """``elapsed`` for metrics profiles: whole seconds of the job, e.g. ``93s``."""
    return f"{int(seconds)}s"


def alerts_elapsed(seconds: float) -> str:
    """``elapsed`` for alert profiles: whole minutes of the job (``0m`` under a minute)."""
    return f"{int(seconds // 60)}m"


def template_variables(elapsed: str, env: Mapping[str, str] | None = None) -> dict[str, Any]:
    """What a profile template sees: every environment variable plus ``elapsed``."""
    return {**(os.environ if env is None else env), "elapsed": elapsed}


@dataclass(frozen=True, slots=True)
class MetricQuery:
    """One metrics-profile entry; ``query`` is the unrendered Go template."""

    query: str
    metric_name: str
    instant: bool
    capture_start: bool
    source: str
    renderer: TemplateRenderer

    def render(self, elapsed_seconds: float, env: Mapping[str, str] | None = None) -> str:
        """The PromQL for a job of ``elapsed_seconds`` (ProfileError on a template error)."""
        variables = template_variables(metrics_elapsed(elapsed_seconds), env)
        try:
            text = self.renderer.render_string(
                self.query, variables, source=self.source, dialect="go"
            )
        except TemplateError as exc:
            raise ProfileError(f"{self.source}: query of {self.metric_name}: {exc}") from None
        return text.strip()


@dataclass(frozen=True, slots=True)
class AlertRule:
    """One alert-profile entry; ``expr`` and ``description`` are unrendered Go templates."""

    expr: str
    description: str
    severity: str
    source: str
    renderer: TemplateRenderer

    def render_expr(self, elapsed_seconds: float, env: Mapping[str, str] | None = None) -> str:
        """The PromQL for a job of ``elapsed_seconds``."""
        variables = template_variables(alerts_elapsed(elapsed_seconds), env)
        try:
            text = self.renderer.render_string(
                self.expr, variables, source=self.source, dialect="go"
            )
        except TemplateError as exc:
            raise ProfileError(f"{self.source}: alert expr {self.expr!r}: {exc}") from None
        return text.strip()

    def render_description(self, labels: Mapping[str, str], value: float) -> str:
        """The description with ``$labels``/``$value`` (value rounded to 3 decimals)."""
        data: dict[str, Any] = {"Labels": _with_missing(labels, self.description), "Value": value}
        data["Value"] = round(value * 1000) / 1000 if value == value else value
        return self.renderer.render_string(
            _DESCRIPTION_PREFIX + self.description, data, source=self.source, dialect="go"
        )


def _with_missing(labels: Mapping[str, str], description: str) -> dict[str, str]:
    """Labels the description names but the series lacks print as Go does: ``<no value>``."""
    out = dict(labels)
    for name in _LABEL_REF.findall(description):
        out.setdefault(name, "<no value>")
    return out


def _read_list(path: Path) -> list[Any]:
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        why = exc.strerror if isinstance(exc, OSError) and exc.strerror else str(exc)
        raise ProfileError(f"{path}: cannot read profile: {why}") from None
    try:
        data = yaml.load(text, Loader=_SAFE_LOADER)
    except yaml.YAMLError as exc:
        problem, where = describe(exc)
        raise ProfileError(f"{path}: invalid YAML{where}: {problem}") from None
    if not isinstance(data, list) or not data:
        raise ProfileError(f"{path}: a profile must be a non-empty YAML list")
    return data


def _checked(
    path: Path, number: int, entry: Any, keys: Mapping[str, type], required: tuple[str, ...]
) -> dict[str, Any]:
    where = f"{path}: entry number {number}"
    if not isinstance(entry, dict):
        raise ProfileError(f"{where}: expected a mapping, got {type(entry).__name__}")
    for key, value in entry.items():
        if key not in keys:
            raise ProfileError(f"{where}: unknown key {key!r} (allowed: {', '.join(keys)})")
        if not isinstance(value, keys[key]):
            want = "true or false" if keys[key] is bool else "a string"
            raise ProfileError(f"{where}: {key} must be {want}")
    for key in required:
        if not str(entry.get(key) or "").strip():
            raise ProfileError(f"{where}: {key} not defined")
    return entry


def load_metrics_profile(
    path: str | Path, *, env: Mapping[str, str] | None = None
) -> list[MetricQuery]:
    """Parse and validate a metrics profile (``[{query, metricName, instant, captureStart}]``)."""
    p = Path(path)
    renderer = TemplateRenderer(p.parent)
    queries = []
    for number, raw in enumerate(_read_list(p), start=1):
        entry = _checked(p, number, raw, _METRIC_KEYS, ("query", "metricName"))
        q = MetricQuery(
            query=entry["query"],
            metric_name=entry["metricName"].strip(),
            instant=entry.get("instant", False),
            capture_start=entry.get("captureStart", False),
            source=str(p),
            renderer=renderer,
        )
        q.render(1.0, env)  # a template error surfaces now, not after the job
        queries.append(q)
    return queries


def load_alert_profile(
    path: str | Path, *, env: Mapping[str, str] | None = None
) -> list[AlertRule]:
    """Parse and validate an alert profile (``[{expr, description, severity}]``)."""
    p = Path(path)
    renderer = TemplateRenderer(p.parent)
    rules = []
    for number, raw in enumerate(_read_list(p), start=1):
        entry = _checked(p, number, raw, _ALERT_KEYS, ("expr", "description"))
        severity = entry.get("severity", "info").strip().lower()
        if severity not in SEVERITIES:
            raise ProfileError(
                f"{p}: entry number {number}: severity {entry.get('severity')!r} is not one of"
                f" {', '.join(SEVERITIES)}"
            )
        rule = AlertRule(entry["expr"], entry["description"], severity, str(p), renderer)
        rule.render_expr(60.0, env)
        try:
            rule.render_description({}, 0.0)
        except TemplateError as exc:
            raise ProfileError(
                f"{p}: entry number {number}: description template error: {exc.message}"
            ) from None
        rules.append(rule)
    return rules
