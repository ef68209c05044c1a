"""SIGINT and SIGTERM during creation, waiting and cleanup; a second signal; the cleanup command.

Each case runs pytest in a subprocess against its own simulator, after creating decoys (objects
of another run, and objects without our labels) that must survive whatever happens.
"""

from __future__ import annotations

import re
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from kubernetes import client

from pytest_kubevirt_burner.measurements.writer import read_json_array
from pytest_kubevirt_burner.sim.process import SimProcess

from .harness import Cluster, popen_pytest, summary, wait_until, write_suite

UUID = "intr-run"
OURS = f"kube-burner.io/uuid={UUID}"
PROFILE = (
    "default: {distribution: fixed, value: 0.02}\n"
    "transitions:\n  Pod.Ready: {distribution: fixed, value: 30}\n"
)
SUITE = """
import pytest

@pytest.mark.density(template="templates/pod.yml", replicas={replicas}, iterations={iterations},
                     qps={qps}, burst={burst}, name="victim", cleanup={cleanup},
                     wait_when_finished={wait}, max_wait_timeout="60s")
def test_victim(burner):
    burner.run()
"""


def _pod(name: str, labels: dict[str, str] | None = None) -> Any:
    return client.V1Pod(
        metadata=client.V1ObjectMeta(name=name, labels=labels),
        spec=client.V1PodSpec(containers=[client.V1Container(name="c", image="pause")]),
    )


def make_decoys(cluster: Cluster) -> None:
    """Objects that no cleanup of run UUID may touch."""
    other = {"kube-burner.io/uuid": "other-run", "kube-burner.io/job": "other-job"}
    for ns, labels in (("decoy-other-run", other), ("decoy-unlabelled", None)):
        cluster.core.create_namespace(
            client.V1Namespace(metadata=client.V1ObjectMeta(name=ns, labels=labels))
        )
        cluster.core.create_namespaced_pod(ns, _pod("decoy", labels))
    cluster.core.create_namespaced_pod("default", _pod("decoy-plain"))
    cluster.core.create_namespaced_pod("default", _pod("decoy-other", other))


def assert_decoys_survive(cluster: Cluster) -> None:
    """Every decoy is still there and not being deleted."""
    assert sorted(cluster.live_namespaces("kube-burner.io/uuid=other-run")) == ["decoy-other-run"]
    assert "decoy-unlabelled" in cluster.live_namespaces()
    assert sorted(cluster.pods("kube-burner.io/uuid=other-run")) == [
        ("decoy-other-run", "decoy"),
        ("default", "decoy-other"),
    ]
    all_pods = set(cluster.pods())
    assert {("decoy-unlabelled", "decoy"), ("default", "decoy-plain")} <= all_pods


class Output:
    """Collects a subprocess's output lines in a thread."""

    def __init__(self, proc: subprocess.Popen[bytes]) -> None:
        self.lines: list[str] = []
        assert proc.stdout is not None
        self._thread = threading.Thread(target=self._read, args=(proc.stdout,), daemon=True)
        self._thread.start()

    def _read(self, stream: Any) -> None:
        for raw in iter(stream.readline, b""):
            self.lines.append(raw.decode("utf-8", "replace"))

    def text(self) -> str:
        self._thread.join(5)
        return "".join(self.lines)

    def has(self, fragment: str) -> bool:
        return any(fragment in line for line in list(self.lines))


@pytest.fixture
def sim(tmp_path: Path, request: pytest.FixtureRequest) -> Iterator[SimProcess]:
    """A simulator with slow pod readiness and slow deletes."""
    profile = tmp_path / "slow-ready.yaml"
    profile.write_text(PROFILE)
    faults = "latency=700ms;verbs=delete"  # so that a cleanup lasts long enough to interrupt
    with SimProcess(nodes=3, profile=str(profile), seed=3, faults=faults) as proc:
        yield proc


def _start(tmp_path: Path, sim: SimProcess, **suite: Any) -> tuple[Path, list[str]]:
    params = {"replicas": 10, "iterations": 6, "qps": 10, "burst": 1, "cleanup": True}
    params.update(suite)
    params.setdefault("wait", True)
    root = write_suite(tmp_path / "suite", SUITE.format(**params), {"pod.yml": POD})
    metrics = tmp_path / "metrics"
    args = ["--kube-config", str(sim.kubeconfig), "--metrics-directory", str(metrics)]
    return root, [*args, "--burner-uuid", UUID, "-p", "no:randomly"]


POD = """\
apiVersion: v1
kind: Pod
metadata:
  name: pod-{{.Replica}}
spec:
  containers:
  - name: c
    image: registry.k8s.io/pause:3.9
"""


def _created_times(sim: SimProcess) -> list[float]:
    return [
        r["time"]
        for r in sim.read_ground_truth()
        if r["kind"] == "Pod"
        and r["transition"] == "Created"
        and r["namespace"].startswith("victim")
    ]


PHASES = ["creating", "waiting", "cleanup"]


