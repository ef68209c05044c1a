"""Baseline comparison: ``--burner-baseline DIR`` and ``--burner-regression SPEC`` gates.

SPEC is ``<measurement>[.<operation>].<quantileName>:<stat>:<limit>[:force]``: stat is P50, P95,
P99, min, max or avg; limit is relative (``10%``) or absolute (``+2s``, ``500ms``, ``3``). A
regression is a current value strictly above the baseline plus the limit. ``:force`` (or a spec
that is just ``force``) compares jobs even when their jobConfig differs.
"""

from __future__ import annotations

import contextlib
import math
import re
from collections.abc import Generator, Iterable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from ..durations import parse_duration
from ..measurements.slo import SloError, format_seconds, parse_target
from .model import (
    STATS,
    JobComparison,
    JobView,
    QStats,
    fmt_s,
    job_summaries,
    quantile_files,
    quantiles_from_docs,
    run_settings,
    safe_read,
    views_for,
)

OPTION = "--burner-regression"
_STAT_NAMES = {s.lower(): s for s in STATS}
_PERCENT = re.compile(r"^\+?(\d+(?:\.\d+)?)%$")
TABLE_STATS = ("P50", "P95", "P99")


@dataclass(frozen=True)
class RegressionSpec:
    """One regression gate: ``key``'s ``stat`` may grow by at most ``limit``."""

    key: str
    stat: str
    limit: float  # percent when relative, else seconds
    relative: bool
    force: bool = False

    @property
    def limit_text(self) -> str:
        """``10%`` or ``+2s``."""
        return f"{self.limit:g}%" if self.relative else f"+{format_seconds(self.limit)}"

    def check(self, old: float, new: float) -> str | None:
        """The regression line when ``new`` regressed beyond the limit, else None."""
        head = f"{self.key} {self.stat}"
        if math.isnan(new) and not math.isnan(old):
            return f"{head} regressed: no samples in this run (baseline {fmt_s(old)})"
        if math.isnan(old) or math.isnan(new):
            return None
        delta = new - old
        values = f"({fmt_s(old)} -> {fmt_s(new)})"
        if self.relative:
            pct = math.inf if old == 0 and delta > 0 else 0.0 if old == 0 else delta / old * 100
            if round(pct, 9) > self.limit:
                shown = "from 0" if math.isinf(pct) else f"{pct:.1f}%"
                return f"{head} regressed {shown} {values} > {self.limit_text}"
            return None
        if round(delta, 9) > self.limit:
            return f"{head} regressed +{fmt_s(delta)} {values} > {self.limit_text}"
        return None


def parse_spec(text: str) -> RegressionSpec:
    """Parse one SPEC; pytest.UsageError naming the option when it is malformed."""
    parts = text.strip().split(":")
    force = len(parts) == 4 and parts[3].strip().lower() == "force"
    if len(parts) != 3 and not force:
        raise pytest.UsageError(
            f"{OPTION} {text!r}: expected <measurement>.<quantileName>:<stat>:<limit>[:force], "
            "e.g. vmiLatency.VMIRunning:P99:10%"
        )
    key, stat_raw, limit_raw = (p.strip() for p in parts[:3])
    try:
        parse_target(key, f"{OPTION} {text!r}")
    except SloError as exc:
        raise pytest.UsageError(str(exc)) from None
    stat = _STAT_NAMES.get(stat_raw.lower())
    if stat is None:
        raise pytest.UsageError(
            f"{OPTION} {text!r}: unknown statistic {stat_raw!r}; valid: {', '.join(STATS)}"
        )
    m = _PERCENT.match(limit_raw)
    if m is not None:
        return RegressionSpec(key, stat, float(m.group(1)), True, force)
    try:
        seconds = parse_duration(limit_raw[1:] if limit_raw.startswith("+") else limit_raw)
    except ValueError as exc:
        raise pytest.UsageError(f"{OPTION} {text!r}: limit: {exc}") from None
    if seconds < 0:
        raise pytest.UsageError(f"{OPTION} {text!r}: the limit must not be negative")
    return RegressionSpec(key, stat, seconds, False, force)


def parse_specs(texts: Iterable[str]) -> tuple[list[RegressionSpec], bool]:
    """Every SPEC, and whether a bare ``force`` was given (compare differing jobConfigs)."""
    specs, force = [], False
    for text in texts:
        if text.strip().lower() == "force":
            force = True
        else:
            specs.append(parse_spec(text))
    return specs, force


@dataclass
class RunData:
    """A metrics directory: jobSummary documents and quantiles per job and clock."""

    directory: Path
    summaries: dict[str, dict[str, Any]]

    def quantiles(self, job: str, clock: str) -> dict[str, QStats]:
        """``key -> QStats`` of ``job`` on ``clock`` (the other clock for keys only it has)."""
        docs = [d for p in quantile_files(self.directory, job) for d in safe_read(p)]
        by_clock = quantiles_from_docs(docs)
        other = "server" if clock == "client" else "client"
        return {**by_clock.get(other, {}), **by_clock.get(clock, {})}


