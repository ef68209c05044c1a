"""MeasurementSet: the recorders of one job, their watches, result files and finalisation."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterable, Iterator, Sequence
from functools import partial
from pathlib import Path
from types import TracebackType
from typing import Any

from ..results import JobResult, Quantiles
from .base import Obj, Recorder, WatchSpec
from .documents import job_summary_document
from .quantiles import to_quantiles
from .registry import MeasurementRegistry
from .simple import JobLatency, PodLatency
from .storage import DataVolumeLatency, PvcLatency
from .vmi import VmiLatency
from .vmim import VmimLatency
from .writer import ArrayFileWriter, append_job_summary, write_json_array

REGISTRY = MeasurementRegistry(
    (PodLatency, VmiLatency, VmimLatency, DataVolumeLatency, JobLatency, PvcLatency)
)
"""Every measurement by name: the built-ins plus those plugins register (registry.py)."""
JOB_SUMMARY_FILE = "jobSummary.json"


def quantile_names(measurement: str) -> tuple[str, ...]:
    """The quantileNames of ``measurement`` (KeyError when it is unknown)."""
    return tuple(q for q, _ in REGISTRY[measurement].transitions)


def default_measurements(
    kinds: Iterable[str], *, data_volume_templates: bool = False, operations: Iterable[str] = ()
) -> list[str]:
    """Measurements for a job creating ``kinds`` (podLatency always, the others by kind).

    Measurements added by plugins follow the built-ins when they apply (registry.py).
    """
    present = set(kinds)
    ops = set(operations)
    names = ["podLatency"]
    if present & {"VirtualMachine", "VirtualMachineInstance"} or ops & {"start", "restart", "stop"}:
        names.append("vmiLatency")
    if "VirtualMachineInstanceMigration" in present or "migrate" in ops:
        names.append("vmimLatency")
    if "DataVolume" in present or data_volume_templates:
        names.append("dataVolumeLatency")
    if "Job" in present:
        names.append("jobLatency")
    if "PersistentVolumeClaim" in present:
        names.append("pvcLatency")
    return names + REGISTRY.added_for(present, ops)


class MeasurementSet:
    """The latency recorders of one job: route watch events and create hooks, write results."""

    def __init__(
        self,
        names: Sequence[str],
        *,
        job_name: str,
        uuid: str,
        metrics_dir: Path | None = None,
        metadata: Obj | None = None,
        clock: str = "client",
        ignore_existing: bool = False,
    ) -> None:
        unknown = [n for n in names if n not in REGISTRY]
        if unknown:
            raise ValueError(
                f"unknown measurement {unknown[0]!r}; valid: {', '.join(sorted(REGISTRY))}"
            )
        self.job_name, self.uuid, self.clock = job_name, uuid, clock
        self.metrics_dir = metrics_dir
        self.metadata = dict(metadata or {})
        self.started_ns = time.time_ns()
        self.recorders: dict[str, Recorder] = {
            n: REGISTRY[n](
                job_name=job_name,
                uuid=uuid,
                metadata=self.metadata,
                clock=clock,
                sink=self._sink,
                ignore_existing=ignore_existing,
            )
            for n in dict.fromkeys(names)
        }
        self._routes: dict[str, list[Recorder]] = {}
        for rec in self.recorders.values():
            for spec in rec.watch_specs:
                self._routes.setdefault(spec.kind, []).append(rec)
        self._writers: dict[str, ArrayFileWriter] = {}
        self._lock = threading.Lock()
        self._done: set[str] = set()  # finalisation stages already completed
        self.written: list[Obj] = []  # quantile and jobSummary documents written by finalize
        self._quantiles: dict[str, Quantiles] | None = None
        self.finalized = False
        self._complete = False

    # -- wiring --------------------------------------------------------------------------------
    def watches(self) -> list[WatchSpec]:
        """Watches to run (besides the run's own selector); an unfiltered watch covers others."""
        specs = list(dict.fromkeys(s for r in self.recorders.values() for s in r.watch_specs))
        unfiltered = {(s.api_version, s.kind) for s in specs if not s.label_selector}
        return [
            s for s in specs if not s.label_selector or (s.api_version, s.kind) not in unfiltered
        ]

    def handler(self, kind: str) -> Callable[[str, Obj, int], None]:
        """A callback ``(event_type, obj, received_ns)`` for the watch of ``kind``."""

        def deliver(event_type: str, obj: Obj, received_ns: int) -> None:
            self.on_event(kind, event_type, obj, received_ns)

        return deliver

    def on_event(self, kind: str, event_type: str, obj: Obj, received_ns: int) -> None:
        """Route one watch event to every recorder interested in ``kind``."""
        if self.finalized:
            return
        for rec in self._routes.get(kind, ()):
            rec.on_event(kind, event_type, obj, received_ns)

    def on_created(self, obj: Obj, t_ns: int) -> None:
        """The job's create request for ``obj`` returned at ``t_ns``."""
        if self.finalized:
            return
        for rec in self.recorders.values():
            rec.on_created(obj, t_ns)

    def mark_operation(self, kind: str, namespace: str, name: str, op: str, t_ns: int) -> None:
        """A day-2 operation ``op`` (start/stop/restart/migrate...) was sent at ``t_ns``."""
        for rec in self.recorders.values():
            rec.mark_operation(kind, namespace, name, op, t_ns)

    def watches_synced(self) -> None:
        """Every watch delivered its initial list: objects seen so far are pre-existing."""
        for rec in self.recorders.values():
            rec.watches_synced()

    def set_churn(self, active: bool) -> None:
        """Objects first seen from now on carry ``churnMetric: active``."""
        for rec in self.recorders.values():
            rec.churn = active

    def progress(self) -> tuple[int, int]:
        """(tracked samples, samples still waiting for their final transition)."""
        recs = self.recorders.values()
        return sum(r.tracked() for r in recs), sum(r.pending() for r in recs)

    # -- results -------------------------------------------------------------------------------
    def quantiles(self, clock: str | None = None) -> dict[str, Quantiles]:
        """``"<measurement>[.<op>].<quantileName>"`` -> Quantiles in seconds on ``clock``."""
        out: dict[str, Quantiles] = {}
        for rec in self.recorders.values():
            used = rec.clock_for(clock)
            for (op, index), summary in rec.summaries(used).items():
                key = rec.key(op, index)
                out[key] = to_quantiles(key, summary, used)
        return out

    def all_quantiles(self) -> dict[str, dict[str, Quantiles]]:
        """Quantiles on both clocks: ``{"client": {...}, "server": {...}}``."""
        return {"client": self.quantiles("client"), "server": self.quantiles("server")}

    def documents(self, clock: str | None = None) -> Iterator[Obj]:
        """Every per-object document of every recorder (complete or not)."""
        for rec in self.recorders.values():
            yield from rec.documents(clock)

    def quantile_documents(self, clock: str | None = None) -> list[Obj]:
        """Every ``<prefix>QuantilesMeasurement`` document, computed now."""
        now = time.time_ns()
        return [d for rec in self.recorders.values() for d in rec.quantile_documents(now, clock)]

    def errors(self) -> list[str]:
        """Problems the recorders met (write failures, launcher pods never joined to a VMI)."""
        out = [e for rec in self.recorders.values() for e in rec.errors]
        vmi = self.recorders.get("vmiLatency")
        if isinstance(vmi, VmiLatency) and vmi.unmatched_pods():
            out.append(f"vmiLatency: launcher pods of {vmi.unmatched_pods()} VMIs never seen")
        return out

    def _path(self, prefix: str, quantiles: bool = False) -> Path:
        assert self.metrics_dir is not None
        kind = "QuantilesMeasurement" if quantiles else "Measurement"
        return self.metrics_dir / f"{prefix}{kind}-{self.job_name}.json"

    def _writer(self, prefix: str) -> ArrayFileWriter:
        with self._lock:
            writer = self._writers.get(prefix)
            if writer is None:
                writer = self._writers[prefix] = ArrayFileWriter(self._path(prefix))
            return writer

    def _sink(self, prefix: str, doc: Obj) -> None:
        if self.metrics_dir is not None and "files" not in self._done:
            self._writer(prefix).append(doc)

    # -- finalisation --------------------------------------------------------------------------
    def _stage(
        self, name: str, action: Callable[[], object], failures: list[BaseException]
    ) -> None:
        if name in self._done:
            return
        try:
            action()
            self._done.add(name)
        except Exception as exc:  # keep going: later stages must still be written
            failures.append(exc)

    def _close_files(self) -> None:
        if self.metrics_dir is None:
            return
        for rec in self.recorders.values():
            self._writer(rec.prefix)  # an empty array for measurements without documents
        for writer in list(self._writers.values()):
            writer.close()

    def _write_quantiles(self, rec: Recorder) -> None:
        docs = rec.quantile_documents(time.time_ns())
        write_json_array(self._path(rec.prefix, quantiles=True), docs)
        self.written.extend(docs)

    def _append_summary(self, path: Path, summary: Obj) -> None:
        append_job_summary(path, summary)
        self.written.append(summary)

    def _summary(
        self,
        passed: bool | None,
        result: JobResult | None,
        job_config: Any,
        interrupted: bool,
        reason: str,
        execution_errors: Iterable[str],
    ) -> Obj:
        errors = [*execution_errors, *self.errors()]
        if passed is None:
            passed = not interrupted and not errors and (result is None or result.verified)
        started = int(result.started_at * 1e9) if result and result.started_at else self.started_ns
        ended = int(result.finished_at * 1e9) if result and result.finished_at else time.time_ns()
        return job_summary_document(
            uuid=self.uuid,
            job_name=self.job_name,
            started_ns=started,
            ended_ns=ended,
            passed=passed,
            job_config=job_config,
            result=result,
            interrupted=interrupted,
            reason=reason,
            execution_errors=errors,
            metadata=self.metadata,
        )

    def finalize(
        self,
        *,
        passed: bool | None = None,
        result: JobResult | None = None,
        job_config: Any = None,
        interrupted: bool = False,
        reason: str = "",
        execution_errors: Iterable[str] = (),
    ) -> dict[str, Quantiles]:
        """Write everything still unwritten; idempotent, and resumable if it was interrupted.

        Order: documents of incomplete objects, close the per-object files, quantile files,
        then append this job's document to jobSummary.json. ``passed=None`` derives it (not
        interrupted, no errors, verified). Returns the quantiles (seconds, configured clock).
        """
        self.finalized = True
        failures: list[BaseException] = []
        for rec in self.recorders.values():
            self._stage(f"flush:{rec.name}", rec.flush_incomplete, failures)
        directory = self.metrics_dir
        if directory is not None:
            self._stage("files", self._close_files, failures)
            for rec in self.recorders.values():
                self._stage(f"quantiles:{rec.name}", partial(self._write_quantiles, rec), failures)
            summary = self._summary(
                passed, result, job_config, interrupted, reason, execution_errors
            )
            self._stage(
                "summary",
                partial(self._append_summary, directory / JOB_SUMMARY_FILE, summary),
                failures,
            )
        if self._quantiles is None:
            self._quantiles = self.quantiles()
        if failures:
            raise failures[0]
        self._complete = True
        return self._quantiles

    def __enter__(self) -> MeasurementSet:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        if self._complete:
            return
        self.finalize(
            passed=None if exc is None else False,
            interrupted=isinstance(exc, KeyboardInterrupt),
            reason="" if exc is None else f"{type(exc).__name__}: {exc}",
        )
