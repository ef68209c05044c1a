"""Recorder machinery shared by every latency measurement: compact samples, both clocks, documents.

A sample holds, for one tracked object (or one day-2 operation on it), its t0 and the first time
each transition was seen, on two clocks, in one int64 array:

* server clock: creationTimestamp / lastTransitionTime / phaseTransitionTimestamps (1 s precision);
* client clock: ``time.time_ns()`` when the first watch event showing the transition was received,
  t0 being the earlier of "the create request returned" and "the object was first received".

Times are absolute, so events can arrive in any order and from any number of watch threads;
latencies are only computed when a document or a quantile is asked for.
"""

from __future__ import annotations

import logging
import threading
from array import array
from collections.abc import Callable, Iterator
from typing import Any, ClassVar, NamedTuple

from .quantiles import Summary, quantile_document, summarize
from .timeutil import MISSING, format_ts, to_ms, ts_of

log = logging.getLogger(__name__)

Obj = dict[str, Any]
DocSink = Callable[[str, Obj], None]
"""Receives (metric prefix, document) for every per-object document as it completes."""

# Sample.flags bits
DONE, DELETED, CHURN, UNTRACKED, WRITTEN, FAILED, STANDALONE, HOOKED = (1 << i for i in range(8))
_SRV0, _CLI0, _STAMP, _HEAD = 0, 1, 2, 3


class WatchSpec(NamedTuple):
    """A watch a recorder needs: the run's selector plus ``label_selector`` (may be empty)."""

    api_version: str
    kind: str
    label_selector: str = ""


class Arena:
    """The int64 times of every sample of one recorder, ``width`` values per sample, in one array.

    One array per recorder instead of one per sample saves the array object and its separate
    buffer (about 70 B per sample).
    """

    __slots__ = ("_blank", "half", "times", "width")

    def __init__(self, transitions: int) -> None:
        self.half = transitions
        self.width = _HEAD + 2 * transitions
        self._blank = array("q", [MISSING]) * self.width
        self.times = array("q")

    def alloc(self) -> int:
        """Room for one more sample; returns its offset."""
        at = len(self.times)
        self.times.extend(self._blank)
        return at


class Sample:
    """One tracked object (or day-2 operation): identity and int64 times on both clocks."""

    __slots__ = (
        "_arena",
        "_at",
        "extra",
        "flags",
        "iteration",
        "names",
        "node",
        "ns",
        "op",
        "ref",
        "replica",
    )

    def __init__(
        self,
        ns: str,
        names: tuple[str, ...],
        transitions: int,
        flags: int = 0,
        op: str | None = None,
        arena: Arena | None = None,
    ) -> None:
        self.ns = ns
        self.names = names
        self.node = ""
        self.iteration = 0
        self.replica = 0
        self.op = op
        self.flags = flags
        self.ref: str | None = None
        self.extra: Any = None
        if arena is None or arena.half != transitions:
            arena = Arena(transitions)
        self._arena = arena
        self._at = arena.alloc()

    def t0(self, clock: str) -> int:
        """t0 on ``clock`` (MISSING when unknown)."""
        return self._arena.times[self._at + (_SRV0 if clock == "server" else _CLI0)]

    def at(self, index: int, clock: str) -> int:
        """Time of transition ``index`` on ``clock`` (MISSING when not seen)."""
        arena = self._arena
        if clock == "server":
            return arena.times[self._at + _HEAD + index]
        return arena.times[self._at + _HEAD + arena.half + index]

    def seen(self, index: int) -> bool:
        """Whether transition ``index`` was observed on the client clock."""
        return self.at(index, "client") != MISSING

    def set_t0(self, server: int | None, client: int | None) -> None:
        """Lower t0 to ``server``/``client`` (None keeps it); the stamp follows the server t0."""
        t, o = self._arena.times, self._at
        if server is not None and (t[o + _SRV0] == MISSING or server < t[o + _SRV0]):
            t[o + _SRV0] = server
            t[o + _STAMP] = server
        if client is not None and (t[o + _CLI0] == MISSING or client < t[o + _CLI0]):
            t[o + _CLI0] = client
            if t[o + _STAMP] == MISSING:
                t[o + _STAMP] = client

    def note(self, index: int, server: int | None, client: int) -> None:
        """Record transition ``index``; keeps the earliest value seen on each clock."""
        arena = self._arena
        t = arena.times
        if server is not None:
            pos = self._at + _HEAD + index
            if t[pos] == MISSING or server < t[pos]:
                t[pos] = server
        pos = self._at + _HEAD + arena.half + index
        if t[pos] == MISSING or client < t[pos]:
            t[pos] = client

    @property
    def stamp(self) -> int:
        """The document timestamp: creation (server), or the operation time for day-2 samples."""
        return self._arena.times[self._at + _STAMP]

    @stamp.setter
    def stamp(self, value: int) -> None:
        self._arena.times[self._at + _STAMP] = value


def meta(obj: Obj) -> Obj:
    """``obj.metadata`` or {}."""
    value = obj.get("metadata")
    return value if isinstance(value, dict) else {}


