"""Plots: valid, small, fast and deterministic SVG with 10,000 synthetic objects."""

from __future__ import annotations

import random
from collections.abc import Callable
from xml.etree import ElementTree

import pytest

from pytest_kubevirt_burner.report import plots

N = 10_000
NAMES = ["PodScheduled", "Initialized", "ContainersReady", "Ready"]
MAX_BYTES = 200_000


def _rows(n: int = N) -> list[list[float | None]]:
    rng = random.Random(5)
    rows: list[list[float | None]] = []
    for i in range(n):
        a = rng.uniform(0.05, 0.2)
        b = a + rng.uniform(0.1, 0.5)
        c = b + rng.lognormvariate(0, 0.4)
        rows.append([a, b, c, None if i % 997 == 0 else c + 0.05])
    return rows


def _samples(rows: list[list[float | None]]) -> dict[str, list[float]]:
    return {n: [v for r in rows if (v := r[j]) is not None] for j, n in enumerate(NAMES)}


def _prometheus() -> list[dict[str, object]]:
    rng = random.Random(9)
    return [
        {
            "timestamp": f"2026-01-01T00:{m:02d}:{s:02d}Z",
            "labels": {"instance": f"node-{k}"},
            "value": rng.random() * k,
            "metricName": f"cpu-{k % 2}",
            "jobName": "j",
        }
        for k in range(12)
        for m in range(30)
        for s in range(0, 60, 2)
    ]


ROWS = _rows()
PLOTS: dict[str, Callable[[], str]] = {
    "cdf": lambda: plots.latency_cdf(_samples(ROWS), "podLatency", "t-cdf"),
    "timeline": lambda: plots.timeline(ROWS, NAMES, "podLatency timeline", "t-tl"),
    "rate": lambda: plots.creation_rate(
        [1000 + i / 25 for i in range(N)], [1003 + i / 25 for i in range(N)], 25, "rate", "t-r"
    ),
    "prometheus": lambda: plots.prometheus_series(_prometheus(), "t-prom")[0][1],
}


@pytest.fixture(scope="module", autouse=True)
def _warm() -> None:
    plots.latency_cdf({"x": [1.0]}, "warm-up", "w")  # font cache, imports


@pytest.mark.parametrize("name", sorted(PLOTS))
def test_plot_is_valid_small_svg(name: str) -> None:
    svg = PLOTS[name]()  # render time is measured in benchmarks, not asserted here
    root = ElementTree.fromstring(svg)
    assert root.tag.endswith("svg")
    assert len(svg.encode()) < MAX_BYTES, len(svg)
    assert "<metadata" not in svg and "<?xml" not in svg and "DOCTYPE" not in svg
    assert 'class="kb-plot"' in svg


@pytest.mark.parametrize("name", sorted(PLOTS))
def test_plot_is_deterministic(name: str) -> None:
    assert PLOTS[name]() == PLOTS[name]()


def test_timeline_draws_ranks_not_objects() -> None:
    svg = plots.timeline(ROWS, NAMES, "t", "t-tl2")
    assert svg.count("<path") < 200  # one path per transition plus axes, never per object
    assert "incomplete" in svg  # objects that never became Ready are counted


def test_ids_are_scoped_per_plot() -> None:
    a = plots.timeline(ROWS[:50], NAMES, "t", "job-a")
    b = plots.timeline(ROWS[:50], NAMES, "t", "job-b")
    ids_a = set(plots._ID.findall(a))
    ids_b = set(plots._ID.findall(b))
    assert ids_a and not ids_a & ids_b
    assert all(i.startswith("job-a-") for i in ids_a)


def test_empty_inputs_still_render() -> None:
    for svg in (
        plots.latency_cdf({}, "none", "e1"),
        plots.timeline([], NAMES, "none", "e2"),
        plots.creation_rate([], [], 5, "none", "e3"),
    ):
        ElementTree.fromstring(svg)
    assert plots.prometheus_series([], "e4") == []


def test_prometheus_panels_keep_at_most_eight_series() -> None:
    docs = [
        {
            "timestamp": f"2026-01-01T00:00:{s:02d}Z",
            "labels": {"pod": f"p{k}"},
            "value": float(k),
            "metricName": "m",
        }
        for k in range(20)
        for s in range(10)
    ]
    [(metric, svg)] = plots.prometheus_series(docs, "p")
    assert metric == "m"
    assert "top 8 of 20 series" in svg
    assert "pod=p19" in svg and "pod=p0<" not in svg


def test_downsample_keeps_the_tail() -> None:
    idx = plots.downsample_indices(10_000)
    assert len(idx) <= plots.MAX_POINTS
    assert idx[0] == 0 and idx[-1] == 9_999
    assert sum(1 for i in idx if i >= 9_500) >= 50
