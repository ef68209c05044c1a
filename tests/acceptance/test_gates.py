"""Gates that cannot pass by accident: outcomes in summary.json, selection, kube-burner reports."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from pytest_kubevirt_burner.sim.process import SimProcess

from ..inner import POD, run_inner, write_templates

EXAMPLES = Path(__file__).resolve().parents[1] / "data" / "kube-burner-examples"


def test_a_deselected_broken_test_does_not_stop_the_run(
    pytester: pytest.Pytester, run_burner: Any, tmp_path: Path
) -> None:
    write_templates(pytester, pod=POD, broken="kind: Pod\nmetadata: {name: {{ .Nope }\n")
    pytester.makepyfile(
        test_sel="""
        import pytest

        @pytest.mark.density(template="templates/pod.yml", replicas=1, cleanup=True)
        def test_good(burner):
            burner.run()

        @pytest.mark.density(template="templates/broken.yml", replicas=1)
        def test_broken(burner):
            burner.run()
        """
    )
    result = run_burner("-k", "good", "--metrics-directory", str(tmp_path / "m"))
    result.assert_outcomes(passed=1, deselected=1)


def test_summary_records_a_failed_test_as_not_passed(
    pytester: pytest.Pytester, run_burner: Any, tmp_path: Path
) -> None:
    write_templates(pytester, pod=POD)
    pytester.makepyfile(
        test_own_assert="""
        import pytest

        @pytest.mark.density(template="templates/pod.yml", replicas=1, cleanup=True)
        def test_pods(burner):
            burner.run()
            assert False, "the user's own check"
        """
    )
    metrics = tmp_path / "m"
    run_burner("--metrics-directory", str(metrics)).assert_outcomes(failed=1)
    summary = json.loads((metrics / "summary.json").read_text())
    assert summary["passed"] is False
    assert [j["outcome"] for j in summary["jobs"]] == ["failed"]


def test_a_kube_burner_config_run_prints_the_table_and_writes_the_summary(
    pytester: pytest.Pytester, sim: SimProcess, tmp_path: Path
) -> None:
    metrics = tmp_path / "m"
    config = EXAMPLES / "kubelet-density" / "kubelet-density.yml"
    result = run_inner(
        pytester,
        sim,
        metrics,
        "--kube-burner-config",
        str(config),
        "--kube-burner-set",
        "jobs.0.jobIterations=2",
    )
    result.assert_outcomes(passed=1)
    result.stdout.fnmatch_lines(["*kubevirt-burner: 1 jobs*", "kubelet-density *create*pass"])
    summary = json.loads((metrics / "summary.json").read_text())
    assert [j["job"] for j in summary["jobs"]] == ["kubelet-density"]
    assert summary["passed"] is True
