"""The per-test section of the HTML report: job table, quantiles with their SLO thresholds,
baseline comparison, alerts and plots, rendered from ``job.html.j2``."""

from __future__ import annotations

import math
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from .compare import change_text
from .jobplots import job_plots
from .model import STATS, JobView, burst_of, fmt_table_s, safe_read, steady_qps
from .rows import Threshold, entry_numbers, objects_text
from .templating import render

JOB_HEAD = (
    "job",
    "type",
    "objects",
    "iterations",
    "qps requested",
    "qps steady",
    "qps overall",
    "elapsed",
    "retries",
    "429s",
    "verified",
    "verdict",
)


def job_cells(view: JobView) -> list[str]:
    """The job table's cells (the verdict is rendered by the template)."""
    r = view.result
    cfg = (view.summary or {}).get("jobConfig") or {}
    steady = steady_qps(r, burst_of(view))
    return [
        r.job_name,
        r.job_type,
        objects_text(view),
        str(cfg.get("jobIterations", cfg.get("iterations", "-"))),
        f"{r.qps_requested:g}",
        f"{steady:.2f}" if steady is not None else "- (within burst)",
        f"{r.qps_achieved:.2f}",
        f"{r.elapsed:.1f}s",
        str(r.retries),
        str(r.throttled_429),
        "dry run" if r.dry_run else "yes" if r.verified else "NO",
    ]


def _threshold(view: JobView, key: str, stat: str) -> Threshold | None:
    for entry in view.slos:
        if entry.key != key:
            continue
        found, limit, value = entry_numbers(entry)
        if found == stat and limit is not None:
            return Threshold(stat, limit, value, entry.verdict)
    return None


def measurement_tables(view: JobView) -> list[dict[str, Any]]:
    """Per measurement: its clock and one row per transition, thresholds beside values."""
    by_measurement: dict[str, list[str]] = {}
    for key in view.quantiles:
        by_measurement.setdefault(key.split(".", 1)[0], []).append(key)
    out = []
    for measurement, keys in by_measurement.items():
        rows = []
        for key in keys:
            q = view.quantiles[key]
            rows.append(
                {
                    "transition": key.split(".", 1)[1],
                    "n": q.n,
                    "missing": q.missing,
                    "cells": [
                        {"value": fmt_table_s(q.get(s)), "threshold": _threshold(view, key, s)}
                        for s in STATS
                    ],
                    "slos": [s.verdict for s in view.slos if s.key == key],
                }
            )
        out.append({"name": measurement, "clock": view.quantiles[keys[0]].clock, "rows": rows})
    return out


def comparison_data(view: JobView) -> dict[str, Any] | None:
    """Baseline against current: regressed rows first, then by change (largest first)."""
    cmp = view.comparison
    if cmp is None:
        return None
    ranked: list[tuple[tuple[int, float], dict[str, Any]]] = []
    for key, stat, old, new in cmp.rows:
        regressed = any(line.startswith(f"{key} {stat} ") for line in cmp.regressions)
        change = (new - old) / old if old and not math.isnan(old) and not math.isnan(new) else 0.0
        ranked.append(
            (
                (0 if regressed else 1, -change),
                {
                    "name": f"{key} {stat}",
                    "old": fmt_table_s(old),
                    "new": fmt_table_s(new),
                    "change": change_text(old, new),
                    "regressed": regressed,
                },
            )
        )
    ranked.sort(key=lambda pair: pair[0])
    rows = [row for _, row in ranked]
    problems = [line for line in [*cmp.regressions, cmp.refused] if line]
    return {"problems": problems, "note": cmp.note, "rows": rows}


def alert_rows(directory: Path | None, view: JobView) -> list[list[str]]:
    """Alerts fired during the job (``alert.json``): time, severity, description."""
    if directory is None:
        return []
    return [
        [str(d.get("timestamp", "")), str(d.get("severity", "")), str(d.get("description", ""))]
        for d in safe_read(directory / "alert.json")
        if d.get("jobName") == view.name and d.get("uuid") in (None, view.result.uuid)
    ]


def job_data(view: JobView, directory: Path | None, plots: bool, baseline: Path | None) -> Any:
    """What the job template shows about one job."""
    return {
        "name": view.name,
        "head": JOB_HEAD[:-1],
        "cells": job_cells(view),
        "verdict": view.verdict,
        "reasons": view.reasons(),
        "measurements": measurement_tables(view),
        "slo_lines": [s for s in view.slos if s.verdict != "pass"],
        "comparison": comparison_data(view),
        "alerts": alert_rows(directory, view),
        "plots": job_plots(view, directory, baseline) if plots else [],
    }


def item_html(
    views: Sequence[JobView],
    directory: Path | None,
    plots: bool = True,
    baseline: Path | None = None,
) -> str:
    """The HTML extra of one test: per job its tables, comparison, alerts and plots."""
    jobs = [job_data(v, directory, plots, baseline) for v in views]
    return render("job.html.j2", jobs=jobs, stats=STATS)
