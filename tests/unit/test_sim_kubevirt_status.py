"""KubeVirt status as a real cluster writes it: migratability, migration parallelism, Ready.

Upstream: kubevirt/kubevirt@d923fdb8 pkg/virt-handler/vm.go (calculateLiveMigrationCondition,
calculateLiveStorageMigrationCondition, checkVolumesForMigration), pkg/network/vmispec/interface.go
(VerifyVMIMigratable), pkg/virt-config/virt-config.go (ParallelMigrationsPerClusterDefault = 5,
ParallelOutboundMigrationsPerNodeDefault = 2).
"""

from __future__ import annotations

from typing import Any

import pytest
from test_sim_kubevirt import NS, Sim, cond, run, vm_body

from pytest_kubevirt_burner.sim.errors import ApiError
from pytest_kubevirt_burner.sim.store import Event, Obj

BRIDGE_MESSAGE = (
    "cannot migrate VMI which does not use masquerade or a migratable plugin to connect to the"
    " pod network"
)


def bridged(name: str, **meta: Any) -> Obj:
    """A VM whose pod-network interface uses bridge binding."""
    body = vm_body(name)
    body["spec"]["template"]["spec"]["domain"]["devices"]["interfaces"] = [
        {"name": "default", "bridge": {}}
    ]
    body["spec"]["template"].setdefault("metadata", {}).update(meta)
    return body


def migration(name: str, vmi: str) -> Obj:
    return {
        "apiVersion": "kubevirt.io/v1",
        "kind": "VirtualMachineInstanceMigration",
        "metadata": {"name": name},
        "spec": {"vmiName": vmi},
    }


def test_bridge_on_pod_network_is_not_live_migratable() -> None:
    async def body(sim: Sim) -> None:
        sim.store.create(sim.vm, bridged("br"), NS)
        await sim.vm_ready("br")
        vmi = sim.get(sim.vmi, "br")
        assert vmi is not None
        live = cond(vmi, "LiveMigratable")
        assert live is not None
        assert (live["status"], live["reason"], live["message"]) == (
            "False",
            "InterfaceNotLiveMigratable",
            BRIDGE_MESSAGE,
        )
        storage = cond(vmi, "StorageLiveMigratable")
        assert storage is not None
        assert (storage["status"], storage["reason"]) == ("False", "NotMigratable")
        assert storage["message"] == f"InterfaceNotLiveMigratable: {BRIDGE_MESSAGE}"
        # migration-create-admitter.go isMigratable
        with pytest.raises(ApiError) as err:
            sim.store.create(sim.vmim, migration("m", "br"), NS)
        assert err.value.code == 400
        assert err.value.message.endswith(
            f"Cannot migrate VMI, Reason: InterfaceNotLiveMigratable, Message: {BRIDGE_MESSAGE}"
        )
        # the allow annotation makes bridge binding migratable
        annotations = {"kubevirt.io/allow-pod-bridge-network-live-migration": ""}
        sim.store.create(sim.vm, bridged("allowed", annotations=annotations), NS)
        await sim.vm_ready("allowed")
        allowed = sim.get(sim.vmi, "allowed")
        assert allowed is not None
        assert cond(allowed, "LiveMigratable")["status"] == "True"  # type: ignore[index]
        assert cond(allowed, "StorageLiveMigratable")["status"] == "True"  # type: ignore[index]

    run(body)


def test_read_write_once_volume_is_not_live_migratable() -> None:
    async def body(sim: Sim) -> None:
        pvc = {
            "apiVersion": "v1",
            "kind": "PersistentVolumeClaim",
            "metadata": {"name": "rwo"},
            "spec": {
                "accessModes": ["ReadWriteOnce"],
                "resources": {"requests": {"storage": "1Gi"}},
            },
        }
        sim.store.create(sim.pvc, pvc, NS)
        vm = vm_body("disk")
        vm["spec"]["template"]["spec"]["volumes"].append(
            {"name": "data", "persistentVolumeClaim": {"claimName": "rwo"}}
        )
        sim.store.create(sim.vm, vm, NS)
        await sim.vm_ready("disk")
        vmi = sim.get(sim.vmi, "disk")
        assert vmi is not None
        live = cond(vmi, "LiveMigratable")
        assert live is not None
        assert (live["status"], live["reason"]) == ("False", "DisksNotLiveMigratable")
        assert live["message"] == (
            "cannot migrate VMI: PVC rwo is not shared, live migration requires that all PVCs"
            " must be shared (using ReadWriteMany access mode)"
        )
        # the storage condition only looks at the network, CPU model and devices
        assert cond(vmi, "StorageLiveMigratable")["status"] == "True"  # type: ignore[index]

    run(body)


