"""The measurement registry: names to recorder factories, added measurements and their jobs."""

from __future__ import annotations

import pytest

from pytest_kubevirt_burner.indexers.base import prepared
from pytest_kubevirt_burner.measurements import (
    REGISTRY,
    MeasurementSet,
    Obj,
    Sample,
    SimpleRecorder,
    WatchSpec,
    default_measurements,
    true_conditions,
)
from pytest_kubevirt_burner.measurements.registry import MeasurementRegistry
from pytest_kubevirt_burner.measurements.simple import JobLatency, PodLatency


class ServiceLatency(SimpleRecorder):
    """A made-up measurement for the tests."""

    name = "serviceLatency"
    prefix = "serviceLatency"
    kind = "Service"
    transitions = (("Ready", "readyLatency"),)
    name_fields = ("serviceName",)
    watch_specs = (WatchSpec("v1", "Service"),)
    final = (0,)

    def _update(self, s: Sample, obj: Obj, rx: int) -> None:
        for condition, when in true_conditions(obj):
            if condition == "Ready":
                s.note(0, when, rx)


def test_builtins_are_registered_by_name() -> None:
    registry = MeasurementRegistry((PodLatency, JobLatency))
    assert registry["podLatency"] is PodLatency
    assert sorted(registry) == ["jobLatency", "podLatency"]
    assert registry.added_for(["Pod", "Service"]) == []


def test_added_measurement_applies_by_kind_or_operation() -> None:
    registry = MeasurementRegistry((PodLatency,))
    registry.register(ServiceLatency, kinds=["Service"], operations=["restart"])
    assert registry["serviceLatency"] is ServiceLatency
    assert registry.added_for(["Service"]) == ["serviceLatency"]
    assert registry.added_for([], ["restart"]) == ["serviceLatency"]
    assert registry.added_for(["Pod"], ["stop"]) == []


def test_register_refuses_taken_names_and_non_recorders() -> None:
    registry = MeasurementRegistry((PodLatency,))
    with pytest.raises(ValueError, match="'podLatency' is already registered"):
        registry.register(PodLatency)
    with pytest.raises(ValueError, match="must be a Recorder subclass"):
        registry.register(dict)  # type: ignore[arg-type]


def test_restore_forgets_what_was_added_after_the_snapshot() -> None:
    registry = MeasurementRegistry((PodLatency,))
    snapshot = registry.snapshot()
    registry.register(ServiceLatency, kinds=["Service"])
    registry.restore(snapshot)
    assert list(registry) == ["podLatency"]
    assert registry.added_for(["Service"]) == []


def test_global_registry_feeds_defaults_and_measurement_sets() -> None:
    snapshot = REGISTRY.snapshot()
    try:
        REGISTRY.register(ServiceLatency, kinds=["Service"])
        assert default_measurements(["Deployment", "Service"]) == ["podLatency", "serviceLatency"]
        ms = MeasurementSet(["serviceLatency"], job_name="j", uuid="u")
        assert isinstance(ms.recorders["serviceLatency"], ServiceLatency)
        assert [w.kind for w in ms.watches()] == ["Service"]
    finally:
        REGISTRY.restore(snapshot)
    assert default_measurements(["Service"]) == ["podLatency"]


def test_prepared_batches_pass_through_the_preparer() -> None:
    seen: list[int] = []

    def stamp(batch: list[dict[str, object]]) -> None:
        seen.append(len(batch))
        for doc in batch:
            doc["ci"] = "x"
        batch.append({"extra": True})

    docs = list(prepared(({"i": i} for i in range(5)), stamp, batch=2))
    assert seen == [2, 2, 1]
    assert [d.get("i") for d in docs] == [0, 1, None, 2, 3, None, 4, None]
    assert all(d.get("ci") == "x" for d in docs if "i" in d)
