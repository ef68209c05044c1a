"""JobSpec validation: every bad kwarg gives one line naming where and what."""

from __future__ import annotations

from pathlib import Path

import pytest

from pytest_kubevirt_burner.jobspec import JobSpecError, build_job, dns1123

WHERE = "t.py::test_x: @pytest.mark.density"


@pytest.fixture
def tpl(tmp_path: Path) -> Path:
    (tmp_path / "pod.yml").write_text("kind: Pod\napiVersion: v1\nmetadata: {name: p}\n")
    return tmp_path


def build(tpl: Path, **kw: object) -> object:
    kw.setdefault("template", "pod.yml")
    return build_job(WHERE, "create", kw, tpl, "test-x")


def error(tpl: Path, **kw: object) -> str:
    with pytest.raises(JobSpecError) as exc:
        build(tpl, **kw)
    msg = str(exc.value)
    assert "\n" not in msg
    assert msg.startswith(WHERE + ": ")
    return msg[len(WHERE) + 2 :]


def test_defaults_are_kube_burners(tpl: Path) -> None:
    spec = build(tpl)
    assert spec.qps == 5.0 and spec.burst == 10  # qps/burst 0 -> kube-burner's 5/10
    assert spec.iterations == 1
    assert spec.namespace == "test-x"
    assert spec.wait_when_finished and spec.verify_objects and spec.error_on_verify
    assert spec.cleanup
    assert spec.max_wait_timeout == 4 * 3600
    assert spec.objects[0].replicas == 1
    assert spec.objects[0].template == tpl / "pod.yml"


def test_shorthand_and_objects(tpl: Path) -> None:
    spec = build_job(
        WHERE,
        "create",
        {
            "objects": [{"template": "pod.yml", "replicas": 3}, {"object_template": "pod.yml"}],
            "iterations": 4,
        },
        tpl,
        "j",
    )
    assert [o.replicas for o in spec.objects] == [3, 1]
    assert spec.expected_count(spec.objects[0]) == 12


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"replica": 3}, "unknown keyword 'replica'; did you mean 'replicas'?"),
        ({"jobIterations": 3}, "unknown keyword 'jobIterations'"),
        (
            {"maxWaitTimeout": "1h"},
            "unknown keyword 'maxWaitTimeout'; did you mean 'max_wait_timeout'?",
        ),
        ({"replicas": "ten"}, "'objects[0].replicas' must be an integer, got 'ten'"),
        ({"replicas": -1}, "'objects[0].replicas' must be >= 0, got -1"),
        ({"iterations": 0}, "'iterations' must be >= 1, got 0"),
        ({"qps": "fast"}, "'qps' must be a number, got 'fast'"),
        ({"template": "missing.yml"}, "template file not found: missing.yml"),
        ({"namespace": "Bad_NS"}, "'namespace' must be a DNS-1123 label"),
        ({"max_wait_timeout": "soon"}, "'max_wait_timeout':"),
        ({"cleanup": "yes"}, "'cleanup' must be true or false, got 'yes'"),
        ({"execution_mode": "fast"}, "'execution_mode' must be parallel or sequential"),
        ({"deletion_strategy": "fast"}, "'deletion_strategy' must be default or gvr, got 'fast'"),
    ],
)
def test_bad_kwargs(tpl: Path, kwargs: dict[str, object], message: str) -> None:
    assert message in error(tpl, **kwargs)


def test_deletion_strategy(tpl: Path) -> None:
    assert build(tpl).deletion_strategy == "default"  # type: ignore[attr-defined]
    assert build(tpl, deletion_strategy="gvr").deletion_strategy == "gvr"  # type: ignore[attr-defined]


def test_objects_and_shorthand_exclusive(tpl: Path) -> None:
    with pytest.raises(JobSpecError, match="not both"):
        build_job(WHERE, "create", {"objects": [{"template": "pod.yml"}], "replicas": 2}, tpl, "j")


def test_no_objects(tpl: Path) -> None:
    with pytest.raises(JobSpecError, match="has no objects"):
        build_job(WHERE, "create", {"qps": 2}, tpl, "j")


def test_delete_needs_selector(tpl: Path) -> None:
    with pytest.raises(JobSpecError, match="non-empty 'label_selector'"):
        build_job(WHERE, "delete", {"kind": "Pod"}, tpl, "j")
    spec = build_job(
        WHERE, "delete", {"kind": "Pod", "label_selector": {"a": "b"}, "iterations": 5}, tpl, "j"
    )
    assert spec.iterations == 1  # forced, as kube-burner does


def test_patch_type_names(tpl: Path) -> None:
    spec = build_job(
        WHERE,
        "patch",
        {"kind": "Pod", "label_selector": {"a": "b"}, "template": "pod.yml", "patch_type": "merge"},
        tpl,
        "j",
    )
    assert spec.objects[0].patch_type == "application/merge-patch+json"
    with pytest.raises(JobSpecError, match="patch_type must be one of"):
        build_job(
            WHERE,
            "patch",
            {
                "kind": "Pod",
                "label_selector": {"a": "b"},
                "template": "pod.yml",
                "patch_type": "xml",
            },
            tpl,
            "j",
        )


def test_scaling(tpl: Path) -> None:
    spec = build(tpl, iterations=100, replicas=4)
    assert spec.scaled(0.1).iterations == 10
    assert spec.scaled(0.001).iterations == 1
    one = build(tpl, replicas=50)
    assert one.scaled(0.1).objects[0].replicas == 5


def test_namespaces(tpl: Path) -> None:
    spec = build(tpl, iterations=6, iterations_per_namespace=2, namespace="dens")
    assert [spec.namespace_for(i) for i in range(6)] == ["dens-0"] * 2 + ["dens-1"] * 2 + [
        "dens-2"
    ] * 2
    flat = build(tpl, namespace="dens", namespaced_iterations=False)
    assert flat.namespace_for(3) == "dens"


@pytest.mark.parametrize(
    ("raw", "out"),
    [("test_vm_density", "test-vm-density"), ("test_x[10-fast]", "test-x-10-fast"), ("__", "job")],
)
def test_dns1123(raw: str, out: str) -> None:
    assert dns1123(raw) == out


def test_repeat_every_n_iterations(tpl: Path) -> None:
    spec = build_job(
        WHERE,
        "create",
        {
            "objects": [
                {"template": "pod.yml", "repeat_every_n_iterations": 2},
                {"template": "pod.yml"},
            ],
            "iterations": 5,
        },
        tpl,
        "j",
    )
    shared, each = spec.objects
    assert [it for it in range(5) if shared.created_in(it)] == [0, 2, 4]
    assert spec.expected_count(shared) == 3 and spec.expected_count(each) == 5
    assert "'objects[0].repeat_every_n_iterations' must be >= 1, got 0" in error(
        tpl, repeat_every_n_iterations=0
    )
    churn = {"cycles": 1, "mode": "objects"}
    assert "cannot be used with churn mode 'objects'" in error(
        tpl, repeat_every_n_iterations=2, churn=churn
    )


def test_scaling_rounds_up_to_the_scaled_share(tpl: Path) -> None:
    spec = build(tpl, iterations=5)
    assert spec.scaled(0.5).iterations == 3  # 2.5 -> 3, never 2
    assert build(tpl, iterations=10).scaled(0.3).iterations == 3  # 3.0000000000000004 -> 3
    assert build(tpl, replicas=5).scaled(0.5).objects[0].replicas == 3
