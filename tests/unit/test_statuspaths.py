"""customStatusPaths: kube-burner's documented jq forms run on a real jq."""

from __future__ import annotations

from pathlib import Path

import pytest

from pytest_kubevirt_burner.compat.kube_burner import KubeBurnerConfigError, load
from pytest_kubevirt_burner.statuspaths import first_output, matches, path_error

STATUS = {
    "phase": "Bound",
    "readyToUse": True,
    "conditions": [{"type": "Progressing", "status": "False"}, {"type": "Ready", "status": "True"}],
}


@pytest.mark.parametrize(
    ("key", "value", "expected"),
    [
        ('(.conditions.[] | select(.type == "Ready")).status', "True", True),
        ('(.conditions[] | select(.type == "Ready")).status', "True", True),
        ('.conditions[] | select(.type == "Ready") | .status', "True", True),
        ('(.conditions.[] | select(.type == "Ready")).status', "False", False),
        (".readyToUse | tostring", "true", True),
        (".readyToUse", "true", True),
        (".phase", "Bound", True),
        (".conditions | length | tostring", "2", True),
        (".missing.deep", "x", False),
        (".missing[]", "x", False),  # a runtime error means not ready, as in kube-burner
    ],
)
def test_documented_forms(key: str, value: str, expected: bool) -> None:
    assert path_error(key) is None
    assert matches(STATUS, key, value) is expected


def test_any_output_matches_and_empty_status_is_not_ready() -> None:
    assert matches(STATUS, ".conditions[].status", "True")
    assert not matches({}, ".phase", "")
    assert first_output(STATUS, ".conditions[].type") == "Progressing"


def test_a_query_that_does_not_parse_is_one_line() -> None:
    msg = path_error(".conditions[ | select(")
    assert msg is not None and "\n" not in msg and "does not compile" in msg


def test_config_with_a_bad_jq_key_is_refused_naming_file_and_field(tmp_path: Path) -> None:
    (tmp_path / "cm.yml").write_text("apiVersion: v1\nkind: ConfigMap\nmetadata: {name: c}\n")
    config = tmp_path / "config.yml"
    config.write_text(
        "jobs:\n- name: j\n  objects:\n  - objectTemplate: cm.yml\n    replicas: 1\n"
        "    waitOptions:\n      customStatusPaths:\n      - {key: '.a | select(', value: x}\n"
    )
    with pytest.raises(KubeBurnerConfigError) as info:
        load(config, uuid="u", env={})
    msg = str(info.value)
    assert "\n" not in msg and str(config) in msg
    assert "'objects[0].waitOptions.customStatusPaths[0].key'" in msg


def test_config_values_keep_their_yaml_text(tmp_path: Path) -> None:
    (tmp_path / "vs.yml").write_text("apiVersion: v1\nkind: ConfigMap\nmetadata: {name: c}\n")
    config = tmp_path / "config.yml"
    config.write_text(
        "jobs:\n- name: j\n  objects:\n  - objectTemplate: vs.yml\n    replicas: 1\n"
        "    waitOptions:\n      customStatusPaths:\n"
        "      - {key: '.readyToUse | tostring', value: true}\n"
    )
    spec = load(config, uuid="u", env={}).jobs[0].spec
    assert spec.objects[0].wait_options.custom_status_paths == ((".readyToUse | tostring", "true"),)
