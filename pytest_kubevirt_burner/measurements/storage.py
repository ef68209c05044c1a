"""Storage recorders: dataVolumeLatency (CDI DataVolumes) and pvcLatency (PVC phases)."""

from __future__ import annotations

from typing import ClassVar

from .base import FAILED, Obj, Sample, WatchSpec, status, true_conditions
from .simple import SimpleRecorder


class DataVolumeLatency(SimpleRecorder):
    """dataVolumeLatency (metricName dvLatencyMeasurement): Bound, Running and Ready conditions.

    Running is optional (clones and blank disks may never run an importer), so its absence is
    not counted as missing. Unlike kube-burner, a Bound/Ready lastTransitionTime equal to the
    creationTimestamp is kept: on the server clock it is a genuine sub-second transition.
    """

    name = "dataVolumeLatency"
    prefix = "dvLatency"
    kind = "DataVolume"
    transitions = (
        ("Bound", "dvBoundLatency"),
        ("Running", "dvRunningLatency"),
        ("Ready", "dvReadyLatency"),
    )
    name_fields = ("dvName",)
    watch_specs = (WatchSpec("cdi.kubevirt.io/v1beta1", "DataVolume"),)
    has_node = False
    optional = frozenset({1})
    final = (2,)
    _INDEX: ClassVar[dict[str, int]] = {q: i for i, (q, _) in enumerate(transitions)}

    def _update(self, s: Sample, obj: Obj, rx: int) -> None:
        for ctype, ltt in true_conditions(obj):
            index = self._INDEX.get(ctype)
            if index is not None:
                s.note(index, ltt, rx)
        if status(obj).get("phase") == "Failed":
            s.flags |= FAILED


class PvcLatency(SimpleRecorder):
    """pvcLatency: first client receipt of each PVC phase (the API has no phase timestamps).

    There is no server clock for PVC phases, so its documents and quantiles are always on the
    client clock (their ``clock`` field says so). Lost is optional: a healthy PVC never gets it.
    """

    name = "pvcLatency"
    prefix = "pvcLatency"
    kind = "PersistentVolumeClaim"
    transitions = (
        ("Pending", "pendingLatency"),
        ("Bound", "bindingLatency"),
        ("Lost", "lostLatency"),
    )
    name_fields = ("pvcName",)
    watch_specs = (WatchSpec("v1", "PersistentVolumeClaim"),)
    has_node = False
    server_clock = False
    optional = frozenset({2})
    final = (1, 2)
    _INDEX: ClassVar[dict[str, int]] = {q: i for i, (q, _) in enumerate(transitions)}

    def _update(self, s: Sample, obj: Obj, rx: int) -> None:
        if s.extra is None:
            spec = obj.get("spec") or {}
            size = ((spec.get("resources") or {}).get("requests") or {}).get("storage")
            s.extra = (str(size or ""), str(spec.get("storageClassName") or ""))
        index = self._INDEX.get(str(status(obj).get("phase")))
        if index is not None:
            s.note(index, None, rx)

    def _extra_fields(self, s: Sample, doc: Obj) -> None:
        size, storage_class = s.extra or ("", "")
        doc["size"] = size
        doc["storageClass"] = storage_class
