"""KubeVirt's and CDI's admission webhooks on the simulator, through the official client.

Messages, codes and defaults are those of kubevirt/kubevirt@d923fdb8
pkg/virt-api/webhooks/{validating-webhook/admitters,mutating-webhook/mutators}, pkg/defaults,
pkg/util/webhooks/webhooks.go and containerized-data-importer
pkg/apiserver/webhooks/datavolume-validate.go; kube-apiserver's prefix is from k8s.io/apiserver
pkg/admission/plugin/webhook/errors/statuserror.go.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
from pathlib import Path
from typing import Any

import pytest
from kubernetes import client

from .simserver import SimServer

KV = ("kubevirt.io", "v1")
NS = "default"
KUBECTL = "/usr/bin/kubectl"


def vm(name: str, **spec: Any) -> dict[str, Any]:
    """A VirtualMachine with 64Mi of memory and one containerDisk (``spec`` overrides)."""
    template_spec: dict[str, Any] = {
        "domain": {"devices": {}, "resources": {"requests": {"memory": "64Mi"}}},
        "volumes": [{"name": "disk0", "containerDisk": {"image": "quay.io/containerdisks/x:1"}}],
    }
    template_spec.update(spec.pop("template_spec", {}))
    return {
        "apiVersion": "kubevirt.io/v1",
        "kind": "VirtualMachine",
        "metadata": {"name": name},
        "spec": {**spec, "template": {"spec": template_spec}},
    }


def vmi(name: str, **domain: Any) -> dict[str, Any]:
    """A VirtualMachineInstance (``domain`` replaces the default domain)."""
    return {
        "apiVersion": "kubevirt.io/v1",
        "kind": "VirtualMachineInstance",
        "metadata": {"name": name},
        "spec": {
            "domain": domain or {"devices": {}, "resources": {"requests": {"memory": "64Mi"}}},
            "volumes": [{"name": "disk0", "containerDisk": {"image": "quay.io/containerdisks/x"}}],
        },
    }


def migration(name: str, vmi_name: str) -> dict[str, Any]:
    """A VirtualMachineInstanceMigration of ``vmi_name``."""
    return {
        "apiVersion": "kubevirt.io/v1",
        "kind": "VirtualMachineInstanceMigration",
        "metadata": {"name": name},
        "spec": {"vmiName": vmi_name},
    }


@pytest.fixture(scope="module")
def custom(api: Any) -> Any:
    """CustomObjectsApi on the module's simulator."""
    return client.CustomObjectsApi(api)


def refused(fn: Any, *args: Any) -> tuple[int, dict[str, Any]]:
    """The status code and metav1.Status body of a refused request."""
    with pytest.raises(client.ApiException) as info:
        fn(*args)
    return info.value.status, json.loads(info.value.body)


def create(custom: Any, plural: str, body: dict[str, Any], group: tuple[str, str] = KV) -> Any:
    """Create a namespaced custom object."""
    return custom.create_namespaced_custom_object(*group, NS, plural, body)


def test_running_and_run_strategy_are_mutually_exclusive(custom: Any) -> None:
    code, status = refused(
        create, custom, "virtualmachines", vm("both", running=True, runStrategy="Always")
    )
    assert code == 422
    assert status["reason"] == "Invalid"
    assert status["message"] == (
        'admission webhook "virtualmachine-validator.kubevirt.io" denied the request: Running and'
        " RunStrategy are mutually exclusive. Note that Running is deprecated, please use"
        " RunStrategy instead"
    )
    assert status["details"]["causes"] == [
        {
            "reason": "FieldValueInvalid",
            "message": "Running and RunStrategy are mutually exclusive. Note that Running is"
            " deprecated, please use RunStrategy instead",
            "field": "spec.running",
        }
    ]


