"""Everything a running job needs: spec, cluster client, renderer, run ids and the stop flag.

The job's token bucket is built here, once per job (``JobContext.limiter``): every request the
job sends, its cleanup and a kube-burner preload take their tokens from it.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Protocol

from .. import labels
from ..cluster.client import ClusterClient
from ..cluster.ratelimit import TokenBucket
from ..cluster.stats import StatsSnapshot
from ..errors import JobSpecError
from ..jobspec import JobSpec, ObjectSpec
from ..measurements.slo import Slo
from .hookrunner import HookRunner
from .progress import ProgressSink


class Renderer(Protocol):
    """The part of the template renderer jobs use."""

    def render_file(self, path: Path, variables: dict[str, Any]) -> list[dict[str, Any]]:
        """Render a (multi-document) YAML template into objects."""
        ...

    def render_string(self, text: str, variables: dict[str, Any], *, source: str = ...) -> str:
        """Render template text to a string."""
        ...


# called with (object as created, create-request-return time in ns since epoch)
CreatedHook = Callable[[dict[str, Any], int], None]


@dataclass
class JobContext:
    """Shared state of one job run."""

    spec: JobSpec
    client: ClusterClient
    renderer: Renderer
    uuid: str
    runid: str
    stop: threading.Event = field(default_factory=threading.Event)
    on_created: CreatedHook | None = None
    workers: int = 32
    metrics_dir: Path | None = None
    clock: str = "client"
    metadata: dict[str, Any] = field(default_factory=dict)
    slos: list[Slo] = field(default_factory=list)
    measurements: list[str] | None = None  # None: the defaults for the job's kinds
    stats_before: StatsSnapshot | None = None  # the client's request counters at the start
    progress: ProgressSink | None = None  # a live progress display
    hook_dir: Path = Path()  # where hooks run: the config's or the test file's directory
    hook_env: dict[str, str] = field(default_factory=dict)  # added to the hooks' environment
    notify: Callable[[str], None] | None = None  # a line for the user, printed at once
    limiter: TokenBucket = field(init=False)
    hooks: HookRunner = field(init=False)

    def __post_init__(self) -> None:
        self.limiter = TokenBucket(self.spec.qps, self.spec.burst)
        self.hooks = HookRunner(
            self.spec.hooks,
            job=self.spec.name,
            cwd=self.hook_dir,
            env={"UUID": self.uuid, "JOB_NAME": self.spec.name, **self.hook_env},
            log_dir=None if self.metrics_dir is None else self.metrics_dir / "hooks",
            stop=self.stop,
        )

    @property
    def base_labels(self) -> dict[str, str]:
        """uuid, runid and job labels of this run."""
        return labels.run_labels(self.uuid, self.runid, self.spec.name)

    @property
    def run_selector(self) -> str:
        """Label selector matching exactly this run's objects of this job."""
        return labels.selector(self.base_labels)

    def variables(self, obj: ObjectSpec, iteration: int, replica: int) -> dict[str, Any]:
        """Template variables: built-ins, then input_vars (which win on a clash)."""
        builtins = {
            "JobName": self.spec.name,
            "Iteration": iteration,
            "Replica": replica,
            "UUID": self.uuid,
            "RunID": self.runid,
        }
        return {**builtins, **obj.input_vars}

    def render(
        self, index: int, obj: ObjectSpec, iteration: int, replica: int
    ) -> list[dict[str, Any]]:
        """Rendered, labelled documents of one replica of ``obj``."""
        if obj.template is None:
            raise JobSpecError(f"{self.spec.name}: objects[{index}] has no template")
        docs = self.renderer.render_file(obj.template, self.variables(obj, iteration, replica))
        lab = labels.object_labels(self.base_labels, index, iteration, replica)
        return [labels.stamp(doc, lab) for doc in docs]

    def say(self, text: str) -> None:
        """Print ``text`` for the user now (when the job has somewhere to print)."""
        if self.notify is not None:
            self.notify(text)

    def sleep(self, seconds: float) -> bool:
        """Sleep unless stopped; False when the job was stopped meanwhile."""
        if seconds <= 0:
            return not self.stop.is_set()
        return not self.stop.wait(seconds)


def iter_replicas(spec: JobSpec, iteration: int) -> Iterator[tuple[int, ObjectSpec, int]]:
    """(object index, object, replica 1-based) created in ``iteration``."""
    for index, obj in enumerate(spec.objects):
        if not obj.created_in(iteration):
            continue
        for replica in range(1, obj.replicas + 1):
            yield index, obj, replica


def now_ns() -> int:
    """Wall clock in nanoseconds since the epoch."""
    return time.time_ns()
