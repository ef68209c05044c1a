"""A second run refuses a metrics directory a live run holds, at once and in one line."""

from __future__ import annotations

import json
import os
import socket
import time
from pathlib import Path
from typing import Any

import pytest

from ..inner import POD, write_templates


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


def test_a_live_run_of_the_same_job_on_the_cluster_makes_a_second_run_refuse(
    pytester: pytest.Pytester, run_burner: Any, core: Any, tmp_path: Path
) -> None:
    write_templates(pytester, pod=POD)
    pytester.makepyfile(
        test_twice="""
        import pytest

        @pytest.mark.density(template="templates/pod.yml", replicas=2, cleanup=True)
        def test_twice(burner):
            burner.run()
        """
    )
    # what a live run of the same job (another machine, another uuid) leaves on the cluster
    core.create_namespace(
        {
            "metadata": {
                "name": "test-twice-0",
                "labels": {"kube-burner.io/job": "test-twice", "kube-burner.io/uuid": "live-1"},
                "annotations": {"kubevirt-burner.io/live-run": f"live-1 {time.time():.0f}"},
            }
        }
    )
    core.create_namespaced_config_map("test-twice-0", {"metadata": {"name": "theirs"}})
    result = run_burner("--metrics-directory", str(tmp_path / "m"), "--burner-uuid", "second")
    result.assert_outcomes(failed=1)
    result.stdout.fnmatch_lines(
        [
            "*test-twice: run live-1 is running this job on the cluster now (lease on namespace "
            "test-twice-0, renewed *s ago); refusing to start a second run*"
        ]
    )
    # nothing of the live run was deleted and nothing was created
    assert core.read_namespaced_config_map("theirs", "test-twice-0").metadata.name == "theirs"
    pods = core.list_pod_for_all_namespaces(label_selector="kube-burner.io/uuid=second").items
    assert pods == []