def load_run(directory: Path) -> RunData:
    """Read a metrics directory (pytest.UsageError when it is not one)."""
    if not directory.is_dir():
        raise pytest.UsageError(f"--burner-baseline: {directory}: no such directory")
    return RunData(directory, job_summaries(directory))


def _flatten(value: Any, prefix: str, out: dict[str, Any]) -> None:
    if isinstance(value, Mapping):
        for k, v in value.items():
            _flatten(v, f"{prefix}.{k}" if prefix else str(k), out)
    elif isinstance(value, list | tuple):
        for i, v in enumerate(value):
            _flatten(v, f"{prefix}[{i}]", out)
        if not value:
            out[prefix] = []
    elif prefix.endswith(("template", "Template")) and isinstance(value, str):
        out[prefix] = Path(value).name  # checkouts live in different directories
    else:
        out[prefix] = value


def config_differences(old: Mapping[str, Any], new: Mapping[str, Any]) -> list[str]:
    """Dotted keys whose values differ between two jobConfig documents."""
    a: dict[str, Any] = {}
    b: dict[str, Any] = {}
    _flatten(old, "", a)
    _flatten(new, "", b)
    return sorted(k for k in set(a) | set(b) if a.get(k, "<absent>") != b.get(k, "<absent>"))


def compare_job(
    job: str,
    current: Mapping[str, QStats],
    current_config: Mapping[str, Any] | None,
    baseline: RunData,
    specs: Sequence[RegressionSpec],
    force_all: bool = False,
    clock: str = "client",
) -> JobComparison:
    """Side-by-side quantiles of ``job`` and the regression lines of ``specs``."""
    cmp = JobComparison(job)
    base_summary = baseline.summaries.get(job)
    old_q = baseline.quantiles(job, clock)
    if base_summary is None and not old_q:
        cmp.note = f"{job}: no baseline in {baseline.directory}"
        return cmp
    old_cfg = (base_summary or {}).get("jobConfig") or {}
    diffs = config_differences(old_cfg, current_config or {})
    relevant = [s for s in specs if s.key in current]
    forced = force_all or any(s.force for s in relevant)
    if diffs:
        shown = ", ".join(diffs[:12]) + (f" (+{len(diffs) - 12} more)" if len(diffs) > 12 else "")
        line = f"{job}: not compared with baseline {baseline.directory}: jobConfig differs in "
        line += f"{shown} (add :force to the {OPTION} spec, or {OPTION} force, to compare anyway)"
        if not forced:
            if relevant:
                cmp.refused = line
            else:
                cmp.note = line
            return cmp
        cmp.note = f"{job}: jobConfig differs in {shown}; compared anyway (force)"
    for key in sorted(set(current) & set(old_q)):
        for stat in TABLE_STATS:
            cmp.rows.append((key, stat, old_q[key].get(stat), current[key].get(stat)))
    for spec in relevant:
        if spec.key not in old_q:
            continue
        found = spec.check(old_q[spec.key].get(spec.stat), current[spec.key].get(spec.stat))
        if found is not None:
            cmp.regressions.append(found)
        if spec.stat not in TABLE_STATS:
            cmp.rows.append(
                (
                    spec.key,
                    spec.stat,
                    old_q[spec.key].get(spec.stat),
                    current[spec.key].get(spec.stat),
                )
            )
    return cmp


def change_text(old: float, new: float) -> str:
    """``+18.2%`` / ``-3.0%`` / ``-`` for a table cell."""
    if math.isnan(old) or math.isnan(new):
        return "-"
    if old == 0:
        return "0.0%" if new == 0 else "+inf%"
    return f"{(new - old) / old * 100:+.1f}%"


class CompareHooks:
    """Compares every job with the baseline after its test body and fails on regressions."""

    def __init__(self, config: pytest.Config) -> None:
        base = config.getoption("burner_baseline", None)
        self.specs, self.force = parse_specs(config.getoption("burner_regression", None) or [])
        if self.specs and not base:
            raise pytest.UsageError(f"{OPTION} needs --burner-baseline DIR to compare with")
        self.baseline = load_run(Path(str(base))) if base else None

    def compare(self, view: JobView, clock: str) -> JobComparison:
        """Compare one job of this run with the baseline."""
        assert self.baseline is not None
        config = (view.summary or {}).get("jobConfig")
        return compare_job(
            view.name, view.quantiles, config, self.baseline, self.specs, self.force, clock
        )

    def _compare_item(self, item: pytest.Item) -> list[str]:
        clock = run_settings(item.config)[1]
        lines: list[str] = []
        for view in views_for(item):
            if view.result.dry_run:
                continue
            view.comparison = cmp = self.compare(view, clock)
            lines += cmp.regressions + ([cmp.refused] if cmp.refused else [])
        return lines

    @pytest.hookimpl(wrapper=True)
    def pytest_runtest_call(self, item: pytest.Item) -> Generator[None, None, None]:
        """After the test body: compare its jobs; a passing test fails on a regression."""
        if self.baseline is None:
            return (yield)
        try:
            yield
        except BaseException:
            # the comparison still goes into the reports; the test's own error wins
            with contextlib.suppress(Exception):
                self._compare_item(item)
            raise
        lines = self._compare_item(item)
        if lines:
            pytest.fail("\n".join(lines), pytrace=False)
