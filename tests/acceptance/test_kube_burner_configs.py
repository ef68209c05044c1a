"""kube-burner's own example configs run unmodified (scaled down with --kube-burner-set)."""

from __future__ import annotations

from pathlib import Path

import pytest
from kubernetes import client, config

from pytest_kubevirt_burner.measurements.writer import read_json_array
from pytest_kubevirt_burner.sim.process import SimProcess

from ..inner import run_inner as _run

EXAMPLES = Path(__file__).resolve().parents[1] / "data" / "kube-burner-examples"


def _sets(*pairs: str) -> list[str]:
    return [arg for pair in pairs for arg in ("--kube-burner-set", pair)]


CASES = {
    "kubelet-density/kubelet-density.yml": (
        _sets("jobs.0.jobIterations=4"),
        ["kubelet-density"],
        {"podLatencyMeasurement-kubelet-density.json": 4},
    ),
    "api-intensive/api-intensive.yml": (
        _sets(
            "jobs.0.jobIterations=3",
            "jobs.0.qps=30",
            "jobs.0.burst=30",
            "jobs.1.jobIterations=2",
            "jobs.1.qps=30,jobs.1.burst=30",
        ),
        [
            "api-intensive",
            "api-intensive-patch",
            "api-intensive-remove",
            "ensure-pods-removal",
            "remove-services",
            "remove-configmaps-secrets",
        ],
        {"podLatencyMeasurement-api-intensive.json": 3},
    ),
    "kubevirt-density/kubevirt-density.yml": (
        _sets(
            "jobs.0.jobPause=0s",
            "jobs.1.jobPause=0s",
            "jobs.2.jobPause=0s",
            "jobs.1.objects.0.replicas=3",
        ),
        ["idle-job", "kubevirt-density", "delete-job"],
        {"vmiLatencyMeasurement-kubevirt-density.json": 3},
    ),
    "kubevirt-power/kubevirt-power.yml": (
        _sets(
            "jobs.0.jobPause=0s",
            "jobs.1.jobPause=0s",
            "jobs.1.objectDelay=0s",
            "jobs.1.objectWait=true",
            "jobs.0.objects.0.replicas=2",
        ),
        ["kubevirt-power", "power-management", "delete-vms"],
        {
            "vmiLatencyMeasurement-kubevirt-power.json": 2,
            "vmiLatencyMeasurement-power-management.json": 8,  # 2 VMs x (stop + start) x 2
        },
    ),
    "crd-scale/crd-scale.yml": (_sets("jobs.0.jobIterations=3"), ["crd-scale"], {}),
}


@pytest.mark.parametrize("name", sorted(CASES))
def test_example_config_runs(
    pytester: pytest.Pytester, sim: SimProcess, tmp_path: Path, name: str
) -> None:
    sets, jobs, files = CASES[name]
    metrics = tmp_path / "m"
    result = _run(pytester, sim, metrics, "--kube-burner-config", str(EXAMPLES / name), *sets)
    result.assert_outcomes(passed=len(jobs))
    summaries = read_json_array(metrics / "jobSummary.json")
    assert [s["jobName"] for s in summaries] == jobs
    assert all(s["passed"] is True and s["metricName"] == "jobSummary" for s in summaries)
    for file, count in files.items():
        docs = read_json_array(metrics / file)
        assert len(docs) == count, file
        assert all(d["metricName"].endswith("LatencyMeasurement") for d in docs)
    text = (EXAMPLES / name).read_text()
    if "esServers" in text:  # unreachable servers are reported, local files stay complete
        result.stdout.fnmatch_lines(["*elastic http*not indexed*"])


def test_kubevirt_power_files_carry_operation_latencies(
    pytester: pytest.Pytester, sim: SimProcess, tmp_path: Path
) -> None:
    name = "kubevirt-power/kubevirt-power.yml"
    sets, jobs, _ = CASES[name]
    metrics = tmp_path / "m"
    result = _run(pytester, sim, metrics, "--kube-burner-config", str(EXAMPLES / name), *sets)
    result.assert_outcomes(passed=len(jobs))
    docs = read_json_array(metrics / "vmiLatencyMeasurement-power-management.json")
    starts = [d for d in docs if d["operation"] == "start"]
    assert len(starts) == 4 and all(0 < d["vmiRunningLatency"] < 2000 for d in starts)
    quantiles = read_json_array(metrics / "vmiLatencyQuantilesMeasurement-power-management.json")
    assert {(q["operation"], q["quantileName"]) for q in quantiles} >= {
        ("start", "VMIRunning"),
        ("stop", "VMStopped"),
    }


