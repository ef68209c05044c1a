"""``summary.json`` in the metrics directory: per-job verdicts, reasons, thresholds, quantiles."""

from __future__ import annotations

import contextlib
import math
import os
import time
import warnings
from collections.abc import Generator, Sequence
from pathlib import Path
from typing import Any

import orjson
import pytest

from ..measurements.timeutil import format_ts
from ..stashkeys import SESSION_KEY
from .model import STATS, JobView, ReportState, burst_of, run_settings, steady_qps, views_for

SUMMARY_FILE = "summary.json"
SCHEMA_VERSION = 1


def _num(value: float) -> float | None:
    return None if math.isnan(value) or math.isinf(value) else round(value, 6)


def job_document(view: JobView) -> dict[str, Any]:
    """The summary entry of one job (latencies in seconds)."""
    r = view.result
    cmp = view.comparison
    return {
        "job": r.job_name,
        "test": view.nodeid,
        "outcome": view.outcome,
        "type": r.job_type,
        "uuid": r.uuid,
        "verdict": view.verdict,
        "reasons": view.reasons(),
        "dryRun": r.dry_run,
        "verified": r.verified,
        "objects": {
            k: {
                "created": r.created.get(k, 0),
                "ready": r.ready.get(k, 0),
                "expected": r.expected.get(k, 0),
            }
            for k in sorted(set(r.expected) | set(r.created) | set(r.ready))
        },
        "qpsRequested": r.qps_requested,
        "qpsAchieved": round(r.qps_achieved, 3),
        "qpsSteady": None
        if (steady := steady_qps(r, burst_of(view))) is None
        else round(steady, 3),
        "elapsed": round(r.elapsed, 3),
        "retries": r.retries,
        "http429": r.throttled_429,
        "mainTransition": view.main_key(),
        "thresholds": [{"key": s.key, "verdict": s.verdict, "line": s.line} for s in view.slos],
        "quantiles": {
            key: {
                "n": q.n,
                "missing": q.missing,
                "clock": q.clock,
                **{stat: _num(q.get(stat)) for stat in STATS},
            }
            for key, q in view.quantiles.items()
        },
        "baseline": None
        if cmp is None
        else {
            "regressions": cmp.regressions,
            "refused": cmp.refused or None,
            "note": cmp.note or None,
            "rows": [
                {"key": k, "stat": s, "baseline": _num(old), "current": _num(new)}
                for k, s, old, new in cmp.rows
            ],
        },
    }


def summary_document(config: pytest.Config, views: Sequence[JobView]) -> dict[str, Any]:
    """The whole ``summary.json`` document."""
    session = config.stash.get(SESSION_KEY, None)
    jobs = [job_document(v) for v in views]
    return {
        "schemaVersion": SCHEMA_VERSION,
        "generated": format_ts(time.time_ns()),
        "uuid": getattr(getattr(session, "run", None), "uuid", None),
        "runid": getattr(session, "runid", None),
        "cluster": dict(getattr(session, "cluster_facts", {}) or {}),
        # the tests' outcomes too: a job can pass its gates while its test fails an assert
        "passed": all(j["verdict"] == "pass" and j["outcome"] in ("", "passed") for j in jobs),
        "jobs": jobs,
    }


def write_summary(path: Path, document: dict[str, Any]) -> None:
    """Atomically write ``document`` to ``path`` (fsynced temporary file, then rename)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    try:
        with open(tmp, "wb") as fh:
            fh.write(orjson.dumps(document, option=orjson.OPT_INDENT_2) + b"\n")
            fh.flush()
            os.fsync(fh.fileno())
        os.replace(tmp, path)
    finally:
        with contextlib.suppress(FileNotFoundError):
            tmp.unlink()


class SummaryHooks:
    """Records each test's jobs after its call phase and keeps ``summary.json`` up to date."""

    def __init__(self, config: pytest.Config, state: ReportState) -> None:
        self.config = config
        self.state = state
        worker = getattr(config, "workerinput", {}).get("workerid")
        self.name = f"summary-{worker}.json" if worker else SUMMARY_FILE

    def path(self) -> Path | None:
        """Where summary.json goes (None without a session)."""
        directory = run_settings(self.config)[0]
        return None if directory is None else directory / self.name

    def write(self) -> None:
        """Rewrite summary.json from every job recorded so far."""
        views = self.state.views()
        path = self.path()
        if not views or path is None or all(v.result.dry_run for v in views):
            return  # a dry run writes nothing a real run wrote
        try:
            write_summary(path, summary_document(self.config, views))
        except OSError as exc:
            warnings.warn(
                pytest.PytestWarning(f"kubevirt-burner: cannot write {path}: {exc}"), stacklevel=1
            )

    @pytest.hookimpl(wrapper=True)
    def pytest_runtest_makereport(
        self, item: pytest.Item, call: pytest.CallInfo[None]
    ) -> Generator[None, pytest.TestReport, pytest.TestReport]:
        """On the call phase: record the test's jobs with its outcome."""
        report = yield
        if report.when == "call":
            views = views_for(item)
            for view in views:
                view.outcome = report.outcome
            self.state.add(views)
            if views:
                self.write()
        return report

    @pytest.hookimpl(tryfirst=True)
    def pytest_sessionfinish(self, session: pytest.Session) -> None:
        """Final write (before the HTML report is generated)."""
        self.write()
