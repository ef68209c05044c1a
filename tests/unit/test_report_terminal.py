"""The live progress line and the results table."""

from __future__ import annotations

import threading

from pytest_kubevirt_burner.report.model import JobView, QStats, slo_entries
from pytest_kubevirt_burner.report.terminal import Progress, results_table
from pytest_kubevirt_burner.results import JobResult, Quantiles, SloVerdict


def verdict(
    measurement: str, quantile: str, threshold: float, value: float, mode: str, line: str
) -> SloVerdict:
    """A P99 verdict as the job's SLO evaluation makes it."""
    return SloVerdict(
        measurement,
        quantile,
        "p99",
        threshold,
        value,
        value <= threshold,
        threshold - value,
        mode=mode,
        line=line,
    )


class Clock:
    def __init__(self) -> None:
        self.now = 100.0

    def __call__(self) -> float:
        return self.now


def test_progress_is_rate_limited_and_rewrites_in_place() -> None:
    out: list[str] = []
    clock = Clock()
    p = Progress("job", out.append, clock=clock)
    p.update({"Pod": 10}, {"Pod": 2}, {"Pod": 100}, 10.0)
    p.update({"Pod": 11}, {"Pod": 3}, {"Pod": 100}, 10.0)  # within 0.25 s: not drawn
    clock.now += 0.3
    p.update({"Pod": 20}, {"Pod": 10}, {"Pod": 100}, 10.0)
    assert len(out) == 2
    assert out[0].startswith("\n\r\x1b[K") and out[1].startswith("\r\x1b[K")
    assert "Pod 20/100 created, 10 ready" in out[1] and "10.0 qps" in out[1]
    assert "ETA" in out[1]
    p.close()
    p.close()
    assert out[-1] == "\n" and len(out) == 4


def test_quiet_progress_writes_nothing_but_keeps_the_text() -> None:
    p = Progress("job", None)
    p.update({"VirtualMachine": 1}, {}, {"VirtualMachine": 2}, 1.0)
    p.close()
    assert not p.enabled
    assert "VirtualMachine 1/2 created" in p.line()


def test_progress_is_thread_safe() -> None:
    out: list[str] = []
    p = Progress("job", out.append)

    def worker(i: int) -> None:
        for j in range(200):
            p.update({"Pod": i * 200 + j}, {}, {"Pod": 2000}, 5.0)

    threads = [threading.Thread(target=worker, args=(i,)) for i in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    p.close()
    assert 2 <= len(out) <= 10  # 1600 updates, a handful of redraws


def test_results_table_is_aligned_with_main_transition_and_verdicts() -> None:
    r = JobResult(
        job_name="vms",
        job_type="create",
        uuid="u",
        verified=True,
        slo_verdicts=[
            verdict(
                "vmiLatency",
                "VMIRunning",
                60.0,
                72.4,
                "gate",
                "vmiLatency.VMIRunning P99 = 72.4s > 60s (n=5, client clock)",
            )
        ],
    )
    q = Quantiles("vmiLatency.VMIRunning", 5, 30.0, 70.0, 72.4, 1.0, 72.4, 31.0)
    view = JobView(
        "t.py::test_vms",
        r,
        {
            "podLatency.Ready": QStats.from_quantiles("podLatency.Ready", q),
            "vmiLatency.VMIRunning": QStats.from_quantiles("vmiLatency.VMIRunning", q),
        },
        None,
        slo_entries(r),
    )
    lines = results_table([view])
    assert lines[0].split() == [
        "Job",
        "Type",
        "Transition",
        "N",
        "P50",
        "P95",
        "P99",
        "Verified",
        "SLO",
        "Result",
    ]
    assert lines[1].split() == [
        "vms",
        "create",
        "vmiLatency.VMIRunning",
        "5",
        "30.000",
        "70.000",
        "72.400",
        "yes",
        "FAIL",
        "(1)",
        "FAIL",
    ]
    assert lines[0].index("P99") + 3 == lines[1].index("72.400") + 6


def test_slo_entries_render_structured_verdicts_and_report_mode() -> None:
    r = JobResult(job_name="j", job_type="create", uuid="u")
    breach = "podLatency.Ready P99 = 2s > 1s (n=3, client clock)"
    r.slo_verdicts = [
        verdict("podLatency", "Ready", 1.0, 2.0, "gate", breach),
        verdict("podLatency", "Ready", 3.0, 2.0, "gate", "ok line"),
    ]
    assert [(e.key, e.verdict, e.line) for e in slo_entries(r)] == [
        ("podLatency.Ready", "fail", breach),
        ("podLatency.Ready", "pass", "ok line"),
    ]
    assert r.slo_breaches == [breach] and r.slo_lines == [breach]
    r.slo_verdicts[0] = verdict("podLatency", "Ready", 1.0, 2.0, "report", breach)
    assert slo_entries(r)[0].verdict == "warn"  # breached in report mode
    assert r.slo_breaches == [] and r.slo_lines == [breach]
    assert slo_entries(r)[0].detail == r.slo_verdicts[0]
    assert r.slo_verdicts[0].margin == -1.0
