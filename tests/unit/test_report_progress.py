"""The live progress line: bar, percentage, phases, wording without readiness, steady rate."""

from __future__ import annotations

from pytest_kubevirt_burner.jobs.progress import (
    PhaseTicker,
    ProgressTicker,
    SteadyRate,
    operations_phase,
    pause,
)
from pytest_kubevirt_burner.report.liveprogress import (
    Progress,
    bar,
    counts_text,
    fraction_done,
    inferred_phase,
)


class Clock:
    def __init__(self) -> None:
        self.now = 100.0

    def __call__(self) -> float:
        return self.now


def test_bar_shows_fill_and_percentage() -> None:
    assert bar(0.0) == "[                    ]   0%"
    assert bar(0.5) == "[==========>         ]  50%"
    assert bar(1.0) == "[====================] 100%"
    assert bar(None).endswith("-")


def test_kinds_without_readiness_read_as_created_not_unready() -> None:
    text = counts_text({"ConfigMap": 5}, {}, {"ConfigMap": 5})
    assert text == "ConfigMap 5/5 created"
    assert "ready" not in text
    assert inferred_phase({"ConfigMap": 5}, {}, {"ConfigMap": 5}) == "done"
    assert fraction_done({"ConfigMap": 5}, {}, {"ConfigMap": 5}) == 1.0


def test_phases_are_inferred_from_counts() -> None:
    assert inferred_phase({"Pod": 3}, {"Pod": 1}, {"Pod": 10}) == "creating"
    assert inferred_phase({"Pod": 10}, {"Pod": 4}, {"Pod": 10}) == "waiting for readiness"
    vm = {"VirtualMachine": 10}
    assert inferred_phase(vm, {"VirtualMachine": 2}, vm) == "booting VMs"
    # readiness counts as much as creation for kinds that have it
    assert fraction_done({"Pod": 10}, {"Pod": 0}, {"Pod": 10}) == 0.5


def test_line_has_bar_percentage_phase_counts_and_eta_from_steady_rate() -> None:
    clock = Clock()
    p = Progress("job", None, clock=clock)
    p.update({"Pod": 10}, {"Pod": 0}, {"Pod": 100}, 0.0)
    assert "ETA -" in p.line()  # no steady rate yet: no ETA from the burst
    assert "- qps" in p.line()
    clock.now += 2
    p.update({"Pod": 50}, {"Pod": 40}, {"Pod": 100}, 20.0)
    line = p.line()
    assert line.startswith(
        "job [=========>          ]  45% creating | Pod 50/100 created, 40 ready"
    )
    assert "20.0 qps" in line
    # creation: 50 left at 20/s = 2.5 s; readiness: 60 left at 20/s = 3 s
    assert line.endswith("ETA 3.00s")


def test_phase_with_total_draws_its_own_bar_and_reopens_after_close() -> None:
    out: list[str] = []
    clock = Clock()
    p = Progress("job", out.append, clock=clock)
    p.update({"Pod": 4}, {"Pod": 4}, {"Pod": 4}, 0.0)
    p.close()
    p.phase("churn cycle 1 of 4", 0, 4)
    clock.now += 1
    p.phase("churn cycle 2 of 4", 2, 4)
    p.close()
    assert out[-1] == "\n"
    drawn = [o for o in out if "churn" in o]
    assert drawn[0].startswith("\r\x1b[K")  # a new line, without an empty one before it
    assert "[          " in drawn[0] and "0% churn cycle 1 of 4" in drawn[0]
    assert "50% churn cycle 2 of 4" in drawn[-1]


def test_steady_rate_ignores_the_burst() -> None:
    clock = Clock()
    rate = SteadyRate(clock)
    assert rate.add(20) == 0.0  # the burst: 20 at once
    for _ in range(8):
        clock.now += 0.25
        value = rate.add(20 + round((clock.now - 100.0) * 20))
    assert abs(value - 20.0) < 0.5


def test_ticker_feeds_steady_rate_and_closes() -> None:
    seen: list[tuple[dict[str, int], float]] = []
    closed: list[bool] = []

    class Sink:
        def update(
            self,
            created: dict[str, int],
            ready: dict[str, int],
            expected: dict[str, int],
            qps: float,
        ) -> None:
            seen.append((created, qps))

        def close(self) -> None:
            closed.append(True)

    with ProgressTicker(Sink(), lambda: ({"Pod": 3}, {}, {"Pod": 3}, 999.0), period=10):
        pass
    assert seen == [({"Pod": 3}, 0.0)]  # the sample's burst qps is never shown
    assert closed == [True]


def test_pause_shows_its_progress_and_day2_operations_count_vms() -> None:
    p = Progress("job", None)
    slept: list[float] = []
    assert pause(p, 1.0, lambda s: slept.append(s) is None)
    assert sum(slept) == 1.0 and len(slept) == 2
    assert "100% pausing 1s" in p.line()

    class Op:
        def __init__(self, done: bool) -> None:
            self.op, self.done_ns, self.error = "restart", 1 if done else None, None

    text, done, total = operations_phase([Op(True), Op(False), Op(True)], 4)
    assert (text, done, total) == ("day-2 restart: 2/4 VMs done", 2, 4)
    q = Progress("vms", None)
    with PhaseTicker(q, lambda: (text, done, total), period=10):
        pass
    assert "50% day-2 restart: 2/4 VMs done" in q.line()
