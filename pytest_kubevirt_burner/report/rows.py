"""One plain, JSON-able summary row per job: what the top of the HTML report shows.

Rows are built where the test ran (an xdist worker, or the only process), travel on the test
report as plain data, and are rendered by the process that writes the HTML.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import asdict, dataclass, field
from typing import Any

from .model import STATS, JobView, SloEntry, burst_of, invalid_samples, steady_qps

_STAT_NAMES = {s.lower(): s for s in STATS}
ROWS_ATTR = "kubevirt_burner_rows"  # TestReport attribute (xdist serialises report.__dict__)


@dataclass
class Threshold:
    """One SLO threshold of the headline transition beside its measured value."""

    stat: str
    threshold: float
    value: float | None
    verdict: str

    @property
    def margin(self) -> float | None:
        """Threshold minus value in seconds (negative: breached by that much)."""
        if self.value is None or math.isinf(self.value):
            return None
        return self.threshold - self.value


@dataclass
class JobRow:
    """The summary of one job (seconds; NaN-free: None when unknown)."""

    job: str
    test: str
    type: str
    objects: str
    verdict: str
    key: str | None
    p50: float | None
    p99: float | None
    thresholds: list[Threshold] = field(default_factory=list)
    qps_requested: float = 0.0
    qps_steady: float | None = None
    qps_note: str = ""
    retries: int = 0
    errors: int = 0
    invalid: int = 0
    regressed: bool = False
    baseline_p99: float | None = None
    reasons: list[str] = field(default_factory=list)

    def to_dict(self) -> dict[str, Any]:
        """Plain data for the test report."""
        return asdict(self)

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> JobRow:
        """Back from ``to_dict``."""
        fields = dict(data)
        fields["thresholds"] = [Threshold(**t) for t in fields.get("thresholds") or []]
        return cls(**fields)

    def threshold(self, stat: str) -> Threshold | None:
        """The SLO threshold on ``stat`` (P50, P99...), if any."""
        return next((t for t in self.thresholds if t.stat == stat), None)

    @property
    def change(self) -> float | None:
        """Relative P99 change against the baseline (0.1 = 10 % slower)."""
        if self.baseline_p99 is None or self.p99 is None or self.baseline_p99 <= 0:
            return None
        return (self.p99 - self.baseline_p99) / self.baseline_p99

    @property
    def rank(self) -> tuple[int, float]:
        """Sort key: failures and regressions first, then by P99 change (largest first)."""
        bad = 0 if self.verdict == "fail" or self.regressed else 1
        return bad, -(self.change or 0.0)


def _num(value: float) -> float | None:
    return None if math.isnan(value) else value


def entry_numbers(entry: SloEntry) -> tuple[str, float | None, float | None]:
    """(stat, threshold, value) of an SLO entry, from its structured verdict."""
    return _STAT_NAMES.get(entry.stat.lower(), entry.stat), entry.threshold, entry.value


def objects_text(view: JobView) -> str:
    """``Pod 80/80 ready``, ``ConfigMap 5/5 created``, ``Namespace 20 deleted``,
    ``Deployment 20, 300 patch requests``, ``restart 20/20 VMs done``."""
    r = view.result
    names = sorted(set(r.expected) | set(r.created) | set(r.ready))
    kinds = [k for k in names if k[:1].isupper()]
    verbs = sorted(r.operations)
    parts = []
    if r.job_type == "kubevirt":
        for op in names:
            parts.append(f"{op} {r.ready.get(op, 0)}/{r.expected.get(op, 0)} VMs done")
    elif r.job_type == "delete":
        parts += [f"{k} {r.expected.get(k, 0)} deleted" for k in kinds]
    elif r.job_type != "create":
        parts += [f"{k} {r.expected.get(k, 0)}" for k in kinds]
        parts += [f"{r.operations[v]} {v} requests" for v in verbs]
    else:
        for kind in kinds or names:
            expected, created = r.expected.get(kind, 0), r.created.get(kind, 0)
            if kind in r.ready and r.ready[kind] >= expected:
                parts.append(f"{kind} {r.ready[kind]}/{expected} ready")
            elif kind in r.ready:  # a kind with readiness that did not all get there
                parts.append(f"{kind} {created}/{expected} created, {r.ready[kind]} ready")
            else:
                parts.append(f"{kind} {created}/{expected} created")
    return ", ".join(parts) or "-"


def job_row(view: JobView) -> JobRow:
    """The summary row of one job."""
    r = view.result
    key = view.main_key()
    q = view.quantiles.get(key) if key else None
    thresholds = []
    for entry in view.slos:
        if entry.key != key:
            continue
        stat, limit, value = entry_numbers(entry)
        if stat and limit is not None:
            thresholds.append(Threshold(stat, limit, value, entry.verdict))
    steady = steady_qps(r, burst_of(view))
    cmp = view.comparison
    base = None
    if cmp is not None and key:
        base = next((o for k, s, o, _ in cmp.rows if k == key and s == "P99"), None)
    return JobRow(
        job=r.job_name,
        test=view.nodeid,
        type=r.job_type,
        objects=objects_text(view),
        verdict=view.verdict,
        key=key,
        p50=_num(q.get("P50")) if q else None,
        p99=_num(q.get("P99")) if q else None,
        thresholds=thresholds,
        qps_requested=r.qps_requested,
        qps_steady=steady,
        qps_note="within burst" if steady is None and r.qps_achieved > 0 else "",
        retries=r.retries,
        errors=len(r.errors),
        invalid=invalid_samples(r),
        regressed=bool(cmp and (cmp.regressions or cmp.refused)),
        baseline_p99=None if base is None or math.isnan(base) else base,
        reasons=view.reasons(),
    )


def sorted_rows(rows: Sequence[JobRow]) -> list[JobRow]:
    """Failures and regressions first, then the largest P99 change; stable otherwise."""
    return sorted(rows, key=lambda row: row.rank)
