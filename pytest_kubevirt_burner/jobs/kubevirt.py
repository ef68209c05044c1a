"""The kubevirt job: day-2 operations on existing VMs, rate-limited, waited for and measured.

For every iteration and every object, the VMs (or VMIs) matching the object's label selector
are listed cluster-wide and the object's ``kubevirt_op`` is sent to each, one token of the job's
bucket per request. Each request is registered with the OpTracker and with the measurements
(``mark_operation``) right before it is sent, so its latency starts at the request of *this*
iteration on *this* VM. ``sequential`` (the default) processes objects one after another, with
``object_wait``/``object_delay`` between them and a wait at the end of each iteration
(``wait_when_finished``); ``parallel`` sends every object of an iteration together and waits at
the end of the iteration (two operations on one VM at once would be refused by virt-api).
"""

from __future__ import annotations

import threading
from concurrent.futures import ThreadPoolExecutor
from typing import Any

from ..jobspec import ObjectSpec
from ..labels import object_labels, selector
from ..measurements import default_measurements
from ..measurements.quantiles import summarize, to_quantiles
from ..results import JobResult
from .base import JobBase
from .context import JobContext, now_ns
from .kubevirt_ops import KUBEVIRT_API, VMIM_KIND, PendingOp, migration_object, send
from .kubevirt_wait import OpTracker
from .progress import PhaseTicker, operations_phase
from .watches import JobWatches, WatchFactory

COMPATIBLE = ("vmiLatency", "vmimLatency")
OP_LATENCY = "kubevirtOp"


def _targets(ctx: JobContext, obj: ObjectSpec) -> list[dict[str, Any]]:
    sel = selector(obj.label_selector)
    kind = obj.kind or "VirtualMachine"
    items = ctx.client.list(obj.api_version or KUBEVIRT_API, kind, label_selector=sel)
    return sorted(items, key=lambda o: (o["metadata"].get("namespace", ""), o["metadata"]["name"]))


def _template_labels(vm: dict[str, Any]) -> dict[str, str]:
    tpl = (vm.get("spec") or {}).get("template") or {}
    return dict((tpl.get("metadata") or {}).get("labels") or {})


def _vmi_selectors(ctx: JobContext, listed: dict[int, list[dict[str, Any]]]) -> list[str]:
    """Selectors for VMI/launcher watches: the object's own when every VM's template carries
    it (VMIs copy those labels), else no selector (all VMIs of the cluster)."""
    out: list[str] = []
    for index, obj in enumerate(ctx.spec.objects):
        items = listed.get(index, [])
        if obj.kind == "VirtualMachineInstance" or all(
            all(_template_labels(vm).get(k) == v for k, v in obj.label_selector.items())
            for vm in items
        ):
            out.append(selector(obj.label_selector))
        else:
            return [""]
    return list(dict.fromkeys(out))


def _measurement_names(ctx: JobContext) -> list[str]:
    ops = {o.kubevirt_op or "" for o in ctx.spec.objects}
    requested = ctx.measurements
    names = default_measurements([], operations=ops) if requested is None else requested
    return [n for n in names if n in COMPATIBLE]