def test_run_strategy_required_and_known(custom: Any) -> None:
    code, status = refused(create, custom, "virtualmachines", vm("none"))
    assert (code, status["details"]["causes"][0]["message"]) == (
        422,
        "RunStrategy must be specified",
    )
    code, status = refused(create, custom, "virtualmachines", vm("odd", runStrategy="Sometimes"))
    assert code == 422
    assert status["message"].endswith("denied the request: Invalid RunStrategy (Sometimes)")
    assert status["details"]["causes"][0]["field"] == "spec.runStrategy"


def test_disk_without_volume(custom: Any) -> None:
    body = vm("nodisk", runStrategy="Halted")
    body["spec"]["template"]["spec"]["domain"]["devices"]["disks"] = [{"name": "ghost", "disk": {}}]
    code, status = refused(create, custom, "virtualmachines", body)
    assert code == 422
    assert status["details"]["causes"] == [
        {
            "reason": "FieldValueInvalid",
            "message": "spec.template.spec.domain.devices.disks[0].Name 'ghost' not found.",
            "field": "spec.template.spec.domain.devices.disks[0].name",
        }
    ]


def test_vm_defaults_and_running_deprecation_warning(custom: Any) -> None:
    data, code, headers = custom.create_namespaced_custom_object_with_http_info(
        *KV, NS, "virtualmachines", vm("legacy", running=False)
    )
    assert code == 201
    assert headers.get("Warning") == (
        '299 - "spec.running is deprecated, please use spec.runStrategy instead."'
    )
    domain = data["spec"]["template"]["spec"]["domain"]
    assert domain["machine"] == {"type": "q35"}
    assert domain["firmware"]["uuid"] and domain["firmware"]["serial"]
    _, _, headers = custom.create_namespaced_custom_object_with_http_info(
        *KV, NS, "virtualmachines", vm("modern", runStrategy="Halted")
    )
    assert "Warning" not in headers


def test_vmi_mutating_defaults(custom: Any) -> None:
    created = create(
        custom,
        "virtualmachineinstances",
        vmi("defaults", devices={}, resources={"limits": {"memory": "128Mi", "cpu": "2"}}),
    )
    spec, status = created["spec"], created["status"]
    assert spec["domain"]["machine"] == {"type": "q35"}
    assert spec["domain"]["cpu"] == {"sockets": 2, "cores": 1, "threads": 1, "model": "host-model"}
    assert spec["domain"]["memory"] == {"guest": "128Mi"}
    assert spec["domain"]["resources"]["requests"] == {"cpu": "2"}
    assert spec["domain"]["devices"]["disks"] == [{"name": "disk0"}]
    assert spec["domain"]["firmware"]["uuid"]
    assert spec["volumes"][0]["containerDisk"]["imagePullPolicy"] == "Always"
    assert created["metadata"]["finalizers"] == ["foregroundDeleteVirtualMachine"]
    assert status["phase"] == "Pending"
    (entry,) = status["phaseTransitionTimestamps"]
    assert entry["phase"] == "Pending" and entry["phaseTransitionTimestamp"].endswith("Z")
    assert status["runtimeUser"] == 107


def test_vmi_without_memory_is_refused(custom: Any) -> None:
    code, status = refused(create, custom, "virtualmachineinstances", vmi("nomem", devices={}))
    assert code == 422
    assert status["message"] == (
        'admission webhook "virtualmachineinstances-create-validator.kubevirt.io" denied the'
        " request: no memory requested, at least one of 'spec.domain.memory.guest',"
        " 'spec.domain.memory.hugepages.pageSize' or 'spec.domain.resources.requests.memory'"
        " must be set"
    )


