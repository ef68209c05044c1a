"""Recorders of one object kind each: the SimpleRecorder base, podLatency and jobLatency."""

from __future__ import annotations

import sys
from typing import ClassVar

from ..labels import ITERATION, REPLICA
from .base import (
    DELETED,
    DONE,
    FAILED,
    HOOKED,
    UNTRACKED,
    Obj,
    Recorder,
    Sample,
    WatchSpec,
    meta,
    status,
    true_conditions,
)
from .timeutil import label_int, ts_of


class SimpleRecorder(Recorder):
    """A recorder whose samples are single objects of ``kind``, keyed by uid."""

    kind: ClassVar[str]
    final: ClassVar[tuple[int, ...]]
    """The object is complete once any of these transitions was seen."""

    def _names(self, obj: Obj) -> tuple[str, ...]:
        return (str(meta(obj).get("name") or ""),)

    def _update(self, s: Sample, obj: Obj, rx: int) -> None:
        raise NotImplementedError

    def _sample(self, obj: Obj) -> Sample | None:
        m = meta(obj)
        uid = m.get("uid")
        if not isinstance(uid, str) or not uid:
            return None
        s = self._by_uid.get(uid)
        if s is None:
            s = self._new_sample(sys.intern(str(m.get("namespace") or "")), self._names(obj))
            labels = m.get("labels") or {}
            s.iteration = label_int(labels, ITERATION)
            s.replica = label_int(labels, REPLICA)
            self._by_uid[uid] = s
        return s

    def _created(self, obj: Obj, t_ns: int) -> None:
        if obj.get("kind") != self.kind:
            return
        s = self._sample(obj)
        if s is None:
            return
        # created by this job: always a sample, even when created before watches_synced()
        s.flags = (s.flags | HOOKED) & ~UNTRACKED
        s.set_t0(ts_of(meta(obj).get("creationTimestamp")), t_ns)
        self._finish(s)

    def _event(self, kind: str, event_type: str, obj: Obj, rx: int) -> None:
        if kind != self.kind:
            return
        s = self._sample(obj)
        if s is None or s.flags & DONE:
            return
        s.set_t0(ts_of(meta(obj).get("creationTimestamp")), rx)
        self._update(s, obj, rx)
        if event_type == "DELETED":
            s.flags |= DELETED | DONE  # final: it can never reach a later transition
            self._emit(s)
            return
        self._finish(s)

    def _complete(self, s: Sample) -> bool:
        return bool(s.flags & FAILED) or any(s.seen(i) for i in self.final)


class PodLatency(SimpleRecorder):
    """podLatency: pod conditions from creation to Ready."""

    name = "podLatency"
    prefix = "podLatency"
    kind = "Pod"
    transitions = (
        ("PodScheduled", "schedulingLatency"),
        ("PodReadyToStartContainers", "readyToStartContainersLatency"),
        ("Initialized", "initializedLatency"),
        ("ContainersReady", "containersReadyLatency"),
        ("Ready", "podReadyLatency"),
    )
    name_fields = ("podName",)
    watch_specs = (WatchSpec("v1", "Pod"),)
    final = (4,)
    _INDEX: ClassVar[dict[str, int]] = {q: i for i, (q, _) in enumerate(transitions)}

    def _update(self, s: Sample, obj: Obj, rx: int) -> None:
        node = (obj.get("spec") or {}).get("nodeName")
        if node and not s.node:
            s.node = sys.intern(str(node))
        for ctype, ltt in true_conditions(obj):
            index = self._INDEX.get(ctype)
            if index is not None:
                s.note(index, ltt, rx)
        phase = status(obj).get("phase")
        if phase == "Failed":
            s.flags |= FAILED
        elif phase == "Succeeded":
            s.flags |= DONE  # ran to completion without (or after) Ready: nothing more to see
            self._emit(s)


class JobLatency(SimpleRecorder):
    """jobLatency: batch Job startTime and Complete condition."""

    name = "jobLatency"
    prefix = "jobLatency"
    kind = "Job"
    transitions = (("StartTime", "startTimeLatency"), ("Complete", "completionLatency"))
    name_fields = ("k8sJobName",)
    watch_specs = (WatchSpec("batch/v1", "Job"),)
    has_node = False
    final = (1,)

    def _update(self, s: Sample, obj: Obj, rx: int) -> None:
        start = ts_of(status(obj).get("startTime"))
        if start is not None:
            s.note(0, start, rx)
        for ctype, ltt in true_conditions(obj):
            if ctype == "Complete":
                s.note(1, ltt, rx)
            elif ctype == "Failed":
                s.flags |= FAILED