def _write(path: Path, text: str) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text)
    return path


POD_CONFIG = """\
global:
  measurements:
  - name: podLatency
    thresholds:
    - {conditionType: Ready, metric: P99, threshold: 30s}
jobs:
- name: {{ .JOB }}
  jobIterations: {{ .ITERATIONS }}
  qps: 20
  burst: 20
  namespace: kb-{{ .JOB }}
  preLoadImages: false
  objects:
  - objectTemplate: pod.yml
    replicas: 2
"""
POD = """\
apiVersion: v1
kind: Pod
metadata:
  name: p-{{.Replica}}-{{.UUID | trunc 8}}
spec:
  containers:
  - name: c
    image: registry.k8s.io/pause:3.9
"""


def test_user_data_env_and_uuid_render_the_config(
    pytester: pytest.Pytester, sim: SimProcess, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    cfg = _write(tmp_path / "cfg" / "config.yml", POD_CONFIG)
    _write(tmp_path / "cfg" / "pod.yml", POD)
    user = _write(tmp_path / "user.yml", "ITERATIONS: 2\nJOB: from-user-data\n")
    monkeypatch.setenv("JOB", "from-env")
    monkeypatch.setenv("ITERATIONS", "9")
    metrics = tmp_path / "m"
    result = _run(
        pytester,
        sim,
        metrics,
        "--kube-burner-config",
        str(cfg),
        "--kube-burner-user-data",
        str(user),
        "--burner-uuid",
        "abcdef12-0000-4000-8000-000000000000",
        "-v",
    )
    result.assert_outcomes(passed=1)
    result.stdout.fnmatch_lines(["*config.yml::from-user-data PASSED*"])
    docs = read_json_array(metrics / "podLatencyMeasurement-from-user-data.json")
    assert len(docs) == 4 and all(d["podName"].endswith("-abcdef12") for d in docs)


@pytest.mark.parametrize(
    "edit,message",
    [
        (
            "jobIterations:",
            "*job 'bad' (jobs[0]): unknown key 'jobIteration'; did you mean 'jobIterations'?",
        ),
        ("jobType", "*job 'bad' (jobs[0]): unknown jobType 'craete'; did you mean 'create'?"),
        ("objectTemplate", "*job 'bad' (jobs[0]): objects[0] needs an 'objectTemplate'"),
        ("watchers", "*job 'bad' (jobs[0]): 'watchers' is not supported"),
    ],
)
def test_bad_config_is_one_line_before_anything_is_created(
    pytester: pytest.Pytester, sim: SimProcess, tmp_path: Path, edit: str, message: str
) -> None:
    text = POD_CONFIG.replace("{{ .JOB }}", "bad").replace("{{ .ITERATIONS }}", "1")
    if edit == "jobIterations:":
        text = text.replace("jobIterations:", "jobIteration:")
    elif edit == "jobType":
        text = text.replace("  qps: 20\n", "  qps: 20\n  jobType: craete\n")
    elif edit == "objectTemplate":
        text = text.replace("objectTemplate: pod.yml", "replicas: 1")
    else:
        text = text.replace("  qps: 20\n", "  qps: 20\n  watchers: [{kind: Pod}]\n")
    cfg = _write(tmp_path / "cfg" / "config.yml", text)
    _write(tmp_path / "cfg" / "pod.yml", POD)
    result = _run(pytester, sim, tmp_path / "m", "--kube-burner-config", str(cfg))
    assert result.ret == pytest.ExitCode.USAGE_ERROR
    line = f"ERROR: --kube-burner-config: {cfg}: {message.lstrip('*')}"
    assert line in result.stderr.lines
    api = config.new_client_from_config(config_file=str(sim.kubeconfig))
    try:
        left = client.CoreV1Api(api).list_namespace(label_selector="kube-burner.io/job=bad")
        assert left.items == []
    finally:
        api.close()