class KubevirtJob(JobBase):
    """kube-burner's ``kubevirt`` job type; ops accumulate in ``self.ops`` even if interrupted."""

    job_type = "kubevirt"

    def __init__(self, ctx: JobContext, result: JobResult, watch_factory: WatchFactory) -> None:
        super().__init__(ctx, result, watch_factory)
        self.watches = JobWatches(watch_factory, "")  # the targets are not this run's objects
        self.ms = self.open_measurements(_measurement_names(ctx), ignore_existing=True)
        self.tracker = OpTracker()
        self.ops: list[PendingOp] = []
        self._lock = threading.Lock()

    # -- watches ----------------------------------------------------------------------------------
    def add_watches(self, listed: dict[int, list[dict[str, Any]]]) -> None:
        """Watches of the targeted VMs, their VMIs and launcher pods, and this job's migrations."""
        ctx, tracker, ms, watches = self.ctx, self.tracker, self.ms, self.watches
        vm_selectors = {
            selector(o.label_selector) for o in ctx.spec.objects if o.kind == "VirtualMachine"
        }
        kinds = {w.kind for w in ms.watches()}
        for sel in sorted(vm_selectors):
            watches.add(KUBEVIRT_API, "VirtualMachine", tracker.handler("VirtualMachine"), sel)
            if "VirtualMachine" in kinds:
                watches.add(KUBEVIRT_API, "VirtualMachine", ms.handler("VirtualMachine"), sel)
        for sel in _vmi_selectors(ctx, listed):
            kind = "VirtualMachineInstance"
            watches.add(KUBEVIRT_API, kind, tracker.handler(kind), sel)
            if kind in kinds:
                watches.add(KUBEVIRT_API, kind, ms.handler(kind), sel)
            if "Pod" in kinds:
                pods = ",".join(s for s in (sel, "kubevirt.io=virt-launcher") if s)
                watches.add("v1", "Pod", ms.handler("Pod"), pods)
        if any(o.kubevirt_op == "migrate" for o in ctx.spec.objects):
            watches.add(KUBEVIRT_API, VMIM_KIND, tracker.handler(VMIM_KIND), ctx.run_selector)
            if VMIM_KIND in kinds:
                watches.add(KUBEVIRT_API, VMIM_KIND, ms.handler(VMIM_KIND), ctx.run_selector)

    # -- sending ----------------------------------------------------------------------------------
    def _send(self, op: PendingOp, kind: str, replica: int) -> None:
        ctx = self.ctx
        migration = None
        if op.op == "migrate":
            labels = object_labels(ctx.base_labels, op.index, op.iteration, replica)
            migration = migration_object(op, ctx.spec.name, labels)
        self.tracker.register(op)
        op.t_ns = now_ns()
        self.ms.mark_operation(kind, op.namespace, op.name, op.op, op.t_ns)
        try:
            created = send(ctx.client, op, migration)
        except Exception as exc:
            self.tracker.failed(op, f"{op.describe()}: {exc}")
            return
        if created is not None:
            self.ms.on_created(created, now_ns())
        uid = str(((created or {}).get("metadata") or {}).get("uid") or "") or None
        self.tracker.sent(op, uid)
        with self._lock:
            self.result.operations[op.op] = self.result.operations.get(op.op, 0) + 1
            if migration is not None and created is not None:
                self.result.created[VMIM_KIND] = self.result.created.get(VMIM_KIND, 0) + 1

    def fire(self, pool: ThreadPoolExecutor, iteration: int, index: int) -> list[PendingOp]:
        """Send object ``index``'s op to every target (rate-limited); returns the ops."""
        ctx = self.ctx
        obj = ctx.spec.objects[index]
        ops: list[PendingOp] = []
        items = _targets(ctx, obj)
        self.result.expected[obj.kubevirt_op or ""] = self.result.expected.get(
            obj.kubevirt_op or "", 0
        ) + len(items)
        for replica, item in enumerate(items, start=1):
            if ctx.stop.is_set():
                break
            meta = item["metadata"]
            op = PendingOp(
                op=obj.kubevirt_op or "",
                namespace=str(meta.get("namespace") or ""),
                name=str(meta["name"]),
                iteration=iteration,
                index=index,
                inputs=dict(obj.input_vars),
                wait=obj.wait,
            )
            ctx.limiter.wait()
            if ctx.stop.is_set():
                break
            ops.append(op)
            pool.submit(self._send, op, obj.kind or "VirtualMachine", replica)
        self.ops.extend(ops)
        return ops

    def wait(self, ops: list[PendingOp]) -> None:
        """Wait for every op of ``ops`` whose object waits; raise on timeout or interruption."""
        waited = [op for op in ops if op.wait]
        spec = self.ctx.spec
        if not self.tracker.wait(waited, spec.max_wait_timeout, self.ctx.stop):
            if self.ctx.stop.is_set():
                raise KeyboardInterrupt
            raise self.fail(
                f"operations not complete after max_wait_timeout "
                f"({spec.max_wait_timeout:g}s): {self.tracker.report(waited)}"
            )
        self.tracker.forget(ops)

    # -- the job ----------------------------------------------------------------------------------
    def run(self) -> None:
        """List the targets, start the watches, send every op and fail when one failed."""
        ctx = self.ctx
        listed = {i: _targets(ctx, o) for i, o in enumerate(ctx.spec.objects)}
        if not ctx.spec.allow_empty and not any(listed.values()):
            wanted = "; ".join(
                f"{o.kind or 'VirtualMachine'} {selector(o.label_selector) or '(no selector)'}"
                for o in ctx.spec.objects
            )
            raise self.fail(
                f"the selectors matched no object ({wanted}); pass allow_empty=True if that is "
                "intended"
            )
        self.add_watches(listed)
        self.watches.start()
        self.ms.watches_synced()
        total = ctx.spec.iterations * sum(len(v) for v in listed.values())
        with PhaseTicker(ctx.progress, lambda: operations_phase(self.ops, total)):
            self.send_all()
        failed = [op for op in self.ops if op.error is not None]
        if failed:
            raise self.fail(
                f"{len(failed)} of {len(self.ops)} operations failed; first: {failed[0].error}"
            )
        self.result.verified = True

    def finish(self, error: BaseException | None) -> None:
        """Op counts and latencies into the result, then the shared finishing."""
        self.watches.stop()
        self.summarise()
        super().finish(error)

    def send_all(self) -> None:
        """Every iteration, every object, as the execution mode says."""
        ctx, spec = self.ctx, self.ctx.spec
        sequential = spec.execution_mode == "sequential"
        for iteration in range(spec.iterations):
            if ctx.stop.is_set():
                raise KeyboardInterrupt
            pending: list[PendingOp] = []
            with ThreadPoolExecutor(ctx.workers, thread_name_prefix="burner-kubevirt") as pool:
                for index in range(len(spec.objects)):
                    ops = self.fire(pool, iteration, index)
                    pending.extend(ops)
                    if not sequential:
                        continue
                    if spec.object_wait:
                        self.wait(ops)
                    if spec.object_delay and not ctx.sleep(spec.object_delay):
                        raise KeyboardInterrupt
            if not sequential or spec.wait_when_finished:
                self.wait(pending)
            if iteration < spec.iterations - 1 and not ctx.sleep(spec.job_iteration_delay):
                raise KeyboardInterrupt
        self.wait(self.ops)

    def summarise(self) -> None:
        """Counts, errors and op completion latencies into the result."""
        result = self.result
        groups: dict[str, list[int]] = {}
        for op in self.ops:
            if op.error is not None and len(result.errors) < 100:
                result.errors.append(op.error)
            if op.done_ns is not None:
                result.ready[op.op] = result.ready.get(op.op, 0) + 1
                groups.setdefault(op.op, []).append(op.done_ns - op.t_ns)
        for name, values in groups.items():
            missing = sum(1 for op in self.ops if op.op == name and op.done_ns is None and op.wait)
            key = f"{OP_LATENCY}.{name}.Completed"
            result.quantiles[key] = to_quantiles(key, summarize(values, missing), "client")
