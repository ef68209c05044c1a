"""A second run refuses a metrics directory a live run holds, at once and in one line."""

from __future__ import annotations

import json
import os
import socket
from pathlib import Path
from typing import Any

import pytest

from .inner import POD, write_templates


def test_a_live_run_holding_the_directory_makes_a_second_run_refuse(
    pytester: pytest.Pytester, run_burner: Any, tmp_path: Path
) -> None:
    write_templates(pytester, pod=POD)
    pytester.makepyfile(
        test_busy="""
        import pytest

        @pytest.mark.density(template="templates/pod.yml", replicas=1)
        def test_pods(burner):
            burner.run()
        """
    )
    metrics = tmp_path / "metrics"
    metrics.mkdir()
    (metrics / "jobSummary.json").write_text("[]\\n")
    holder = {"uuid": "the-other-run", "pid": os.getppid(), "host": socket.gethostname()}
    (metrics / ".kubevirt-burner.lock").write_text(json.dumps(holder))
    result = run_burner("--metrics-directory", str(metrics), "--burner-uuid", "second-run")
    assert result.ret == pytest.ExitCode.USAGE_ERROR
    result.stderr.fnmatch_lines(
        [f"ERROR: --metrics-directory {metrics} is in use by run the-other-run (pid *"]
    )
    assert (metrics / "jobSummary.json").read_text() == "[]\\n"  # the other run's file is intact


def test_a_stale_lock_is_taken_over_and_released(
    pytester: pytest.Pytester, run_burner: Any, tmp_path: Path
) -> None:
    write_templates(pytester, pod=POD)
    pytester.makepyfile(
        test_stale="""
        import pytest

        @pytest.mark.density(template="templates/pod.yml", replicas=1, cleanup=True)
        def test_pods(burner):
            burner.run()
        """
    )
    metrics = tmp_path / "metrics"
    metrics.mkdir()
    gone = {"uuid": "crashed-run", "pid": 2**22 + 12345, "host": socket.gethostname()}
    (metrics / ".kubevirt-burner.lock").write_text(json.dumps(gone))
    result = run_burner("--metrics-directory", str(metrics), "--burner-uuid", "after-crash")
    result.assert_outcomes(passed=1)
    assert not (metrics / ".kubevirt-burner.lock").exists()
