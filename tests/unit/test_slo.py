"""SLO parsing (exact messages), evaluation lines, strictly-greater rule, report mode."""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any

import pytest

from pytest_kubevirt_burner.jobspec import JobSpecError
from pytest_kubevirt_burner.measurements.slo import (
    Slo,
    SloError,
    build_slo,
    evaluate,
    format_seconds,
    slos_for_item,
    slos_from_thresholds,
)
from pytest_kubevirt_burner.results import Quantiles

W = "tests/test_x.py::test_vm: @pytest.mark.slo"


def q(
    name: str,
    n: int = 500,
    p50: float = 20.0,
    p95: float = 40.0,
    p99: float = 72.4,
    mx: float = 80.0,
    avg: float = 25.0,
    missing: int = 0,
    clock: str = "client",
) -> Quantiles:
    return Quantiles(
        name=name,
        n=n,
        p50=p50,
        p95=p95,
        p99=p99,
        min=1.0,
        max=mx,
        avg=avg,
        clock=clock,
        missing=missing,
    )


def by_clock(*qs: Quantiles) -> dict[str, dict[str, Quantiles]]:
    out: dict[str, dict[str, Quantiles]] = {"client": {}, "server": {}}
    for x in qs:
        out[x.clock][x.name] = x
    return out


def test_build_slo_parses_durations_and_numbers() -> None:
    slo = build_slo("vmiLatency.VMIRunning", {"p99": "1m", "p50": 30, "max": "1.5s"}, W)
    assert slo.key == "vmiLatency.VMIRunning" and slo.mode == "gate" and slo.clock is None
    assert dict(slo.thresholds) == {"p50": 30.0, "p99": 60.0, "max": 1.5}
    day2 = build_slo(
        "vmiLatency.restart.VMIRunning", {"avg": "500ms", "mode": "report", "clock": "server"}, W
    )
    assert day2.key == "vmiLatency.restart.VMIRunning" and day2.operation == "restart"
    assert (day2.mode, day2.clock, day2.thresholds) == ("report", "server", (("avg", 0.5),))


@pytest.mark.parametrize(
    ("target", "kwargs", "message"),
    [
        (
            "vmLatency.VMIRunning",
            {"p99": "1s"},
            f"{W}: unknown measurement 'vmLatency' (did you mean 'vmiLatency'?); valid: "
            "dataVolumeLatency, jobLatency, podLatency, pvcLatency, vmiLatency, vmimLatency",
        ),
        (
            "podLatency.Redy",
            {"p99": "1s"},
            f"{W}: unknown quantileName 'Redy' for podLatency (did you mean 'Ready'?); valid: "
            "PodScheduled, PodReadyToStartContainers, Initialized, ContainersReady, Ready",
        ),
        (
            "podLatency",
            {"p99": "1s"},
            f"{W}: target 'podLatency' must be '<measurement>.<quantileName>' or "
            "'<measurement>.<operation>.<quantileName>'",
        ),
        (
            "vmiLatency.reboot.VMIRunning",
            {"p99": "1s"},
            f"{W}: unknown operation 'reboot' in 'vmiLatency.reboot.VMIRunning'; valid: "
            "restart, start, stop",
        ),
        (
            "podLatency.Ready",
            {"p90": "1s"},
            f"{W}: unknown keyword 'p90' (did you mean 'p99'?); valid: p50, p95, p99, max, avg, "
            "mode, clock",
        ),
        ("podLatency.Ready", {}, f"{W}: give at least one threshold (p50, p95, p99, max, avg)"),
        (
            "podLatency.Ready",
            {"p99": "10 parsecs"},
            f"{W}: 'p99': invalid duration '10 parsecs': missing or unknown unit in "
            "'10 parsecs' (expected a Go duration such as '1h30m', '500ms', '2s' or a number of "
            "seconds)",
        ),
        ("podLatency.Ready", {"p99": "-1s"}, f"{W}: 'p99' must not be negative, got '-1s'"),
        (
            "podLatency.Ready",
            {"p99": 1, "mode": "warn"},
            f"{W}: 'mode' must be gate or report, got 'warn'",
        ),
        (
            "podLatency.Ready",
            {"p99": 1, "clock": "wall"},
            f"{W}: 'clock' must be client, server or None, got 'wall'",
        ),
        (42, {"p99": 1}, f"{W}: the target must be a string such as 'podLatency.Ready', got 42"),
    ],
)
def test_parse_errors_are_exact_one_liners(
    target: Any, kwargs: dict[str, Any], message: str
) -> None:
    with pytest.raises(SloError) as info:
        build_slo(target, kwargs, W)
    assert str(info.value) == message
    assert isinstance(info.value, JobSpecError) and "\n" not in message


@dataclass
class FakeMark:
    args: tuple[Any, ...]
    kwargs: dict[str, Any] = field(default_factory=dict)


@dataclass
class FakeItem:
    """Just what slos_for_item reads from a pytest.Item."""

    marks: list[FakeMark]
    nodeid: str = "tests/test_x.py::test_vm"

    def iter_markers(self, name: str) -> list[FakeMark]:
        return list(reversed(self.marks)) if name == "slo" else []


