"""Latency measurements against the simulator's ground truth, SLO gating and crash safety."""

from __future__ import annotations

import json
import math
import signal
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from pytest_kubevirt_burner.measurements.writer import read_json_array
from pytest_kubevirt_burner.sim.process import SimProcess

from ..inner import POD, popen_pytest, simulator, write_templates
from ..inner import run_inner as _run

PROFILE = """\
name: known
seed: 11
default: {distribution: fixed, value: 0.02}
transitions:
  Pod.PodScheduled: {distribution: uniform, low: 0.05, high: 0.15}
  Pod.Initialized: {distribution: fixed, value: 0.1}
  Pod.ContainersReady: {distribution: lognormal, median: 0.3, sigma: 0.5, max: 1.5}
  Pod.Ready: {distribution: fixed, value: 0.05}
"""


@pytest.fixture(scope="module")
def known_sim(tmp_path_factory: pytest.TempPathFactory) -> Iterator[SimProcess]:
    """A simulator whose pod transitions follow known distributions."""
    base = tmp_path_factory.mktemp("known")
    profile = base / "known.yaml"
    profile.write_text(PROFILE)
    yield from simulator(nodes=4, profile=str(profile))


def _write_suite(pytester: pytest.Pytester, body: str) -> None:
    write_templates(pytester, pod=POD)
    pytester.makepyfile(test_suite=body)


def pod_truth(sim: SimProcess, expect: int) -> dict[tuple[str, str], dict[str, float]]:
    """Ground truth per pod, once the simulator has flushed every pod's Ready record."""
    deadline = time.monotonic() + 10
    while True:
        truth: dict[tuple[str, str], dict[str, float]] = {}
        for rec in sim.read_ground_truth():
            if rec["kind"] == "Pod":
                key = (rec["namespace"], rec["name"])
                truth.setdefault(key, {})[rec["transition"]] = rec["time"]
        ready = sum(1 for t in truth.values() if "Ready" in t and "Created" in t)
        if ready >= expect or time.monotonic() > deadline:
            return truth
        time.sleep(0.1)  # the simulator flushes its ground truth every 0.2 s


def nearest_rank(values: list[float], p: float) -> float:
    ordered = sorted(values)
    return ordered[max(0, math.ceil(len(ordered) * p / 100) - 1)]


def test_latencies_match_ground_truth(
    pytester: pytest.Pytester, known_sim: SimProcess, tmp_path: Path
) -> None:
    _write_suite(
        pytester,
        """
        import pytest

        @pytest.mark.density(template="templates/pod.yml", replicas=20, iterations=4, qps=40,
                             burst=20, cleanup=False, name="accuracy")
        def test_pods(burner):
            assert burner.run().verified
        """,
    )
    metrics = tmp_path / "metrics"
    _run(pytester, known_sim, metrics).assert_outcomes(passed=1)
    truth = pod_truth(known_sim, expect=80)
    docs = read_json_array(metrics / "podLatencyMeasurement-accuracy.json")
    assert len(docs) == 80
    client_err, true_ready, server_err = [], [], []
    for doc in docs:
        t = truth[(doc["namespace"], doc["podName"])]
        true_latency = t["Ready"] - t["Created"]
        true_ready.append(true_latency)
        client_err.append(abs(doc["podReadyLatency"] / 1000 - true_latency))
        server_err.append(abs(doc["serverLatencies"]["podReadyLatency"] / 1000 - true_latency))
    assert max(client_err) < 0.050, f"client clock off by up to {max(client_err):.4f}s"
    assert max(server_err) <= 1.0 + 1e-6  # second-precision timestamps
    quantiles = {
        d["quantileName"]: d
        for d in read_json_array(metrics / "podLatencyQuantilesMeasurement-accuracy.json")
    }
    ready = quantiles["Ready"]
    assert ready["n"] == 80 and ready["clock"] == "client"
    for p in (50, 99):
        want = nearest_rank(true_ready, p)
        assert abs(ready[f"P{p}"] / 1000 - want) <= 0.01 * want + 0.020
    summary = read_json_array(metrics / "jobSummary.json")
    assert summary[-1]["jobName"] == "accuracy" and summary[-1]["passed"] is True


def test_slo_that_holds_passes_and_broken_one_fails(
    pytester: pytest.Pytester, known_sim: SimProcess, tmp_path: Path
) -> None:
    _write_suite(
        pytester,
        """
        import pytest

        @pytest.mark.density(template="templates/pod.yml", replicas=10, qps=50, burst=10)
        @pytest.mark.slo("podLatency.Ready", p99="30s", p50="20s")
        def test_holds(burner):
            result = burner.run()
            assert result.latency("podLatency.Ready").n == 10
            assert 0 < result.latency("podLatency.Ready").p50 < 20

        @pytest.mark.density(template="templates/pod.yml", replicas=10, qps=50, burst=10)
        @pytest.mark.slo("podLatency.Ready", p50="1ms")
        def test_broken(burner):
            burner.run()

        @pytest.mark.density(template="templates/pod.yml", replicas=10, qps=50, burst=10)
        @pytest.mark.slo("podLatency.Ready", p50="1ms", mode="report")
        def test_report_only(burner):
            result = burner.run()
            assert any("P50" in line for line in result.slo_lines)
        """,
    )
    result = _run(pytester, known_sim, tmp_path / "m")
    result.assert_outcomes(passed=2, failed=1)
    result.stdout.fnmatch_lines(
        ["*_ test_broken _*", "podLatency.Ready P50 = *s > 1ms (n=10, client clock)"]
    )


