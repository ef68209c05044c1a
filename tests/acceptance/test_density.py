"""The density marker end to end: pytest files run against the simulator over real HTTP."""

from __future__ import annotations

from typing import Any

import pytest

from ..inner import write_templates

POD = """\
apiVersion: v1
kind: Pod
metadata:
  name: {{.JobName}}-{{.Replica}}
spec:
  containers:
  - name: c
    image: registry.k8s.io/pause:3.9
"""


@pytest.fixture
def pod_template(pytester: pytest.Pytester) -> None:
    write_templates(pytester, pod=POD)


def labelled_namespaces(core: Any, uuid: str) -> list[str]:
    items = core.list_namespace(label_selector=f"kube-burner.io/uuid={uuid}").items
    return [n.metadata.name for n in items]


def test_density_creates_waits_verifies_and_cleans_up(
    pytester: pytest.Pytester, run_burner: Any, core: Any, pod_template: None
) -> None:
    pytester.makepyfile(
        test_pods="""
        import pytest

        @pytest.mark.density(template="templates/pod.yml", replicas=4, iterations=3, qps=50,
                             burst=10, cleanup=True)
        def test_pods(burner, kube_client):
            result = burner.run()
            assert result.verified
            assert result.created == {"Pod": 12}
            assert result.ready == {"Pod": 12}
            assert result.found == {"Pod": 12}
            pods = kube_client.list("v1", "Pod", label_selector="kube-burner.io/job=test-pods")
            assert len(pods) == 12
            assert {p["metadata"]["namespace"] for p in pods} == {
                "test-pods-0", "test-pods-1", "test-pods-2"}
            labels = pods[0]["metadata"]["labels"]
            assert labels["kube-burner.io/uuid"] == "acc-uuid-1"
            assert {"kube-burner.io/runid", "kube-burner.io/job-iteration",
                    "kube-burner.io/replica", "kube-burner.io/index"} <= set(labels)
        """
    )
    result = run_burner("--burner-uuid", "acc-uuid-1")
    result.assert_outcomes(passed=1)
    result.stdout.fnmatch_lines(["*kubevirt-burner: cluster http://127.0.0.1:* nodes*"])
    # cleanup=True removed this run's namespaces at teardown
    assert labelled_namespaces(core, "acc-uuid-1") == []


def test_unknown_kwarg_is_one_line_and_creates_nothing(
    pytester: pytest.Pytester, run_burner: Any, core: Any, pod_template: None
) -> None:
    pytester.makepyfile(
        test_bad="""
        import pytest

        @pytest.mark.density(template="templates/pod.yml", replica=3)
        def test_pods(burner):
            burner.run()
        """
    )
    result = run_burner("--burner-uuid", "acc-bad-1")
    assert result.ret == pytest.ExitCode.USAGE_ERROR
    result.stderr.fnmatch_lines(
        [
            "ERROR: test_bad.py::test_pods: @pytest.mark.density: unknown keyword 'replica'; "
            "did you mean 'replicas'?"
        ]
    )
    assert "Traceback" not in result.stdout.str() + result.stderr.str()
    assert labelled_namespaces(core, "acc-bad-1") == []


def test_dry_run_renders_and_creates_nothing(
    pytester: pytest.Pytester, run_burner: Any, core: Any, pod_template: None
) -> None:
    pytester.makepyfile(
        test_dry="""
        import pytest

        @pytest.mark.density(template="templates/pod.yml", replicas=5, iterations=4)
        def test_pods(burner):
            result = burner.run()
            assert result.dry_run
            assert result.expected == {"Pod": 20}
            assert result.rendered == 4
        """
    )
    result = run_burner("--burner-uuid", "acc-dry-1", "--burner-dry-run")
    result.assert_outcomes(passed=1)
    assert labelled_namespaces(core, "acc-dry-1") == []


def test_scale_multiplies_iterations(
    pytester: pytest.Pytester, run_burner: Any, pod_template: None
) -> None:
    pytester.makepyfile(
        test_scale="""
        import pytest

        @pytest.mark.density(template="templates/pod.yml", replicas=2, iterations=10, qps=100,
                             burst=50)
        def test_pods(burner):
            result = burner.run()
            assert result.created == {"Pod": 4}
        """
    )
    run_burner("--burner-scale", "0.2").assert_outcomes(passed=1)
