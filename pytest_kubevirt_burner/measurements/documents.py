"""kube-burner's jobSummary document (plus our run-quality fields) and the jobConfig dict."""

from __future__ import annotations

import dataclasses
import enum
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any

from .. import __version__
from ..jobfields import JOB_SPEC_FIELDS
from ..results import JobResult
from .timeutil import format_ts

NS_PER_S = 1_000_000_000
# JobSpec fields that kube-burner serialises as time.Duration (integer nanoseconds)
DURATION_FIELDS = frozenset(f.name for f in JOB_SPEC_FIELDS if f.metadata["kind"] == "duration")


def camel(name: str) -> str:
    """``max_wait_timeout`` -> ``maxWaitTimeout``."""
    head, *rest = name.split("_")
    return head + "".join(part[:1].upper() + part[1:] for part in rest)


def _plain(value: Any) -> Any:
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return {
            camel(f.name): (
                round(getattr(value, f.name) * NS_PER_S)
                if f.name in DURATION_FIELDS
                else _plain(getattr(value, f.name))
            )
            for f in dataclasses.fields(value)
        }
    if isinstance(value, Mapping):
        return {str(k): _plain(v) for k, v in value.items()}
    if isinstance(value, list | tuple | set | frozenset):
        return [_plain(v) for v in value]
    if isinstance(value, Path):
        return str(value)
    if isinstance(value, enum.Enum):
        return value.value
    return value


# JobSpec fields whose kube-burner jobConfig name is not their camelCase name (the dashboards'
# jobSummary table reads jobConfig.jobIterations)
KUBE_BURNER_NAMES = {"iterations": "jobIterations"}


def job_config_document(spec: Any) -> dict[str, Any]:
    """A JobSpec (or a mapping) as kube-burner's ``jobConfig``: camelCase, durations in ns."""
    plain = _plain(spec)
    if not isinstance(plain, dict):
        return {"value": plain}
    if dataclasses.is_dataclass(spec):
        plain = {KUBE_BURNER_NAMES.get(k, k): v for k, v in plain.items()}
    return plain


def version_string() -> str:
    """The ``version`` field of jobSummary documents."""
    return f"pytest-kubevirt-burner@{__version__}"


def _objects(result: JobResult) -> dict[str, dict[str, int]]:
    kinds = sorted(set(result.expected) | set(result.created) | set(result.ready))
    return {
        k: {
            "created": result.created.get(k, 0),
            "ready": result.ready.get(k, 0),
            "expected": result.expected.get(k, 0),
        }
        for k in kinds
    }


def job_summary_document(
    *,
    uuid: str,
    job_name: str,
    started_ns: int,
    ended_ns: int,
    passed: bool,
    job_config: Any = None,
    result: JobResult | None = None,
    interrupted: bool = False,
    reason: str = "",
    execution_errors: Iterable[str] = (),
    metadata: Mapping[str, Any] | None = None,
) -> dict[str, Any]:
    """One ``jobSummary`` document: kube-burner's fields plus throughput and run-quality fields."""
    errors = list(execution_errors)
    if result is not None:
        errors = [*result.errors, *(e for e in errors if e not in result.errors)]
    doc: dict[str, Any] = {
        "timestamp": format_ts(started_ns),
        "endTimestamp": format_ts(ended_ns),
        "elapsedTime": round(max(0, ended_ns - started_ns) / NS_PER_S, 6),
        "uuid": uuid,
        "metricName": "jobSummary",
        "jobName": job_name,
        "jobConfig": job_config_document(job_config) if job_config is not None else {},
        "version": version_string(),
        "passed": passed,
        "executionErrors": "\n".join(errors),
        "interrupted": interrupted,
        "reason": reason,
    }
    if result is not None:
        objects = _objects(result)
        doc.update(
            {
                "achievedQps": result.qps_achieved,
                "requestedQps": result.qps_requested,
                "retries": result.retries,
                "http429": result.throttled_429,
                "http5xx": result.server_errors,
                "connectionErrors": result.connection_errors,
                "deduplicatedCreates": result.deduplicated_creates,
                "requests": result.requests,
                "objectsCreated": sum(o["created"] for o in objects.values()),
                "objectsReady": sum(o["ready"] for o in objects.values()),
                "objectsExpected": sum(o["expected"] for o in objects.values()),
                "objects": objects,
                "verified": result.verified,
            }
        )
        if result.operations:  # requests of delete, patch, read and kubevirt jobs, by verb/op
            doc["operations"] = dict(result.operations)
        if result.churn_started_at is not None:
            doc["churnStartTimestamp"] = format_ts(round(result.churn_started_at * NS_PER_S))
            doc["churnEndTimestamp"] = format_ts(round((result.churn_ended_at or 0) * NS_PER_S))
            doc["churnCycles"] = result.churn_cycles
    for key, value in (metadata or {}).items():  # kube-burner merges metadata at top level
        doc.setdefault(key, value)
    return doc
