"""The CI-log progress lines: one per interval, with counts, qps, elapsed time and ETA."""

from __future__ import annotations

from pytest_kubevirt_burner.jobs.progress_lines import ProgressLines, progress_text


def test_one_line_per_interval_and_a_last_one() -> None:
    now = [0.0]
    lines: list[str] = []
    sink = ProgressLines("density", lines.append, 5.0, clock=lambda: now[0])
    for t, created in ((1.0, 5), (4.0, 10), (6.0, 20), (8.0, 30)):
        now[0] = t
        sink.update({"Pod": created}, {"Pod": created // 2}, {"Pod": 50}, 5.0)
    assert lines == [
        "kubevirt-burner: density: Pod 20/50 created, 10 ready | 5.0 qps | 6s | ETA 24s"
    ]
    now[0] = 9.0
    sink.close()
    sink.close()
    assert lines[-1].startswith("kubevirt-burner: density: Pod 30/50 created, 15 ready")
    assert len(lines) == 2


def test_text_when_done() -> None:
    text = progress_text("j", {"Pod": 2}, {"Pod": 2}, {"Pod": 2}, 1.0, 75.0)
    assert text == "j: Pod 2/2 created, 2 ready | 1.0 qps | 1m15s | ETA 0s"
