"""Loading kube-burner configs: rendering, --set, strict keys, field mapping and defaults."""

from __future__ import annotations

from pathlib import Path

import pytest

from pytest_kubevirt_burner.compat.kb_schema import camel_message, go_duration
from pytest_kubevirt_burner.compat.kube_burner import (
    KubeBurnerConfigError,
    apply_set,
    load,
    split_sets,
)

EXAMPLES = Path(__file__).resolve().parents[1] / "data" / "kube-burner-examples"
UUID = "0a1b2c3d-0000-4000-8000-000000000000"

BASE = """\
jobs:
- name: density
  jobIterations: 3
  namespace: dens
  objects:
  - objectTemplate: pod.yml
    replicas: 2
"""


def _config(tmp_path: Path, text: str) -> Path:
    (tmp_path / "pod.yml").write_text("apiVersion: v1\nkind: Pod\nmetadata: {name: p}\n")
    path = tmp_path / "config.yml"
    path.write_text(text)
    return path


def _error(tmp_path: Path, text: str, **kwargs: object) -> str:
    with pytest.raises(KubeBurnerConfigError) as info:
        load(_config(tmp_path, text), uuid=UUID, env={}, **kwargs)  # type: ignore[arg-type]
    message = str(info.value)
    assert "\n" not in message
    return message


@pytest.mark.parametrize(
    "name", ["api-intensive", "crd-scale", "kubelet-density", "kubevirt-density", "kubevirt-power"]
)
def test_the_example_configs_load(name: str) -> None:
    path = next((EXAMPLES / name).glob("*.yml"))
    cfg = load(path, uuid=UUID, env={})
    assert cfg.jobs and all(job.spec.name for job in cfg.jobs)


def test_defaults_and_mapping_follow_kube_burner(tmp_path: Path) -> None:
    cfg = load(_config(tmp_path, BASE), uuid=UUID, env={})
    spec = cfg.jobs[0].spec
    assert (spec.job_type, spec.iterations, spec.qps, spec.burst) == ("create", 3, 5.0, 10)
    assert spec.max_wait_timeout == 4 * 3600 and spec.wait_when_finished and spec.cleanup
    assert spec.objects[0].template == tmp_path / "pod.yml" and spec.objects[0].replicas == 2
    assert cfg.jobs[0].preload and cfg.jobs[0].measurements == []
    assert cfg.metrics_directory is None and cfg.elastic == []


def test_kubevirt_power_maps_onto_a_kubevirt_job() -> None:
    cfg = load(EXAMPLES / "kubevirt-power" / "kubevirt-power.yml", uuid=UUID, env={})
    job = cfg.jobs[1].spec
    assert job.job_type == "kubevirt" and job.execution_mode == "sequential"
    assert [o.kubevirt_op for o in job.objects] == ["stop", "start"]
    assert (
        job.objects[0].kind == "VirtualMachine" and job.objects[0].api_version == "kubevirt.io/v1"
    )
    assert (job.iterations, job.object_delay, job.job_pause, job.max_wait_timeout) == (
        2,
        120.0,
        120.0,
        3600.0,
    )
    assert cfg.jobs[1].measurements == ["vmiLatency"] and not cfg.jobs[1].preload
    assert cfg.metrics_directory == Path("/tmp/kube-burner")
    assert cfg.jobs[2].spec.job_type == "delete" and not cfg.jobs[2].spec.wait_when_finished


def test_elastic_endpoints_and_local_directory(tmp_path: Path) -> None:
    text = (
        "metricsEndpoints:\n"
        "- indexer: {type: local}\n"
        "- indexer: {type: opensearch, esServers: [https://es:9200], defaultIndex: kb,"
        " insecureSkipVerify: true}\n" + BASE
    )
    cfg = load(_config(tmp_path, text), uuid=UUID, env={})
    assert cfg.metrics_directory == Path(f"collected-metrics-{UUID}")
    assert [(e.kind, e.servers, e.index, e.verify) for e in cfg.elastic] == [
        ("opensearch", ("https://es:9200",), "kb", False)
    ]


