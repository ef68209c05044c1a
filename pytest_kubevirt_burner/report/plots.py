"""Small deterministic SVG plots of a job: latency CDFs, timelines, creation rate, Prometheus.

Only matplotlib's SVG canvas is used (pyplot is never imported, so no GUI backend is touched).
Every line is downsampled to a few hundred points, so 10,000 objects cost no more than 100.
"""

from __future__ import annotations

import io
import math
import re
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from typing import Any, Literal

import matplotlib
import numpy as np
from matplotlib.figure import Figure

from ..measurements.timeutil import ts_of

MAX_POINTS = 500
MAX_RANKS = 400
MAX_SERIES = 8
MAX_PANELS = 24
_RC: dict[Any, Any] = {
    "svg.hashsalt": "pytest-kubevirt-burner",
    "svg.fonttype": "none",
    "path.simplify": True,
    "font.size": 8,
    "axes.titlesize": 9,
    "axes.grid": True,
    "grid.alpha": 0.3,
    "legend.fontsize": 7,
}
_METADATA = {"Date": None, "Creator": None, "Format": None, "Type": None}
_STRIP = (
    re.compile(r"<\?xml[^>]*\?>\s*"),
    re.compile(r"<!DOCTYPE[^>]*>\s*"),
    re.compile(r"<metadata>.*?</metadata>\s*", re.S),
    re.compile(r"<!--.*?-->\s*", re.S),
)
_ID = re.compile(r'id="([^"]+)"')


@contextmanager
def _figure(width: float = 6.4, height: float = 3.2) -> Iterator[Figure]:
    with matplotlib.rc_context(_RC):
        yield Figure(figsize=(width, height), layout="constrained")


def series_count(fig: Figure) -> int:
    """Labelled artists (lines, bars, markers) across every axes: what a legend would list."""
    n = 0
    for ax in fig.axes:
        artists: list[Any] = [*ax.get_lines(), *ax.collections, *ax.containers]
        for artist in artists:
            if not str(artist.get_label()).startswith("_"):
                n += 1
    return n


def _legend_outside(fig: Figure, ax: Any, below: bool = False) -> None:
    """A legend to the right of (or below) the data, never over it."""
    handles, labels = ax.get_legend_handles_labels()
    if handles:
        where: Literal["outside lower center", "outside right upper"] = (
            "outside lower center" if below else "outside right upper"
        )
        ncols = len(handles) if below else 1
        fig.legend(
            handles=handles, labels=labels, loc=where, ncols=ncols, fontsize=7, frameon=False
        )


def _svg(fig: Figure, scope: str) -> str:
    series = series_count(fig)
    buf = io.StringIO()
    with matplotlib.rc_context(_RC):
        fig.savefig(buf, format="svg", metadata=_METADATA)
    text = buf.getvalue()
    for pattern in _STRIP:
        text = pattern.sub("", text)
    return scope_ids(text, scope).replace("<svg ", f'<svg data-series="{series}" ', 1)


def scope_ids(svg: str, scope: str) -> str:
    """Prefix every id (and reference to it) so several SVGs can share one HTML page."""
    prefix = re.sub(r"[^A-Za-z0-9_-]", "-", scope) + "-"
    for ident in set(_ID.findall(svg)):
        new = prefix + ident
        svg = svg.replace(f'id="{ident}"', f'id="{new}"').replace(f"#{ident})", f"#{new})")
        svg = svg.replace(f'"#{ident}"', f'"#{new}"')
    return svg.replace("<svg ", f'<svg class="kb-plot" data-plot="{prefix[:-1]}" ', 1)


def _empty(fig: Figure, title: str, why: str) -> None:
    ax = fig.add_subplot()
    ax.set_title(title)
    ax.text(0.5, 0.5, why, ha="center", va="center", transform=ax.transAxes)
    ax.set_axis_off()


def headline_series(series: Mapping[str, Any], limit: int = MAX_SERIES) -> list[str]:
    """At most ``limit`` names, in their order: the ones with the largest medians (the late
    transitions, which carry the headline latency) when there are more."""
    names = list(series)
    if len(names) <= limit:
        return names

    def median(name: str) -> float:
        values = np.asarray(series[name], dtype=float)
        values = values[~np.isnan(values)]
        return float(np.median(values)) if len(values) else -math.inf

    keep = set(sorted(names, key=lambda k: -median(k))[:limit])
    return [k for k in names if k in keep]