def test_migration_rules(custom: Any, sim: SimServer) -> None:
    code, status = refused(create, custom, "virtualmachineinstancemigrations", migration("m0", "x"))
    assert code == 400 and "reason" not in status
    assert status["message"] == (
        'admission webhook "migration-create-validator.kubevirt.io" denied the request: the VMI'
        ' "default/x" does not exist'
    )
    create(custom, "virtualmachineinstances", vmi("mig"))
    first = create(custom, "virtualmachineinstancemigrations", migration("m1", "mig"))
    assert first["metadata"]["labels"] == {"kubevirt.io/vmi-name": "mig"}
    code, status = refused(
        create, custom, "virtualmachineinstancemigrations", migration("m2", "mig")
    )
    assert code == 400
    assert status["message"].endswith(
        f"in-flight migration detected. Active migration job ({first['metadata']['uid']}) is"
        " currently already in progress for VMI mig."
    )
    # a finished migration no longer blocks; a VMI that is not live-migratable does
    custom.patch_namespaced_custom_object_status(
        *KV, NS, "virtualmachineinstancemigrations", "m1", {"status": {"phase": "Succeeded"}}
    )
    not_migratable = {
        "type": "LiveMigratable",
        "status": "False",
        "reason": "InterfaceNotLiveMigratable",
        "message": "cannot migrate VMI which does not use masquerade, bridge with"
        " kubevirt.io/allow-pod-bridge-network-live-migration VM annotation or a migratable"
        " plugin to connect to the pod network",
    }
    custom.patch_namespaced_custom_object_status(
        *KV, NS, "virtualmachineinstances", "mig", {"status": {"conditions": [not_migratable]}}
    )
    code, status = refused(
        create, custom, "virtualmachineinstancemigrations", migration("m3", "mig")
    )
    assert code == 400
    assert status["message"].endswith(
        "Cannot migrate VMI, Reason: InterfaceNotLiveMigratable, Message: "
        + not_migratable["message"]
    )


def test_datavolume_needs_a_source(custom: Any) -> None:
    cdi = ("cdi.kubevirt.io", "v1beta1")
    body = {
        "apiVersion": "cdi.kubevirt.io/v1beta1",
        "kind": "DataVolume",
        "metadata": {"name": "nosrc"},
        "spec": {"storage": {"resources": {"requests": {"storage": "1Gi"}}}},
    }
    code, status = refused(create, custom, "datavolumes", body, cdi)
    assert code == 422
    assert status["message"] == (
        'admission webhook "datavolume-validate.cdi.kubevirt.io" denied the request: Data volume'
        " should have either Source or SourceRef, or be externally populated"
    )
    assert status["details"]["causes"][0]["field"] == "spec.source"
    body["spec"]["source"] = {"blank": {}, "http": {"url": "http://x/y.img"}}
    code, status = refused(create, custom, "datavolumes", body, cdi)
    assert (code, status["details"]["causes"][0]["message"]) == (
        422,
        "Multiple Data volume sources",
    )
    body["spec"]["source"] = {"blank": {}}
    assert create(custom, "datavolumes", body, cdi)["metadata"]["name"] == "nosrc"


@pytest.mark.skipif(not shutil.which(KUBECTL), reason="kubectl not installed")
def test_kubectl_shows_warning_and_denial(
    sim: SimServer, tmp_path: Path, tmp_path_factory: pytest.TempPathFactory
) -> None:
    cache = tmp_path_factory.mktemp("kubecache")
    env = {**os.environ, "KUBECACHEDIR": str(cache), "HOME": str(cache)}
    manifest = tmp_path / "vm.json"

    def apply(body: dict[str, Any]) -> subprocess.CompletedProcess[str]:
        manifest.write_text(json.dumps(body))
        cmd = [KUBECTL, f"--kubeconfig={sim.kubeconfig}", "create", "--validate=false", "-f"]
        return subprocess.run(
            [*cmd, str(manifest)], env=env, capture_output=True, text=True, timeout=30
        )

    out = apply(vm("kctl", running=False))
    assert out.returncode == 0, out.stderr
    assert "Warning: spec.running is deprecated, please use spec.runStrategy instead." in out.stderr
    out = apply(vm("kctl2", running=True, runStrategy="Always"))
    assert out.returncode != 0
    # kubectl renders an Invalid status without details.name as "The request is invalid: ..."
    assert out.stderr.startswith(
        "The request is invalid: spec.running: Running and RunStrategy are mutually exclusive."
    )