def test_rendering_precedence_env_then_user_data_then_uuid(tmp_path: Path) -> None:
    text = BASE.replace("jobIterations: 3", "jobIterations: {{.ITER}}").replace(
        "namespace: dens", "namespace: n-{{.WHO}}-{{.UUID | trunc 4}}"
    )
    env = {"ITER": "7", "WHO": "env", "UUID": "ignored"}
    cfg = load(_config(tmp_path, text), uuid=UUID, env=env, user_data={"WHO": "user"})
    assert cfg.jobs[0].spec.iterations == 7 and cfg.jobs[0].spec.namespace == "n-user-0a1b"
    message = _error(tmp_path, text.replace("{{.ITER}}", "{{.NOPE}}"))
    assert "template error" in message and "NOPE" in message


def test_set_overrides_use_kube_burner_semantics(tmp_path: Path) -> None:
    cfg = load(
        _config(tmp_path, BASE),
        uuid=UUID,
        env={},
        overrides=["jobs.0.jobIterations=5", "jobs.0.jobPause=2s,jobs.0.cleanup=false"],
    )
    spec = cfg.jobs[0].spec
    assert (spec.iterations, spec.job_pause, spec.cleanup) == (5, 2.0, False)
    data: dict[str, object] = {"a": [{"b": 1}]}
    apply_set(data, "a.0.b", "x")
    apply_set(data, "c.d", "1.5")
    assert data == {"a": [{"b": "x"}], "c": {"d": 1.5}}
    with pytest.raises(KubeBurnerConfigError, match=r"'a\.3' is not an index of a list of 1"):
        apply_set(data, "a.3.b", "1")
    assert split_sets(["a=1,b.c=x,y"]) == [("a", "1"), ("b.c", "x,y")]
    with pytest.raises(KubeBurnerConfigError, match="expected KEY=VALUE"):
        split_sets(["novalue"])


@pytest.mark.parametrize(
    "old,new,expected",
    [
        (
            "jobIterations:",
            "jobIteration:",
            "unknown key 'jobIteration'; did you mean 'jobIterations'?",
        ),
        ("    replicas: 2", "    replica: 2", "unknown key 'objects[0].replica'; did you mean"),
        ("  objects:", "  jobType: patchh\n  objects:", "unknown jobType 'patchh'; did you mean"),
        ("jobIterations: 3", "jobIterations: three", "'jobIterations' must be an integer"),
        ("  objects:", "  watchers: [{kind: Pod}]\n  objects:", "'watchers' is not supported"),
        (
            "  objects:",
            "  churnConfig: {cycles: 1, percnt: 5}\n  objects:",
            "did you mean 'percent'",
        ),
    ],
)
def test_bad_keys_are_one_line_naming_file_job_and_key(
    tmp_path: Path, old: str, new: str, expected: str
) -> None:
    message = _error(tmp_path, BASE.replace(old, new))
    assert str(tmp_path / "config.yml") in message and "job 'density' (jobs[0])" in message
    assert expected in message


def test_global_and_measurement_problems(tmp_path: Path) -> None:
    assert "unknown key 'global.gcc'" in _error(tmp_path, "global: {gcc: true}\n" + BASE)
    assert "unknown key 'metricz'" in _error(tmp_path, "metricz: []\n" + BASE)
    pprof = "global:\n  measurements: [{name: pprof}]\n" + BASE
    assert "measurement 'pprof' is not supported" in _error(tmp_path, pprof)
    typo = "global:\n  measurements: [{name: podLatenci}]\n" + BASE
    assert "did you mean 'podLatency'" in _error(tmp_path, typo)
    tsdb = "metricsEndpoints: [{indexer: {type: tsdb}}]\n" + BASE
    assert "'tsdb' is not supported" in _error(tmp_path, tsdb)


