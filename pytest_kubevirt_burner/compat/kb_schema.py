"""kube-burner's config keys: camelCase -> snake_case tables, defaults and unsupported fields.

Every key of kube-burner's ``Spec`` (``pkg/config/types.go``) is listed here, so an unknown key is
an error (kube-burner decodes strictly) and a known but unsupported one is an error naming it,
unless kube-burner itself behaves the same way on the cluster at hand (documented per key).
"""

from __future__ import annotations

import difflib
import re
from collections.abc import Iterable
from typing import Any

from ..jobfields import JOB_SPEC_FIELDS

TOP_KEYS = ("metricsEndpoints", "global", "jobs")
GLOBAL_KEYS = (
    "measurements",
    "requestTimeout",
    "gc",
    "gcMetrics",
    "waitWhenFinished",
    "clusterHealth",
    "timeout",
    "functionTemplates",
    "deletionStrategy",
)
JOB_TYPES = {"create": "create", "delete": "delete", "patch": "patch", "read": "read"}
JOB_TYPES["kubevirt"] = "kubevirt"

# job keys the loader handles itself (or refuses), not mapped onto a JobSpec keyword
LOADER_JOB_KEYS = (
    "jobType",
    "preLoadImages",
    "preLoadPeriod",
    "preLoadNodeLabels",
    "churnConfig",
    "skipIndexing",
    "defaultMissingKeysWithZero",
    "metricsAggregate",
    "metricsClosing",
    "gc",
    "measurements",
    "watchers",
    "incrementalLoad",
    "hooks",
    "objects",
)
# kube-burner job key -> JobSpec keyword (None: handled by the loader itself); derived from the
# one job-field table (the JobSpec fields' metadata)
JOB_FIELDS: dict[str, str | None] = {
    **{f.metadata["kb"]: f.name for f in JOB_SPEC_FIELDS if f.metadata["kb"]},
    **dict.fromkeys(LOADER_JOB_KEYS),
}
OBJECT_FIELDS: dict[str, str | None] = {
    "objectTemplate": "object_template",
    "replicas": "replicas",
    "inputVars": "input_vars",
    "kind": "kind",
    "apiVersion": "api_version",
    "labelSelector": "label_selector",
    "patchType": "patch_type",
    "kubeVirtOp": "kubevirt_op",
    "wait": "wait",
    "waitOptions": "wait_options",
    "runOnce": "run_once",
    "churn": "churn",
    "group": None,
    "repeatEveryNIterations": "repeat_every_n_iterations",
}
WAIT_OPTION_FIELDS = {
    "apiVersion": "api_version",
    "kind": "kind",
    "labelSelector": "label_selector",
    "customStatusPaths": "custom_status_paths",
}
CHURN_FIELDS = {
    "cycles": "cycles",
    "percent": "percent",
    "duration": "duration",
    "delay": "delay",
    "deleteDelay": "delete_delay",
    "mode": "mode",
}
MEASUREMENT_KEYS = (
    "name",
    "thresholds",
    "quantilesIndexer",
    "timeseriesIndexer",
    "svcTimeout",
    "pprofTargets",
    "pprofInterval",
    "pprofDirectory",
    "nodeAffinity",
)
ENDPOINT_KEYS = (
    "endpoint",
    "token",
    "username",
    "password",
    "step",
    "skipTLSVerify",
    "metrics",
    "alerts",
    "alias",
    "indexer",
)
INDEXER_KEYS = (
    "type",
    "esServers",
    "defaultIndex",
    "insecureSkipVerify",
    "metricsDirectory",
    "createTarball",
    "tarballName",
)
# kube-burner measurement name -> ours (the others kube-burner knows are not supported)
MEASUREMENTS = {
    "podLatency": "podLatency",
    "vmiLatency": "vmiLatency",
    "vmimLatency": "vmimLatency",
    "pvcLatency": "pvcLatency",
    "jobLatency": "jobLatency",
    "dataVolumeLatency": "dataVolumeLatency",
}
UNSUPPORTED_MEASUREMENTS = (
    "nodeLatency",
    "serviceLatency",
    "netpolLatency",
    "volumeSnapshotLatency",
    "pprof",
)
DURATION_KEYS = {
    *(f.metadata["kb"] for f in JOB_SPEC_FIELDS if f.metadata["kind"] == "duration"),
    "preLoadPeriod",
    "duration",
    "delay",
    "deleteDelay",
    "requestTimeout",
    "timeout",
}
METRICS_CLOSING = ("afterJob", "afterJobPause", "afterMeasurements")


def suggest(word: str, valid: Iterable[str]) -> str:
    """``; did you mean 'x'?`` for the closest valid key, or ''."""
    options = list(valid)
    close = difflib.get_close_matches(word, options, n=1, cutoff=0.6)
    if not close:
        lower = {o.lower(): o for o in options}
        if word.lower() in lower:
            close = [lower[word.lower()]]
    return f"; did you mean '{close[0]}'?" if close else ""


def check_keys(raw: dict[str, Any], valid: Iterable[str], what: str, where: str) -> None:
    """Raise ValueError naming the first key of ``raw`` not in ``valid``."""
    options = list(valid)
    for key in raw:
        if key not in options:
            raise ValueError(f"{where}: unknown key '{what}{key}'{suggest(str(key), options)}")


def go_duration(value: Any) -> Any:
    """A YAML number decoded into a Go time.Duration is nanoseconds: make it seconds."""
    if isinstance(value, bool) or not isinstance(value, int | float):
        return value
    return value / 1e9


INDEXER_TYPES = ("local", "elastic", "opensearch", "tsdb")
_SNAKE_TO_CAMEL: dict[str, str] = {
    snake: camel
    for table in (JOB_FIELDS, OBJECT_FIELDS, WAIT_OPTION_FIELDS, CHURN_FIELDS)
    for camel, snake in table.items()
    if snake is not None
}
_SNAKE_TO_CAMEL.update({"template": "objectTemplate", "churn": "churnConfig"})
_QUOTED = re.compile(r"'([a-z][a-z0-9_.\[\]]*)'")


def _camel_path(path: str) -> str:
    parts = path.split(".")
    out = []
    for i, part in enumerate(parts):
        head, bracket, rest = part.partition("[")
        if i > 0 and parts[0] == "churn":
            name = CHURN_REVERSE.get(head, head)
        elif i > 0 and head == "churn":
            name = "churn"  # objects[i].churn keeps its name
        else:
            name = _SNAKE_TO_CAMEL.get(head, head)
        out.append(name + bracket + rest)
    return ".".join(out)


CHURN_REVERSE = {snake: camel for camel, snake in CHURN_FIELDS.items()}


def camel_message(message: str) -> str:
    """Rewrite the snake_case keys quoted in a JobSpec error as kube-burner's camelCase."""
    return _QUOTED.sub(lambda m: f"'{_camel_path(m.group(1))}'", message)