def test_unknown_slo_target_is_a_collection_error(
    pytester: pytest.Pytester, known_sim: SimProcess, tmp_path: Path
) -> None:
    _write_suite(
        pytester,
        """
        import pytest

        @pytest.mark.density(template="templates/pod.yml")
        @pytest.mark.slo("podLatency.Redy", p99="1s")
        def test_x(burner):
            burner.run()
        """,
    )
    result = _run(pytester, known_sim, tmp_path / "m")
    assert result.ret == pytest.ExitCode.USAGE_ERROR
    result.stderr.fnmatch_lines(["*unknown quantileName 'Redy' for podLatency*valid:*Ready*"])


def test_sigint_mid_job_keeps_every_finished_object(tmp_path: Path) -> None:
    """Ctrl-C during waiting: documents of finished objects and an interrupted jobSummary."""
    slow = tmp_path / "slow.yaml"
    slow.write_text(
        "seed: 3\ndefault: {distribution: fixed, value: 0.02}\ntransitions:\n"
        "  Pod.ContainersReady: {distribution: uniform, low: 0.1, high: 30}\n"
    )
    suite = tmp_path / "suite"
    (suite / "templates").mkdir(parents=True)
    (suite / "templates" / "pod.yml").write_text(POD)
    (suite / "test_slow.py").write_text(
        "import pytest\n\n"
        "@pytest.mark.density(template='templates/pod.yml', replicas=40, qps=100, burst=40,\n"
        "                     name='slow', cleanup=False)\n"
        "def test_slow(burner):\n    burner.run()\n"
    )
    metrics = tmp_path / "metrics"
    with (
        SimProcess(nodes=3, profile=str(slow)) as sim,
        popen_pytest(
            suite, "--kube-config", str(sim.kubeconfig), "--metrics-directory", str(metrics)
        ) as proc,
    ):
        docs_file = metrics / "podLatencyMeasurement-slow.json"
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:  # wait until some pods are Ready
            if docs_file.exists() and len(read_json_array(docs_file)) >= 5:
                break
            time.sleep(0.2)
        proc.send_signal(signal.SIGINT)
        out, _ = proc.communicate(timeout=120)
    assert proc.returncode == pytest.ExitCode.INTERRUPTED, out.decode()
    docs = read_json_array(docs_file)
    done = [d for d in docs if not d["missing"]]
    assert 5 <= len(done) < 40
    assert all(d["podReadyLatency"] > 0 for d in done)
    summary = read_json_array(metrics / "jobSummary.json")
    assert summary[-1]["interrupted"] is True and summary[-1]["passed"] is False
    quantiles = json.loads((metrics / "podLatencyQuantilesMeasurement-slow.json").read_text())
    ready = next(q for q in quantiles if q["quantileName"] == "Ready")
    assert ready["n"] == len(done) and ready["missing"] == 40 - len(done)


def test_latency_recorder_measures_objects_made_by_any_code(
    pytester: pytest.Pytester, known_sim: SimProcess, tmp_path: Path
) -> None:
    """The fixture records a measurement around arbitrary code, ignoring older objects."""
    _write_suite(
        pytester,
        """
        POD = {"apiVersion": "v1", "kind": "Pod",
               "metadata": {"name": "", "labels": {"app": "recorded"}},
               "spec": {"containers": [{"name": "c", "image": "registry.k8s.io/pause:3.9"}]}}

        def make(kube_client, name):
            kube_client.create({**POD, "metadata": {**POD["metadata"], "name": name}},
                               namespace="default")

        def test_record(kube_client, latency_recorder):
            make(kube_client, "before")  # exists before the block: not measured
            with latency_recorder("podLatency", label_selector="app=recorded",
                                  name="recorded") as rec:
                for i in range(5):
                    make(kube_client, f"inside-{i}")
                assert rec.wait(count=5, timeout=60)
            ready = rec.latency("podLatency.Ready")
            assert ready.n == 5 and ready.missing == 0
            assert 0 < ready.p50 < 10
        """,
    )
    metrics = tmp_path / "m"
    _run(pytester, known_sim, metrics).assert_outcomes(passed=1)
    docs = read_json_array(metrics / "podLatencyMeasurement-recorded.json")
    assert sorted(d["podName"] for d in docs) == [f"inside-{i}" for i in range(5)]
