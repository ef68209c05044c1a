"""Every plot of one job: latency CDFs, timelines, creation rate with phases, Prometheus series,
and the baseline overlay."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from ..measurements.timeutil import ts_of
from .model import Doc, JobView, object_documents, safe_read, transitions_of
from .plots import Mark, Span, creation_rate, latency_cdf, overlay_cdf, prometheus_series, timeline

_KNOWN_FILES = ("jobSummary.json", "alert.json")
CYCLE_GAP = 1.5  # seconds without a churn object that separate two churn cycles


def _ms(value: Any) -> float | None:
    return value / 1000 if isinstance(value, int | float) and not isinstance(value, bool) else None


def _by_operation(docs: list[Doc]) -> dict[str, list[Doc]]:
    groups: dict[str, list[Doc]] = {}
    for doc in docs:
        groups.setdefault(str(doc.get("operation") or "create"), []).append(doc)
    return groups


def _transition_rows(
    measurement: str, docs: list[Doc]
) -> tuple[list[str], list[list[float | None]]]:
    pairs = [
        (q, f) for q, f in transitions_of(measurement) if any(d.get(f) is not None for d in docs)
    ]
    return [q for q, _ in pairs], [[_ms(d.get(f)) for _, f in pairs] for d in docs]


def _samples(names: list[str], rows: list[list[float | None]]) -> dict[str, list[float]]:
    return {n: [v for row in rows if (v := row[j]) is not None] for j, n in enumerate(names)}


def job_plots(view: JobView, directory: Path | None, baseline: Path | None = None) -> list[str]:
    """Every plot of one job as inline SVG."""
    if directory is None:
        return []
    r = view.result
    svgs: list[str] = []
    objects = object_documents(directory, r.job_name, r.uuid)
    main = (view.main_key() or "podLatency.Ready").split(".", 1)[0]
    for measurement, docs in objects.items():
        for op, group in _by_operation(docs).items():
            names, rows = _transition_rows(measurement, group)
            title = measurement + ("" if op == "create" else f" ({op})")
            scope = f"{r.job_name}-{measurement}-{op}"
            samples = _samples(names, rows)
            if measurement == main and op == "create":
                svgs.append(rate_plot(view, group, rows, scope))
            svgs.append(latency_cdf(samples, f"{title}: latency CDF", f"{scope}-cdf"))
            if measurement == main and op == "create" and baseline is not None:
                svgs.append(baseline_overlay(view, measurement, samples, baseline, scope))
            svgs.append(timeline(rows, names, f"{title}: per-object timeline", f"{scope}-tl"))
    for _, svg in prometheus_series(
        prometheus_documents(directory, r.job_name, r.uuid), f"{r.job_name}-prom"
    ):
        svgs.append(svg)
    return svgs


def baseline_overlay(
    view: JobView, measurement: str, current: dict[str, list[float]], baseline: Path, scope: str
) -> str:
    """Baseline against current CDFs of ``measurement``'s create operation."""
    docs = object_documents(baseline, view.name).get(measurement, [])
    docs = [d for d in docs if str(d.get("operation") or "create") == "create"]
    names, rows = _transition_rows(measurement, docs)
    return overlay_cdf(
        current,
        _samples(names, rows),
        f"{measurement}: baseline (dashed) vs current (solid)",
        f"{scope}-overlay",
    )


def _seconds_of(doc: Doc) -> float | None:
    t = ts_of(doc.get("timestamp"))
    return None if t is None else t / 1e9


def cycle_marks(docs: list[Doc]) -> list[Mark]:
    """``churn k`` at the first object of each churn cycle (gaps over 1.5 s split cycles)."""
    times = sorted(t for d in docs if d.get("churnMetric") and (t := _seconds_of(d)) is not None)
    marks: list[Mark] = []
    last = None
    for t in times:
        if last is None or t - last > CYCLE_GAP:
            marks.append((f"churn {len(marks) + 1}", t))
        last = t
    return marks


def job_phases(view: JobView, created: list[float], ready: list[float]) -> list[Span]:
    """create, wait, pause and churn spans of the job (epoch seconds)."""
    r = view.result
    spans: list[Span] = []
    if created:
        first, last = min(created), max(created) + 1  # timestamps have whole seconds
        spans.append(("create", first, last))
        end = max(ready) if ready else last
        if end > last:
            spans.append(("wait", last, end))
        pause = ((view.summary or {}).get("jobConfig") or {}).get("jobPause")
        if isinstance(pause, int | float) and pause > 0:
            spans.append(("pause", end, end + float(pause)))
    if r.churn_started_at:
        stop = r.churn_ended_at or r.finished_at or r.churn_started_at
        spans.append((f"churn ({r.churn_cycles} cycles)", r.churn_started_at, stop))
    return spans


def rate_plot(view: JobView, docs: list[Doc], rows: list[list[float | None]], scope: str) -> str:
    """Creation and readiness rate of the job's headline objects, with phases and cycles."""
    created, ready = [], []
    initial = [(d, row) for d, row in zip(docs, rows, strict=True) if not d.get("churnMetric")]
    for doc, row in initial:
        t = _seconds_of(doc)
        if t is None:
            continue
        created.append(t)
        done = [v for v in row if v is not None]
        if done and len(done) == len(row):
            ready.append(t + max(done))
    start = view.result.started_at or None
    if start is not None and created and abs(min(created) - start) > 3600:
        start = None  # a result from another clock: fall back to the first create
    return creation_rate(
        created,
        ready,
        view.result.qps_requested,
        f"{view.name}: creation rate",
        f"{scope}-rate",
        start=start,
        phases=job_phases(view, created, ready),
        marks=cycle_marks(docs),
    )


_PROM_CACHE: dict[tuple[str, int, int], list[Doc]] = {}


def prometheus_documents(directory: Path, job: str, uuid: str) -> list[Doc]:
    """Prometheus documents (``<metricName>.json``) of ``job`` in a metrics directory."""
    out: list[Doc] = []
    for path in sorted(directory.glob("*.json")):
        name = path.name
        if name in _KNOWN_FILES or "Measurement-" in name or name.startswith("summary"):
            continue
        stat = path.stat()
        key = (str(path), stat.st_mtime_ns, stat.st_size)
        docs = _PROM_CACHE.get(key)
        if docs is None:
            docs = [d for d in safe_read(path) if "value" in d and "metricName" in d]
            _PROM_CACHE[key] = docs
        out += [d for d in docs if d.get("jobName") == job and d.get("uuid") in (None, uuid)]
    return out