def status(obj: Obj) -> Obj:
    """``obj.status`` or {}."""
    value = obj.get("status")
    return value if isinstance(value, dict) else {}


def true_conditions(obj: Obj) -> Iterator[tuple[str, int | None]]:
    """(type, lastTransitionTime ns) of every condition whose status is True."""
    for cond in status(obj).get("conditions") or ():
        if isinstance(cond, dict) and cond.get("status") == "True":
            yield str(cond.get("type")), ts_of(cond.get("lastTransitionTime"))


class Recorder:
    """Base of every latency recorder: thread-safe sample store, documents and quantiles."""

    name: ClassVar[str]
    prefix: ClassVar[str]
    transitions: ClassVar[tuple[tuple[str, str], ...]]  # (quantileName, document field)
    name_fields: ClassVar[tuple[str, ...]]
    watch_specs: ClassVar[tuple[WatchSpec, ...]]
    has_node: ClassVar[bool] = True
    server_clock: ClassVar[bool] = True
    optional: ClassVar[frozenset[int]] = frozenset()

    def __init__(
        self,
        *,
        job_name: str,
        uuid: str,
        metadata: Obj | None = None,
        clock: str = "client",
        sink: DocSink | None = None,
        ignore_existing: bool = False,
    ) -> None:
        if clock not in ("client", "server"):
            raise ValueError(f"clock must be 'client' or 'server', got {clock!r}")
        self.job_name = job_name
        self.uuid = uuid
        self.metadata = dict(metadata or {})
        self.clock = clock
        self.sink = sink
        self.churn = False
        self.errors: list[str] = []
        self._synced = not ignore_existing
        self._lock = threading.RLock()
        self._samples: list[Sample] = []
        self._by_uid: dict[str, Sample] = {}
        self._arena = Arena(len(self.transitions))

    # -- input streams -------------------------------------------------------------------------
    def on_event(self, kind: str, event_type: str, obj: Obj, received_ns: int) -> None:
        """One watch event (ADDED/MODIFIED/DELETED) of ``kind``, received at ``received_ns``."""
        with self._lock:
            self._event(kind, event_type, obj, received_ns)

    def on_created(self, obj: Obj, t_ns: int) -> None:
        """The create request for ``obj`` returned at ``t_ns`` (time.time_ns())."""
        with self._lock:
            self._created(obj, t_ns)

    def mark_operation(self, kind: str, namespace: str, name: str, op: str, t_ns: int) -> None:
        """A day-2 operation was requested; recorders without day-2 samples ignore it."""

    def watches_synced(self) -> None:
        """From now on new objects are samples (objects seen before are pre-existing)."""
        with self._lock:
            self._synced = True

    # -- hooks for subclasses ------------------------------------------------------------------
    def _event(self, kind: str, event_type: str, obj: Obj, rx: int) -> None:
        raise NotImplementedError

    def _created(self, obj: Obj, t_ns: int) -> None:
        raise NotImplementedError

    def _complete(self, s: Sample) -> bool:
        raise NotImplementedError

    def profile(self, s: Sample) -> tuple[int, ...]:
        """Transition indices that belong in ``s``'s document."""
        return tuple(range(len(self.transitions)))

    def _doc_names(self, s: Sample) -> tuple[str, ...]:
        """The name fields of ``s`` as documents show them."""
        return s.names

    def _extra_fields(self, s: Sample, doc: Obj) -> None:
        """Add recorder-specific identity fields to ``doc``."""

    # -- sample bookkeeping --------------------------------------------------------------------
    def _new_sample(self, ns: str, names: tuple[str, ...], op: str | None = None) -> Sample:
        flags = (CHURN if self.churn else 0) | (0 if self._synced else UNTRACKED)
        s = Sample(ns, names, len(self.transitions), flags, op, self._arena)
        self._samples.append(s)
        return s

    def _finish(self, s: Sample) -> None:
        """Mark ``s`` done and write its document once it reached its final transition."""
        if not s.flags & DONE and self._complete(s):
            s.flags |= DONE
            self._emit(s)

    def _emit(self, s: Sample) -> None:
        if s.flags & (UNTRACKED | WRITTEN):
            return
        s.flags |= WRITTEN
        if self.sink is None:
            return
        try:
            self.sink(self.prefix, self.document(s))
        except (OSError, ValueError) as exc:
            # a full disk (or a file closed by finalisation racing this event) must not kill a
            # watch thread; the sample stays in memory and documents() still returns it
            s.flags &= ~WRITTEN
            self.errors.append(f"{self.name}: writing a document failed: {exc}")
            log.warning("%s: writing a document failed: %s", self.name, exc)

    def flush_incomplete(self) -> int:
        """Write the documents of every sample not written yet (finalisation); returns how many."""
        with self._lock:
            pending = [s for s in self._samples if not s.flags & (UNTRACKED | WRITTEN)]
            for s in pending:
                self._emit(s)
        return len(pending)

    def pending(self) -> int:
        """How many tracked samples have not reached their final transition yet."""
        with self._lock:
            return sum(1 for s in self._samples if not s.flags & (UNTRACKED | DONE))

    def tracked(self) -> int:
        """How many samples (tracked objects and day-2 operations) there are."""
        with self._lock:
            return sum(1 for s in self._samples if not s.flags & UNTRACKED)

    # -- output --------------------------------------------------------------------------------
    def clock_for(self, clock: str | None) -> str:
        """The clock documents and quantiles use (client when there are no server timestamps)."""
        chosen = clock or self.clock
        return chosen if self.server_clock else "client"

    def _latencies(
        self, s: Sample, clock: str, indices: tuple[int, ...], errors: list[str] | None
    ) -> tuple[Obj, list[str]]:
        values: Obj = {}
        missing: list[str] = []
        t0 = s.t0(clock)
        for i in indices:
            qname, field = self.transitions[i]
            t = s.at(i, clock)
            if t == MISSING or t0 == MISSING:
                values[field] = None
                missing.append(qname)
                continue
            delta = t - t0
            values[field] = to_ms(delta, clock)
            if delta < 0 and errors is not None:
                errors.append(f"{clock} clock: {qname} {to_ms(delta, clock)} ms before t0")
        if t0 == MISSING and errors is not None:
            errors.append(f"{clock} clock: no t0 (the object's creation was never observed)")
        return values, missing

    def document(self, s: Sample, clock: str | None = None) -> Obj:
        """The ``<prefix>Measurement`` document of ``s``."""
        clock = self.clock_for(clock)
        stamp = s.stamp if s.stamp != MISSING else 0
        doc: Obj = {
            "timestamp": format_ts(stamp),
            "metricName": f"{self.prefix}Measurement",
            "uuid": self.uuid,
            "jobName": self.job_name,
            "jobIteration": s.iteration,
            "replica": s.replica,
            "namespace": s.ns,
        }
        doc.update(zip(self.name_fields, self._doc_names(s), strict=False))
        if self.has_node:
            doc["nodeName"] = s.node
        self._extra_fields(s, doc)
        errors: list[str] = []
        indices = self.profile(s)
        values, missing = self._latencies(s, clock, indices, errors)
        doc.update(values)
        doc["clock"] = clock
        if self.server_clock:
            other = "server" if clock == "client" else "client"
            doc[f"{other}Latencies"] = self._latencies(s, other, indices, errors)[0]
        doc.update(
            {
                "operation": s.op or "create",
                "churnMetric": bool(s.flags & CHURN),
                "metadata": dict(self.metadata),
                "missing": missing,
                "errors": errors,
            }
        )
        if s.flags & DELETED:
            doc["deleted"] = True
        if s.flags & FAILED:
            doc["failed"] = True
        return doc

    def documents(self, clock: str | None = None) -> Iterator[Obj]:
        """Every sample's document (complete or not), in the order objects were first seen."""
        with self._lock:
            samples = [s for s in self._samples if not s.flags & UNTRACKED]
        for s in samples:
            with self._lock:
                doc = self.document(s, clock)
            yield doc

    def key(self, op: str, index: int) -> str:
        """``<measurement>.<quantileName>``, or ``<measurement>.<op>.<quantileName>`` for day-2."""
        qname = self.transitions[index][0]
        return f"{self.name}.{qname}" if op == "create" else f"{self.name}.{op}.{qname}"

    def summaries(self, clock: str | None = None) -> dict[tuple[str, int], Summary]:
        """(operation, transition index) -> Summary over every sample, on ``clock``."""
        clock = self.clock_for(clock)
        # int64 arrays, not lists of ints: 8 B per latency instead of about 40 at the memory peak
        groups: dict[tuple[str, int], tuple[array[int], list[int]]] = {}
        with self._lock:
            for s in self._samples:
                if s.flags & UNTRACKED:
                    continue
                op, t0 = s.op or "create", s.t0(clock)
                for i in self.profile(s):
                    values, counts = groups.setdefault((op, i), (array("q"), [0, 0]))
                    t = s.at(i, clock)
                    if t == MISSING or t0 == MISSING:
                        if i not in self.optional:
                            counts[0] += 1
                    elif t < t0:
                        counts[1] += 1
                    else:
                        values.append(t - t0)
        order = sorted(groups, key=lambda k: (k[0] != "create", k[0], k[1]))
        return {k: summarize(groups[k][0], *groups[k][1]) for k in order}

    def quantile_documents(self, timestamp_ns: int, clock: str | None = None) -> list[Obj]:
        """One ``<prefix>QuantilesMeasurement`` document per (operation, quantileName)."""
        clock = self.clock_for(clock)
        main = self.summaries(clock)
        other = (
            self.summaries("server" if clock == "client" else "client") if self.server_clock else {}
        )
        return [
            quantile_document(
                self.transitions[i][0],
                summary,
                clock,
                prefix=self.prefix,
                uuid=self.uuid,
                job_name=self.job_name,
                metadata=self.metadata,
                timestamp_ns=timestamp_ns,
                operation=op,
                other=other.get((op, i)),
            )
            for (op, i), summary in main.items()
        ]
