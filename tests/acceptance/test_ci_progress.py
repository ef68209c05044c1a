"""Without a terminal (a CI log), a running job prints plain progress lines."""

from __future__ import annotations

from pathlib import Path

import pytest

from pytest_kubevirt_burner.sim.process import SimProcess

from ..inner import POD, write_templates


def _run(pytester: pytest.Pytester, sim: SimProcess, tmp: Path, *args: str) -> pytest.RunResult:
    return pytester.runpytest_subprocess(
        "-p",
        "no:cacheprovider",
        f"--rootdir={pytester.path}",
        "--kube-config",
        str(sim.kubeconfig),
        "--metrics-directory",
        str(tmp),
        *args,
    )


def test_progress_lines_without_a_terminal(
    pytester: pytest.Pytester, sim: SimProcess, tmp_path: Path
) -> None:
    write_templates(pytester, pod=POD)
    pytester.makepyfile(
        test_ci="""
        import pytest

        @pytest.mark.density(template="templates/pod.yml", replicas=3, cleanup=True)
        def test_pods(burner):
            burner.run()
        """
    )
    result = _run(pytester, sim, tmp_path / "a", "--burner-progress-interval", "1")
    result.assert_outcomes(passed=1)
    result.stdout.fnmatch_lines(
        ["kubevirt-burner: test-pods: Pod 3/3 created, 3 ready | * qps | * | ETA 0s"]
    )
    quiet = _run(pytester, sim, tmp_path / "b", "--burner-progress-interval", "0")
    quiet.assert_outcomes(passed=1)
    assert "kubevirt-burner: test-pods: Pod" not in quiet.stdout.str()