def test_thresholds_become_slos_and_churn_maps(tmp_path: Path) -> None:
    text = (
        "global:\n  measurements:\n  - name: vmiLatency\n    thresholds:\n"
        "    - {conditionType: VMIRunning, metric: P95, threshold: 60s}\n"
        + BASE.replace(
            "  objects:",
            "  churnConfig: {cycles: 2, percent: 20, deleteDelay: 1s, mode: objects}\n  objects:",
        )
    )
    cfg = load(_config(tmp_path, text), uuid=UUID, env={})
    slo = cfg.jobs[0].slos[0]
    assert (slo.key, slo.thresholds) == ("vmiLatency.VMIRunning", (("p95", 60.0),))
    churn = cfg.jobs[0].spec.churn
    assert churn is not None and (churn.cycles, churn.percent, churn.delete_delay, churn.mode) == (
        2,
        20,
        1.0,
        "objects",
    )
    off = BASE.replace("  objects:", "  churnConfig: {percent: 20}\n  objects:")
    assert load(_config(tmp_path, off), uuid=UUID, env={}).jobs[0].spec.churn is None


def test_go_durations_and_camel_messages() -> None:
    assert go_duration(1_000_000_000) == 1.0 and go_duration("5m") == "5m"
    assert camel_message("x: 'iterations' must be an integer") == (
        "x: 'jobIterations' must be an integer"
    )
    assert camel_message("x: 'churn.delete_delay': bad") == "x: 'churnConfig.deleteDelay': bad"


def test_churn_with_zero_duration_and_zero_cycles_is_off(tmp_path: Path) -> None:
    """Every kube-burner-ocp config renders Go's zero duration as '0s': churn off."""
    churn = "  churnConfig: {cycles: 0, duration: 0s, percent: 10, delay: 2m0s, mode: objects}\n"
    cfg = load(
        _config(tmp_path, BASE.replace("  objects:", churn + "  objects:")), uuid=UUID, env={}
    )
    assert cfg.jobs[0].spec.churn is None
    on = churn.replace("duration: 0s", "duration: 1m0s")
    spec = load(_config(tmp_path, BASE.replace("  objects:", on + "  objects:")), uuid=UUID, env={})
    assert spec.jobs[0].spec.churn is not None and spec.jobs[0].spec.churn.duration == 60.0


def test_fill_undefined_and_allow_missing(tmp_path: Path) -> None:
    """kube-burner-ocp's wrapper default ("" or 0) and kube-burner's --allow-missing."""
    from pytest_kubevirt_burner.compat.kube_burner import undefined_defaults

    text = "{{ if ne .THRESHOLD 0 }}global: {gc: true}\n{{ end }}" + BASE.replace(
        "namespace: dens", "namespace: dens{{ .SUFFIX }}"
    )
    assert undefined_defaults(text, {"SUFFIX": "x"}) == {"THRESHOLD": 0}
    assert "undefined variable 'THRESHOLD'" in _error(tmp_path, text)
    cfg = load(_config(tmp_path, text), uuid=UUID, env={}, fill_undefined=True)
    assert cfg.jobs[0].spec.namespace == "dens" and not cfg.gc
    with pytest.raises(KubeBurnerConfigError, match="incompatible types for comparison"):
        load(_config(tmp_path, text), uuid=UUID, env={"THRESHOLD": "x", "SUFFIX": ""})
    only = text.replace("{{ .SUFFIX }}", "")
    cfg = load(_config(tmp_path, only), uuid=UUID, env={}, allow_missing=True)
    assert cfg.gc  # a missing key is nil: `ne nil 0` is true, as in Go


def test_deletion_strategy_is_carried_on_every_job(tmp_path: Path) -> None:
    cfg = load(_config(tmp_path, "global: {deletionStrategy: gvr}\n" + BASE), uuid=UUID, env={})
    assert [j.spec.deletion_strategy for j in cfg.jobs] == ["gvr"]
    cfg = load(_config(tmp_path, BASE), uuid=UUID, env={})
    assert cfg.jobs[0].spec.deletion_strategy == "default"
    bad = _error(tmp_path, "global: {deletionStrategy: namespaces}\n" + BASE)
    assert bad.endswith("global: 'deletionStrategy' must be default or gvr, got 'namespaces'")