@pytest.mark.parametrize("sig", [signal.SIGINT, signal.SIGTERM], ids=["SIGINT", "SIGTERM"])
@pytest.mark.parametrize("phase", PHASES)
def test_signal_stops_keeps_results_and_deletes_only_this_run(
    phase: str, sig: signal.Signals, sim: SimProcess, tmp_path: Path
) -> None:
    with Cluster.of(sim) as cluster:
        make_decoys(cluster)
        suite_args: dict[str, Any] = {}
        if phase == "waiting":
            suite_args = {"qps": 100, "burst": 60, "iterations": 3}
        if phase == "cleanup":  # pods never waited for; 6 namespaces deleted at 700 ms each
            suite_args = {"qps": 100, "burst": 60, "wait": False}
        suite, args = _start(tmp_path, sim, **suite_args)
        metrics = tmp_path / "metrics"
        with popen_pytest(suite, *args) as proc:
            out = Output(proc)
            if phase == "creating":
                wait_until(lambda: len(cluster.pods(OURS)) >= 8, 60, "8 pods created")
            elif phase == "waiting":
                wait_until(lambda: len(cluster.pods(OURS)) == 30, 60, "all 30 pods created")
                time.sleep(0.5)
            else:  # the job has finished and written its summary; teardown is deleting
                wait_until(lambda: bool(summary(metrics)), 60, "the job to finish")
                # a namespace being deleted, or one already gone: cleanup has started
                wait_until(
                    lambda: cluster.terminating(OURS) > 0 or len(cluster.namespaces(OURS)) < 6,
                    60,
                    "cleanup to start",
                )
            sent = time.time()
            proc.send_signal(sig)
            proc.wait(120)
            text = out.text()
        assert proc.returncode == pytest.ExitCode.INTERRUPTED, text
        assert "Traceback" not in text
        # stopped creating at once (a create already sent may still land)
        created_at = _created_times(sim)
        assert created_at, sim.read_ground_truth()[:3]
        assert max(created_at) < sent + 0.5
        job = summary(metrics)[-1]
        if phase != "cleanup":
            assert job["interrupted"] is True and job["passed"] is False, job
            assert "received" in job["reason"]
            created = job["objectsCreated"]
            assert 0 < created <= 60
            pod_docs = read_json_array(metrics / "podLatencyMeasurement-victim.json")
            assert len(pod_docs) == created
        else:
            assert job["passed"] is True, (
                job["reason"],
                job["executionErrors"],
                job.get("objects"),
            )
        assert "deleting this run's objects" in text
        # everything of this run is gone; nothing else was touched
        assert cluster.namespaces(OURS) == [] and cluster.pods(OURS) == []
        assert_decoys_survive(cluster)


def test_second_signal_skips_cleanup_and_the_printed_command_finishes_it(
    tmp_path: Path,
) -> None:
    profile = tmp_path / "slow-ready.yaml"
    profile.write_text(PROFILE)
    with (
        SimProcess(nodes=3, profile=str(profile), seed=3, faults="latency=1s;verbs=delete") as sim,
        Cluster.of(sim) as cluster,
    ):
        make_decoys(cluster)
        suite, args = _start(tmp_path, sim, qps=100, burst=60, cleanup=False)
        with popen_pytest(suite, *args) as proc:
            out = Output(proc)
            wait_until(lambda: len(cluster.pods(OURS)) == 60, 60, "all 60 pods created")
            proc.send_signal(signal.SIGINT)
            wait_until(lambda: out.has("deleting this run's objects"), 30, "cleanup to start")
            proc.send_signal(signal.SIGINT)
            proc.wait(60)
            text = out.text()
        assert proc.returncode == pytest.ExitCode.INTERRUPTED, text
        assert "Traceback" not in text
        match = re.search(r"remove them with: (python -m pytest_kubevirt_burner cleanup .*)", text)
        assert match is not None, text
        assert "cleanup aborted (second signal)" in text
        command = match.group(1).split()
        assert command[4:6] == ["--uuid", UUID]
        assert command[6:8] == ["--kube-config", str(sim.kubeconfig)]
        left = cluster.namespaces(OURS)
        assert len(left) >= 4  # at most two of six went in the second before the signal
        res = subprocess.run(
            [sys.executable, *command[1:]], capture_output=True, text=True, timeout=120
        )
        assert res.returncode == 0, res.stderr
        assert "nothing labelled kube-burner.io/uuid=intr-run is left" in res.stdout
        assert cluster.namespaces(OURS) == [] and cluster.pods(OURS) == []
        assert_decoys_survive(cluster)


def test_keep_on_interrupt_keeps_everything(tmp_path: Path) -> None:
    with SimProcess(nodes=3, seed=3) as sim, Cluster.of(sim) as cluster:
        suite, args = _start(tmp_path, sim, qps=10, burst=1)
        with popen_pytest(suite, *args, "--burner-keep-on-interrupt") as proc:
            out = Output(proc)
            wait_until(lambda: len(cluster.pods(OURS)) >= 5, 60, "5 pods created")
            proc.send_signal(signal.SIGINT)
            proc.wait(60)
            text = out.text()
        assert proc.returncode == pytest.ExitCode.INTERRUPTED, text
        assert "cleanup skipped (--burner-keep-on-interrupt)" in text
        assert len(cluster.pods(OURS)) >= 5


def test_cleanup_command_rejects_a_uuid_that_is_not_a_label_value() -> None:
    for bad in ("", "a,b", "x=y", "-x", "a" * 64):
        res = subprocess.run(
            [sys.executable, "-m", "pytest_kubevirt_burner", "cleanup", f"--uuid={bad}"],
            capture_output=True,
            text=True,
            timeout=60,
        )
        assert res.returncode == 2, (bad, res.stderr)
        assert res.stderr.startswith("error: --uuid: not a valid label value"), res.stderr
        assert "Traceback" not in res.stderr
