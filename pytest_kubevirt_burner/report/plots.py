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
from typing import Any

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


def _svg(fig: Figure, scope: str) -> str:
    buf = io.StringIO()
    with matplotlib.rc_context(_RC):
        fig.savefig(buf, format="svg", metadata=_METADATA)
    text = buf.getvalue()
    for pattern in _STRIP:
        text = pattern.sub("", text)
    return scope_ids(text, scope)


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
        ax.legend(loc="lower right", ncols=2 if len(series) > 6 else 1)
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
        for j, name in enumerate(names):
            col = data[idx, j]
            if np.isnan(col).all():
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
        ax.legend(loc="upper left", ncols=2 if len(names) > 6 else 1)
        return _svg(fig, scope)


def _rate(times: np.ndarray, t0: float, width: float, bins: int) -> np.ndarray:
    counts, _ = np.histogram(times - t0, bins=bins, range=(0, bins * width))
    return counts / width


def creation_rate(
    created: Sequence[float],
    ready: Sequence[float],
    qps: float,
    title: str,
    scope: str,
) -> str:
    """Objects created (and ready) per second in 1 s bins against the requested qps."""
    with _figure() as fig:
        made = np.asarray(created, dtype=float)
        if not len(made):
            _empty(fig, title, "no creation timestamps")
            return _svg(fig, scope)
        done = np.asarray(ready, dtype=float)
        t0 = math.floor(float(made.min()))
        end = max(float(made.max()), float(done.max()) if len(done) else 0.0) + 1
        span = max(1, math.ceil(end - t0))
        width = max(1, math.ceil(span / MAX_POINTS))  # wider bins only for very long jobs
        bins = math.ceil(span / width)
        x = np.arange(bins) * width
        ax = fig.add_subplot()
        ax.step(x, _rate(made, t0, width, bins), where="post", lw=1.2, label="created/s")
        if len(done):
            ax.step(x, _rate(done, t0, width, bins), where="post", lw=1.0, ls="--", label="ready/s")
        if qps > 0:
            ax.axhline(qps, color="red", lw=1.0, ls=":", label=f"requested qps {qps:g}")
        unit = "1 s" if width == 1 else f"{width} s"
        ax.set_xlabel(f"seconds since first create ({unit} bins)")
        ax.set_ylabel("objects per second")
        ax.set_title(title)
        ax.set_ylim(bottom=0)
        ax.legend(loc="upper right")
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
            ax.legend(loc="upper left", fontsize=6)
            out.append((metric, _svg(fig, f"{scope}-{metric}")))
    return out