def test_slos_for_item_stacked_and_validated() -> None:
    item = FakeItem(
        [
            FakeMark(("podLatency.Ready",), {"p99": "5s"}),
            FakeMark(("vmiLatency.VMIRunning",), {"p50": "30s"}),
        ]
    )
    slos = slos_for_item(item)  # type: ignore[arg-type]
    assert [s.key for s in slos] == ["podLatency.Ready", "vmiLatency.VMIRunning"]
    bad = FakeItem([FakeMark(("podLatency.Ready", "extra"), {"p99": 1})])
    with pytest.raises(
        SloError,
        match=r"^tests/test_x.py::test_vm: @pytest.mark.slo: takes "
        r"exactly one positional target",
    ):
        slos_for_item(bad)  # type: ignore[arg-type]


def test_breach_line_and_strictly_greater_rule() -> None:
    slos = [build_slo("vmiLatency.VMIRunning", {"p99": "60s", "p50": "20s"}, W)]
    report = evaluate(slos, by_clock(q("vmiLatency.VMIRunning")))
    assert report.failed
    assert report.lines() == ["vmiLatency.VMIRunning P99 = 72.4s > 60s (n=500, client clock)"]
    p50 = next(v for v in report.verdicts if v.metric == "p50")
    assert not p50.breached and p50.line == (
        "vmiLatency.VMIRunning P50 = 20s <= 20s (n=500, client clock)"
    )  # equal is not a breach


def test_report_mode_records_without_failing() -> None:
    slos = [build_slo("podLatency.Ready", {"p95": "0.25s", "mode": "report"}, W)]
    report = evaluate(slos, by_clock(q("podLatency.Ready", p95=0.3125)))
    assert not report.failed and len(report.breaches) == 1
    assert report.lines("report") == [
        "podLatency.Ready P95 = 312.5ms > 250ms (n=500, client clock)"
    ]


def test_clock_selection_and_no_samples() -> None:
    slos = [
        build_slo("podLatency.Ready", {"p99": "2s", "clock": "server"}, W),
        build_slo("jobLatency.Complete", {"max": "1s"}, W),
    ]
    data = by_clock(q("podLatency.Ready", p99=1.0), q("podLatency.Ready", p99=3.0, clock="server"))
    report = evaluate(slos, data)
    assert report.lines() == [
        "podLatency.Ready P99 = 3s > 2s (n=500, server clock)",
        "jobLatency.Complete Max: no samples > 1s (n=0, client clock)",
    ]
    empty = evaluate(
        [slos[0]], by_clock(q("podLatency.Ready", n=0, p99=math.nan, missing=4, clock="server"))
    )
    assert empty.lines() == ["podLatency.Ready P99: no samples > 2s (n=0, missing=4, server clock)"]


def test_unreached_objects_count_as_infinite() -> None:
    slo = build_slo("vmiLatency.VMIRunning", {"p99": "60s", "p50": "60s", "max": "2m"}, W)
    # 95 reached + 5 never running: P99 rank 99 > 95 -> not reached; P50 rank 50 is reached
    report = evaluate([slo], by_clock(q("vmiLatency.VMIRunning", n=95, missing=5)))
    assert report.lines() == [
        "vmiLatency.VMIRunning P99 = not reached by 5 of 100 objects > 60s "
        "(n=95, missing=5, client clock)",
        "vmiLatency.VMIRunning Max = not reached by 5 of 100 objects > 120s "
        "(n=95, missing=5, client clock)",
    ]
    assert [v.metric for v in report.breaches] == ["p99", "max"]


def test_pvc_server_slo_falls_back_to_client_clock() -> None:
    slo = build_slo("pvcLatency.Bound", {"p99": "1s", "clock": "server"}, W)
    data = by_clock()
    data["server"]["pvcLatency.Bound"] = q("pvcLatency.Bound", p99=2.0, clock="client")
    assert evaluate([slo], data).lines() == ["pvcLatency.Bound P99 = 2s > 1s (n=500, client clock)"]


def test_kube_burner_thresholds_map_onto_slos() -> None:
    slos = slos_from_thresholds(
        "podLatency",
        [
            {"conditionType": "Ready", "metric": "P99", "threshold": "2s"},
            {"conditionType": "PodScheduled", "metric": "Avg", "threshold": "500ms"},
        ],
        "config.yml: jobs[0].measurements[0]",
    )
    assert slos == [
        Slo(
            "podLatency",
            "Ready",
            (("p99", 2.0),),
            where="config.yml: jobs[0].measurements[0]: thresholds[0]",
        ),
        Slo(
            "podLatency",
            "PodScheduled",
            (("avg", 0.5),),
            where="config.yml: jobs[0].measurements[0]: thresholds[1]",
        ),
    ]
    with pytest.raises(SloError) as info:
        slos_from_thresholds(
            "podLatency", [{"conditionType": "Ready", "metric": "Min", "threshold": "1s"}], "cfg"
        )
    assert (
        str(info.value)
        == "cfg: thresholds[0]: unknown metric 'Min'; valid: P99, P95, P50, Avg, Max"
    )
    with pytest.raises(SloError, match="unknown quantileName 'Readyy' for podLatency"):
        slos_from_thresholds(
            "podLatency", [{"conditionType": "Readyy", "metric": "P99", "threshold": "1s"}], "cfg"
        )


def test_format_seconds() -> None:
    assert [format_seconds(x) for x in (72.4, 60.0, 0.0, 0.25, 0.0001234, 1234.5)] == [
        "72.4s",
        "60s",
        "0s",
        "250ms",
        "0.123ms",
        "1234.5s",
    ]