def test_migrations_per_source_node_are_limited_to_two() -> None:
    async def body(sim: Sim) -> None:
        # seven VMs on three nodes: at least three share a node
        by_node: dict[str, list[str]] = {}
        for i in range(7):
            sim.store.create(sim.vm, vm_body(f"v{i}"), NS)
        for i in range(7):
            await sim.vm_ready(f"v{i}")
            vmi = sim.get(sim.vmi, f"v{i}")
            assert vmi is not None
            by_node.setdefault(vmi["status"]["nodeName"], []).append(f"v{i}")
        names = max(by_node.values(), key=len)[:3]
        assert len(names) == 3
        active: dict[str, str] = {}
        peak = [0]

        def watch(ev: Event) -> None:
            if ev.rt.key != sim.vmim.key:
                return
            phase = (ev.obj.get("status") or {}).get("phase", "")
            active[ev.obj["metadata"]["name"]] = phase
            running = [
                p for p in active.values() if p not in ("", "Pending", "Succeeded", "Failed")
            ]
            peak[0] = max(peak[0], len(running))

        sim.store.subscribe(watch)
        for name in names:
            sim.store.create(sim.vmim, migration(f"m-{name}", name), NS)
        await sim.until(
            lambda: all(sim.phase(sim.vmim, f"m-{n}") == "Succeeded" for n in names), timeout=20
        )
        assert peak[0] == 2

    run(body)


def test_vmi_ready_transition_time_is_the_launcher_pods() -> None:
    async def body(sim: Sim) -> None:
        sim.store.create(sim.vm, vm_body("r"), NS)
        await sim.vm_ready("r")
        vmi = sim.get(sim.vmi, "r")
        assert vmi is not None
        (pod,) = sim.launcher_pods(vmi)
        pod_ready = next(c for c in pod["status"]["conditions"] if c["type"] == "Ready")
        assert cond(vmi, "Ready")["lastTransitionTime"] == pod_ready["lastTransitionTime"]  # type: ignore[index]

    run(body)


def test_launcher_pod_has_container_disk_init_containers() -> None:
    # virt-controller services/template.go and container-disk/container-disk.go
    async def body(sim: Sim) -> None:
        sim.store.create(sim.vm, vm_body("init"), NS)
        await sim.vm_ready("init")
        vmi = sim.get(sim.vmi, "init")
        assert vmi is not None
        (pod,) = sim.launcher_pods(vmi)
        names = [c["name"] for c in pod["spec"]["initContainers"]]
        assert names == ["container-disk-binary", "volumecontainerdisk-init"]
        assert pod["spec"]["initContainers"][1]["args"] == ["--no-op"]
        statuses = pod["status"]["initContainerStatuses"]
        assert [s["state"]["terminated"]["reason"] for s in statuses] == ["Completed", "Completed"]
        assert all(s["ready"] and s["imageID"] for s in statuses)

    run(body)


def test_vm_conditions_are_copied_from_the_vmi() -> None:
    # virt-controller watch/vm/vm.go syncConditions: all VMI conditions but Ready/Failure/
    # RestartRequired, with their reason, message and transition time
    async def body(sim: Sim) -> None:
        sim.store.create(sim.vm, bridged("copy"), NS)
        vm = await sim.vm_ready("copy")
        vmi = sim.get(sim.vmi, "copy")
        assert vmi is not None
        for ctype in ("LiveMigratable", "StorageLiveMigratable"):
            assert cond(vm, ctype) == cond(vmi, ctype)
        assert cond(vm, "Ready")["status"] == "True"  # type: ignore[index]

    run(body)


def test_virt_controller_and_virt_handler_events() -> None:
    # virt-controller watch/vm/vm.go and watch/vmi/lifecycle.go; virt-handler controller.go
    async def body(sim: Sim) -> None:
        sim.store.create(sim.vm, vm_body("ev"), NS)
        await sim.vm_ready("ev")
        vmi = sim.get(sim.vmi, "ev")
        assert vmi is not None
        (pod,) = sim.launcher_pods(vmi)
        events = {
            (e["involvedObject"]["kind"], e["reason"]): e
            for e in sim.store.list(sim.reg.core("events"), NS)
        }
        vm_event = events[("VirtualMachine", "SuccessfulCreate")]
        assert vm_event["message"] == (
            "Started the virtual machine by creating the new virtual machine instance ev"
        )
        assert vm_event["source"] == {"component": "virtualmachine-controller"}
        pod_event = events[("VirtualMachineInstance", "SuccessfulCreate")]
        assert pod_event["message"] == f"Created virtual machine pod {pod['metadata']['name']}"
        defined = events[("VirtualMachineInstance", "Created")]
        assert defined["message"] == "VirtualMachineInstance defined."
        assert defined["source"] == {"component": "virt-handler", "host": vmi["status"]["nodeName"]}
        started = events[("VirtualMachineInstance", "Started")]
        assert started["message"] == "VirtualMachineInstance started."

    run(body)


def test_storage_api_datavolume_takes_the_storage_profile_access_mode() -> None:
    # CDI: a DataVolume's spec.storage without accessModes gets the StorageProfile's first
    # claimPropertySet (here ReadWriteMany Block), so its VM stays live-migratable
    async def body(sim: Sim) -> None:
        dv = {
            "apiVersion": "cdi.kubevirt.io/v1beta1",
            "kind": "DataVolume",
            "metadata": {"name": "rwx"},
            "spec": {
                "source": {"blank": {}},
                "storage": {"resources": {"requests": {"storage": "1Gi"}}},
            },
        }
        sim.store.create(sim.dv, dv, NS)
        pvc = await sim.until(lambda: sim.get(sim.pvc, "rwx"))
        assert pvc["spec"]["accessModes"] == ["ReadWriteMany"]
        assert pvc["spec"]["volumeMode"] == "Block"

    run(body)
