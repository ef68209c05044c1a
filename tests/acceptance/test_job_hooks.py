"""Hooks from markers, end to end on the simulator: a hook sees the cluster through the
KUBECONFIG it is given, a failing hook fails the test with its last output lines."""

from __future__ import annotations

from typing import Any

import pytest

from ..inner import write_templates
from .test_density import POD


def test_marker_hooks_see_the_cluster_and_fail_the_test(
    pytester: pytest.Pytester, run_burner: Any
) -> None:
    write_templates(pytester, pod=POD)
    pytester.makepyfile(
        test_hooked="""
        import pytest

        import sys

        SCRIPT = (
            "import os; from kubernetes import client, config;"
            "config.load_kube_config(os.environ['KUBECONFIG']);"
            "pods = client.CoreV1Api().list_pod_for_all_namespaces("
            "label_selector='kube-burner.io/job=' + os.environ['JOB_NAME']).items;"
            "open('pods-' + os.environ['JOB_NAME'] + '.txt', 'w').write(str(len(pods)))"
        )
        COUNT = [sys.executable, "-c", SCRIPT]

        @pytest.mark.density(template="templates/pod.yml", replicas=3, qps=50, burst=50,
                             hooks=[{"cmd": COUNT, "when": "beforeCleanup"}])
        def test_counted(burner):
            burner.run()

        @pytest.mark.density(template="templates/pod.yml", replicas=1,
                             hooks=[{"cmd": ["/bin/sh", "-c", "echo cannot reach it; exit 4"],
                                     "when": "afterJobExecution"}])
        def test_failing_hook(burner):
            burner.run()
        """
    )
    result = run_burner()
    result.assert_outcomes(passed=1, failed=1)
    assert (pytester.path / "pods-test-counted.txt").read_text().strip() == "3"
    result.stdout.fnmatch_lines(
        [
            "*test-failing-hook: hooks?0? (afterJobExecution) *exited with 4; last output: "
            "cannot reach it*"
        ]
    )
