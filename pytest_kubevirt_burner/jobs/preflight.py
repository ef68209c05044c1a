"""Checks run before anything touches the cluster: render, parse and resolve every object."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from ..jobspec import JobSpec
from ..labels import INDEX
from .context import JobContext
from .readiness import validate_status_path


@dataclass
class Plan:
    """What a create job will make: kinds with their api versions, scope and expected counts."""

    kinds: dict[str, tuple[str, bool]] = field(default_factory=dict)  # kind -> (apiVersion, ns'd)
    expected: dict[str, int] = field(default_factory=dict)
    rendered: int = 0
    problems: list[str] = field(default_factory=list)
    indices: dict[str, set[int]] = field(default_factory=dict)  # kind -> object indices

    def index_selector(self, kind: str) -> str:
        """Selects the objects of ``kind`` the job's own objects[] made (not their children:
        a VM's launcher pod carries the VM's labels but another index)."""
        indices = sorted(self.indices.get(kind, ()))
        if not indices:
            return ""
        return f"{INDEX} in ({','.join(str(i) for i in indices)})"


def _iterations_to_check(spec: JobSpec) -> list[int]:
    return sorted({0, spec.iterations - 1})


def _check_doc(ctx: JobContext, where: str, doc: dict[str, Any], plan: Plan) -> None:
    api_version, kind = doc.get("apiVersion"), doc.get("kind")
    if not api_version or not kind:
        missing = " and ".join(k for k, v in (("apiVersion", api_version), ("kind", kind)) if not v)
        plan.problems.append(f"{where}: object has no {missing}")
        return
    meta = doc.get("metadata") or {}
    if not meta.get("name") and not meta.get("generateName"):
        plan.problems.append(f"{where}: {kind} has no metadata.name or metadata.generateName")
    try:
        info = ctx.client.resource_for(str(api_version), str(kind))
    except Exception as exc:  # UnknownKindError and discovery failures, reported together
        plan.problems.append(f"{where}: {exc}")
        return
    plan.kinds.setdefault(str(kind), (str(api_version), bool(info.namespaced)))


def build_plan(ctx: JobContext) -> Plan:
    """Render the first and last iteration of every object and resolve every kind."""
    spec, plan = ctx.spec, Plan()
    for index, obj in enumerate(spec.objects):
        for key, _ in obj.wait_options.custom_status_paths:
            if (msg := validate_status_path(key)) is not None:
                plan.problems.append(f"{spec.name}: objects[{index}]: {msg}")
        if obj.template is None:
            continue
        docs_kinds: list[str] = []
        for iteration in _iterations_to_check(spec):
            if obj.run_once and iteration > 0:
                continue
            for replica in sorted({1, obj.replicas}):
                where = f"{obj.template.name} (iteration {iteration}, replica {replica})"
                try:
                    docs = ctx.render(index, obj, iteration, replica)
                except Exception as exc:  # TemplateError carries file and line
                    plan.problems.append(str(exc))
                    continue
                plan.rendered += len(docs)
                if not docs:
                    plan.problems.append(f"{where}: template rendered no object")
                for doc in docs:
                    _check_doc(ctx, where, doc, plan)
                if iteration == 0 and replica == 1:
                    docs_kinds = [str(d.get("kind")) for d in docs if d.get("kind")]
        for kind in docs_kinds:
            plan.expected[kind] = plan.expected.get(kind, 0) + spec.expected_count(obj)
            plan.indices.setdefault(kind, set()).add(index)
    return plan
