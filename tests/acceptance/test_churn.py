"""Churn of density jobs: the configured share is deleted and re-created, counts verified."""

from __future__ import annotations

import time
from collections import defaultdict
from pathlib import Path
from typing import Any

import pytest
from kubernetes import client, config

from pytest_kubevirt_burner.measurements.writer import read_json_array
from pytest_kubevirt_burner.sim.process import SimProcess

from ..inner import POD, run_inner, write_templates

CM = """\
apiVersion: v1
kind: ConfigMap
metadata:
  name: cm-{{.Replica}}
data: {a: b}
"""


def _run(pytester: pytest.Pytester, sim: SimProcess, metrics: Path, body: str) -> Any:
    write_templates(pytester, pod=POD, cm=CM)
    pytester.makepyfile(test_suite=body)
    return run_inner(pytester, sim, metrics)


def _current_uids(sim: SimProcess, job: str) -> dict[tuple[str, str, str], str]:
    """(kind, namespace, name) -> uid of the job's objects, read with the official client."""
    api = config.new_client_from_config(config_file=str(sim.kubeconfig))
    try:
        core = client.CoreV1Api(api)
        sel = f"kube-burner.io/job={job}"
        out = {}
        for kind, items in (
            ("Pod", core.list_pod_for_all_namespaces(label_selector=sel).items),
            ("ConfigMap", core.list_config_map_for_all_namespaces(label_selector=sel).items),
        ):
            for obj in items:
                out[(kind, obj.metadata.namespace, obj.metadata.name)] = obj.metadata.uid
        return out
    finally:
        api.close()


def _first_uids(sim: SimProcess, keys: set[tuple[str, str, str]]) -> dict[Any, str]:
    """The uid each object had when it was first created (simulator ground truth)."""
    first: dict[Any, str] = {}
    for rec in sim.read_ground_truth():
        key = (rec["kind"], rec["namespace"], rec["name"])
        if rec["transition"] == "Created" and key in keys and key not in first:
            first[key] = rec["uid"]
    return first


def test_namespaces_mode_recreates_a_contiguous_share(
    pytester: pytest.Pytester, sim: SimProcess, tmp_path: Path
) -> None:
    metrics = tmp_path / "m"
    result = _run(
        pytester,
        sim,
        metrics,
        """
        import pytest

        @pytest.mark.density(objects=[{"template": "templates/pod.yml", "replicas": 2},
                                      {"template": "templates/cm.yml"}],
                             iterations=4, qps=100, burst=100, name="churn-ns", cleanup=False,
                             churn={"cycles": 1, "percent": 50, "delete_delay": "50ms"})
        def test_churn(burner):
            result = burner.run()
            assert result.churn_cycles == 1 and result.churn_objects == 6
            assert result.found == {"Pod": 8, "ConfigMap": 4}
            assert result.churn_started_at < result.churn_ended_at <= result.finished_at
        """,
    )
    result.assert_outcomes(passed=1)
    now = _current_uids(sim, "churn-ns")
    assert len(now) == 12
    first = _first_uids(sim, set(now))
    changed = {key for key, uid in now.items() if first[key] != uid}
    namespaces = sorted({ns for _, ns, _ in changed})
    assert len(changed) == 6 and len(namespaces) == 2
    index = sorted(int(ns.rsplit("-", 1)[1]) for ns in namespaces)
    assert index[1] == index[0] + 1  # a contiguous window
    assert {key for key in now if key[1] in namespaces} == changed  # whole namespaces
    docs = read_json_array(metrics / "podLatencyMeasurement-churn-ns.json")
    assert len(docs) == 12 and sum(d["churnMetric"] for d in docs) == 4
    summary = read_json_array(metrics / "jobSummary.json")[-1]
    assert summary["churnStartTimestamp"] < summary["churnEndTimestamp"]
    assert summary["churnCycles"] == 1 and summary["passed"] is True


def test_objects_mode_recreates_the_oldest_share_each_cycle(
    pytester: pytest.Pytester, sim: SimProcess, tmp_path: Path
) -> None:
    result = _run(
        pytester,
        sim,
        tmp_path / "m",
        """
        import pytest

        @pytest.mark.density(objects=[{"template": "templates/pod.yml", "replicas": 4},
                                      {"template": "templates/cm.yml", "churn": False}],
                             iterations=2, qps=100, burst=100, name="churn-obj", cleanup=False,
                             churn={"cycles": 2, "percent": 25, "mode": "objects"})
        def test_churn(burner):
            result = burner.run()
            assert result.churn_cycles == 2 and result.churn_objects == 4
            assert result.found == {"Pod": 8, "ConfigMap": 2}
        """,
    )
    result.assert_outcomes(passed=1)
    now = _current_uids(sim, "churn-obj")
    first = _first_uids(sim, set(now))
    changed = {key for key, uid in now.items() if first[key] != uid}
    assert len(changed) == 4 and {kind for kind, _, _ in changed} == {"Pod"}
    time.sleep(0.5)  # the simulator flushes its ground truth every 0.2 s
    recreated: defaultdict[tuple[str, str], int] = defaultdict(int)
    for rec in sim.read_ground_truth():
        if rec["transition"] == "Created" and (rec["kind"], rec["namespace"], rec["name"]) in now:
            recreated[(rec["namespace"], rec["name"])] += 1
    assert sorted(recreated.values()).count(2) == 4  # each churned pod once: the oldest first


def test_churn_for_a_duration_and_bad_keys(
    pytester: pytest.Pytester, sim: SimProcess, tmp_path: Path
) -> None:
    result = _run(
        pytester,
        sim,
        tmp_path / "m",
        """
        import pytest

        @pytest.mark.density(template="templates/cm.yml", iterations=3, qps=100, burst=100,
                             churn={"duration": "600ms", "percent": 34, "delay": "100ms"})
        def test_duration(burner):
            result = burner.run()
            assert result.churn_cycles >= 2
            assert result.churn_ended_at - result.churn_started_at < 5
        """,
    )
    result.assert_outcomes(passed=1)
    bad = _run(
        pytester,
        sim,
        tmp_path / "m2",
        """
        import pytest

        @pytest.mark.density(template="templates/cm.yml", churn={"cycle": 1, "percent": 10})
        def test_bad(burner):
            burner.run()
        """,
    )
    assert bad.ret == pytest.ExitCode.USAGE_ERROR
    bad.stderr.fnmatch_lines(["*unknown key 'churn.cycle'; did you mean 'cycles'?"])
