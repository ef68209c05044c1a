"""repeatEveryNIterations end to end: kube-burner's cluster-scoped-sharing example runs unchanged
(its verification counts 2 PersistentVolumes for 4 iterations), and the marker keyword creates
an object only in iterations 0, n, 2n, ..."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from pytest_kubevirt_burner.measurements.writer import read_json_array
from pytest_kubevirt_burner.sim.process import SimProcess

from ..inner import run_inner, write_templates

EXAMPLES = Path(__file__).resolve().parents[1] / "data" / "kube-burner-examples"

POD = """\
apiVersion: v1
kind: Pod
metadata:
  name: p-{{.Iteration}}
spec:
  containers:
  - name: c
    image: registry.k8s.io/pause:3.9
"""
CM = """\
apiVersion: v1
kind: ConfigMap
metadata:
  name: shared-{{.Iteration}}
data: {a: b}
"""


def test_cluster_scoped_sharing_example(
    pytester: pytest.Pytester, sim: SimProcess, tmp_path: Path
) -> None:
    metrics = tmp_path / "m"
    config = EXAMPLES / "cluster-scoped-sharing" / "cluster-scoped-sharing.yml"
    result = run_inner(pytester, sim, metrics, "--kube-burner-config", str(config))
    result.assert_outcomes(passed=1)
    [summary] = read_json_array(metrics / "jobSummary.json")
    assert summary["jobName"] == "cluster-scoped-sharing" and summary["passed"] is True


def test_marker_repeat_every_n_iterations(pytester: pytest.Pytester, run_burner: Any) -> None:
    write_templates(pytester, pod=POD, cm=CM)
    pytester.makepyfile(
        test_repeat="""
        import pytest

        @pytest.mark.density(
            objects=[{"template": "templates/cm.yml", "repeat_every_n_iterations": 3},
                     {"template": "templates/pod.yml"}],
            iterations=7, qps=50, burst=50, namespaced_iterations=False, cleanup=False)
        def test_shared(burner, kube_client):
            result = burner.run()
            assert result.created == {"ConfigMap": 3, "Pod": 7}
            assert result.verified
            names = sorted(c["metadata"]["name"] for c in kube_client.list(
                "v1", "ConfigMap", label_selector="kube-burner.io/job=test-shared"))
            assert names == ["shared-0", "shared-3", "shared-6"]
        """
    )
    run_burner().assert_outcomes(passed=1)
    pytester.makepyfile(
        test_repeat="""
        import pytest

        @pytest.mark.density(
            objects=[{"template": "templates/cm.yml", "repeat_every_n_iterations": 2},
                     {"template": "templates/pod.yml", "repeat_every_n_iterations": 3}])
        def test_inconsistent(burner):
            pass
        """
    )
    result = run_burner()
    assert result.ret != 0
    result.stderr.fnmatch_lines(
        [
            "*test_inconsistent: @pytest.mark.density: inconsistent 'repeat_every_n_iterations' "
            "values 2 and 3: all objects must use 1 or the same value"
        ]
    )
