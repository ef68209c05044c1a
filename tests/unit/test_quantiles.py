"""Nearest-rank percentiles, summaries, and quantile documents."""

from __future__ import annotations

import math

import pytest
from hypothesis import given
from hypothesis import strategies as st

from pytest_kubevirt_burner.measurements.quantiles import (
    nearest_rank,
    quantile_document,
    summarize,
    to_quantiles,
)


@pytest.mark.parametrize(
    ("values", "p", "expected"),
    [
        (list(range(1, 11)), 50, 5),  # ceil(10*0.5)=5 -> 5th
        (list(range(1, 11)), 95, 10),  # ceil(9.5)=10
        (list(range(1, 11)), 90, 9),  # ceil(9.0)=9 exactly, no float drift
        (list(range(1, 101)), 95, 95),
        (list(range(1, 101)), 99, 99),
        (list(range(1, 101)), 50, 50),
        (list(range(1, 21)), 95, 19),  # ceil(19.0)=19
        (list(range(1, 1001)), 99.9, 999),
        ([7], 50, 7),
        ([7], 99, 7),
        ([3, 9], 50, 3),
        ([3, 9], 51, 9),
        ([1, 2, 3], 0, 1),  # rank clamps to 1
        ([1, 2, 3], 100, 3),
    ],
)
def test_nearest_rank_known_lists(values: list[int], p: float, expected: int) -> None:
    assert nearest_rank(values, p) == expected


def test_nearest_rank_rejects_empty_and_out_of_range() -> None:
    with pytest.raises(ValueError, match="empty"):
        nearest_rank([], 50)
    with pytest.raises(ValueError, match=r"within \[0, 100\]"):
        nearest_rank([1], 101)


def test_summarize_exact_values_and_counts() -> None:
    values = [5_000, 1_000, 3_000, 2_000, 4_000]
    s = summarize(values, missing=2, invalid=1)
    assert (s.n, s.missing, s.invalid) == (5, 2, 1)
    assert (s.p50, s.p95, s.p99, s.min, s.max) == (3_000, 5_000, 5_000, 1_000, 5_000)
    assert s.avg == 3_000.0


def test_summarize_n0_and_n1() -> None:
    empty = summarize([], missing=3)
    assert empty.n == 0 and empty.missing == 3 and empty.p99 is None and empty.avg is None
    q = to_quantiles("podLatency.Ready", empty, "client")
    assert q.n == 0 and q.missing == 3 and math.isnan(q.p50) and math.isnan(q.avg)
    one = summarize([1_500_000_000])
    assert one.n == 1 and one.p50 == one.p99 == one.min == one.max == 1_500_000_000
    q1 = to_quantiles("podLatency.Ready", one, "server")
    assert q1.p99 == 1.5 and q1.clock == "server"


def test_quantile_document_units_per_clock() -> None:
    s = summarize([1_234_567_891, 2_000_000_000], missing=1, invalid=2)
    client = quantile_document(
        "Ready",
        s,
        "client",
        prefix="podLatency",
        uuid="u",
        job_name="j",
        metadata={"k": "v"},
        timestamp_ns=1_700_000_000_000_000_000,
    )
    assert client["P50"] == 1234.567 and client["P99"] == 2000.0  # ms, µs resolution
    assert client["metricName"] == "podLatencyQuantilesMeasurement"
    assert client["quantileName"] == "Ready" and client["uuid"] == "u"
    assert (client["n"], client["missing"], client["invalid"]) == (2, 1, 2)
    assert client["clock"] == "client" and client["timestamp"] == "2023-11-14T22:13:20Z"
    server = quantile_document(
        "Ready",
        summarize([3_000_000_000]),
        "server",
        prefix="podLatency",
        uuid="u",
        job_name="j",
        metadata={},
        timestamp_ns=0,
        other=s,
    )
    assert server["P99"] == 3000 and isinstance(server["P99"], int)
    assert server["clientQuantiles"]["P50"] == 1234.567
    empty = quantile_document(
        "Ready",
        summarize([]),
        "client",
        prefix="p",
        uuid="u",
        job_name="j",
        metadata={},
        timestamp_ns=0,
    )
    assert empty["P99"] is None and empty["n"] == 0


values_lists = st.lists(st.integers(min_value=-(10**12), max_value=10**12), min_size=1)
percent = st.integers(min_value=0, max_value=100)


@given(values_lists, percent, percent)
def test_nearest_rank_monotone_in_p(values: list[int], p1: int, p2: int) -> None:
    ordered = sorted(values)
    lo, hi = sorted((p1, p2))
    assert nearest_rank(ordered, lo) <= nearest_rank(ordered, hi)


@given(values_lists, percent)
def test_nearest_rank_is_the_sorted_element_of_its_rank(values: list[int], p: int) -> None:
    ordered = sorted(values)
    n = len(ordered)
    v = nearest_rank(ordered, p)
    assert v in ordered
    assert ordered[0] <= v <= ordered[-1]
    # the defining property: at least p% of samples are <= v and fewer than p% are < v
    assert sum(x <= v for x in ordered) * 100 >= n * p
    assert p == 0 or sum(x < v for x in ordered) * 100 < n * p


@given(values_lists)
def test_summary_percentiles_ordered(values: list[int]) -> None:
    s = summarize(values)
    assert s.min is not None and s.max is not None and s.avg is not None
    assert s.p50 is not None and s.p95 is not None and s.p99 is not None
    assert s.min <= s.p50 <= s.p95 <= s.p99 <= s.max
    assert s.min <= s.avg <= s.max
