"""The one table of job fields: the job dataclasses, their defaults, kube-burner keys and docs.

``JobSpec``'s field metadata is that table (kube-burner key, value type, documentation); the
dataclass default is each field's only default. The marker validation (jobspec.py), the
kube-burner config mapping (compat/kb_schema.py), the jobSummary's jobConfig
(measurements/documents.py) and the field list of docs/jobs.md all read it.
"""

from __future__ import annotations

import math
from dataclasses import MISSING, dataclass, field, fields, replace
from pathlib import Path
from typing import Any, Literal

from .cluster.ratelimit import DEFAULT_BURST, DEFAULT_QPS
from .cluster.verbs import PatchType
from .durations import format_duration

JobType = Literal["create", "delete", "patch", "read", "kubevirt"]


@dataclass(frozen=True)
class WaitOptions:
    """Override of what the waiter watches for an object (kube-burner's waitOptions)."""

    api_version: str | None = None
    kind: str | None = None
    label_selector: dict[str, str] = field(default_factory=dict)
    custom_status_paths: tuple[tuple[str, str], ...] = ()


@dataclass(frozen=True)
class ObjectSpec:
    """One entry of a job's ``objects`` list."""

    template: Path | None = None
    replicas: int = 1
    input_vars: dict[str, Any] = field(default_factory=dict)
    run_once: bool = False
    repeat_every_n_iterations: int = 1  # created in iterations 0, n, 2n, ... only
    wait: bool = True
    wait_options: WaitOptions = field(default_factory=WaitOptions)
    churn: bool = True
    # delete / patch / read / kubevirt targets
    kind: str | None = None
    api_version: str | None = None
    label_selector: dict[str, str] = field(default_factory=dict)
    patch_type: PatchType | None = None
    kubevirt_op: str | None = None

    def created_in(self, iteration: int) -> bool:
        """Whether this object is created in ``iteration`` (runOnce, repeatEveryNIterations)."""
        if self.run_once:
            return iteration == 0
        return iteration % self.repeat_every_n_iterations == 0

    def iterations_created(self, iterations: int) -> int:
        """In how many of the first ``iterations`` iterations this object is created."""
        if iterations <= 0:
            return 0
        if self.run_once:
            return 1
        return -(-iterations // self.repeat_every_n_iterations)


@dataclass(frozen=True)
class ChurnSpec:
    """kube-burner's churnConfig: delete and re-create a share of a create job, in cycles."""

    cycles: int = 0
    percent: int = 10
    duration: float = 0.0
    delay: float = 0.0
    delete_delay: float = 0.0
    mode: str = "namespaces"


HOOK_WHENS = (
    "beforeJobExecution",
    "afterJobExecution",
    "beforeChurn",
    "afterChurn",
    "beforeCleanup",
    "afterCleanup",
    "beforeGC",
    "afterGC",
    "onEachIteration",
)
HOOK_TIMEOUT = 600.0  # seconds a hook may run (kube-burner has no limit)


@dataclass(frozen=True)
class HookSpec:
    """A command run at one stage of a job (kube-burner's ``hooks`` entry)."""

    cmd: tuple[str, ...]
    when: str
    background: bool = False
    timeout: float = HOOK_TIMEOUT


def _meta(kb: str | None, kind: str, doc: str, minimum: int = 0) -> dict[str, Any]:
    """The row of the job-field table a JobSpec field carries (kube-burner key, type, doc)."""
    return {"kb": kb, "kind": kind, "doc": doc, "minimum": minimum}


@dataclass(frozen=True)
class JobSpec:
    """A job: kube-burner's job fields in snake_case, validated and normalised.

    Each field's metadata is its row of the one job-field table: the kube-burner key, the value
    type the marker validation checks, and the documentation (``field_table()``, docs/jobs.md).
    The dataclass default is the field's only default.
    """

    name: str = field(
        metadata=_meta("name", "special", "the job name (default: the test name, DNS-1123)")
    )
    job_type: JobType = field(
        default="create", metadata=_meta(None, "special", "set by the marker")
    )
    objects: tuple[ObjectSpec, ...] = field(
        default=(), metadata=_meta(None, "special", "set by objects=[...]")
    )
    iterations: int = field(
        default=1,
        metadata=_meta("jobIterations", "int", "how many times the objects are created", minimum=1),
    )
    job_iteration_delay: float = field(
        default=0.0, metadata=_meta("jobIterationDelay", "duration", "pause after each iteration")
    )
    job_pause: float = field(
        default=0.0,
        metadata=_meta("jobPause", "duration", "pause after the job, before verification"),
    )
    qps: float = field(
        default=DEFAULT_QPS,
        metadata=_meta(
            "qps", "special", "token bucket refill rate of the job's requests; 0 means the default"
        ),
    )
    burst: int = field(
        default=DEFAULT_BURST,
        metadata=_meta("burst", "special", "token bucket capacity; 0 means the default"),
    )
    namespace: str = field(
        default="", metadata=_meta("namespace", "special", "base namespace (default: the job name)")
    )
    namespaced_iterations: bool = field(
        default=True,
        metadata=_meta(
            "namespacedIterations",
            "bool",
            "namespace `<namespace>-<iteration // iterations_per_namespace>`; "
            "false: one namespace `<namespace>`",
        ),
    )
    iterations_per_namespace: int = field(
        default=1,
        metadata=_meta(
            "iterationsPerNamespace", "int", "iterations sharing a namespace", minimum=1
        ),
    )
    pre_create_namespaces: bool = field(
        default=False,
        metadata=_meta(
            "preCreateNamespaces", "bool", "create every namespace before the first object"
        ),
    )
    namespace_labels: dict[str, str] = field(
        default_factory=dict,
        metadata=_meta("namespaceLabels", "string_map", "extra labels on created namespaces"),
    )
    namespace_annotations: dict[str, str] = field(
        default_factory=dict,
        metadata=_meta(
            "namespaceAnnotations", "string_map", "extra annotations on created namespaces"
        ),
    )
    cleanup: bool = field(
        default=True,
        metadata=_meta(
            "cleanup",
            "bool",
            "delete leftovers of earlier runs of this job before it starts, "
            "and this run's objects after the test",
        ),
    )
    pod_wait: bool = field(
        default=False,
        metadata=_meta(
            "podWait",
            "bool",
            "with `wait_when_finished=false`: wait for the waited kinds after each iteration",
        ),
    )
    wait_when_finished: bool = field(
        default=True,
        metadata=_meta(
            "waitWhenFinished",
            "special",
            "wait for readiness after all iterations (false for delete jobs)",
        ),
    )
    wait_for: tuple[str, ...] = field(
        default=(),
        metadata=_meta(
            None,
            "special",
            'restrict waiting to these kinds, e.g. `["VirtualMachine"]` '
            "(default: every waitable kind)",
        ),
    )
    max_wait_timeout: float = field(
        default=4 * 3600.0,
        metadata=_meta("maxWaitTimeout", "duration", "how long waiting may take"),
    )
    wait_for_deletion: bool = field(
        default=True,
        metadata=_meta("waitForDeletion", "bool", "delete jobs: wait until the objects are gone"),
    )
    verify_objects: bool = field(
        default=True,
        metadata=_meta("verifyObjects", "bool", "count the created objects by label after the job"),
    )
    error_on_verify: bool = field(
        default=True,
        metadata=_meta("errorOnVerify", "bool", "fail the job when the count does not match"),
    )
    execution_mode: str = field(
        default="parallel",
        metadata=_meta(
            "executionMode",
            "special",
            "parallel or sequential processing of selected objects "
            "(sequential for delete, read and kubevirt jobs)",
        ),
    )
    object_delay: float = field(
        default=0.0,
        metadata=_meta("objectDelay", "duration", "sequential mode: pause between objects"),
    )
    object_wait: bool = field(
        default=False, metadata=_meta("objectWait", "bool", "sequential mode: wait for each object")
    )
    skip_indexing: bool = field(
        default=False, metadata=_meta("skipIndexing", "bool", "write no documents for this job")
    )
    allow_empty: bool = field(
        default=False,
        metadata=_meta(
            None,
            "bool",
            "delete, patch, read and kubevirt jobs: pass when the selectors match nothing "
            "(otherwise that fails the job; kube-burner configs allow it)",
        ),
    )
    default_missing_keys_with_zero: bool = field(
        default=False,
        metadata=_meta(
            "defaultMissingKeysWithZero", "bool", "kube-burner's template option of the same name"
        ),
    )
    deletion_strategy: str = field(
        default="default",
        metadata=_meta(
            None,
            "special",
            "how cleanup deletes: `default` deletes the namespaces whole, `gvr` the objects kind "
            "by kind first (kube-burner's global `deletionStrategy`)",
        ),
    )
    hooks: tuple[HookSpec, ...] = field(
        default=(),
        metadata=_meta(
            "hooks",
            "special",
            "commands run at job stages: `[{cmd: [...], when: beforeJobExecution, "
            "background: false, timeout: 10m}]` (docs/hooks.md)",
        ),
    )
    churn: ChurnSpec | None = field(
        default=None,
        metadata=_meta(
            "churnConfig",
            "special",
            "delete and re-create a share of the objects in cycles (docs/churn.md)",
        ),
    )

    def scaled(self, factor: float) -> JobSpec:
        """This job with its iterations (or, for one iteration, replicas) multiplied by factor."""
        if factor == 1.0:
            return self
        if self.iterations > 1:
            return replace(self, iterations=scaled_count(self.iterations, factor))
        objs = tuple(replace(o, replicas=scaled_count(o.replicas, factor)) for o in self.objects)
        return replace(self, objects=objs)

    def expected_count(self, obj: ObjectSpec) -> int:
        """How many copies of ``obj`` (per rendered document) the job creates."""
        return obj.replicas * obj.iterations_created(self.iterations)

    def namespace_for(self, iteration: int) -> str:
        """Namespace of ``iteration`` (kube-burner's naming)."""
        if not self.namespaced_iterations:
            return self.namespace
        return f"{self.namespace}-{iteration // self.iterations_per_namespace}"


def scaled_count(count: int, factor: float) -> int:
    """``count * factor`` rounded up (never below the scaled share), at least 1."""
    return max(1, math.ceil(round(count * factor, 9)))


JOB_SPEC_FIELDS = fields(JobSpec)
JOB_FIELDS = {f.name for f in JOB_SPEC_FIELDS} - {"job_type", "objects"}


def field_table() -> list[tuple[str, str, str, str]]:
    """(field, kube-burner key, default, doc) of every job field, in declaration order."""
    rows = []
    for f in JOB_SPEC_FIELDS:
        if f.name in ("job_type", "objects"):
            continue
        default: Any = {} if f.default is MISSING else f.default
        if f.metadata["kind"] == "duration":
            shown = format_duration(float(default))
        elif f.name in ("name", "namespace", "wait_for", "churn", "hooks"):
            shown = "-"
        elif isinstance(default, bool):
            shown = "true" if default else "false"
        elif isinstance(default, float):
            shown = f"{default:g}"
        else:
            shown = f"`{default}`" if isinstance(default, dict) else str(default)
        rows.append((f.name, f.metadata["kb"] or "-", shown, f.metadata["doc"]))
    return rows


def field_table_markdown() -> str:
    """The job-field table of docs/jobs.md."""
    lines = ["| field | kube-burner key | default | meaning |", "|---|---|---|---|"]
    lines += [
        f"| `{n}` | `{kb}` | {d} | {doc} |".replace("`-`", "-") for n, kb, d, doc in field_table()
    ]
    return "\n".join(lines) + "\n"