def downsample_indices(n: int, limit: int = MAX_POINTS, tail: float = 0.05) -> np.ndarray:
    """At most ``limit`` sorted indices of ``0..n-1``, denser in the top ``tail`` fraction."""
    if n <= limit:
        return np.arange(n)
    dense = max(2, limit // 5)
    body = np.linspace(0, n - 1, limit - dense)
    top = np.linspace(math.floor((n - 1) * (1 - tail)), n - 1, dense)
    return np.unique(np.concatenate([body, top]).round().astype(np.int64))


def latency_cdf(samples: Mapping[str, Sequence[float]], title: str, scope: str) -> str:
    """CDF (percent of objects vs seconds) of every transition of one measurement."""
    with _figure() as fig:
        series = {k: np.sort(np.asarray(v, dtype=float)) for k, v in samples.items() if len(v)}
        if not series:
            _empty(fig, title, "no samples")
            return _svg(fig, scope)
        shown = headline_series(series)
        if len(shown) < len(series):
            title += f" ({len(shown)} of {len(series)} transitions; all in the table)"
        series = {k: series[k] for k in shown}
        ax = fig.add_subplot()
        for name, values in series.items():
            idx = downsample_indices(len(values))
            ax.plot(
                values[idx],
                (idx + 1) * 100.0 / len(values),
                lw=1.2,
                label=f"{name} (n={len(values)})",
                drawstyle="steps-post",
            )
        for p in (50, 95, 99):
            ax.axhline(p, color="grey", lw=0.5, ls=":")
        ax.set_ylim(0, 100.5)
        ax.set_xlabel("latency (s)")
        ax.set_ylabel("objects (%)")
        ax.set_title(title)
        _legend_outside(fig, ax)
        return _svg(fig, scope)


def timeline(
    rows: Sequence[Sequence[float | None]], names: Sequence[str], title: str, scope: str
) -> str:
    """Per-object transitions (seconds after creation), objects sorted by their last one.

    ``rows[i][j]`` is object i's time of transition ``names[j]`` (None when not reached). Beyond
    400 objects evenly spaced rank positions are drawn, never one element per object.
    """
    with _figure() as fig:
        if not rows or not names:
            _empty(fig, title, "no objects")
            return _svg(fig, scope)
        data = np.array([[math.nan if v is None else v for v in r] for r in rows], dtype=float)
        with np.errstate(all="ignore"):
            final = np.where(np.isnan(data).all(axis=1), math.inf, np.nanmax(data, axis=1))
        incomplete = int(np.isnan(data).any(axis=1).sum())
        data = data[np.argsort(final, kind="stable")]
        n = len(data)
        idx = downsample_indices(n, MAX_RANKS, tail=0.0)
        ax = fig.add_subplot()
        marker = "o" if n <= 100 else None
        keep = set(headline_series({nm: data[:, j] for j, nm in enumerate(names)}))
        for j, name in enumerate(names):
            col = data[idx, j]
            if np.isnan(col).all() or name not in keep:
                continue
            ax.plot(idx + 1, col, lw=1.0, marker=marker, ms=2.5, label=name)
        ax.set_xlabel(
            f"object rank by final latency (n={n}"
            + (f", {incomplete} incomplete" if incomplete else "")
            + ")"
        )
        ax.set_ylabel("seconds after creation")
        ax.set_title(title)
        ax.set_xlim(0, n + 1)
        _legend_outside(fig, ax)
        return _svg(fig, scope)


Span = tuple[str, float, float]  # label, from, to (epoch seconds)
Mark = tuple[str, float]  # label, at (epoch seconds)
_PHASE_COLOURS = ("#1f77b4", "#ff7f0e", "#2ca02c", "#9467bd", "#8c564b")


def cumulative(times: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Points of the cumulative count; whole-second timestamps are spread over their second."""
    values = np.sort(times)
    if not len(values):
        return np.zeros(1), np.zeros(1)
    step = 1.0 if np.all(values == np.round(values)) else 1e-6
    uniq, counts = np.unique(values, return_counts=True)
    after = np.cumsum(counts)
    before = after - counts
    xs = np.column_stack([uniq, uniq + step]).ravel()
    ys = np.column_stack([before, after]).ravel().astype(float)
    return xs, ys


def rolling_rate(times: np.ndarray, grid: np.ndarray, window: float) -> np.ndarray:
    """Events per second over the ``window`` seconds before each grid point."""
    xs, ys = cumulative(times)
    rate: np.ndarray = (np.interp(grid, xs, ys) - np.interp(grid - window, xs, ys)) / window
    return rate


def creation_rate(
    created: Sequence[float],
    ready: Sequence[float],
    qps: float,
    title: str,
    scope: str,
    start: float | None = None,
    phases: Sequence[Span] = (),
    marks: Sequence[Mark] = (),
) -> str:
    """Objects created (and ready) per second over a rolling window against the requested qps.

    The x axis is seconds since ``start`` (the job's start; else the first create); ``phases``
    are shaded and ``marks`` (churn cycles) drawn as labelled vertical lines.
    """
    with _figure() as fig:
        made = np.asarray(created, dtype=float)
        if not len(made):
            _empty(fig, title, "no creation timestamps")
            return _svg(fig, scope)
        done = np.asarray(ready, dtype=float)
        t0 = float(start) if start is not None else math.floor(float(made.min()))
        ends = [float(made.max()) + 1, *[b for _, _, b in phases], *[t for _, t in marks]]
        if len(done):
            ends.append(float(done.max()) + 1)
        span = max(2.0, max(ends) - t0)
        window = max(2.0, span / 30)
        grid = np.linspace(0, span, min(MAX_POINTS, max(50, int(span * 4)))) + t0
        ax = fig.add_subplot()
        for i, (label, a, b) in enumerate(phases):
            ax.axvspan(
                a - t0, b - t0, color=_PHASE_COLOURS[i % len(_PHASE_COLOURS)], alpha=0.08, lw=0
            )
            ax.text(
                (a + b) / 2 - t0,
                1.0,
                label,
                transform=ax.get_xaxis_transform(),
                ha="center",
                va="bottom",
                fontsize=6,
                color="#555",
            )
        for label, at in marks:
            ax.axvline(at - t0, color="#777", lw=0.6, ls="--")
            ax.text(
                at - t0,
                0.98,
                label,
                transform=ax.get_xaxis_transform(),
                rotation=90,
                ha="right",
                va="top",
                fontsize=6,
                color="#555",
            )
        ax.plot(grid - t0, rolling_rate(made, grid, window), lw=1.2, label="created/s")
        if len(done):
            ax.plot(grid - t0, rolling_rate(done, grid, window), lw=1.0, ls="--", label="ready/s")
        if qps > 0:
            ax.axhline(qps, color="red", lw=1.0, ls=":", label=f"requested qps {qps:g}")
        ax.set_xlabel(f"seconds since job start (rate over a rolling {window:.3g} s window)")
        ax.set_ylabel("objects per second")
        ax.set_title(title, pad=12 if phases else 6)
        ax.set_xlim(0, span)
        ax.set_ylim(bottom=0)
        _legend_outside(fig, ax)
        return _svg(fig, scope)


def _label_text(labels: Mapping[str, Any]) -> str:
    text = ",".join(f"{k}={v}" for k, v in sorted(labels.items()))
    return text if len(text) <= 48 else text[:45] + "..."


def prometheus_series(docs: Sequence[Mapping[str, Any]], scope: str) -> list[tuple[str, str]]:
    """One SVG per metricName (at most 8 series each, the highest peaks): (metricName, svg)."""
    panels: dict[str, dict[str, list[tuple[float, float]]]] = {}
    for doc in docs:
        t = ts_of(doc.get("timestamp"))
        value = doc.get("value")
        if t is None or not isinstance(value, int | float) or isinstance(value, bool):
            continue
        labels = doc.get("labels") if isinstance(doc.get("labels"), dict) else {}
        series = panels.setdefault(str(doc.get("metricName", "?")), {})
        series.setdefault(_label_text(labels or {}), []).append((t / 1e9, float(value)))
    out = []
    for metric in sorted(panels)[:MAX_PANELS]:
        all_series = panels[metric]
        top = sorted(all_series, key=lambda k: -max(v for _, v in all_series[k]))[:MAX_SERIES]
        t0 = min(t for s in all_series.values() for t, _ in s)
        with _figure(6.4, 2.6) as fig:
            ax = fig.add_subplot()
            for label in top:
                pts = np.array(sorted(all_series[label]), dtype=float)
                idx = downsample_indices(len(pts), MAX_POINTS // 2, tail=0.0)
                ax.plot(pts[idx, 0] - t0, pts[idx, 1], lw=1.0, label=label or metric)
            hidden = len(all_series) - len(top)
            ax.set_title(
                metric + (f" (top {len(top)} of {len(all_series)} series)" if hidden else "")
            )
            ax.set_xlabel("seconds since job start")
            _legend_outside(fig, ax)
            out.append((metric, _svg(fig, f"{scope}-{metric}")))
    return out


MAX_SUMMARY_JOBS = 30


def summary_plot(
    jobs: Sequence[tuple[str, float | None, float | None, float | None, float | None, bool]],
    scope: str,
) -> str:
    """P99 (bar) and P50 (dot) of each job's headline latency, its SLO and baseline P99.

    ``jobs`` holds ``(label, p50, p99, slo_p99, baseline_p99, failed)``; failed jobs are red.
    """
    shown = [j for j in jobs if j[2] is not None][:MAX_SUMMARY_JOBS]
    height = min(4.5, 1.1 + 0.24 * max(1, len(shown)))
    with _figure(6.0, height) as fig:
        title = "headline latency per job"
        if not shown:
            _empty(fig, title, "no latency measured")
            return _svg(fig, scope)
        ax = fig.add_subplot()
        y = np.arange(len(shown))[::-1]
        p99 = np.array([j[2] for j in shown], dtype=float)
        failed = np.array([j[5] for j in shown], dtype=bool)
        for mask, colour, label in (
            (~failed, "#4c9a2a", "P99 (pass)"),
            (failed, "#c62828", "P99 (fail)"),
        ):
            if mask.any():
                ax.barh(y[mask], p99[mask], height=0.6, color=colour, label=label)
        p50 = [(yy, j[1]) for yy, j in zip(y, shown, strict=True) if j[1] is not None]
        if p50:
            ax.plot(
                [v for _, v in p50], [yy for yy, _ in p50], "o", color="#222", ms=3, label="P50"
            )
        slo = [(yy, j[3]) for yy, j in zip(y, shown, strict=True) if j[3] is not None]
        if slo:
            ax.plot(
                [v for _, v in slo],
                [yy for yy, _ in slo],
                "|",
                color="#000",
                ms=14,
                mew=2,
                label="SLO (P99)",
            )
        base = [(yy, j[4]) for yy, j in zip(y, shown, strict=True) if j[4] is not None]
        if base:
            ax.plot(
                [v for _, v in base],
                [yy for yy, _ in base],
                "D",
                mfc="none",
                color="#1565c0",
                ms=5,
                label="baseline P99",
            )
        ax.set_yticks(y, [j[0] for j in shown])
        ax.set_xlabel("seconds")
        measured = sum(1 for j in jobs if j[2] is not None)
        more = f" (first {len(shown)} of {measured})" if measured > len(shown) else ""
        ax.set_title(title + more)
        values = [v for j in shown for v in (j[2], j[3], j[4]) if v is not None and v > 0]
        if values and max(values) / max(min(values), 1e-9) > 200:
            ax.set_xscale("log")
        ax.grid(axis="y", visible=False)
        _legend_outside(fig, ax, below=True)
        return _svg(fig, scope)


def overlay_cdf(
    current: Mapping[str, Sequence[float]],
    baseline: Mapping[str, Sequence[float]],
    title: str,
    scope: str,
) -> str:
    """Baseline (dashed) against current (solid) latency CDFs, same colour per transition."""
    names = [k for k in current if len(current[k]) and len(baseline.get(k, ()))]
    names = headline_series({k: current[k] for k in names}, MAX_SERIES // 2)
    with _figure() as fig:
        if not names:
            _empty(fig, title, "no samples in both runs")
            return _svg(fig, scope)
        ax = fig.add_subplot()
        colours = matplotlib.rcParams["axes.prop_cycle"].by_key()["color"]
        for i, name in enumerate(names):
            colour = colours[i % len(colours)]
            for run, values, style in (
                ("current", current[name], "-"),
                ("baseline", baseline[name], "--"),
            ):
                data = np.sort(np.asarray(values, dtype=float))
                idx = downsample_indices(len(data))
                ax.plot(
                    data[idx],
                    (idx + 1) * 100.0 / len(data),
                    ls=style,
                    lw=1.2,
                    color=colour,
                    label=f"{name} {run} (n={len(data)})",
                    drawstyle="steps-post",
                )
        for p in (50, 95, 99):
            ax.axhline(p, color="grey", lw=0.5, ls=":")
        ax.set_ylim(0, 100.5)
        ax.set_xlabel("latency (s)")
        ax.set_ylabel("objects (%)")
        ax.set_title(title)
        _legend_outside(fig, ax)
        return _svg(fig, scope)
