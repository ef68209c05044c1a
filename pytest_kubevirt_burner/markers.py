"""Marker registration and turning a test item's markers into a validated JobSpec."""

from __future__ import annotations

from typing import Any

import pytest

from .jobspec import JobSpec, JobSpecError, JobType, build_job, dns1123
from .measurements.slo import MARKER_HELP as SLO_HELP
from .measurements.slo import slos_for_item

JOB_MARKERS: dict[str, JobType] = {
    "density": "create",
    "delete": "delete",
    "patch": "patch",
    "read": "read",
    "kubevirt_op": "kubevirt",
}

HELP = {
    "density": "density(template=..., replicas=1, iterations=1, qps=5, burst=10, objects=[...], "
    "...): a kube-burner create job run by the `burner` fixture (kwargs: kube-burner job fields "
    "in snake_case)",
    "delete": "delete(kind=..., label_selector={...}, api_version='v1', ...): delete objects "
    "matching a label selector and wait until they are gone",
    "patch": "patch(kind=..., label_selector={...}, template=..., patch_type='merge', ...): patch "
    "matching objects with a rendered template (json, merge, strategic or apply)",
    "read": "read(kind=..., label_selector={...}, iterations=1, ...): list and get matching "
    "objects to generate read load",
    "kubevirt_op": "kubevirt_op(op, label_selector={...}, qps=5, burst=10, "
    "execution_mode='sequential', iterations=1, object_delay=0, object_wait=False, "
    "input_vars={...}, kind='VirtualMachine', wait=True, max_wait_timeout='4h'): a kube-burner "
    "kubevirt job (start, stop, restart, pause, unpause, migrate, add-volume, remove-volume) on "
    "existing VMs, each waited for and measured from its request",
}


def register(config: pytest.Config) -> None:
    """Register the job and SLO markers so --strict-markers accepts them."""
    for text in (*HELP.values(), SLO_HELP):
        config.addinivalue_line("markers", text)


def _merged(item: pytest.Item, name: str) -> dict[str, Any]:
    marks = list(item.iter_markers(name))  # closest first
    kwargs: dict[str, Any] = {}
    for mark in reversed(marks):  # farthest first, so the closest wins
        if name == "kubevirt_op" and len(mark.args) == 1 and "objects" not in mark.kwargs:
            kwargs["kubevirt_op"] = mark.args[0]
        elif mark.args:
            raise JobSpecError(
                f"{item.nodeid}: @pytest.mark.{name} takes keyword arguments only, got "
                f"positional {mark.args!r}"
            )
        kwargs.update(mark.kwargs)
    return kwargs


def job_marker(item: pytest.Item) -> str | None:
    """The name of the job marker on ``item`` (closest wins when several kinds apply)."""
    found = [(name, item.get_closest_marker(name)) for name in JOB_MARKERS]
    present = [name for name, mark in found if mark is not None]
    if len(present) > 1:
        own = [str(m.name) for m in item.own_markers if m.name in JOB_MARKERS]
        if len(own) == 1:
            return own[0]
        raise JobSpecError(
            f"{item.nodeid}: more than one job marker applies ({', '.join(present)}); "
            "a test runs one job"
        )
    return present[0] if present else None


def validate_item(item: pytest.Item) -> JobSpec | None:
    """Validate every burner marker of ``item`` (job and SLOs); raises JobSpecError."""
    spec = job_for_item(item)
    slos = slos_for_item(item)
    if slos and (spec is None or spec.job_type not in ("create", "kubevirt")):
        raise JobSpecError(
            f"{item.nodeid}: @pytest.mark.slo needs a @pytest.mark.density or "
            "@pytest.mark.kubevirt_op job on the same test"
        )
    return spec


def job_for_item(item: pytest.Item, overrides: dict[str, Any] | None = None) -> JobSpec | None:
    """Validated JobSpec of ``item``'s job marker, or None when it has none."""
    name = job_marker(item)
    if name is None:
        return None
    kwargs = _merged(item, name)
    if overrides:
        kwargs.update(overrides)
    base_dir = item.path.parent
    return build_job(
        f"{item.nodeid}: @pytest.mark.{name}",
        JOB_MARKERS[name],
        kwargs,
        base_dir,
        dns1123(item.name),
    )
