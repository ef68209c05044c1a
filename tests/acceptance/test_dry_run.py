"""A dry run validates every job, passes the job tests without their asserts and writes nothing."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from ..inner import POD, write_templates


def test_dry_run_skips_the_body_and_keeps_an_earlier_summary(
    pytester: pytest.Pytester, run_burner: Any, tmp_path: Path
) -> None:
    write_templates(pytester, pod=POD)
    pytester.makepyfile(
        test_dry="""
        import pytest

        @pytest.mark.density(template="templates/pod.yml", replicas=5, iterations=4)
        def test_pods(burner):
            result = burner.run()
            assert result.created == {"Pod": 20}  # only a real run can satisfy this

        @pytest.mark.delete(kind="ConfigMap", label_selector={"app": "x"})
        def test_delete(burner):
            assert burner.run().operations
        """
    )
    metrics = tmp_path / "metrics"
    metrics.mkdir()
    (metrics / "summary.json").write_text('{"from": "a real run"}\n')
    result = run_burner("--burner-dry-run", "--metrics-directory", str(metrics))
    result.assert_outcomes(passed=2)
    assert (metrics / "summary.json").read_text() == '{"from": "a real run"}\n'
    assert not (metrics / "jobSummary.json").exists()
    result.stdout.fnmatch_lines(
        [
            "dry run: test-pods would create Pod: 20 (4 documents rendered and resolved)",
            "dry run: test-delete (delete job) validated; nothing is sent",
        ]
    )
