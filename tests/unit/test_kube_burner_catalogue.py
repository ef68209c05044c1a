"""The real kube-burner workload catalogue, loaded unchanged with the variables its wrapper passes.

Every config of kube-burner-ocp's ``cmd/config`` workloads (virt-*, node-density*, ...),
kube-burner's ``examples/workloads`` and kube-burner's own e2e suite (``test/k8s``) goes through
``load`` (what ``--kube-burner-config`` runs at configure time) with its user-data file; then every
object template of every create/patch job is rendered for its first and last iteration, as the
dry-run preflight does, and every kind it names is looked up among the kinds the simulator serves.

``EXPECTED`` is the state today: ``ok``, or the one-line refusal (it must name the field).
A feature that lands changes a refusal into ``ok``: update the table with it.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
import yaml

from pytest_kubevirt_burner.compat.kube_burner import (
    KubeBurnerConfigError,
    load,
    read_user_data,
    render,
    undefined_defaults,
)
from pytest_kubevirt_burner.sim.registry import Registry
from pytest_kubevirt_burner.templates import TemplateRenderer

DATA = Path(__file__).resolve().parents[1] / "data"
UUID = "00000000-0000-4000-8000-0000000000aa"


@dataclass(frozen=True)
class Entry:
    name: str
    config: Path
    user_data: Path | None
    fill_undefined: bool  # kube-burner-ocp's wrappers fill undefined variables


def catalogue() -> list[Entry]:
    """Every vendored config with its user data."""
    out = []
    for ud in sorted((DATA / "kube-burner-ocp").glob("*/*.user-data.yaml")):
        config = ud.with_name(ud.name.replace(".user-data.yaml", ".yml"))
        out.append(Entry(f"ocp/{config.parent.name}/{config.name}", config, ud, True))
    for ud in sorted((DATA / "kube-burner-e2e" / "k8s").glob("*.user-data.yaml")):
        config = ud.with_name(ud.name.replace(".user-data.yaml", ".yml"))
        out.append(Entry(f"e2e/{config.name}", config, ud, False))
    for config in sorted((DATA / "kube-burner-examples").glob("*/*.yml")):
        if "jobs:" in config.read_text():
            out.append(Entry(f"examples/{config.parent.name}/{config.name}", config, None, False))
    return out


def _user_data(entry: Entry, keys: Path) -> dict[str, Any]:
    data = read_user_data(entry.user_data) if entry.user_data else {}
    if "publicKey" in data:  # the wrapper generates an SSH key pair and passes absolute paths
        data["publicKey"], data["privateKey"] = str(keys / "ssh.pub"), str(keys / "ssh")
    return data


def _raw(entry: Entry, data: dict[str, Any]) -> dict[str, Any]:
    if entry.fill_undefined:
        data = {**undefined_defaults(entry.config.read_text(), data), **data}
    text = render(entry.config, {**data, "UUID": UUID})
    loaded = yaml.safe_load(text)
    assert isinstance(loaded, dict)
    return loaded


def _documents(entry: Entry, raw: dict[str, Any], renderer: TemplateRenderer) -> list[Any]:
    """Every object template of every job, rendered for its first and last iteration."""
    docs = []
    for job in raw.get("jobs") or []:
        last = max(int(job.get("jobIterations", 1) or 1) - 1, 0)
        zero = bool(job.get("defaultMissingKeysWithZero"))
        r = TemplateRenderer(
            entry.config.parent,
            function_templates=[
                entry.config.parent / f
                for f in ((raw.get("global") or {}).get("functionTemplates") or [])
            ],
            missing_key_zero=zero,
            config_dir=entry.config.parent,
        )
        for obj in job.get("objects") or []:
            template = obj.get("objectTemplate")
            if not template or job.get("jobType", "create") not in ("create", "patch"):
                continue
            for iteration in sorted({0, last}):
                variables = {
                    "JobName": job["name"],
                    "Iteration": iteration,
                    "Replica": 1,
                    "UUID": UUID,
                    "RunID": "r",
                    **(obj.get("inputVars") or {}),
                }
                if str(template).endswith(".json"):
                    r.render_text(template, variables)
                    continue
                docs += r.render_file(template, variables)
    return docs


def _missing_kinds(raw: dict[str, Any], docs: list[Any]) -> list[str]:
    registry = Registry.builtin()
    served = set()
    for doc in docs:  # CRDs the config creates itself
        if doc.get("kind") == "CustomResourceDefinition":
            spec = doc.get("spec") or {}
            for version in spec.get("versions") or []:
                served.add((f"{spec.get('group')}/{version.get('name')}", spec["names"]["kind"]))
    wanted = {(str(d.get("apiVersion")), str(d.get("kind"))) for d in docs}
    for job in raw.get("jobs") or []:
        for obj in job.get("objects") or []:
            if obj.get("kind"):
                default = "kubevirt.io/v1" if job.get("jobType") == "kubevirt" else "v1"
                wanted.add((str(obj.get("apiVersion") or default), str(obj["kind"])))
            opts = obj.get("waitOptions") or {}
            if opts.get("kind"):
                wanted.add((str(opts.get("apiVersion") or "v1"), str(opts["kind"])))
    return sorted(
        f"{kind} ({api})"
        for api, kind in wanted
        if (api, kind) not in served and registry.by_kind(api, kind) is None
    )


def outcome(entry: Entry, keys: Path) -> str:
    """``ok``, or why the config does not load or run on the simulator, in one line."""
    data = _user_data(entry, keys)
    try:
        cfg = load(
            entry.config, uuid=UUID, user_data=data, env={}, fill_undefined=entry.fill_undefined
        )
    except KubeBurnerConfigError as exc:
        return str(exc).replace(str(entry.config), entry.name)
    raw = _raw(entry, data)
    missing = _missing_kinds(raw, _documents(entry, raw, cfg.renderer()))
    if missing:
        return "kinds the simulator does not serve: " + ", ".join(missing)
    return "ok"


@pytest.fixture(scope="module")
def keys(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("ssh")
    (path / "ssh.pub").write_text("ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIExample test@example\n")
    (path / "ssh").write_text("-----BEGIN OPENSSH PRIVATE KEY-----\nexample\n")
    return path


ENTRIES = catalogue()
# Configs that do not render with kube-burner itself either: (error, why)
UPSTREAM_BROKEN = {
    "ocp/web-burner-cluster-density/web-burner-cluster-density.yml": (
        "incompatible types for comparison",
        'eq "1" .LIMITCOUNT compares a string with the int the wrapper passes',
    ),
    "ocp/web-burner-init/web-burner-init.yml": (
        "error calling contains",
        'contains .SRIOV "true" passes the bool the wrapper gives where sprig wants a string',
    ),
    "e2e/kube-burner-measure.yml": ("no jobs", "a `kube-burner measure` config: it has no jobs"),
    "examples/udn-density-l3/udn-density-l3.yml": (
        "cannot read template",
        "its objectTemplate paths miss the templates/ directory (and global.indexerConfig is "
        "a key kube-burner rejects)",
    ),
}


def test_the_catalogue_is_complete() -> None:
    names = {e.name.split("/")[1] for e in ENTRIES if e.name.startswith("ocp/")}
    assert {
        "virt-density", "virt-udn-density", "virt-migration", "virt-clone", "virt-clone-multi",
        "virt-capacity-benchmark", "virt-ephemeral-restart", "virt-parallel", "dv-clone",
        "node-density", "node-density-heavy", "node-density-cni", "cluster-density-v2",
        "crd-scale", "pvc-density", "udn-density-pods", "web-burner-init",
        "web-burner-node-density", "web-burner-cluster-density",
    } <= names  # fmt: skip
    assert len([e for e in ENTRIES if e.name.startswith("e2e/")]) == 16
    assert len([e for e in ENTRIES if e.name.startswith("examples/")]) == 15


def _render_all(entry: Entry, data: dict[str, Any]) -> dict[str, Any]:
    raw = _raw(entry, data)
    assert raw.get("jobs"), "no jobs"
    _documents(entry, raw, TemplateRenderer(entry.config.parent))
    return raw


@pytest.mark.parametrize("entry", ENTRIES, ids=[e.name for e in ENTRIES])
def test_every_template_renders_and_every_jq_path_compiles(entry: Entry, keys: Path) -> None:
    """Independent of the features a config needs: its text, templates and jq paths are fine."""
    from pytest_kubevirt_burner.statuspaths import path_error

    data = _user_data(entry, keys)
    if entry.name in UPSTREAM_BROKEN:
        with pytest.raises(Exception, match=UPSTREAM_BROKEN[entry.name][0]):
            _render_all(entry, data)
        return
    raw = _render_all(entry, data)
    for job in raw["jobs"]:
        for obj in job.get("objects") or []:
            for sp in (obj.get("waitOptions") or {}).get("customStatusPaths") or []:
                assert path_error(sp["key"]) is None, (job["name"], sp)


@pytest.mark.parametrize("entry", ENTRIES, ids=[e.name for e in ENTRIES])
def test_catalogue_state(entry: Entry, keys: Path) -> None:
    got = outcome(entry, keys)
    expected = EXPECTED[entry.name]
    assert "\n" not in got
    if expected == "ok":
        assert got == "ok"
    else:
        assert expected in got, got
        assert "'" in got or "kinds" in got or ".yml:" in got  # names its field, kinds or line


EXPECTED: dict[str, str] = {
    "ocp/cluster-density-v2/cluster-density-v2.yml": "Build (build.openshift.io/v1), ImageStream (image.openshift.io/v1), Route (route.openshift.io/v1)",  # noqa: E501
    "ocp/crd-scale/crd-scale.yml": "ok",
    "ocp/dv-clone/dv-clone.yml": "ok",
    "ocp/node-density/node-density.yml": "ok",
    "ocp/node-density-cni/node-density-cni.yml": "ok",
    "ocp/node-density-heavy/node-density-heavy.yml": "ok",
    "ocp/pvc-density/pvc-density.yml": "ok",
    "ocp/udn-density-pods/cudn-density-pods.yml": "ClusterUserDefinedNetwork (k8s.ovn.org/v1)",
    "ocp/udn-density-pods/udn-density-pods.yml": "UserDefinedNetwork (k8s.ovn.org/v1)",
    "ocp/virt-capacity-benchmark/virt-capacity-benchmark.yml": "measurement 'volumeSnapshotLatency' is not supported",  # noqa: E501
    "ocp/virt-clone/virt-clone.yml": "ok",
    "ocp/virt-clone-multi/virt-clone-multi.yml": "ok",
    "ocp/virt-density/virt-density.yml": "ok",
    "ocp/virt-ephemeral-restart/virt-ephemeral-restart.yml": "'metricsAggregate: true' is not supported",  # noqa: E501
    "ocp/virt-migration/virt-migration.yml": "ok",
    "ocp/virt-parallel/virt-parallel.yml": "measurement 'volumeSnapshotLatency' is not supported",
    "ocp/virt-udn-density/virt-cudn-density.yml": "ClusterUserDefinedNetwork (k8s.ovn.org/v1)",
    "ocp/virt-udn-density/virt-udn-density.yml": "UserDefinedNetwork (k8s.ovn.org/v1)",
    "ocp/web-burner-cluster-density/web-burner-cluster-density.yml": "error calling eq: incompatible types for comparison",  # noqa: E501
    "ocp/web-burner-init/web-burner-init.yml": "error calling contains: 'in <string>' requires string as lef",  # noqa: E501
    "ocp/web-burner-node-density/web-burner-node-density.yml": "ok",
    "e2e/kube-burner-delete.yml": "ok",
    "e2e/kube-burner-dv.yml": "measurement 'volumeSnapshotLatency' is not supported",
    "e2e/kube-burner-hooks.yml": "ok",
    "e2e/kube-burner-measure.yml": "'jobs' must be a non-empty list",
    "e2e/kube-burner-measurements.yml": "measurement 'serviceLatency' is not supported",
    "e2e/kube-burner-metrics-aggregate.yml": "'metricsAggregate: true' is not supported",
    "e2e/kube-burner-multi-doc.yml": "ok",
    "e2e/kube-burner-pvc-resize.yml": "ok",
    "e2e/kube-burner-read.yml": "ok",
    "e2e/kube-burner-repeat-every-n-iterations.yml": "ok",
    "e2e/kube-burner-sequential-patch.yml": "ok",
    "e2e/kube-burner-userdata.yml": "ok",
    "e2e/kube-burner-virt-operations.yml": "ok",
    "e2e/kube-burner-virt.yml": "ok",
    "e2e/kube-burner-vm-snapshot-test.yml": "measurement 'volumeSnapshotLatency' is not supported",
    "e2e/kube-burner.yml": "'watchers' is not supported",
    "examples/api-intensive/api-intensive.yml": "ok",
    "examples/cluster-scoped-sharing/cluster-scoped-sharing.yml": "ok",
    "examples/crd-scale/crd-scale.yml": "ok",
    "examples/deployment-pvc-move/deployment-pvc-move.yml": "ok",
    "examples/kubelet-density/kubelet-density-crio.yml": "measurement 'pprof' is not supported",
    "examples/kubelet-density/kubelet-density.yml": "ok",
    "examples/kubelet-density-cni/kubelet-density-cni.yml": "ok",
    "examples/kubelet-density-cni-networkpolicy/kubelet-density-cni-networkpolicy.yml": "ok",
    "examples/kubelet-density-heavy/kubelet-density-heavy.yml": "ok",
    "examples/kubelet-density-profiling/kubelet-density-profiling.yml": "measurement 'pprof' is not supported",  # noqa: E501
    "examples/kubevirt-density/kubevirt-density.yml": "ok",
    "examples/kubevirt-power/kubevirt-power.yml": "ok",
    "examples/network-policy/network-policy.yml": "measurement 'netpolLatency' is not supported",
    "examples/service-latency-example/service-latency.yml": "measurement 'serviceLatency' is not supported",  # noqa: E501
    "examples/udn-density-l3/udn-density-l3.yml": "unknown key 'global.indexerConfig'",
}
