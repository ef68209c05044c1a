"""Creates the server refuses for good fail the job right after its create phase."""

from __future__ import annotations

import pytest

from ..inner import write_templates

FIXED = """\
apiVersion: v1
kind: Pod
metadata:
  name: always-the-same
spec:
  containers:
  - name: c
    image: registry.k8s.io/pause:3.9
"""


def test_refused_creates_fail_the_job_without_waiting(
    pytester: pytest.Pytester, run_burner: object
) -> None:
    write_templates(pytester, fixed=FIXED)
    pytester.makepyfile(
        test_refused="""
        import pytest

        @pytest.mark.density(template="templates/fixed.yml", replicas=3, qps=50, burst=10,
                             max_wait_timeout="20m", cleanup=True)
        def test_pods(burner):
            burner.run()
        """
    )
    result = run_burner("--burner-uuid", "acc-refused-1")  # type: ignore[operator]
    result.assert_outcomes(failed=1)
    out = result.stdout.str()
    assert "2 creates refused by the server (Pod: 2): 2x 409 AlreadyExists" in out
    assert 'pods \\"always-the-same\\" already exists' in out or "already exists" in out
    assert "not ready after max_wait_timeout" not in out
